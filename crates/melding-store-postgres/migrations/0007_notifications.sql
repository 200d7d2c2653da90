-- Notification orders, their notifications and the delivery reports that matched none
-- (reference §8, `delivery-chain.md` §1.10–1.14), in PostgreSQL's types: uuid ids, timestamptz
-- times, jsonb documents; statuses and channels are stored by name (`Registered`, `Failed_TTL`,
-- `Email`), like the SQLite schema.

-- One order per distinct recipient and phase of a letter, written with the letter.
CREATE TABLE notification_orders (
    id                  UUID PRIMARY KEY,
    correspondence_id   UUID NOT NULL REFERENCES correspondences (id),
    -- `Main` or `Reminder`
    kind                TEXT NOT NULL,
    -- whom to notify, as JSON (a party URN, a bare e-mail address or a bare mobile number)
    recipient           JSONB NOT NULL,
    -- the recipient's dedupe key: the party URN, `email:<lower-cased address>` or `sms:<number>`
    recipient_key       TEXT NOT NULL,
    channel             TEXT NOT NULL,
    template            TEXT NOT NULL,
    -- the sender's texts for this phase, as JSON
    texts               JSONB NOT NULL,
    ignore_reservation  BOOLEAN NOT NULL,
    use_stale_contacts  BOOLEAN NOT NULL,
    requested_send_time TIMESTAMPTZ NOT NULL,
    status              TEXT NOT NULL,
    created             TIMESTAMPTZ NOT NULL,
    -- when processing looked up the contact points (or the condition said no)
    processed           TIMESTAMPTZ,
    -- what the lookup considered and decided, as a JSON array
    lookup              JSONB NOT NULL DEFAULT '[]'
);

CREATE INDEX notification_orders_by_letter ON notification_orders (correspondence_id);
CREATE INDEX notification_orders_by_recipient
    ON notification_orders (recipient_key, created DESC, id DESC);

-- One message to one address, or the record that a recipient could not be reached.
CREATE TABLE notifications (
    id                 UUID PRIMARY KEY,
    order_id           UUID NOT NULL REFERENCES notification_orders (id),
    correspondence_id  UUID NOT NULL,
    -- `Email` or `Sms`
    channel            TEXT NOT NULL,
    address            TEXT,
    -- where the address came from, as JSON
    source             JSONB,
    status             TEXT NOT NULL,
    not_before         TIMESTAMPTZ NOT NULL,
    expires            TIMESTAMPTZ NOT NULL,
    sent               TIMESTAMPTZ,
    delivered          TIMESTAMPTZ,
    provider_reference TEXT,
    detail             TEXT,
    created            TIMESTAMPTZ NOT NULL
);

CREATE INDEX notifications_by_letter ON notifications (correspondence_id, created, id);
CREATE INDEX notifications_by_order ON notifications (order_id);
CREATE INDEX notifications_by_provider_reference ON notifications (channel, provider_reference);

-- Delivery reports from a provider that matched no notification (Altinn's `deaddeliveryreports`).
CREATE TABLE unmatched_delivery_reports (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received TIMESTAMPTZ NOT NULL,
    channel  TEXT NOT NULL,
    body     TEXT NOT NULL
);

CREATE INDEX unmatched_delivery_reports_by_received
    ON unmatched_delivery_reports (received DESC, id DESC);
