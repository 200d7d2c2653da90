//! The Digipost adapter against a local HTTP server started by each test (axum), acting as
//! Digipost: it rebuilds the canonical string from what it received (following Digipost's
//! security documentation, independently of the adapter's code), verifies the RSA-SHA256
//! signature with the public key of the key the adapter signs with, checks `X-Content-SHA256`
//! against the body, takes the multipart body apart, stores the message and answers statuses.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use melding_delivery::mailbox::{
    DigipostConfig, DigipostMailbox, DigitalMailbox, MailboxAttachment, MailboxMessage,
    MailboxProvider, MailboxRecipient, MailboxRecipientId, MailboxReference, MailboxSender,
    MailboxStatus, PrimaryDocument,
};
use melding_delivery::{PermanentKind, RetryAfter, SendError};
use melding_domain::{NationalId, OrgNumber, SimulatedClock};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use rsa::rand_core::OsRng;
use rsa::signature::Verifier;
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256};

const BROKER_ID: u64 = 9999;
const SENDER_ID: u64 = 4242;

/// The instant the adapter's clock stands at; the server expects exactly this `Date`.
fn now() -> DateTime<Utc> {
    "2026-11-30T09:15:00Z".parse().unwrap()
}

/// The organisation certificate's key the adapter signs with, made once per test run (2048-bit
/// RSA, PKCS#8 PEM), and its public half for the server.
fn signing_key() -> &'static (String, RsaPublicKey) {
    static KEY: OnceLock<(String, RsaPublicKey)> = OnceLock::new();
    KEY.get_or_init(|| {
        let key = RsaPrivateKey::new(&mut OsRng, 2048).expect("generate an RSA key");
        let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
        (pem, RsaPublicKey::from(&key))
    })
}

/// Another key, which Digipost does not know, in PKCS#1 PEM (the adapter reads both forms).
fn unknown_key() -> &'static str {
    static KEY: OnceLock<String> = OnceLock::new();
    KEY.get_or_init(|| {
        let key = RsaPrivateKey::new(&mut OsRng, 2048).expect("generate an RSA key");
        key.to_pkcs1_pem(LineEnding::LF).unwrap().to_string()
    })
}

/// What the fake Digipost holds: the messages it took (message-id → documents by uuid) and the
/// document uuids it has delivered.
#[derive(Default)]
struct Store {
    messages: HashMap<String, StoredMessage>,
    delivered: HashSet<String>,
    /// Every signature check's outcome, to prove the checks ran.
    verified_requests: usize,
}

#[derive(Clone, Debug)]
struct StoredMessage {
    xml: String,
    /// Part file name (document uuid) → (content type, bytes).
    documents: HashMap<String, (String, Vec<u8>)>,
}

#[derive(Clone)]
struct Digipost {
    public_key: RsaPublicKey,
    store: Arc<Mutex<Store>>,
}

struct Server {
    base: String,
    store: Arc<Mutex<Store>>,
}

async fn start_digipost(public_key: RsaPublicKey) -> Server {
    let store: Arc<Mutex<Store>> = Arc::default();
    let state = Digipost {
        public_key,
        store: store.clone(),
    };
    let app = Router::new()
        .route("/{scenario}/messages", post(receive_message))
        .route(
            "/{scenario}/documents/{sender}/{uuid}/status",
            get(document_status),
        )
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server { base, store }
}

fn error(status: StatusCode, code: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/vnd.digipost-v8+xml")],
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><error xmlns=\"http://api.digipost.no/schema/v8\">\
             <error-code>{code}</error-code><error-message>{code} (test server)</error-message>\
             <error-type>CLIENT_DATA</error-type></error>"
        ),
    )
        .into_response()
}

