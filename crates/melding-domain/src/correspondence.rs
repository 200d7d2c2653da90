//! The letter itself: one correspondence per recipient, its content and the sender's settings.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::identifiers::OrgNumber;
use crate::ids::CorrespondenceId;
use crate::status::StatusHistory;

/// What the recipient reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    pub language: String,
    pub title: String,
    pub summary: String,
    pub body: String,
}

/// Kinds of external reference, with Altinn's names and numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReferenceType {
    Generic = 0,
    AltinnAppInstance = 1,
    AltinnBrokerFileTransfer = 2,
    DialogportenDialogId = 3,
    DialogportenProcessId = 4,
    DialogportenTransmissionId = 5,
    DialogportenTransmissionType = 6,
}

impl ReferenceType {
    pub const ALL: [ReferenceType; 7] = [
        Self::Generic,
        Self::AltinnAppInstance,
        Self::AltinnBrokerFileTransfer,
        Self::DialogportenDialogId,
        Self::DialogportenProcessId,
        Self::DialogportenTransmissionId,
        Self::DialogportenTransmissionType,
    ];

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

    pub fn from_value(v: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|r| *r as i64 == v)
    }

    pub fn parse(s: &str) -> Option<Self> {
        if let Ok(n) = s.trim().parse::<i64>() {
            return Self::from_value(n);
        }
        Self::ALL
            .into_iter()
            .find(|r| r.name().eq_ignore_ascii_case(s.trim()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalReference {
    pub value: String,
    pub kind: ReferenceType,
}

/// A link the recipient may follow to answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyOption {
    pub url: String,
    pub text: Option<String>,
}

/// The settings a sender chose for one letter; shared by all recipients of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterSettings {
    pub resource_id: String,
    pub sender: OrgNumber,
    pub senders_reference: String,
    pub message_sender: Option<String>,
    pub content: Content,
    pub requested_publish_time: DateTime<Utc>,
    pub due_date_time: Option<DateTime<Utc>>,
    pub external_references: Vec<ExternalReference>,
    pub property_list: BTreeMap<String, String>,
    pub reply_options: Vec<ReplyOption>,
    pub ignore_reservation: Option<bool>,
    pub is_confirmation_needed: bool,
    pub is_confidential: bool,
    pub allow_forwarding: bool,
}

/// One stored correspondence: one letter to one recipient, with its history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correspondence {
    pub id: CorrespondenceId,
    pub recipient: String,
    pub settings: LetterSettings,
    pub idempotent_key: Option<Uuid>,
    pub created: DateTime<Utc>,
    pub published: Option<DateTime<Utc>>,
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
