//! The SMS gateway adapter against a local HTTP server started by each test (axum), acting as
//! the gateway: it accepts, answers 429 with Retry-After, 500, 401 and 4xx refusals, drops the
//! connection, or is not there; in both the generic JSON and the LINK PSWin XML shape.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use melding_delivery::sms::{
    GatewayProtocol, HttpSmsGateway, HttpSmsGatewayConfig, SmsEncoding, SmsMessage, SmsSender,
    SmsSenderId,
};
use melding_delivery::{PermanentKind, RetryAfter, SendError};
use melding_domain::MobileNumber;

/// What the gateway received: (path, Authorization header, body).
type Received = Arc<Mutex<Vec<(String, Option<String>, Vec<u8>)>>>;

struct Gateway {
    base: String,
    received: Received,
}

async fn start_gateway() -> Gateway {
    let received: Received = Arc::default();
    let record = |path: &'static str, received: Received| {
        move |headers: HeaderMap, body: Bytes| {
            let auth = headers
                .get(header::AUTHORIZATION)
                .map(|v| v.to_str().unwrap().to_owned());
            received
                .lock()
                .unwrap()
                .push((path.to_owned(), auth, body.to_vec()));
            async move { respond(path, &body) }
        }
    };
    let mut app = Router::new();
    for path in [
        "/generic/ok",
        "/generic/busy",
        "/generic/busy-until",
        "/generic/busy-unsaid",
        "/generic/broken",
        "/generic/unauthorized",
        "/generic/invalid",
        "/generic/refused",
        "/generic/no-reference",
        "/pswin",
    ] {
        app = app.route(path, post(record(path, received.clone())));
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Gateway { base, received }
}

fn respond(path: &str, body: &[u8]) -> axum::response::Response {
    let json = |status: StatusCode, value: &str| {
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            value.to_owned(),
        )
            .into_response()
    };
    match path {
        "/generic/ok" => json(StatusCode::OK, r#"{"gatewayReference":"gw-1"}"#),
        "/generic/busy" => {
            (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "7")]).into_response()
        }
        "/generic/busy-until" => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "Wed, 21 Oct 2026 07:28:00 GMT")],
        )
            .into_response(),
        "/generic/busy-unsaid" => StatusCode::TOO_MANY_REQUESTS.into_response(),
        "/generic/broken" => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        "/generic/unauthorized" => StatusCode::UNAUTHORIZED.into_response(),
        "/generic/invalid" => json(StatusCode::BAD_REQUEST, r#"{"error":"invalidRecipient"}"#),
        "/generic/refused" => json(StatusCode::UNPROCESSABLE_ENTITY, r#"{"error":"blocked"}"#),
        "/generic/no-reference" => json(StatusCode::OK, "{}"),
        "/pswin" => {
            let text: String = body.iter().map(|&b| char::from(b)).collect();
            let inner = if !text.contains("<CLIENT>acct</CLIENT><PW>secret</PW>") {
                "<LOGON>FAIL</LOGON><REASON>Invalid login</REASON>".to_owned()
            } else if text.contains("<RCV>4740000000</RCV>") {
                "<LOGON>OK</LOGON><REASON></REASON><MSGLST><MSG><ID>1</ID><STATUS>FAIL</STATUS>\
                 <INFO>Invalid RCV 4740000000</INFO></MSG></MSGLST>"
                    .to_owned()
            } else {
                "<LOGON>OK</LOGON><REASON></REASON><MSGLST><MSG><ID>1</ID><STATUS>OK</STATUS>\
                 <INFO></INFO><REF>pswin-ref-9</REF></MSG></MSGLST>"
                    .to_owned()
            };
            (
                [(header::CONTENT_TYPE, "text/xml; charset=ISO-8859-1")],
                format!(
                    "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><SESSION>{inner}</SESSION>"
                ),
            )
                .into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

fn sms(to: &str, text: &str) -> SmsMessage {
    SmsMessage {
        sender: SmsSenderId::parse("Altinn").unwrap(),
        to: MobileNumber::parse(to).unwrap(),
        text: text.into(),
        reference: "notification-17".into(),
        time_to_live: Duration::from_secs(48 * 3600),
    }
}

fn generic(url: String, token: Option<&str>) -> HttpSmsGateway {
    HttpSmsGateway::new(HttpSmsGatewayConfig {
        url,
        protocol: GatewayProtocol::GenericJson {
            bearer_token: token.map(Into::into),
        },
        timeout: Duration::from_secs(10),
    })
    .unwrap()
}

#[tokio::test]
async fn the_generic_gateway_takes_a_message() {
    let gateway = start_gateway().await;
    let sender = generic(format!("{}/generic/ok", gateway.base), Some("t0ken"));
    let receipt = sender
        .send(&sms(
            "912 34 567",
            "Hei Kari! Du har fått en melding i Altinn.",
        ))
        .await
        .unwrap();
    assert_eq!(receipt.gateway_reference, "gw-1");
    assert_eq!(receipt.segments.segments, 1);
    assert_eq!(receipt.segments.encoding, SmsEncoding::Gsm7);

    let received = gateway.received.lock().unwrap();
    let (_, auth, body) = &received[0];
    assert_eq!(auth.as_deref(), Some("Bearer t0ken"));
    let json: serde_json::Value = serde_json::from_slice(body).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "reference": "notification-17",
            "sender": "Altinn",
            "to": "+4791234567",
            "text": "Hei Kari! Du har fått en melding i Altinn.",
            "timeToLiveSeconds": 172800
        })
    );
}

