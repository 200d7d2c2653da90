//! Notification orders, their notifications, and delivery reports (reference §8,
//! `delivery-chain.md` §1). Orders are written with their letter
//! ([`crate::CorrespondenceStore::insert_letters`]); everything after is here.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use melding_domain::notification::{
    ContactDecision, DeliveryChannel, Notification, NotificationOrder, NotificationStatus,
    OrderStatus,
};
use melding_domain::{CorrespondenceId, StatusEntry};
use uuid::Uuid;

use crate::{AppendGuard, NewJob, StoreError};

/// An order with what its processing found and wrote, as support reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecord {
    /// The order.
    pub order: NotificationOrder,
    /// When it was processed (contact points looked up, or the condition said no), UTC.
    pub processed: Option<DateTime<Utc>>,
    /// What the lookup considered and decided, in the order it considered it.
    pub lookup: Vec<ContactDecision>,
}

/// What processing an order concluded, written in one transaction with its notifications and
/// their send jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessedOrder {
    /// The order.
    pub order_id: Uuid,
    /// Its new status: [`OrderStatus::Processed`], or [`OrderStatus::SendConditionNotMet`] /
    /// [`OrderStatus::Cancelled`] with no notifications.
    pub status: OrderStatus,
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// What the lookup considered and decided.
    pub lookup: Vec<ContactDecision>,
    /// One per address, plus the failure records (reserved, not identified).
    pub notifications: Vec<Notification>,
    /// The send jobs of the notifications that are to be sent.
    pub jobs: Vec<NewJob>,
}

/// A change to one notification's result, applied only while its status is one of `from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationUpdate {
    /// The notification.
    pub id: Uuid,
    /// The statuses it may be in for the update to apply (e.g. only `New` for a hand-over).
    pub from: Vec<NotificationStatus>,
    /// Its new status.
    pub status: NotificationStatus,
    /// Sets the sent time (UTC) when given.
    pub sent: Option<DateTime<Utc>>,
    /// Sets the delivered time (UTC) when given.
    pub delivered: Option<DateTime<Utc>>,
    /// Sets the provider's reference when given.
    pub provider_reference: Option<String>,
    /// Sets the detail (provider answer or failure reason) when given.
    pub detail: Option<String>,
    /// Moves "not before" (UTC) when given, e.g. held for the SMS window or a slow-down.
    pub not_before: Option<DateTime<Utc>>,
}

impl NotificationUpdate {
    /// An update of `id` to `status` from any of `from`, changing nothing else.
    pub fn new(id: Uuid, from: &[NotificationStatus], status: NotificationStatus) -> Self {
        Self {
            id,
            from: from.to_vec(),
            status,
            sent: None,
            delivered: None,
            provider_reference: None,
            detail: None,
            not_before: None,
        }
    }
}

/// A delivery report from a provider that matched no notification, kept for inspection
/// (`delivery-chain.md` §1.14: Altinn's `deaddeliveryreports`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmatchedReport {
    /// The store's key for it.
    pub id: i64,
    /// When it arrived (UTC).
    pub received: DateTime<Utc>,
    /// Which channel's webhook received it.
    pub channel: DeliveryChannel,
    /// The report as received (JSON or XML text).
    pub body: String,
}

/// Notification orders and notifications. Every method answers [`StoreError::Unavailable`]
/// when the database fails and [`StoreError::Corrupt`] when a stored row no longer parses.
#[async_trait]
pub trait NotificationStore: Send + Sync {
    /// The orders of a letter with their processing records, main notices first, then by
    /// creation.
    async fn notification_orders(
        &self,
        letter: CorrespondenceId,
    ) -> Result<Vec<OrderRecord>, StoreError>;

    /// One order with its processing record, if it exists.
    async fn notification_order(&self, id: Uuid) -> Result<Option<OrderRecord>, StoreError>;

    /// Records the outcome of processing an order — its status, lookup record, notifications
    /// and their jobs — in one transaction, only if the order is still
    /// [`OrderStatus::Registered`]. Returns whether it was written (false: processed before, so
    /// a repeated job changes nothing). An unknown order is [`StoreError::NotFound`].
    async fn process_notification_order(
        &self,
        processed: &ProcessedOrder,
    ) -> Result<bool, StoreError>;

    /// Publishes a letter and processes the orders due at that moment, in one transaction:
    /// appends `entry` (its Published status) to letter `id` under `guard` with `jobs`, as
    /// [`CorrespondenceStore::append_status`](crate::CorrespondenceStore::append_status) does,
    /// then records each of `orders` as [`NotificationStore::process_notification_order`]
    /// does (an order no longer [`OrderStatus::Registered`] is left as it is, its notifications
    /// and jobs unwritten). Returns whether the status was appended; when the guard refuses it,
    /// nothing is written. An unknown letter or order is [`StoreError::NotFound`] and nothing
    /// is written.
    async fn publish_with_orders(
        &self,
        id: CorrespondenceId,
        entry: &StatusEntry,
        guard: AppendGuard,
        jobs: &[NewJob],
        orders: &[ProcessedOrder],
    ) -> Result<bool, StoreError>;

    /// Marks an order completed (all its notifications final), if it is Processed. Returns
    /// whether it changed.
    async fn complete_notification_order(&self, id: Uuid) -> Result<bool, StoreError>;

    /// One notification, if it exists.
    async fn notification(&self, id: Uuid) -> Result<Option<Notification>, StoreError>;

    /// The notifications of a letter, in creation order (ties by id).
    async fn notifications_of(
        &self,
        letter: CorrespondenceId,
    ) -> Result<Vec<Notification>, StoreError>;

    /// Applies `update` if the notification's status is one of `update.from`; returns whether
    /// it did. An unknown notification is [`StoreError::NotFound`].
    async fn update_notification(&self, update: &NotificationUpdate) -> Result<bool, StoreError>;

    /// The notification on `channel` whose provider reference is `reference`, if any.
    async fn notification_by_provider_reference(
        &self,
        channel: DeliveryChannel,
        reference: &str,
    ) -> Result<Option<Notification>, StoreError>;

    /// Keeps a delivery report that matched no notification.
    async fn record_unmatched_report(
        &self,
        received: DateTime<Utc>,
        channel: DeliveryChannel,
        body: &str,
    ) -> Result<(), StoreError>;

    /// The newest `limit` unmatched delivery reports, newest first.
    async fn unmatched_reports(&self, limit: u32) -> Result<Vec<UnmatchedReport>, StoreError>;

    /// Cancels what of a purged or failed letter has not been sent: its Registered orders become
    /// [`OrderStatus::Cancelled`] and its `New` notifications [`NotificationStatus::Cancelled`]
    /// with `detail`, in one transaction. Returns how many orders and notifications changed.
    async fn cancel_notifications(
        &self,
        letter: CorrespondenceId,
        detail: &str,
    ) -> Result<(u64, u64), StoreError>;

    /// The orders addressed to `party_urn` (orders whose recipient is that party), newest first,
    /// at most `limit`; for `melding notifications show` about a person or organisation.
    async fn notification_orders_for_party(
        &self,
        party_urn: &str,
        limit: u32,
    ) -> Result<Vec<OrderRecord>, StoreError>;
}
