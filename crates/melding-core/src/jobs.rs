//! The attachment jobs: scan, settle letters, expire, purge with a letter, delete bytes. Each
//! re-reads the state it acts on, so running one twice changes nothing the second time.

use std::sync::Arc;

use async_trait::async_trait;
use melding_domain::AttachmentId;
use melding_jobs::{JobHandler, Outcome};
use melding_store::Job;

use crate::Melding;
use crate::attachments::kinds;

struct AttachmentJob {
    melding: Melding,
    kind: &'static str,
}

pub(crate) fn attachment_handlers(melding: &Melding) -> Vec<Arc<dyn JobHandler>> {
    [
        kinds::SCAN,
        kinds::SETTLED,
        kinds::EXPIRE,
        kinds::PURGE_WITH_LETTER,
        kinds::DELETE_BLOB,
    ]
    .into_iter()
    .map(|kind| {
        Arc::new(AttachmentJob {
            melding: melding.clone(),
            kind,
        }) as Arc<dyn JobHandler>
    })
    .collect()
}

fn attachment_id(job: &Job) -> anyhow::Result<AttachmentId> {
    job.payload
        .get("attachmentId")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("job {} has no attachmentId", job.id))
}

#[async_trait]
impl JobHandler for AttachmentJob {
    fn kind(&self) -> &'static str {
        self.kind
    }

    async fn run(&self, job: &Job) -> anyhow::Result<Outcome> {
        let m = &self.melding;
        match self.kind {
            kinds::SCAN => {
                let last_attempt = job.attempts >= job.max_attempts;
                m.run_scan(attachment_id(job)?, last_attempt).await?
            }
            kinds::SETTLED => m.run_settled(attachment_id(job)?).await?,
            kinds::EXPIRE => {
                if let Some(at) = m.run_expire(attachment_id(job)?).await? {
                    return Ok(Outcome::RunAgainAt(at));
                }
            }
            kinds::PURGE_WITH_LETTER => {
                let id = job
                    .correspondence_id
                    .ok_or_else(|| anyhow::anyhow!("job {} has no correspondence", job.id))?;
                m.run_purge_with_letter(id).await?;
            }
            kinds::DELETE_BLOB => {
                let key = job
                    .payload
                    .get("key")
                    .and_then(|v| v.as_str())
                    .ok_or_else(|| anyhow::anyhow!("job {} has no key", job.id))?;
                m.run_delete_blob(key).await?;
            }
            other => anyhow::bail!("no handler for job kind {other}"),
        }
        Ok(Outcome::Done)
    }
}
