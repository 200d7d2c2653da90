//! The delivery chain's receipt trail (`reference/delivery-chain.md` §3.4): append-only
//! [`DeliveryEvent`]s per letter, each written in one transaction with the jobs it causes.

use async_trait::async_trait;
use melding_domain::{CorrespondenceId, DeliveryEvent, ReceiptStatus};

use crate::{NewJob, StoreError};

/// Receipt trails. Every method answers [`StoreError::Unavailable`] when the database fails
/// and [`StoreError::Corrupt`] when a stored row no longer parses.
#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// Appends `event` to the letter's trail, with `jobs`, in one transaction, unless the trail
    /// already holds one of the statuses in `unless` or the letter's Altinn history holds one of
    /// `unless_altinn` (status values, e.g. Read = 3). Returns whether it was written: false
    /// means the guard held and nothing was written, so two racing jobs never both print.
    /// An unknown letter is [`StoreError::NotFound`].
    async fn append_delivery_event(
        &self,
        id: CorrespondenceId,
        event: &DeliveryEvent,
        unless: &[ReceiptStatus],
        unless_altinn: &[i32],
        jobs: &[NewJob],
    ) -> Result<bool, StoreError>;

    /// The letter's trail, oldest first (ties in the order written).
    async fn delivery_events(&self, id: CorrespondenceId)
    -> Result<Vec<DeliveryEvent>, StoreError>;

    /// Deletes the letter's content at the end of its retention period: its title, summary
    /// and body become empty and its property list is emptied, while everything else (its
    /// parties, resource, reference, status history and receipt trail) stays. Returns whether
    /// anything changed (false: erased before). An unknown letter is [`StoreError::NotFound`].
    async fn erase_letter_content(&self, id: CorrespondenceId) -> Result<bool, StoreError>;

    /// The operator queue: letters whose trail holds `TIL_MANUELL_HANDTERING` and not yet
    /// `MANUELT_HANDTERT`, oldest first, with the step that queued them; at most `limit`.
    async fn awaiting_operator(
        &self,
        limit: u32,
    ) -> Result<Vec<(CorrespondenceId, DeliveryEvent)>, StoreError>;

    /// The trails of up to 1,000 letters at once, each oldest first; letters without events
    /// are left out.
    async fn delivery_events_of(
        &self,
        ids: &[CorrespondenceId],
    ) -> Result<Vec<(CorrespondenceId, Vec<DeliveryEvent>)>, StoreError>;
}

/// Groups `(letter, event)` rows, sorted by letter and then by time, into one trail per letter:
/// the shape of [`DeliveryStore::delivery_events_of`], shared by the backends.
///
/// Errors: the first error among `rows`.
pub fn trails_by_letter(
    rows: impl Iterator<Item = Result<(CorrespondenceId, DeliveryEvent), StoreError>>,
) -> Result<Vec<(CorrespondenceId, Vec<DeliveryEvent>)>, StoreError> {
    let mut trails: Vec<(CorrespondenceId, Vec<DeliveryEvent>)> = Vec::new();
    for row in rows {
        let (id, event) = row?;
        match trails.last_mut() {
            Some((last, events)) if *last == id => events.push(event),
            _ => trails.push((id, vec![event])),
        }
    }
    Ok(trails)
}
