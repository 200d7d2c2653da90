//! The attachment jobs: scan, settle letters, expire, purge with a letter, delete bytes. Each is
//! one type (its kind name and payload, as stored in the `jobs` table) with its handler on
//! [`Melding`]. Each re-reads the state it acts on, so running one twice changes nothing the
//! second time.
//!
//! Kind names, dedupe keys and payload field names are stored in rows that outlive versions;
//! they are the ones Melding has always written and never change.

use async_trait::async_trait;
use melding_domain::{AttachmentId, CorrespondenceId};
use melding_jobs::{Handle, JobContext, JobHandler, JobKind, Outcome};
use serde::{Deserialize, Serialize};

use crate::Melding;
use crate::attachments::SCAN_ATTEMPTS;

/// Scan an uploaded attachment, then publish or fail it (`scan-attachment`, payload
/// `{"attachmentId": …}`, [`SCAN_ATTEMPTS`] attempts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanAttachment {
    /// The attachment in UploadProcessing.
    pub attachment_id: AttachmentId,
}

impl ScanAttachment {
    /// The job scanning attachment `attachment_id`.
    pub fn new(attachment_id: AttachmentId) -> Self {
        Self { attachment_id }
    }
}

impl JobKind for ScanAttachment {
    const KIND: &'static str = "scan-attachment";
    const MAX_ATTEMPTS: u32 = SCAN_ATTEMPTS;
    fn dedupe_key(&self) -> String {
        format!("{}:{}", Self::KIND, self.attachment_id)
    }
}

/// After an attachment was published or failed, carry that to the letters that use it
/// (`attachment-settled`, payload `{"attachmentId": …}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentSettled {
    /// The attachment that was published or failed.
    pub attachment_id: AttachmentId,
}

impl AttachmentSettled {
    /// The job settling the letters of attachment `attachment_id`.
    pub fn new(attachment_id: AttachmentId) -> Self {
        Self { attachment_id }
    }
}

impl JobKind for AttachmentSettled {
    const KIND: &'static str = "attachment-settled";
    fn dedupe_key(&self) -> String {
        format!("{}:{}", Self::KIND, self.attachment_id)
    }
}

/// Expire an attachment once every live letter using it is past its link's expiration time
/// (`expire-attachment`, payload `{"attachmentId": …}`; reference §4.11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpireAttachment {
    /// The attachment linked with an expiration time.
    pub attachment_id: AttachmentId,
}

impl ExpireAttachment {
    /// The job expiring attachment `attachment_id`.
    pub fn new(attachment_id: AttachmentId) -> Self {
        Self { attachment_id }
    }
}

impl JobKind for ExpireAttachment {
    const KIND: &'static str = "expire-attachment";
    fn dedupe_key(&self) -> String {
        format!("{}:{}", Self::KIND, self.attachment_id)
    }
}

/// Purge the attachments of a purged letter that no other live letter uses
/// (`purge-letter-attachments`; the letter in the row's `correspondence_id` column, payload
/// `null`).
///
/// Legacy: Melding no longer enqueues it, since purging a letter purges those attachments in its
/// own write (reference §4.9). It stays registered, typed, only so that rows enqueued by an
/// older version still run; after such a purge it finds nothing left to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PurgeLetterAttachments {
    /// The purged letter.
    pub correspondence_id: CorrespondenceId,
}

impl JobKind for PurgeLetterAttachments {
    const KIND: &'static str = "purge-letter-attachments";
    const LETTER_IN_COLUMN: bool = true;
    fn dedupe_key(&self) -> String {
        format!("{}:{}", Self::KIND, self.correspondence_id)
    }
}

/// Delete an attachment's bytes from blob storage (`delete-blob`, payload `{"key": …}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteBlob {
    /// The blob storage key of the file.
    pub key: String,
}

impl DeleteBlob {
    /// The job deleting the file at `key`.
    pub fn new(key: &str) -> Self {
        Self {
            key: key.to_owned(),
        }
    }
}

impl JobKind for DeleteBlob {
    const KIND: &'static str = "delete-blob";
    fn dedupe_key(&self) -> String {
        format!("{}:{}", Self::KIND, self.key)
    }
}

/// The attachment jobs' handlers, for the runner.
pub(crate) fn attachment_handlers(melding: &Melding) -> Vec<JobHandler> {
    vec![
        JobHandler::new::<ScanAttachment>(melding.clone()),
        JobHandler::new::<AttachmentSettled>(melding.clone()),
        JobHandler::new::<ExpireAttachment>(melding.clone()),
        JobHandler::new::<PurgeLetterAttachments>(melding.clone()),
        JobHandler::new::<DeleteBlob>(melding.clone()),
    ]
}

