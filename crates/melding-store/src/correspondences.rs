//! Letters and their status logs.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use melding_domain::Attachment;
use melding_domain::correspondence::Correspondence;
use melding_domain::notification::NotificationOrder;
use melding_domain::{CorrespondenceId, CorrespondenceStatus, StatusEntry};
use uuid::Uuid;

use crate::{AttachmentPurge, NewJob, NewLink, StoreError};

/// When an appended status is actually written. Guards are evaluated inside the write
/// transaction, so two concurrent requests cannot both append a status that may appear once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppendGuard {
    /// Write unconditionally.
    Always,
    /// Only if the log holds none of these statuses.
    UnlessAny(Vec<CorrespondenceStatus>),
    /// Only if the same party has not logged the same status since the given time (used to
    /// de-duplicate Fetched).
    UnlessSameSince(DateTime<Utc>),
}

/// The statuses that keep a letter off the unopened-confidential list
/// ([`CorrespondenceStore::unopened_confidential`]): opened (Fetched, Read), failed or purged.
pub const OPENED_OR_GONE: [CorrespondenceStatus; 5] = [
    CorrespondenceStatus::Fetched,
    CorrespondenceStatus::Read,
    CorrespondenceStatus::Failed,
    CorrespondenceStatus::PurgedByRecipient,
    CorrespondenceStatus::PurgedByAltinn,
];