fn header_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Digipost's checks on every request (security documentation §2–3), built here from the
/// documentation rather than from the adapter: `None` when they pass, else the refusal.
fn check_security(
    state: &Digipost,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Option<Response> {
    let Some(date) = header_value(headers, "date") else {
        return Some(error(StatusCode::BAD_REQUEST, "MISSING_DATE_HEADER"));
    };
    if date != httpdate::fmt_http_date(SystemTime::from(now())) {
        return Some(error(
            StatusCode::BAD_REQUEST,
            "DATE_HEADER_OUTSIDE_ACCEPTED_INTERVAL",
        ));
    }
    if header_value(headers, "x-digipost-userid") != Some(&BROKER_ID.to_string()) {
        return Some(error(StatusCode::FORBIDDEN, "INVALID_USER_ID_HEADER"));
    }
    let hash = header_value(headers, "x-content-sha256");
    if body.is_empty() {
        if hash.is_some() {
            return Some(error(StatusCode::BAD_REQUEST, "INVALID_SHA256"));
        }
    } else {
        let Some(hash) = hash else {
            return Some(error(StatusCode::BAD_REQUEST, "MISSING_SHA256"));
        };
        if hash != BASE64.encode(Sha256::digest(body)) {
            return Some(error(StatusCode::BAD_REQUEST, "INVALID_SHA256"));
        }
    }
    let mut canonical = format!(
        "{}\n{}\ndate: {date}\n",
        method.as_str(),
        uri.path().to_lowercase()
    );
    if let Some(hash) = hash {
        canonical.push_str(&format!("x-content-sha256: {hash}\n"));
    }
    canonical.push_str(&format!("x-digipost-userid: {BROKER_ID}\n"));
    canonical.push_str(&uri.query().unwrap_or("").to_lowercase());
    canonical.push('\n');
    let Some(signature) = header_value(headers, "x-digipost-signature")
        .and_then(|s| BASE64.decode(s).ok())
        .and_then(|bytes| Signature::try_from(bytes.as_slice()).ok())
    else {
        return Some(error(StatusCode::FORBIDDEN, "MISSING_SIGNATURE"));
    };
    let key = VerifyingKey::<Sha256>::new(state.public_key.clone());
    if key.verify(canonical.as_bytes(), &signature).is_err() {
        return Some(error(StatusCode::FORBIDDEN, "INVALID_SIGNATURE"));
    }
    state.store.lock().unwrap().verified_requests += 1;
    None
}

/// Splits a multipart body (RFC 2046 §5.1) into (headers, content) pairs.
fn split_multipart(boundary: &str, body: &[u8]) -> Vec<(String, Vec<u8>)> {
    let delimiter = format!("--{boundary}");
    let text = body;
    let mut parts = Vec::new();
    let positions: Vec<usize> = text
        .windows(delimiter.len())
        .enumerate()
        .filter(|(_, w)| *w == delimiter.as_bytes())
        .map(|(i, _)| i)
        .collect();
    for pair in positions.windows(2) {
        let part = &text[pair[0] + delimiter.len()..pair[1]];
        let part = part.strip_prefix(b"\r\n").expect("CRLF after a boundary");
        let part = part.strip_suffix(b"\r\n").expect("CRLF before a boundary");
        let split = part
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a blank line after the part headers");
        parts.push((
            String::from_utf8(part[..split].to_vec()).unwrap(),
            part[split + 4..].to_vec(),
        ));
    }
    let last = *positions.last().expect("a closing boundary");
    assert_eq!(
        &text[last + delimiter.len()..],
        b"--\r\n",
        "closing boundary"
    );
    parts
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Vec<&'a str> {
    text.split(open)
        .skip(1)
        .map(|rest| rest.split(close).next().unwrap())
        .collect()
}

async fn receive_message(
    State(state): State<Digipost>,
    UrlPath(scenario): UrlPath<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refusal) = check_security(&state, &method, &uri, &headers, &body) {
        return refusal;
    }
    let content_type = header_value(&headers, "content-type").unwrap_or("");
    let Some(boundary) = content_type
        .strip_prefix("multipart/vnd.digipost-v8+xml; boundary=")
        .map(str::to_owned)
    else {
        return error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "ILLEGAL_CONTENT_TYPE");
    };
    if header_value(&headers, "accept") != Some("application/vnd.digipost-v8+xml") {
        return error(StatusCode::NOT_ACCEPTABLE, "PROBLEM_WITH_REQUEST");
    }
    let parts = split_multipart(&boundary, &body);
    let (message_headers, xml) = &parts[0];
    assert!(
        message_headers.contains("Content-Type: application/vnd.digipost-v8+xml"),
        "{message_headers}"
    );
    assert!(
        message_headers.contains("Content-Disposition: attachment; filename=\"message\""),
        "{message_headers}"
    );
    let xml = String::from_utf8(xml.clone()).unwrap();
    let mut documents = HashMap::new();
    for (part_headers, content) in &parts[1..] {
        let filename = between(part_headers, "filename=\"", "\"")[0].to_owned();
        let content_type = part_headers
            .split("\r\n")
            .find_map(|line| line.strip_prefix("Content-Type: "))
            .expect("a Content-Type on every part")
            .to_owned();
        documents.insert(filename, (content_type, content.clone()));
    }
    // Every document the XML names must come as a part with its uuid as file name.
    let uuids = between(&xml, "<uuid>", "</uuid>");
    if uuids.len() != documents.len() || uuids.iter().any(|u| !documents.contains_key(*u)) {
        return error(StatusCode::BAD_REQUEST, "DOCUMENTS_AND_FILES_MISMATCH");
    }
    match scenario.as_str() {
        "busy" => {
            return (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "7")]).into_response();
        }
        "broken" => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
        "refuse" => return error(StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED"),
        "unknown-recipient" => return error(StatusCode::BAD_REQUEST, "UNKNOWN_RECIPIENT"),
        _ => {}
    }
    let message_id = between(&xml, "<message-id>", "</message-id>")[0].to_owned();
    let mut store = state.store.lock().unwrap();
    if store.messages.contains_key(&message_id) {
        return error(StatusCode::CONFLICT, "DUPLICATE_MESSAGE");
    }
    let primary = between(&xml, "<primary-document><uuid>", "</uuid>")[0].to_owned();
    // "ok" delivers at once; "slow" waits for the test to deliver.
    let status = if scenario == "ok" {
        store.delivered.insert(primary);
        "DELIVERED"
    } else {
        "COMPLETE"
    };
    store
        .messages
        .insert(message_id.clone(), StoredMessage { xml, documents });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/vnd.digipost-v8+xml")],
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><message-delivery xmlns=\"http://api.digipost.no/schema/v8\">\
             <message-id>{message_id}</message-id><delivery-method>DIGIPOST</delivery-method>\
             <sender-id>{SENDER_ID}</sender-id><status>{status}</status>\
             <delivery-time>2026-11-30T10:15:01.000+01:00</delivery-time>\
             <primary-document><uuid>x</uuid></primary-document></message-delivery>"
        ),
    )
        .into_response()
}

