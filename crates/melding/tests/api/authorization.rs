//! Two-party tests: for every endpoint the owner succeeds and anyone else gets the documented
//! 401/403/404 without learning anything about the letter.

use reqwest::Method;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn no_token_or_an_untrusted_one_is_401_with_a_bearer_challenge() {
    let app = TestApp::spawn().await;
    let id = app.published_letter().await;
    let untrusted = melding_http::auth::DevIssuer::generate().mint(
        &person(PERSON),
        READ,
        chrono::Duration::hours(1),
        chrono::Utc::now(),
    );
    let expired = app.issuer.mint(
        &person(PERSON),
        READ,
        chrono::Duration::seconds(-10),
        chrono::Utc::now(),
    );
    for (method, p) in endpoints(&id) {
        for token in [
            None,
            Some("garbage"),
            Some(untrusted.as_str()),
            Some(expired.as_str()),
        ] {
            let a = app.call(method.clone(), &p, token, None).await;
            assert_eq!(a.status, 401, "{method} {p} with {token:?}");
            assert_eq!(a.headers["www-authenticate"], "Bearer");
            assert!(a.text.is_empty(), "401 has an empty body");
        }
    }
}

fn endpoints(id: &str) -> Vec<(Method, String)> {
    let base = "/correspondence/api/v1/correspondence".to_owned();
    vec![
        (Method::POST, base.clone()),
        (
            Method::GET,
            format!("{base}?resourceId={RESOURCE}&role=Recipient"),
        ),
        (Method::GET, path(id)),
        (Method::GET, format!("{}/details", path(id))),
        (Method::GET, format!("{}/content", path(id))),
        (Method::POST, format!("{}/markasread", path(id))),
        (Method::POST, format!("{}/confirm", path(id))),
        (Method::DELETE, format!("{}/purge", path(id))),
    ]
}

#[tokio::test]
async fn a_token_without_the_route_scope_is_403_with_an_empty_body() {
    let app = TestApp::spawn().await;
    let id = app.published_letter().await;
    let reader = app.person();
    let no_scope = app.token(&person(PERSON), "openid");
    let sender = app.sender();
    let cases: Vec<(Method, String, &str)> = vec![
        (
            Method::POST,
            "/correspondence/api/v1/correspondence".into(),
            reader.as_str(),
        ),
        (
            Method::GET,
            format!("{}/content", path(&id)),
            sender.as_str(),
        ),
        (
            Method::POST,
            format!("{}/markasread", path(&id)),
            sender.as_str(),
        ),
        (
            Method::POST,
            format!("{}/confirm", path(&id)),
            sender.as_str(),
        ),
        (Method::GET, path(&id), no_scope.as_str()),
        (
            Method::GET,
            format!("{}/details", path(&id)),
            no_scope.as_str(),
        ),
        (
            Method::DELETE,
            format!("{}/purge", path(&id)),
            no_scope.as_str(),
        ),
        (
            Method::GET,
            format!("/correspondence/api/v1/correspondence?resourceId={RESOURCE}&role=Recipient"),
            no_scope.as_str(),
        ),
    ];
    for (method, p, token) in cases {
        let a = app
            .call(method.clone(), &p, Some(token), Some(letter(&[PERSON])))
            .await;
        assert_eq!(a.status, 403, "{method} {p}: {}", a.text);
        assert!(a.text.is_empty());
    }
}

#[tokio::test]
async fn strangers_get_4001_and_nothing_of_the_letter() {
    let app = TestApp::spawn().await;
    let id = app.published_letter().await;
    let stranger_person = app.other_person();
    let stranger_org = app.token(&org(OTHER_SENDER), &format!("{WRITE} {READ}"));
    for token in [&stranger_person, &stranger_org] {
        for p in [path(&id), format!("{}/details", path(&id))] {
            let a = app.get(&p, token).await;
            a.assert_problem(401, 4001);
            assert!(!a.text.contains("Vedtak"), "no detail leaks: {}", a.text);
        }
        app.call(
            Method::DELETE,
            &format!("{}/purge", path(&id)),
            Some(token),
            None,
        )
        .await
        .assert_problem(401, 4001);
    }
    for p in [
        format!("{}/content", path(&id)),
        format!("{}/markasread", path(&id)),
        format!("{}/confirm", path(&id)),
    ] {
        let method = if p.ends_with("content") {
            Method::GET
        } else {
            Method::POST
        };
        app.call(method, &p, Some(&stranger_person), None)
            .await
            .assert_problem(401, 4001);
    }
    // The owners succeed on the same letter.
    app.get(&path(&id), &app.person()).await.assert_status(200);
    app.get(&path(&id), &app.sender()).await.assert_status(200);
    app.post(&format!("{}/markasread", path(&id)), &app.person())
        .await
        .assert_status(200);
    app.post(&format!("{}/confirm", path(&id)), &app.person())
        .await
        .assert_status(200);
    app.get(&format!("{}/content", path(&id)), &app.person())
        .await
        .assert_status(200);
    app.call(
        Method::DELETE,
        &format!("{}/purge", path(&id)),
        Some(&app.person()),
        None,
    )
    .await
    .assert_status(200);
}

