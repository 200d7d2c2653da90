//! The e-Boks adapter (our assumed JSON shape, see `src/mailbox/eboks.rs`) against a local HTTP
//! server started by each test (axum), acting as e-Boks: it checks the token and the
//! idempotency key, decodes the documents, stores the letter, answers duplicates with 409,
//! refuses, throttles and fails on request, and answers status polls.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use melding_delivery::mailbox::{
    DigitalMailbox, EboksConfig, EboksMailbox, MailboxMessage, MailboxProvider, MailboxRecipient,
    MailboxRecipientId, MailboxReference, MailboxSender, MailboxStatus, PrimaryDocument,
};
use melding_delivery::{PermanentKind, RetryAfter, SendError};
use melding_domain::{NationalId, OrgNumber};
use serde_json::{Value, json};

/// Letters the fake e-Boks took, by messageId, and the status it reports for each.
type Letters = Arc<Mutex<HashMap<String, (Value, &'static str)>>>;

async fn start_eboks() -> (String, Letters) {
    let letters: Letters = Arc::default();
    let app = Router::new()
        .route("/{scenario}/messages", post(receive))
        .route("/{scenario}/messages/{id}/status", get(status))
        .with_state(letters.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, letters)
}

fn authorised(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some("Bearer eb-token")
}

async fn receive(
    State(letters): State<Letters>,
    Path(scenario): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !authorised(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let id = body["messageId"].as_str().unwrap().to_owned();
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok());
    if key != Some(id.as_str()) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "idempotencyKey"})),
        )
            .into_response();
    }
    match scenario.as_str() {
        "busy" => {
            return (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "12")]).into_response();
        }
        "broken" => return StatusCode::BAD_GATEWAY.into_response(),
        "unknown" => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": "unknownRecipient"})),
            )
                .into_response();
        }
        _ => {}
    }
    let mut letters = letters.lock().unwrap();
    if letters.contains_key(&id) {
        return (StatusCode::CONFLICT, Json(json!({"error": "duplicate"}))).into_response();
    }
    letters.insert(id.clone(), (body, "PENDING"));
    (
        StatusCode::CREATED,
        Json(json!({"messageId": format!("eb-{id}"), "status": "PENDING"})),
    )
        .into_response()
}

async fn status(
    State(letters): State<Letters>,
    Path((_scenario, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if !authorised(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    match letters.lock().unwrap().get(&id) {
        Some((_, "DELIVERED")) => {
            Json(json!({"status": "DELIVERED", "deliveredAt": "2026-11-30T12:00:00Z"}))
                .into_response()
        }
        Some((_, "FAILED")) => {
            Json(json!({"status": "FAILED", "reason": "mailbox closed"})).into_response()
        }
        Some((_, word)) => Json(json!({"status": word})).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({"error": "notFound"}))).into_response(),
    }
}

fn mailbox(base: &str, scenario: &str, token: &str) -> EboksMailbox {
    EboksMailbox::new(EboksConfig {
        base_url: format!("{base}/{scenario}"),
        api_token: token.into(),
        callback_secret: None,
        timeout: Duration::from_secs(10),
    })
    .unwrap()
}

fn letter(reference: &str) -> MailboxMessage {
    MailboxMessage {
        reference: MailboxReference::parse(reference).unwrap(),
        provider: MailboxProvider::EBoks,
        recipient: MailboxRecipient {
            id: MailboxRecipientId::Person(NationalId::parse("26832047936").unwrap()),
            mailbox_address: Some("eboks-26832047936".into()),
        },
        subject: "Faktura for kommunale avgifter".into(),
        primary_document: PrimaryDocument::Html("<h1>Faktura</h1><p>Å betale</p>".into()),
        attachments: vec![],
        sender: MailboxSender {
            org_number: OrgNumber::parse("974760673").unwrap(),
            name: "Ås kommune".into(),
        },
    }
}

#[tokio::test]
async fn e_boks_takes_a_letter_and_is_polled_until_delivered() {
    let (base, letters) = start_eboks().await;
    let eboks = mailbox(&base, "ok", "eb-token");
    let submission = eboks.deliver(&letter("corr-1")).await.unwrap();
    assert_eq!(submission.provider, MailboxProvider::EBoks);
    assert_eq!(submission.provider_reference, "eb-corr-1");
    assert_eq!(submission.status, MailboxStatus::Pending);
    assert!(!submission.already_submitted);
    {
        let letters = letters.lock().unwrap();
        let (body, _) = &letters["corr-1"];
        assert_eq!(body["recipient"]["nationalIdentityNumber"], "26832047936");
        assert_eq!(body["recipient"]["mailboxAddress"], "eboks-26832047936");
        assert_eq!(
            body["sender"],
            json!({"organisationNumber": "974760673", "name": "Ås kommune"})
        );
        assert_eq!(body["documents"][0]["role"], "primary");
        assert_eq!(
            body["documents"][0]["mediaType"],
            "text/html; charset=utf-8"
        );
        let html = BASE64
            .decode(body["documents"][0]["content"].as_str().unwrap())
            .unwrap();
        assert_eq!(html, "<h1>Faktura</h1><p>Å betale</p>".as_bytes());
    }

    let reference = MailboxReference::parse("corr-1").unwrap();
    assert_eq!(
        eboks.delivery_status(&reference).await.unwrap(),
        MailboxStatus::Pending
    );
    letters.lock().unwrap().get_mut("corr-1").unwrap().1 = "DELIVERED";
    assert_eq!(
        eboks.delivery_status(&reference).await.unwrap(),
        MailboxStatus::Delivered {
            at: Some("2026-11-30T12:00:00Z".parse().unwrap())
        }
    );
    letters.lock().unwrap().get_mut("corr-1").unwrap().1 = "FAILED";
    assert_eq!(
        eboks.delivery_status(&reference).await.unwrap(),
        MailboxStatus::Failed {
            reason: "mailbox closed".into()
        }
    );
}

#[tokio::test]
async fn a_resubmitted_letter_is_a_success() {
    let (base, letters) = start_eboks().await;
    let eboks = mailbox(&base, "ok", "eb-token");
    eboks.deliver(&letter("corr-2")).await.unwrap();
    let again = eboks.deliver(&letter("corr-2")).await.unwrap();
    assert!(again.already_submitted);
    assert_eq!(letters.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn failures_are_classified() {
    let (base, _) = start_eboks().await;
    match mailbox(&base, "busy", "eb-token")
        .deliver(&letter("c"))
        .await
    {
        Err(SendError::SlowDown { retry_after, .. }) => {
            assert_eq!(retry_after, RetryAfter::Delay(Duration::from_secs(12)))
        }
        other => panic!("{other:?}"),
    }
    for (scenario, token) in [("broken", "eb-token"), ("ok", "wrong-token")] {
        let result = mailbox(&base, scenario, token).deliver(&letter("c")).await;
        assert!(
            matches!(result, Err(SendError::Transient { .. })),
            "{scenario}: {result:?}"
        );
    }
    let unknown = mailbox(&base, "unknown", "eb-token")
        .deliver(&letter("c"))
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
    let never_sent = mailbox(&base, "ok", "eb-token")
        .delivery_status(&MailboxReference::parse("never-sent").unwrap())
        .await;
    assert!(
        matches!(
            never_sent,
            Err(SendError::Permanent {
                kind: PermanentKind::Rejected,
                ..
            })
        ),
        "{never_sent:?}"
    );
}
