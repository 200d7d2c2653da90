//! Who is calling: the party a verified token speaks for, and the scopes it carries.

use melding_domain::Party;

/// The scopes of Altinn's Correspondence API.
pub mod scopes {
    pub const WRITE: &str = "altinn:correspondence.write";
    pub const READ: &str = "altinn:correspondence.read";
    pub const SERVICE_OWNER: &str = "altinn:serviceowner";
    /// Melding's own: manage any organisation's delegations.
    pub const ADMIN: &str = "melding:admin";
}

/// A caller whose token has been verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub party: Party,
    pub scopes: Vec<String>,
}

impl Principal {
    pub fn new(party: Party, scopes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            party,
            scopes: scopes.into_iter().map(Into::into).collect(),
        }
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// A token with the write scope calls as a sender (no Fetched/Read side effects).
    pub fn calls_as_sender(&self) -> bool {
        self.has_scope(scopes::WRITE)
    }
}
