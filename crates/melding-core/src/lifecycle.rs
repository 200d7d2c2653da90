//! The recipient's and sender's actions on a letter: mark as read, confirm, purge. Each checks
//! the lifecycle rules, then appends its status under a guard so concurrent repeats append once
//! (and a sender's purge cannot land after a concurrent publish).

use melding_domain::correspondence::ReferenceType;
use melding_domain::status::LifecycleError;
use melding_domain::{CorrespondenceId, CorrespondenceStatus, StatusEntry, StatusHistory};
use melding_jobs::JobKind;
use melding_store::AppendGuard;

use crate::access::{LetterAccess, RecipientAccess, Side};
use crate::attachments::purges_with_letter;
use crate::notify::CancelNotifications;
use crate::{CoreError, Melding, Rule};

impl Melding {
    /// Mark as read: the letter must have been fetched, and is read once. Returns its id.
    ///
    /// # Errors
    /// Lifecycle errors (1024 not fetched, 1040 already read), [`CoreError::Store`].
    #[tracing::instrument(skip_all, fields(correspondence_id = %access.id()))]
    pub async fn mark_as_read(
        &self,
        access: RecipientAccess<'_>,
    ) -> Result<CorrespondenceId, CoreError> {
        self.recipient_action(
            access,
            StatusHistory::check_mark_as_read,
            CorrespondenceStatus::Read,
            LifecycleError::AlreadyRead,
        )
        .await
    }

    /// Confirmation takes effect at once (Altinn confirms asynchronously through Dialogporten).
    /// Returns the letter's id.
    ///
    /// # Errors
    /// Lifecycle errors (1025 not fetched, 1041 already confirmed), [`CoreError::Store`].
    #[tracing::instrument(skip_all, fields(correspondence_id = %access.id()))]
    pub async fn confirm(
        &self,
        access: RecipientAccess<'_>,
    ) -> Result<CorrespondenceId, CoreError> {
        self.recipient_action(
            access,
            StatusHistory::check_confirm,
            CorrespondenceStatus::Confirmed,
            LifecycleError::AlreadyConfirmed,
        )
        .await
    }

    /// A recipient's once-only action: check the rule, then append `status` unless it is there
    /// already (a concurrent repeat gets `already`).
    async fn recipient_action(
        &self,
        access: RecipientAccess<'_>,
        check: fn(&StatusHistory) -> Result<(), LifecycleError>,
        status: CorrespondenceStatus,
        already: LifecycleError,
    ) -> Result<CorrespondenceId, CoreError> {
        let id = access.id();
        check(&access.letter().statuses)?;
        let entry = StatusEntry::new(
            status,
            self.clock.now(),
            Some(access.principal().party.urn()),
        );
        let guard = AppendGuard::UnlessAny(vec![status]);
        if !self.store.append_status(id, &entry, guard, &[]).await? {
            return Err(already.into());
        }
        Ok(id)
    }

    /// Purge by the sender (before publish) or by the recipient (after, honouring confirmation).
    /// Returns the letter's id.
    ///
    /// # Errors
    /// [`Rule::PurgeTransmission`] for a transmission, lifecycle errors (1013 sender after
    /// publish, 1014 confirmation needed, 1026 already purged), [`CoreError::Store`].
    #[tracing::instrument(skip_all, fields(correspondence_id = %access.id()))]
    pub async fn purge(&self, access: LetterAccess<'_>) -> Result<CorrespondenceId, CoreError> {
        let principal = access.principal();
        let as_sender = access.side() == Side::Sender;
        let also_recipient = access.is_recipient();
        let letter = access.into_letter();
        let id = letter.id;
        if letter
            .settings
            .external_references
            .iter()
            .any(|r| r.kind == ReferenceType::DialogportenTransmissionId)
        {
            return Err(Rule::PurgeTransmission.into());
        }
        let checked = if as_sender {
            letter
                .statuses
                .check_sender_purge()
                .map(|()| CorrespondenceStatus::PurgedByAltinn)
                .or_else(|sender_err| {
                    if also_recipient {
                        letter
                            .statuses
                            .check_recipient_purge(letter.settings.is_confirmation_needed)
                            .map(|()| CorrespondenceStatus::PurgedByRecipient)
                            .map_err(|_| sender_err)
                    } else {
                        Err(sender_err)
                    }
                })
        } else {
            letter
                .statuses
                .check_recipient_purge(letter.settings.is_confirmation_needed)
                .map(|()| CorrespondenceStatus::PurgedByRecipient)
        };
        let status = checked?;
        let entry = StatusEntry::new(status, self.clock.now(), Some(principal.party.urn()));
        let mut blocked_by = vec![
            CorrespondenceStatus::PurgedByAltinn,
            CorrespondenceStatus::PurgedByRecipient,
        ];
        let by_sender = status == CorrespondenceStatus::PurgedByAltinn;
        if by_sender {
            // The sender may purge only before publishing (reference §6.2, CORR-01013). The
            // check above read a snapshot; a publish committed since then must still win, so
            // the rule is also part of the guarded write (evaluated under the store's write
            // lock on both backends).
            blocked_by.push(CorrespondenceStatus::Published);
        }
        let guard = AppendGuard::UnlessAny(blocked_by);
        // The letter's attachments that nothing else uses are purged in the same write, so the
        // next read of one says Purged; their bytes are deleted by jobs.
        let attachments = purges_with_letter(&self.store.attachments_of(id).await?, entry.at);
        if !self
            .store
            .purge_correspondence(
                id,
                &entry,
                guard,
                &[CancelNotifications::new(id).due_at(entry.at)],
                &attachments,
            )
            .await?
        {
            // Something committed in between: a purge, or (for the sender) a publish.
            let purged = self
                .store
                .correspondence(id)
                .await?
                .is_none_or(|fresh| fresh.statuses.is_purged());
            return Err(if purged || !by_sender {
                LifecycleError::AlreadyPurged
            } else {
                LifecycleError::SenderPurgeAfterPublish
            }
            .into());
        }
        self.waker.wake();
        tracing::info!(status = status.name(), "purged");
        Ok(id)
    }
}
