-- The delivery chain's receipt trail (delivery-chain reference §3.4): SvarUt's statuses next to
-- a letter's Altinn status history, appended and never changed, in PostgreSQL's types like the
-- SQLite schema.

CREATE TABLE delivery_events (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    correspondence_id UUID NOT NULL REFERENCES correspondences (id),
    -- SvarUt's wire name, e.g. SENDT_PRINT
    status            TEXT NOT NULL,
    at                TIMESTAMPTZ NOT NULL,
    -- what happened, in a sentence
    event_text        TEXT NOT NULL,
    -- the facts behind the step, a JSON object's text
    details           TEXT
);

CREATE INDEX delivery_events_by_letter ON delivery_events (correspondence_id, status);
