//! A letter's status history and the rules of its lifecycle (reference §6).
//!
//! Statuses are an append-only log. The "current" status is the entry with the highest enum
//! value, ignoring Fetched (Altinn's rule, kept for compatibility). Every recipient or sender
//! action asks this module first whether it is allowed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The statuses of a correspondence with Altinn's names and numbers (reference §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[repr(u8)]
pub enum CorrespondenceStatus {
    /// Created; waiting for its attachments.
    Initialized = 0,
    /// Its attachments are published; waiting for the publish time.
    ReadyForPublish = 1,
    /// Visible to the recipient.
    Published = 2,
    /// Opened by the recipient (logged apart: it never becomes the current status).
    Fetched = 3,
    /// The content was read.
    Read = 4,
    /// The recipient answered.
    Replied = 5,
    /// The recipient confirmed it.
    Confirmed = 6,
    /// Deleted by the recipient.
    PurgedByRecipient = 7,
    /// Deleted by the service (the sender before publishing, or retention).
    PurgedByAltinn = 8,
    /// Archived by the recipient.
    Archived = 9,
    /// The recipient is reserved against digital post (KRR); the publish job fails it.
    Reserved = 10,
    /// Could not be published.
    Failed = 11,
    /// The recipient downloaded all attachments at once.
    AttachmentsDownloaded = 12,
    /// The recipient forwarded it.
    Forwarded = 13,
}

impl CorrespondenceStatus {
    /// Every status, in number order.
    pub const ALL: [CorrespondenceStatus; 14] = [
        Self::Initialized,
        Self::ReadyForPublish,
        Self::Published,
        Self::Fetched,
        Self::Read,
        Self::Replied,
        Self::Confirmed,
        Self::PurgedByRecipient,
        Self::PurgedByAltinn,
        Self::Archived,
        Self::Reserved,
        Self::Failed,
        Self::AttachmentsDownloaded,
        Self::Forwarded,
    ];

    /// Altinn's number for the status (0–13).
    pub fn value(self) -> i32 {
        self as i32
    }

    /// The status with Altinn's number `v`; `None` for a number Altinn does not use.
    pub fn from_value(v: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|s| i64::from(s.value()) == v)
    }

    /// Altinn's name for the status, e.g. `ReadyForPublish`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Initialized => "Initialized",
            Self::ReadyForPublish => "ReadyForPublish",
            Self::Published => "Published",
            Self::Fetched => "Fetched",
            Self::Read => "Read",
            Self::Replied => "Replied",
            Self::Confirmed => "Confirmed",
            Self::PurgedByRecipient => "PurgedByRecipient",
            Self::PurgedByAltinn => "PurgedByAltinn",
            Self::Archived => "Archived",
            Self::Reserved => "Reserved",
            Self::Failed => "Failed",
            Self::AttachmentsDownloaded => "AttachmentsDownloaded",
            Self::Forwarded => "Forwarded",
        }
    }

    /// Parses a name (any case) or a number, as Altinn's enum binding does.
    pub fn parse(s: &str) -> Option<Self> {
        if let Ok(n) = s.trim().parse::<i64>() {
            return Self::from_value(n);
        }
        Self::ALL
            .into_iter()
            .find(|st| st.name().eq_ignore_ascii_case(s.trim()))
    }

    /// PurgedByRecipient or PurgedByAltinn: the letter is deleted.
    pub fn is_purge(self) -> bool {
        matches!(self, Self::PurgedByRecipient | Self::PurgedByAltinn)
    }

    /// Statuses under which a recipient may see the letter at all.
    pub fn is_recipient_visible(self) -> bool {
        matches!(
            self,
            Self::Published
                | Self::Fetched
                | Self::Read
                | Self::Replied
                | Self::Confirmed
                | Self::Archived
                | Self::Reserved
                | Self::AttachmentsDownloaded
                | Self::Forwarded
        )
    }

    /// Statuses a caller without recipient access sees in the history.
    pub fn is_sender_visible(self) -> bool {
        !matches!(
            self,
            Self::PurgedByRecipient | Self::PurgedByAltinn | Self::Archived
        )
    }

    /// Statuses a letter holds before it has been published.
    pub fn is_before_publish(self) -> bool {
        matches!(self, Self::Initialized | Self::ReadyForPublish)
    }
}

