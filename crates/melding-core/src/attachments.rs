//! Attachments (reference §4.10, §4.11, §4.14, §5.5, §7): a sender initializes an attachment,
//! uploads its bytes once, and links it to letters; recipients download it from a letter.
//!
//! Bytes are written to blob storage before the row that makes them visible. An upload moves
//! the attachment to UploadProcessing; its scan job then publishes it (a clean scan, or no
//! scanner configured) or fails it (malware). Checksum and storage errors fail it at once.
//! Every consequence for letters — publishing when their last attachment is ready, failing
//! when one is infected, expiry and blob deletion — is a job written in the same transaction as
//! the status that causes it; purging a letter purges its unshared attachments in its own write.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use melding_blob::{BlobError, BlobReader, StoredBlob};
use melding_domain::attachment::{
    self, AttachmentLink, AttachmentStatus as A, DataLocationType, StoredFile,
};
use melding_domain::correspondence::Correspondence;
use melding_domain::{
    Attachment, AttachmentId, AttachmentStatusEntry, CorrespondenceId, CorrespondenceStatus, Party,
    ResourceId, StatusEntry,
};
use melding_store::{AppendGuard, AttachmentGuard, AttachmentPurge, NewJob};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::{CoreError, Melding, Principal, Rule};

/// The metadata of one attachment, as a sender gives it.
#[derive(Debug, Clone)]
pub struct AttachmentRequest {
    pub file_name: String,
    pub display_name: Option<String>,
    pub is_encrypted: bool,
    /// Lower-case hex MD5 (the model check has made sure of the shape).
    pub checksum: Option<String>,
    pub senders_reference: String,
    pub expiration_in_days: Option<i32>,
    pub data_location_type: DataLocationType,
}

/// A file part of a multipart letter, already written to blob storage under `key`.
#[derive(Debug, Clone)]
pub struct UploadedPart {
    pub file_name: Option<String>,
    pub key: String,
    /// `None` when the part held no bytes (nothing was stored).
    pub stored: Option<StoredBlob>,
}

/// Bytes to hand to a downloader.
pub struct Download {
    pub attachment: Attachment,
    pub reader: BlobReader,
    pub size: u64,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("attachment", &self.attachment.id)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// Everything needed to stream one letter's attachments as a zip.
#[derive(Debug, Clone)]
pub struct DownloadAll {
    pub title: String,
    /// In the letter's order: file name and stored file.
    pub files: Vec<(String, StoredFile)>,
}

pub(crate) mod kinds {
    pub const SCAN: &str = "scan-attachment";
    pub const SETTLED: &str = "attachment-settled";
    pub const EXPIRE: &str = "expire-attachment";
    pub const PURGE_WITH_LETTER: &str = "purge-letter-attachments";
    pub const DELETE_BLOB: &str = "delete-blob";
}

fn attachment_job(kind: &str, id: AttachmentId, run_at: DateTime<Utc>) -> NewJob {
    NewJob {
        kind: kind.to_owned(),
        dedupe_key: format!("{kind}:{id}"),
        correspondence_id: None,
        run_at,
        max_attempts: 10,
        payload: serde_json::json!({ "attachmentId": id.to_string() }),
    }
}

/// Attempts at scanning one attachment while the scanner cannot give a verdict. With the job
/// runner's back-off (2 s, 4 s, … at most an hour apart, ±25 %) that is about five hours before
/// the attachment is given up as Failed ([`NOT_SCANNED`]); a scanner restart or a short outage
/// goes unnoticed by senders.
pub const SCAN_ATTEMPTS: u32 = 16;

fn scan_job(id: AttachmentId, run_at: DateTime<Utc>) -> NewJob {
    NewJob {
        max_attempts: SCAN_ATTEMPTS,
        ..attachment_job(kinds::SCAN, id, run_at)
    }
}

fn delete_blob_job(key: &str, now: DateTime<Utc>) -> NewJob {
    NewJob {
        kind: kinds::DELETE_BLOB.to_owned(),
        dedupe_key: format!("{}:{key}", kinds::DELETE_BLOB),
        correspondence_id: None,
        run_at: now,
        max_attempts: 10,
        payload: serde_json::json!({ "key": key }),
    }
}

/// What purging a letter does to its attachments (reference §4.9): each one that has not ended
/// is purged, if no other live letter uses it (the store decides), and its bytes deleted.
pub(crate) fn purges_with_letter(
    links: &[AttachmentLink],
    now: DateTime<Utc>,
) -> Vec<AttachmentPurge> {
    links
        .iter()
        .map(|l| &l.attachment)
        .filter(|a| !a.has_been(A::Purged) && !a.has_been(A::Expired))
        .map(|a| AttachmentPurge {
            attachment_id: a.id,
            entry: AttachmentStatusEntry::new(A::Purged, now).with_text(PURGED),
            jobs: a
                .file
                .iter()
                .map(|f| delete_blob_job(&f.storage_key, now))
                .collect(),
        })
        .collect()
}

/// A new attachment's row: Initialized, owned by `sender`.
pub(crate) fn new_attachment(
    req: &AttachmentRequest,
    resource_id: &ResourceId,
    sender: &melding_domain::OrgNumber,
    now: DateTime<Utc>,
) -> Attachment {
    Attachment {
        id: AttachmentId::new_v7(now),
        resource_id: resource_id.clone(),
        sender: sender.clone(),
        file_name: req.file_name.clone(),
        display_name: req.display_name.clone(),
        is_encrypted: req.is_encrypted,
        checksum: req.checksum.clone(),
        senders_reference: req.senders_reference.clone(),
        expiration_in_days: req.expiration_in_days,
        data_location_type: req.data_location_type,
        file: None,
        created: now,
        statuses: vec![AttachmentStatusEntry::new(A::Initialized, now)],
        correspondence_ids: vec![],
    }
}

pub(crate) fn stored_file(key: &str, stored: &StoredBlob) -> StoredFile {
    StoredFile {
        storage_key: key.to_owned(),
        size: stored.size,
        checksum: stored.md5.clone(),
        crc32: stored.crc32,
    }
}

/// Altinn's text when an attachment is purged.
const PURGED: &str = "Attachment has been purged";

/// Altinn's text when an attachment is published without a scan.
pub const BYPASSED_SCAN: &str = "Bypassed malware scan";
/// Altinn's text for a malware finding (`Malware scan failed: <scan result type>`).
pub const MALWARE_FOUND: &str = "Malware scan failed: Malicious";
/// The text when the scanner gave no verdict in [`SCAN_ATTEMPTS`] attempts (scanner down or
/// failing): Altinn's `Malware scan failed: <scan result type>` with Defender's result type for
/// a file it did not scan (reference §4.16, §7).
pub const NOT_SCANNED: &str = "Malware scan failed: Not scanned";

impl Melding {
    pub(crate) fn check_expiration(&self, req: &AttachmentRequest) -> Result<(), Rule> {
        match req.expiration_in_days {
            Some(d) if d < self.min_expiration_days => {
                Err(Rule::ExpirationTooShort(self.min_expiration_days))
            }
            _ => Ok(()),
        }
    }

