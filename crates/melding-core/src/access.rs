//! Access decisions, in one place. A caller is a letter's sender when its organisation owns the
//! letter's resource (a service owner's own resources bypass the policy, as in Altinn). It is a
//! recipient when it is the recipient party itself, or a person who may read the recipient
//! organisation's post for the letter's resource: through Enhetsregisteret roles, delegated roles
//! or access packages, held for the organisation or for its main unit. Deny by default.
//!
//! A [`Pdp`] lives for one request and remembers its answers, so listing many letters of one
//! organisation asks the registry once; a delegation change is seen by the next request.

use std::collections::HashMap;
use std::sync::Arc;

use melding_domain::authz::{self, Holdings};
use melding_domain::correspondence::Correspondence;
use melding_domain::{NationalId, OrgNumber, Party};
use melding_store::Store;

use crate::{CoreError, Principal};

/// What a caller may do with one letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    pub sender: bool,
    pub recipient: bool,
}

impl Access {
    pub fn any(&self) -> bool {
        self.sender || self.recipient
    }

    /// Recipient mode: recipient access and not calling with a write token (or no sender access).
    pub fn as_recipient(&self, principal: &Principal) -> bool {
        self.recipient && (!principal.calls_as_sender() || !self.sender)
    }
}

/// The policy decision point for one request.
pub struct Pdp {
    store: Arc<dyn Store>,
    /// (person, organisation, resource) → may read.
    decisions: HashMap<(NationalId, OrgNumber, String), bool>,
    holdings: HashMap<(NationalId, OrgNumber), Holdings>,
}

impl std::fmt::Debug for Pdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pdp")
            .field("decisions", &self.decisions.len())
            .finish_non_exhaustive()
    }
}

impl Pdp {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            decisions: HashMap::new(),
            holdings: HashMap::new(),
        }
    }

    /// The caller's access to one letter.
    pub async fn decide(
        &mut self,
        principal: &Principal,
        letter: &Correspondence,
    ) -> Result<Access, CoreError> {
        let sender =
            matches!(&principal.party, Party::Organization(o) if *o == letter.settings.sender);
        let recipient = self
            .may_read_for(
                principal,
                &letter.recipient.urn(),
                letter.settings.resource_id.as_str(),
            )
            .await?;
        Ok(Access { sender, recipient })
    }

    /// May the caller read post to `recipient_urn` sent with `resource_id`?
    pub async fn may_read_for(
        &mut self,
        principal: &Principal,
        recipient_urn: &str,
        resource_id: &str,
    ) -> Result<bool, CoreError> {
        if principal.party.urn() == recipient_urn {
            return Ok(true);
        }
        let (Party::Person(person), Some(org)) = (&principal.party, org_of(recipient_urn)) else {
            return Ok(false);
        };
        self.person_may_read(person, &org, resource_id).await
    }

    /// The decision for a person reading an organisation's post of one resource.
    pub async fn person_may_read(
        &mut self,
        person: &NationalId,
        org: &OrgNumber,
        resource_id: &str,
    ) -> Result<bool, CoreError> {
        let key = (person.clone(), org.clone(), resource_id.to_owned());
        if let Some(d) = self.decisions.get(&key) {
            return Ok(*d);
        }
        let decision = match self.store.resource(resource_id).await? {
            None => false,
            Some(resource) => {
                let holdings = self.holdings_for(person, org).await?;
                authz::may_read(&holdings, &resource.read_policy, resource.confidential)
            }
        };
        self.decisions.insert(key, decision);
        Ok(decision)
    }

    /// What the person holds for `org`, counting what they hold for its main unit.
    pub async fn holdings_for(
        &mut self,
        person: &NationalId,
        org: &OrgNumber,
    ) -> Result<Holdings, CoreError> {
        let key = (person.clone(), org.clone());
        if let Some(h) = self.holdings.get(&key) {
            return Ok(h.clone());
        }
        let mut h = self.store.holdings(person, org).await?;
        if let Some(parent) = self.store.organization(org).await?.and_then(|o| o.parent) {
            h.merge(self.store.holdings(person, &parent).await?);
        }
        self.holdings.insert(key, h.clone());
        Ok(h)
    }
}

/// Does `org` have someone registered who may receive confidential post: one of
/// [`authz::CONFIDENTIAL_RECIPIENT_ROLES`] held in the organisation or, for a sub-unit, in its
/// main unit (reference §5.2; a sub-unit is read through its main unit's roles)? Without one, a
/// confidential letter to it is refused with 1044.
pub(crate) async fn has_confidential_receiver(
    store: &dyn Store,
    org: &OrgNumber,
) -> Result<bool, CoreError> {
    let holds = |roles: &[melding_store::RoleAssignment]| {
        roles
            .iter()
            .any(|r| authz::CONFIDENTIAL_RECIPIENT_ROLES.contains(&r.role.as_str()))
    };
    if holds(&store.organization_roles(org).await?) {
        return Ok(true);
    }
    match store.organization(org).await?.and_then(|o| o.parent) {
        Some(main_unit) => Ok(holds(&store.organization_roles(&main_unit).await?)),
        None => Ok(false),
    }
}

fn org_of(urn: &str) -> Option<OrgNumber> {
    urn.strip_prefix(melding_domain::recipient::ORG_URN)
        .and_then(|n| OrgNumber::parse(n).ok())
}
