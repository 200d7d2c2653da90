-- Forwarding events (reference §4.12): a recipient's forward of a read letter to an e-mail
-- address, in PostgreSQL's types like the SQLite schema.

CREATE TABLE forwarding_events (
    id                UUID PRIMARY KEY,
    correspondence_id UUID NOT NULL REFERENCES correspondences (id),
    forwarded_on      TIMESTAMPTZ NOT NULL,
    -- the URN of the party that forwarded it
    forwarded_by      TEXT NOT NULL,
    -- the address as given (trimmed)
    to_email          TEXT NOT NULL,
    -- the address trimmed and lower-cased: one forward per letter and address (1064)
    address_key       TEXT NOT NULL,
    forwarding_text   TEXT,
    -- when the e-mail channel accepted the composed e-mail
    sent              TIMESTAMPTZ,
    UNIQUE (correspondence_id, address_key)
);
