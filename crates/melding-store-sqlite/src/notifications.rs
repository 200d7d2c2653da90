//! Notification orders, notifications and unmatched delivery reports on SQLite (migration
//! 0007; reference §8, `delivery-chain.md` §1.10–1.14).
//!
//! Each table is mapped in one place, by column name: [`OrderRow`] for `notification_orders`
//! ([`OrderRow::new`] order → row, [`OrderRow::into_record`] row → order with its processing
//! record) and [`NotificationRow`] for `notifications` ([`NotificationRow::new`],
//! [`NotificationRow::into_notification`]). Inserts and selects are generated from the row
//! types' `COLUMNS`, like the letters'. Statuses and channels are stored by their names
//! (`Registered`, `Failed_TTL`, `Email`), documents as JSON text, times as microseconds since
//! the Unix epoch (UTC).
//!
//! Writes run through the writer (one at a time), each in a savepoint of its own, so a guard
//! read and the write it allows cannot be separated by another write.

use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use melding_domain::notification::{
    DeliveryChannel, Notification, NotificationChannel, NotificationOrder, NotificationStatus,
    NotificationTemplate, OrderKind, OrderStatus,
};
use melding_domain::{CorrespondenceId, StatusEntry};
use melding_store::sql::TableRow;
use melding_store::{
    AppendGuard, NewJob, NotificationStore, NotificationUpdate, OrderRecord, ProcessedOrder,
    StoreError, UnmatchedReport, sql, table_row,
};
use sqlx::{Connection, FromRow, Row, SqliteConnection};
use uuid::Uuid;

use crate::codec::{column_list, corrupt, from_micros, insert_from_json, json_rows, micros};
use crate::correspondences::append_status_in;
use crate::jobs::enqueue;
use crate::{SqliteStore, classify};

table_row! {
    /// A row of `notification_orders`: ids as text, times as microseconds since the Unix epoch
    /// (UTC), booleans as 0/1, the recipient, texts and lookup record as JSON text, kind,
    /// channel, template and status by name.
    #[derive(Debug, FromRow)]
    pub(crate) struct OrderRow in "notification_orders" {
        id: String,
        correspondence_id: String,
        kind: String,
        recipient: String,
        /// The recipient's dedupe key: what `notification_orders_for_party` looks up.
        recipient_key: String,
        channel: String,
        template: String,
        texts: String,
        ignore_reservation: bool,
        use_stale_contacts: bool,
        requested_send_time: i64,
        status: String,
        created: i64,
        processed: Option<i64>,
        lookup: String,
    }
}

impl OrderRow {
    /// The row of a new order `o` (not processed, empty lookup record).
    pub(crate) fn new(o: &NotificationOrder) -> Result<Self, StoreError> {
        Ok(Self {
            id: o.id.to_string(),
            correspondence_id: o.correspondence_id.to_string(),
            kind: kind_name(o.kind).to_owned(),
            recipient: serde_json::to_string(&o.recipient).map_err(corrupt)?,
            recipient_key: o.recipient.dedupe_key(),
            channel: o.channel.name().to_owned(),
            template: o.template.name().to_owned(),
            texts: serde_json::to_string(&o.texts).map_err(corrupt)?,
            ignore_reservation: o.ignore_reservation,
            use_stale_contacts: o.use_stale_contacts,
            requested_send_time: micros(o.requested_send_time),
            status: o.status.name().to_owned(),
            created: micros(o.created),
            processed: None,
            lookup: "[]".to_owned(),
        })
    }

    /// The order this row holds, with its processing record.
    fn into_record(self) -> Result<OrderRecord, StoreError> {
        Ok(OrderRecord {
            order: NotificationOrder {
                id: self.id.parse().map_err(corrupt)?,
                correspondence_id: self.correspondence_id.parse().map_err(corrupt)?,
                kind: parse_kind(&self.kind)?,
                recipient: serde_json::from_str(&self.recipient).map_err(corrupt)?,
                channel: NotificationChannel::parse(&self.channel)
                    .ok_or_else(|| bad("channel", &self.channel))?,
                template: NotificationTemplate::parse(&self.template)
                    .ok_or_else(|| bad("template", &self.template))?,
                texts: serde_json::from_str(&self.texts).map_err(corrupt)?,
                ignore_reservation: self.ignore_reservation,
                use_stale_contacts: self.use_stale_contacts,
                requested_send_time: from_micros(self.requested_send_time)?,
                status: OrderStatus::parse(&self.status)
                    .ok_or_else(|| bad("order status", &self.status))?,
                created: from_micros(self.created)?,
            },
            processed: self.processed.map(from_micros).transpose()?,
            lookup: serde_json::from_str(&self.lookup).map_err(corrupt)?,
        })
    }
}

