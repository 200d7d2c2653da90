-- The delivery chain's receipt trail (delivery-chain reference §3.4): SvarUt's statuses next to
-- a letter's Altinn status history, appended and never changed. Times are microseconds since
-- the Unix epoch (UTC), like every time of this schema.

CREATE TABLE delivery_events (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    correspondence_id TEXT NOT NULL REFERENCES correspondences (id),
    -- SvarUt's wire name, e.g. SENDT_PRINT
    status            TEXT NOT NULL,
    at                INTEGER NOT NULL,
    -- what happened, in a sentence
    event_text        TEXT NOT NULL,
    -- the facts behind the step, a JSON object's text
    details           TEXT
);

CREATE INDEX delivery_events_by_letter ON delivery_events (correspondence_id, status);
