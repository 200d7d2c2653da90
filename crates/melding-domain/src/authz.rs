//! Who may read an organisation's post (delivery-chain reference §6). A person reads their own
//! post. For an organisation, rights come from Enhetsregisteret roles (DAGL, LEDE, …) and from
//! delegations of a role or an access package; a resource's policy says which rights grant
//! `read`, and confidential post needs the confidential-post package, which nobody holds
//! without an explicit delegation. [`may_read`] is the one decision; it does no I/O.

use std::collections::BTreeSet;
use std::fmt;

/// The access package for an organisation's ordinary post ("Post og arkiv").
pub const ORDINARY_POST: &str = "urn:altinn:accesspackage:ordinaer-post-til-virksomheten";
/// The access package for an organisation's confidential post ("Post og arkiv"): nobody holds
/// it without an explicit delegation.
pub const CONFIDENTIAL_POST: &str =
    "urn:altinn:accesspackage:post-til-virksomheten-med-taushetsbelagt-innhold";

/// Enhetsregisteret roles that carry the ordinary-post package by themselves: the general
/// manager, the chair, the sole proprietor and the partners and shipowners who run a company.
pub const ROLES_WITH_ORDINARY_POST: &[&str] =
    &["DAGL", "LEDE", "INNH", "DTSO", "DTPR", "KOMP", "BEST"];

/// Roles one of which a confidential letter's organisation recipient must have registered
/// (reference §5.2, 1044).
pub const CONFIDENTIAL_RECIPIENT_ROLES: &[&str] =
    &["BEST", "DAGL", "DTPR", "DTSO", "INNH", "LEDE", "KOMP"];

/// Every Enhetsregisteret role code Melding knows (the reference's list and the other common
/// ones); imports refuse others.
pub const KNOWN_ROLES: &[&str] = &[
    "DAGL", "LEDE", "NEST", "MEDL", "VARA", "INNH", "DTSO", "DTPR", "KOMP", "BEST", "BOBE", "REPR",
    "KONT", "REGN", "REVI", "KOMAB", "A0236", "PRIV",
];

/// One right a person can hold for an organisation: an Enhetsregisteret or Altinn role code, or
/// an access package URN.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Right {
    /// A role code, upper-case, e.g. `DAGL`.
    Role(String),
    /// An access package URN, e.g. [`ORDINARY_POST`].
    Package(String),
}

impl Right {
    /// Parses `DAGL` or `urn:altinn:rolecode:DAGL` (any case) as a role, and
    /// `urn:altinn:accesspackage:…` as a package; `urn:altinn:external-role:ccr:daglig-leder`
    /// style role names are not accepted.
    ///
    /// Errors: the reason, for a role not in [`KNOWN_ROLES`] or a package other than
    /// [`ORDINARY_POST`] and [`CONFIDENTIAL_POST`].
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Some(p) = s.strip_prefix("urn:altinn:accesspackage:") {
            return match s {
                ORDINARY_POST | CONFIDENTIAL_POST => Ok(Right::Package(s.to_owned())),
                _ if !p.is_empty() => Err(format!("unknown access package {s}")),
                _ => Err("an access package URN names the package".into()),
            };
        }
        let code = s
            .strip_prefix("urn:altinn:rolecode:")
            .unwrap_or(s)
            .to_ascii_uppercase();
        if KNOWN_ROLES.contains(&code.as_str()) {
            Ok(Right::Role(code))
        } else {
            Err(format!(
                "unknown role or access package {s:?} (roles: {}; packages: {ORDINARY_POST}, {CONFIDENTIAL_POST})",
                KNOWN_ROLES.join(", ")
            ))
        }
    }
}

impl fmt::Display for Right {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Right::Role(r) => f.write_str(r),
            Right::Package(p) => f.write_str(p),
        }
    }
}

/// Everything a person holds for one organisation (and, for a sub-unit, for its parent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holdings {
    /// Roles registered in Enhetsregisteret.
    pub roles: BTreeSet<String>,
    /// Roles and packages delegated to the person.
    pub delegated: BTreeSet<Right>,
}

