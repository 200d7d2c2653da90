//! Correspondence requests and responses.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use melding_domain::ResourceId;
use melding_domain::content::{self, char_len};
use melding_domain::correspondence::{ExternalReference, ReferenceType, ReplyOption};
use melding_domain::recipient::{Recipient, RecipientError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::attachment::{
    CorrespondenceAttachmentExt, InitializeCorrespondenceAttachmentExt, ValidAttachment,
};
use crate::check::{self, Problems};
use crate::notification::{
    InitializeCorrespondenceNotificationExt, InitializedCorrespondencesNotificationsExt,
    ValidNotification,
};
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
    /// The notification order (reference §8.1).
    pub notification: Option<InitializeCorrespondenceNotificationExt>,
    pub ignore_reservation: Option<bool>,
    pub is_confirmation_needed: Option<bool>,
    pub is_confidential: Option<bool>,
    pub allow_forwarding: Option<bool>,
    /// Melding addition (SvarUt's `kunDigitalLevering`): never print this letter. Where its
    /// resource is in the delivery chain and no digital route exists, it ends "not delivered"
    /// instead of on paper. False when not given.
    pub digital_only: Option<bool>,
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

// ---------------------------------------------------------------------------------------------
// Requests after the model checks

/// `POST /correspondence` after the model checks: every required field present, every length
/// and format right, the recipients parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidInitializeCorrespondences {
    /// The letter, the same for every recipient.
    pub correspondence: ValidCorrespondence,
    /// 1–[`MAX_RECIPIENTS`] recipients in their normalised form, in the order given.
    pub recipients: Vec<Recipient>,
    /// Shared attachments the letters link to (none when not given).
    pub existing_attachments: Vec<Uuid>,
    /// A GUID other than all zeros.
    pub idempotent_key: Option<Uuid>,
}

/// The letter of a request after the model checks.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidCorrespondence {
    /// The resource, without its optional URN prefix.
    pub resource_id: ResourceId,
    /// 1–4096 characters.
    pub senders_reference: String,
    /// At most 255 characters; the business rules check it is plain text (1039).
    pub message_sender: Option<String>,
    /// What the recipient reads.
    pub content: ValidContent,
    /// When the letter is published (UTC); `None` publishes at once.
    pub requested_publish_time: Option<DateTime<Utc>>,
    /// When the recipient must have answered (UTC).
    pub due_date_time: Option<DateTime<Utc>>,
    /// At most 10, no `DialogportenTransmissionId`, transmission types named rightly.
    pub external_references: Vec<ExternalReference>,
    /// At most 10 entries, keys ≤ 50 and values ≤ 300 characters.
    pub property_list: BTreeMap<String, String>,
    /// The links to answer by; the business rules check the URLs (1035).
    pub reply_options: Vec<ReplyOption>,
    /// The notification order after its model checks; the business rules (3001–3025) are the
    /// use case's.
    pub notification: Option<ValidNotification>,
    /// `Some(true)` sends to persons reserved against digital post.
    pub ignore_reservation: Option<bool>,
    /// False when not given.
    pub is_confirmation_needed: bool,
    /// False when not given.
    pub is_confidential: bool,
    /// False when not given.
    pub allow_forwarding: bool,
    /// Never print (Melding addition); false when not given.
    pub digital_only: bool,
}

/// A letter's content after the model checks; the business rules check the rest (1002,
/// 1020–1023, 1037, 1042).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidContent {
    /// Two characters when given; `nb` is the business rules' default.
    pub language: Option<String>,
    /// 1–255 characters.
    pub title: String,
    /// At most 255 characters.
    pub summary: Option<String>,
    /// 1–30 000 characters.
    pub body: String,
    /// New attachments, each needing a file part (multipart only).
    pub attachments: Vec<ValidAttachment>,
}

/// The most recipients one request may name.
pub const MAX_RECIPIENTS: usize = 500;

