//! The attachment jobs (reference §4.14, §7): the scan that publishes or fails an uploaded
//! attachment, settling its letters, expiry, purging with a letter and deleting bytes; and the
//! job rows that enqueue them, written in the same transaction as the status that causes them.
//! Each re-reads the state it acts on, so running one twice changes nothing the second time.
//! `crate::jobs` dispatches them to the runner.

use chrono::{DateTime, Utc};
use melding_domain::attachment::{self, AttachmentStatus as A};
use melding_domain::{
    Attachment, AttachmentId, AttachmentStatusEntry, CorrespondenceId, CorrespondenceStatus,
    StatusEntry,
};
use melding_jobs::JobKind;
use melding_store::{AppendGuard, AttachmentGuard, NewJob};

use super::{BYPASSED_SCAN, MALWARE_FOUND, NOT_SCANNED, PURGED};
use crate::jobs::{AttachmentSettled, DeleteBlob};
use crate::notify::CancelNotifications;
use crate::publish::Publish;
use crate::{CoreError, Melding};

/// Attempts at scanning one attachment while the scanner cannot give a verdict. With the job
/// runner's back-off (2 s, 4 s, … at most an hour apart, ±25 %) that is about five hours before
/// the attachment is given up as Failed ([`NOT_SCANNED`]); a scanner restart or a short outage
/// goes unnoticed by senders.
pub const SCAN_ATTEMPTS: u32 = 16;

impl Melding {
    /// Scans an uploaded attachment, then publishes or fails it. Without a scanner it publishes
    /// it unscanned, as Altinn does for resources on its bypass list ("Bypassed malware scan").
    /// When the scanner gives no verdict the job fails and is retried with back-off, except on
    /// its `last_attempt`: then the attachment is Failed ([`NOT_SCANNED`]), its file deleted,
    /// and its letters fail with it, so nothing waits in UploadProcessing for ever and nothing
    /// unscanned is published.
    pub(crate) async fn run_scan(
        &self,
        id: AttachmentId,
        last_attempt: bool,
    ) -> anyhow::Result<()> {
        let Some(a) = self.store.attachment(id).await? else {
            return Ok(());
        };
        if a.status() != A::UploadProcessing {
            return Ok(());
        }
        let Some(file) = &a.file else {
            return Ok(());
        };
        let now = self.clock.now();
        let guard = AttachmentGuard::UnlessEver(vec![A::Published, A::Failed, A::Purged]);
        let settled = AttachmentSettled::new(id).due_at(now);
        let scanned = match self.scanner.clone() {
            None => None,
            Some(scanner) => {
                let (mut reader, _) = self.blobs.get(&file.storage_key).await.map_err(|e| {
                    anyhow::anyhow!("reading {} for the scan: {e}", file.storage_key)
                })?;
                Some(scanner.scan(&mut reader).await)
            }
        };
        let verdict = match scanned {
            None => None,
            Some(Ok(verdict)) => Some(verdict),
            Some(Err(e)) if last_attempt => {
                let entry = AttachmentStatusEntry::new(A::Failed, now).with_text(NOT_SCANNED);
                let jobs = [settled, DeleteBlob::new(&file.storage_key).due_at(now)];
                self.store
                    .append_attachment_status(id, &entry, guard, None, &jobs)
                    .await?;
                tracing::error!(attachment_id = %id, error = %e, "no malware scan verdict after the last attempt; attachment failed");
                self.waker.wake();
                return Ok(());
            }
            Some(Err(e)) => return Err(e.into()),
        };
        match verdict {
            None => {
                let entry = AttachmentStatusEntry::new(A::Published, now).with_text(BYPASSED_SCAN);
                self.store
                    .append_attachment_status(id, &entry, guard, None, &[settled])
                    .await?;
                tracing::info!(attachment_id = %id, "no scanner configured; attachment published");
            }
            Some(melding_scan::Verdict::Clean) => {
                let entry = AttachmentStatusEntry::new(A::Published, now);
                self.store
                    .append_attachment_status(id, &entry, guard, None, &[settled])
                    .await?;
                tracing::info!(attachment_id = %id, "malware scan clean; attachment published");
            }
            Some(melding_scan::Verdict::Infected(signature)) => {
                let entry = AttachmentStatusEntry::new(A::Failed, now).with_text(MALWARE_FOUND);
                let jobs = [settled, DeleteBlob::new(&file.storage_key).due_at(now)];
                self.store
                    .append_attachment_status(id, &entry, guard, None, &jobs)
                    .await?;
                tracing::warn!(attachment_id = %id, %signature, "malware found; attachment failed");
            }
        }
        self.waker.wake();
        Ok(())
    }