impl Holdings {
    /// The rights these holdings amount to: delegations, registered roles, and the ordinary-post
    /// package for the roles that carry it.
    pub fn rights(&self) -> BTreeSet<Right> {
        let mut out = self.delegated.clone();
        for r in &self.roles {
            out.insert(Right::Role(r.clone()));
            if ROLES_WITH_ORDINARY_POST.contains(&r.as_str()) {
                out.insert(Right::Package(ORDINARY_POST.to_owned()));
            }
        }
        out
    }

    /// Adds `other`'s roles and delegations to these (a sub-unit's holdings and its
    /// parent's).
    pub fn merge(&mut self, other: Holdings) {
        self.roles.extend(other.roles);
        self.delegated.extend(other.delegated);
    }

    /// May this person grant and revoke post rights for the organisation (its general manager
    /// or chair)?
    pub fn may_delegate(&self) -> bool {
        self.roles.contains("DAGL") || self.roles.contains("LEDE")
    }
}

/// A resource's read policy: the rights that grant `read`. Empty means Altinn's usual policy for
/// correspondence: the ordinary-post package.
pub fn read_grants(policy: &[Right]) -> Vec<Right> {
    if policy.is_empty() {
        vec![Right::Package(ORDINARY_POST.to_owned())]
    } else {
        policy.to_vec()
    }
}

/// Deny by default: `read` is permitted when the holdings include a right the policy grants it
/// to, and, for a confidential resource, the confidential-post package as well.
pub fn may_read(holdings: &Holdings, policy: &[Right], confidential: bool) -> bool {
    let rights = holdings.rights();
    if confidential && !rights.contains(&Right::Package(CONFIDENTIAL_POST.to_owned())) {
        return false;
    }
    let grants = read_grants(policy);
    // The confidential package covers confidential resources on its own.
    confidential || grants.iter().any(|g| rights.contains(g))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holding(roles: &[&str], delegated: &[&str]) -> Holdings {
        Holdings {
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            delegated: delegated.iter().map(|d| Right::parse(d).unwrap()).collect(),
        }
    }

    #[test]
    fn general_managers_and_chairs_read_ordinary_post() {
        assert!(may_read(&holding(&["DAGL"], &[]), &[], false));
        assert!(may_read(&holding(&["LEDE"], &[]), &[], false));
        assert!(!may_read(&holding(&["MEDL"], &[]), &[], false));
        assert!(!may_read(&holding(&[], &[]), &[], false));
    }

    #[test]
    fn delegations_grant_what_the_policy_names() {
        assert!(may_read(&holding(&[], &[ORDINARY_POST]), &[], false));
        let komab = [Right::Role("KOMAB".into())];
        assert!(may_read(&holding(&[], &["KOMAB"]), &komab, false));
        // A policy naming only KOMAB does not accept the package.
        assert!(!may_read(&holding(&[], &[ORDINARY_POST]), &komab, false));
    }

    #[test]
    fn confidential_post_needs_its_own_package() {
        assert!(!may_read(&holding(&["DAGL"], &[]), &[], true));
        assert!(!may_read(&holding(&[], &[ORDINARY_POST]), &[], true));
        assert!(may_read(&holding(&[], &[CONFIDENTIAL_POST]), &[], true));
    }

    #[test]
    fn rights_parse_from_codes_and_urns() {
        assert_eq!(Right::parse("dagl"), Ok(Right::Role("DAGL".into())));
        assert_eq!(
            Right::parse("urn:altinn:rolecode:KOMAB"),
            Ok(Right::Role("KOMAB".into()))
        );
        assert!(Right::parse("urn:altinn:accesspackage:noe-annet").is_err());
        assert!(Right::parse("SJEF").is_err());
        assert!(holding(&["LEDE"], &[]).may_delegate());
        assert!(!holding(&["MEDL"], &[ORDINARY_POST]).may_delegate());
    }
}