#[tokio::test]
async fn a_429_says_when_to_send_again() {
    let gateway = start_gateway().await;
    let cases = [
        ("busy", RetryAfter::Delay(Duration::from_secs(7))),
        (
            "busy-until",
            RetryAfter::At("2026-10-21T07:28:00Z".parse().unwrap()),
        ),
        // No Retry-After: Altinn's default of 60 s.
        ("busy-unsaid", RetryAfter::Delay(Duration::from_secs(60))),
    ];
    for (path, want) in cases {
        let sender = generic(format!("{}/generic/{path}", gateway.base), None);
        match sender.send(&sms("91234567", "x")).await {
            Err(SendError::SlowDown { retry_after, .. }) => assert_eq!(retry_after, want, "{path}"),
            other => panic!("{path}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn server_errors_and_refused_credentials_are_transient() {
    let gateway = start_gateway().await;
    for path in ["broken", "unauthorized", "no-reference"] {
        let sender = generic(format!("{}/generic/{path}", gateway.base), None);
        let result = sender.send(&sms("91234567", "x")).await;
        assert!(
            matches!(result, Err(SendError::Transient { .. })),
            "{path}: {result:?}"
        );
    }
}

#[tokio::test]
async fn refusals_are_permanent() {
    let gateway = start_gateway().await;
    let cases = [
        ("invalid", PermanentKind::InvalidRecipient),
        ("refused", PermanentKind::Rejected),
    ];
    for (path, want) in cases {
        let sender = generic(format!("{}/generic/{path}", gateway.base), None);
        match sender.send(&sms("91234567", "x")).await {
            Err(SendError::Permanent { kind, .. }) => assert_eq!(kind, want, "{path}"),
            other => panic!("{path}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_gateway_that_is_not_there_or_hangs_up_is_transient() {
    // Nothing listens on a port that was free a moment ago.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let result = generic(format!("http://127.0.0.1:{port}/sms"), None)
        .send(&sms("91234567", "x"))
        .await;
    match result {
        Err(SendError::Transient { reason }) => assert!(
            reason.to_lowercase().contains("refused") || reason.contains("connect"),
            "{reason}"
        ),
        other => panic!("{other:?}"),
    }

    // A server that accepts the connection and closes it without an answer.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            drop(socket);
        }
    });
    let result = generic(format!("http://{address}/sms"), None)
        .send(&sms("91234567", "x"))
        .await;
    assert!(
        matches!(result, Err(SendError::Transient { .. })),
        "{result:?}"
    );
}

fn pswin(url: String, password: &str) -> HttpSmsGateway {
    HttpSmsGateway::new(HttpSmsGatewayConfig {
        url,
        protocol: GatewayProtocol::LinkPswinXml {
            client: "acct".into(),
            password: password.into(),
        },
        timeout: Duration::from_secs(10),
    })
    .unwrap()
}

#[tokio::test]
async fn the_pswin_gateway_takes_a_message_in_latin1_or_ucs2() {
    let gateway = start_gateway().await;
    let sender = pswin(format!("{}/pswin", gateway.base), "secret");

    let receipt = sender
        .send(&sms("+47 912 34 567", "Brev fra Ås kommune"))
        .await
        .unwrap();
    assert_eq!(receipt.gateway_reference, "pswin-ref-9");

    let receipt = sender.send(&sms("91234567", "Cześć 😀")).await.unwrap();
    assert_eq!(receipt.segments.encoding, SmsEncoding::Ucs2);

    let received = gateway.received.lock().unwrap();
    let latin1 = &received[0].2;
    assert!(
        latin1.windows(4).any(|w| w == b"\xC5s k"),
        "Å as one Latin-1 byte"
    );
    let text: String = latin1.iter().map(|&b| char::from(b)).collect();
    assert!(text.contains("<RCV>4791234567</RCV>"), "{text}");
    assert!(text.contains("<SND>Altinn</SND><RCV>"), "{text}");
    assert!(text.contains("<TTL>2880</TTL>"), "{text}");
    assert!(!text.contains("<OP>"), "{text}");

    let unicode = String::from_utf8(received[1].2.clone()).unwrap();
    assert!(unicode.contains("<OP>9</OP>"), "{unicode}");
    assert!(
        unicode.contains("<TEXT>0043007A0065015B01070020D83DDE00</TEXT>"),
        "{unicode}"
    );
}

#[tokio::test]
async fn the_pswin_gateway_refuses_an_invalid_number_and_a_bad_logon() {
    let gateway = start_gateway().await;
    match pswin(format!("{}/pswin", gateway.base), "secret")
        .send(&sms("40000000", "x"))
        .await
    {
        Err(SendError::Permanent { kind, reason }) => {
            assert_eq!(kind, PermanentKind::InvalidRecipient);
            assert!(reason.contains("Invalid RCV"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    match pswin(format!("{}/pswin", gateway.base), "wrong")
        .send(&sms("91234567", "x"))
        .await
    {
        Err(SendError::Transient { reason }) => {
            assert!(reason.contains("Invalid login"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}
