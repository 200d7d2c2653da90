//! The registries Melding keeps: organisations (with their parent unit), persons (with their
//! KRR reservation), resources (letter types, with their read policy), Enhetsregisteret roles,
//! and delegations of post rights, with a log of every change to them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use melding_domain::authz::{Holdings, Right};
use melding_domain::{NationalId, OrgNumber, Party, ResourceType, SelfIdentified};

use crate::StoreError;

/// A postal address, for print.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PostalAddress {
    /// Street lines, c/o and the like, in order.
    pub lines: Vec<String>,
    pub postal_code: String,
    pub city: String,
    /// ISO 3166 alpha-2; absent means Norway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// A person's entry in the contact and reservation register (KRR).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KrrContact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_updated: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<DateTime<Utc>>,
    /// E.164, e.g. `+4799999999`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile_updated: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile_verified: Option<DateTime<Utc>>,
    /// The chosen digital mailbox provider (`digipost`, `eboks`) and the address there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mailbox_provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mailbox_address: Option<String>,
}

/// A contact an organisation registered itself, optionally only for some resources.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrgContact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    /// Resource ids this contact is for; empty means every resource.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
}

/// At most this many user-registered contacts per organisation.
pub const MAX_ORG_CONTACTS: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub org_number: OrgNumber,
    pub name: String,
    /// The main unit, when this is a sub-unit (underenhet).
    pub parent: Option<OrgNumber>,
    pub address: Option<PostalAddress>,
    /// The official notification addresses (Enhetsregisteret's varslingsadresser).
    pub notification_emails: Vec<String>,
    pub notification_mobiles: Vec<String>,
    /// Up to [`MAX_ORG_CONTACTS`] contacts registered by the organisation.
    pub contacts: Vec<OrgContact>,
}

impl Organization {
    pub fn new(org_number: OrgNumber, name: impl Into<String>) -> Self {
        Self {
            org_number,
            name: name.into(),
            parent: None,
            address: None,
            notification_emails: Vec::new(),
            notification_mobiles: Vec::new(),
            contacts: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub national_id: NationalId,
    pub name: String,
    /// Reserved in KRR against digital post from the public sector.
    pub reserved: bool,
    pub address: Option<PostalAddress>,
    /// Contact details and digital mailbox from KRR, when registered.
    pub krr: Option<KrrContact>,
}

impl Person {
    pub fn new(national_id: NationalId, name: impl Into<String>) -> Self {
        Self {
            national_id,
            name: name.into(),
            reserved: false,
            address: None,
            krr: None,
        }
    }
}

/// A self-identified user in the registry: someone without a national identity number who
/// logs in with an e-mail address (ID-porten) or a legacy Altinn 2 user name, and receives post
/// addressed to that login (reference §5.1, §5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelfIdentifiedUser {
    pub user: SelfIdentified,
    /// The name the user registered, shown as the recipient's name.
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
    /// The rights that grant `read`; empty means the ordinary-post package.
    pub read_policy: Vec<Right>,
    /// The Resource Registry's type; letters need a correspondence service (reference §4.1).
    pub resource_type: ResourceType,
    /// The minimum authentication level (0–4) the resource's policy demands; above 0 a letter
    /// may not allow forwarding (reference §4.1, 1068).
    pub minimum_authentication_level: u8,
}

/// A role a person holds in an organisation, as Enhetsregisteret registers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAssignment {
    pub org: OrgNumber,
    pub person: NationalId,
    /// A code of [`melding_domain::authz::KNOWN_ROLES`].
    pub role: String,
}

/// A grant or revocation of a right, as the log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegationChange {
    pub at: DateTime<Utc>,
    /// Who made the change: a party URN, or `admin:<subject>`.
    pub actor: String,
    pub granted: bool,
    pub org: OrgNumber,
    pub person: NationalId,
    pub right: Right,
}

/// One import, applied all or nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryBatch {
    pub organizations: Vec<Organization>,
    pub persons: Vec<Person>,
    pub resources: Vec<Resource>,
    /// Role assignments to add (an import never removes roles).
    pub roles: Vec<RoleAssignment>,
    pub self_identified_users: Vec<SelfIdentifiedUser>,
}

#[async_trait]
pub trait RegistryStore: Send + Sync {
    /// Inserts or updates every entry in one transaction.
    async fn upsert_registry(&self, batch: &RegistryBatch) -> Result<(), StoreError>;

    async fn resource(&self, id: &str) -> Result<Option<Resource>, StoreError>;

    async fn organization(&self, org: &OrgNumber) -> Result<Option<Organization>, StoreError>;

    async fn person(&self, id: &NationalId) -> Result<Option<Person>, StoreError>;

    /// The parties of `parties` that are not registered (as organisations, persons or
    /// self-identified users), in the input's order.
    async fn unknown_parties(&self, parties: &[Party]) -> Result<Vec<Party>, StoreError>;

    /// The registered self-identified user with this login.
    async fn self_identified_user(
        &self,
        user: &SelfIdentified,
    ) -> Result<Option<SelfIdentifiedUser>, StoreError>;

    /// The persons of `persons` who are registered and reserved against digital post (KRR), in
    /// the input's order; one lookup however many are asked about.
    async fn reserved_persons(&self, persons: &[NationalId])
    -> Result<Vec<NationalId>, StoreError>;

    /// The roles and delegations `person` holds for exactly `org` (not its parent).
    async fn holdings(&self, person: &NationalId, org: &OrgNumber) -> Result<Holdings, StoreError>;

    /// The organisations where `person` holds a role or a delegation, and their sub-units.
    async fn organizations_of(&self, person: &NationalId) -> Result<Vec<OrgNumber>, StoreError>;

    /// Records `change` (a grant or a revocation) and its log entry in one transaction; returns
    /// whether it changed anything (granting a held right or revoking one not held does not, and
    /// is not logged).
    async fn change_delegation(&self, change: &DelegationChange) -> Result<bool, StoreError>;

    /// The Enhetsregisteret roles registered in `org`.
    async fn organization_roles(&self, org: &OrgNumber) -> Result<Vec<RoleAssignment>, StoreError>;

    /// The delegation log of `org`, oldest first.
    async fn delegation_log(&self, org: &OrgNumber) -> Result<Vec<DelegationChange>, StoreError>;
}