table_row! {
    /// A row of `notifications`: ids as text, times as microseconds since the Unix epoch (UTC),
    /// the source as JSON text, channel and status by name.
    #[derive(Debug, FromRow)]
    struct NotificationRow in "notifications" {
        id: String,
        order_id: String,
        correspondence_id: String,
        channel: String,
        address: Option<String>,
        source: Option<String>,
        status: String,
        not_before: i64,
        expires: i64,
        sent: Option<i64>,
        delivered: Option<i64>,
        provider_reference: Option<String>,
        detail: Option<String>,
        created: i64,
    }
}

impl NotificationRow {
    /// The row of notification `n`.
    fn new(n: &Notification) -> Result<Self, StoreError> {
        Ok(Self {
            id: n.id.to_string(),
            order_id: n.order_id.to_string(),
            correspondence_id: n.correspondence_id.to_string(),
            channel: n.channel.name().to_owned(),
            address: n.address.clone(),
            source: n
                .source
                .as_ref()
                .map(|s| serde_json::to_string(s).map_err(corrupt))
                .transpose()?,
            status: n.status.name().to_owned(),
            not_before: micros(n.not_before),
            expires: micros(n.expires),
            sent: n.sent.map(micros),
            delivered: n.delivered.map(micros),
            provider_reference: n.provider_reference.clone(),
            detail: n.detail.clone(),
            created: micros(n.created),
        })
    }

    /// The notification this row holds.
    fn into_notification(self) -> Result<Notification, StoreError> {
        Ok(Notification {
            id: self.id.parse().map_err(corrupt)?,
            order_id: self.order_id.parse().map_err(corrupt)?,
            correspondence_id: self.correspondence_id.parse().map_err(corrupt)?,
            channel: parse_channel(&self.channel)?,
            address: self.address,
            source: self
                .source
                .map(|s| serde_json::from_str(&s).map_err(corrupt))
                .transpose()?,
            status: NotificationStatus::parse(&self.status)
                .ok_or_else(|| bad("notification status", &self.status))?,
            not_before: from_micros(self.not_before)?,
            expires: from_micros(self.expires)?,
            sent: self.sent.map(from_micros).transpose()?,
            delivered: self.delivered.map(from_micros).transpose()?,
            provider_reference: self.provider_reference,
            detail: self.detail,
            created: from_micros(self.created)?,
        })
    }
}

/// How an order's kind is stored: `Main`, `Reminder` or `ConfidentialReminder`.
fn kind_name(kind: OrderKind) -> &'static str {
    match kind {
        OrderKind::Main => "Main",
        OrderKind::Reminder => "Reminder",
        OrderKind::ConfidentialReminder => "ConfidentialReminder",
    }
}

fn parse_kind(s: &str) -> Result<OrderKind, StoreError> {
    match s {
        "Main" => Ok(OrderKind::Main),
        "Reminder" => Ok(OrderKind::Reminder),
        "ConfidentialReminder" => Ok(OrderKind::ConfidentialReminder),
        _ => Err(bad("order kind", s)),
    }
}

fn parse_channel(s: &str) -> Result<DeliveryChannel, StoreError> {
    DeliveryChannel::parse(s).ok_or_else(|| bad("delivery channel", s))
}

fn bad(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

/// `SELECT <order columns> FROM notification_orders`, to be followed by a condition.
static SELECT_ORDERS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM notification_orders",
        column_list("", OrderRow::COLUMNS)
    )
});

/// `SELECT <notification columns> FROM notifications`, to be followed by a condition.
static SELECT_NOTIFICATIONS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM notifications",
        column_list("", NotificationRow::COLUMNS)
    )
});