    /// The status that follows a finished upload and the job it causes, on every upload path:
    /// UploadProcessing, and the scan job, which publishes the attachment after a clean scan, or
    /// without one when no scanner is configured (reference §4.14, §7).
    pub(crate) fn after_upload(
        &self,
        id: AttachmentId,
        now: DateTime<Utc>,
    ) -> (AttachmentStatusEntry, Vec<NewJob>) {
        let text = if self.scanner.is_some() {
            "Uploaded; waiting for the malware scan"
        } else {
            "Uploaded; to be published without a malware scan"
        };
        (
            AttachmentStatusEntry::new(A::UploadProcessing, now).with_text(text),
            vec![scan_job(id, now)],
        )
    }

    /// `POST /attachment`: a shared attachment, Initialized, waiting for its upload.
    #[tracing::instrument(skip_all, fields(resource_id = %resource_id))]
    pub async fn initialize_attachment(
        &self,
        principal: &Principal,
        resource_id: &ResourceId,
        req: AttachmentRequest,
    ) -> Result<AttachmentId, CoreError> {
        let resource = self
            .store
            .resource(resource_id.as_str())
            .await?
            .ok_or(Rule::ResourceNotFound)?;
        let sender = match &principal.party {
            Party::Organization(org) if *org == resource.owner => org.clone(),
            _ => return Err(Rule::NoAccess.into()),
        };
        if !resource.resource_type.allows_attachment() {
            return Err(Rule::ResourceTypeNotForAttachment.into());
        }
        attachment::check_file_name(&req.file_name).map_err(Rule::from)?;
        self.check_expiration(&req)?;
        let a = new_attachment(&req, resource_id, &sender, self.clock.now());
        self.store.insert_attachment(&a, &[]).await?;
        tracing::info!(attachment_id = %a.id, "attachment initialized");
        Ok(a.id)
    }

