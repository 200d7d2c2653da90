//! The e-Boks adapter, in a shape of **our own**.
//!
//! e-Boks publishes no sender API we could read (public senders in Norway reach e-Boks through
//! Digdir's DPI / meldingsformidler, `reference/delivery-chain.md` §3.3), so this adapter speaks
//! a plain JSON shape that a small integration in front of e-Boks, or e-Boks' real API once
//! known, can be fitted to. **Everything below is assumption**:
//!
//! - deliver: `POST {base}/messages` with `Authorization: Bearer <token>`,
//!   `Idempotency-Key: <reference>` and the JSON body
//!   `{"messageId", "recipient": {"nationalIdentityNumber" | "organisationNumber",
//!   "mailboxAddress"}, "sender": {"organisationNumber", "name"}, "subject", "documents":
//!   [{"role": "primary" | "attachment", "fileName", "mediaType", "content" (base64)}]}`,
//!   answered 2xx with `{"messageId", "status"}`; 409 = this `messageId` was taken before
//!   (treated as success); 4xx with `{"error": "unknownRecipient"}` = no such mailbox;
//! - status: `GET {base}/messages/{messageId}/status` answered
//!   `{"status": "PENDING" | "DELIVERED" | "FAILED", "deliveredAt"?, "reason"?}`;
//! - callback: e-Boks POSTs the same status object plus `"messageId"` to us, with
//!   `X-Eboks-Signature: <base64 HMAC-SHA256 of the body under the shared callback secret>`.
//!
//! Status classes are the crate's: 429 → slow down, 5xx/408/401/403 → transient, other 4xx →
//! permanent.

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::http::{classify_status, network};
use super::{
    CallbackError, DigitalMailbox, MailboxMessage, MailboxProvider, MailboxReceipt,
    MailboxRecipientId, MailboxReference, MailboxSetupError, MailboxStatus, MailboxSubmission,
};
use crate::error::{PermanentKind, SendError};
use crate::secret::Secret;

/// The header carrying the callback's signature (assumed).
pub const CALLBACK_SIGNATURE_HEADER: &str = "x-eboks-signature";

/// Settings of the e-Boks channel (assumed API, see the module documentation).
#[derive(Debug, Clone)]
pub struct EboksConfig {
    /// The API's base URL, without a trailing slash.
    pub base_url: String,
    /// Sent as `Authorization: Bearer <token>`.
    pub api_token: Secret,
    /// The shared secret e-Boks signs status callbacks with; without it callbacks are refused
    /// ([`CallbackError::NotSupported`]) and statuses must be polled.
    pub callback_secret: Option<Secret>,
    /// How long one request may take, connection included, before it is a transient failure.
    pub timeout: Duration,
}

/// Delivers letters to e-Boks (assumed API, see the module documentation).
#[derive(Debug, Clone)]
pub struct EboksMailbox {
    client: reqwest::Client,
    base_url: String,
    api_token: Secret,
    callback_secret: Option<Secret>,
}

