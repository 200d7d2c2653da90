//! Notification orders, notifications and unmatched delivery reports on PostgreSQL (migration
//! 0007; reference §8, `delivery-chain.md` §1.10–1.14), with the semantics of the SQLite store.
//!
//! Each table is mapped in one place, by column name: [`OrderRow`] for `notification_orders`
//! ([`OrderRow::new`] order → row, [`OrderRow::into_record`] row → order with its processing
//! record) and [`NotificationRow`] for `notifications` ([`NotificationRow::new`],
//! [`NotificationRow::into_notification`]). Inserts (`UNNEST` of column arrays) and selects are
//! generated from the row types' declarations (`table_columns!`), like the letters'. Statuses
//! and channels are stored by their names (`Registered`, `Failed_TTL`, `Email`), documents as
//! `jsonb`, times as `timestamptz`.
//!
//! A guarded write is one `UPDATE … WHERE status = …`: a concurrent write of the same row waits
//! for the first to commit and then re-evaluates the condition against the new row (READ
//! COMMITTED), so two workers processing one order write its notifications once.

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
    StoreError, UnmatchedReport, sql,
};
use sqlx::{FromRow, Row};
use uuid::Uuid;

use crate::codec::{column_list, insert_unnest, table_columns};
use crate::correspondences::append_in;
use crate::jobs::enqueue;
use crate::{PostgresStore, classify, corrupt};

table_columns! {
    /// A row of `notification_orders`: ids as `uuid`, times as `timestamptz`, the recipient,
    /// texts and lookup record as `jsonb`, kind, channel, template and status by name.
    #[derive(Debug, FromRow)]
    pub(crate) struct OrderRow in "notification_orders", columns OrderColumns {
        id: Uuid as "uuid",
        correspondence_id: Uuid as "uuid",
        kind: String as "text",
        recipient: serde_json::Value as "jsonb",
        /// The recipient's dedupe key: what `notification_orders_for_party` looks up.
        recipient_key: String as "text",
        channel: String as "text",
        template: String as "text",
        texts: serde_json::Value as "jsonb",
        ignore_reservation: bool as "boolean",
        use_stale_contacts: bool as "boolean",
        requested_send_time: DateTime<Utc> as "timestamptz",
        status: String as "text",
        created: DateTime<Utc> as "timestamptz",
        processed: Option<DateTime<Utc>> as "timestamptz",
        lookup: serde_json::Value as "jsonb",
    }
}

impl OrderRow {
    /// The row of a new order `o` (not processed, empty lookup record).
    pub(crate) fn new(o: &NotificationOrder) -> Result<Self, StoreError> {
        Ok(Self {
            id: o.id,
            correspondence_id: o.correspondence_id.as_uuid(),
            kind: kind_name(o.kind).to_owned(),
            recipient: serde_json::to_value(&o.recipient).map_err(corrupt)?,
            recipient_key: o.recipient.dedupe_key(),
            channel: o.channel.name().to_owned(),
            template: o.template.name().to_owned(),
            texts: serde_json::to_value(&o.texts).map_err(corrupt)?,
            ignore_reservation: o.ignore_reservation,
            use_stale_contacts: o.use_stale_contacts,
            requested_send_time: o.requested_send_time,
            status: o.status.name().to_owned(),
            created: o.created,
            processed: None,
            lookup: serde_json::Value::Array(Vec::new()),
        })
    }