    /// Loads an attachment for its sender: 2001 when missing, 4001 for anyone else.
    async fn attachment_for_sender(
        &self,
        principal: &Principal,
        id: AttachmentId,
    ) -> Result<Attachment, CoreError> {
        let a = self
            .store
            .attachment(id)
            .await?
            .ok_or(Rule::AttachmentNotFound)?;
        match &principal.party {
            Party::Organization(org) if *org == a.sender => Ok(a),
            _ => Err(Rule::NoAccess.into()),
        }
    }

    /// `GET /attachment/{id}` and `/details`.
    pub async fn attachment_overview(
        &self,
        principal: &Principal,
        id: AttachmentId,
    ) -> Result<Attachment, CoreError> {
        self.attachment_for_sender(principal, id).await
    }

    /// `POST /attachment/{id}/upload`: streams `bytes` into storage once. `declared_length` is
    /// the request's `Content-Length`, when it had one.
    #[tracing::instrument(skip_all, fields(attachment_id = %id))]
    pub async fn upload_attachment(
        &self,
        principal: &Principal,
        id: AttachmentId,
        declared_length: Option<u64>,
        bytes: &mut (dyn AsyncRead + Send + Unpin),
    ) -> Result<Attachment, CoreError> {
        let a = self.attachment_for_sender(principal, id).await?;
        if matches!(declared_length, Some(0))
            || declared_length.is_some_and(|n| attachment::MAX_STREAM_UPLOAD.is_exceeded_by(n))
        {
            return Err(Rule::FileSize(attachment::MAX_STREAM_UPLOAD).into());
        }
        if a.has_been(A::UploadProcessing) {
            return Err(Rule::AlreadyUploaded.into());
        }
        if !a.correspondence_ids.is_empty() {
            return Err(Rule::UploadToLinkedAttachment.into());
        }
        // An empty body (without a Content-Length saying so) is refused before the one upload
        // attempt starts, so the sender can still send the file.
        let mut first = [0u8; 1];
        let n = bytes.read(&mut first).await.map_err(|e| {
            tracing::warn!(error = %e, "upload failed before its first byte");
            Rule::UploadFailed
        })?;
        if n == 0 {
            return Err(Rule::FileSize(attachment::MAX_STREAM_UPLOAD).into());
        }
        let mut bytes = (&first[..n]).chain(bytes);
        let now = self.clock.now();
        let processing = AttachmentStatusEntry::new(A::UploadProcessing, now);
        let started = self
            .store
            .append_attachment_status(
                id,
                &processing,
                AttachmentGuard::UnlinkedUnlessEver(vec![A::UploadProcessing]),
                None,
                &[],
            )
            .await?;
        if !started {
            // Another request started an upload or linked it in the meantime.
            let again = self.attachment_for_sender(principal, id).await?;
            return Err(if again.has_been(A::UploadProcessing) {
                Rule::AlreadyUploaded
            } else {
                Rule::UploadToLinkedAttachment
            }
            .into());
        }
        let key = id.as_uuid().simple().to_string();
        let put = self
            .blobs
            .put(
                &key,
                &mut bytes,
                attachment::MAX_STREAM_UPLOAD.as_u64(),
                a.checksum.as_deref(),
            )
            .await;
        let now = self.clock.now();
        let stored = match put {
            Ok(stored) => stored,
            Err(e) => {
                let (text, rule) = match &e {
                    BlobError::ChecksumMismatch { .. } => {
                        ("Checksum mismatch", Rule::ChecksumMismatch)
                    }
                    BlobError::Empty => (
                        "File must have content",
                        Rule::FileSize(attachment::MAX_STREAM_UPLOAD),
                    ),
                    BlobError::TooLarge(_) => (
                        "File is too large",
                        Rule::FileSize(attachment::MAX_STREAM_UPLOAD),
                    ),
                    _ => ("Upload failed", Rule::UploadFailed),
                };
                tracing::warn!(error = %e, "upload failed");
                let failed = AttachmentStatusEntry::new(A::Failed, now).with_text(text);
                self.store
                    .append_attachment_status(id, &failed, AttachmentGuard::Always, None, &[])
                    .await?;
                return Err(rule.into());
            }
        };
        let file = stored_file(&key, &stored);
        let (entry, jobs) = self.after_upload(id, now);
        self.store
            .append_attachment_status(id, &entry, AttachmentGuard::Always, Some(&file), &jobs)
            .await?;
        self.waker.wake();
        tracing::info!(size = stored.size, "attachment uploaded");
        self.attachment_for_sender(principal, id).await
    }