async fn document_status(
    State(state): State<Digipost>,
    UrlPath((_scenario, sender, uuid)): UrlPath<(String, u64, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Some(refusal) = check_security(&state, &method, &uri, &headers, b"") {
        return refusal;
    }
    if sender != SENDER_ID {
        return error(StatusCode::FORBIDDEN, "ILLEGAL_ACCESS");
    }
    let store = state.store.lock().unwrap();
    let known = store
        .messages
        .values()
        .any(|m| m.documents.contains_key(&uuid));
    if !known {
        return error(StatusCode::NOT_FOUND, "DOCUMENT_NOT_FOUND");
    }
    let attributes = if store.delivered.contains(&uuid) {
        "status=\"DELIVERED\" delivered=\"2026-11-30T11:00:00.000+01:00\" channel=\"DIGIPOST\""
    } else {
        "status=\"NOT_DELIVERED\" channel=\"DIGIPOST\""
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/vnd.digipost-v8+xml")],
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><document-status xmlns=\"http://api.digipost.no/schema/v8\" \
             uuid=\"{uuid}\" created=\"2026-11-30T10:15:00.000+01:00\" read=\"N\" is-primary-document=\"true\" {attributes}/>"
        ),
    )
        .into_response()
}

struct Fixture {
    server: Server,
    key_pem: &'static str,
}

async fn fixture() -> Fixture {
    let (key_pem, public_key) = signing_key();
    let server = start_digipost(public_key.clone()).await;
    Fixture { server, key_pem }
}

