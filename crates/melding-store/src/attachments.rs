//! Attachments, their status logs and their links to letters.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use melding_domain::AttachmentId;
use melding_domain::attachment::{AttachmentLink, AttachmentStatus, StoredFile};
use melding_domain::{Attachment, AttachmentStatusEntry, CorrespondenceId};

use crate::{NewJob, StoreError};

/// A letter's use of an attachment, written with the letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLink {
    /// The letter that uses the attachment; written in the same call.
    pub correspondence_id: CorrespondenceId,
    /// The attachment used: new in the same call or already stored.
    pub attachment_id: AttachmentId,
    /// When the attachment stops being available to this letter (UTC), if ever.
    pub expiration_time: Option<DateTime<Utc>>,
}

/// An attachment to purge together with a letter (reference §4.9: "every attachment of it that
/// is not Purged/Expired and not used by any other non-purged correspondence → Purged"). The
/// store decides inside the purge's transaction whether it applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentPurge {
    /// The attachment to purge if no live letter uses it any more.
    pub attachment_id: AttachmentId,
    /// The Purged entry to append.
    pub entry: AttachmentStatusEntry,
    /// Written only if the attachment is purged (deleting its bytes).
    pub jobs: Vec<NewJob>,
}

/// When an attachment status is written. Guards are evaluated inside the write transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachmentGuard {
    /// Write unconditionally.
    Always,
    /// Only if the log holds none of these statuses.
    UnlessEver(Vec<AttachmentStatus>),
    /// Only if the log holds none of these statuses and no letter uses the attachment.
    UnlinkedUnlessEver(Vec<AttachmentStatus>),
}

/// Attachments: documents a sender uploads once and any number of its letters use (reference
/// §3.3, §4.14, §7), with their append-only status logs.
#[async_trait]
pub trait AttachmentStore: Send + Sync {
    /// Stores a new attachment with its status log (and its file, if already uploaded), and
    /// `jobs`, in one transaction. An id already taken is [`StoreError::Conflict`].
    async fn insert_attachment(
        &self,
        attachment: &Attachment,
        jobs: &[NewJob],
    ) -> Result<(), StoreError>;

    /// The attachment with its status log (in write order) and the letters that use it (by
    /// id), read from one snapshot; `None` when there is no such attachment.
    async fn attachment(&self, id: AttachmentId) -> Result<Option<Attachment>, StoreError>;

    /// The attachments one letter uses, in the order they were linked, each read like
    /// [`Self::attachment`]; empty for a letter without attachments or an unknown letter.
    async fn attachments_of(
        &self,
        correspondence: CorrespondenceId,
    ) -> Result<Vec<AttachmentLink>, StoreError>;

    /// Appends a status if `guard` allows, recording `file` with it when given; returns whether
    /// it was written. Jobs are enqueued only when it was. An unknown attachment is
    /// [`StoreError::NotFound`].
    async fn append_attachment_status(
        &self,
        id: AttachmentId,
        entry: &AttachmentStatusEntry,
        guard: AttachmentGuard,
        file: Option<&StoredFile>,
        jobs: &[NewJob],
    ) -> Result<bool, StoreError>;
}
