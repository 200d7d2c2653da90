//! Forwarding requests and responses (reference §4.12) and the details' `forwardingEvents`
//! (reference §3.2).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::check;
use crate::problem::FieldError;

/// `POST …/correspondence/{correspondenceId}/forward`. Property names match
/// case-insensitively (`ForwardTo`, `ForwardingText`), like every request of the API.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ForwardCorrespondenceExt {
    /// The e-mail address to forward the letter to: a strict address (3011) of at most 1000
    /// characters (3027).
    #[schema(example = "kari.nordmann@example.no")]
    pub forward_to: Option<String>,
    /// An optional plain text (1067) of at most 200 characters (1066), put before the letter's
    /// body.
    #[serde(default)]
    pub forwarding_text: Option<String>,
}

impl ForwardCorrespondenceExt {
    /// The address, which the model requires (ASP.NET's `The ForwardTo field is required.` at
    /// `forwardTo`); the business rules (3011, 3027, 1066, 1067) are checked by the use case,
    /// in the reference's order, after the access checks.
    ///
    /// Errors: the one [`FieldError`] of a missing or empty `forwardTo`.
    pub fn forward_to(&self) -> Result<String, FieldError> {
        match self.forward_to.as_deref() {
            Some(to) if !to.is_empty() => Ok(to.to_owned()),
            _ => Err(check::required("ForwardTo", "ForwardTo")),
        }
    }
}

/// `GET …/correspondence/{correspondenceId}/forward/check`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AllowForwardingExt {
    /// Whether the letter's sender allowed forwarding.
    pub allow_forwarding: bool,
}

/// One entry of the details' `forwardingEvents`: who forwarded the letter, when, where to, and
/// when Melding's e-mail channel accepted the forwarded copy.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CorrespondenceForwardingEventExt {
    /// The event's id: what the forward request answered.
    pub forwarding_event_id: Uuid,
    /// When it was forwarded (UTC, ISO 8601).
    #[serde(serialize_with = "crate::time::serialize")]
    pub forwarded_on_date: DateTime<Utc>,
    /// The URN of the party that forwarded it.
    pub forwarded_by_party: String,
    /// The recipient's text, if any.
    pub forwarding_text: Option<String>,
    /// The address it was forwarded to.
    pub forwarded_to_email_address: String,
    /// Altinn's digital mailbox supplier of a forward to a mailbox; always `null` here (Melding
    /// forwards to e-mail addresses only).
    pub mailbox_supplier: Option<String>,
    /// When the e-mail channel accepted the forwarded copy (UTC); `null` until then (Melding
    /// addition).
    #[serde(serialize_with = "crate::time::serialize_opt")]
    pub email_sent: Option<DateTime<Utc>>,
}