/// The model checks Altinn runs before any business rule: required fields, lengths and
/// formats. Each failure names the field's model path.
impl InitializeCorrespondencesExt {
    /// Checks the request in the reference's order (Recipients, IdempotentKey, then the
    /// correspondence; errors of new attachments come last) and answers it in checked form.
    ///
    /// Errors: every field error, in that order. Without a correspondence object, only the
    /// errors before it and `Correspondence` itself.
    pub fn validate(self) -> Result<ValidInitializeCorrespondences, Vec<FieldError>> {
        let mut p = Problems::default();
        let recipients = p.take_all(recipients(self.recipients));
        let idempotent_key = p.take(check::idempotent_key(self.idempotent_key.as_deref()));
        let Some(c) = self.correspondence else {
            p.push(check::required("Correspondence", "Correspondence"));
            return p.finish(None);
        };
        let correspondence = c.validate(&mut p);
        let valid = match (recipients, idempotent_key, correspondence) {
            (Some(recipients), Some(idempotent_key), Some(correspondence)) => {
                Some(ValidInitializeCorrespondences {
                    correspondence,
                    recipients,
                    existing_attachments: self.existing_attachments.unwrap_or_default(),
                    idempotent_key,
                })
            }
            _ => None,
        };
        p.finish(valid)
    }
}

impl BaseCorrespondenceExt {
    /// The checks of the correspondence object, recorded in `p`: ResourceId, SendersReference,
    /// MessageSender, Content, ExternalReferences, PropertyList, Notification, then the new
    /// attachments'.
    fn validate(self, p: &mut Problems) -> Option<ValidCorrespondence> {
        const AT: &str = "Correspondence/";
        let resource_id = p.take(check::resource_id(AT, self.resource_id.as_deref()));
        let senders_reference = p.take(check::senders_reference(AT, self.senders_reference));
        let message_sender = p.take(check::optional_text(
            AT,
            "MessageSender",
            self.message_sender,
            content::MESSAGE_SENDER_MAX,
        ));
        // The reference reports the new attachments' errors after everything else.
        let mut attachment_problems = Problems::default();
        let content = match self.content {
            None => {
                p.push(check::required("Correspondence/Content", "Content"));
                None
            }
            Some(c) => c.validate(p, &mut attachment_problems),
        };
        let external_references = p.take(external_references(self.external_references));
        let property_list = p.take(property_list(self.property_list));
        let notification = match self.notification {
            None => Some(None),
            Some(n) => n.validate(p).map(Some),
        };
        p.append(attachment_problems);
        Some(ValidCorrespondence {
            resource_id: resource_id?,
            senders_reference: senders_reference?,
            message_sender: message_sender?,
            content: content?,
            requested_publish_time: self.requested_publish_time,
            due_date_time: self.due_date_time,
            external_references: external_references?,
            property_list: property_list?,
            reply_options: self
                .reply_options
                .unwrap_or_default()
                .into_iter()
                .map(|o| ReplyOption {
                    url: o.link_url,
                    text: o.link_text,
                })
                .collect(),
            notification: notification?,
            ignore_reservation: self.ignore_reservation,
            is_confirmation_needed: self.is_confirmation_needed.unwrap_or(false),
            is_confidential: self.is_confidential.unwrap_or(false),
            allow_forwarding: self.allow_forwarding.unwrap_or(false),
            digital_only: self.digital_only.unwrap_or(false),
        })
    }
}

impl InitializeCorrespondenceContentExt {
    /// The checks of the content object, recorded in `p`: Language, MessageTitle,
    /// MessageSummary, MessageBody; the new attachments' errors go to `attachments`.
    fn validate(
        self,
        p: &mut Problems,
        attachment_problems: &mut Problems,
    ) -> Option<ValidContent> {
        const AT: &str = "Correspondence/Content/";
        let language = p.take(language(self.language));
        let title = p.take(check::required_text(
            AT,
            "MessageTitle",
            self.message_title,
            content::TITLE_MAX,
        ));
        let summary = p.take(check::optional_text(
            AT,
            "MessageSummary",
            self.message_summary,
            content::SUMMARY_MAX,
        ));
        let body = p.take(check::required_text(
            AT,
            "MessageBody",
            self.message_body,
            content::BODY_MAX,
        ));
        let attachments: Vec<Option<ValidAttachment>> = self
            .attachments
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(i, a)| attachment_problems.take_all(a.validate(i)))
            .collect();
        Some(ValidContent {
            language: language?,
            title: title?,
            summary: summary?,
            body: body?,
            attachments: attachments.into_iter().collect::<Option<_>>()?,
        })
    }
}

