-- The web inbox (issue 17).
--
-- Its listing reads one recipient's letters across every resource, newest first; the index of
-- the API's search leads with the resource, so the inbox has its own.
CREATE INDEX correspondences_inbox
    ON correspondences (recipient, requested_publish_time DESC, id DESC);

-- Logins to the inbox, kept server-side. The browser holds the session token; only its SHA-256
-- (hex) is stored. Times are microseconds since the Unix epoch (UTC).
CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    person     TEXT NOT NULL,
    acr        TEXT NOT NULL,
    acting_for TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    id_token   TEXT,
    created    INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL
);

CREATE INDEX web_sessions_by_created ON web_sessions (created);
CREATE INDEX web_sessions_by_last_seen ON web_sessions (last_seen);
