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
    /// The postal code (postnummer), four digits in Norway.
    pub postal_code: String,
    /// The postal town (poststed).
    pub city: String,
    /// ISO 3166 alpha-2; absent means Norway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Folkeregisteret's address protection (fortrolig or strengt fortrolig adresse): the
    /// address is never printed on a letter or shown; a letter that must go on paper waits
    /// for an operator instead (`delivery-chain.md` §3.5). Absent means not protected.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub protected: bool,
}

/// A person's entry in the contact and reservation register (KRR).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KrrContact {
    /// The e-mail address registered in KRR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// When the e-mail address was last changed (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_updated: Option<DateTime<Utc>>,
    /// When the person last confirmed the e-mail address (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<DateTime<Utc>>,
    /// E.164, e.g. `+4799999999`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    /// When the mobile number was last changed (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile_updated: Option<DateTime<Utc>>,
    /// When the person last confirmed the mobile number (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile_verified: Option<DateTime<Utc>>,
    /// The chosen digital mailbox provider (`digipost`, `eboks`) and the address there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mailbox_provider: Option<String>,
    /// The person's address at the digital mailbox provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mailbox_address: Option<String>,
}

/// A contact registered for an organisation, optionally only for some resources.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrgContact {
    /// The person who registered the contact for the organisation ("Din kontaktinformasjon for
    /// virksomheten", seed 003). A notice goes to it only while that person may read the
    /// letter's resource for the organisation, checked just before sending
    /// (`delivery-chain.md` §1.6, rule 43). `None`: a contact the organisation registered
    /// without naming a person, used like an official address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<NationalId>,
    /// An e-mail address to notify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// A mobile number to notify by SMS, E.164.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    /// Resource ids this contact is for; empty means every resource.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
}

/// At most this many user-registered contacts per organisation.
pub const MAX_ORG_CONTACTS: usize = 20;

/// Where an organisation's notices go: its official notification addresses and the contacts
/// registered for it (`delivery-chain.md` §1.6), as [`RegistryStore::change_contacts`] reads
/// and writes them together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganizationContacts {
    /// The official notification e-mail addresses (varslingsadresser).
    pub notification_emails: Vec<String>,
    /// The official notification mobile numbers (varslingsadresser), E.164.
    pub notification_mobiles: Vec<String>,
    /// Up to [`MAX_ORG_CONTACTS`] contacts registered for the organisation ("øvrig
    /// kontaktinformasjon", seed 003): the organisation's own and each person's own.
    pub contacts: Vec<OrgContact>,
}

/// One change to where an organisation's notices go (issue 17 item 5; seed 003 "Oppdatert og
/// korrekt kontaktinformasjon"). Values arrive checked and normalised: the store applies the
/// change as given, with [`ContactChange::apply`], inside one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactChange {
    /// Replaces the official notification addresses: e-mail addresses and E.164 mobile numbers.
    NotificationAddresses {
        /// The new e-mail addresses, in order.
        emails: Vec<String>,
        /// The new mobile numbers, E.164, in order.
        mobiles: Vec<String>,
    },
    /// Adds a contact to the organisation's list; [`ContactOutcome::Full`] when it holds
    /// [`MAX_ORG_CONTACTS`] already, [`ContactOutcome::Unchanged`] when an equal one is there.
    AddContact(OrgContact),
    /// Removes the contact equal to this one; [`ContactOutcome::Unchanged`] when there is none.
    RemoveContact(OrgContact),
    /// Sets (`Some`) or removes (`None`) a person's own contact for the organisation ("Din
    /// kontaktinformasjon for virksomheten": one e-mail address and one mobile number per
    /// person, `delivery-chain.md` §1.6). It replaces every contact naming that person. A
    /// contact given here names the person itself.
    OwnContact {
        /// The person whose contact it is.
        person: NationalId,
        /// Their new contact, or `None` to remove it.
        contact: Option<OrgContact>,
    },
}

/// What a [`ContactChange`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactOutcome {
    /// The contacts changed and were written.
    Changed,
    /// They already were as asked; nothing was written.
    Unchanged,
    /// Refused: the list would hold more than [`MAX_ORG_CONTACTS`]; nothing was written.
    Full,
}

impl ContactChange {
    /// Applies the change to `current`, the one place its rules live, so both stores agree.
    /// `current` is left as it was unless the outcome is [`ContactOutcome::Changed`].
    pub fn apply(&self, current: &mut OrganizationContacts) -> ContactOutcome {
        let mut next = current.clone();
        match self {
            ContactChange::NotificationAddresses { emails, mobiles } => {
                next.notification_emails = emails.clone();
                next.notification_mobiles = mobiles.clone();
            }
            ContactChange::AddContact(c) => {
                if !next.contacts.contains(c) {
                    next.contacts.push(c.clone());
                }
            }
            ContactChange::RemoveContact(c) => next.contacts.retain(|x| x != c),
            ContactChange::OwnContact { person, contact } => {
                let at = next
                    .contacts
                    .iter()
                    .position(|x| x.person.as_ref() == Some(person));
                next.contacts.retain(|x| x.person.as_ref() != Some(person));
                if let Some(c) = contact {
                    let c = OrgContact {
                        person: Some(person.clone()),
                        ..c.clone()
                    };
                    // Kept in its place in the list when it is replaced.
                    next.contacts.insert(at.unwrap_or(next.contacts.len()), c);
                }
            }
        }
        if next == *current {
            ContactOutcome::Unchanged
        } else if next.contacts.len() > MAX_ORG_CONTACTS
            && next.contacts.len() > current.contacts.len()
        {
            ContactOutcome::Full
        } else {
            *current = next;
            ContactOutcome::Changed
        }
    }
}

