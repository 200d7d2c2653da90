//! Attachments as the letters that use them see them (reference §4.9, §4.10): the checks on
//! existing attachments a new letter names, and what purging a letter does to its attachments.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use melding_domain::attachment::{AttachmentLink, AttachmentStatus as A};
use melding_domain::{Attachment, AttachmentId, AttachmentStatusEntry, CorrespondenceId};
use melding_store::AttachmentPurge;

use super::PURGED;
use melding_jobs::JobKind;

use crate::jobs::DeleteBlob;
use crate::{CoreError, Melding, Rule};

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
                .map(|f| DeleteBlob::new(&f.storage_key).due_at(now))
                .collect(),
        })
        .collect()
}

impl Melding {
    /// The expiry time of every link to `a`, by letter.
    pub(super) async fn link_expirations(
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
}
