//! Attachment requests and responses (reference §3.3, §4.14, §5.5).

use chrono::{DateTime, Utc};
use melding_domain::attachment::DataLocationType;
use melding_domain::content::{self, char_len};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

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

/// The model checks shared by both request shapes; `path` prefixes field names.
fn validate_attachment(
    path: &str,
    file_name: Option<&str>,
    display_name: Option<&str>,
    checksum: Option<&str>,
    senders_reference: Option<&str>,
    errs: &mut Vec<FieldError>,
) {
    let mut err = |f: &str, m: &str| errs.push(FieldError::new(format!("{path}{f}"), m));
    if file_name.is_some_and(|f| char_len(f) > 255) {
        err(
            "FileName",
            "The field FileName must be a string with a maximum length of 255.",
        );
    }
    if display_name.is_some_and(|f| char_len(f) > 255) {
        err(
            "DisplayName",
            "The field DisplayName must be a string with a maximum length of 255.",
        );
    }
    if let Some(c) = checksum
        && !c.is_empty()
    {
        if c.chars().count() != 32 {
            err(
                "Checksum",
                "The checksum, if used, must be a MD5 hash with a length of 32 characters",
            );
        } else if !c
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            err(
                "Checksum",
                "The checksum, if used, must be a MD5 hash in lower case",
            );
        }
    }
    match senders_reference {
        None | Some("") => err(
            "SendersReference",
            "The SendersReference field is required.",
        ),
        Some(s) if char_len(s) > content::SENDERS_REFERENCE_MAX => err(
            "SendersReference",
            "The field SendersReference must be a string with a maximum length of 4096.",
        ),
        _ => {}
    }
}

/// An empty checksum means none.
pub fn checksum_of(c: Option<&String>) -> Option<String> {
    c.filter(|c| !c.is_empty()).cloned()
}

impl InitializeAttachmentExt {
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errs = Vec::new();
        match self.resource_id.as_deref().map(str::trim) {
            None | Some("") => errs.push(FieldError::new(
                "ResourceId",
                "The ResourceId field is required.",
            )),
            Some(r) => {
                let id = r.strip_prefix("urn:altinn:resource:").unwrap_or(r);
                if char_len(id) > 255 || id.contains(':') || id.is_empty() {
                    errs.push(FieldError::new(
                        "ResourceId",
                        "ResourceId must be at most 255 characters and may not contain ':' after an optional 'urn:altinn:resource:' prefix",
                    ));
                }
            }
        }
        validate_attachment(
            "",
            self.file_name.as_deref(),
            self.display_name.as_deref(),
            self.checksum.as_deref(),
            self.senders_reference.as_deref(),
            &mut errs,
        );
        errs
    }
}

impl InitializeCorrespondenceAttachmentExt {
    pub fn validate(&self, index: usize, errs: &mut Vec<FieldError>) {
        validate_attachment(
            &format!("Correspondence/Content/Attachments[{index}]/"),
            self.file_name.as_deref(),
            self.display_name.as_deref(),
            self.checksum.as_deref(),
            self.senders_reference.as_deref(),
            errs,
        );
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
