//! Where an organisation's notices go, as the people who act for it keep it up to date (issue
//! 17 item 5; seed 003 "Oppdatert og korrekt kontaktinformasjon i Altinn"; `delivery-chain.md`
//! §1.6):
//! - the organisation's general manager or chair (DAGL, LEDE), or an administrator, manages its
//!   official notification addresses and its list of up to [`MAX_ORG_CONTACTS`] contacts, so
//!   former employees stop receiving notices;
//! - every person who may read the organisation's post keeps their own contact for it ("Din
//!   kontaktinformasjon for virksomheten": one e-mail address and one mobile number), which
//!   takes a place in that list. A notice goes to it only while the person may still read the
//!   letter (`notify::contacts`).
//!
//! Addresses come in as [`EmailAddress`] and [`MobileNumber`], so only checked and normalised
//! values are stored. Each change is one store transaction ([`RegistryStore::change_contacts`]).
//!
//! [`RegistryStore::change_contacts`]: melding_store::RegistryStore::change_contacts

use melding_domain::contact::{EmailAddress, MobileNumber};
use melding_domain::{OrgNumber, Party};
use melding_store::ContactChange;

pub use melding_store::{
    ContactOutcome, KrrContact, MAX_ORG_CONTACTS, OrgContact, OrganizationContacts,
};

use crate::access::{DelegationAccess, no_access};
use crate::{CoreError, Melding, Principal};

/// At most this many official notification e-mail addresses, and as many mobile numbers, per
/// organisation. Melding's own bound (Altinn documents none), the same as [`MAX_ORG_CONTACTS`]:
/// a notice to more addresses than that is a list nobody keeps up to date.
pub const MAX_NOTIFICATION_ADDRESSES: usize = MAX_ORG_CONTACTS;

