//! The recipient's side of a letter's attachments (reference §4.11, §5.5): download one, or
//! all of them as a zip. Each takes the recipient's handle, [`RecipientAccess`], and logs
//! AttachmentsDownloaded on the letter.

use chrono::{DateTime, Utc};
use melding_domain::attachment::{self, AttachmentLink, AttachmentStatus as A};
use melding_domain::{AttachmentId, CorrespondenceStatus, StatusEntry};
use melding_store::AppendGuard;

use super::{Download, DownloadAll};
use crate::access::RecipientAccess;
use crate::{CoreError, Melding, Rule};

impl Melding {
    /// `GET /correspondence/{id}/attachment/{aid}/download`: the recipient's download of one
    /// attachment of the letter; logs AttachmentsDownloaded every time.
    ///
    /// # Errors
    /// [`Rule::AttachmentNotFound`] (2001) when the letter has no such attachment, 2019/2020
    /// when it is purged or expired, lifecycle errors when the letter is not visible to the
    /// recipient, [`Rule::NoDataLocation`] / [`Rule::UploadFailed`] when its bytes cannot be
    /// read, [`CoreError::Store`].
    #[tracing::instrument(skip_all, fields(correspondence_id = %access.id(), attachment_id = %aid))]
    pub async fn download_letter_attachment(
        &self,
        access: RecipientAccess<'_>,
        aid: AttachmentId,
    ) -> Result<Download, CoreError> {
        let (id, principal) = (access.id(), access.principal());
        let letter = access.into_letter();
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

    /// `GET /correspondence/{id}/attachments/downloadall`: what the zip holds, with the means
    /// to open each file's bytes; logs AttachmentsDownloaded once.
    ///
    /// # Errors
    /// [`Rule::AttachmentNotFound`] (2001) for a letter without attachments, 2019/2020 when one
    /// is purged or expired, [`Rule::DownloadAllTooLarge`] (2023) above
    /// [`attachment::MAX_DOWNLOAD_ALL`] bytes in all, lifecycle errors when the letter is not
    /// visible to the recipient, [`CoreError::Store`].
    #[tracing::instrument(skip_all, fields(correspondence_id = %access.id()))]
    pub async fn download_all(
        &self,
        access: RecipientAccess<'_>,
    ) -> Result<DownloadAll, CoreError> {
        let (id, principal) = (access.id(), access.principal());
        let letter = access.into_letter();
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
            blobs: self.blobs.clone(),
        })
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
