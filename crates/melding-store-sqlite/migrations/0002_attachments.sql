-- Attachments: documents shared by the letters that link to them. Bytes live in blob storage
-- under storage_key; size, checksum and crc32 are known once the upload has finished.

CREATE TABLE attachments (
    id                 TEXT PRIMARY KEY NOT NULL,
    resource_id        TEXT NOT NULL,
    sender             TEXT NOT NULL,
    file_name          TEXT NOT NULL,
    display_name       TEXT,
    is_encrypted       INTEGER NOT NULL,
    checksum           TEXT,
    senders_reference  TEXT NOT NULL,
    expiration_in_days INTEGER,
    data_location_type INTEGER NOT NULL,
    storage_key        TEXT,
    size               INTEGER,
    crc32              INTEGER,
    created            INTEGER NOT NULL
);

CREATE TABLE attachment_statuses (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    attachment_id TEXT NOT NULL REFERENCES attachments (id),
    status        INTEGER NOT NULL,
    status_text   TEXT NOT NULL,
    changed_at    INTEGER NOT NULL
);

CREATE INDEX attachment_statuses_by_attachment ON attachment_statuses (attachment_id, status);

CREATE TABLE correspondence_attachments (
    correspondence_id TEXT NOT NULL REFERENCES correspondences (id),
    attachment_id     TEXT NOT NULL REFERENCES attachments (id),
    position          INTEGER NOT NULL,
    expiration_time   INTEGER,
    PRIMARY KEY (correspondence_id, attachment_id)
);

CREATE INDEX correspondence_attachments_by_attachment
    ON correspondence_attachments (attachment_id);
