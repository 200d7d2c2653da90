-- The runner asks when the next job is due after each claim. The leased jobs (those running
-- now, and those of a node that stopped before its lease ran out) are few; this index finds
-- them without reading the free ones, so the question no longer scans the whole queue while a
-- backlog waits (the same index as PostgreSQL's migration 0012).
CREATE INDEX jobs_leased ON jobs (locked_until) WHERE locked_until IS NOT NULL;