/// A stable key for one contact of an organisation's list, for a form that removes it: 16 hex
/// characters of the SHA-256 of the contact's JSON. Two equal contacts have the same key, and
/// removing by key removes the contact as it was shown, never one that took its place.
pub fn contact_key(contact: &OrgContact) -> String {
    use sha2::{Digest, Sha256};
    let json = serde_json::to_vec(contact).unwrap_or_default();
    Sha256::digest(json)
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Melding {
    /// The notification addresses and contacts of the organisation `access` administers.
    ///
    /// # Errors
    /// [`crate::Rule::NoAccess`] when the organisation is no longer registered,
    /// [`CoreError::Store`].
    pub async fn organization_contacts(
        &self,
        access: &DelegationAccess<'_>,
    ) -> Result<OrganizationContacts, CoreError> {
        let org = self
            .store
            .organization(access.org())
            .await?
            .ok_or_else(no_access)?;
        Ok(OrganizationContacts {
            notification_emails: org.notification_emails,
            notification_mobiles: org.notification_mobiles,
            contacts: org.contacts,
        })
    }

    /// Replaces the official notification addresses of the organisation `access` administers.
    /// E-mail addresses repeated case-insensitively, and mobile numbers repeated, are kept once
    /// (`delivery-chain.md` §1.6 "Dedup"). [`ContactOutcome::Full`] when more than
    /// [`MAX_NOTIFICATION_ADDRESSES`] of either are left; nothing is written then.
    ///
    /// # Errors
    /// [`crate::Rule::NoAccess`] when the organisation is no longer registered,
    /// [`CoreError::Store`].
    pub async fn set_notification_addresses(
        &self,
        access: &DelegationAccess<'_>,
        emails: &[EmailAddress],
        mobiles: &[MobileNumber],
    ) -> Result<ContactOutcome, CoreError> {
        let mut unique_emails: Vec<&EmailAddress> = Vec::with_capacity(emails.len());
        for e in emails {
            if !unique_emails.iter().any(|u| u.same_mailbox(e)) {
                unique_emails.push(e);
            }
        }
        let mut unique_mobiles: Vec<&MobileNumber> = Vec::with_capacity(mobiles.len());
        for m in mobiles {
            if !unique_mobiles.contains(&m) {
                unique_mobiles.push(m);
            }
        }
        if unique_emails.len() > MAX_NOTIFICATION_ADDRESSES
            || unique_mobiles.len() > MAX_NOTIFICATION_ADDRESSES
        {
            return Ok(ContactOutcome::Full);
        }
        let change = ContactChange::NotificationAddresses {
            emails: unique_emails.iter().map(|e| e.to_string()).collect(),
            mobiles: unique_mobiles.iter().map(|m| m.to_string()).collect(),
        };
        self.change_contacts(access.org(), &change, access.by_admin())
            .await
    }

    /// Adds a contact for every resource to the list of the organisation `access` administers;
    /// [`ContactOutcome::Full`] when the list holds [`MAX_ORG_CONTACTS`] already.
    ///
    /// # Errors
    /// [`crate::Rule::NoAccess`] when the organisation is no longer registered,
    /// [`CoreError::Store`].
    pub async fn add_contact(
        &self,
        access: &DelegationAccess<'_>,
        email: Option<EmailAddress>,
        mobile: Option<MobileNumber>,
    ) -> Result<ContactOutcome, CoreError> {
        if email.is_none() && mobile.is_none() {
            return Ok(ContactOutcome::Unchanged);
        }
        let contact = OrgContact {
            person: None,
            email: email.map(|e| e.to_string()),
            mobile: mobile.map(|m| m.to_string()),
            resources: Vec::new(),
        };
        self.change_contacts(
            access.org(),
            &ContactChange::AddContact(contact),
            access.by_admin(),
        )
        .await
    }

    /// Removes the contact with [`contact_key`] `key` from the list of the organisation
    /// `access` administers, whoever registered it; [`ContactOutcome::Unchanged`] when no
    /// contact has that key (it was removed or changed since the page was shown).
    ///
    /// # Errors
    /// [`crate::Rule::NoAccess`] when the organisation is no longer registered,
    /// [`CoreError::Store`].
    pub async fn remove_contact(
        &self,
        access: &DelegationAccess<'_>,
        key: &str,
    ) -> Result<ContactOutcome, CoreError> {
        let current = self.organization_contacts(access).await?;
        let Some(contact) = current.contacts.into_iter().find(|c| contact_key(c) == key) else {
            return Ok(ContactOutcome::Unchanged);
        };
        self.change_contacts(
            access.org(),
            &ContactChange::RemoveContact(contact),
            access.by_admin(),
        )
        .await
    }

    /// The caller's own entry in the contact and reservation register (KRR), where notices of
    /// their own post go (`delivery-chain.md` §1.6); `None` when the caller is no person or has
    /// no entry. Melding only reads it: the person changes it in KRR.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub async fn own_registry_contact(
        &self,
        principal: &Principal,
    ) -> Result<Option<KrrContact>, CoreError> {
        let Party::Person(person) = &principal.party else {
            return Ok(None);
        };
        Ok(self.store.person(person).await?.and_then(|p| p.krr))
    }

    /// The caller's own contact for `org`, an organisation they act for; `None` when they
    /// registered none.
    ///
    /// # Errors
    /// [`crate::Rule::NoAccess`] when the caller is not a person who may read `org`'s post,
    /// [`CoreError::Store`].
    pub async fn own_contact(
        &self,
        principal: &Principal,
        org: &OrgNumber,
    ) -> Result<Option<OrgContact>, CoreError> {
        let Party::Person(person) = self.contact_owner(principal, org).await? else {
            return Err(no_access());
        };
        let org = self.store.organization(org).await?.ok_or_else(no_access)?;
        Ok(org
            .contacts
            .into_iter()
            .find(|c| c.person.as_ref() == Some(&person)))
    }

    /// Sets the caller's own contact for `org`, an organisation they act for, replacing the one
    /// they had; with neither an e-mail address nor a mobile number it removes it.
    /// [`ContactOutcome::Full`] when a new contact would not fit in the organisation's list of
    /// [`MAX_ORG_CONTACTS`].
    ///
    /// # Errors
    /// [`crate::Rule::NoAccess`] when the caller is not a person who may read `org`'s post,
    /// [`CoreError::Store`].
    pub async fn set_own_contact(
        &self,
        principal: &Principal,
        org: &OrgNumber,
        email: Option<EmailAddress>,
        mobile: Option<MobileNumber>,
    ) -> Result<ContactOutcome, CoreError> {
        let Party::Person(person) = self.contact_owner(principal, org).await? else {
            return Err(no_access());
        };
        let contact = (email.is_some() || mobile.is_some()).then(|| OrgContact {
            person: Some(person.clone()),
            email: email.map(|e| e.to_string()),
            mobile: mobile.map(|m| m.to_string()),
            resources: Vec::new(),
        });
        self.change_contacts(org, &ContactChange::OwnContact { person, contact }, false)
            .await
    }

    /// The caller's party when it is a person who may act for `org` (not `org` itself).
    async fn contact_owner(
        &self,
        principal: &Principal,
        org: &OrgNumber,
    ) -> Result<Party, CoreError> {
        let party = Party::Organization(org.clone());
        let allowed = matches!(principal.party, Party::Person(_))
            && self.may_act_for(principal, &party).await?;
        if allowed {
            Ok(principal.party.clone())
        } else {
            Err(no_access())
        }
    }

    async fn change_contacts(
        &self,
        org: &OrgNumber,
        change: &ContactChange,
        by_admin: bool,
    ) -> Result<ContactOutcome, CoreError> {
        let outcome = match self.store.change_contacts(org, change).await {
            Err(melding_store::StoreError::NotFound) => return Err(no_access()),
            other => other?,
        };
        if outcome == ContactOutcome::Changed {
            // Which change, not its addresses: those stay out of the service log.
            let what = match change {
                ContactChange::NotificationAddresses { .. } => "notification addresses",
                ContactChange::AddContact(_) => "contact added",
                ContactChange::RemoveContact(_) => "contact removed",
                ContactChange::OwnContact { .. } => "own contact",
            };
            tracing::info!(%org, by_admin, what, "organisation contacts changed");
        }
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use melding_domain::NationalId;
    use melding_store::{Person, RegistryBatch, RoleAssignment};

    use super::*;
    use crate::Rule;
    use crate::test_support::{PERSON, RECIPIENT_ORG, melding};

    /// Another person, who holds no role in [`RECIPIENT_ORG`].
    const OTHER_PERSON: &str = "17912099997";

    fn person(id: &str) -> Principal {
        Principal::new(
            Party::Person(NationalId::parse(id).unwrap()),
            [crate::principal::scopes::READ],
        )
    }

    fn org() -> OrgNumber {
        OrgNumber::parse(RECIPIENT_ORG).unwrap()
    }

    fn email(s: &str) -> EmailAddress {
        EmailAddress::parse(s).unwrap()
    }

    fn mobile(s: &str) -> MobileNumber {
        MobileNumber::parse(s).unwrap()
    }

    /// [`PERSON`] is daglig leder of [`RECIPIENT_ORG`]; [`OTHER_PERSON`] is registered but
    /// holds nothing there.
    async fn with_manager() -> (Melding, tempfile::TempDir) {
        let (melding, dir) = melding().await;
        melding
            .store
            .upsert_registry(&RegistryBatch {
                persons: vec![Person::new(
                    NationalId::parse(OTHER_PERSON).unwrap(),
                    "Per Hansen",
                )],
                roles: vec![RoleAssignment {
                    org: org(),
                    person: NationalId::parse(PERSON).unwrap(),
                    role: "DAGL".into(),
                }],
                ..Default::default()
            })
            .await
            .unwrap();
        (melding, dir)
    }

    #[tokio::test]
    async fn the_manager_keeps_the_addresses_and_the_list_and_others_may_not() {
        let (melding, _dir) = with_manager().await;
        let manager = person(PERSON);
        let access = melding.delegation_access(&manager, &org()).await.unwrap();
        // Repeats are kept once: e-mail case-insensitively, mobiles after normalisation.
        let outcome = melding
            .set_notification_addresses(
                &access,
                &[email("Post@Bedrift.no"), email("post@bedrift.no")],
                &[mobile("912 34 567"), mobile("+4791234567")],
            )
            .await
            .unwrap();
        assert_eq!(outcome, ContactOutcome::Changed);
        let now = melding.organization_contacts(&access).await.unwrap();
        assert_eq!(now.notification_emails, ["Post@Bedrift.no"]);
        assert_eq!(now.notification_mobiles, ["+4791234567"]);
        let too_many: Vec<EmailAddress> = (0..=MAX_NOTIFICATION_ADDRESSES)
            .map(|i| email(&format!("p{i}@bedrift.no")))
            .collect();
        assert_eq!(
            melding
                .set_notification_addresses(&access, &too_many, &[])
                .await
                .unwrap(),
            ContactOutcome::Full
        );

        assert_eq!(
            melding
                .add_contact(&access, Some(email("regnskap@bedrift.no")), None)
                .await
                .unwrap(),
            ContactOutcome::Changed
        );
        let listed = melding
            .organization_contacts(&access)
            .await
            .unwrap()
            .contacts;
        assert_eq!(listed.len(), 1);
        let key = contact_key(&listed[0]);
        assert_eq!(
            melding.remove_contact(&access, &key).await.unwrap(),
            ContactOutcome::Changed
        );
        assert_eq!(
            melding.remove_contact(&access, &key).await.unwrap(),
            ContactOutcome::Unchanged
        );

        // A person without a role may neither manage the list nor keep a contact of their own.
        let other = person(OTHER_PERSON);
        assert!(matches!(
            melding.delegation_access(&other, &org()).await,
            Err(CoreError::Rule(Rule::NoAccess))
        ));
        assert!(matches!(
            melding
                .set_own_contact(&other, &org(), Some(email("per@bedrift.no")), None)
                .await,
            Err(CoreError::Rule(Rule::NoAccess))
        ));
    }

    #[tokio::test]
    async fn a_person_keeps_their_own_contact_for_an_organisation_they_act_for() {
        let (melding, _dir) = with_manager().await;
        let kari = person(PERSON);
        assert_eq!(melding.own_contact(&kari, &org()).await.unwrap(), None);
        let set = melding
            .set_own_contact(
                &kari,
                &org(),
                Some(email("kari@bedrift.no")),
                Some(mobile("41234567")),
            )
            .await
            .unwrap();
        assert_eq!(set, ContactOutcome::Changed);
        let mine = melding.own_contact(&kari, &org()).await.unwrap().unwrap();
        assert_eq!(mine.person, Some(NationalId::parse(PERSON).unwrap()));
        assert_eq!(mine.email.as_deref(), Some("kari@bedrift.no"));
        assert_eq!(mine.mobile.as_deref(), Some("+4741234567"));
        // The manager sees it in the organisation's list.
        let access = melding.delegation_access(&kari, &org()).await.unwrap();
        assert_eq!(
            melding
                .organization_contacts(&access)
                .await
                .unwrap()
                .contacts,
            [mine]
        );
        // Neither address removes it.
        assert_eq!(
            melding
                .set_own_contact(&kari, &org(), None, None)
                .await
                .unwrap(),
            ContactOutcome::Changed
        );
        assert_eq!(melding.own_contact(&kari, &org()).await.unwrap(), None);
        // The organisation itself is no person with a contact of their own.
        let itself = Principal::new(Party::Organization(org()), [crate::principal::scopes::READ]);
        assert!(matches!(
            melding.own_contact(&itself, &org()).await,
            Err(CoreError::Rule(Rule::NoAccess))
        ));
    }

    #[test]
    fn a_contact_key_is_stable_and_tells_contacts_apart() {
        let a = OrgContact {
            email: Some("post@alfa.no".into()),
            ..OrgContact::default()
        };
        let b = OrgContact {
            mobile: Some("+4791234567".into()),
            ..a.clone()
        };
        assert_eq!(contact_key(&a), contact_key(&a.clone()));
        assert_eq!(contact_key(&a).len(), 16);
        assert_ne!(contact_key(&a), contact_key(&b));
    }
}