    /// The order this row holds, with its processing record.
    fn into_record(self) -> Result<OrderRecord, StoreError> {
        Ok(OrderRecord {
            order: NotificationOrder {
                id: self.id,
                correspondence_id: CorrespondenceId::from_uuid(self.correspondence_id),
                kind: parse_kind(&self.kind)?,
                recipient: serde_json::from_value(self.recipient).map_err(corrupt)?,
                channel: NotificationChannel::parse(&self.channel)
                    .ok_or_else(|| bad("channel", &self.channel))?,
                template: NotificationTemplate::parse(&self.template)
                    .ok_or_else(|| bad("template", &self.template))?,
                texts: serde_json::from_value(self.texts).map_err(corrupt)?,
                ignore_reservation: self.ignore_reservation,
                use_stale_contacts: self.use_stale_contacts,
                requested_send_time: self.requested_send_time,
                status: OrderStatus::parse(&self.status)
                    .ok_or_else(|| bad("order status", &self.status))?,
                created: self.created,
            },
            processed: self.processed,
            lookup: serde_json::from_value(self.lookup).map_err(corrupt)?,
        })
    }
}

impl OrderColumns {
    /// The rows of new `orders`.
    pub(crate) fn of(orders: &[NotificationOrder]) -> Result<Self, StoreError> {
        let mut columns = Self::default();
        for o in orders {
            columns.push(OrderRow::new(o)?);
        }
        Ok(columns)
    }
}

table_columns! {
    /// A row of `notifications`: ids as `uuid`, times as `timestamptz`, the source as `jsonb`,
    /// channel and status by name.
    #[derive(Debug, FromRow)]
    struct NotificationRow in "notifications", columns NotificationColumns {
        id: Uuid as "uuid",
        order_id: Uuid as "uuid",
        correspondence_id: Uuid as "uuid",
        channel: String as "text",
        address: Option<String> as "text",
        source: Option<serde_json::Value> as "jsonb",
        status: String as "text",
        not_before: DateTime<Utc> as "timestamptz",
        expires: DateTime<Utc> as "timestamptz",
        sent: Option<DateTime<Utc>> as "timestamptz",
        delivered: Option<DateTime<Utc>> as "timestamptz",
        provider_reference: Option<String> as "text",
        detail: Option<String> as "text",
        created: DateTime<Utc> as "timestamptz",
    }
}

impl NotificationRow {
    /// The row of notification `n`.
    fn new(n: &Notification) -> Result<Self, StoreError> {
        Ok(Self {
            id: n.id,
            order_id: n.order_id,
            correspondence_id: n.correspondence_id.as_uuid(),
            channel: n.channel.name().to_owned(),
            address: n.address.clone(),
            source: n
                .source
                .as_ref()
                .map(|s| serde_json::to_value(s).map_err(corrupt))
                .transpose()?,
            status: n.status.name().to_owned(),
            not_before: n.not_before,
            expires: n.expires,
            sent: n.sent,
            delivered: n.delivered,
            provider_reference: n.provider_reference.clone(),
            detail: n.detail.clone(),
            created: n.created,
        })
    }

