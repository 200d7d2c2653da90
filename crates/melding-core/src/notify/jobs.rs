//! The notification jobs. Kind names, dedupe keys and payload field names are stored in rows
//! that outlive versions; they never change.

use async_trait::async_trait;
use melding_domain::CorrespondenceId;
use melding_jobs::{Handle, JobContext, JobHandler, JobKind, Outcome};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Melding;

/// Process one notification order when its time has come: check the send condition, look up
/// the contact points, write the notifications (`process-notification-order`, payload
/// `{"orderId": …}`). Enqueued by the publish job, due at the order's send time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessNotificationOrder {
    /// The order.
    pub order_id: Uuid,
}

impl JobKind for ProcessNotificationOrder {
    const KIND: &'static str = "process-notification-order";
    fn dedupe_key(&self) -> String {
        format!("{}:{}", Self::KIND, self.order_id)
    }
}

/// Hand one notification to SMTP or the SMS gateway (`send-notification`, payload
/// `{"notificationId": …}`). Transient failures are retried with back-off for as long as the
/// notification lives (48 hours), so a provider that is down for a while gets the message when
/// it returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendNotification {
    /// The notification; also the idempotency key sent to the provider.
    pub notification_id: Uuid,
}

impl JobKind for SendNotification {
    const KIND: &'static str = "send-notification";
    /// Back-off 2 s, 4 s, … capped at one hour: 40 attempts span more than the 48-hour life of
    /// a notification, after which it fails with `Failed_TTL` instead.
    const MAX_ATTEMPTS: u32 = 40;
    fn dedupe_key(&self) -> String {
        format!("{}:{}", Self::KIND, self.notification_id)
    }
}

/// Cancel what of a purged or failed letter has not been sent (`cancel-notifications`; the
/// letter in the row's `correspondence_id` column).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelNotifications {
    /// The purged or failed letter.
    pub correspondence_id: CorrespondenceId,
}

impl CancelNotifications {
    /// The job cancelling the unsent notifications of letter `correspondence_id`.
    pub fn new(correspondence_id: CorrespondenceId) -> Self {
        Self { correspondence_id }
    }
}

impl JobKind for CancelNotifications {
    const KIND: &'static str = "cancel-notifications";
    const LETTER_IN_COLUMN: bool = true;
    fn dedupe_key(&self) -> String {
        format!("{}:{}", Self::KIND, self.correspondence_id)
    }
}

/// The notification jobs' handlers, for the runner.
pub(crate) fn notification_handlers(melding: &Melding) -> Vec<JobHandler> {
    vec![
        JobHandler::new::<ProcessNotificationOrder>(melding.clone()),
        JobHandler::new::<SendNotification>(melding.clone()),
        JobHandler::new::<CancelNotifications>(melding.clone()),
    ]
}

#[async_trait]
impl Handle<ProcessNotificationOrder> for Melding {
    async fn run(
        &self,
        job: ProcessNotificationOrder,
        _ctx: &JobContext,
    ) -> anyhow::Result<Outcome> {
        self.run_process_order(job.order_id).await
    }
}

#[async_trait]
impl Handle<SendNotification> for Melding {
    async fn run(&self, job: SendNotification, ctx: &JobContext) -> anyhow::Result<Outcome> {
        self.run_send_notification(job.notification_id, ctx).await
    }
}

#[async_trait]
impl Handle<CancelNotifications> for Melding {
    async fn run(&self, job: CancelNotifications, _ctx: &JobContext) -> anyhow::Result<Outcome> {
        let (orders, notifications) = self
            .store
            .cancel_notifications(
                job.correspondence_id,
                "the letter was purged or failed before this was sent",
            )
            .await?;
        if orders + notifications > 0 {
            tracing::info!(correspondence_id = %job.correspondence_id, orders, notifications, "notifications cancelled");
        }
        Ok(Outcome::Done)
    }
}