fn mailbox(base_url: String, key_pem: &str) -> DigipostMailbox {
    DigipostMailbox::new(
        DigipostConfig {
            base_url,
            broker_id: BROKER_ID,
            sender_id: SENDER_ID,
            signing_key_pem: key_pem.into(),
            timeout: Duration::from_secs(10),
        },
        Arc::new(SimulatedClock::new(now())),
    )
    .unwrap()
}

fn letter(reference: &str) -> MailboxMessage {
    MailboxMessage {
        reference: MailboxReference::parse(reference).unwrap(),
        provider: MailboxProvider::Digipost,
        recipient: MailboxRecipient {
            id: MailboxRecipientId::Person(NationalId::parse("21866699620").unwrap()),
            mailbox_address: Some("kari.nordmann#9F2K".into()),
        },
        subject: "Vedtak om barnehageplass".into(),
        primary_document: PrimaryDocument::Pdf(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3 letter".to_vec()),
        attachments: vec![MailboxAttachment {
            name: "Søknad.txt".into(),
            media_type: "text/plain; charset=utf-8".into(),
            bytes: "Søknad om plass".as_bytes().to_vec(),
        }],
        sender: MailboxSender {
            org_number: OrgNumber::parse("974760673").unwrap(),
            name: "Ås kommune".into(),
        },
    }
}

#[tokio::test]
async fn digipost_takes_a_signed_letter_and_reports_it_delivered() {
    let f = fixture().await;
    let mailbox = mailbox(format!("{}/ok", f.server.base), f.key_pem);
    let submission = mailbox.deliver(&letter("corr-100")).await.unwrap();
    assert_eq!(submission.provider, MailboxProvider::Digipost);
    assert_eq!(submission.provider_reference, "corr-100");
    assert!(!submission.already_submitted);
    assert_eq!(
        submission.status,
        MailboxStatus::Delivered {
            at: Some("2026-11-30T09:15:01Z".parse().unwrap())
        }
    );

    {
        let store = f.server.store.lock().unwrap();
        let stored = &store.messages["corr-100"];
        assert!(
            stored.xml.contains(
                "<recipient><personal-identification-number>21866699620</personal-identification-number></recipient>"
            ),
            "{}",
            stored.xml
        );
        assert!(
            stored.xml.contains("<sender-id>4242</sender-id>"),
            "{}",
            stored.xml
        );
        assert!(
            stored
                .xml
                .contains("<subject>Vedtak om barnehageplass</subject>")
        );
        let mut documents: Vec<_> = stored.documents.values().cloned().collect();
        documents.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            documents,
            vec![
                (
                    "application/pdf".to_owned(),
                    b"%PDF-1.7\n%\xe2\xe3\xcf\xd3 letter".to_vec()
                ),
                (
                    "text/plain; charset=utf-8".to_owned(),
                    "Søknad om plass".as_bytes().to_vec()
                ),
            ]
        );
        assert_eq!(store.verified_requests, 1);
    }

    let status = mailbox
        .delivery_status(&MailboxReference::parse("corr-100").unwrap())
        .await
        .unwrap();
    assert_eq!(
        status,
        MailboxStatus::Delivered {
            at: Some("2026-11-30T10:00:00Z".parse().unwrap())
        }
    );
    assert_eq!(status.svarut_status(), Some("LEVERT_SDP"));
    assert_eq!(f.server.store.lock().unwrap().verified_requests, 2);
}

#[tokio::test]
async fn a_resubmitted_letter_is_a_success_and_stays_one_letter() {
    let f = fixture().await;
    let mailbox = mailbox(format!("{}/ok", f.server.base), f.key_pem);
    let first = mailbox.deliver(&letter("corr-200")).await.unwrap();
    assert!(!first.already_submitted);
    // The answer to the first attempt was "lost"; the job sends again with the same reference.
    let again = mailbox.deliver(&letter("corr-200")).await.unwrap();
    assert!(again.already_submitted);
    assert_eq!(again.reference, first.reference);
    assert_eq!(again.status, MailboxStatus::Pending);
    assert_eq!(f.server.store.lock().unwrap().messages.len(), 1);
}