impl EboksMailbox {
    /// An e-Boks client with its own connection pool.
    ///
    /// Errors: [`MailboxSetupError`] when the base URL is not a URL or the HTTP client's TLS
    /// backend does not start.
    pub fn new(config: EboksConfig) -> Result<Self, MailboxSetupError> {
        let base_url = config.base_url.trim_end_matches('/').to_owned();
        reqwest::Url::parse(&base_url)
            .map_err(|e| MailboxSetupError::BaseUrl(format!("{base_url}: {e}")))?;
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| MailboxSetupError::Client(e.to_string()))?;
        Ok(EboksMailbox {
            client,
            base_url,
            api_token: config.api_token,
            callback_secret: config.callback_secret,
        })
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SendBody<'a> {
    message_id: &'a str,
    recipient: RecipientBody<'a>,
    sender: SenderBody<'a>,
    subject: &'a str,
    documents: Vec<DocumentBody<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RecipientBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    national_identity_number: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    organisation_number: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mailbox_address: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SenderBody<'a> {
    organisation_number: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DocumentBody<'a> {
    role: &'static str,
    file_name: &'a str,
    media_type: &'a str,
    content: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Accepted {
    message_id: Option<String>,
    status: Option<String>,
    delivered_at: Option<DateTime<Utc>>,
    reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusBody {
    status: String,
    delivered_at: Option<DateTime<Utc>>,
    reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CallbackBody {
    message_id: String,
    #[serde(flatten)]
    status: StatusBody,
}

#[derive(Deserialize)]
struct Refused {
    error: Option<String>,
}

/// The state a status word names; `None` for a word we do not know.
fn status_of(
    status: &str,
    delivered_at: Option<DateTime<Utc>>,
    reason: Option<String>,
) -> Option<MailboxStatus> {
    match status {
        "PENDING" => Some(MailboxStatus::Pending),
        "DELIVERED" => Some(MailboxStatus::Delivered { at: delivered_at }),
        "FAILED" => Some(MailboxStatus::Failed {
            reason: reason.unwrap_or_else(|| "e-Boks gave no reason".to_owned()),
        }),
        _ => None,
    }
}

fn refusal(status: StatusCode, body: &[u8]) -> SendError {
    let error = serde_json::from_slice::<Refused>(body)
        .ok()
        .and_then(|r| r.error);
    let kind = match error.as_deref() {
        Some("unknownRecipient") => PermanentKind::InvalidRecipient,
        _ => PermanentKind::Rejected,
    };
    SendError::permanent(
        kind,
        format!("HTTP {status}: {}", error.as_deref().unwrap_or("refused")),
    )
}

#[async_trait]
impl DigitalMailbox for EboksMailbox {
    #[tracing::instrument(skip_all, fields(reference = %message.reference, provider = "e-boks"))]
    async fn deliver(&self, message: &MailboxMessage) -> Result<MailboxSubmission, SendError> {
        let (pin, org) = match &message.recipient.id {
            MailboxRecipientId::Person(id) => (Some(id.as_str()), None),
            MailboxRecipientId::Organisation(org) => (None, Some(org.as_str())),
        };
        let primary_name = format!(
            "{}.{}",
            message.reference,
            message.primary_document.file_type()
        );
        let mut documents = vec![DocumentBody {
            role: "primary",
            file_name: &primary_name,
            media_type: message.primary_document.media_type(),
            content: BASE64.encode(message.primary_document.bytes()),
        }];
        documents.extend(message.attachments.iter().map(|a| DocumentBody {
            role: "attachment",
            file_name: &a.name,
            media_type: &a.media_type,
            content: BASE64.encode(&a.bytes),
        }));
        let body = SendBody {
            message_id: message.reference.as_str(),
            recipient: RecipientBody {
                national_identity_number: pin,
                organisation_number: org,
                mailbox_address: message.recipient.mailbox_address.as_deref(),
            },
            sender: SenderBody {
                organisation_number: message.sender.org_number.as_str(),
                name: &message.sender.name,
            },
            subject: &message.subject,
            documents,
        };
        let response = self
            .client
            .post(format!("{}/messages", self.base_url))
            .bearer_auth(self.api_token.expose())
            .header("Idempotency-Key", message.reference.as_str())
            .json(&body)
            .send()
            .await
            .map_err(network)?;
        let status = response.status();
        let headers: HeaderMap = response.headers().clone();
        let answer = response.bytes().await.map_err(network)?;
        if let Some(error) = classify_status(status, &headers) {
            tracing::warn!(%status, "e-Boks did not take the letter");
            return Err(error);
        }
        let submission = |already_submitted, provider_reference, status| MailboxSubmission {
            reference: message.reference.clone(),
            provider: MailboxProvider::EBoks,
            provider_reference,
            already_submitted,
            status,
        };
        if status == StatusCode::CONFLICT {
            tracing::info!("e-Boks already had this letter");
            return Ok(submission(
                true,
                message.reference.to_string(),
                MailboxStatus::Pending,
            ));
        }
        if !status.is_success() {
            tracing::warn!(%status, "e-Boks refused the letter");
            return Err(refusal(status, &answer));
        }
        // A 2xx whose body we cannot read still means e-Boks has the letter: ask later.
        let accepted = serde_json::from_slice::<Accepted>(&answer).ok();
        let (provider_reference, state) = match accepted {
            Some(a) => (
                a.message_id
                    .unwrap_or_else(|| message.reference.to_string()),
                a.status
                    .and_then(|s| status_of(&s, a.delivered_at, a.reason))
                    .unwrap_or(MailboxStatus::Pending),
            ),
            None => (message.reference.to_string(), MailboxStatus::Pending),
        };
        Ok(submission(false, provider_reference, state))
    }

    #[tracing::instrument(skip_all, fields(reference = %reference, provider = "e-boks"))]
    async fn delivery_status(
        &self,
        reference: &MailboxReference,
    ) -> Result<MailboxStatus, SendError> {
        // The reference is URL-safe by construction (see MailboxReference).
        let response = self
            .client
            .get(format!("{}/messages/{reference}/status", self.base_url))
            .bearer_auth(self.api_token.expose())
            .send()
            .await
            .map_err(network)?;
        let status = response.status();
        let headers: HeaderMap = response.headers().clone();
        let answer = response.bytes().await.map_err(network)?;
        if let Some(error) = classify_status(status, &headers) {
            return Err(error);
        }
        if !status.is_success() {
            return Err(refusal(status, &answer));
        }
        let body: StatusBody = serde_json::from_slice(&answer)
            .map_err(|e| SendError::transient(format!("e-Boks status answer: {e}")))?;
        let word = body.status.clone();
        status_of(&body.status, body.delivered_at, body.reason).ok_or_else(|| {
            SendError::transient(format!("e-Boks status {word:?} is not one we know"))
        })
    }

    /// Checks `X-Eboks-Signature` (base64 HMAC-SHA256 of the raw body under the callback
    /// secret, compared in constant time) and reads one status report.
    fn parse_callback(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Vec<MailboxReceipt>, CallbackError> {
        let Some(secret) = &self.callback_secret else {
            return Err(CallbackError::NotSupported);
        };
        let signature = headers
            .get(CALLBACK_SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| BASE64.decode(v.trim()).ok())
            .ok_or(CallbackError::BadSignature)?;
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
            .map_err(|_| CallbackError::NotSupported)?;
        mac.update(body);
        mac.verify_slice(&signature)
            .map_err(|_| CallbackError::BadSignature)?;
        let report: CallbackBody =
            serde_json::from_slice(body).map_err(|e| CallbackError::Malformed(e.to_string()))?;
        let reference = MailboxReference::parse(&report.message_id)
            .map_err(|e| CallbackError::Malformed(e.to_string()))?;
        let word = report.status.status.clone();
        let status = status_of(
            &report.status.status,
            report.status.delivered_at,
            report.status.reason,
        )
        .ok_or_else(|| CallbackError::Malformed(format!("unknown status {word:?}")))?;
        Ok(vec![MailboxReceipt { reference, status }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailbox(secret: Option<&str>) -> EboksMailbox {
        EboksMailbox::new(EboksConfig {
            base_url: "http://127.0.0.1:9".into(),
            api_token: "t".into(),
            callback_secret: secret.map(Into::into),
            timeout: Duration::from_secs(1),
        })
        .unwrap()
    }

    fn signed(secret: &str, body: &[u8]) -> HeaderMap {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body);
        let mut headers = HeaderMap::new();
        headers.insert(
            CALLBACK_SIGNATURE_HEADER,
            BASE64.encode(mac.finalize().into_bytes()).parse().unwrap(),
        );
        headers
    }

    #[test]
    fn a_signed_callback_is_read() {
        let body =
            br#"{"messageId":"corr-1","status":"DELIVERED","deliveredAt":"2026-11-30T09:00:00Z"}"#;
        let receipts = mailbox(Some("s3cret"))
            .parse_callback(&signed("s3cret", body), body)
            .unwrap();
        assert_eq!(
            receipts,
            vec![MailboxReceipt {
                reference: MailboxReference::parse("corr-1").unwrap(),
                status: MailboxStatus::Delivered {
                    at: Some("2026-11-30T09:00:00Z".parse().unwrap())
                },
            }]
        );
        let failed = br#"{"messageId":"corr-2","status":"FAILED","reason":"mailbox closed"}"#;
        assert_eq!(
            mailbox(Some("s3cret"))
                .parse_callback(&signed("s3cret", failed), failed)
                .unwrap()[0]
                .status,
            MailboxStatus::Failed {
                reason: "mailbox closed".into()
            }
        );
    }

    #[test]
    fn callbacks_with_a_wrong_or_missing_signature_are_refused() {
        let body = br#"{"messageId":"corr-1","status":"DELIVERED"}"#;
        let mailbox = mailbox(Some("s3cret"));
        assert_eq!(
            mailbox.parse_callback(&signed("other", body), body),
            Err(CallbackError::BadSignature)
        );
        assert_eq!(
            mailbox.parse_callback(&HeaderMap::new(), body),
            Err(CallbackError::BadSignature)
        );
        // A body changed after signing.
        let tampered = br#"{"messageId":"corr-9","status":"DELIVERED"}"#;
        assert_eq!(
            mailbox.parse_callback(&signed("s3cret", body), tampered),
            Err(CallbackError::BadSignature)
        );
    }

    #[test]
    fn unreadable_callbacks_and_unconfigured_secrets() {
        let body = br#"{"messageId":"corr-1","status":"LOST"}"#;
        assert!(matches!(
            mailbox(Some("s")).parse_callback(&signed("s", body), body),
            Err(CallbackError::Malformed(_))
        ));
        assert_eq!(
            mailbox(None).parse_callback(&signed("s", body), body),
            Err(CallbackError::NotSupported)
        );
    }
}
