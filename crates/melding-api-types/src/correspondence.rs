//! Correspondence requests and responses.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use melding_domain::content::{self, char_len};
use melding_domain::correspondence::ReferenceType;
use melding_domain::recipient::{Recipient, RecipientError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::attachment::{CorrespondenceAttachmentExt, InitializeCorrespondenceAttachmentExt};
use crate::problem::FieldError;

// ---------------------------------------------------------------------------------------------
// Requests

/// `POST /correspondence/api/v1/correspondence`
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InitializeCorrespondencesExt {
    pub correspondence: Option<BaseCorrespondenceExt>,
    /// 1–500 recipients: `urn:altinn:organization:identifier-no:<orgnr>`, `0192:<orgnr>`,
    /// a national identity number with or without `urn:altinn:person:identifier-no:`.
    /// A `null` entry reads as an empty one, which validation refuses by name.
    #[serde(default, deserialize_with = "crate::input::strings_allowing_null")]
    #[schema(value_type = Option<Vec<String>>)]
    pub recipients: Option<Vec<String>>,
    #[serde(default)]
    pub existing_attachments: Option<Vec<Uuid>>,
    /// A non-empty GUID; a second request with the same key is refused (409).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub idempotent_key: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BaseCorrespondenceExt {
    pub resource_id: Option<String>,
    /// Deprecated and ignored: the sender is the resource's owner.
    pub sender: Option<String>,
    pub senders_reference: Option<String>,
    pub message_sender: Option<String>,
    pub content: Option<InitializeCorrespondenceContentExt>,
    /// When the letter is published; a time without an offset is UTC.
    #[serde(default, deserialize_with = "crate::time::deserialize_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub requested_publish_time: Option<DateTime<Utc>>,
    /// When the recipient must have answered; a time without an offset is UTC.
    #[serde(default, deserialize_with = "crate::time::deserialize_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_date_time: Option<DateTime<Utc>>,
    pub external_references: Option<Vec<ExternalReferenceExt>>,
    pub property_list: Option<BTreeMap<String, String>>,
    pub reply_options: Option<Vec<CorrespondenceReplyOptionExt>>,
    /// Accepted for compatibility; notification orders are not sent yet by this version.
    #[schema(value_type = Option<Object>)]
    pub notification: Option<serde_json::Value>,
    pub ignore_reservation: Option<bool>,
    pub is_confirmation_needed: Option<bool>,
    pub is_confidential: Option<bool>,
    pub allow_forwarding: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InitializeCorrespondenceContentExt {
    pub language: Option<String>,
    pub message_title: Option<String>,
    pub message_summary: Option<String>,
    pub message_body: Option<String>,
    /// New attachments: each needs a file part, so they can be sent only to the multipart
    /// endpoint (with JSON they are refused with 1005).
    pub attachments: Option<Vec<InitializeCorrespondenceAttachmentExt>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalReferenceExt {
    pub reference_value: String,
    #[serde(
        deserialize_with = "de_reference_type",
        serialize_with = "ser_reference_type"
    )]
    #[schema(value_type = String, example = "Generic")]
    pub reference_type: ReferenceType,
}

fn de_reference_type<'de, D: serde::Deserializer<'de>>(d: D) -> Result<ReferenceType, D::Error> {
    crate::input::enum_by_name_or_number(d, ReferenceType::parse, "ReferenceType")
}

fn ser_reference_type<S: serde::Serializer>(r: &ReferenceType, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(r.name())
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CorrespondenceReplyOptionExt {
    #[serde(rename = "linkURL")]
    pub link_url: String,
    #[serde(rename = "linkText")]
    pub link_text: Option<String>,
}

/// The model-level checks Altinn runs before any business rule: required fields, lengths and
/// formats. Each failure names the field's model path.
impl InitializeCorrespondencesExt {
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let mut attachment_errs = Vec::new();
        let mut err = |p: &str, m: &str| errs.push(FieldError::new(p, m));
        match &self.recipients {
            None => err("Recipients", "The Recipients field is required."),
            Some(r) if r.is_empty() => err("Recipients", "Recipients can not be empty"),
            Some(r) if r.len() > 500 => err(
                "Recipients",
                "Recipients can contain at most 500 recipients",
            ),
            Some(r) => {
                for (i, rec) in r.iter().enumerate() {
                    if let Err(e) = Recipient::parse(rec) {
                        err(&format!("Recipients[{i}]"), &recipient_message(&e));
                    }
                }
            }
        }
        if let Some(key) = &self.idempotent_key {
            match Uuid::parse_str(key) {
                Ok(k) if !k.is_nil() => {}
                _ => err(
                    "IdempotentKey",
                    "The idempotency key must be a valid non-empty GUID",
                ),
            }
        }
        let Some(c) = &self.correspondence else {
            err("Correspondence", "The Correspondence field is required.");
            return errs;
        };
        match c.resource_id.as_deref().map(str::trim) {
            None | Some("") => err(
                "Correspondence/ResourceId",
                "The ResourceId field is required.",
            ),
            Some(r) => {
                let id = r.strip_prefix("urn:altinn:resource:").unwrap_or(r);
                if char_len(id) > 255 || id.contains(':') || id.is_empty() {
                    err(
                        "Correspondence/ResourceId",
                        "ResourceId must be at most 255 characters and may not contain ':' after an optional 'urn:altinn:resource:' prefix",
                    );
                }
            }
        }
        match c.senders_reference.as_deref() {
            None | Some("") => err(
                "Correspondence/SendersReference",
                "The SendersReference field is required.",
            ),
            Some(s) if char_len(s) > content::SENDERS_REFERENCE_MAX => err(
                "Correspondence/SendersReference",
                "The field SendersReference must be a string with a maximum length of 4096.",
            ),
            _ => {}
        }
        if let Some(m) = &c.message_sender
            && char_len(m) > content::MESSAGE_SENDER_MAX
        {
            err(
                "Correspondence/MessageSender",
                "The field MessageSender must be a string with a maximum length of 255.",
            );
        }
        if c.content.is_none() {
            err("Correspondence/Content", "The Content field is required.");
        }
        if let Some(content) = &c.content {
            if let Some(l) = &content.language
                && !l.trim().is_empty()
                && char_len(l) != 2
            {
                err(
                    "Correspondence/Content/Language",
                    "The ISO6391 field must be exactly 2 characters long!",
                );
            }
            match content.message_title.as_deref() {
                None | Some("") => err(
                    "Correspondence/Content/MessageTitle",
                    "The MessageTitle field is required.",
                ),
                Some(t) if char_len(t) > content::TITLE_MAX => err(
                    "Correspondence/Content/MessageTitle",
                    "The field MessageTitle must be a string with a maximum length of 255.",
                ),
                _ => {}
            }
            if let Some(s) = &content.message_summary
                && char_len(s) > content::SUMMARY_MAX
            {
                err(
                    "Correspondence/Content/MessageSummary",
                    "The field MessageSummary must be a string with a maximum length of 255.",
                );
            }
            match content.message_body.as_deref() {
                None | Some("") => err(
                    "Correspondence/Content/MessageBody",
                    "The MessageBody field is required.",
                ),
                Some(b) if char_len(b) > content::BODY_MAX => err(
                    "Correspondence/Content/MessageBody",
                    "The field MessageBody must be a string with a maximum length of 30000.",
                ),
                _ => {}
            }
            for (i, a) in content.attachments.iter().flatten().enumerate() {
                a.validate(i, &mut attachment_errs);
            }
        }
        // The reference's list attributes report the first fault of a list, in this order.
        if let Some(refs) = &c.external_references {
            let path = "Correspondence/ExternalReferences";
            if refs.len() > content::EXTERNAL_REFERENCES_MAX {
                err(path, "externalReferences can contain at most 10 references");
            } else if refs
                .iter()
                .any(|r| r.reference_type == ReferenceType::DialogportenTransmissionId)
            {
                err(
                    path,
                    "Cannot initialize a correspondence with pre-existing transmission defined",
                );
            } else if refs.iter().any(|r| {
                r.reference_type == ReferenceType::DialogportenTransmissionType
                    && !is_transmission_type(&r.reference_value)
            }) {
                err(
                    path,
                    "DialogportenTransmissionType referenceValue must be a valid transmission type",
                );
            }
        }
        if let Some(props) = &c.property_list {
            let path = "Correspondence/PropertyList";
            let long_key = props
                .keys()
                .find(|k| char_len(k) > content::PROPERTY_KEY_MAX);
            let long_value = props
                .values()
                .find(|v| char_len(v) > content::PROPERTY_VALUE_MAX);
            if props.len() > content::PROPERTY_LIST_MAX {
                err(path, "propertyList can contain at most 10 properties");
            } else if let Some(k) = long_key {
                err(
                    path,
                    &format!(
                        "propertyList Key can not be longer than 50. Length:{}, KeyValue:{k}",
                        char_len(k)
                    ),
                );
            } else if let Some(v) = long_value {
                err(
                    path,
                    &format!(
                        "propertyList Value can not be longer than 300. Length:{}, Value:{v}",
                        char_len(v)
                    ),
                );
            }
        }
        errs.extend(attachment_errs);
        errs
    }
}

/// The value of a `DialogportenTransmissionType` reference: a transmission type's name, any
/// case (reference §3.1).
fn is_transmission_type(value: &str) -> bool {
    const TYPES: [&str; 8] = [
        "Information",
        "Acceptance",
        "Rejection",
        "Request",
        "Alert",
        "Decision",
        "Submission",
        "Correction",
    ];
    TYPES.iter().any(|t| t.eq_ignore_ascii_case(value.trim()))
}

/// The reference's model-validation text for a refused recipient (reference §5.2). An
/// organisation number that fails Melding's mod-11 check says so, which the reference does not
/// check (a deliberate deviation, README).
pub fn recipient_message(e: &RecipientError) -> String {
    match e {
        RecipientError::Empty => "Recipients can not contain null or empty values".into(),
        RecipientError::Format => "Recipient should be an organization number in the format 'urn:altinn:organization:identifier-no:organizationnumber' or the format countrycode:organizationnumber, for instance 0192:910753614, a national identity number, an idporten email URN in the format 'urn:altinn:person:idporten-email:email', or a legacy selfidentified URN in the format 'urn:altinn:person:legacy-selfidentified:username'".into(),
        RecipientError::NationalId(_) => {
            "The given Recipient national identity number is not valid".into()
        }
        RecipientError::Email => "The given Recipient email address is not valid".into(),
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Responses

/// `{"correspondences": [...], "attachmentIds": [...]}`
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InitializeCorrespondencesResponseExt {
    pub correspondences: Vec<InitializedCorrespondencesExt>,
    pub attachment_ids: Vec<Uuid>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InitializedCorrespondencesExt {
    pub correspondence_id: Uuid,
    #[schema(example = "ReadyForPublish")]
    pub status: String,
    pub recipient: String,
    #[schema(value_type = Option<Vec<Object>>)]
    pub notifications: Option<Vec<serde_json::Value>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CorrespondenceContentExt {
    pub language: String,
    pub message_title: String,
    pub message_summary: String,
    pub message_body: String,
    pub attachments: Vec<CorrespondenceAttachmentExt>,
}

/// `GET …/correspondence/{id}`
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CorrespondenceOverviewExt {
    pub resource_id: String,
    pub sender: String,
    pub senders_reference: String,
    pub message_sender: Option<String>,
    pub content: CorrespondenceContentExt,
    #[serde(serialize_with = "crate::time::serialize")]
    pub requested_publish_time: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::serialize_opt")]
    pub due_date_time: Option<DateTime<Utc>>,
    pub external_references: Vec<ExternalReferenceExt>,
    pub property_list: BTreeMap<String, String>,
    pub reply_options: Vec<CorrespondenceReplyOptionExt>,
    #[schema(value_type = Option<Object>)]
    pub notification: Option<serde_json::Value>,
    pub ignore_reservation: Option<bool>,
    pub is_confirmation_needed: bool,
    pub is_confidential: bool,
    pub allow_forwarding: bool,
    pub recipient: String,
    pub correspondence_id: Uuid,
    #[serde(serialize_with = "crate::time::serialize")]
    pub created: DateTime<Utc>,
    pub status: String,
    pub status_text: String,
    #[serde(serialize_with = "crate::time::serialize")]
    pub status_changed: DateTime<Utc>,
    #[schema(value_type = Vec<Object>)]
    pub notifications: Vec<serde_json::Value>,
    pub altinn2_correspondence_id: Option<i64>,
    #[serde(serialize_with = "crate::time::serialize_opt")]
    pub published: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::time::serialize_opt")]
    pub read: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CorrespondenceStatusEventExt {
    pub status: String,
    pub status_text: String,
    #[serde(serialize_with = "crate::time::serialize")]
    pub status_changed: DateTime<Utc>,
}

/// `GET …/correspondence/{id}/details`: the overview plus the status history.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CorrespondenceDetailsExt {
    #[serde(flatten)]
    pub overview: CorrespondenceOverviewExt,
    pub status_history: Vec<CorrespondenceStatusEventExt>,
    pub system_label: String,
}

/// `GET …/correspondence`: ids newest first. `nextCursor` (a Melding addition) continues the
/// listing when a page was full.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CorrespondencesExt {
    pub ids: Vec<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::parse_json;

    fn valid() -> serde_json::Value {
        serde_json::json!({
            "correspondence": {
                "resourceId": "kommunepost", "sendersReference": "ref-1",
                "content": {"language": "nb", "messageTitle": "Vedtak", "messageBody": "Tekst"}
            },
            "recipients": ["0192:991825827"]
        })
    }

    #[test]
    fn a_valid_request_has_no_field_errors() {
        let req: InitializeCorrespondencesExt = parse_json(valid().to_string().as_bytes()).unwrap();
        assert!(req.validate().is_empty());
    }

    #[test]
    fn missing_and_too_long_fields_are_named() {
        let mut v = valid();
        v["correspondence"]["content"]["messageTitle"] = "x".repeat(256).into();
        v["correspondence"]["sendersReference"] = serde_json::Value::Null;
        v["recipients"] = serde_json::json!(["0192:991825827", "nonsense"]);
        v["idempotentKey"] = "00000000-0000-0000-0000-000000000000".into();
        let req: InitializeCorrespondencesExt = parse_json(v.to_string().as_bytes()).unwrap();
        let paths: Vec<String> = req.validate().into_iter().map(|e| e.path).collect();
        assert_eq!(
            paths,
            vec![
                "Recipients[1]",
                "IdempotentKey",
                "Correspondence/SendersReference",
                "Correspondence/Content/MessageTitle"
            ]
        );
    }

    #[test]
    fn reference_types_accept_names_and_numbers() {
        let r: ExternalReferenceExt =
            parse_json(br#"{"ReferenceValue": "x", "referenceType": "generic"}"#).unwrap();
        assert_eq!(r.reference_type, ReferenceType::Generic);
        let r: ExternalReferenceExt =
            parse_json(br#"{"referenceValue": "x", "referenceType": 3}"#).unwrap();
        assert_eq!(r.reference_type, ReferenceType::DialogportenDialogId);
        assert!(
            parse_json::<ExternalReferenceExt>(
                br#"{"referenceValue": "x", "referenceType": "Nope"}"#
            )
            .is_err()
        );
    }
}
