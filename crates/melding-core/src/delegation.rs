//! Granting and revoking post rights for an organisation. An administrator may change any
//! organisation's delegations; the organisation's general manager or chair (DAGL, LEDE) may
//! change their own organisation's. Every change is logged with who, when and what, in the
//! same transaction, and takes effect on the next request.

use melding_domain::authz::Right;
use melding_domain::{NationalId, Party};
use melding_store::DelegationChange;

use crate::access::{DelegationAccess, Pdp};
use crate::{CoreError, Melding, Principal, Rule};

impl Melding {
    /// Grants (`grant = true`) or revokes `right` for `person` in the organisation `access`
    /// administers; returns whether anything changed. The change is logged with who, when and
    /// what in the same write.
    ///
    /// # Errors
    /// [`Rule::UnknownRecipients`] when the organisation or the person is not in the registry,
    /// [`CoreError::Store`].
    #[tracing::instrument(skip_all, fields(org = %access.org(), right = %right, grant))]
    pub async fn change_delegation(
        &self,
        access: &DelegationAccess<'_>,
        person: &NationalId,
        right: Right,
        grant: bool,
    ) -> Result<bool, CoreError> {
        let org = access.org();
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
        let change = DelegationChange {
            at: self.clock.now(),
            actor: access.actor(),
            granted: grant,
            org: org.clone(),
            person: person.clone(),
            right,
        };
        let changed = self.store.change_delegation(&change).await?;
        if changed {
            // The actor may be a person: their national id stays in the delegation log, out of
            // the service log.
            tracing::info!(by_admin = access.by_admin(), "delegation changed");
        }
        Ok(changed)
    }

    /// The log of the delegation changes of the organisation `access` administers, oldest
    /// first.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub async fn delegation_log(
        &self,
        access: &DelegationAccess<'_>,
    ) -> Result<Vec<DelegationChange>, CoreError> {
        Ok(self.store.delegation_log(access.org()).await?)
    }
}

/// A party the caller may read post for, with the rights that make it so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizedParty {
    /// The caller's own party, or an organisation it holds a post right for.
    pub party: Party,
    /// The party's name from the register; `None` when the register does not know it.
    pub name: Option<String>,
    /// Empty for the caller's own party.
    pub rights: Vec<Right>,
}

impl Melding {
    /// The caller itself, then every organisation (and sub-unit) it holds a post right for.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub async fn authorized_parties(
        &self,
        principal: &Principal,
    ) -> Result<Vec<AuthorizedParty>, CoreError> {
        let own_name = self.party_name(&principal.party).await?;
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

/// One person's right to an organisation's post, as its administrators see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessHolder {
    /// The person.
    pub person: NationalId,
    /// Their name from the population registry; `None` when it does not know them.
    pub name: Option<String>,
    /// The right: a role registered in Enhetsregisteret, or one delegated.
    pub right: Right,
}

/// Who reads an organisation's post (issue 17 item 5): the people whose registered role
/// carries the ordinary-post package ([`melding_domain::authz::ROLES_WITH_ORDINARY_POST`]), and
/// the rights delegated now, each ordered by person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostAccess {
    /// From Enhetsregisteret; changed only there.
    pub registered: Vec<AccessHolder>,
    /// Given by delegation and not revoked: the delegation log's last word per person and
    /// right.
    pub delegated: Vec<AccessHolder>,
}

impl Melding {
    /// Who reads the post of the organisation `access` administers.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub async fn post_access(
        &self,
        access: &DelegationAccess<'_>,
    ) -> Result<PostAccess, CoreError> {
        let org = access.org();
        let mut registered: Vec<(NationalId, Right)> = self
            .store
            .organization_roles(org)
            .await?
            .into_iter()
            .filter(|r| melding_domain::authz::ROLES_WITH_ORDINARY_POST.contains(&r.role.as_str()))
            .map(|r| (r.person, Right::Role(r.role)))
            .collect();
        registered.sort();
        let mut now: std::collections::BTreeMap<(NationalId, Right), bool> =
            std::collections::BTreeMap::new();
        for change in self.store.delegation_log(org).await? {
            now.insert((change.person, change.right), change.granted);
        }
        let delegated: Vec<(NationalId, Right)> = now
            .into_iter()
            .filter_map(|(key, granted)| granted.then_some(key))
            .collect();
        let mut names = std::collections::HashMap::new();
        let registered = self.holders(registered, &mut names).await?;
        let delegated = self.holders(delegated, &mut names).await?;
        Ok(PostAccess {
            registered,
            delegated,
        })
    }

    /// The holders of `rights`, with names from the registry (each person read once).
    async fn holders(
        &self,
        rights: Vec<(NationalId, Right)>,
        names: &mut std::collections::HashMap<NationalId, Option<String>>,
    ) -> Result<Vec<AccessHolder>, CoreError> {
        let mut out = Vec::with_capacity(rights.len());
        for (person, right) in rights {
            if !names.contains_key(&person) {
                let name = self.store.person(&person).await?.map(|p| p.name);
                names.insert(person.clone(), name);
            }
            out.push(AccessHolder {
                name: names[&person].clone(),
                person,
                right,
            });
        }
        Ok(out)
    }
}
