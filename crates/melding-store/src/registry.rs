//! The registries Melding keeps: organisations, persons and resources (letter types).

use async_trait::async_trait;
use melding_domain::{NationalId, OrgNumber, Party};

use crate::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub org_number: OrgNumber,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub national_id: NationalId,
    pub name: String,
}

/// A kind of letter a sender may send, owned by one organisation (its service owner).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub id: String,
    pub owner: OrgNumber,
    pub service_owner_code: String,
    pub title: String,
    pub confidential: bool,
}

/// One import, applied all or nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryBatch {
    pub organizations: Vec<Organization>,
    pub persons: Vec<Person>,
    pub resources: Vec<Resource>,
}

#[async_trait]
pub trait RegistryStore: Send + Sync {
    /// Inserts or updates every entry in one transaction.
    async fn upsert_registry(&self, batch: &RegistryBatch) -> Result<(), StoreError>;

    async fn resource(&self, id: &str) -> Result<Option<Resource>, StoreError>;

    async fn organization(&self, org: &OrgNumber) -> Result<Option<Organization>, StoreError>;

    async fn person(&self, id: &NationalId) -> Result<Option<Person>, StoreError>;

    /// The parties of `parties` that are in neither registry.
    async fn unknown_parties(&self, parties: &[Party]) -> Result<Vec<Party>, StoreError>;
}
