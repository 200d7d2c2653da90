-- Download links in forwarded letters' e-mails (reference §4.12), in PostgreSQL's types like the
-- SQLite schema: one row per attachment too large to go along as a file, keyed by the SHA-256
-- (hex) of the link's token, which itself is never stored.

CREATE TABLE forwarding_links (
    token_hash          TEXT PRIMARY KEY,
    forwarding_event_id UUID NOT NULL REFERENCES forwarding_events (id),
    correspondence_id   UUID NOT NULL REFERENCES correspondences (id),
    attachment_id       UUID NOT NULL,
    created             TIMESTAMPTZ NOT NULL,
    expires             TIMESTAMPTZ NOT NULL
);

CREATE INDEX forwarding_links_by_event ON forwarding_links (forwarding_event_id);