/// One entry in the history: what happened, when, and on whose behalf (a party URN).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusEntry {
    /// The status reached.
    pub status: CorrespondenceStatus,
    /// The `statusText` shown: the status's name unless a reason was given.
    pub text: String,
    /// When it was reached (UTC).
    pub at: DateTime<Utc>,
    /// The party URN that acted, when a recipient did.
    pub party: Option<String>,
}

impl StatusEntry {
    /// An entry whose text is the status's name.
    pub fn new(status: CorrespondenceStatus, at: DateTime<Utc>, party: Option<String>) -> Self {
        Self {
            status,
            text: status.name().to_owned(),
            at,
            party,
        }
    }

    /// The same entry with `text` as its `statusText`.
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text = text.into();
        self
    }
}

/// A rule of the lifecycle that refused an action. Each maps to one documented error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    /// 1001: not found, not visible in its current state, or purged.
    #[error("The requested correspondence was not found")]
    NotVisible,
    /// 1013
    #[error("The sender cannot delete a correspondence that has been published")]
    SenderPurgeAfterPublish,
    /// 1014
    #[error("The correspondence has already been purged")]
    AlreadyPurged,
    /// 1024
    #[error("The correspondence must be fetched before it can be read")]
    ReadBeforeFetched,
    /// 1025
    #[error("The correspondence must be fetched before it can be confirmed")]
    ConfirmBeforeFetched,
    /// 1026
    #[error(
        "Cannot archive or delete a correspondence that has not been confirmed when confirmation is required"
    )]
    PurgeBeforeConfirmed,
    /// 1040
    #[error("The correspondence has already been marked as read")]
    AlreadyRead,
    /// 1041
    #[error("The correspondence has already been confirmed")]
    AlreadyConfirmed,
}

/// What the publish job should do with a letter when it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishDecision {
    /// Append Published now.
    Publish,
    /// The requested time has not come; run again then.
    NotYet(DateTime<Utc>),
    /// Already published, failed or purged: nothing to do (the job may be a repeat).
    Nothing,
    /// Mark the letter Failed with this reason.
    Fail(String),
}

/// The append-only status log of one correspondence, Fetched entries included.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusHistory {
    entries: Vec<StatusEntry>,
}

impl StatusHistory {
    /// Builds the history from entries in the order they were written.
    pub fn new(entries: Vec<StatusEntry>) -> Self {
        Self { entries }
    }

    /// Every entry, in the order written.
    pub fn entries(&self) -> &[StatusEntry] {
        &self.entries
    }

    /// Appends an entry.
    pub fn push(&mut self, entry: StatusEntry) {
        self.entries.push(entry);
    }

    /// The highest status by enum value, ignoring Fetched; ties go to the first written.
    pub fn current(&self) -> Option<&StatusEntry> {
        self.entries
            .iter()
            .filter(|e| e.status != CorrespondenceStatus::Fetched)
            .fold(None, |best: Option<&StatusEntry>, e| match best {
                Some(b) if b.status >= e.status => Some(b),
                _ => Some(e),
            })
    }

