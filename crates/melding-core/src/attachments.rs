//! Attachments (reference §4.10, §4.11, §4.14, §5.5, §7): a sender initializes an attachment,
//! uploads its bytes once, and links it to letters; recipients download it from a letter.
//!
//! Bytes are written to blob storage before the row that makes them visible. An upload moves
//! the attachment to UploadProcessing; its scan job then publishes it (a clean scan, or no
//! scanner configured) or fails it (malware). Checksum and storage errors fail it at once.
//! Every consequence for letters — publishing when their last attachment is ready, failing
//! when one is infected, expiry and blob deletion — is a job written in the same transaction as
//! the status that causes it; purging a letter purges its unshared attachments in its own write.
//!
//! The module is split by who acts: [`sender`] (initialize, upload, see, download, purge),
//! [`recipient`] (download from a letter), [`links`] (attachments as letters use them) and
//! [`jobs`] (what happens after an upload, on expiry and after a purge). Bytes leave blob
//! storage only through a use case that took an access handle.

mod jobs;
mod links;
mod recipient;
mod sender;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use melding_blob::{BlobError, BlobReader, BlobStore, StoredBlob};
use melding_domain::attachment::{AttachmentStatus as A, DataLocationType, StoredFile};
use melding_domain::{Attachment, AttachmentId, AttachmentStatusEntry, ResourceId};
use melding_jobs::JobKind;
use melding_store::NewJob;

use crate::jobs::ScanAttachment;
use crate::{CoreError, Melding, Rule};

pub use jobs::SCAN_ATTEMPTS;
pub(crate) use links::purges_with_letter;

/// The metadata of one attachment, as a sender gives it.
#[derive(Debug, Clone)]
pub struct AttachmentRequest {
    /// The file name, checked against the file-name rules (2010–2013, 2021; reference §5.5).
    pub file_name: String,
    /// A name to show instead of the file name.
    pub display_name: Option<String>,
    /// The sender says the bytes are encrypted; Melding stores and reports the flag only.
    pub is_encrypted: bool,
    /// Lower-case hex MD5 (the model check has made sure of the shape).
    pub checksum: Option<String>,
    /// The sender's own reference for the attachment.
    pub senders_reference: String,
    /// Whole days until the attachment expires; `None` for no expiry. Below the instance's
    /// minimum is 2017 (reference §4.14).
    pub expiration_in_days: Option<i32>,
    /// Where the bytes live (reference §3.3).
    pub data_location_type: DataLocationType,
}

/// A file part of a multipart letter, already written to blob storage under `key`.
#[derive(Debug, Clone)]
pub struct UploadedPart {
    /// The part's file name, matched against the attachment entries' file names (1005).
    pub file_name: Option<String>,
    /// The blob storage key the bytes were written under.
    pub key: String,
    /// `None` when the part held no bytes (nothing was stored).
    pub stored: Option<StoredBlob>,
}