/// The recipients list: required, 1–[`MAX_RECIPIENTS`] entries, each one of the forms of
/// reference §5.2.
///
/// Errors: one for the list (`Recipients`), or one per refused entry (`Recipients[i]`).
fn recipients(list: Option<Vec<String>>) -> Result<Vec<Recipient>, Vec<FieldError>> {
    const AT: &str = "Recipients";
    let list = match list {
        None => return Err(vec![check::required(AT, AT)]),
        Some(l) if l.is_empty() => {
            return Err(vec![FieldError::new(AT, "Recipients can not be empty")]);
        }
        Some(l) if l.len() > MAX_RECIPIENTS => {
            return Err(vec![FieldError::new(
                AT,
                format!("Recipients can contain at most {MAX_RECIPIENTS} recipients"),
            )]);
        }
        Some(l) => l,
    };
    let mut p = Problems::default();
    let parsed: Vec<Option<Recipient>> = list
        .iter()
        .enumerate()
        .map(|(i, r)| {
            p.take(
                Recipient::parse(r)
                    .map_err(|e| FieldError::new(format!("{AT}[{i}]"), recipient_message(&e))),
            )
        })
        .collect();
    p.finish(parsed.into_iter().collect())
}

/// The content's language: when given and not blank, exactly two characters (the business
/// rules check it is `nb`, `nn` or `en`, 1023).
///
/// Errors: the reference's ISO 639-1 text.
fn language(value: Option<String>) -> Result<Option<String>, FieldError> {
    match value {
        Some(l) if !l.trim().is_empty() && char_len(&l) != 2 => Err(FieldError::new(
            "Correspondence/Content/Language",
            "The ISO6391 field must be exactly 2 characters long!",
        )),
        l => Ok(l),
    }
}

/// The external references: at most [`content::EXTERNAL_REFERENCES_MAX`], none naming a
/// transmission, and every transmission type one of Dialogporten's. The reference's list
/// attribute reports the first fault only, in that order.
///
/// Errors: one error at `Correspondence/ExternalReferences`.
fn external_references(
    refs: Option<Vec<ExternalReferenceExt>>,
) -> Result<Vec<ExternalReference>, FieldError> {
    let refs = refs.unwrap_or_default();
    let fault = |m: String| Err(FieldError::new("Correspondence/ExternalReferences", m));
    if refs.len() > content::EXTERNAL_REFERENCES_MAX {
        return fault(format!(
            "externalReferences can contain at most {} references",
            content::EXTERNAL_REFERENCES_MAX
        ));
    }
    if refs
        .iter()
        .any(|r| r.reference_type == ReferenceType::DialogportenTransmissionId)
    {
        return fault(
            "Cannot initialize a correspondence with pre-existing transmission defined".into(),
        );
    }
    if refs.iter().any(|r| {
        r.reference_type == ReferenceType::DialogportenTransmissionType
            && !is_transmission_type(&r.reference_value)
    }) {
        return fault(
            "DialogportenTransmissionType referenceValue must be a valid transmission type".into(),
        );
    }
    Ok(refs
        .into_iter()
        .map(|r| ExternalReference {
            value: r.reference_value,
            kind: r.reference_type,
        })
        .collect())
}