#[tokio::test]
async fn the_sender_cannot_act_as_recipient() {
    let app = TestApp::spawn().await;
    let id = app.published_letter().await;
    let both = app.token(&org(SENDER), &format!("{WRITE} {READ}"));
    // The sending organisation is not the recipient: recipient actions are refused.
    app.post(&format!("{}/markasread", path(&id)), &both)
        .await
        .assert_problem(401, 4001);
    app.get(&format!("{}/content", path(&id)), &both)
        .await
        .assert_problem(401, 4001);
}

#[tokio::test]
async fn a_recipient_never_sees_a_letter_before_it_is_published() {
    let app = TestApp::spawn().await;
    let id = app.send_ok(letter(&[PERSON])).await.remove(0);
    for p in [
        path(&id),
        format!("{}/details", path(&id)),
        format!("{}/content", path(&id)),
    ] {
        app.get(&p, &app.person()).await.assert_problem(404, 1001);
    }
    app.post(&format!("{}/markasread", path(&id)), &app.person())
        .await
        .assert_problem(404, 1001);
    app.call(
        Method::DELETE,
        &format!("{}/purge", path(&id)),
        Some(&app.person()),
        None,
    )
    .await
    .assert_problem(404, 1001);
    // The sender sees it with its content while it is not yet published.
    let o = app.get(&path(&id), &app.sender()).await;
    o.assert_status(200);
    assert_eq!(o.json()["content"]["messageTitle"], "Vedtak om byggesøknad");
    assert_eq!(o.json()["status"], "ReadyForPublish");
}

#[tokio::test]
async fn a_sender_may_send_only_on_its_own_resources() {
    let app = TestApp::spawn().await;
    let mut b = letter(&[PERSON]);
    b["correspondence"]["resourceId"] = json!(RESOURCE);
    app.send(&app.other_sender(), b.clone())
        .await
        .assert_problem(401, 4001);
    let person_writer = app.token(&person(PERSON), WRITE);
    app.send(&person_writer, b.clone())
        .await
        .assert_problem(401, 4001);
    app.send(&app.sender(), b).await.assert_status(200);
}

#[tokio::test]
async fn search_returns_only_the_callers_own_letters() {
    let app = TestApp::spawn().await;
    let mine = app.published_letter().await;
    let theirs = app.send_ok(letter(&[OTHER_PERSON])).await.remove(0);
    app.run_jobs().await;
    let q = format!("/correspondence/api/v1/correspondence?resourceId={RESOURCE}&role=Recipient");
    assert_eq!(
        app.get(&q, &app.person()).await.json()["ids"],
        json!([mine])
    );
    assert_eq!(
        app.get(&q, &app.other_person()).await.json()["ids"],
        json!([theirs])
    );
    let q = format!("/correspondence/api/v1/correspondence?resourceId={RESOURCE}&role=Sender");
    assert_eq!(
        app.get(&q, &app.other_sender()).await.json()["ids"],
        json!([])
    );
    assert_eq!(
        app.get(&q, &app.sender()).await.json()["ids"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // An idempotency-key lookup does not reveal a stranger's letter.
    let key = "5a1d1a6e-3c0e-4e55-9b0b-0a0f2b6c2a11";
    let mut b = letter(&[PERSON]);
    b["idempotentKey"] = json!(key);
    app.send_ok(b).await;
    let q = format!(
        "/correspondence/api/v1/correspondence?resourceId={RESOURCE}&role=Recipient&idempotentKey={key}"
    );
    assert_eq!(
        app.get(&q, &app.other_person()).await.json()["ids"],
        json!([])
    );
    assert_eq!(
        app.get(&q, &app.person()).await.json()["ids"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_trusted_token_that_names_no_party_is_4006() {
    let app = TestApp::spawn().await;
    let id = app.published_letter().await;
    let claims = melding_http::auth::Claims {
        iss: melding_http::auth::DEV_ISSUER.into(),
        aud: melding_http::auth::DEV_AUDIENCE.into(),
        exp: (chrono::Utc::now() + chrono::Duration::hours(1)).timestamp(),
        iat: None,
        scope: Some(format!("{WRITE} {READ}")),
        c: None,
        pid: None,
        consumer: None,
        org_number: None,
    };
    let token = app.issuer.sign(&claims);
    app.get(&path(&id), &token).await.assert_problem(401, 4006);
    app.send(&token, letter(&[PERSON]))
        .await
        .assert_problem(401, 4006);
    // A token for the wrong audience is not trusted at all.
    let mut wrong_aud = claims.clone();
    wrong_aud.aud = "someone-else".into();
    wrong_aud.pid = Some(PERSON.into());
    let a = app.get(&path(&id), &app.issuer.sign(&wrong_aud)).await;
    assert_eq!(a.status, 401);
    assert!(a.text.is_empty());
}