/// Bytes to hand to a downloader.
pub struct Download {
    /// The attachment whose bytes these are.
    pub attachment: Attachment,
    /// The bytes, streamed from blob storage.
    pub reader: BlobReader,
    /// The length of the bytes, in bytes.
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

/// Everything needed to stream one letter's attachments as a zip, for a recipient the
/// download-all use case has authorized: the files' bytes are opened through
/// [`DownloadAll::open_file`] only, never by a storage key the caller chose.
#[derive(Clone)]
pub struct DownloadAll {
    title: String,
    files: Vec<(String, StoredFile)>,
    blobs: Arc<dyn BlobStore>,
}

impl std::fmt::Debug for DownloadAll {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DownloadAll")
            .field("title", &self.title)
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl DownloadAll {
    /// The letter's title, which names the zip file.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// In the letter's order: each attachment's file name and stored file (its size in bytes
    /// and CRC-32, which the zip's headers need up front).
    pub fn files(&self) -> &[(String, StoredFile)] {
        &self.files
    }

    /// The bytes of file `index` of [`DownloadAll::files`].
    ///
    /// # Errors
    /// [`Rule::NoDataLocation`] when there is no such file or its bytes are gone,
    /// [`Rule::UploadFailed`] when blob storage fails.
    pub async fn open_file(&self, index: usize) -> Result<BlobReader, CoreError> {
        let (_, file) = self.files.get(index).ok_or(Rule::NoDataLocation)?;
        let (reader, _) = open_blob(self.blobs.as_ref(), &file.storage_key).await?;
        Ok(reader)
    }

    /// The zip of every file (stored entries, names made unique by [`melding_zip::entry_names`]):
    /// its exact length in bytes, known before the first byte; its file name, from the letter's
    /// title ([`melding_zip::archive_name`]); and its bytes as a stream, each file read from
    /// blob storage when its turn comes. A file that cannot be read ends the stream with an
    /// error, so the answer is cut short rather than ended cleanly.
    pub fn into_zip(
        self,
    ) -> (
        u64,
        String,
        impl melding_zip::Stream<Item = std::io::Result<melding_zip::Bytes>> + Send + 'static,
    ) {
        let names = melding_zip::entry_names(self.files.iter().map(|(n, _)| n.as_str()));
        let entries: Vec<melding_zip::ZipEntry> = names
            .into_iter()
            .zip(&self.files)
            .map(|(name, (_, f))| melding_zip::ZipEntry {
                name,
                size: f.size,
                crc32: f.crc32,
            })
            .collect();
        let length = melding_zip::content_length(&entries);
        let file_name = melding_zip::archive_name(&self.title);
        let all = Arc::new(self);
        let stream = melding_zip::stream_zip(entries, move |i| {
            let all = all.clone();
            async move {
                all.open_file(i)
                    .await
                    .map_err(|e| std::io::Error::other(e.to_string()))
            }
        });
        (length, file_name, stream)
    }
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

/// The status that follows a finished upload and the job it causes, on every upload path:
/// UploadProcessing, and the scan job, which publishes the attachment after a clean scan, or
/// without one when no scanner is configured (reference §4.14, §7).
pub(crate) fn after_upload(
    id: AttachmentId,
    now: DateTime<Utc>,
    scanner_configured: bool,
) -> (AttachmentStatusEntry, Vec<NewJob>) {
    let text = if scanner_configured {
        "Uploaded; waiting for the malware scan"
    } else {
        "Uploaded; to be published without a malware scan"
    };
    (
        AttachmentStatusEntry::new(A::UploadProcessing, now).with_text(text),
        vec![ScanAttachment::new(id).due_at(now)],
    )
}

/// The stored bytes under `key` and their length in bytes.
///
/// # Errors
/// [`Rule::NoDataLocation`] when nothing is stored under `key`, [`Rule::UploadFailed`] when blob
/// storage fails (logged).
pub(crate) async fn open_blob(
    blobs: &dyn BlobStore,
    key: &str,
) -> Result<(BlobReader, u64), CoreError> {
    match blobs.get(key).await {
        Ok(found) => Ok(found),
        Err(BlobError::NotFound) => Err(Rule::NoDataLocation.into()),
        Err(e) => {
            tracing::error!(error = %e, "blob storage failure");
            Err(Rule::UploadFailed.into())
        }
    }
}

impl Melding {
    /// Refuses `expirationInDays` below this instance's minimum ([`Rule::ExpirationTooShort`]).
    pub(crate) fn check_expiration(&self, req: &AttachmentRequest) -> Result<(), Rule> {
        match req.expiration_in_days {
            Some(d) if d < self.min_expiration_days => {
                Err(Rule::ExpirationTooShort(self.min_expiration_days))
            }
            _ => Ok(()),
        }
    }

    /// A download of `a`'s bytes; callers have decided access (sender or recipient handle).
    pub(crate) async fn open_download(&self, a: Attachment) -> Result<Download, CoreError> {
        let Some(file) = &a.file else {
            return Err(Rule::NoDataLocation.into());
        };
        let (reader, size) = open_blob(self.blobs.as_ref(), &file.storage_key).await?;
        Ok(Download {
            attachment: a,
            reader,
            size,
        })
    }
}
