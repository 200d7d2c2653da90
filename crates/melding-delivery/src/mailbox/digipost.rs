//! The real Digipost adapter: Digipost's REST API, version 8.
//!
//! **From Digipost's published material** (digipost-docs `security.rst`, the
//! `digipost-api-client-java` sources, read for this adapter):
//! - one `POST {base}/messages` per letter, a multipart body of media type
//!   `multipart/vnd.digipost-v8+xml`: first the message XML (`application/vnd.digipost-v8+xml`,
//!   `Content-Disposition: attachment; filename="message"`), then one part per document whose
//!   file name is that document's `uuid` in the XML (`MessageDeliverer.sendMultipartMessage`);
//! - the headers `Date`, `X-Digipost-UserId` (the broker id), `X-Content-SHA256`,
//!   `X-Digipost-Signature`, signed as in [`super::signature`]; `Accept:
//!   application/vnd.digipost-v8+xml`, `MIME-Version: 1.0`;
//! - the answer `message-delivery{message-id, delivery-method, sender-id, status, delivery-time}`
//!   with `status` one of `NOT_COMPLETE`, `COMPLETE`, `DELIVERED`, `DELIVERED_TO_PRINT`;
//! - errors as `error{error-code, error-message, error-type}`; the codes
//!   `DUPLICATE_MESSAGE`, `MESSAGE_ALREADY_SENT`, `DIGIPOST_MESSAGE_ALREADY_DELIVERED`,
//!   `DUPLICATE_DOCUMENT_ID` and `UNKNOWN_RECIPIENT` exist (`ErrorCode.java`);
//! - a document's status at `GET {base}/documents/{sender-id}/{document-uuid}/status`
//!   (`ApiServiceImpl.getDocumentStatus`), answered `document-status` with attributes `uuid`,
//!   `status` (`DELIVERED` / `NOT_DELIVERED`), `created`, `delivered`, `read`, `channel`.
//!
//! **Our assumptions** (not confirmed against a Digipost test account):
//! - which HTTP status the duplicate codes come with: we take them from any 4xx (409 expected);
//! - the element names of the message XML beyond the documentation's example
//!   (`sender-id`, `organisation-number` for organisation recipients);
//! - `PASSWORD` / `NORMAL` as authentication and sensitivity level for every letter (the
//!   correspondence's own security level is not mapped yet);
//! - one Digipost sender account per Melding instance (`sender_id`); per-service-owner sender
//!   accounts are not modelled;
//! - Digipost's signature on its answers is not checked.
//!
//! Idempotency: our reference is the `message-id`, and the document UUIDs are derived from it
//! ([`document_uuid`]), so a resend is the same message to Digipost, and the status can be
//! asked with nothing but the reference.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use melding_domain::Clock;
use reqwest::header::{ACCEPT, CONTENT_TYPE, DATE, HeaderMap};
use reqwest::{StatusCode, Url};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::http::{classify_status, network};
use super::multipart::{self, Part};
use super::signature::{RequestSigner, canonical_request, content_sha256};
use super::{
    DigitalMailbox, MailboxMessage, MailboxProvider, MailboxRecipientId, MailboxReference,
    MailboxSetupError, MailboxStatus, MailboxSubmission,
};
use crate::error::{PermanentKind, SendError};
use crate::secret::Secret;

/// Digipost's XML media type, API version 8.
const MEDIA_TYPE: &str = "application/vnd.digipost-v8+xml";
/// The multipart subtype a message with its documents is sent as.
const MULTIPART_TYPE: &str = "multipart/vnd.digipost-v8+xml";
/// The XML namespace of version 8.
const NAMESPACE: &str = "http://api.digipost.no/schema/v8";
/// Error codes that mean "you sent this message before": the earlier attempt got through.
const DUPLICATE_CODES: [&str; 4] = [
    "DUPLICATE_MESSAGE",
    "MESSAGE_ALREADY_SENT",
    "DIGIPOST_MESSAGE_ALREADY_DELIVERED",
    "DUPLICATE_DOCUMENT_ID",
];

/// Settings of the Digipost channel.
#[derive(Debug, Clone)]
pub struct DigipostConfig {
    /// The API's base URL without a trailing slash, e.g. `https://api.digipost.no` (take the
    /// test and production hosts from Digipost's documentation).
    pub base_url: String,
    /// Our broker id: the Digipost organisation account that owns the certificate, sent as
    /// `X-Digipost-UserId`.
    pub broker_id: u64,
    /// The Digipost sender account the letters appear from (`sender-id`; the broker's own id
    /// when it sends for itself).
    pub sender_id: u64,
    /// The certificate's RSA private key in PEM (PKCS#8 or PKCS#1).
    pub signing_key_pem: Secret,
    /// How long one request may take, connection included, before it is a transient failure.
    pub timeout: Duration,
}

