//! Publishing: at the requested time a letter becomes visible to its recipient. The job is
//! enqueued with the letter; running it twice publishes once.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use melding_domain::attachment;
use melding_domain::status::PublishDecision;
use melding_domain::{Clock, CorrespondenceId, CorrespondenceStatus, StatusEntry};
use melding_jobs::{JobHandler, Outcome};
use melding_store::{AppendGuard, Job, NewJob, Store};

pub const KIND: &str = "publish";

/// The publish job for one letter, due at `at`.
pub fn publish_job(id: CorrespondenceId, at: DateTime<Utc>) -> NewJob {
    NewJob {
        kind: KIND.into(),
        dedupe_key: format!("{KIND}:{id}"),
        correspondence_id: Some(id),
        run_at: at,
        max_attempts: 10,
        payload: serde_json::Value::Null,
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

pub struct PublishJob {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl PublishJob {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }
}

#[async_trait]
impl JobHandler for PublishJob {
    fn kind(&self) -> &'static str {
        KIND
    }

    async fn run(&self, job: &Job) -> anyhow::Result<Outcome> {
        let id = job
            .correspondence_id
            .ok_or_else(|| anyhow::anyhow!("publish job without a correspondence"))?;
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
                let written = self
                    .store
                    .append_status(id, &entry, AppendGuard::UnlessAny(terminal()), &[])
                    .await?;
                if written {
                    tracing::info!(correspondence_id = %id, "published");
                }
                Ok(Outcome::Done)
            }
            PublishDecision::Fail(reason) => {
                let entry =
                    StatusEntry::new(CorrespondenceStatus::Failed, now, None).with_text(reason);
                self.store
                    .append_status(id, &entry, AppendGuard::UnlessAny(terminal()), &[])
                    .await?;
                Ok(Outcome::Done)
            }
        }
    }
}