    /// The most recently written status, ignoring Fetched.
    pub fn latest(&self) -> Option<&StatusEntry> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.status != CorrespondenceStatus::Fetched)
    }

    /// Whether the letter ever reached `status`.
    pub fn has_been(&self, status: CorrespondenceStatus) -> bool {
        self.entries.iter().any(|e| e.status == status)
    }

    /// The first entry with `status`, in write order.
    pub fn first(&self, status: CorrespondenceStatus) -> Option<&StatusEntry> {
        self.entries.iter().find(|e| e.status == status)
    }

    /// Whether the letter has been purged by anyone.
    pub fn is_purged(&self) -> bool {
        self.entries.iter().any(|e| e.status.is_purge())
    }

    /// Whether a recipient may see the letter now.
    pub fn is_recipient_visible(&self) -> bool {
        !self.is_purged()
            && self
                .current()
                .is_some_and(|c| c.status.is_recipient_visible())
    }

    /// The history ordered by time (stable, so equal times keep write order).
    pub fn chronological(&self) -> Vec<&StatusEntry> {
        let mut v: Vec<&StatusEntry> = self.entries.iter().collect();
        v.sort_by_key(|e| e.at);
        v
    }

    /// A recipient opening the letter (overview, details, content).
    pub fn check_recipient_fetch(&self) -> Result<(), LifecycleError> {
        if self.is_recipient_visible() {
            Ok(())
        } else {
            Err(LifecycleError::NotVisible)
        }
    }

    /// A recipient marking the letter as read: it must be visible (1001), fetched (1024) and
    /// not read already (1040).
    pub fn check_mark_as_read(&self) -> Result<(), LifecycleError> {
        self.check_recipient_fetch()?;
        if !self.has_been(CorrespondenceStatus::Fetched) {
            return Err(LifecycleError::ReadBeforeFetched);
        }
        if self.has_been(CorrespondenceStatus::Read) {
            return Err(LifecycleError::AlreadyRead);
        }
        Ok(())
    }

    /// A recipient confirming the letter: it must be visible (1001), fetched (1025; Read is
    /// not required) and not confirmed already (1041).
    pub fn check_confirm(&self) -> Result<(), LifecycleError> {
        self.check_recipient_fetch()?;
        if !self.has_been(CorrespondenceStatus::Fetched) {
            return Err(LifecycleError::ConfirmBeforeFetched);
        }
        if self.has_been(CorrespondenceStatus::Confirmed) {
            return Err(LifecycleError::AlreadyConfirmed);
        }
        Ok(())
    }

    /// A recipient purging the letter: not purged already (1014), visible (1001), and
    /// confirmed first when confirmation is needed (1026).
    pub fn check_recipient_purge(&self, confirmation_needed: bool) -> Result<(), LifecycleError> {
        if self.is_purged() {
            return Err(LifecycleError::AlreadyPurged);
        }
        self.check_recipient_fetch()?;
        if confirmation_needed && !self.has_been(CorrespondenceStatus::Confirmed) {
            return Err(LifecycleError::PurgeBeforeConfirmed);
        }
        Ok(())
    }

    /// A sender may withdraw a letter only before it is published (or after it failed).
    pub fn check_sender_purge(&self) -> Result<(), LifecycleError> {
        if self.is_purged() {
            return Err(LifecycleError::AlreadyPurged);
        }
        match self.current().map(|c| c.status) {
            Some(
                CorrespondenceStatus::Initialized
                | CorrespondenceStatus::ReadyForPublish
                | CorrespondenceStatus::Failed,
            ) => Ok(()),
            _ => Err(LifecycleError::SenderPurgeAfterPublish),
        }
    }

    /// What the publish job does at `now` for a letter requested published at `requested`.
    pub fn decide_publish(
        &self,
        requested: DateTime<Utc>,
        now: DateTime<Utc>,
        attachments_ready: bool,
    ) -> PublishDecision {
        use CorrespondenceStatus as S;
        if self.is_purged() || self.has_been(S::Published) || self.has_been(S::Failed) {
            return PublishDecision::Nothing;
        }
        if self.has_been(S::Reserved) {
            return PublishDecision::Fail(
                "Recipient has reserved themselves against public correspondences".into(),
            );
        }
        if !attachments_ready {
            return PublishDecision::Nothing;
        }
        if requested > now {
            return PublishDecision::NotYet(requested);
        }
        PublishDecision::Publish
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CorrespondenceStatus as S;
    use chrono::{Duration, TimeZone};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
    }

    fn history(statuses: &[S]) -> StatusHistory {
        StatusHistory::new(
            statuses
                .iter()
                .enumerate()
                .map(|(i, s)| StatusEntry::new(*s, t0() + Duration::seconds(i as i64), None))
                .collect(),
        )
    }

    #[test]
    fn numeric_values_and_names_match_altinn() {
        let expected = [
            ("Initialized", 0),
            ("ReadyForPublish", 1),
            ("Published", 2),
            ("Fetched", 3),
            ("Read", 4),
            ("Replied", 5),
            ("Confirmed", 6),
            ("PurgedByRecipient", 7),
            ("PurgedByAltinn", 8),
            ("Archived", 9),
            ("Reserved", 10),
            ("Failed", 11),
            ("AttachmentsDownloaded", 12),
            ("Forwarded", 13),
        ];
        for (name, value) in expected {
            let s = S::parse(name).unwrap();
            assert_eq!(s.value(), value);
            assert_eq!(s.name(), name);
            assert_eq!(S::parse(&value.to_string()), Some(s));
            assert_eq!(S::parse(&name.to_lowercase()), Some(s));
        }
        assert_eq!(S::parse("Nonsense"), None);
        assert_eq!(S::parse("14"), None);
    }

    #[test]
    fn current_is_highest_ignoring_fetched() {
        let h = history(&[S::Initialized, S::ReadyForPublish, S::Published, S::Fetched]);
        assert_eq!(h.current().unwrap().status, S::Published);
        let h = history(&[
            S::Published,
            S::Fetched,
            S::Read,
            S::Confirmed,
            S::AttachmentsDownloaded,
        ]);
        assert_eq!(h.current().unwrap().status, S::AttachmentsDownloaded);
        let h = history(&[S::Published, S::Failed, S::Read]);
        assert_eq!(h.current().unwrap().status, S::Failed);
        assert_eq!(h.latest().unwrap().status, S::Read);
        assert!(StatusHistory::default().current().is_none());
    }

    #[test]
    fn current_ties_go_to_the_first_written() {
        let mut h = history(&[S::Published, S::AttachmentsDownloaded]);
        h.push(
            StatusEntry::new(S::AttachmentsDownloaded, t0() + Duration::hours(1), None)
                .with_text("second"),
        );
        assert_eq!(h.current().unwrap().text, "AttachmentsDownloaded");
    }

    #[test]
    fn visibility_to_recipients() {
        assert!(!history(&[S::Initialized]).is_recipient_visible());
        assert!(!history(&[S::Initialized, S::ReadyForPublish]).is_recipient_visible());
        assert!(
            history(&[S::Initialized, S::ReadyForPublish, S::Published]).is_recipient_visible()
        );
        assert!(!history(&[S::Initialized, S::Failed]).is_recipient_visible());
        assert!(history(&[S::Initialized, S::Reserved]).is_recipient_visible());
        assert!(
            !history(&[S::Published, S::AttachmentsDownloaded, S::PurgedByRecipient])
                .is_recipient_visible()
        );
    }

    #[test]
    fn mark_as_read_rules() {
        assert_eq!(
            history(&[S::ReadyForPublish]).check_mark_as_read(),
            Err(LifecycleError::NotVisible)
        );
        assert_eq!(
            history(&[S::Published]).check_mark_as_read(),
            Err(LifecycleError::ReadBeforeFetched)
        );
        assert_eq!(
            history(&[S::Published, S::Fetched]).check_mark_as_read(),
            Ok(())
        );
        assert_eq!(
            history(&[S::Published, S::Fetched, S::Read]).check_mark_as_read(),
            Err(LifecycleError::AlreadyRead)
        );
        assert_eq!(
            history(&[S::Published, S::Fetched, S::PurgedByRecipient]).check_mark_as_read(),
            Err(LifecycleError::NotVisible)
        );
    }

    #[test]
    fn confirm_rules() {
        assert_eq!(
            history(&[S::Published]).check_confirm(),
            Err(LifecycleError::ConfirmBeforeFetched)
        );
        // Confirmation does not require Read.
        assert_eq!(history(&[S::Published, S::Fetched]).check_confirm(), Ok(()));
        assert_eq!(
            history(&[S::Published, S::Fetched, S::Confirmed]).check_confirm(),
            Err(LifecycleError::AlreadyConfirmed)
        );
        assert_eq!(
            history(&[S::Initialized]).check_confirm(),
            Err(LifecycleError::NotVisible)
        );
    }

    #[test]
    fn recipient_purge_rules() {
        let read = history(&[S::Published, S::Fetched, S::Read]);
        assert_eq!(read.check_recipient_purge(false), Ok(()));
        assert_eq!(
            read.check_recipient_purge(true),
            Err(LifecycleError::PurgeBeforeConfirmed)
        );
        let confirmed = history(&[S::Published, S::Fetched, S::Confirmed]);
        assert_eq!(confirmed.check_recipient_purge(true), Ok(()));
        assert_eq!(
            history(&[S::Published, S::PurgedByRecipient]).check_recipient_purge(false),
            Err(LifecycleError::AlreadyPurged)
        );
        assert_eq!(
            history(&[S::ReadyForPublish]).check_recipient_purge(false),
            Err(LifecycleError::NotVisible)
        );
    }

    #[test]
    fn sender_purge_rules() {
        assert_eq!(history(&[S::Initialized]).check_sender_purge(), Ok(()));
        assert_eq!(
            history(&[S::Initialized, S::ReadyForPublish]).check_sender_purge(),
            Ok(())
        );
        assert_eq!(
            history(&[S::Initialized, S::Failed]).check_sender_purge(),
            Ok(())
        );
        assert_eq!(
            history(&[S::ReadyForPublish, S::Published]).check_sender_purge(),
            Err(LifecycleError::SenderPurgeAfterPublish)
        );
        assert_eq!(
            history(&[S::Initialized, S::Reserved]).check_sender_purge(),
            Err(LifecycleError::SenderPurgeAfterPublish)
        );
        assert_eq!(
            history(&[S::Initialized, S::PurgedByAltinn]).check_sender_purge(),
            Err(LifecycleError::AlreadyPurged)
        );
    }

    #[test]
    fn publish_decisions() {
        let ready = history(&[S::Initialized, S::ReadyForPublish]);
        assert_eq!(
            ready.decide_publish(t0() + Duration::hours(1), t0(), true),
            PublishDecision::NotYet(t0() + Duration::hours(1))
        );
        assert_eq!(
            ready.decide_publish(t0(), t0(), true),
            PublishDecision::Publish
        );
        assert_eq!(
            ready.decide_publish(t0() - Duration::days(1), t0(), true),
            PublishDecision::Publish
        );
        assert_eq!(
            ready.decide_publish(t0(), t0(), false),
            PublishDecision::Nothing
        );
        let published = history(&[S::Initialized, S::ReadyForPublish, S::Published]);
        assert_eq!(
            published.decide_publish(t0(), t0(), true),
            PublishDecision::Nothing
        );
        let purged = history(&[S::Initialized, S::ReadyForPublish, S::PurgedByAltinn]);
        assert_eq!(
            purged.decide_publish(t0(), t0(), true),
            PublishDecision::Nothing
        );
        let reserved = history(&[S::Initialized, S::Reserved]);
        assert!(matches!(
            reserved.decide_publish(t0(), t0(), true),
            PublishDecision::Fail(_)
        ));
    }

    #[test]
    fn sender_visible_history_hides_purges_and_archive() {
        let hidden: Vec<S> = S::ALL
            .into_iter()
            .filter(|s| !s.is_sender_visible())
            .collect();
        assert_eq!(
            hidden,
            vec![S::PurgedByRecipient, S::PurgedByAltinn, S::Archived]
        );
    }
}