/// Delivers letters to Digipost (see the module documentation for what is verified).
pub struct DigipostMailbox {
    client: reqwest::Client,
    base_url: String,
    broker_id: u64,
    sender_id: u64,
    signer: RequestSigner,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for DigipostMailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DigipostMailbox")
            .field("base_url", &self.base_url)
            .field("broker_id", &self.broker_id)
            .field("sender_id", &self.sender_id)
            .finish_non_exhaustive()
    }
}

impl DigipostMailbox {
    /// A Digipost client. `clock` gives the `Date` header, which Digipost requires within
    /// 5 minutes of its own time.
    ///
    /// Errors: [`MailboxSetupError`] when the base URL or the key cannot be read, or the HTTP
    /// client's TLS backend does not start.
    pub fn new(config: DigipostConfig, clock: Arc<dyn Clock>) -> Result<Self, MailboxSetupError> {
        let base_url = config.base_url.trim_end_matches('/').to_owned();
        Url::parse(&base_url)
            .map_err(|e| MailboxSetupError::BaseUrl(format!("{base_url}: {e}")))?;
        let signer = RequestSigner::from_pem(config.signing_key_pem.expose())
            .map_err(MailboxSetupError::Key)?;
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| MailboxSetupError::Client(e.to_string()))?;
        Ok(DigipostMailbox {
            client,
            base_url,
            broker_id: config.broker_id,
            sender_id: config.sender_id,
            signer,
            clock,
        })
    }

    fn url(&self, path: &str) -> Result<Url, SendError> {
        Url::parse(&format!("{}{path}", self.base_url))
            .map_err(|e| SendError::transient(format!("Digipost URL for {path}: {e}")))
    }

    /// The `Date` header value and the signed headers for a request to `url`.
    fn signed_headers(
        &self,
        method: &str,
        url: &Url,
        content_sha256: Option<&str>,
    ) -> Vec<(&'static str, String)> {
        let date = httpdate::fmt_http_date(SystemTime::from(self.clock.now()));
        let canonical = canonical_request(
            method,
            url.path(),
            url.query(),
            &date,
            content_sha256,
            self.broker_id,
        );
        let mut headers = vec![
            (DATE.as_str(), date),
            ("x-digipost-userid", self.broker_id.to_string()),
        ];
        if let Some(hash) = content_sha256 {
            headers.push(("x-content-sha256", hash.to_owned()));
        }
        headers.push(("x-digipost-signature", self.signer.sign(&canonical)));
        headers
    }
}

/// The UUID of document `index` (0 = the primary document, then the attachments in order) of
/// the letter with `reference`: the first 16 bytes of SHA-256 over a fixed label, the
/// reference and the index, marked as a version 8 (custom) UUID. Derived rather than random so
/// that a resend carries the same documents and the status can be asked from the reference.
/// Not uuid's name-based v5: that needs its `v5` feature and SHA-1, while SHA-256 is here
/// already for the signatures.
pub(super) fn document_uuid(reference: &MailboxReference, index: usize) -> Uuid {
    let digest = Sha256::new()
        .chain_update(b"melding mailbox document\0")
        .chain_update(reference.as_str().as_bytes())
        .chain_update(b"\0")
        .chain_update(index.to_string().as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

#[derive(Serialize)]
#[serde(rename = "message")]
struct MessageXml<'a> {
    #[serde(rename = "@xmlns")]
    xmlns: &'static str,
    #[serde(rename = "message-id")]
    message_id: &'a str,
    #[serde(rename = "sender-id")]
    sender_id: u64,
    recipient: RecipientXml<'a>,
    #[serde(rename = "primary-document")]
    primary_document: DocumentXml<'a>,
    #[serde(rename = "attachment")]
    attachments: Vec<DocumentXml<'a>>,
}

#[derive(Serialize)]
struct RecipientXml<'a> {
    #[serde(
        rename = "personal-identification-number",
        skip_serializing_if = "Option::is_none"
    )]
    personal_identification_number: Option<&'a str>,
    #[serde(
        rename = "organisation-number",
        skip_serializing_if = "Option::is_none"
    )]
    organisation_number: Option<&'a str>,
}

