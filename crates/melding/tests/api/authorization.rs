//! Two-party tests: for every endpoint the owner succeeds and anyone else gets the documented
//! 401/403/404 without learning anything about the letter.

use reqwest::Method;
use serde_json::json;

use crate::support::*;

/// The 401 matrix over every route the router serves, taken from its route list: a new route
/// is covered without an entry here, and a new anonymous route must be named below.
#[tokio::test]
async fn every_route_answers_401_to_no_garbage_untrusted_or_expired_tokens() {
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
    let routes = melding_http::route_list();
    let anonymous: Vec<&str> = routes
        .iter()
        .filter(|r| !r.bearer && !r.basic)
        .map(|r| r.path.as_str())
        .collect();
    assert_eq!(
        anonymous,
        [
            // The download link of a forwarded attachment: its token is the permission.
            "/correspondence/api/v1/forwarding/attachment/{token}",
            "/",
            "/health",
            "/healthz",
            "/correspondence/api/v1/swagger/v1/swagger.json",
            "/correspondence/api/v1/swagger/index.html"
        ],
        "a route without a token must be meant to be anonymous"
    );
    let bearer: Vec<_> = routes.iter().filter(|r| r.bearer).collect();
    assert!(bearer.len() >= 21, "{bearer:?}");
    for route in &routes {
        let p = concrete(&route.path, &id);
        if route.basic {
            // The SMS gateway's webhook: HTTP Basic, never a bearer token.
            for token in [None, Some(app.sender())] {
                let a = app
                    .call(route.method.clone(), &p, token.as_deref(), None)
                    .await;
                assert_eq!(a.status, 401, "{} {p}: {}", route.method, a.text);
                let challenge = a.headers["www-authenticate"].to_str().unwrap();
                assert!(challenge.starts_with("Basic"), "{challenge}");
            }
            continue;
        }
        if !route.bearer {
            let a = app.call(route.method.clone(), &p, None, None).await;
            // A made-up download-link token names no link (the link tests cover real ones).
            let served = if route.path.contains("/forwarding/attachment/") {
                404
            } else {
                200
            };
            assert_eq!(
                a.status, served,
                "{} {p} is served anonymously",
                route.method
            );
            continue;
        }
        for token in [
            None,
            Some("garbage"),
            Some(untrusted.as_str()),
            Some(expired.as_str()),
        ] {
            let a = app.call(route.method.clone(), &p, token, None).await;
            assert_eq!(
                a.status, 401,
                "{} {p} with {token:?}: {}",
                route.method, a.text
            );
            let challenge = a.headers["www-authenticate"].to_str().unwrap();
            assert!(challenge.starts_with("Bearer"), "{challenge}");
            assert!(a.text.is_empty(), "401 has an empty body");
        }
    }
}

/// `template` with each `{name}` replaced by a value of the right shape; a parameter this test
/// does not know fails it, so a new route gets a deliberate value.
fn concrete(template: &str, id: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').unwrap() + open;
        out.push_str(match &rest[open + 1..close] {
            "correspondenceId" => id,
            "attachmentId" => "0198c2a1-0000-7000-8000-0000000000aa",
            "orgNumber" => RECIPIENT_ORG,
            "nationalId" => PERSON,
            // A download-link token's shape (43 base64url characters) that names no link.
            "token" => "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            other => panic!("no value for path parameter {{{other}}} in {template}"),
        });
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
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
    // Confirm too, also once the recipient has fetched it and a confirmation would be accepted.
    app.post(&format!("{}/confirm", path(&id)), &both)
        .await
        .assert_problem(401, 4001);
    app.get(&path(&id), &app.person()).await.assert_status(200);
    app.post(&format!("{}/confirm", path(&id)), &both)
        .await
        .assert_problem(401, 4001);
    let details = app
        .get(&format!("{}/details", path(&id)), &app.sender())
        .await
        .json();
    assert_eq!(history_count(&details, "Confirmed"), 0, "{details}");
    assert_eq!(history_count(&details, "Read"), 0, "{details}");
    // The recipient's own confirmation is then accepted.
    app.post(&format!("{}/confirm", path(&id)), &app.person())
        .await
        .assert_status(200);
}

