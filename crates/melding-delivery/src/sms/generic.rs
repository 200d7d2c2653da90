//! Melding's generic JSON gateway shape (see [`super::GatewayProtocol::GenericJson`]).

use reqwest::{RequestBuilder, StatusCode};
use serde::{Deserialize, Serialize};

use super::SmsMessage;
use crate::error::{PermanentKind, SendError};
use crate::secret::Secret;

/// The body POSTed for one SMS.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SendBody<'a> {
    reference: &'a str,
    sender: &'a str,
    to: &'a str,
    text: &'a str,
    time_to_live_seconds: u64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Accepted {
    gateway_reference: String,
}

#[derive(Debug, Deserialize)]
struct Refused {
    error: Option<String>,
}

pub(super) fn send_request(
    request: RequestBuilder,
    bearer_token: Option<&Secret>,
    message: &SmsMessage,
) -> RequestBuilder {
    let request = request.json(&SendBody {
        reference: &message.reference,
        sender: message.sender.as_str(),
        to: message.to.as_str(),
        text: &message.text,
        time_to_live_seconds: message.time_to_live.as_secs(),
    });
    match bearer_token {
        Some(token) => request.bearer_auth(token.expose()),
        None => request,
    }
}

/// The gateway's reference from a 2xx answer; a 4xx is permanent (an invalid recipient when
/// the body says `"error": "invalidRecipient"`). A 2xx without a readable reference is
/// transient: we sent our own `reference`, by which the gateway recognises a repeat.
pub(super) fn read_response(status: StatusCode, body: &[u8]) -> Result<String, SendError> {
    if status.is_success() {
        return serde_json::from_slice::<Accepted>(body)
            .map(|a| a.gateway_reference)
            .map_err(|e| SendError::transient(format!("HTTP {status} without a reference: {e}")));
    }
    let error = serde_json::from_slice::<Refused>(body)
        .ok()
        .and_then(|r| r.error);
    let kind = match error.as_deref() {
        Some("invalidRecipient") => PermanentKind::InvalidRecipient,
        _ => PermanentKind::Rejected,
    };
    Err(SendError::permanent(
        kind,
        format!("HTTP {status}: {}", error.as_deref().unwrap_or("refused")),
    ))
}