    /// After an attachment was published or failed: letters whose attachments are now all
    /// published become ReadyForPublish (with their publish job); letters using a failed
    /// attachment fail.
    pub(crate) async fn run_settled(&self, id: AttachmentId) -> anyhow::Result<()> {
        let Some(a) = self.store.attachment(id).await? else {
            return Ok(());
        };
        let now = self.clock.now();
        for cid in &a.correspondence_ids {
            let Some(letter) = self.store.correspondence(*cid).await? else {
                continue;
            };
            let s = &letter.statuses;
            let done = s.is_purged()
                || s.has_been(CorrespondenceStatus::Published)
                || s.has_been(CorrespondenceStatus::Failed);
            if done {
                continue;
            }
            let stop = crate::publish::terminal();
            match a.status() {
                A::Published => {
                    if s.has_been(CorrespondenceStatus::ReadyForPublish)
                        || !self.attachments_ready(*cid).await?
                    {
                        continue;
                    }
                    let mut guard = stop.clone();
                    guard.push(CorrespondenceStatus::ReadyForPublish);
                    let entry = StatusEntry::new(CorrespondenceStatus::ReadyForPublish, now, None);
                    let at = letter.settings.requested_publish_time.max(now);
                    self.store
                        .append_status(
                            *cid,
                            &entry,
                            AppendGuard::UnlessAny(guard),
                            &[Publish::new(*cid).due_at(at)],
                        )
                        .await?;
                }
                A::Failed => {
                    let text = a.current().map(|e| e.text.clone()).unwrap_or_default();
                    let entry =
                        StatusEntry::new(CorrespondenceStatus::Failed, now, None).with_text(text);
                    self.store
                        .append_status(
                            *cid,
                            &entry,
                            AppendGuard::UnlessAny(stop),
                            &[CancelNotifications::new(*cid).due_at(now)],
                        )
                        .await?;
                    tracing::warn!(correspondence_id = %cid, "letter failed with its attachment");
                }
                _ => {}
            }
        }
        self.waker.wake();
        Ok(())
    }

    /// Whether every attachment of a letter is Published.
    pub(crate) async fn attachments_ready(&self, id: CorrespondenceId) -> Result<bool, CoreError> {
        Ok(attachment::all_published(
            &self.store.attachments_of(id).await?,
        ))
    }

    /// Expires an attachment once every non-purged letter using it has passed its link's
    /// expiration time; otherwise runs again at the latest of them.
    pub(crate) async fn run_expire(
        &self,
        id: AttachmentId,
    ) -> anyhow::Result<Option<DateTime<Utc>>> {
        let Some(a) = self.store.attachment(id).await? else {
            return Ok(None);
        };
        if a.has_been(A::Purged) || a.has_been(A::Expired) {
            return Ok(None);
        }
        let mut latest: Option<DateTime<Utc>> = None;
        for (cid, time) in self.link_expirations(&a).await? {
            let purged = self
                .store
                .correspondence(cid)
                .await?
                .is_none_or(|l| l.statuses.is_purged());
            if purged {
                continue;
            }
            match time {
                // A letter that keeps the attachment for ever.
                None => return Ok(None),
                Some(t) => latest = Some(latest.map_or(t, |l| l.max(t))),
            }
        }
        let now = self.clock.now();
        match latest {
            Some(t) if t > now => return Ok(Some(t)),
            None => return Ok(None),
            Some(_) => {}
        }
        let written = self
            .end_attachment(
                &a,
                A::Expired,
                "The attachment has expired",
                AttachmentGuard::UnlessEver(vec![A::Purged, A::Expired]),
            )
            .await?;
        if written {
            tracing::info!(attachment_id = %id, "attachment expired");
        }
        Ok(None)
    }

    /// After a letter is purged: its attachments that no other live letter uses are purged and
    /// their bytes deleted. Purging a letter now does this in its own write; the job remains for
    /// jobs queued by earlier versions, and finds nothing left to do after such a purge.
    pub(crate) async fn run_purge_with_letter(&self, id: CorrespondenceId) -> anyhow::Result<()> {
        for link in self.store.attachments_of(id).await? {
            let a = link.attachment;
            if a.has_been(A::Purged) || a.has_been(A::Expired) {
                continue;
            }
            let mut used_elsewhere = false;
            for other in a.correspondence_ids.iter().filter(|c| **c != id) {
                if let Some(l) = self.store.correspondence(*other).await?
                    && !l.statuses.is_purged()
                {
                    used_elsewhere = true;
                    break;
                }
            }
            if used_elsewhere {
                continue;
            }
            self.end_attachment(
                &a,
                A::Purged,
                PURGED,
                AttachmentGuard::UnlessEver(vec![A::Purged, A::Expired]),
            )
            .await?;
        }
        Ok(())
    }

    /// Ends an attachment (Purged or Expired) if `guard` allows, with a job deleting its bytes
    /// in the same write; returns whether it was written.
    pub(super) async fn end_attachment(
        &self,
        a: &Attachment,
        status: A,
        text: &str,
        guard: AttachmentGuard,
    ) -> Result<bool, CoreError> {
        let now = self.clock.now();
        let entry = AttachmentStatusEntry::new(status, now).with_text(text);
        let jobs: Vec<NewJob> = a
            .file
            .iter()
            .map(|f| DeleteBlob::new(&f.storage_key).due_at(now))
            .collect();
        let written = self
            .store
            .append_attachment_status(a.id, &entry, guard, None, &jobs)
            .await?;
        if written {
            self.waker.wake();
        }
        Ok(written)
    }

    /// Deletes the bytes stored under `key`.
    pub(crate) async fn run_delete_blob(&self, key: &str) -> anyhow::Result<()> {
        self.blobs.delete(key).await?;
        tracing::info!(key, "attachment bytes deleted");
        Ok(())
    }
}