#[async_trait]
impl Handle<ScanAttachment> for Melding {
    async fn run(&self, job: ScanAttachment, ctx: &JobContext) -> anyhow::Result<Outcome> {
        self.run_scan(job.attachment_id, ctx.is_last_attempt())
            .await?;
        Ok(Outcome::Done)
    }
}

#[async_trait]
impl Handle<AttachmentSettled> for Melding {
    async fn run(&self, job: AttachmentSettled, _ctx: &JobContext) -> anyhow::Result<Outcome> {
        self.run_settled(job.attachment_id).await?;
        Ok(Outcome::Done)
    }
}

#[async_trait]
impl Handle<ExpireAttachment> for Melding {
    async fn run(&self, job: ExpireAttachment, _ctx: &JobContext) -> anyhow::Result<Outcome> {
        Ok(match self.run_expire(job.attachment_id).await? {
            Some(at) => Outcome::RunAgainAt(at),
            None => Outcome::Done,
        })
    }
}

#[async_trait]
impl Handle<PurgeLetterAttachments> for Melding {
    async fn run(&self, job: PurgeLetterAttachments, _ctx: &JobContext) -> anyhow::Result<Outcome> {
        self.run_purge_with_letter(job.correspondence_id).await?;
        Ok(Outcome::Done)
    }
}

#[async_trait]
impl Handle<DeleteBlob> for Melding {
    async fn run(&self, job: DeleteBlob, _ctx: &JobContext) -> anyhow::Result<Outcome> {
        self.run_delete_blob(&job.key).await?;
        Ok(Outcome::Done)
    }
}

#[cfg(test)]
mod tests {
    //! The rows each kind writes, exactly as Melding has always stored them, and rows written by
    //! earlier versions read back.

    use chrono::{DateTime, TimeZone, Utc};
    use melding_store::{Job, NewJob};
    use serde_json::json;

    use super::*;
    use crate::publish::Publish;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 2, 2, 8, 0, 0).unwrap()
    }

    const ATTACHMENT: &str = "0194c2a0-5c00-7000-8000-000000000001";
    const LETTER: &str = "0194c2a0-5c00-7000-8000-000000000002";

    fn row(
        kind: &str,
        key: String,
        letter: Option<&str>,
        max_attempts: u32,
        payload: serde_json::Value,
    ) -> NewJob {
        NewJob {
            kind: kind.into(),
            dedupe_key: key,
            correspondence_id: letter.map(|l| l.parse().unwrap()),
            run_at: t0(),
            max_attempts,
            payload,
        }
    }

    /// The row as a store hands it back to the runner.
    fn claimed(new: &NewJob) -> Job {
        Job {
            id: 1,
            kind: new.kind.clone(),
            dedupe_key: new.dedupe_key.clone(),
            correspondence_id: new.correspondence_id,
            run_at: new.run_at,
            attempts: 1,
            max_attempts: new.max_attempts,
            payload: new.payload.clone(),
            last_error: None,
        }
    }

    /// `job` enqueues exactly `stored`, and `stored` reads back as `job`.
    fn stored_as<J: JobKind + PartialEq + std::fmt::Debug>(job: J, stored: NewJob) {
        assert_eq!(job.due_at(t0()), stored);
        assert_eq!(J::from_job(&claimed(&stored)).unwrap(), job);
    }

    #[test]
    fn every_kind_keeps_its_stored_shape() {
        let a: AttachmentId = ATTACHMENT.parse().unwrap();
        let c: CorrespondenceId = LETTER.parse().unwrap();
        let attachment = || json!({ "attachmentId": ATTACHMENT });
        stored_as(
            ScanAttachment { attachment_id: a },
            row(
                "scan-attachment",
                format!("scan-attachment:{ATTACHMENT}"),
                None,
                16,
                attachment(),
            ),
        );
        stored_as(
            AttachmentSettled { attachment_id: a },
            row(
                "attachment-settled",
                format!("attachment-settled:{ATTACHMENT}"),
                None,
                10,
                attachment(),
            ),
        );
        stored_as(
            ExpireAttachment { attachment_id: a },
            row(
                "expire-attachment",
                format!("expire-attachment:{ATTACHMENT}"),
                None,
                10,
                attachment(),
            ),
        );
        stored_as(
            PurgeLetterAttachments {
                correspondence_id: c,
            },
            row(
                "purge-letter-attachments",
                format!("purge-letter-attachments:{LETTER}"),
                Some(LETTER),
                10,
                serde_json::Value::Null,
            ),
        );
        stored_as(
            DeleteBlob {
                key: "attachments/abc".into(),
            },
            row(
                "delete-blob",
                "delete-blob:attachments/abc".into(),
                None,
                10,
                json!({ "key": "attachments/abc" }),
            ),
        );
        stored_as(
            Publish {
                correspondence_id: c,
            },
            row(
                "publish",
                format!("publish:{LETTER}"),
                Some(LETTER),
                10,
                serde_json::Value::Null,
            ),
        );
    }
}
