//! Forwarding events (reference §4.12): one row per letter and address, written with the job
//! that sends the composed e-mail, and marked sent with the letter's Forwarded status in one
//! write.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use melding_domain::forwarding::{ForwardingEvent, ForwardingLink};
use melding_domain::{CorrespondenceId, ForwardingEventId, StatusEntry};

use crate::{NewJob, StoreError};

/// Forwarding events. Every method answers [`StoreError::Unavailable`] when the database fails
/// and [`StoreError::Corrupt`] when a stored row no longer parses.
#[async_trait]
pub trait ForwardingStore: Send + Sync {
    /// Stores `event` and its `jobs` in one transaction. The letter and the event's address
    /// key ([`ForwardingEvent::address_key`]) are unique together, checked by the database, so
    /// of two concurrent forwards to one address one is written: the other is
    /// [`StoreError::Conflict`] and nothing of it is written. An unknown letter is
    /// [`StoreError::NotFound`].
    async fn insert_forwarding_event(
        &self,
        event: &ForwardingEvent,
        jobs: &[NewJob],
    ) -> Result<(), StoreError>;

    /// One event, if it exists.
    async fn forwarding_event(
        &self,
        id: ForwardingEventId,
    ) -> Result<Option<ForwardingEvent>, StoreError>;

    /// The events of a letter, oldest first (ties by id).
    async fn forwarding_events(
        &self,
        letter: CorrespondenceId,
    ) -> Result<Vec<ForwardingEvent>, StoreError>;

    /// Records that the event's e-mail was accepted at `sent` (UTC) and appends `entry` (the
    /// letter's Forwarded status) in one transaction, only if the event was not marked sent
    /// before. Returns whether it was written (false: marked before, so a repeated job appends
    /// nothing). An unknown event is [`StoreError::NotFound`].
    async fn mark_forwarding_sent(
        &self,
        id: ForwardingEventId,
        sent: DateTime<Utc>,
        entry: &StatusEntry,
    ) -> Result<bool, StoreError>;

    /// Stores the download links of one forwarded e-mail, all in one transaction. A token hash
    /// that is already stored is [`StoreError::Conflict`] and nothing is written (tokens are
    /// random, so this means a repeated insert); an unknown event or letter is
    /// [`StoreError::NotFound`].
    async fn insert_forwarding_links(&self, links: &[ForwardingLink]) -> Result<(), StoreError>;

    /// The link whose token hashes to `token_hash` (64 lower-case hex digits), if any, expired
    /// or not.
    async fn forwarding_link(&self, token_hash: &str)
    -> Result<Option<ForwardingLink>, StoreError>;
}
