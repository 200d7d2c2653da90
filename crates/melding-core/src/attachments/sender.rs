//! The sender's side of an attachment (reference §4.10, §4.11, §4.14): initialize it, upload
//! its bytes once, see it, download it until a letter using it is published, and purge it while
//! no letter uses it. Each takes the sender's handle, [`AttachmentAccess`], except initialize,
//! which decides who may send with the resource itself.
//!
//! Bytes are written to blob storage before the row that makes them visible. An upload moves
//! the attachment to UploadProcessing; its scan job then publishes it or fails it. Checksum and
//! storage errors fail it at once.

use melding_blob::BlobError;
use melding_domain::attachment::{self, AttachmentStatus as A};
use melding_domain::{
    Attachment, AttachmentId, AttachmentStatusEntry, CorrespondenceStatus, ResourceId,
};
use melding_store::AttachmentGuard;
use tokio::io::{AsyncRead, AsyncReadExt};

use super::{AttachmentRequest, Download, PURGED, after_upload, new_attachment, stored_file};
use crate::access::{self, AttachmentAccess};
use crate::{CoreError, Melding, Principal, Rule};

impl Melding {
    /// `POST /attachment`: a shared attachment of `resource_id` (with or without the
    /// `urn:altinn:resource:` prefix), Initialized, waiting for its upload. Returns its id.
    ///
    /// # Errors
    /// [`Rule::ResourceNotFound`] for an unknown resource, [`Rule::NoAccess`] (4001) for anyone
    /// but the resource's owner, [`Rule::ResourceTypeNotForAttachment`] (4009), a bad file name,
    /// [`Rule::ExpirationTooShort`], [`CoreError::Store`].
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
        let access = access::sender_of(principal, resource)?;
        let (sender, resource) = (access.sender(), access.resource());
        if !resource.resource_type.allows_attachment() {
            return Err(Rule::ResourceTypeNotForAttachment.into());
        }
        attachment::check_file_name(&req.file_name).map_err(Rule::from)?;
        self.check_expiration(&req)?;
        let a = new_attachment(&req, resource_id, sender, self.clock.now());
        self.store.insert_attachment(&a, &[]).await?;
        tracing::info!(attachment_id = %a.id, "attachment initialized");
        Ok(a.id)
    }

    /// `GET /attachment/{id}` and `/details`: the attachment as its sender sees it.
    pub fn attachment_overview(&self, access: AttachmentAccess<'_>) -> Attachment {
        access.into_attachment()
    }

    /// `POST /attachment/{id}/upload`: streams `bytes` into storage once. `declared_length` is
    /// the request's `Content-Length` in bytes, when it had one. Returns the attachment as it is
    /// now (UploadProcessing, waiting for its scan job).
    ///
    /// # Errors
    /// [`Rule::FileSize`] for an empty body or one above [`attachment::MAX_STREAM_UPLOAD`]
    /// bytes, [`Rule::AlreadyUploaded`], [`Rule::UploadToLinkedAttachment`],
    /// [`Rule::ChecksumMismatch`], [`Rule::UploadFailed`] when reading the body or blob storage
    /// fails, [`CoreError::Store`].
    #[tracing::instrument(skip_all, fields(attachment_id = %access.id()))]
    pub async fn upload_attachment(
        &self,
        access: AttachmentAccess<'_>,
        declared_length: Option<u64>,
        bytes: &mut (dyn AsyncRead + Send + Unpin),
    ) -> Result<Attachment, CoreError> {
        let (id, principal) = (access.id(), access.principal());
        let a = access.into_attachment();
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
            let again = self
                .attachment_access(principal, id)
                .await?
                .into_attachment();
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
        let (entry, jobs) = after_upload(id, now, self.scanner.is_some());
        self.store
            .append_attachment_status(id, &entry, AttachmentGuard::Always, Some(&file), &jobs)
            .await?;
        // The answer is the attachment as this request left it (UploadProcessing), built here
        // rather than read back: once the runner is woken, its scan job may already have
        // published the file, and the answer would then depend on timing.
        let mut a = a;
        a.statuses.push(processing);
        a.statuses.push(entry);
        a.file = Some(file);
        self.waker.wake();
        tracing::info!(size = stored.size, "attachment uploaded");
        Ok(a)
    }

    /// `GET /attachment/{id}/download`: the sender's copy, until a letter using it is published.
    ///
    /// # Errors
    /// 2019/2020 for a purged or expired attachment, [`Rule::SenderDownloadAfterPublish`]
    /// (2016), [`Rule::NoDataLocation`] before its upload, [`Rule::UploadFailed`] when blob
    /// storage fails, [`CoreError::Store`].
    pub async fn download_attachment_as_sender(
        &self,
        access: AttachmentAccess<'_>,
    ) -> Result<Download, CoreError> {
        let a = access.into_attachment();
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

    /// `DELETE /attachment/{id}`: purges an attachment no letter uses; returns it as it is now.
    ///
    /// # Errors
    /// [`Rule::AttachmentAlreadyPurged`], [`Rule::AttachmentExpiredPurge`],
    /// [`Rule::AttachmentInUse`] (also when a letter linked it in the meantime),
    /// [`CoreError::Store`].
    #[tracing::instrument(skip_all, fields(attachment_id = %access.id()))]
    pub async fn delete_attachment(
        &self,
        access: AttachmentAccess<'_>,
    ) -> Result<Attachment, CoreError> {
        let (id, principal) = (access.id(), access.principal());
        let a = access.into_attachment();
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
            let again = self
                .attachment_access(principal, id)
                .await?
                .into_attachment();
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
        Ok(self
            .attachment_access(principal, id)
            .await?
            .into_attachment())
    }
}
