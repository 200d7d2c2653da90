//! Access decisions for one letter. A caller is the letter's sender when its organisation owns
//! the letter's resource, and its recipient when it is the recipient party. Until roles and
//! delegation exist, organisations read their own post with an organisation token.

use melding_domain::Party;
use melding_domain::correspondence::Correspondence;

use crate::Principal;

/// What a caller may do with one letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    pub sender: bool,
    pub recipient: bool,
}

impl Access {
    pub fn decide(principal: &Principal, letter: &Correspondence) -> Self {
        let sender =
            matches!(&principal.party, Party::Organization(o) if *o == letter.settings.sender);
        let recipient = principal.party.urn() == letter.recipient;
        Self { sender, recipient }
    }

    pub fn any(&self) -> bool {
        self.sender || self.recipient
    }

    /// Recipient mode: recipient access and not calling with a write token (or no sender access).
    pub fn as_recipient(&self, principal: &Principal) -> bool {
        self.recipient && (!principal.calls_as_sender() || !self.sender)
    }
}
