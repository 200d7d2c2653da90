//! The delivery chain's receipt trail: SvarUt's status vocabulary ("kvittering",
//! `reference/delivery-chain.md` §3.4, rule 33) kept next to a letter's Altinn status history.
//!
//! Altinn's statuses say what the recipient did (Published, Read, Confirmed, …); the receipt
//! trail says how the letter reached them: routed to the inbox and notified, handed to a
//! digital mailbox, printed and posted, or not delivered. Each step is one [`DeliveryEvent`],
//! appended and never changed, with the facts the step was based on.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One SvarUt receipt status (`reference/delivery-chain.md` §3.4), named as SvarUt names it on
/// the wire (`MOTTATT`, `VARSLET`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReceiptStatus {
    /// Received, id assigned (the letter was initialized).
    Mottatt,
    /// Validated and routed: the route and the facts behind it are in the event's details.
    Akseptert,
    /// A notice about the letter was sent (the Altinn path), not yet read.
    Varslet,
    /// Opened by the recipient, in the inbox or, as reported by the sender, elsewhere.
    Lest,
    /// Handed to the recipient's digital mailbox (Digipost, e-Boks).
    SendtSdp,
    /// The digital mailbox confirmed delivery: never printed from here on (rule 28).
    LevertSdp,
    /// Handed to the print provider.
    SendtPrint,
    /// The print provider confirmed it printed and posted the letter.
    Printet,
    /// Could not be delivered: digital-only with no digital route, or nothing to print to.
    IkkeLevert,
    /// An operator took the letter out of the chain; no print follows (rule 29).
    ManueltHandtert,
    /// Melding's own addition: the letter must go on paper but the recipient's address is
    /// protected (fortrolig or strengt fortrolig adresse, §3.5), so it is never printed and
    /// waits in the operator queue until an operator handles it (`MANUELT_HANDTERT`).
    TilManuellHandtering,
    /// Melding's own addition to SvarUt's list: the letter's content and attachments were
    /// deleted at the end of its retention period (rule 32; SvarUt's archive deletes after
    /// three months without a status). The trail itself stays.
    Slettet,
}

impl ReceiptStatus {
    /// Every status, in the order of §3.4's table, then Melding's own
    /// ([`ReceiptStatus::TilManuellHandtering`], [`ReceiptStatus::Slettet`]).
    pub const ALL: [ReceiptStatus; 12] = [
        ReceiptStatus::Mottatt,
        ReceiptStatus::Akseptert,
        ReceiptStatus::Varslet,
        ReceiptStatus::Lest,
        ReceiptStatus::SendtSdp,
        ReceiptStatus::LevertSdp,
        ReceiptStatus::SendtPrint,
        ReceiptStatus::Printet,
        ReceiptStatus::IkkeLevert,
        ReceiptStatus::ManueltHandtert,
        ReceiptStatus::TilManuellHandtering,
        ReceiptStatus::Slettet,
    ];

    /// The statuses after which a letter is never printed: read, delivered to a digital
    /// mailbox, already handed to print, not deliverable, stopped by an operator
    /// (`reference/delivery-chain.md` rules 28 and 29), waiting for an operator because its
    /// address is protected, or its content deleted.
    pub const STOPS_PRINT: [ReceiptStatus; 8] = [
        ReceiptStatus::Lest,
        ReceiptStatus::LevertSdp,
        ReceiptStatus::SendtPrint,
        ReceiptStatus::Printet,
        ReceiptStatus::IkkeLevert,
        ReceiptStatus::ManueltHandtert,
        ReceiptStatus::TilManuellHandtering,
        ReceiptStatus::Slettet,
    ];