#[tokio::test]
async fn a_pending_letter_is_polled_until_digipost_delivers_it() {
    let f = fixture().await;
    let mailbox = mailbox(format!("{}/slow", f.server.base), f.key_pem);
    let reference = MailboxReference::parse("corr-300").unwrap();
    let submission = mailbox.deliver(&letter("corr-300")).await.unwrap();
    assert_eq!(submission.status, MailboxStatus::Pending);
    assert_eq!(submission.status.svarut_status(), Some("SENDT_SDP"));
    assert_eq!(
        mailbox.delivery_status(&reference).await.unwrap(),
        MailboxStatus::Pending
    );

    // Digipost puts it in the mailbox.
    {
        let mut store = f.server.store.lock().unwrap();
        let xml = store.messages["corr-300"].xml.clone();
        let primary = between(&xml, "<primary-document><uuid>", "</uuid>")[0].to_owned();
        store.delivered.insert(primary);
    }
    assert_eq!(
        mailbox.delivery_status(&reference).await.unwrap(),
        MailboxStatus::Delivered {
            at: Some("2026-11-30T10:00:00Z".parse().unwrap())
        }
    );
}

#[tokio::test]
async fn the_status_of_a_letter_digipost_never_got_is_a_permanent_error() {
    let f = fixture().await;
    let mailbox = mailbox(format!("{}/ok", f.server.base), f.key_pem);
    let result = mailbox
        .delivery_status(&MailboxReference::parse("never-sent").unwrap())
        .await;
    match result {
        Err(SendError::Permanent { kind, reason }) => {
            assert_eq!(kind, PermanentKind::Rejected);
            assert!(reason.contains("DOCUMENT_NOT_FOUND"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_429_says_when_to_send_again() {
    let f = fixture().await;
    let mailbox = mailbox(format!("{}/busy", f.server.base), f.key_pem);
    match mailbox.deliver(&letter("corr-400")).await {
        Err(SendError::SlowDown { retry_after, .. }) => {
            assert_eq!(retry_after, RetryAfter::Delay(Duration::from_secs(7)))
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn server_errors_are_transient() {
    let f = fixture().await;
    let mailbox = mailbox(format!("{}/broken", f.server.base), f.key_pem);
    let result = mailbox.deliver(&letter("corr-500")).await;
    assert!(
        matches!(&result, Err(SendError::Transient { reason }) if reason.contains("503")),
        "{result:?}"
    );
}

#[tokio::test]
async fn refusals_are_permanent() {
    let f = fixture().await;
    let refused = mailbox(format!("{}/refuse", f.server.base), f.key_pem)
        .deliver(&letter("corr-600"))
        .await;
    match refused {
        Err(SendError::Permanent { kind, reason }) => {
            assert_eq!(kind, PermanentKind::Rejected);
            assert!(
                reason.contains("422") && reason.contains("VALIDATION_FAILED"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    let unknown = mailbox(format!("{}/unknown-recipient", f.server.base), f.key_pem)
        .deliver(&letter("corr-601"))
        .await;
    assert!(
        matches!(
            unknown,
            Err(SendError::Permanent {
                kind: PermanentKind::InvalidRecipient,
                ..
            })
        ),
        "{unknown:?}"
    );
}

#[tokio::test]
async fn a_request_signed_with_another_key_is_refused_by_digipost() {
    let f = fixture().await;
    let result = mailbox(format!("{}/ok", f.server.base), unknown_key())
        .deliver(&letter("corr-700"))
        .await;
    // Digipost answers 403 INVALID_SIGNATURE; a credentials problem is for an operator to fix,
    // so the letter waits (transient), as the SMS gateway's 401/403 do.
    assert!(
        matches!(&result, Err(SendError::Transient { reason }) if reason.contains("403")),
        "{result:?}"
    );
    let store = f.server.store.lock().unwrap();
    assert!(store.messages.is_empty());
    assert_eq!(store.verified_requests, 0);
}

#[tokio::test]
async fn an_absent_digipost_is_transient() {
    let (key, _) = signing_key();
    // A port nobody listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let result = mailbox(format!("http://127.0.0.1:{port}"), key)
        .deliver(&letter("corr-800"))
        .await;
    assert!(
        matches!(result, Err(SendError::Transient { .. })),
        "{result:?}"
    );
}
