//! Storage traits. Use cases speak to these; each backend crate (`melding-store-sqlite`,
//! `melding-store-postgres`) implements all of them and owns its SQL and migrations.
//!
//! Every write that causes a side effect takes the jobs it causes, so a backend commits the state
//! change and its jobs in one transaction.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod attachments;
mod correspondences;
mod delivery;
mod forwarding;
mod inbox;
mod jobs;
mod notifications;
mod registry;
pub mod sql;

/// serde, for the code [`table_row!`] generates in the backends.
#[doc(hidden)]
pub use serde as __serde;

pub use attachments::{AttachmentGuard, AttachmentPurge, AttachmentStore, NewLink};
pub use correspondences::{
    AppendGuard, CorrespondenceStore, OPENED_OR_GONE, SearchPage, SearchQuery, SearchRole,
    opened_or_gone_sql,
};
pub use delivery::{DeliveryStore, trails_by_letter};
pub use forwarding::ForwardingStore;
pub use inbox::{InboxQuery, InboxStore, WebSession};
pub use jobs::{Job, JobCounts, JobListener, JobStore, NewJob};
pub use notifications::{
    NotificationStore, NotificationUpdate, OrderRecord, ProcessedOrder, UnmatchedReport,
};
pub use registry::{
    ContactChange, ContactOutcome, DelegationChange, KrrContact, MAX_ORG_CONTACTS, OrgContact,
    Organization, OrganizationContacts, Person, PostalAddress, RegistryBatch, RegistryStore,
    Resource, RoleAssignment, SelfIdentifiedUser,
};

/// `letters` in the order of `ids`, each once: what [`CorrespondenceStore::correspondences`]
/// answers, whatever order the database returned the rows in.
pub fn in_order_of(
    ids: &[melding_domain::CorrespondenceId],
    letters: Vec<melding_domain::correspondence::Correspondence>,
) -> Vec<melding_domain::correspondence::Correspondence> {
    let mut by_id: std::collections::HashMap<_, _> =
        letters.into_iter().map(|l| (l.id, l)).collect();
    ids.iter().filter_map(|id| by_id.remove(id)).collect()
}

/// Errors at the storage boundary, classified so callers can answer without knowing the backend.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken (e.g. an idempotency key used twice).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The row asked for does not exist.
    #[error("not found")]
    NotFound,
    /// The database could not be reached or failed; the request may be retried.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Stored data could not be read back into the domain (a bug or a corrupted row), or a value
    /// could not be written (e.g. a size beyond what the column holds).
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

/// Everything a Melding node needs from its database: implemented by every type that implements
/// all the storage traits (blanket impl), so a backend never implements it by hand.
pub trait Store:
    CorrespondenceStore
    + AttachmentStore
    + RegistryStore
    + JobStore
    + NotificationStore
    + ForwardingStore
    + DeliveryStore
    + InboxStore
    + StoreHealth
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: CorrespondenceStore
        + AttachmentStore
        + RegistryStore
        + JobStore
        + NotificationStore
        + ForwardingStore
        + DeliveryStore
        + InboxStore
        + StoreHealth
        + Send
        + Sync
        + 'static
{
}

/// Health of the store, for `/health`.
#[async_trait::async_trait]
pub trait StoreHealth: Send + Sync {
    /// Runs a trivial statement on the database. [`StoreError::Unavailable`] when it cannot be
    /// reached.
    async fn ping(&self) -> Result<(), StoreError>;
}
