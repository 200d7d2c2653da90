//! The letter itself: one correspondence per recipient, its content and the sender's settings.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::identifiers::OrgNumber;
use crate::ids::CorrespondenceId;
use crate::recipient::Recipient;
use crate::resource::ResourceId;
use crate::status::StatusHistory;

/// What the recipient reads (reference §5.3 has the rules, [`crate::content`] checks them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    /// `nb`, `nn` or `en`.
    pub language: String,
    /// The title: plain text, at most 255 characters.
    pub title: String,
    /// The summary: plain text, at most 255 characters; empty when none was given.
    pub summary: String,
    /// The body: markdown, at most 30 000 characters.
    pub body: String,
}

/// Kinds of external reference, with Altinn's names and numbers (reference §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReferenceType {
    /// Any reference of the sender's.
    Generic = 0,
    /// An Altinn app instance.
    AltinnAppInstance = 1,
    /// A file transfer in Altinn's broker.
    AltinnBrokerFileTransfer = 2,
    /// A Dialogporten dialog (a GUID): the letter is a transmission on it.
    DialogportenDialogId = 3,
    /// A Dialogporten process.
    DialogportenProcessId = 4,
    /// A Dialogporten transmission; refused on new letters.
    DialogportenTransmissionId = 5,
    /// The type of transmission (`Information`, `Decision`, …).
    DialogportenTransmissionType = 6,
}

impl ReferenceType {
    /// Every kind, in number order.
    pub const ALL: [ReferenceType; 7] = [
        Self::Generic,
        Self::AltinnAppInstance,
        Self::AltinnBrokerFileTransfer,
        Self::DialogportenDialogId,
        Self::DialogportenProcessId,
        Self::DialogportenTransmissionId,
        Self::DialogportenTransmissionType,
    ];

    /// Altinn's name for the kind, e.g. `DialogportenDialogId`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Generic => "Generic",
            Self::AltinnAppInstance => "AltinnAppInstance",
            Self::AltinnBrokerFileTransfer => "AltinnBrokerFileTransfer",
            Self::DialogportenDialogId => "DialogportenDialogId",
            Self::DialogportenProcessId => "DialogportenProcessId",
            Self::DialogportenTransmissionId => "DialogportenTransmissionId",
            Self::DialogportenTransmissionType => "DialogportenTransmissionType",
        }
    }

    /// The kind with Altinn's number `v` (0–6); `None` otherwise.
    pub fn from_value(v: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|r| *r as i64 == v)
    }

    /// The kind by its name in any case, or by its number; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        if let Ok(n) = s.trim().parse::<i64>() {
            return Self::from_value(n);
        }
        Self::ALL
            .into_iter()
            .find(|r| r.name().eq_ignore_ascii_case(s.trim()))
    }
}

/// A reference from a letter to something outside it (`externalReferences`, reference §3.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalReference {
    /// The reference itself, e.g. a dialog's GUID.
    pub value: String,
    /// What it refers to.
    pub kind: ReferenceType,
}

/// A link the recipient may follow to answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyOption {
    /// An absolute `https://` URL of at most 255 characters.
    pub url: String,
    /// The link's text.
    pub text: Option<String>,
}

/// The settings a sender chose for one letter; shared by all recipients of one request
/// (reference §3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterSettings {
    /// The resource (letter type) the letter is sent with, without the URN prefix.
    pub resource_id: ResourceId,
    /// The resource's owner, who sends the letter.
    pub sender: OrgNumber,
    /// The sender's own reference, 1–4096 characters.
    pub senders_reference: String,
    /// The name shown as the letter's sender instead of the owner's, plain text.
    pub message_sender: Option<String>,
    /// What the recipient reads.
    pub content: Content,
    /// When the letter is published (UTC); the initialization time when none was asked for.
    pub requested_publish_time: DateTime<Utc>,
    /// When the recipient must have answered (UTC).
    pub due_date_time: Option<DateTime<Utc>>,
    /// Up to 10 references to things outside the letter.
    pub external_references: Vec<ExternalReference>,
    /// Up to 10 of the sender's own key–value pairs (keys ≤ 50, values ≤ 300 characters).
    pub property_list: BTreeMap<String, String>,
    /// Links the recipient may follow to answer.
    pub reply_options: Vec<ReplyOption>,
    /// `Some(true)` sends to persons reserved against digital post (KRR) anyway.
    pub ignore_reservation: Option<bool>,
    /// Whether the recipient must confirm the letter (needs a due date).
    pub is_confirmation_needed: bool,
    /// Whether only holders of the confidential access package may read it.
    pub is_confidential: bool,
    /// Whether the recipient may forward it (only at authentication level 0 and with at most
    /// [`crate::attachment::FORWARDING_MAX`] of attachments).
    pub allow_forwarding: bool,
    /// Never print (Melding's addition, SvarUt's `kunDigitalLevering`,
    /// `delivery-chain.md` §3.2 and rule 28).
    pub digital_only: bool,
}

/// One stored correspondence: one letter to one recipient, with its history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correspondence {
    /// The letter's id (UUIDv7).
    pub id: CorrespondenceId,
    /// Who the letter is for; stored as its URN ([`Recipient::urn`]).
    pub recipient: Recipient,
    /// What the sender chose, shared with the other letters of the request.
    pub settings: LetterSettings,
    /// The sender's idempotency key, when the request had one (one recipient only).
    pub idempotent_key: Option<Uuid>,
    /// When it was initialized (UTC).
    pub created: DateTime<Utc>,
    /// When it was published (UTC); `None` before.
    pub published: Option<DateTime<Utc>>,
    /// Its status history.
    pub statuses: StatusHistory,
}

impl Correspondence {
    /// The sender as Altinn names it: the organisation URN of the resource's owner.
    pub fn sender_urn(&self) -> String {
        format!("{}{}", crate::recipient::ORG_URN, self.settings.sender)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_types_parse_by_name_or_number() {
        assert_eq!(
            ReferenceType::parse("dialogportendialogid"),
            Some(ReferenceType::DialogportenDialogId)
        );
        assert_eq!(ReferenceType::parse("0"), Some(ReferenceType::Generic));
        assert_eq!(ReferenceType::parse("7"), None);
        assert_eq!(ReferenceType::parse("Nope"), None);
    }
}
