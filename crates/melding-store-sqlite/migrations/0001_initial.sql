-- Melding's embedded schema. Times are microseconds since the Unix epoch (UTC), so they sort and
-- compare as integers.

CREATE TABLE organizations (
    org_number TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL
);

CREATE TABLE persons (
    national_id TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL
);

CREATE TABLE resources (
    id                 TEXT PRIMARY KEY NOT NULL,
    owner              TEXT NOT NULL,
    service_owner_code TEXT NOT NULL,
    title              TEXT NOT NULL,
    confidential       INTEGER NOT NULL
);

CREATE TABLE correspondences (
    id                     TEXT PRIMARY KEY NOT NULL,
    resource_id            TEXT NOT NULL,
    recipient              TEXT NOT NULL,
    sender                 TEXT NOT NULL,
    senders_reference      TEXT NOT NULL,
    message_sender         TEXT,
    language               TEXT NOT NULL,
    title                  TEXT NOT NULL,
    summary                TEXT NOT NULL,
    body                   TEXT NOT NULL,
    requested_publish_time INTEGER NOT NULL,
    due_date_time          INTEGER,
    external_references    TEXT NOT NULL,
    property_list          TEXT NOT NULL,
    reply_options          TEXT NOT NULL,
    ignore_reservation     INTEGER,
    is_confirmation_needed INTEGER NOT NULL,
    is_confidential        INTEGER NOT NULL,
    allow_forwarding       INTEGER NOT NULL,
    idempotent_key         TEXT UNIQUE,
    created                INTEGER NOT NULL,
    published              INTEGER,
    -- the most recently written status, Fetched excluded: what the recipient search filters on
    last_status            INTEGER NOT NULL
);

CREATE INDEX correspondences_by_recipient
    ON correspondences (recipient, resource_id, requested_publish_time DESC, id DESC);
CREATE INDEX correspondences_by_sender
    ON correspondences (sender, resource_id, requested_publish_time DESC, id DESC);
CREATE INDEX correspondences_by_senders_reference
    ON correspondences (senders_reference);

CREATE TABLE correspondence_statuses (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    correspondence_id TEXT NOT NULL REFERENCES correspondences (id),
    status            INTEGER NOT NULL,
    status_text       TEXT NOT NULL,
    changed_at        INTEGER NOT NULL,
    party             TEXT
);

CREATE INDEX correspondence_statuses_by_letter
    ON correspondence_statuses (correspondence_id, status);

CREATE TABLE jobs (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    kind              TEXT NOT NULL,
    dedupe_key        TEXT NOT NULL UNIQUE,
    correspondence_id TEXT,
    run_at            INTEGER NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    max_attempts      INTEGER NOT NULL,
    payload           TEXT NOT NULL,
    locked_by         TEXT,
    locked_until      INTEGER,
    last_error        TEXT,
    created_at        INTEGER NOT NULL
);

CREATE INDEX jobs_by_run_at ON jobs (run_at);

CREATE TABLE dead_jobs (
    id                INTEGER PRIMARY KEY,
    kind              TEXT NOT NULL,
    dedupe_key        TEXT NOT NULL,
    correspondence_id TEXT,
    run_at            INTEGER NOT NULL,
    attempts          INTEGER NOT NULL,
    max_attempts      INTEGER NOT NULL,
    payload           TEXT NOT NULL,
    last_error        TEXT,
    created_at        INTEGER NOT NULL,
    died_at           INTEGER NOT NULL
);