    /// The notification this row holds.
    fn into_notification(self) -> Result<Notification, StoreError> {
        Ok(Notification {
            id: self.id,
            order_id: self.order_id,
            correspondence_id: CorrespondenceId::from_uuid(self.correspondence_id),
            channel: parse_channel(&self.channel)?,
            address: self.address,
            source: self
                .source
                .map(|s| serde_json::from_value(s).map_err(corrupt))
                .transpose()?,
            status: NotificationStatus::parse(&self.status)
                .ok_or_else(|| bad("notification status", &self.status))?,
            not_before: self.not_before,
            expires: self.expires,
            sent: self.sent,
            delivered: self.delivered,
            provider_reference: self.provider_reference,
            detail: self.detail,
            created: self.created,
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

/// Inserts the notifications whose column arrays ([`NotificationColumns`]) are bound from `$1`.
static INSERT_NOTIFICATIONS: LazyLock<String> = LazyLock::new(|| {
    insert_unnest(
        NotificationRow::TABLE,
        NotificationRow::COLUMNS,
        NotificationColumns::SQL_TYPES,
        1,
    )
});

/// Applies a [`NotificationUpdate`] to notification `$1` if its status is one of the array `$2`
/// (names): status `$3`, and each of sent `$4`, delivered `$5`, provider reference `$6`, detail
/// `$7` and not-before `$8` when not NULL. Returns `1` when it did.
const UPDATE_NOTIFICATION: &str = "UPDATE notifications
     SET status = $3,
         sent = coalesce($4, sent),
         delivered = coalesce($5, delivered),
         provider_reference = coalesce($6, provider_reference),
         detail = coalesce($7, detail),
         not_before = coalesce($8, not_before)
     WHERE id = $1 AND status = ANY($2)
     RETURNING 1";

fn orders(rows: Vec<OrderRow>) -> Result<Vec<OrderRecord>, StoreError> {
    rows.into_iter().map(OrderRow::into_record).collect()
}

#[async_trait]
impl NotificationStore for PostgresStore {
    async fn notification_orders(
        &self,
        letter: CorrespondenceId,
    ) -> Result<Vec<OrderRecord>, StoreError> {
        let rows = sqlx::query_as::<_, OrderRow>(SELECT_ORDERS_OF.as_str())
            .bind(letter.as_uuid())
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        orders(rows)
    }

    async fn notification_order(&self, id: Uuid) -> Result<Option<OrderRecord>, StoreError> {
        sqlx::query_as::<_, OrderRow>(SELECT_ORDER.as_str())
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?
            .map(OrderRow::into_record)
            .transpose()
    }

    async fn process_notification_order(
        &self,
        processed: &ProcessedOrder,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await.map_err(classify)?;
        if !record_processed(&mut tx, processed).await? {
            return Ok(false);
        }
        tx.commit().await.map_err(classify)?;
        if !processed.jobs.is_empty() {
            self.jobs_enqueued();
        }
        Ok(true)
    }

    async fn publish_with_orders(
        &self,
        id: CorrespondenceId,
        entry: &StatusEntry,
        guard: AppendGuard,
        jobs: &[NewJob],
        orders: &[ProcessedOrder],
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await.map_err(classify)?;
        if !append_in(&mut tx, id, entry, &guard, jobs).await? {
            return Ok(false);
        }
        for processed in orders {
            record_processed(&mut tx, processed).await?;
        }
        tx.commit().await.map_err(classify)?;
        self.jobs_enqueued();
        Ok(true)
    }

    async fn complete_notification_order(&self, id: Uuid) -> Result<bool, StoreError> {
        let changed = sqlx::query(sql::CHANGE_ORDER_STATUS)
            .bind(id)
            .bind(OrderStatus::Completed.name())
            .bind(OrderStatus::Processed.name())
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(changed.rows_affected() == 1)
    }

    async fn notification(&self, id: Uuid) -> Result<Option<Notification>, StoreError> {
        sqlx::query_as::<_, NotificationRow>(SELECT_NOTIFICATION.as_str())
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?
            .map(NotificationRow::into_notification)
            .transpose()
    }

    async fn notifications_of(
        &self,
        letter: CorrespondenceId,
    ) -> Result<Vec<Notification>, StoreError> {
        sqlx::query_as::<_, NotificationRow>(SELECT_NOTIFICATIONS_OF.as_str())
            .bind(letter.as_uuid())
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?
            .into_iter()
            .map(NotificationRow::into_notification)
            .collect()
    }

    async fn update_notification(&self, update: &NotificationUpdate) -> Result<bool, StoreError> {
        let from: Vec<&str> = update.from.iter().map(|s| s.name()).collect();
        let done: Option<i32> = sqlx::query_scalar(UPDATE_NOTIFICATION)
            .bind(update.id)
            .bind(&from)
            .bind(update.status.name())
            .bind(update.sent)
            .bind(update.delivered)
            .bind(update.provider_reference.as_deref())
            .bind(update.detail.as_deref())
            .bind(update.not_before)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        if done.is_some() {
            return Ok(true);
        }
        match exists(&self.pool, sql::NOTIFICATION_EXISTS, update.id).await? {
            true => Ok(false),
            false => Err(StoreError::NotFound),
        }
    }

    async fn notification_by_provider_reference(
        &self,
        channel: DeliveryChannel,
        reference: &str,
    ) -> Result<Option<Notification>, StoreError> {
        sqlx::query_as::<_, NotificationRow>(SELECT_BY_PROVIDER_REFERENCE.as_str())
            .bind(channel.name())
            .bind(reference)
            .fetch_optional(&self.pool)
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
        sqlx::query(sql::INSERT_UNMATCHED_REPORT)
            .bind(received)
            .bind(channel.name())
            .bind(body)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn unmatched_reports(&self, limit: u32) -> Result<Vec<UnmatchedReport>, StoreError> {
        let rows = sqlx::query(sql::SELECT_UNMATCHED_REPORTS)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        rows.iter()
            .map(|r| {
                let channel: String = r.try_get("channel").map_err(classify)?;
                Ok(UnmatchedReport {
                    id: r.try_get("id").map_err(classify)?,
                    received: r.try_get("received").map_err(classify)?,
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
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let orders = sqlx::query(sql::CHANGE_ORDER_STATUSES_OF)
            .bind(letter.as_uuid())
            .bind(OrderStatus::Cancelled.name())
            .bind(OrderStatus::Registered.name())
            .execute(&mut *tx)
            .await
            .map_err(classify)?
            .rows_affected();
        let notifications = sqlx::query(sql::CHANGE_NOTIFICATION_STATUSES_OF)
            .bind(letter.as_uuid())
            .bind(NotificationStatus::Cancelled.name())
            .bind(NotificationStatus::New.name())
            .bind(detail)
            .execute(&mut *tx)
            .await
            .map_err(classify)?
            .rows_affected();
        tx.commit().await.map_err(classify)?;
        Ok((orders, notifications))
    }

    async fn notification_orders_for_party(
        &self,
        party_urn: &str,
        limit: u32,
    ) -> Result<Vec<OrderRecord>, StoreError> {
        let rows = sqlx::query_as::<_, OrderRow>(SELECT_ORDERS_FOR_PARTY.as_str())
            .bind(party_urn)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        orders(rows)
    }
}

/// Whether the row with id `id` exists, by `statement` (one of the `*_EXISTS` statements).
async fn exists<'c>(
    conn: impl sqlx::PgExecutor<'c>,
    statement: &'static str,
    id: Uuid,
) -> Result<bool, StoreError> {
    sqlx::query_scalar(statement)
        .bind(id)
        .fetch_one(conn)
        .await
        .map_err(classify)
}

/// Writes a processed order's outcome, its notifications and their jobs in `tx`, if the order
/// is still Registered. Returns whether it was written; an unknown order is
/// [`StoreError::NotFound`].
async fn record_processed(
    tx: &mut sqlx::PgConnection,
    processed: &ProcessedOrder,
) -> Result<bool, StoreError> {
    let lookup = serde_json::to_value(&processed.lookup).map_err(corrupt)?;
    let mut rows = NotificationColumns::default();
    for n in &processed.notifications {
        rows.push(NotificationRow::new(n)?);
    }
    let done: Option<i32> = sqlx::query_scalar(sql::PROCESS_ORDER)
        .bind(processed.order_id)
        .bind(processed.status.name())
        .bind(processed.at)
        .bind(&lookup)
        .bind(OrderStatus::Registered.name())
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
    if done.is_none() {
        return match exists(&mut *tx, sql::ORDER_EXISTS, processed.order_id).await? {
            true => Ok(false),
            false => Err(StoreError::NotFound),
        };
    }
    if !processed.notifications.is_empty() {
        rows.bind(sqlx::query(INSERT_NOTIFICATIONS.as_str()))
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
    }
    enqueue(tx, &processed.jobs).await?;
    Ok(true)
}