/// An organisation in the registry, as Enhetsregisteret describes it plus the contacts it
/// registered itself (DESIGN decision 6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    /// Its organisation number (the key).
    pub org_number: OrgNumber,
    /// Its registered name.
    pub name: String,
    /// The main unit, when this is a sub-unit (underenhet).
    pub parent: Option<OrgNumber>,
    /// Its postal address, for print.
    pub address: Option<PostalAddress>,
    /// The official notification e-mail addresses (Enhetsregisteret's varslingsadresser).
    pub notification_emails: Vec<String>,
    /// The official notification mobile numbers (varslingsadresser), E.164.
    pub notification_mobiles: Vec<String>,
    /// Up to [`MAX_ORG_CONTACTS`] contacts registered by the organisation.
    pub contacts: Vec<OrgContact>,
}

impl Organization {
    /// An organisation with only a number and a name: no parent, address or contacts.
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

/// A person in the registry (folkeregisteret's name and address, KRR's contact entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Their national identity number (the key).
    pub national_id: NationalId,
    /// Their name, shown as the recipient's name.
    pub name: String,
    /// Reserved in KRR against digital post from the public sector.
    pub reserved: bool,
    /// Their postal address, for print.
    pub address: Option<PostalAddress>,
    /// Contact details and digital mailbox from KRR, when registered.
    pub krr: Option<KrrContact>,
}

impl Person {
    /// A person with only an identity number and a name: not reserved, no address, no KRR entry.
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
    /// Their login (the key).
    pub user: SelfIdentified,
    /// The name the user registered, shown as the recipient's name.
    pub name: String,
}

/// A kind of letter a sender may send, owned by one organisation (its service owner).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// The Resource Registry's id, e.g. `kommunepost` (the key).
    pub id: String,
    /// The service owner: the only organisation that may send letters of this resource.
    pub owner: OrgNumber,
    /// The service owner's short code (e.g. `ttd`), as Altinn names service owners.
    pub service_owner_code: String,
    /// The resource's title, shown with its letters.
    pub title: String,
    /// Whether it is a confidential resource; only then may its letters be confidential
    /// (reference §2.3, 1061).
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
    /// The organisation the role is held in.
    pub org: OrgNumber,
    /// The person who holds it.
    pub person: NationalId,
    /// A code of [`melding_domain::authz::KNOWN_ROLES`].
    pub role: String,
}

/// A grant or revocation of a right, as the log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegationChange {
    /// When it was made (UTC).
    pub at: DateTime<Utc>,
    /// Who made the change: a party URN, or `admin:<subject>`.
    pub actor: String,
    /// A grant when true, a revocation when false.
    pub granted: bool,
    /// The organisation whose post the right reads.
    pub org: OrgNumber,
    /// The person the right is granted to or revoked from.
    pub person: NationalId,
    /// The right: a role code or an access package.
    pub right: Right,
}

/// One import, applied all or nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryBatch {
    /// Organisations to insert or update.
    pub organizations: Vec<Organization>,
    /// Organisations of [`RegistryBatch::organizations`] whose stored `contacts` stay as they
    /// are: their entry gave none (a CSV file cannot, a JSON entry may leave the field out), and
    /// the contacts kept in the web inbox are Melding's own, not the register's. One that is
    /// new gets the entry's list.
    pub keep_contacts: std::collections::BTreeSet<OrgNumber>,
    /// Persons to insert or update.
    pub persons: Vec<Person>,
    /// Resources to insert or update.
    pub resources: Vec<Resource>,
    /// Role assignments to add (an import never removes roles).
    pub roles: Vec<RoleAssignment>,
    /// Self-identified users to insert or rename.
    pub self_identified_users: Vec<SelfIdentifiedUser>,
}

/// The registries (DESIGN decision 6): parties, resources, roles and delegations. Every method
/// answers [`StoreError::Unavailable`] when the database fails and [`StoreError::Corrupt`] when a
/// stored value no longer parses.
#[async_trait]
pub trait RegistryStore: Send + Sync {
    /// Inserts or updates every entry in one transaction. A role naming an organisation or person
    /// registered neither before nor in the batch is [`StoreError::NotFound`], and nothing of the
    /// batch is written.
    async fn upsert_registry(&self, batch: &RegistryBatch) -> Result<(), StoreError>;

    /// The resource with this id, if registered.
    async fn resource(&self, id: &str) -> Result<Option<Resource>, StoreError>;

    /// The organisation with this number, if registered.
    async fn organization(&self, org: &OrgNumber) -> Result<Option<Organization>, StoreError>;

    /// The person with this national identity number, if registered.
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
    /// is not logged). An organisation or person not registered is [`StoreError::NotFound`].
    async fn change_delegation(&self, change: &DelegationChange) -> Result<bool, StoreError>;

    /// The Enhetsregisteret roles registered in `org`, sorted by person and role code.
    async fn organization_roles(&self, org: &OrgNumber) -> Result<Vec<RoleAssignment>, StoreError>;

    /// The delegation log of `org`, oldest first.
    async fn delegation_log(&self, org: &OrgNumber) -> Result<Vec<DelegationChange>, StoreError>;

    /// Applies `change` to `org`'s notification addresses and contacts in one transaction
    /// (read, [`ContactChange::apply`], write), so two changes made at once both take effect;
    /// returns what it did. An organisation not registered is [`StoreError::NotFound`].
    async fn change_contacts(
        &self,
        org: &OrgNumber,
        change: &ContactChange,
    ) -> Result<ContactOutcome, StoreError>;
}
