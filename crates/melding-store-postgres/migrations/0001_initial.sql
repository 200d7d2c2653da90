-- Melding's PostgreSQL schema. The same tables and rules as the SQLite schema, in PostgreSQL's
-- own types: uuid ids, timestamptz times (microsecond precision, like SQLite's integers),
-- jsonb documents and bigint identity keys.

CREATE TABLE organizations (
    org_number TEXT PRIMARY KEY,
    name       TEXT NOT NULL
);

CREATE TABLE persons (
    national_id TEXT PRIMARY KEY,
    name        TEXT NOT NULL
);

CREATE TABLE resources (
    id                 TEXT PRIMARY KEY,
    owner              TEXT NOT NULL,
    service_owner_code TEXT NOT NULL,
    title              TEXT NOT NULL,
    confidential       BOOLEAN NOT NULL
);

CREATE TABLE correspondences (
    id                     UUID PRIMARY KEY,
    resource_id            TEXT NOT NULL,
    recipient              TEXT NOT NULL,
    sender                 TEXT NOT NULL,
    senders_reference      TEXT NOT NULL,
    message_sender         TEXT,
    language               TEXT NOT NULL,
    title                  TEXT NOT NULL,
    summary                TEXT NOT NULL,
    body                   TEXT NOT NULL,
    requested_publish_time TIMESTAMPTZ NOT NULL,
    due_date_time          TIMESTAMPTZ,
    external_references    JSONB NOT NULL,
    property_list          JSONB NOT NULL,
    reply_options          JSONB NOT NULL,
    ignore_reservation     BOOLEAN,
    is_confirmation_needed BOOLEAN NOT NULL,
    is_confidential        BOOLEAN NOT NULL,
    allow_forwarding       BOOLEAN NOT NULL,
    idempotent_key         UUID UNIQUE,
    created                TIMESTAMPTZ NOT NULL,
    published              TIMESTAMPTZ,
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
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    correspondence_id UUID NOT NULL REFERENCES correspondences (id),
    status            INTEGER NOT NULL,
    status_text       TEXT NOT NULL,
    changed_at        TIMESTAMPTZ NOT NULL,
    party             TEXT
);

CREATE INDEX correspondence_statuses_by_letter
    ON correspondence_statuses (correspondence_id, status);

CREATE TABLE jobs (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind              TEXT NOT NULL,
    dedupe_key        TEXT NOT NULL UNIQUE,
    correspondence_id UUID,
    run_at            TIMESTAMPTZ NOT NULL,
    attempts          BIGINT NOT NULL DEFAULT 0,
    max_attempts      BIGINT NOT NULL,
    payload           JSONB NOT NULL,
    locked_by         TEXT,
    locked_until      TIMESTAMPTZ,
    last_error        TEXT,
    created_at        TIMESTAMPTZ NOT NULL
);

CREATE INDEX jobs_by_run_at ON jobs (run_at);

CREATE TABLE dead_jobs (
    id                BIGINT PRIMARY KEY,
    kind              TEXT NOT NULL,
    dedupe_key        TEXT NOT NULL,
    correspondence_id UUID,
    run_at            TIMESTAMPTZ NOT NULL,
    attempts          BIGINT NOT NULL,
    max_attempts      BIGINT NOT NULL,
    payload           JSONB NOT NULL,
    last_error        TEXT,
    created_at        TIMESTAMPTZ NOT NULL,
    died_at           TIMESTAMPTZ NOT NULL
);