    /// `GET /attachment/{id}/download`: the sender's copy, until a letter using it is published.
    pub async fn download_attachment_as_sender(
        &self,
        principal: &Principal,
        id: AttachmentId,
    ) -> Result<Download, CoreError> {
        let a = self.attachment_for_sender(principal, id).await?;
        if a.has_been(A::Purged) {
            return Err(Rule::AttachmentPurgedDownload.into());
        }
        if a.has_been(A::Expired) {
            return Err(Rule::AttachmentExpiredDownload.into());
        }
        for cid in &a.correspondence_ids {
            if let Some(letter) = self.store.correspondence(*cid).await?
                && letter.statuses.has_been(CorrespondenceStatus::Published)
            {
                return Err(Rule::SenderDownloadAfterPublish.into());
            }
        }
        self.open_download(a).await
    }

    async fn open_download(&self, a: Attachment) -> Result<Download, CoreError> {
        let Some(file) = &a.file else {
            return Err(Rule::NoDataLocation.into());
        };
        let (reader, size) = self.open_blob(&file.storage_key).await?;
        Ok(Download {
            attachment: a,
            reader,
            size,
        })
    }

    /// The stored bytes under `key`.
    pub async fn open_blob(&self, key: &str) -> Result<(BlobReader, u64), CoreError> {
        match self.blobs.get(key).await {
            Ok(found) => Ok(found),
            Err(BlobError::NotFound) => Err(Rule::NoDataLocation.into()),
            Err(e) => {
                tracing::error!(error = %e, "blob storage failure");
                Err(Rule::UploadFailed.into())
            }
        }
    }

    /// `DELETE /attachment/{id}`: purges an attachment no letter uses; returns it as it is now.
    #[tracing::instrument(skip_all, fields(attachment_id = %id))]
    pub async fn delete_attachment(
        &self,
        principal: &Principal,
        id: AttachmentId,
    ) -> Result<Attachment, CoreError> {
        let a = self.attachment_for_sender(principal, id).await?;
        if a.has_been(A::Purged) {
            return Err(Rule::AttachmentAlreadyPurged.into());
        }
        if a.has_been(A::Expired) {
            return Err(Rule::AttachmentExpiredPurge.into());
        }
        if !a.correspondence_ids.is_empty() {
            return Err(Rule::AttachmentInUse.into());
        }
        let written = self
            .end_attachment(
                &a,
                A::Purged,
                PURGED,
                AttachmentGuard::UnlinkedUnlessEver(vec![A::Purged, A::Expired]),
            )
            .await?;
        if !written {
            let again = self.attachment_for_sender(principal, id).await?;
            return Err(if again.has_been(A::Purged) {
                Rule::AttachmentAlreadyPurged
            } else if again.has_been(A::Expired) {
                Rule::AttachmentExpiredPurge
            } else {
                Rule::AttachmentInUse
            }
            .into());
        }
        tracing::info!("attachment purged");
        self.attachment_for_sender(principal, id).await
    }

    /// Loads a letter for its recipient and checks it is visible: 1001, 4001.
    async fn letter_for_recipient(
        &self,
        principal: &Principal,
        id: CorrespondenceId,
    ) -> Result<Correspondence, CoreError> {
        let (letter, access) = self.load_for(principal, id).await?;
        if !access.recipient {
            return Err(Rule::NoAccess.into());
        }
        Ok(letter)
    }

    /// `GET /correspondence/{id}/attachment/{aid}/download`: the recipient's download; logs
    /// AttachmentsDownloaded every time.
    #[tracing::instrument(skip_all, fields(correspondence_id = %id, attachment_id = %aid))]
    pub async fn download_letter_attachment(
        &self,
        principal: &Principal,
        id: CorrespondenceId,
        aid: AttachmentId,
    ) -> Result<Download, CoreError> {
        let letter = self.letter_for_recipient(principal, id).await?;
        let links = self.store.attachments_of(id).await?;
        let link = links
            .into_iter()
            .find(|l| l.attachment.id == aid)
            .ok_or(Rule::AttachmentNotFound)?;
        let now = self.clock.now();
        check_downloadable(&link, now)?;
        letter.statuses.check_recipient_fetch()?;
        let download = self.open_download(link.attachment).await?;
        let entry = StatusEntry::new(
            CorrespondenceStatus::AttachmentsDownloaded,
            now,
            Some(principal.party.urn()),
        )
        .with_text(format!("Attachment {aid} has been downloaded"));
        self.store
            .append_status(id, &entry, AppendGuard::Always, &[])
            .await?;
        Ok(download)
    }

