//! Attachment requests and responses (reference §3.3, §4.14, §5.5).

use chrono::{DateTime, Utc};
use melding_domain::ResourceId;
use melding_domain::attachment::{self, DataLocationType};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::check::{self, Problems};
use crate::problem::FieldError;

/// `POST /correspondence/api/v1/attachment`
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InitializeAttachmentExt {
    pub resource_id: Option<String>,
    /// Deprecated and ignored: the sender is the resource's owner.
    pub sender: Option<String>,
    pub file_name: Option<String>,
    pub display_name: Option<String>,
    #[serde(default)]
    pub is_encrypted: bool,
    /// Lower-case hex MD5 of the file (32 characters); checked when the file arrives.
    pub checksum: Option<String>,
    pub senders_reference: Option<String>,
    pub expiration_in_days: Option<i32>,
}

/// A new attachment in `correspondence.content.attachments`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InitializeCorrespondenceAttachmentExt {
    pub file_name: Option<String>,
    pub display_name: Option<String>,
    #[serde(default)]
    pub is_encrypted: bool,
    pub checksum: Option<String>,
    pub senders_reference: Option<String>,
    pub expiration_in_days: Option<i32>,
    /// Ignored: ids are assigned by Melding.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub id: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "de_location")]
    #[schema(value_type = Option<String>, example = "NewCorrespondenceAttachment")]
    pub data_location_type: Option<DataLocationType>,
}

fn de_location<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<DataLocationType>, D::Error> {
    crate::input::enum_by_name_or_number(
        d,
        DataLocationType::parse_input,
        "InitializeAttachmentDataLocationType",
    )
    .map(Some)
}

/// An attachment's metadata that passed the model checks, from either request shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidAttachment {
    /// The file name as given; an absent one reads as empty, which the business rules refuse
    /// (2010), as the model does not require it. At most [`attachment::FILE_NAME_MAX`]
    /// characters.
    pub file_name: String,
    /// At most [`attachment::DISPLAY_NAME_MAX`] characters.
    pub display_name: Option<String>,
    /// Whether the sender says the file is encrypted.
    pub is_encrypted: bool,
    /// 32 lower-case hex digits (an MD5); an empty checksum is none.
    pub checksum: Option<String>,
    /// 1–4096 characters.
    pub senders_reference: String,
    /// Days the file is kept after publishing; the business rules check the minimum (2017).
    pub expiration_in_days: Option<i32>,
    /// Where the bytes live; Melding when not given.
    pub data_location_type: DataLocationType,
}

/// `POST /attachment` after the model checks: a shared attachment for a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidInitializeAttachment {
    /// The resource, without its optional URN prefix.
    pub resource_id: ResourceId,
    /// The attachment's metadata.
    pub attachment: ValidAttachment,
}

/// The fields both request shapes share, before they are checked.
struct AttachmentFields {
    file_name: Option<String>,
    display_name: Option<String>,
    is_encrypted: bool,
    checksum: Option<String>,
    senders_reference: Option<String>,
    expiration_in_days: Option<i32>,
    data_location_type: Option<DataLocationType>,
}

impl AttachmentFields {
    /// The model checks of one attachment in the reference's order: FileName and DisplayName
    /// lengths, Checksum, SendersReference. `prefix` goes before each field name in the
    /// errors' paths.
    fn validate(self, prefix: &str) -> Result<ValidAttachment, Vec<FieldError>> {
        let mut p = Problems::default();
        let file_name = p.take(check::optional_text(
            prefix,
            "FileName",
            self.file_name,
            attachment::FILE_NAME_MAX,
        ));
        let display_name = p.take(check::optional_text(
            prefix,
            "DisplayName",
            self.display_name,
            attachment::DISPLAY_NAME_MAX,
        ));
        let checksum = p.take(check::checksum(prefix, self.checksum));
        let senders_reference = p.take(check::senders_reference(prefix, self.senders_reference));
        let valid = match (file_name, display_name, checksum, senders_reference) {
            (Some(file_name), Some(display_name), Some(checksum), Some(senders_reference)) => {
                Some(ValidAttachment {
                    file_name: file_name.unwrap_or_default(),
                    display_name,
                    is_encrypted: self.is_encrypted,
                    checksum,
                    senders_reference,
                    expiration_in_days: self.expiration_in_days,
                    data_location_type: self
                        .data_location_type
                        .unwrap_or(DataLocationType::AltinnCorrespondenceAttachment),
                })
            }
            _ => None,
        };
        p.finish(valid)
    }
}

/// An empty checksum means none.
pub fn checksum_of(c: Option<&String>) -> Option<String> {
    c.filter(|c| !c.is_empty()).cloned()
}

impl InitializeAttachmentExt {
    /// The model checks Altinn runs before any business rule: ResourceId, then the
    /// attachment's fields (reference §4.14, §5.5). Each failure names the field.
    ///
    /// Errors: every field error, in the reference's order.
    pub fn validate(self) -> Result<ValidInitializeAttachment, Vec<FieldError>> {
        let mut p = Problems::default();
        let resource_id = p.take(check::resource_id("", self.resource_id.as_deref()));
        let fields = AttachmentFields {
            file_name: self.file_name,
            display_name: self.display_name,
            is_encrypted: self.is_encrypted,
            checksum: self.checksum,
            senders_reference: self.senders_reference,
            expiration_in_days: self.expiration_in_days,
            data_location_type: None,
        };
        let attachment = p.take_all(fields.validate(""));
        let valid = resource_id
            .zip(attachment)
            .map(|(resource_id, attachment)| ValidInitializeAttachment {
                resource_id,
                attachment,
            });
        p.finish(valid)
    }
}