/// [`OPENED_OR_GONE`] as the stored status numbers for an SQL `IN (…)` list: `3, 4, 11, 7, 8`.
pub fn opened_or_gone_sql() -> String {
    OPENED_OR_GONE
        .iter()
        .map(|s| s.value().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Who is searching, for what, in which role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchRole {
    /// Letters addressed to the party, once published (reference §4.6).
    Recipient,
    /// Letters the party sent, in every state.
    Sender,
    /// Both of the above.
    RecipientAndSender,
}

/// A search for letter ids (`GET /correspondence/api/v1/correspondence`, reference §4.6), with
/// Melding's cursor paging added.
#[derive(Debug, Clone)]
pub struct SearchQuery {
    /// Only letters of this resource.
    pub resource_id: String,
    /// Whose letters: received, sent or both.
    pub role: SearchRole,
    /// The party searched on behalf of, as URN.
    pub party_urn: String,
    /// The party's org number when it is an organisation (matches letters it sent).
    pub sender_org: Option<String>,
    /// Exclusive lower bound on the requested publish time (UTC).
    pub from: Option<DateTime<Utc>>,
    /// Exclusive upper bound on the requested publish time (UTC).
    pub to: Option<DateTime<Utc>>,
    /// "Has ever had this status".
    pub status: Option<CorrespondenceStatus>,
    /// Only letters with exactly this sender's reference.
    pub senders_reference: Option<String>,
    /// At most this many ids on the page.
    pub limit: u32,
    /// Continue after this (requested publish time, id), ordered newest first.
    pub after: Option<(DateTime<Utc>, CorrespondenceId)>,
}

/// One page of a search's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchPage {
    /// The letters found, newest requested publish time first (ties: higher id first).
    pub ids: Vec<CorrespondenceId>,
    /// Where the next page starts, when this one was full.
    pub next: Option<(DateTime<Utc>, CorrespondenceId)>,
}

impl SearchPage {
    /// The page of `rows` (each letter's id and requested publish time in UTC, in the
    /// listing's order) read with a limit of `limit + 1`: the first `limit` ids, and where the
    /// next page starts when the extra row came back.
    pub fn from_rows(mut rows: Vec<(CorrespondenceId, DateTime<Utc>)>, limit: u32) -> Self {
        let full = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next = match (full, rows.last()) {
            (true, Some((id, t))) => Some((*t, *id)),
            _ => None,
        };
        Self {
            ids: rows.into_iter().map(|(id, _)| id).collect(),
            next,
        }
    }
}

/// Letters (correspondences, one per recipient) and their append-only status logs.
#[async_trait]
pub trait CorrespondenceStore: Send + Sync {
    /// Stores the letters of one request and their jobs atomically. An idempotency key that is
    /// already taken is a [`StoreError::Conflict`] and nothing is written.
    async fn insert_correspondences(
        &self,
        letters: &[Correspondence],
        jobs: &[NewJob],
    ) -> Result<(), StoreError> {
        self.insert_letters(letters, &[], &[], jobs).await
    }

    /// Stores the letters of one request, the new attachments they carry, their links to new
    /// and existing attachments, and their jobs, in one transaction. A link to an attachment
    /// that does not exist is [`StoreError::NotFound`]; nothing is written then either.
    async fn insert_letters(
        &self,
        letters: &[Correspondence],
        attachments: &[Attachment],
        links: &[NewLink],
        jobs: &[NewJob],
    ) -> Result<(), StoreError> {
        self.insert_letters_with_orders(letters, attachments, links, &[], jobs)
            .await
    }

    /// As [`Self::insert_letters`], and the letters' notification orders in the same
    /// transaction (reference §8.3: orders are persisted at initialize, sent only once the
    /// letter is published). An order id already taken is [`StoreError::Conflict`].
    async fn insert_letters_with_orders(
        &self,
        letters: &[Correspondence],
        attachments: &[Attachment],
        links: &[NewLink],
        orders: &[NotificationOrder],
        jobs: &[NewJob],
    ) -> Result<(), StoreError>;

    /// The letter with its whole status log (in write order), read in one snapshot; `None` when
    /// there is no such letter.
    async fn correspondence(
        &self,
        id: CorrespondenceId,
    ) -> Result<Option<Correspondence>, StoreError>;

    /// The letters of `ids` that exist, each with its whole status log, in the order of `ids`
    /// (an id given twice is answered once); one statement however many are asked for, so a
    /// list page does not read its letters one round trip at a time.
    async fn correspondences(
        &self,
        ids: &[CorrespondenceId],
    ) -> Result<Vec<Correspondence>, StoreError>;

    /// Appends a status if `guard` allows; returns whether it was written. Jobs are enqueued
    /// only when it was. Appending Published also records the publish time. An unknown letter
    /// is [`StoreError::NotFound`].
    async fn append_status(
        &self,
        id: CorrespondenceId,
        entry: &StatusEntry,
        guard: AppendGuard,
        jobs: &[NewJob],
    ) -> Result<bool, StoreError>;

    /// Appends a purge status (PurgedByAltinn or PurgedByRecipient) like [`Self::append_status`]
    /// and, in the same transaction, purges each of `attachments` whose log holds neither Purged
    /// nor Expired and that no other letter uses unless that letter is purged too, with that
    /// attachment's jobs. So the very next read of a purged attachment says Purged, on every
    /// backend, and two letters sharing an attachment purged at the same time purge it once.
    /// Returns whether the letter's status was written; nothing is written when it was not.
    async fn purge_correspondence(
        &self,
        id: CorrespondenceId,
        entry: &StatusEntry,
        guard: AppendGuard,
        jobs: &[NewJob],
        attachments: &[AttachmentPurge],
    ) -> Result<bool, StoreError>;

    /// The letter created with idempotency key `key`, if any (reference §5.6).
    async fn find_by_idempotent_key(
        &self,
        key: Uuid,
    ) -> Result<Option<CorrespondenceId>, StoreError>;

    /// The ids of the letters `query` finds, one page of at most `query.limit`, read in one
    /// statement.
    async fn search(&self, query: &SearchQuery) -> Result<SearchPage, StoreError>;

    /// The confidential letters to `recipient_urn` that were published at or before
    /// `published_before` (UTC) and never opened: no Fetched or Read in their log, and neither
    /// failed nor purged. Oldest publish time first (ties by id), at most `limit`. What the
    /// confidential-reminder listing shows (reference §4.15, §8.5).
    async fn unopened_confidential(
        &self,
        recipient_urn: &str,
        published_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<CorrespondenceId>, StoreError>;
}