#[derive(Serialize)]
struct DocumentXml<'a> {
    uuid: String,
    subject: &'a str,
    #[serde(rename = "file-type")]
    file_type: String,
    #[serde(rename = "authentication-level")]
    authentication_level: &'static str,
    #[serde(rename = "sensitivity-level")]
    sensitivity_level: &'static str,
}

impl<'a> DocumentXml<'a> {
    fn new(uuid: Uuid, subject: &'a str, file_type: String) -> Self {
        DocumentXml {
            uuid: uuid.to_string(),
            subject,
            file_type,
            authentication_level: "PASSWORD",
            sensitivity_level: "NORMAL",
        }
    }
}

/// The message XML (UTF-8, with its declaration) for `message`.
fn message_xml(message: &MailboxMessage, sender_id: u64) -> Result<String, SendError> {
    let (pin, org) = match &message.recipient.id {
        MailboxRecipientId::Person(id) => (Some(id.as_str()), None),
        MailboxRecipientId::Organisation(org) => (None, Some(org.as_str())),
    };
    let xml = MessageXml {
        xmlns: NAMESPACE,
        message_id: message.reference.as_str(),
        sender_id,
        recipient: RecipientXml {
            personal_identification_number: pin,
            organisation_number: org,
        },
        primary_document: DocumentXml::new(
            document_uuid(&message.reference, 0),
            &message.subject,
            message.primary_document.file_type().to_owned(),
        ),
        attachments: message
            .attachments
            .iter()
            .enumerate()
            .map(|(i, a)| {
                DocumentXml::new(
                    document_uuid(&message.reference, i + 1),
                    &a.name,
                    a.file_type(),
                )
            })
            .collect(),
    };
    let body = quick_xml::se::to_string(&xml)
        .map_err(|e| SendError::permanent(PermanentKind::Rejected, format!("message XML: {e}")))?;
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n{body}"
    ))
}

