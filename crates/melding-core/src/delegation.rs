//! Granting and revoking post rights for an organisation. An administrator may change any
//! organisation's delegations; the organisation's general manager or chair (DAGL, LEDE) may
//! change their own organisation's. Every change is logged with who, when and what, in the
//! same transaction, and takes effect on the next request.

use melding_domain::authz::Right;
use melding_domain::{NationalId, OrgNumber, Party};
use melding_store::DelegationChange;

use crate::principal::scopes;
use crate::{CoreError, Melding, Pdp, Principal, Rule};

impl Melding {
    /// Whether the caller may manage `org`'s delegations (4001 otherwise).
    async fn check_delegator(
        &self,
        principal: &Principal,
        org: &OrgNumber,
    ) -> Result<(), CoreError> {
        if principal.has_scope(scopes::ADMIN) {
            return Ok(());
        }
        if let Party::Person(p) = &principal.party {
            let holdings = Pdp::new(self.store.clone()).holdings_for(p, org).await?;
            if holdings.may_delegate() {
                return Ok(());
            }
        }
        Err(Rule::NoAccess.into())
    }

    /// Grants (`grant = true`) or revokes `right` for `person` in `org`; returns whether anything
    /// changed.
    #[tracing::instrument(skip_all, fields(org = %org, right = %right, grant))]
    pub async fn change_delegation(
        &self,
        principal: &Principal,
        org: &OrgNumber,
        person: &NationalId,
        right: Right,
        grant: bool,
    ) -> Result<bool, CoreError> {
        self.check_delegator(principal, org).await?;
        let unknown = self
            .store
            .unknown_parties(&[
                Party::Organization(org.clone()),
                Party::Person(person.clone()),
            ])
            .await?;
        if !unknown.is_empty() {
            return Err(Rule::UnknownRecipients(unknown.iter().map(Party::urn).collect()).into());
        }
        let actor = if principal.has_scope(scopes::ADMIN) {
            format!("admin:{}", principal.party.urn())
        } else {
            principal.party.urn()
        };
        let change = DelegationChange {
            at: self.clock.now(),
            actor,
            granted: grant,
            org: org.clone(),
            person: person.clone(),
            right,
        };
        let changed = self.store.change_delegation(&change).await?;
        if changed {
            // The actor may be a person: their national id stays in the delegation log, out of
            // the service log.
            tracing::info!(
                by_admin = principal.has_scope(scopes::ADMIN),
                "delegation changed"
            );
        }
        Ok(changed)
    }

    /// The log of `org`'s delegation changes, oldest first.
    pub async fn delegation_log(
        &self,
        principal: &Principal,
        org: &OrgNumber,
    ) -> Result<Vec<DelegationChange>, CoreError> {
        self.check_delegator(principal, org).await?;
        Ok(self.store.delegation_log(org).await?)
    }
}

/// A party the caller may read post for, with the rights that make it so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizedParty {
    pub party: Party,
    pub name: Option<String>,
    /// Empty for the caller's own party.
    pub rights: Vec<Right>,
}

impl Melding {
    /// The caller itself, then every organisation (and sub-unit) it holds a post right for.
    pub async fn authorized_parties(
        &self,
        principal: &Principal,
    ) -> Result<Vec<AuthorizedParty>, CoreError> {
        let own_name = match &principal.party {
            Party::Person(p) => self.store.person(p).await?.map(|p| p.name),
            Party::Organization(o) => self.store.organization(o).await?.map(|o| o.name),
            Party::SelfIdentified(u) => self.store.self_identified_user(u).await?.map(|u| u.name),
        };
        let mut out = vec![AuthorizedParty {
            party: principal.party.clone(),
            name: own_name,
            rights: vec![],
        }];
        let Party::Person(person) = &principal.party else {
            return Ok(out);
        };
        let mut pdp = Pdp::new(self.store.clone());
        for org in self.store.organizations_of(person).await? {
            let rights: Vec<Right> = pdp
                .holdings_for(person, &org)
                .await?
                .rights()
                .into_iter()
                .filter(|r| matches!(r, Right::Package(_)) || is_post_role(r))
                .collect();
            if rights.is_empty() {
                continue;
            }
            let name = self.store.organization(&org).await?.map(|o| o.name);
            out.push(AuthorizedParty {
                party: Party::Organization(org),
                name,
                rights,
            });
        }
        Ok(out)
    }
}

/// Roles that can appear in a resource's read policy (every role but a bare board membership
/// or deputy, which grant nothing by themselves).
fn is_post_role(r: &Right) -> bool {
    matches!(r, Right::Role(code) if !matches!(code.as_str(), "MEDL" | "VARA" | "NEST"))
}
