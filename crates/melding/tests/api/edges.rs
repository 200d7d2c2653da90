//! The edges of the API as a newcomer meets them: a refused token says why (RFC 6750), every
//! refusal is a ProblemDetails (405, 406, 408, 413, 415), invalid query enums list the valid
//! values, unknown JSON properties are counted, and `/` points somewhere useful.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;

fn challenge(a: &Answer) -> String {
    a.headers["www-authenticate"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_refused_token_says_why_in_the_bearer_challenge() {
    let app = TestApp::spawn().await;
    let id = app.published_letter().await;
    let now = chrono::Utc::now();
    let claims = |exp: i64| {
        json!({
            "iss": melding_http::auth::DEV_ISSUER, "aud": melding_http::auth::DEV_AUDIENCE,
            "exp": exp, "scope": READ, "pid": PERSON,
        })
    };
    let expired = app.issuer.sign(&claims(now.timestamp() - 10));
    let mut not_yet = claims((now + chrono::Duration::hours(2)).timestamp());
    not_yet["nbf"] = json!((now + chrono::Duration::hours(1)).timestamp());
    let not_yet = app.issuer.sign(&not_yet);
    let mut wrong_aud = claims((now + chrono::Duration::hours(1)).timestamp());
    wrong_aud["aud"] = json!("someone-else");
    let wrong_aud = app.issuer.sign(&wrong_aud);
    let mut wrong_iss = claims((now + chrono::Duration::hours(1)).timestamp());
    wrong_iss["iss"] = json!("https://idp.example.no");
    let wrong_iss = app.issuer.sign(&wrong_iss);
    let untrusted = melding_http::auth::DevIssuer::generate().mint(
        &person(PERSON),
        READ,
        chrono::Duration::hours(1),
        now,
    );
    // The right key and claims, with the signature of another token.
    let good = app.person();
    let forged = {
        let mut parts: Vec<&str> = good.split('.').collect();
        let other: Vec<&str> = untrusted.split('.').collect();
        parts[2] = other[2];
        parts.join(".")
    };
    let cases = [
        (expired.as_str(), "The token has expired"),
        (not_yet.as_str(), "The token is not valid yet"),
        (
            wrong_aud.as_str(),
            "The token has the wrong issuer or audience",
        ),
        (
            wrong_iss.as_str(),
            "The token has the wrong issuer or audience",
        ),
        (
            untrusted.as_str(),
            "The token has a bad signature or an unknown key",
        ),
        (
            forged.as_str(),
            "The token has a bad signature or an unknown key",
        ),
        ("garbage", "The token is malformed"),
        ("a.b.c", "The token is malformed"),
    ];
    for (token, why) in cases {
        let a = app.get(&path(&id), token).await;
        assert_eq!(a.status, 401, "{why}");
        assert!(a.text.is_empty(), "the 401 body stays empty");
        assert_eq!(
            challenge(&a),
            format!(r#"Bearer error="invalid_token", error_description="{why}""#)
        );
    }
    // No credentials at all, or another scheme: a bare challenge without an error code.
    let a = app.call(Method::GET, &path(&id), None, None).await;
    assert_eq!(a.status, 401);
    assert_eq!(challenge(&a), "Bearer");
    let res = app
        .client
        .get(format!("{}{}", app.base, path(&id)))
        .header("authorization", "Basic b2xhOnNlY3JldA==")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    // The good token still works.
    app.get(&path(&id), &good).await.assert_status(200);
}

#[tokio::test]
async fn a_token_without_the_route_scope_is_told_which_scope_is_missing() {
    let app = TestApp::spawn().await;
    let id = app.published_letter().await;
    let a = app.send(&app.person(), letter(&[PERSON])).await;
    assert_eq!(a.status, 403);
    assert!(a.text.is_empty(), "the 403 body stays empty");
    assert_eq!(
        challenge(&a),
        r#"Bearer error="insufficient_scope", scope="altinn:correspondence.write""#
    );
    let a = app
        .post(&format!("{}/markasread", path(&id)), &app.sender())
        .await;
    assert_eq!(a.status, 403);
    assert_eq!(
        challenge(&a),
        r#"Bearer error="insufficient_scope", scope="altinn:correspondence.read""#
    );
    let a = app
        .get(&path(&id), &app.token(&person(PERSON), "openid"))
        .await;
    assert_eq!(a.status, 403);
    assert_eq!(
        challenge(&a),
        r#"Bearer error="insufficient_scope", scope="altinn:correspondence.write altinn:correspondence.read""#
    );
}

/// A ProblemDetails without a business code, with the given status.
fn assert_plain_problem(status: u16, headers: &reqwest::header::HeaderMap, text: &str) {
    let ct = headers["content-type"].to_str().unwrap();
    assert!(ct.starts_with("application/json"), "{status}: {ct}: {text}");
    let v: serde_json::Value =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{status}: not JSON ({e}): {text}"));
    assert_eq!(v["status"], status, "{text}");
    assert!(v["title"].as_str().is_some_and(|t| !t.is_empty()), "{text}");
    assert!(
        v["detail"].as_str().is_some_and(|t| !t.is_empty()),
        "{text}"
    );
    assert!(
        v["traceId"].as_str().is_some_and(|t| t.starts_with("00-")),
        "{text}"
    );
}

#[tokio::test]
async fn framework_refusals_are_problem_details() {
    let app = TestApp::spawn().await;
    let id = app.published_letter().await;
    let letters = format!("{}/correspondence/api/v1/correspondence", app.base);

    // 413: a JSON body over the 4 MiB limit.
    let huge = format!(
        r#"{{"x": "{}"}}"#,
        "a".repeat(melding_http::JSON_BODY_LIMIT + 1)
    );
    let res = app
        .client
        .post(&letters)
        .bearer_auth(app.sender())
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    let a = Answer::read(res).await;
    assert_eq!(a.status, 413);
    assert_plain_problem(413, &a.headers, &a.text);

    // 405: a method the route does not have; `Allow` says which it has.
    let res = app
        .client
        .put(&letters)
        .bearer_auth(app.sender())
        .send()
        .await
        .unwrap();
    let a = Answer::read(res).await;
    assert_eq!(a.status, 405);
    assert_plain_problem(405, &a.headers, &a.text);
    let allow = a.headers["allow"].to_str().unwrap();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    assert!(a.json()["detail"].as_str().unwrap().contains("PUT"));

    // 406: an Accept header the endpoint cannot meet.
    let res = app
        .client
        .get(format!("{}{}", app.base, path(&id)))
        .bearer_auth(app.person())
        .header("accept", "application/xml")
        .send()
        .await
        .unwrap();
    let a = Answer::read(res).await;
    assert_eq!(a.status, 406);
    assert_plain_problem(406, &a.headers, &a.text);
    assert!(
        a.json()["detail"]
            .as_str()
            .unwrap()
            .starts_with("This endpoint does not support the requested Accept header.")
    );

    // 415: a body that is not JSON.
    let res = app
        .client
        .post(&letters)
        .bearer_auth(app.sender())
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    let a = Answer::read(res).await;
    assert_eq!(a.status, 415);
    assert_plain_problem(415, &a.headers, &a.text);

    // A multipart request that is not multipart: the extractor's refusal, as a problem.
    let res = app
        .client
        .post(format!("{letters}/upload"))
        .bearer_auth(app.sender())
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    let a = Answer::read(res).await;
    assert!(a.status.is_client_error(), "{}", a.status);
    assert_plain_problem(a.status.as_u16(), &a.headers, &a.text);
}

#[tokio::test]
async fn a_request_over_the_time_limit_is_a_408_problem() {
    let app = TestApp::spawn_with(|n| n.request_timeout = Duration::from_millis(300)).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    // A client that announces 100 bytes of body and sends 2, then waits.
    let head = format!(
        "POST /correspondence/api/v1/correspondence HTTP/1.1\r\nHost: {addr}\r\n\
         Authorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{}}",
        app.sender()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer))
        .await
        .expect("the server ends the request")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{answer}"
    );
    let body = &answer[answer.find("\r\n\r\n").unwrap() + 4..];
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(v["status"], 408);
    assert_eq!(v["title"], "Request Timeout");

    // A request that completes in time is not affected.
    app.send(&app.sender(), letter(&[PERSON]))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn an_invalid_query_enum_lists_the_valid_values() {
    let app = TestApp::spawn().await;
    let base = "/correspondence/api/v1/correspondence";
    let a = app
        .get(
            &format!("{base}?resourceId={RESOURCE}&role=Mottaker"),
            &app.person(),
        )
        .await;
    a.assert_validation("role");
    assert!(
        a.text.contains(
            "The value 'Mottaker' is not valid for role. Valid values: Recipient, Sender, RecipientAndSender"
        ),
        "{}",
        a.text
    );
    let a = app
        .get(
            &format!("{base}?resourceId={RESOURCE}&role=Recipient&status=Lest"),
            &app.person(),
        )
        .await;
    a.assert_validation("status");
    assert!(
        a.text
            .contains("Valid values: Initialized, ReadyForPublish, Published"),
        "{}",
        a.text
    );
}

async fn unknown_fields_metric(app: &TestApp) -> u64 {
    let text = app
        .client
        .get(&app.metrics_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("melding_http_unknown_json_fields_total "))
        .unwrap_or_else(|| panic!("no unknown-field counter in {text}"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn unknown_json_properties_are_accepted_and_counted() {
    let app = TestApp::spawn().await;
    assert_eq!(unknown_fields_metric(&app).await, 0);
    let mut b = letter(&[PERSON]);
    b["correspondence"]["isConfirmationNeded"] = json!(true);
    b["extra"] = json!({"a": 1});
    app.send(&app.sender(), b).await.assert_status(200);
    assert_eq!(unknown_fields_metric(&app).await, 2);
    app.send(&app.sender(), letter(&[PERSON]))
        .await
        .assert_status(200);
    assert_eq!(unknown_fields_metric(&app).await, 2);
}

#[tokio::test]
async fn the_root_points_to_the_api_documents() {
    let app = TestApp::spawn().await;
    let res = app.client.get(&app.base).send().await.unwrap();
    let a = Answer::read(res).await;
    a.assert_status(200);
    let v = a.json();
    assert_eq!(v["service"], "Melding");
    let openapi = v["openapi"].as_str().unwrap();
    let res = app
        .client
        .get(format!("{}{openapi}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(v["api"], "/correspondence/api/v1");
}