#[tokio::test]
async fn a_recipient_never_sees_a_letter_before_it_is_published() {
    let app = TestApp::spawn().await;
    let key = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
    let mut b = letter(&[PERSON]);
    b["idempotentKey"] = json!(key);
    let id = app.send_ok(b).await.remove(0);
    // Not even by its idempotency key (a deliberate deviation, see the README); the sender
    // finds it.
    let by_key = format!(
        "/correspondence/api/v1/correspondence?resourceId={RESOURCE}&role=Recipient&idempotentKey={key}"
    );
    assert_eq!(
        app.get(&by_key, &app.person()).await.json()["ids"],
        json!([])
    );
    assert_eq!(
        app.get(&by_key, &app.sender()).await.json()["ids"],
        json!([id])
    );
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
    // Once published, the recipient finds it by the key; once purged, no longer.
    app.run_jobs().await;
    assert_eq!(
        app.get(&by_key, &app.person()).await.json()["ids"],
        json!([id])
    );
    app.call(
        Method::DELETE,
        &format!("{}/purge", path(&id)),
        Some(&app.person()),
        None,
    )
    .await
    .assert_status(200);
    assert_eq!(
        app.get(&by_key, &app.person()).await.json()["ids"],
        json!([])
    );
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
    app.run_jobs().await;
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

/// A letter to the person with one file, sent as a multipart form on `resource`.
fn form_with_file(resource: &str) -> reqwest::multipart::Form {
    use reqwest::multipart::{Form, Part};
    Form::new()
        .text("Correspondence.ResourceId", resource.to_owned())
        .text("Correspondence.SendersReference", "sak-2026-9")
        .text("Correspondence.Content.MessageTitle", "Vedtak")
        .text("Correspondence.Content.MessageBody", "Se vedlegget.")
        .text(
            "Correspondence.Content.Attachments[0].FileName",
            "vedtak.pdf",
        )
        .text(
            "Correspondence.Content.Attachments[0].SendersReference",
            "vedlegg-1",
        )
        .text(
            "Recipients[0]",
            format!("urn:altinn:person:identifier-no:{PERSON}"),
        )
        .part(
            "attachments",
            Part::bytes(vec![7u8; 4096]).file_name("vedtak.pdf"),
        )
}

/// Files kept in the node's local attachment storage.
fn stored_files(app: &TestApp) -> usize {
    std::fs::read_dir(app.data_dir().join("attachments/blobs"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// The multipart initialize has the JSON initialize's caller matrix. The files stream to storage
/// before the letter is checked, so a refusal that comes after them must remove them again.
#[tokio::test]
async fn the_multipart_upload_refuses_every_caller_but_the_resource_owner() {
    let app = TestApp::spawn().await;
    let upload = |token: Option<String>, resource: &'static str| {
        let app = &app;
        async move {
            let mut req = app
                .client
                .post(format!(
                    "{}/correspondence/api/v1/correspondence/upload",
                    app.base
                ))
                .multipart(form_with_file(resource));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            Answer::read(req.send().await.unwrap()).await
        }
    };
    for token in [None, Some("garbage".to_owned())] {
        let a = upload(token, RESOURCE).await;
        a.assert_status(401);
        assert!(a.text.is_empty());
    }
    let a = upload(Some(app.person()), RESOURCE).await;
    a.assert_status(403);
    assert!(a.text.is_empty());
    assert_eq!(stored_files(&app), 0);
    // Another organisation's resource: refused by the use case, after the file was stored.
    upload(Some(app.sender()), OTHER_RESOURCE)
        .await
        .assert_problem(401, 4001);
    assert_eq!(
        stored_files(&app),
        0,
        "the refused letter's file is removed"
    );
    let found = app
        .get(
            &format!(
                "/correspondence/api/v1/correspondence?resourceId={OTHER_RESOURCE}&role=Sender"
            ),
            &app.other_sender(),
        )
        .await;
    assert_eq!(found.json()["ids"], json!([]));
    // The owner of the resource succeeds, and its file is kept where the check above looks.
    upload(Some(app.other_sender()), OTHER_RESOURCE)
        .await
        .assert_status(200);
    assert_eq!(stored_files(&app), 1);
}

/// A stranger asking for an attachment id that is not the letter's learns only that the letter
/// is not theirs (4001), never whether the attachment belongs to it (2001).
#[tokio::test]
async fn a_stranger_asking_for_a_foreign_attachment_gets_4001_before_2001() {
    let app = TestApp::spawn().await;
    let sent = app.send_form(&app.sender(), form_with_file(RESOURCE)).await;
    sent.assert_status(200);
    let letter = sent.json()["correspondences"][0]["correspondenceId"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = app.send_form(&app.sender(), form_with_file(RESOURCE)).await;
    other.assert_status(200);
    let foreign = other.json()["attachmentIds"][0]
        .as_str()
        .unwrap()
        .to_owned();
    app.run_jobs().await;
    let p = format!("{}/attachment/{foreign}/download", path(&letter));
    let stranger = app.get(&p, &app.other_person()).await;
    stranger.assert_problem(401, 4001);
    assert!(!stranger.text.contains(&foreign));
    // An id no attachment has is answered the same way.
    app.get(
        &format!(
            "{}/attachment/0198c2a1-0000-7000-8000-0000000000bb/download",
            path(&letter)
        ),
        &app.other_person(),
    )
    .await
    .assert_problem(401, 4001);
    // The recipient, who may know of the letter, is told the attachment is not part of it.
    app.get(&p, &app.person()).await.assert_problem(404, 2001);
}