/// The orders of letter `$1`, main notices first, then by creation.
static SELECT_ORDERS_OF: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{} WHERE correspondence_id = $1 {}",
        SELECT_ORDERS.as_str(),
        sql::ORDERS_IN_ORDER
    )
});

/// Order `$1`.
static SELECT_ORDER: LazyLock<String> =
    LazyLock::new(|| format!("{} WHERE id = $1", SELECT_ORDERS.as_str()));

/// The orders whose recipient key is `$1`, newest first, at most `$2`.
static SELECT_ORDERS_FOR_PARTY: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{} WHERE recipient_key = $1 ORDER BY created DESC, id DESC LIMIT $2",
        SELECT_ORDERS.as_str()
    )
});

/// Notification `$1`.
static SELECT_NOTIFICATION: LazyLock<String> =
    LazyLock::new(|| format!("{} WHERE id = $1", SELECT_NOTIFICATIONS.as_str()));

/// The notifications of letter `$1`, in creation order (ties by id).
static SELECT_NOTIFICATIONS_OF: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{} WHERE correspondence_id = $1 ORDER BY created, id",
        SELECT_NOTIFICATIONS.as_str()
    )
});

/// The notification on channel `$1` with provider reference `$2` (the first written, should a
/// provider repeat a reference).
static SELECT_BY_PROVIDER_REFERENCE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{} WHERE channel = $1 AND provider_reference = $2 ORDER BY created, id LIMIT 1",
        SELECT_NOTIFICATIONS.as_str()
    )
});

/// Inserts the notifications of the JSON array bound to `$1` ([`NotificationRow`]s).
static INSERT_NOTIFICATIONS: LazyLock<String> =
    LazyLock::new(|| insert_from_json(NotificationRow::TABLE, NotificationRow::COLUMNS, "$1"));

/// Applies a [`NotificationUpdate`] to notification `$1` if its status is one of the JSON array
/// `$2` (names): status `$3`, and each of sent `$4`, delivered `$5`, provider reference `$6`,
/// detail `$7` and not-before `$8` when not NULL. Returns `1` when it did.
const UPDATE_NOTIFICATION: &str = "UPDATE notifications
     SET status = $3,
         sent = coalesce($4, sent),
         delivered = coalesce($5, delivered),
         provider_reference = coalesce($6, provider_reference),
         detail = coalesce($7, detail),
         not_before = coalesce($8, not_before)
     WHERE id = $1 AND status IN (SELECT value FROM json_each($2))
     RETURNING 1";

fn orders(rows: Vec<OrderRow>) -> Result<Vec<OrderRecord>, StoreError> {
    rows.into_iter().map(OrderRow::into_record).collect()
}

fn notifications(rows: Vec<NotificationRow>) -> Result<Vec<Notification>, StoreError> {
    rows.into_iter()
        .map(NotificationRow::into_notification)
        .collect()
}

#[async_trait]
impl NotificationStore for SqliteStore {
    async fn notification_orders(
        &self,
        letter: CorrespondenceId,
    ) -> Result<Vec<OrderRecord>, StoreError> {
        let rows = sqlx::query_as::<_, OrderRow>(SELECT_ORDERS_OF.as_str())
            .bind(letter.to_string())
            .fetch_all(&self.reader)
            .await
            .map_err(classify)?;
        orders(rows)
    }

    async fn notification_order(&self, id: Uuid) -> Result<Option<OrderRecord>, StoreError> {
        sqlx::query_as::<_, OrderRow>(SELECT_ORDER.as_str())
            .bind(id.to_string())
            .fetch_optional(&self.reader)
            .await
            .map_err(classify)?
            .map(OrderRow::into_record)
            .transpose()
    }

    async fn process_notification_order(
        &self,
        processed: &ProcessedOrder,
    ) -> Result<bool, StoreError> {
        let p = PreparedOrder::new(processed)?;
        self.write(move |conn| {
            Box::pin(async move {
                let mut tx = conn.begin().await.map_err(classify)?;
                if !p.record(&mut tx).await? {
                    return Ok(false);
                }
                tx.commit().await.map_err(classify)?;
                Ok(true)
            })
        })
        .await
    }

