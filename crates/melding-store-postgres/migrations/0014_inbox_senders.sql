-- The web inbox's sender filter (issue 17): the distinct senders of one recipient's letters,
-- read by skipping from one sender to the next in this index instead of reading every letter
-- of the recipient (10,000 and more for an organisation). `last_status` is in the index so
-- the hidden letters are skipped without reading the table.
CREATE INDEX correspondences_inbox_senders
    ON correspondences (recipient, sender, last_status);
