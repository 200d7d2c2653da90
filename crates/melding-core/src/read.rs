//! Opening a letter: the overview, the details with the status history, and the plain content.
//! A recipient opening a letter logs Fetched; reading the content logs Read.

use chrono::Duration;
use melding_domain::attachment::AttachmentLink;
use melding_domain::correspondence::Correspondence;
use melding_domain::notification::OrderKind;
use melding_domain::{CorrespondenceStatus, StatusEntry};
use melding_store::AppendGuard;

use crate::access::{LetterAccess, Side};
use crate::{CoreError, Melding, Principal, Rule};

/// A letter as one caller may see it.
#[derive(Debug, Clone)]
pub struct LetterView {
    /// The letter as stored.
    pub letter: Correspondence,
    /// False for a sender once the letter is published: content belongs to the recipient then.
    pub show_content: bool,
    /// The current status (highest, Fetched ignored).
    pub current: StatusEntry,
    /// The history the caller may see, oldest first.
    pub history: Vec<StatusEntry>,
    /// The display name of the sender: the letter's own `messageSender` or the organisation's.
    pub sender_name: Option<String>,
    /// The letter's attachments, when the content is shown.
    pub attachments: Vec<AttachmentLink>,
    /// The letter's notification orders with their notifications, main notices first
    /// (reference §4.3/4.4 `notifications`).
    pub notifications: Vec<crate::notify::OrderView>,
    /// The letter's forwardings, oldest first (the details' `forwardingEvents`, reference
    /// §3.2, §4.12).
    pub forwarding_events: Vec<melding_domain::forwarding::ForwardingEvent>,
}

impl LetterView {
    /// The time of the letter's first Read status (UTC), `None` when it has not been read: the
    /// overview's `read` (reference §4.3).
    pub fn read_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.letter
            .statuses
            .first(CorrespondenceStatus::Read)
            .map(|e| e.at)
    }
}

/// Fetched is logged at most once per party per this window from the overview.
const FETCH_DEDUPE: i64 = 15;

enum Opening {
    Overview,
    Details,
    Content,
}

impl Melding {
    /// `GET /correspondence/{id}`: the letter as the caller may see it; a recipient's opening
    /// logs Fetched (at most once per party per [`FETCH_DEDUPE`] seconds).
    ///
    /// # Errors
    /// [`Rule::NotFound`] (1001) for a purged letter, lifecycle errors when the recipient may
    /// not see it yet (not published), [`CoreError::Store`].
    #[tracing::instrument(skip_all, fields(correspondence_id = %access.id()))]
    pub async fn overview(&self, access: LetterAccess<'_>) -> Result<LetterView, CoreError> {
        self.open(access, Opening::Overview).await
    }

    /// `GET /correspondence/{id}/details`: the overview with the status history the caller may
    /// see; a recipient's opening always logs Fetched.
    ///
    /// # Errors
    /// Lifecycle errors when the recipient may not see it yet, [`CoreError::Store`].
    #[tracing::instrument(skip_all, fields(correspondence_id = %access.id()))]
    pub async fn details(&self, access: LetterAccess<'_>) -> Result<LetterView, CoreError> {
        self.open(access, Opening::Details).await
    }

    /// The recipient's reading of the body; logs Fetched and, the first time, Read.
    ///
    /// # Errors
    /// [`Rule::NoAccess`] (4001) for a caller acting as the sender, lifecycle errors when the
    /// letter is not visible to the recipient, [`CoreError::Store`].
    #[tracing::instrument(skip_all, fields(correspondence_id = %access.id()))]
    pub async fn content(&self, access: LetterAccess<'_>) -> Result<LetterView, CoreError> {
        access.check_recipient_side()?;
        self.open(access, Opening::Content).await
    }