/// The property list: at most [`content::PROPERTY_LIST_MAX`] entries, keys of at most
/// [`content::PROPERTY_KEY_MAX`] and values of at most [`content::PROPERTY_VALUE_MAX`]
/// characters. The reference reports the first fault only, in that order.
///
/// Errors: one error at `Correspondence/PropertyList`, naming the long key or value.
fn property_list(
    props: Option<BTreeMap<String, String>>,
) -> Result<BTreeMap<String, String>, FieldError> {
    let props = props.unwrap_or_default();
    let fault = |m: String| Err(FieldError::new("Correspondence/PropertyList", m));
    if props.len() > content::PROPERTY_LIST_MAX {
        return fault(format!(
            "propertyList can contain at most {} properties",
            content::PROPERTY_LIST_MAX
        ));
    }
    if let Some(k) = props
        .keys()
        .find(|k| char_len(k) > content::PROPERTY_KEY_MAX)
    {
        return fault(format!(
            "propertyList Key can not be longer than {}. Length:{}, KeyValue:{k}",
            content::PROPERTY_KEY_MAX,
            char_len(k)
        ));
    }
    if let Some(v) = props
        .values()
        .find(|v| char_len(v) > content::PROPERTY_VALUE_MAX)
    {
        return fault(format!(
            "propertyList Value can not be longer than {}. Length:{}, Value:{v}",
            content::PROPERTY_VALUE_MAX,
            char_len(v)
        ));
    }
    Ok(props)
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
    /// The notification orders written with the letter; `null` when it has none.
    pub notifications: Option<Vec<InitializedCorrespondencesNotificationsExt>>,
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
    /// The letter's forwardings, oldest first (reference §3.2, §4.12).
    pub forwarding_events: Vec<crate::forwarding::CorrespondenceForwardingEventExt>,
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

    fn request(v: &serde_json::Value) -> InitializeCorrespondencesExt {
        parse_json(v.to_string().as_bytes()).unwrap()
    }

    fn paths(v: &serde_json::Value) -> Vec<String> {
        request(v)
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.path)
            .collect()
    }

    #[test]
    fn a_valid_request_comes_out_checked() {
        let mut v = valid();
        v["correspondence"]["resourceId"] = "urn:altinn:resource:kommunepost".into();
        v["recipients"] = serde_json::json!(["0192:991825827", "08089403198"]);
        v["idempotentKey"] = "0193a0c4-5a1e-7c3b-9d2f-1a2b3c4d5e6f".into();
        v["correspondence"]["replyOptions"] =
            serde_json::json!([{"linkURL": "https://svar.no", "linkText": "Svar"}]);
        let ok = request(&v).validate().unwrap();
        assert_eq!(ok.correspondence.resource_id.as_str(), "kommunepost");
        assert_eq!(ok.correspondence.senders_reference, "ref-1");
        assert_eq!(ok.correspondence.content.title, "Vedtak");
        assert_eq!(ok.correspondence.content.body, "Tekst");
        assert_eq!(ok.correspondence.content.summary, None);
        assert!(ok.correspondence.content.attachments.is_empty());
        assert_eq!(
            ok.correspondence.reply_options,
            vec![ReplyOption {
                url: "https://svar.no".into(),
                text: Some("Svar".into())
            }]
        );
        assert!(!ok.correspondence.is_confirmation_needed);
        let urns: Vec<String> = ok.recipients.iter().map(Recipient::urn).collect();
        assert_eq!(
            urns,
            [
                "urn:altinn:organization:identifier-no:991825827",
                "urn:altinn:person:identifier-no:08089403198"
            ]
        );
        assert!(ok.idempotent_key.is_some());
        assert!(ok.existing_attachments.is_empty());
    }

    #[test]
    fn without_a_correspondence_only_what_comes_before_it_is_reported() {
        let v = serde_json::json!({"recipients": ["nonsense"], "idempotentKey": "x"});
        assert_eq!(
            paths(&v),
            ["Recipients[0]", "IdempotentKey", "Correspondence"]
        );
    }

    #[test]
    fn attachment_errors_come_after_the_letter_errors() {
        let mut v = valid();
        v["correspondence"]["content"]["attachments"] = serde_json::json!([{"fileName": "a.pdf"}, {"sendersReference": "r", "checksum": "abc"}]);
        v["correspondence"]["propertyList"] = serde_json::json!({"k": "v".repeat(301)});
        v["correspondence"]["content"]["messageBody"] = serde_json::Value::Null;
        assert_eq!(
            paths(&v),
            [
                "Correspondence/Content/MessageBody",
                "Correspondence/PropertyList",
                "Correspondence/Content/Attachments[0]/SendersReference",
                "Correspondence/Content/Attachments[1]/Checksum",
            ]
        );
    }

    #[test]
    fn recipients_are_required_limited_and_parsed_one_by_one() {
        let message = |list: Option<Vec<String>>| recipients(list).unwrap_err()[0].message.clone();
        assert_eq!(message(None), "The Recipients field is required.");
        assert_eq!(message(Some(vec![])), "Recipients can not be empty");
        assert_eq!(
            message(Some(vec!["0192:991825827".into(); MAX_RECIPIENTS + 1])),
            "Recipients can contain at most 500 recipients"
        );
        assert_eq!(
            recipients(Some(vec!["0192:991825827".into(); MAX_RECIPIENTS]))
                .unwrap()
                .len(),
            MAX_RECIPIENTS
        );
        let errs = recipients(Some(vec![
            String::new(),
            "0192:991825827".into(),
            "08089403199".into(),
        ]))
        .unwrap_err();
        let got: Vec<(&str, &str)> = errs
            .iter()
            .map(|e| (e.path.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "Recipients[0]",
                    "Recipients can not contain null or empty values"
                ),
                (
                    "Recipients[2]",
                    "The given Recipient national identity number is not valid"
                )
            ]
        );
    }

    #[test]
    fn languages_are_two_characters_when_given() {
        assert_eq!(language(None).unwrap(), None);
        assert_eq!(language(Some("nb".into())).unwrap().as_deref(), Some("nb"));
        assert_eq!(language(Some(" ".into())).unwrap().as_deref(), Some(" "));
        assert_eq!(
            language(Some("nob".into())).unwrap_err().message,
            "The ISO6391 field must be exactly 2 characters long!"
        );
    }

    fn reference(value: &str, kind: ReferenceType) -> ExternalReferenceExt {
        ExternalReferenceExt {
            reference_value: value.into(),
            reference_type: kind,
        }
    }

    #[test]
    fn external_references_report_their_first_fault() {
        use ReferenceType as T;
        assert_eq!(external_references(None).unwrap(), vec![]);
        let ok = external_references(Some(vec![reference(
            "Decision",
            T::DialogportenTransmissionType,
        )]))
        .unwrap();
        assert_eq!(ok[0].kind, T::DialogportenTransmissionType);
        let message =
            |refs: Vec<ExternalReferenceExt>| external_references(Some(refs)).unwrap_err().message;
        let mut eleven = vec![reference("x", T::Generic); 10];
        assert!(external_references(Some(eleven.clone())).is_ok());
        eleven.push(reference("x", T::DialogportenTransmissionId));
        assert_eq!(
            message(eleven),
            "externalReferences can contain at most 10 references"
        );
        assert_eq!(
            message(vec![
                reference("Nonsense", T::DialogportenTransmissionType),
                reference("x", T::DialogportenTransmissionId)
            ]),
            "Cannot initialize a correspondence with pre-existing transmission defined"
        );
        assert_eq!(
            message(vec![reference("Nonsense", T::DialogportenTransmissionType)]),
            "DialogportenTransmissionType referenceValue must be a valid transmission type"
        );
    }

    #[test]
    fn property_lists_report_their_first_fault() {
        let list = |pairs: &[(String, String)]| Some(pairs.iter().cloned().collect());
        assert_eq!(property_list(None).unwrap(), BTreeMap::new());
        let longest_key = "k".repeat(content::PROPERTY_KEY_MAX);
        let longest_value = "v".repeat(content::PROPERTY_VALUE_MAX);
        assert!(property_list(list(&[(longest_key.clone(), longest_value.clone())])).is_ok());
        let many: Vec<(String, String)> = (0..11)
            .map(|i| (format!("k{i}"), "v".repeat(301)))
            .collect();
        assert_eq!(
            property_list(list(&many)).unwrap_err().message,
            "propertyList can contain at most 10 properties"
        );
        assert_eq!(
            property_list(list(&[(
                format!("{longest_key}k"),
                format!("{longest_value}v")
            )]))
            .unwrap_err()
            .message,
            format!(
                "propertyList Key can not be longer than 50. Length:51, KeyValue:{longest_key}k"
            )
        );
        assert_eq!(
            property_list(list(&[("k".into(), format!("{longest_value}v"))]))
                .unwrap_err()
                .message,
            format!(
                "propertyList Value can not be longer than 300. Length:301, Value:{longest_value}v"
            )
        );
    }

    #[test]
    fn missing_and_too_long_fields_are_named() {
        let mut v = valid();
        v["correspondence"]["content"]["messageTitle"] = "x".repeat(256).into();
        v["correspondence"]["sendersReference"] = serde_json::Value::Null;
        v["recipients"] = serde_json::json!(["0192:991825827", "nonsense"]);
        v["idempotentKey"] = "00000000-0000-0000-0000-000000000000".into();
        assert_eq!(
            paths(&v),
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