    async fn publish_with_orders(
        &self,
        id: CorrespondenceId,
        entry: &StatusEntry,
        guard: AppendGuard,
        jobs: &[NewJob],
        orders: &[ProcessedOrder],
    ) -> Result<bool, StoreError> {
        let prepared = orders
            .iter()
            .map(PreparedOrder::new)
            .collect::<Result<Vec<_>, _>>()?;
        let (entry, jobs) = (entry.clone(), jobs.to_vec());
        self.write(move |conn| {
            Box::pin(async move {
                let mut tx = conn.begin().await.map_err(classify)?;
                if !append_status_in(&mut tx, id, entry, guard, jobs).await? {
                    return Ok(false);
                }
                for p in &prepared {
                    p.record(&mut tx).await?;
                }
                tx.commit().await.map_err(classify)?;
                Ok(true)
            })
        })
        .await
    }

    async fn complete_notification_order(&self, id: Uuid) -> Result<bool, StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                let changed = sqlx::query(sql::CHANGE_ORDER_STATUS)
                    .bind(id.to_string())
                    .bind(OrderStatus::Completed.name())
                    .bind(OrderStatus::Processed.name())
                    .execute(&mut *conn)
                    .await
                    .map_err(classify)?;
                Ok(changed.rows_affected() == 1)
            })
        })
        .await
    }

    async fn notification(&self, id: Uuid) -> Result<Option<Notification>, StoreError> {
        sqlx::query_as::<_, NotificationRow>(SELECT_NOTIFICATION.as_str())
            .bind(id.to_string())
            .fetch_optional(&self.reader)
            .await
            .map_err(classify)?
            .map(NotificationRow::into_notification)
            .transpose()
    }

    async fn notifications_of(
        &self,
        letter: CorrespondenceId,
    ) -> Result<Vec<Notification>, StoreError> {
        let rows = sqlx::query_as::<_, NotificationRow>(SELECT_NOTIFICATIONS_OF.as_str())
            .bind(letter.to_string())
            .fetch_all(&self.reader)
            .await
            .map_err(classify)?;
        notifications(rows)
    }

    async fn update_notification(&self, update: &NotificationUpdate) -> Result<bool, StoreError> {
        let from: Vec<&str> = update.from.iter().map(|s| s.name()).collect();
        let from = serde_json::to_string(&from).map_err(corrupt)?;
        let u = update.clone();
        self.write(move |conn| {
            Box::pin(async move {
                let id = u.id.to_string();
                let done = sqlx::query(UPDATE_NOTIFICATION)
                    .bind(&id)
                    .bind(&from)
                    .bind(u.status.name())
                    .bind(u.sent.map(micros))
                    .bind(u.delivered.map(micros))
                    .bind(u.provider_reference.as_deref())
                    .bind(u.detail.as_deref())
                    .bind(u.not_before.map(micros))
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(classify)?;
                if done.is_some() {
                    return Ok(true);
                }
                match exists(conn, sql::NOTIFICATION_EXISTS, &id).await? {
                    true => Ok(false),
                    false => Err(StoreError::NotFound),
                }
            })
        })
        .await
    }

    async fn notification_by_provider_reference(
        &self,
        channel: DeliveryChannel,
        reference: &str,
    ) -> Result<Option<Notification>, StoreError> {
        sqlx::query_as::<_, NotificationRow>(SELECT_BY_PROVIDER_REFERENCE.as_str())
            .bind(channel.name())
            .bind(reference)
            .fetch_optional(&self.reader)
            .await
            .map_err(classify)?
            .map(NotificationRow::into_notification)
            .transpose()
    }

    async fn record_unmatched_report(
        &self,
        received: DateTime<Utc>,
        channel: DeliveryChannel,
        body: &str,
    ) -> Result<(), StoreError> {
        let body = body.to_owned();
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query(sql::INSERT_UNMATCHED_REPORT)
                    .bind(micros(received))
                    .bind(channel.name())
                    .bind(&body)
                    .execute(&mut *conn)
                    .await
                    .map_err(classify)?;
                Ok(())
            })
        })
        .await
    }

    async fn unmatched_reports(&self, limit: u32) -> Result<Vec<UnmatchedReport>, StoreError> {
        let rows = sqlx::query(sql::SELECT_UNMATCHED_REPORTS)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await
            .map_err(classify)?;
        rows.iter()
            .map(|r| {
                let channel: String = r.try_get("channel").map_err(classify)?;
                Ok(UnmatchedReport {
                    id: r.try_get("id").map_err(classify)?,
                    received: from_micros(r.try_get("received").map_err(classify)?)?,
                    channel: parse_channel(&channel)?,
                    body: r.try_get("body").map_err(classify)?,
                })
            })
            .collect()
    }

    async fn cancel_notifications(
        &self,
        letter: CorrespondenceId,
        detail: &str,
    ) -> Result<(u64, u64), StoreError> {
        let detail = detail.to_owned();
        self.write(move |conn| {
            Box::pin(async move {
                let letter = letter.to_string();
                let mut tx = conn.begin().await.map_err(classify)?;
                let orders = sqlx::query(sql::CHANGE_ORDER_STATUSES_OF)
                    .bind(&letter)
                    .bind(OrderStatus::Cancelled.name())
                    .bind(OrderStatus::Registered.name())
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?
                    .rows_affected();
                let notifications = sqlx::query(sql::CHANGE_NOTIFICATION_STATUSES_OF)
                    .bind(&letter)
                    .bind(NotificationStatus::Cancelled.name())
                    .bind(NotificationStatus::New.name())
                    .bind(&detail)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?
                    .rows_affected();
                tx.commit().await.map_err(classify)?;
                Ok((orders, notifications))
            })
        })
        .await
    }

    async fn notification_orders_for_party(
        &self,
        party_urn: &str,
        limit: u32,
    ) -> Result<Vec<OrderRecord>, StoreError> {
        let rows = sqlx::query_as::<_, OrderRow>(SELECT_ORDERS_FOR_PARTY.as_str())
            .bind(party_urn)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await
            .map_err(classify)?;
        orders(rows)
    }
}