#[derive(Debug, Deserialize)]
struct MessageDeliveryXml {
    #[serde(rename = "message-id")]
    message_id: Option<String>,
    status: Option<String>,
    #[serde(rename = "delivery-time")]
    delivery_time: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ErrorXml {
    #[serde(rename = "error-code")]
    error_code: Option<String>,
    #[serde(rename = "error-message")]
    error_message: Option<String>,
}

#[derive(Debug, Deserialize)]
struct DocumentStatusXml {
    #[serde(rename = "@status")]
    status: String,
    #[serde(rename = "@delivered")]
    delivered: Option<String>,
}

fn parse_time(value: Option<&str>) -> Option<DateTime<Utc>> {
    value
        .and_then(|v| DateTime::parse_from_rfc3339(v.trim()).ok())
        .map(|t| t.with_timezone(&Utc))
}

fn read_error(body: &[u8]) -> ErrorXml {
    std::str::from_utf8(body)
        .ok()
        .and_then(|text| quick_xml::de::from_str::<ErrorXml>(text).ok())
        .unwrap_or_default()
}

/// The permanent failure of a 4xx answer that is not a duplicate.
fn refusal(status: StatusCode, error: &ErrorXml) -> SendError {
    let code = error.error_code.as_deref().unwrap_or("no error-code");
    let kind = match code {
        "UNKNOWN_RECIPIENT" | "MISSING_RECIPIENT" => PermanentKind::InvalidRecipient,
        _ => PermanentKind::Rejected,
    };
    let reason = match &error.error_message {
        Some(message) => format!("HTTP {status}: {code}: {message}"),
        None => format!("HTTP {status}: {code}"),
    };
    SendError::permanent(kind, reason)
}

/// The state a `message-delivery` status names. `DELIVERED_TO_PRINT` counts as delivered:
/// Digipost has put it on paper, so ours must not print it again (rule 28). We never send
/// print details, so it should not occur.
fn delivery_status_of(status: Option<&str>, at: Option<DateTime<Utc>>) -> MailboxStatus {
    match status {
        Some("DELIVERED" | "DELIVERED_TO_PRINT") => MailboxStatus::Delivered { at },
        _ => MailboxStatus::Pending,
    }
}

#[async_trait]
impl DigitalMailbox for DigipostMailbox {
    #[tracing::instrument(skip_all, fields(reference = %message.reference, provider = "digipost"))]
    async fn deliver(&self, message: &MailboxMessage) -> Result<MailboxSubmission, SendError> {
        let xml = message_xml(message, self.sender_id)?;
        let uuids: Vec<String> = (0..=message.attachments.len())
            .map(|i| document_uuid(&message.reference, i).to_string())
            .collect();
        let mut parts = vec![
            Part {
                content_type: "application/vnd.digipost-v8+xml; charset=UTF-8",
                filename: "message",
                bytes: xml.as_bytes(),
            },
            Part {
                content_type: message.primary_document.media_type(),
                filename: &uuids[0],
                bytes: message.primary_document.bytes(),
            },
        ];
        for (attachment, uuid) in message.attachments.iter().zip(&uuids[1..]) {
            parts.push(Part {
                content_type: &attachment.media_type,
                filename: uuid,
                bytes: &attachment.bytes,
            });
        }
        let boundary = format!("melding-{}", Uuid::new_v4().simple());
        let body = multipart::encode(&boundary, &parts);

        let url = self.url("/messages")?;
        let hash = content_sha256(&body);
        let mut request = self
            .client
            .post(url.clone())
            .header(
                CONTENT_TYPE,
                format!("{MULTIPART_TYPE}; boundary={boundary}"),
            )
            .header(ACCEPT, MEDIA_TYPE)
            .header("MIME-Version", "1.0");
        for (name, value) in self.signed_headers("POST", &url, Some(&hash)) {
            request = request.header(name, value);
        }
        let response = request.body(body).send().await.map_err(network)?;
        let status = response.status();
        let headers: HeaderMap = response.headers().clone();
        let answer = response.bytes().await.map_err(network)?;
        if let Some(error) = classify_status(status, &headers) {
            tracing::warn!(%status, "Digipost did not take the letter");
            return Err(error);
        }
        if status.is_success() {
            let parsed = std::str::from_utf8(&answer)
                .ok()
                .and_then(|text| quick_xml::de::from_str::<MessageDeliveryXml>(text).ok());
            let Some(delivery) = parsed else {
                // Digipost has the letter; what it said about it is unreadable, so ask later.
                tracing::warn!(%status, "Digipost's message-delivery answer was unreadable");
                return Ok(MailboxSubmission {
                    reference: message.reference.clone(),
                    provider: MailboxProvider::Digipost,
                    provider_reference: message.reference.to_string(),
                    already_submitted: false,
                    status: MailboxStatus::Pending,
                });
            };
            let at = parse_time(delivery.delivery_time.as_deref());
            return Ok(MailboxSubmission {
                reference: message.reference.clone(),
                provider: MailboxProvider::Digipost,
                provider_reference: delivery
                    .message_id
                    .unwrap_or_else(|| message.reference.to_string()),
                already_submitted: false,
                status: delivery_status_of(delivery.status.as_deref(), at),
            });
        }
        let error = read_error(&answer);
        if error
            .error_code
            .as_deref()
            .is_some_and(|code| DUPLICATE_CODES.contains(&code))
        {
            tracing::info!(%status, "Digipost already had this letter");
            return Ok(MailboxSubmission {
                reference: message.reference.clone(),
                provider: MailboxProvider::Digipost,
                provider_reference: message.reference.to_string(),
                already_submitted: true,
                status: MailboxStatus::Pending,
            });
        }
        tracing::warn!(%status, code = ?error.error_code, "Digipost refused the letter");
        Err(refusal(status, &error))
    }

