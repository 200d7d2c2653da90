-- The job queue's two hot reads stay cheap while a backlog waits (issue 15's throughput).
--
-- The claim orders by (run_at, id): with both in one index it reads the first free jobs in
-- order instead of sorting every due one. It replaces the index on run_at alone.
CREATE INDEX jobs_due ON jobs (run_at, id);
DROP INDEX jobs_by_run_at;

-- The runner asks when the next job is due after each claim. The leased jobs (those running
-- now, and those of a node that stopped before its lease ran out) are few; this index finds
-- them without reading the free ones, so the question no longer scans the whole queue.
CREATE INDEX jobs_leased ON jobs (locked_until) WHERE locked_until IS NOT NULL;

-- Rows that are updated soon after they are written keep room on their page, so the update
-- can stay on the page (a HOT update) and leave the indexes alone where it changes no
-- indexed column: a letter's latest status and publish time, an order's processing.
ALTER TABLE correspondences SET (fillfactor = 90);
ALTER TABLE notification_orders SET (fillfactor = 90);
