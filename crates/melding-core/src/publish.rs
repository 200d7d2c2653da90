//! Publishing: at the requested time a letter becomes visible to its recipient. The job is
//! enqueued with the letter; running it twice publishes once.

use async_trait::async_trait;
use melding_domain::attachment;
use melding_domain::status::PublishDecision;
use melding_domain::{CorrespondenceId, CorrespondenceStatus, StatusEntry};
use melding_jobs::{Handle, JobContext, JobKind, Outcome};
use melding_store::AppendGuard;
use serde::{Deserialize, Serialize};

use crate::Melding;
use crate::notify::{CancelNotifications, ProcessNotificationOrder};
use melding_domain::notification::OrderStatus;

/// Publish one letter at its requested publish time (`publish`; the letter in the row's
/// `correspondence_id` column, payload `null`, as Melding has always stored it). Enqueued with
/// the letter, or by the job that settles its last attachment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Publish {
    /// The letter to publish.
    pub correspondence_id: CorrespondenceId,
}

impl Publish {
    /// The job publishing letter `correspondence_id`.
    pub fn new(correspondence_id: CorrespondenceId) -> Self {
        Self { correspondence_id }
    }
}

impl JobKind for Publish {
    const KIND: &'static str = "publish";
    const LETTER_IN_COLUMN: bool = true;
    fn dedupe_key(&self) -> String {
        format!("{}:{}", Self::KIND, self.correspondence_id)
    }
}

/// Statuses after which publishing must not happen again.
pub(crate) fn terminal() -> Vec<CorrespondenceStatus> {
    use CorrespondenceStatus as S;
    vec![
        S::Published,
        S::Failed,
        S::PurgedByAltinn,
        S::PurgedByRecipient,
    ]
}

/// Publishes the letter when its time has come and its attachments are ready, or fails it
/// (a reservation, a failed attachment); a letter already published, failed or purged is left
/// alone.
#[async_trait]
impl Handle<Publish> for Melding {
    async fn run(&self, job: Publish, _ctx: &JobContext) -> anyhow::Result<Outcome> {
        let id = job.correspondence_id;
        let Some(letter) = self.store.correspondence(id).await? else {
            // Nothing to publish; the letter is gone.
            return Ok(Outcome::Done);
        };
        let now = self.clock.now();
        // A letter waiting for an attachment is published by the job that settles the last
        // one; until then there is nothing to do.
        let ready = attachment::all_published(&self.store.attachments_of(id).await?);
        match letter
            .statuses
            .decide_publish(letter.settings.requested_publish_time, now, ready)
        {
            PublishDecision::Nothing => Ok(Outcome::Done),
            PublishDecision::NotYet(at) => Ok(Outcome::RunAgainAt(at)),
            PublishDecision::Publish => {
                let entry = StatusEntry::new(CorrespondenceStatus::Published, now, None);
                // The letter's notification orders are sent from now on, each at the later of
                // its send time and now (reference §8.3: orders go out once published). Those
                // due now (the main notice, as a rule) are processed here and written in the
                // publish's own transaction, so their notices are one job away instead of two;
                // the send condition holds by construction (published by this write, and the
                // guard refuses a failed or purged letter). Later ones get a job of their own,
                // and so do all of a letter in the delivery chain, whose route is decided
                // (AKSEPTERT) before its notice goes out (VARSLET).
                let policy = self.delivery.policy(letter.settings.resource_id.as_str());
                let orders = self.store.notification_orders(id).await?;
                let mut jobs = Vec::new();
                let mut processed = Vec::new();
                for r in orders
                    .iter()
                    .filter(|r| r.order.status == OrderStatus::Registered)
                {
                    if r.order.requested_send_time <= now && !policy.enabled {
                        processed.push(self.processed_order(&r.order, &letter, now).await?);
                    } else {
                        jobs.push(
                            ProcessNotificationOrder {
                                order_id: r.order.id,
                            }
                            .due_at(r.order.requested_send_time.max(now)),
                        );
                    }
                }
                // A resource in the delivery chain has its letters routed from now on
                // (`crate::delivery`).
                if policy.enabled {
                    jobs.push(
                        crate::delivery::RouteLetter {
                            correspondence_id: id,
                        }
                        .due_at(now),
                    );
                    // Its content is deleted when the retention period runs out.
                    match policy.retention.deletion_due_at(now) {
                        Ok(due) => jobs.push(
                            crate::delivery::DeleteLetterContent {
                                correspondence_id: id,
                            }
                            .due_at(due),
                        ),
                        Err(e) => {
                            tracing::warn!(correspondence_id = %id, error = %e, "no deletion date")
                        }
                    }
                }
                let guard = AppendGuard::UnlessAny(terminal());
                let written = if processed.is_empty() {
                    self.store.append_status(id, &entry, guard, &jobs).await?
                } else {
                    self.store
                        .publish_with_orders(id, &entry, guard, &jobs, &processed)
                        .await?
                };
                if written {
                    if !jobs.is_empty() || processed.iter().any(|p| !p.jobs.is_empty()) {
                        self.waker.wake();
                    }
                    // An order nobody could be reached for is final at once.
                    for p in processed.iter().filter(|p| p.jobs.is_empty()) {
                        self.complete_order_if_final(p.order_id).await?;
                    }
                    tracing::info!(
                        correspondence_id = %id,
                        jobs = jobs.len(),
                        orders_processed = processed.len(),
                        "published"
                    );
                }
                Ok(Outcome::Done)
            }
            PublishDecision::Fail(reason) => {
                let entry =
                    StatusEntry::new(CorrespondenceStatus::Failed, now, None).with_text(reason);
                self.store
                    .append_status(
                        id,
                        &entry,
                        AppendGuard::UnlessAny(terminal()),
                        &[CancelNotifications::new(id).due_at(now)],
                    )
                    .await?;
                Ok(Outcome::Done)
            }
        }
    }
}