    #[tracing::instrument(skip_all, fields(reference = %reference, provider = "digipost"))]
    async fn delivery_status(
        &self,
        reference: &MailboxReference,
    ) -> Result<MailboxStatus, SendError> {
        let url = self.url(&format!(
            "/documents/{}/{}/status",
            self.sender_id,
            document_uuid(reference, 0)
        ))?;
        let mut request = self.client.get(url.clone()).header(ACCEPT, MEDIA_TYPE);
        for (name, value) in self.signed_headers("GET", &url, None) {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(network)?;
        let status = response.status();
        let headers: HeaderMap = response.headers().clone();
        let answer = response.bytes().await.map_err(network)?;
        if let Some(error) = classify_status(status, &headers) {
            return Err(error);
        }
        if !status.is_success() {
            return Err(refusal(status, &read_error(&answer)));
        }
        let text = std::str::from_utf8(&answer)
            .map_err(|e| SendError::transient(format!("Digipost document-status: {e}")))?;
        let document: DocumentStatusXml = quick_xml::de::from_str(text)
            .map_err(|e| SendError::transient(format!("Digipost document-status: {e}")))?;
        match document.status.as_str() {
            "DELIVERED" => Ok(MailboxStatus::Delivered {
                at: parse_time(document.delivered.as_deref()),
            }),
            "NOT_DELIVERED" => Ok(MailboxStatus::Pending),
            other => Err(SendError::transient(format!(
                "Digipost document-status {other:?} is not one we know"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use melding_domain::NationalId;

    use super::*;
    use crate::mailbox::{MailboxAttachment, MailboxRecipient, MailboxSender, PrimaryDocument};

    fn message() -> MailboxMessage {
        MailboxMessage {
            reference: MailboxReference::parse("corr-1").unwrap(),
            provider: MailboxProvider::Digipost,
            recipient: MailboxRecipient {
                id: MailboxRecipientId::Person(NationalId::parse("21866699620").unwrap()),
                mailbox_address: Some("kari.nordmann#1234".into()),
            },
            subject: "Vedtak & svar <1>".into(),
            primary_document: PrimaryDocument::Pdf(b"%PDF-1.7".to_vec()),
            attachments: vec![MailboxAttachment {
                name: "vedlegg.txt".into(),
                media_type: "text/plain".into(),
                bytes: b"hei".to_vec(),
            }],
            sender: MailboxSender {
                org_number: melding_domain::OrgNumber::parse("974760673").unwrap(),
                name: "Ås kommune".into(),
            },
        }
    }

    #[test]
    fn document_uuids_are_stable_and_distinct() {
        let reference = MailboxReference::parse("corr-1").unwrap();
        let other = MailboxReference::parse("corr-2").unwrap();
        assert_eq!(document_uuid(&reference, 0), document_uuid(&reference, 0));
        assert_ne!(document_uuid(&reference, 0), document_uuid(&reference, 1));
        assert_ne!(document_uuid(&reference, 0), document_uuid(&other, 0));
        assert_eq!(document_uuid(&reference, 0).get_version_num(), 8);
    }

    #[test]
    fn the_message_xml_names_recipient_and_documents() {
        let xml = message_xml(&message(), 77).unwrap();
        let primary = document_uuid(&message().reference, 0);
        let attachment = document_uuid(&message().reference, 1);
        assert!(
            xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\""),
            "{xml}"
        );
        for expected in [
            "<message xmlns=\"http://api.digipost.no/schema/v8\">",
            "<message-id>corr-1</message-id><sender-id>77</sender-id>",
            "<recipient><personal-identification-number>21866699620</personal-identification-number></recipient>",
            &format!(
                "<primary-document><uuid>{primary}</uuid><subject>Vedtak &amp; svar &lt;1&gt;</subject><file-type>pdf</file-type>"
            ),
            &format!(
                "<attachment><uuid>{attachment}</uuid><subject>vedlegg.txt</subject><file-type>txt</file-type>"
            ),
        ] {
            assert!(xml.contains(expected), "{expected}\nnot in\n{xml}");
        }
    }

    #[test]
    fn message_delivery_statuses() {
        let at = parse_time(Some("2026-11-30T10:00:00+01:00"));
        assert_eq!(
            at,
            Some("2026-11-30T09:00:00Z".parse::<DateTime<Utc>>().unwrap())
        );
        assert_eq!(
            delivery_status_of(Some("DELIVERED"), at),
            MailboxStatus::Delivered { at }
        );
        assert_eq!(
            delivery_status_of(Some("DELIVERED_TO_PRINT"), None),
            MailboxStatus::Delivered { at: None }
        );
        assert_eq!(
            delivery_status_of(Some("COMPLETE"), None),
            MailboxStatus::Pending
        );
        assert_eq!(delivery_status_of(None, None), MailboxStatus::Pending);
    }

    #[test]
    fn error_documents_are_read() {
        let error = read_error(
            br#"<?xml version="1.0"?><error xmlns="http://api.digipost.no/schema/v8"><error-code>UNKNOWN_RECIPIENT</error-code><error-message>Fant ikke mottaker</error-message><error-type>CLIENT_DATA</error-type></error>"#,
        );
        assert_eq!(error.error_code.as_deref(), Some("UNKNOWN_RECIPIENT"));
        assert_eq!(
            refusal(StatusCode::BAD_REQUEST, &error),
            SendError::permanent(
                PermanentKind::InvalidRecipient,
                "HTTP 400 Bad Request: UNKNOWN_RECIPIENT: Fant ikke mottaker"
            )
        );
        assert_eq!(read_error(b"not xml").error_code, None);
    }
}