    /// Logs the recipient's opening: Fetched (once per party per [`FETCH_DEDUPE`] seconds from
    /// the overview, always from the details) and, reading the content, Read the first time.
    /// Returns the entries written.
    async fn log_opening(
        &self,
        principal: &Principal,
        letter: &Correspondence,
        how: &Opening,
    ) -> Result<Vec<StatusEntry>, CoreError> {
        let id = letter.id;
        let now = self.clock.now();
        let mut written = Vec::new();
        let entry = StatusEntry::new(
            CorrespondenceStatus::Fetched,
            now,
            Some(principal.party.urn()),
        );
        let guard = match how {
            Opening::Details => AppendGuard::Always,
            _ => AppendGuard::UnlessSameSince(now - Duration::seconds(FETCH_DEDUPE)),
        };
        if self.store.append_status(id, &entry, guard, &[]).await? {
            written.push(entry);
        }
        if matches!(how, Opening::Content) && !letter.statuses.has_been(CorrespondenceStatus::Read)
        {
            let read =
                StatusEntry::new(CorrespondenceStatus::Read, now, Some(principal.party.urn()));
            let guard = AppendGuard::UnlessAny(vec![CorrespondenceStatus::Read]);
            if self.store.append_status(id, &read, guard, &[]).await? {
                written.push(read);
            }
        }
        Ok(written)
    }

    async fn open(&self, access: LetterAccess<'_>, how: Opening) -> Result<LetterView, CoreError> {
        let principal = access.principal();
        let as_recipient = access.side() == Side::Recipient;
        let sees_all_history = access.is_recipient();
        let mut letter = access.into_letter();
        let id = letter.id;
        if matches!(how, Opening::Overview) && letter.statuses.is_purged() {
            return Err(Rule::NotFound.into());
        }
        if as_recipient {
            letter.statuses.check_recipient_fetch()?;
        }
        // Logging Fetched does not change what is shown, so the durable write runs beside the
        // reads the answer needs instead of before them.
        let show_content =
            as_recipient || !letter.statuses.has_been(CorrespondenceStatus::Published);
        let log_opening = async {
            if as_recipient {
                self.log_opening(principal, &letter, &how).await
            } else {
                Ok(Vec::new())
            }
        };
        let attachments = async {
            if show_content {
                self.store.attachments_of(id).await
            } else {
                Ok(Vec::new())
            }
        };
        let sender_name = async {
            match &letter.settings.message_sender {
                Some(name) if !name.is_empty() => Ok(Some(name.clone())),
                _ => self
                    .store
                    .organization(&letter.settings.sender)
                    .await
                    .map(|o| o.map(|o| o.name)),
            }
        };
        // The orders the sender asked for: Melding's own confidential reminder (§8.5) is not
        // one of them, and `melding notifications show` lists it instead.
        let notifications = async {
            self.letter_notifications(id).await.map(|orders| {
                orders
                    .into_iter()
                    .filter(|o| o.record.order.kind != OrderKind::ConfidentialReminder)
                    .collect::<Vec<_>>()
            })
        };
        let forwarding_events = async {
            if matches!(how, Opening::Details) {
                self.store.forwarding_events(id).await
            } else {
                Ok(Vec::new())
            }
        };
        let (logged, attachments, sender_name, notifications, forwarding_events) = tokio::join!(
            log_opening,
            attachments,
            sender_name,
            notifications,
            forwarding_events
        );
        let (logged, attachments, sender_name, notifications, forwarding_events) = (
            logged?,
            attachments?,
            sender_name?,
            notifications?,
            forwarding_events?,
        );
        for entry in logged {
            letter.statuses.push(entry);
        }
        let current = letter.statuses.current().cloned().ok_or_else(|| {
            CoreError::Store(melding_store::StoreError::Corrupt(format!(
                "letter {id} has no status"
            )))
        })?;
        let history = letter
            .statuses
            .chronological()
            .into_iter()
            .filter(|e| sees_all_history || e.status.is_sender_visible())
            .cloned()
            .collect();
        Ok(LetterView {
            letter,
            show_content,
            current,
            history,
            sender_name,
            attachments,
            notifications,
            forwarding_events,
        })
    }
}
