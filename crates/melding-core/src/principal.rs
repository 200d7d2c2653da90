//! Who is calling: the party a verified token speaks for, and the scopes it carries.

use melding_domain::Party;

/// The scopes of Altinn's Correspondence API.
pub mod scopes {
    /// Sending and managing letters; a token with it calls as a sender (reference §1.2).
    pub const WRITE: &str = "altinn:correspondence.write";
    /// Reading letters as a recipient (reference §1.2).
    pub const READ: &str = "altinn:correspondence.read";
    /// Altinn's service-owner scope (reference §1.2).
    pub const SERVICE_OWNER: &str = "altinn:serviceowner";
    /// Altinn Notifications asking whether a notice should still be sent (reference §1.2,
    /// policy *NotificationCheck*).
    pub const NOTIFICATION_CHECK: &str = "altinn:system/notifications.condition.check";
    /// Asking whether a letter allows forwarding (reference §1.2, policy
    /// *CheckAllowForwardingPolicy*, §4.12).
    pub const FORWARD_CHECK: &str = "altinn:correspondence.forward.check";
    /// Melding's own: manage any organisation's delegations.
    pub const ADMIN: &str = "melding:admin";
}

/// A caller whose token has been verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The party the token speaks for.
    pub party: Party,
    /// The token's scopes, as given (see [`scopes`]).
    pub scopes: Vec<String>,
}

impl Principal {
    /// A caller acting as `party` with `scopes`.
    pub fn new(party: Party, scopes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            party,
            scopes: scopes.into_iter().map(Into::into).collect(),
        }
    }

    /// Whether the token carries exactly `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// A token with the write scope calls as a sender (no Fetched/Read side effects).
    pub fn calls_as_sender(&self) -> bool {
        self.has_scope(scopes::WRITE)
    }
}