/// Whether the row with id `id` exists, by `statement` (one of the `*_EXISTS` statements).
async fn exists(
    conn: &mut SqliteConnection,
    statement: &'static str,
    id: &str,
) -> Result<bool, StoreError> {
    sqlx::query_scalar(statement)
        .bind(id)
        .fetch_one(&mut *conn)
        .await
        .map_err(classify)
}

/// A processed order with its rows encoded, ready to write inside a transaction.
struct PreparedOrder {
    order: ProcessedOrder,
    /// The lookup record, as JSON text.
    lookup: String,
    /// The notifications, as a JSON array of rows.
    rows: String,
}

impl PreparedOrder {
    fn new(processed: &ProcessedOrder) -> Result<Self, StoreError> {
        let lookup = serde_json::to_string(&processed.lookup).map_err(corrupt)?;
        let rows = processed
            .notifications
            .iter()
            .map(NotificationRow::new)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            order: processed.clone(),
            lookup,
            rows: json_rows(&rows)?,
        })
    }

    /// Writes the order's outcome, its notifications and their jobs in `tx`, if the order is
    /// still Registered. Returns whether it was written; an unknown order is
    /// [`StoreError::NotFound`].
    async fn record(&self, tx: &mut sqlx::SqliteConnection) -> Result<bool, StoreError> {
        let p = &self.order;
        let id = p.order_id.to_string();
        let done = sqlx::query(sql::PROCESS_ORDER)
            .bind(&id)
            .bind(p.status.name())
            .bind(micros(p.at))
            .bind(&self.lookup)
            .bind(OrderStatus::Registered.name())
            .fetch_optional(&mut *tx)
            .await
            .map_err(classify)?;
        if done.is_none() {
            return match exists(&mut *tx, sql::ORDER_EXISTS, &id).await? {
                true => Ok(false),
                false => Err(StoreError::NotFound),
            };
        }
        if !p.notifications.is_empty() {
            sqlx::query(INSERT_NOTIFICATIONS.as_str())
                .bind(&self.rows)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
        }
        enqueue(&mut *tx, &p.jobs).await?;
        Ok(true)
    }
}