    /// The statuses after which an operator can no longer stop a letter
    /// (`MANUELT_HANDTERT`): every status that stops print except the operator queue, which is
    /// exactly where an operator takes over.
    pub const STOPS_OPERATOR: [ReceiptStatus; 7] = [
        ReceiptStatus::Lest,
        ReceiptStatus::LevertSdp,
        ReceiptStatus::SendtPrint,
        ReceiptStatus::Printet,
        ReceiptStatus::IkkeLevert,
        ReceiptStatus::ManueltHandtert,
        ReceiptStatus::Slettet,
    ];

    /// The wire name, e.g. `SENDT_PRINT`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiptStatus::Mottatt => "MOTTATT",
            ReceiptStatus::Akseptert => "AKSEPTERT",
            ReceiptStatus::Varslet => "VARSLET",
            ReceiptStatus::Lest => "LEST",
            ReceiptStatus::SendtSdp => "SENDT_SDP",
            ReceiptStatus::LevertSdp => "LEVERT_SDP",
            ReceiptStatus::SendtPrint => "SENDT_PRINT",
            ReceiptStatus::Printet => "PRINTET",
            ReceiptStatus::IkkeLevert => "IKKE_LEVERT",
            ReceiptStatus::ManueltHandtert => "MANUELT_HANDTERT",
            ReceiptStatus::TilManuellHandtering => "TIL_MANUELL_HANDTERING",
            ReceiptStatus::Slettet => "SLETTET",
        }
    }

    /// Whether the status ends the letter's delivery: nothing more happens to it in the chain.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ReceiptStatus::Lest
                | ReceiptStatus::LevertSdp
                | ReceiptStatus::Printet
                | ReceiptStatus::IkkeLevert
                | ReceiptStatus::ManueltHandtert
                | ReceiptStatus::Slettet
        )
    }
}

impl fmt::Display for ReceiptStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A receipt status name that is not one of [`ReceiptStatus::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown receipt status {0:?}")]
pub struct UnknownReceiptStatus(pub String);

impl FromStr for ReceiptStatus {
    type Err = UnknownReceiptStatus;

    /// Reads a wire name such as `LEVERT_SDP` (exact case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ReceiptStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownReceiptStatus(s.to_owned()))
    }
}

/// One step of a letter's receipt trail: its status, when (UTC), a sentence a person can read
/// (SvarUt's `hendelser` log, §3.4), and the facts it was based on as a JSON object's text
/// (the route decision's inputs, the print provider's reference and costs, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryEvent {
    /// The receipt status this step reached.
    pub status: ReceiptStatus,
    /// When it happened (UTC).
    pub at: DateTime<Utc>,
    /// What happened, in a sentence, e.g. "Printed by the print provider (2 pages)."
    pub text: String,
    /// The facts behind the step as a JSON object's text, when there are any.
    pub details: Option<String>,
}

impl DeliveryEvent {
    /// A step without details.
    pub fn new(status: ReceiptStatus, at: DateTime<Utc>, text: impl Into<String>) -> Self {
        Self {
            status,
            at,
            text: text.into(),
            details: None,
        }
    }

    /// The same step carrying `details` (a JSON object's text).
    pub fn with_details(mut self, details: impl Into<String>) -> Self {
        self.details = Some(details.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for status in ReceiptStatus::ALL {
            assert_eq!(status.as_str().parse::<ReceiptStatus>(), Ok(status));
            let json = format!("\"{}\"", status.as_str());
            assert_eq!(
                serde_json::from_str::<ReceiptStatus>(&json).unwrap(),
                status
            );
        }
        assert!("sendt_print".parse::<ReceiptStatus>().is_err());
    }

    #[test]
    fn print_is_stopped_by_reading_and_by_a_mailbox_delivery() {
        use ReceiptStatus as R;
        for status in [R::Lest, R::LevertSdp, R::ManueltHandtert, R::SendtPrint] {
            assert!(R::STOPS_PRINT.contains(&status), "{status}");
        }
        for status in [R::Mottatt, R::Akseptert, R::Varslet, R::SendtSdp] {
            assert!(!R::STOPS_PRINT.contains(&status), "{status}");
        }
    }
}
