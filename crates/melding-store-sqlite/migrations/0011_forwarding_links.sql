-- Download links in forwarded letters' e-mails (reference §4.12): one row per attachment that was
-- too large to go along as a file. The link's token is never stored, only its SHA-256 (hex), so
-- the database cannot hand out working links. Times are microseconds since the Unix epoch (UTC).

CREATE TABLE forwarding_links (
    token_hash          TEXT PRIMARY KEY NOT NULL,
    forwarding_event_id TEXT NOT NULL REFERENCES forwarding_events (id),
    correspondence_id   TEXT NOT NULL REFERENCES correspondences (id),
    attachment_id       TEXT NOT NULL,
    created             INTEGER NOT NULL,
    expires             INTEGER NOT NULL
);

CREATE INDEX forwarding_links_by_event ON forwarding_links (forwarding_event_id);