impl InitializeCorrespondenceAttachmentExt {
    /// The model checks of the `index`th new attachment of a letter; errors are named
    /// `Correspondence/Content/Attachments[index]/…`.
    ///
    /// Errors: every field error of this attachment, in the reference's order.
    pub fn validate(self, index: usize) -> Result<ValidAttachment, Vec<FieldError>> {
        AttachmentFields {
            file_name: self.file_name,
            display_name: self.display_name,
            is_encrypted: self.is_encrypted,
            checksum: self.checksum,
            senders_reference: self.senders_reference,
            expiration_in_days: self.expiration_in_days,
            data_location_type: self.data_location_type,
        }
        .validate(&format!("Correspondence/Content/Attachments[{index}]/"))
    }
}

/// `GET /attachment/{id}`
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentOverviewExt {
    pub resource_id: String,
    pub sender: String,
    pub file_name: String,
    pub display_name: Option<String>,
    /// Always false here, as in Altinn (the overview does not map it).
    pub is_encrypted: bool,
    /// Lower-case hex MD5: the one the sender gave, or the one computed at upload; `""` before
    /// the upload when none was given, as in Altinn (never `null`).
    pub checksum: String,
    pub senders_reference: String,
    pub expiration_in_days: Option<i32>,
    pub attachment_id: Uuid,
    #[schema(example = "Published")]
    pub status: String,
    pub status_text: String,
    #[serde(serialize_with = "crate::time::serialize")]
    pub status_changed: DateTime<Utc>,
    pub correspondence_ids: Vec<Uuid>,
    #[schema(example = "application/pdf")]
    pub data_type: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentStatusEventExt {
    pub status: String,
    pub status_text: String,
    #[serde(serialize_with = "crate::time::serialize")]
    pub status_changed: DateTime<Utc>,
}

/// `GET /attachment/{id}/details`: the overview plus the status history.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentDetailsExt {
    #[serde(flatten)]
    pub overview: AttachmentOverviewExt,
    pub status_history: Vec<AttachmentStatusEventExt>,
}

/// An attachment as a letter's overview shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CorrespondenceAttachmentExt {
    pub id: Uuid,
    pub file_name: String,
    pub display_name: Option<String>,
    pub is_encrypted: bool,
    pub checksum: Option<String>,
    pub senders_reference: String,
    /// Always null here, as in Altinn; see `expirationTime`.
    pub expiration_in_days: Option<i32>,
    #[schema(example = "AltinnCorrespondenceAttachment")]
    pub data_location_type: String,
    #[serde(serialize_with = "crate::time::serialize")]
    pub created: DateTime<Utc>,
    pub status: String,
    pub status_text: String,
    #[serde(serialize_with = "crate::time::serialize")]
    pub status_changed: DateTime<Utc>,
    pub data_type: String,
    #[serde(serialize_with = "crate::time::serialize_opt")]
    pub expiration_time: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::parse_json;

    fn shared(body: serde_json::Value) -> Result<ValidInitializeAttachment, Vec<FieldError>> {
        parse_json::<InitializeAttachmentExt>(body.to_string().as_bytes())
            .unwrap()
            .validate()
    }

    #[test]
    fn a_shared_attachment_comes_out_checked() {
        let ok = shared(serde_json::json!({
            "resourceId": "urn:altinn:resource:skatt", "fileName": "a.pdf",
            "sendersReference": "r", "checksum": "", "expirationInDays": 30
        }))
        .unwrap();
        assert_eq!(ok.resource_id.as_str(), "skatt");
        assert_eq!(
            ok.attachment,
            ValidAttachment {
                file_name: "a.pdf".into(),
                display_name: None,
                is_encrypted: false,
                checksum: None,
                senders_reference: "r".into(),
                expiration_in_days: Some(30),
                data_location_type: DataLocationType::AltinnCorrespondenceAttachment,
            }
        );
        // The model does not require a file name; the business rules refuse an empty one.
        let ok =
            shared(serde_json::json!({"resourceId": "skatt", "sendersReference": "r"})).unwrap();
        assert_eq!(ok.attachment.file_name, "");
    }

    #[test]
    fn shared_attachment_errors_come_in_the_references_order() {
        let errs = shared(serde_json::json!({
            "resourceId": "a:b", "fileName": "f".repeat(256), "displayName": "d".repeat(256),
            "checksum": "ABC"
        }))
        .unwrap_err();
        let got: Vec<(&str, &str)> = errs
            .iter()
            .map(|e| (e.path.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "ResourceId",
                    "ResourceId must be at most 255 characters and may not contain ':' after an optional 'urn:altinn:resource:' prefix"
                ),
                (
                    "FileName",
                    "The field FileName must be a string with a maximum length of 255."
                ),
                (
                    "DisplayName",
                    "The field DisplayName must be a string with a maximum length of 255."
                ),
                (
                    "Checksum",
                    "The checksum, if used, must be a MD5 hash with a length of 32 characters"
                ),
                (
                    "SendersReference",
                    "The SendersReference field is required."
                ),
            ]
        );
    }

    #[test]
    fn a_letters_new_attachment_is_named_by_its_index() {
        let a = InitializeCorrespondenceAttachmentExt {
            file_name: Some("a.pdf".into()),
            data_location_type: Some(DataLocationType::ExternalStorage),
            ..Default::default()
        };
        let errs = a.clone().validate(3).unwrap_err();
        assert_eq!(
            errs[0].path,
            "Correspondence/Content/Attachments[3]/SendersReference"
        );
        let ok = InitializeCorrespondenceAttachmentExt {
            senders_reference: Some("r".into()),
            ..a
        }
        .validate(0)
        .unwrap();
        assert_eq!(ok.data_location_type, DataLocationType::ExternalStorage);
    }
}