    /// `GET /correspondence/{id}/attachments/downloadall`: what the zip holds; logs
    /// AttachmentsDownloaded once.
    #[tracing::instrument(skip_all, fields(correspondence_id = %id))]
    pub async fn download_all(
        &self,
        principal: &Principal,
        id: CorrespondenceId,
    ) -> Result<DownloadAll, CoreError> {
        let letter = self.letter_for_recipient(principal, id).await?;
        let links = self.store.attachments_of(id).await?;
        if links.is_empty() {
            return Err(Rule::AttachmentNotFound.into());
        }
        letter.statuses.check_recipient_fetch()?;
        let now = self.clock.now();
        let mut files = Vec::with_capacity(links.len());
        let mut total: u64 = 0;
        for link in &links {
            check_downloadable(link, now)?;
            let file = link.attachment.file.clone().ok_or(Rule::NoDataLocation)?;
            total = total.saturating_add(file.size);
            files.push((link.attachment.file_name.clone(), file));
        }
        if attachment::MAX_DOWNLOAD_ALL.is_exceeded_by(total) {
            return Err(Rule::DownloadAllTooLarge.into());
        }
        let entry = StatusEntry::new(
            CorrespondenceStatus::AttachmentsDownloaded,
            now,
            Some(principal.party.urn()),
        )
        .with_text("All attachments downloaded");
        self.store
            .append_status(id, &entry, AppendGuard::Always, &[])
            .await?;
        Ok(DownloadAll {
            title: letter.settings.content.title,
            files,
        })
    }

    /// The expiry time of every link to `a`, by letter.
    async fn link_expirations(
        &self,
        a: &Attachment,
    ) -> Result<HashMap<CorrespondenceId, Option<DateTime<Utc>>>, CoreError> {
        let mut out = HashMap::new();
        for cid in &a.correspondence_ids {
            let links = self.store.attachments_of(*cid).await?;
            if let Some(l) = links.iter().find(|l| l.attachment.id == a.id) {
                out.insert(*cid, l.expiration_time);
            }
        }
        Ok(out)
    }

    /// Checks existing attachments named by a new letter (1007, 1017, 1018, 1055 come from
    /// here, in Altinn's order via the caller).
    pub(crate) async fn load_existing(
        &self,
        ids: &[uuid::Uuid],
        sender: &melding_domain::OrgNumber,
    ) -> Result<Vec<Attachment>, CoreError> {
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            let a = self
                .store
                .attachment(AttachmentId::from_uuid(*id))
                .await?
                .ok_or(Rule::ExistingAttachmentNotFound)?;
            if a.sender != *sender {
                return Err(Rule::ExistingAttachmentSender.into());
            }
            found.push(a);
        }
        Ok(found)
    }

    /// 1055: an existing attachment whose links all expire within six hours.
    pub(crate) async fn check_existing_expiry(
        &self,
        existing: &[Attachment],
        now: DateTime<Utc>,
    ) -> Result<(), CoreError> {
        for a in existing {
            let times = self.link_expirations(a).await?;
            if times.is_empty() || times.values().any(Option::is_none) {
                continue;
            }
            let max = times.values().flatten().max().copied();
            if max.is_some_and(|m| m <= now + Duration::hours(6)) {
                return Err(Rule::ExistingAttachmentExpiresSoon.into());
            }
        }
        Ok(())
    }

    /// The expiry job for an attachment linked with an expiration time.
    pub(crate) fn expire_job(id: AttachmentId, at: DateTime<Utc>) -> NewJob {
        attachment_job(kinds::EXPIRE, id, at)
    }

    // ---- jobs ----

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
        let settled = attachment_job(kinds::SETTLED, id, now);
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
                let jobs = [settled, delete_blob_job(&file.storage_key, now)];
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
                let jobs = [settled, delete_blob_job(&file.storage_key, now)];
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
                            &[crate::publish::publish_job(*cid, at)],
                        )
                        .await?;
                }
                A::Failed => {
                    let text = a.current().map(|e| e.text.clone()).unwrap_or_default();
                    let entry =
                        StatusEntry::new(CorrespondenceStatus::Failed, now, None).with_text(text);
                    self.store
                        .append_status(*cid, &entry, AppendGuard::UnlessAny(stop), &[])
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
    async fn end_attachment(
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
            .map(|f| delete_blob_job(&f.storage_key, now))
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

    pub(crate) async fn run_delete_blob(&self, key: &str) -> anyhow::Result<()> {
        self.blobs.delete(key).await?;
        tracing::info!(key, "attachment bytes deleted");
        Ok(())
    }
}

/// 2019/2020: purged or expired attachments (or an expired link) cannot be downloaded.
fn check_downloadable(link: &AttachmentLink, now: DateTime<Utc>) -> Result<(), Rule> {
    if link.attachment.has_been(A::Purged) {
        return Err(Rule::AttachmentPurgedDownload);
    }
    if link.is_expired(now) {
        return Err(Rule::AttachmentExpiredDownload);
    }
    Ok(())
}
