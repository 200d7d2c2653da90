//! The delivery chain's receipts (Melding additions, in SvarUt's vocabulary:
//! `reference/delivery-chain.md` §3.4): a letter's receipt trail, the latest status of many
//! letters at once, and a sender's report that a letter was read in another system.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::problem::FieldError;

/// At most this many ids in one status query.
pub const MAX_RECEIPT_IDS: usize = 1000;

/// One step of a letter's receipt trail.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptEventExt {
    /// SvarUt's status: `MOTTATT`, `AKSEPTERT`, `VARSLET`, `LEST`, `SENDT_SDP`, `LEVERT_SDP`,
    /// `SENDT_PRINT`, `PRINTET`, `IKKE_LEVERT`, `MANUELT_HANDTERT`, or Melding's `SLETTET` (content
    /// deleted at the end of the retention period).
    #[schema(example = "SENDT_PRINT")]
    pub status: String,
    /// What happened, in a sentence.
    pub text: String,
    /// When (UTC, ISO 8601).
    #[serde(serialize_with = "crate::time::serialize")]
    pub at: DateTime<Utc>,
    /// The facts behind the step (the route decision's inputs, pages and costs), if any.
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

/// `GET …/correspondence/{correspondenceId}/receipts`: the letter's receipt trail, oldest
/// first, and its latest status.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptTrailExt {
    /// The letter.
    pub correspondence_id: Uuid,
    /// Its latest receipt status.
    pub status: String,
    /// Every step, oldest first.
    pub events: Vec<ReceiptEventExt>,
    /// When the letter's content and attachments are deleted (UTC): the end of its retention
    /// period (3 months after publication by default). `null` for a letter that is kept until
    /// purged (its resource is not in the delivery chain) or not yet published.
    #[serde(serialize_with = "crate::time::serialize_opt")]
    pub content_deletion_due: Option<DateTime<Utc>>,
}

/// `POST /correspondence/api/v1/correspondence/receipts`: the letters whose status is wanted.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptQueryExt {
    /// 1 to 1,000 correspondence ids.
    pub correspondence_ids: Option<Vec<Uuid>>,
}

impl ReceiptQueryExt {
    /// The ids, 1 to [`MAX_RECEIPT_IDS`].
    ///
    /// Errors: one [`FieldError`] at `CorrespondenceIds` when missing, empty or too many.
    pub fn ids(&self) -> Result<&[Uuid], FieldError> {
        match self.correspondence_ids.as_deref() {
            None | Some([]) => Err(FieldError::new(
                "CorrespondenceIds",
                "The CorrespondenceIds field is required.",
            )),
            Some(ids) if ids.len() > MAX_RECEIPT_IDS => Err(FieldError::new(
                "CorrespondenceIds",
                format!("At most {MAX_RECEIPT_IDS} correspondence ids can be queried at once."),
            )),
            Some(ids) => Ok(ids),
        }
    }
}

/// One letter's latest receipt status (SvarUt's `status-sok` answer).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptStatusExt {
    /// The letter.
    pub correspondence_id: Uuid,
    /// Its latest receipt status.
    #[schema(example = "VARSLET")]
    pub status: String,
    /// When it reached it (UTC, ISO 8601).
    #[serde(serialize_with = "crate::time::serialize")]
    pub last_changed: DateTime<Utc>,
}

/// `POST …/correspondence/{correspondenceId}/read-elsewhere`: the sender reports that the
/// recipient read the letter in another system (SvarUt's `lest`), which stops its print.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReadElsewhereExt {
    /// The other system's name, 1 to 100 characters.
    #[schema(example = "Kommunens saksbehandlingssystem")]
    pub system: Option<String>,
    /// When it was read (UTC); now when absent, and never later than now.
    #[serde(default)]
    pub read_at: Option<DateTime<Utc>>,
}

impl ReadElsewhereExt {
    /// The system's name, trimmed.
    ///
    /// Errors: one [`FieldError`] at `System` when missing, blank or over 100 characters.
    pub fn system(&self) -> Result<String, FieldError> {
        let system = self.system.as_deref().map(str::trim).unwrap_or("");
        if system.is_empty() {
            return Err(FieldError::new("System", "The System field is required."));
        }
        if system.chars().count() > 100 {
            return Err(FieldError::new(
                "System",
                "The field System must be a string with a maximum length of 100.",
            ));
        }
        Ok(system.to_owned())
    }
}
