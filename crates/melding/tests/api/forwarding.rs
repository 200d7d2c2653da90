//! Forwarding through the API (reference §4.12, issue 15 item 5): the order of the checks, the
//! idempotency per letter and address, the hidden forward check, the details'
//! `forwardingEvents`, and the composed e-mail, both captured in memory and through a real SMTP
//! server (aiosmtpd) that first answers 451.

use base64::Engine;
use chrono::Duration;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::attachments::{bytes, ids};
use crate::smtp_sink::{self as sink, Mode, SinkTls, SmtpSink};
use crate::support::*;

const FORWARD_CHECK: &str = "altinn:correspondence.forward.check";

fn forward_path(id: &str) -> String {
    format!("{}/forward", path(id))
}

async fn forward(app: &TestApp, id: &str, token: &str, body: Value) -> Answer {
    app.call(Method::POST, &forward_path(id), Some(token), Some(body))
        .await
}

/// A published letter to [`PERSON`]; `allow` sets `allowForwarding`.
async fn published(app: &TestApp, allow: bool) -> String {
    let mut body = letter(&[PERSON]);
    body["correspondence"]["allowForwarding"] = allow.into();
    let id = app.send_ok(body).await.remove(0);
    app.run_jobs().await;
    id
}

/// The recipient reads the letter (its content), which logs Fetched and Read.
async fn read(app: &TestApp, id: &str) {
    app.get(&format!("{}/content", path(id)), &app.person())
        .await
        .assert_status(200);
}

async fn details(app: &TestApp, id: &str) -> Value {
    let a = app
        .get(&format!("{}/details", path(id)), &app.sender())
        .await;
    a.assert_status(200);
    a.json()
}

/// A well-shaped address of more than 1000 characters.
fn long_address() -> String {
    format!("kari@{}.no", vec!["a".repeat(60); 17].join("."))
}

#[tokio::test]
async fn forwarding_refuses_in_the_documented_order() {
    let app = TestApp::spawn().await;
    let closed = published(&app, false).await;
    let open = published(&app, true).await;
    let person = app.person();
    let everything_wrong =
        json!({"forwardTo": "ikke en adresse", "forwardingText": "# x".repeat(80)});

    // 1001: no such letter.
    forward(
        &app,
        &uuid::Uuid::now_v7().to_string(),
        &person,
        everything_wrong.clone(),
    )
    .await
    .assert_problem(404, 1001);
    // 4001: not the letter's recipient.
    forward(&app, &closed, &app.other_person(), everything_wrong.clone())
        .await
        .assert_problem(401, 4001);
    // 3011: the address before anything about the letter.
    forward(&app, &closed, &person, everything_wrong.clone())
        .await
        .assert_problem(400, 3011);
    forward(
        &app,
        &closed,
        &person,
        json!({"forwardTo": "kari@example.no;ola@example.no"}),
    )
    .await
    .assert_problem(400, 3011);
    // 3027: a well-shaped address of more than 1000 characters.
    forward(&app, &closed, &person, json!({"forwardTo": long_address()}))
        .await
        .assert_problem(400, 3027);
    // 1063: the letter does not allow forwarding, whatever the text.
    forward(
        &app,
        &closed,
        &person,
        json!({"forwardTo": "kari@example.no", "forwardingText": "# x".repeat(80)}),
    )
    .await
    .assert_problem(400, 1063);
    // 1066 before 1067, then 1067, both before the read check.
    forward(
        &app,
        &open,
        &person,
        json!({"forwardTo": "kari@example.no", "forwardingText": "# x".repeat(80)}),
    )
    .await
    .assert_problem(400, 1066);
    forward(
        &app,
        &open,
        &person,
        json!({"forwardTo": "kari@example.no", "forwardingText": "# Overskrift"}),
    )
    .await
    .assert_problem(400, 1067);
    // 1065: not read yet.
    forward(
        &app,
        &open,
        &person,
        json!({"forwardTo": "kari@example.no"}),
    )
    .await
    .assert_problem(400, 1065);
    // The model requires forwardTo.
    forward(&app, &open, &person, json!({"forwardingText": "Hei"}))
        .await
        .assert_validation("ForwardTo");
    // The sender cannot forward: the route wants the read scope.
    forward(
        &app,
        &open,
        &app.sender(),
        json!({"forwardTo": "kari@example.no"}),
    )
    .await
    .assert_status(403);

    read(&app, &open).await;
    let ok = forward(
        &app,
        &open,
        &person,
        json!({"ForwardTo": "Kari@Example.no", "ForwardingText": "Til regnskap"}),
    )
    .await;
    ok.assert_status(200);
    let event: String = serde_json::from_str(&ok.text).unwrap();
    assert!(event.parse::<uuid::Uuid>().is_ok(), "{event}");

    // 1064: the same address again, in another case and with spaces around it.
    for again in ["Kari@Example.no", "  kari@example.NO "] {
        forward(&app, &open, &person, json!({"forwardTo": again}))
            .await
            .assert_problem(400, 1064);
    }
    // Another address is another forwarding.
    forward(&app, &open, &person, json!({"forwardTo": "ola@example.no"}))
        .await
        .assert_status(200);
    assert_eq!(
        details(&app, &open).await["forwardingEvents"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn the_forward_check_answers_whether_a_letter_allows_forwarding() {
    let app = TestApp::spawn().await;
    let closed = published(&app, false).await;
    let open = published(&app, true).await;
    let token = app.token(&person(PERSON), FORWARD_CHECK);
    let check = |id: String| {
        let (app, token) = (&app, &token);
        async move {
            app.get(&format!("{}/forward/check", path(&id)), token)
                .await
        }
    };
    let a = check(open.clone()).await;
    a.assert_status(200);
    assert_eq!(a.json(), json!({"allowForwarding": true}));
    let a = check(closed.clone()).await;
    a.assert_status(200);
    assert_eq!(a.json(), json!({"allowForwarding": false}));
    check(uuid::Uuid::now_v7().to_string())
        .await
        .assert_problem(404, 1001);
    // Without the scope: 403, even for the recipient.
    app.get(&format!("{}/forward/check", path(&open)), &app.person())
        .await
        .assert_status(403);
}

/// The composed e-mail goes through the node's e-mail channel (captured here); Forwarded and
/// the event's sent time appear only once the channel took it, and only once.
#[tokio::test]
async fn a_forward_sends_the_composed_email_and_then_shows_forwarded() {
    let app = TestApp::spawn().await;
    let id = published(&app, true).await;
    read(&app, &id).await;
    let before = app.emails().len();
    let forwarded_at = app.now();
    let a = forward(
        &app,
        &id,
        &app.person(),
        json!({"forwardTo": " kari@example.no ", "forwardingText": "Se denne"}),
    )
    .await;
    a.assert_status(200);
    let event: String = serde_json::from_str(&a.text).unwrap();

    // Recorded, not sent yet: no Forwarded, no sent time.
    let d = details(&app, &id).await;
    assert_eq!(history_count(&d, "Forwarded"), 0);
    let events = d["forwardingEvents"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["forwardingEventId"], event.as_str());
    assert_eq!(events[0]["forwardedToEmailAddress"], "kari@example.no");
    assert_eq!(events[0]["forwardingText"], "Se denne");
    assert_eq!(
        events[0]["forwardedByParty"],
        format!("urn:altinn:person:identifier-no:{PERSON}")
    );
    assert!(events[0]["emailSent"].is_null());

    app.advance(Duration::seconds(5));
    app.run_jobs().await;
    let sent = app.emails();
    assert_eq!(sent.len(), before + 1);
    let mail = &sent[before].message;
    assert_eq!(mail.to.as_str(), "kari@example.no");
    assert_eq!(mail.subject, "Vedtak om byggesøknad");
    assert_eq!(
        mail.body.plain,
        "Se denne\n\n---\n\n# Vedtak\n\nDu har fått **innvilget** søknaden."
    );
    assert!(mail.attachments.is_empty());
    assert!(
        sent[before].message_id.contains(&event),
        "{}",
        sent[before].message_id
    );

    let d = details(&app, &id).await;
    assert_eq!(history_count(&d, "Forwarded"), 1);
    let entry = d["statusHistory"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["status"] == "Forwarded")
        .unwrap()
        .clone();
    // Timestamped with the forward time, not the send time.
    let at: chrono::DateTime<chrono::Utc> =
        entry["statusChanged"].as_str().unwrap().parse().unwrap();
    assert_eq!(at, forwarded_at);
    assert!(d["forwardingEvents"][0]["emailSent"].is_string());

    // Running again sends nothing more and appends nothing.
    app.advance(Duration::hours(2));
    app.run_jobs().await;
    assert_eq!(app.emails().len(), before + 1);
    assert_eq!(history_count(&details(&app, &id).await, "Forwarded"), 1);
}

/// A letter with two attachments (one with a display name), allowing forwarding, to
/// [`PERSON`]; ASCII texts so the MIME text shows them as written.
fn letter_with_files(files: &[(&str, Option<&str>, Vec<u8>)]) -> Form {
    let mut form = Form::new()
        .text("Correspondence.ResourceId", RESOURCE)
        .text("Correspondence.SendersReference", "sak-2026-9")
        .text("Correspondence.Content.Language", "nb")
        .text("Correspondence.Content.MessageTitle", "Vedtak om byggesak")
        .text("Correspondence.Content.MessageSummary", "Med vedlegg")
        .text("Correspondence.Content.MessageBody", "Se vedleggene.")
        .text("Correspondence.AllowForwarding", "true")
        .text(
            "Recipients[0]",
            format!("urn:altinn:person:identifier-no:{PERSON}"),
        );
    for (i, (name, display, _)) in files.iter().enumerate() {
        form = form
            .text(
                format!("Correspondence.Content.Attachments[{i}].FileName"),
                name.to_string(),
            )
            .text(
                format!("Correspondence.Content.Attachments[{i}].SendersReference"),
                format!("vedlegg-{i}"),
            );
        if let Some(d) = display {
            form = form.text(
                format!("Correspondence.Content.Attachments[{i}].DisplayName"),
                d.to_string(),
            );
        }
    }
    for (name, _, data) in files {
        form = form.part(
            "attachments",
            Part::bytes(data.clone()).file_name(name.to_string()),
        );
    }
    form
}

/// The attachment parts of a MIME message: (file name, decoded bytes), in order.
fn attachment_parts(raw: &str) -> Vec<(String, Vec<u8>)> {
    let mut parts = Vec::new();
    for chunk in raw.split("Content-Disposition: attachment;").skip(1) {
        let (head, body) = chunk
            .split_once("\r\n\r\n")
            .or_else(|| chunk.split_once("\n\n"))
            .expect("part body");
        let name = head
            .split("filename=")
            .nth(1)
            .expect("filename")
            .lines()
            .next()
            .unwrap()
            .trim()
            .trim_matches('"')
            .to_owned();
        let encoded: String = body
            .lines()
            .take_while(|l| !l.starts_with("--"))
            .collect::<Vec<_>>()
            .join("");
        let data = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .expect("base64 part");
        parts.push((name, data));
    }
    parts
}

fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    let prefix = format!("{name}:");
    raw.lines()
        .take_while(|l| !l.trim().is_empty())
        .find(|l| l.len() > prefix.len() && l[..prefix.len()].eq_ignore_ascii_case(&prefix))
        .map(|l| l[prefix.len()..].trim())
}

/// Through a real SMTP server: the composed e-mail's subject, body and attachment parts
/// (names, bytes); a 451 is retried and the message arrives exactly once; Forwarded appears
/// only after the server accepted it.
#[tokio::test]
async fn a_forward_reaches_a_real_smtp_server_once_with_its_attachments_after_a_451() {
    if sink::skipped() {
        return;
    }
    let port = sink::free_port();
    let app = crate::notification_smtp::app_sending_to(port).await;
    let pdf = bytes(3000, 7);
    let map = bytes(1500, 42);
    let a = app
        .send_form(
            &app.sender(),
            letter_with_files(&[
                ("vedtak.pdf", None, pdf.clone()),
                ("kart.png", Some("Kart over tomten.png"), map.clone()),
            ]),
        )
        .await;
    a.assert_status(200);
    let (letters, _) = ids(&a);
    let id = letters[0].clone();

    let bad = SmtpSink::start_on(port, Mode::TempFail, SinkTls::None);
    app.run_jobs().await;
    read(&app, &id).await;
    forward(
        &app,
        &id,
        &app.person(),
        json!({"forwardTo": "kari@example.no", "forwardingText": "Til regnskap"}),
    )
    .await
    .assert_status(200);
    app.run_jobs().await;
    for _ in 0..3 {
        app.advance(Duration::minutes(1));
        app.run_jobs().await;
    }
    assert!(bad.messages().is_empty(), "{}", bad.log());
    let d = details(&app, &id).await;
    assert_eq!(history_count(&d, "Forwarded"), 0, "not before acceptance");
    assert!(d["forwardingEvents"][0]["emailSent"].is_null());
    drop(bad);

    let good = SmtpSink::start_on(port, Mode::Accept, SinkTls::None);
    for _ in 0..3 {
        if !good.messages().is_empty() {
            break;
        }
        app.advance(Duration::minutes(80));
        app.run_jobs().await;
    }
    // More rounds change nothing.
    app.advance(Duration::hours(3));
    app.run_jobs().await;
    let messages = good.messages();
    assert_eq!(messages.len(), 1, "{}", good.log());
    let (envelope, raw) = &messages[0];
    assert_eq!(envelope[0], NOTIFICATION_FROM);
    assert_eq!(envelope[1..], ["kari@example.no".to_owned()]);
    assert_eq!(header(raw, "Subject"), Some("Vedtak om byggesak"));
    assert!(
        header(raw, "Content-Type").is_some_and(|t| t.starts_with("multipart/mixed")),
        "{raw}"
    );
    assert!(
        raw.contains("Til regnskap\r\n\r\n---\r\n\r\nSe vedleggene."),
        "{raw}"
    );
    assert_eq!(
        attachment_parts(raw),
        vec![
            ("vedtak.pdf".to_owned(), pdf),
            ("Kart over tomten.png".to_owned(), map),
        ]
    );
    let d = details(&app, &id).await;
    assert_eq!(history_count(&d, "Forwarded"), 1);
    assert!(d["forwardingEvents"][0]["emailSent"].is_string());
}

/// A node whose forwarded e-mails carry at most 2000 bytes of attachments, and which links the
/// rest from `base` when given.
async fn app_with_link_base(base: Option<&str>) -> TestApp {
    let base = base.map(str::to_owned);
    TestApp::spawn_with(move |node| {
        node.forwarding = melding_core::ForwardingSettings {
            attach_max: melding_domain::ByteSize::bytes(2000),
            link_base_url: base,
            link_lifetime: Duration::days(7),
        };
    })
    .await
}

/// Sends a letter with a small and a large attachment to [`PERSON`], reads and forwards it, and
/// returns its id and the forwarded e-mail.
async fn forwarded_with_a_large_attachment(
    app: &TestApp,
    small: &[u8],
    large: &[u8],
) -> (String, melding_delivery::email::CapturedEmail) {
    let a = app
        .send_form(
            &app.sender(),
            letter_with_files(&[
                ("notat.txt", None, small.to_vec()),
                ("vedtak.pdf", None, large.to_vec()),
            ]),
        )
        .await;
    a.assert_status(200);
    let id = ids(&a).0.remove(0);
    app.run_jobs().await;
    read(app, &id).await;
    forward(
        app,
        &id,
        &app.person(),
        json!({"forwardTo": "kari@example.no"}),
    )
    .await
    .assert_status(200);
    app.run_jobs().await;
    let email = app
        .emails()
        .into_iter()
        .find(|e| e.message.to.as_str() == "kari@example.no")
        .expect("the forwarded e-mail");
    (id, email)
}

/// An attachment beyond the size limit goes as a download link that works without a login,
/// names the file, keeps its token out of referrers, and stops working when it expires; a
/// wrong or malformed token is 404.
#[tokio::test]
async fn attachments_beyond_the_limit_go_as_expiring_download_links() {
    let app = app_with_link_base(Some("https://melding.example.no/")).await;
    let (small, large) = (bytes(1500, 7), bytes(3000, 42));
    let (_, email) = forwarded_with_a_large_attachment(&app, &small, &large).await;
    let names: Vec<_> = email
        .message
        .attachments
        .iter()
        .map(|a| a.file_name.as_str())
        .collect();
    assert_eq!(names, ["notat.txt"]);
    let plain = &email.message.body.plain;
    let prefix =
        "- vedtak.pdf: https://melding.example.no/correspondence/api/v1/forwarding/attachment/";
    let line = plain
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no link line in {plain}"));
    assert!(
        plain.contains("last dem ned innen 09.03.2026 10:00:"),
        "the expiry in Oslo time: {plain}"
    );
    assert!(!plain.contains("ikke er med"), "{plain}");
    let token = &line[prefix.len()..];
    let link = format!(
        "{}/correspondence/api/v1/forwarding/attachment/{token}",
        app.base
    );

    let client = reqwest::Client::new();
    let res = client.get(&link).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    assert_eq!(h["content-type"], "application/pdf");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .contains("vedtak.pdf")
    );
    assert_eq!(res.bytes().await.unwrap().to_vec(), large);

    // Another token of the same shape, and a malformed one, name no link.
    let mut other = token.to_owned();
    let last = if other.ends_with('A') { "B" } else { "A" };
    other.replace_range(other.len() - 1.., last);
    for bad in [other.as_str(), "not-a-token"] {
        let res = client
            .get(format!(
                "{}/correspondence/api/v1/forwarding/attachment/{bad}",
                app.base
            ))
            .send()
            .await
            .unwrap();
        let a = Answer::read(res).await;
        a.assert_status(404);
        assert_eq!(a.json()["detail"], "The download link is unknown");
    }

    app.advance(Duration::days(7) + Duration::minutes(1));
    let a = Answer::read(client.get(&link).send().await.unwrap()).await;
    a.assert_status(410);
    assert!(
        a.json()["detail"]
            .as_str()
            .unwrap()
            .starts_with("The download link expired at "),
        "{}",
        a.json()
    );
}

/// A live link stops working once the recipient deletes the letter.
#[tokio::test]
async fn a_download_link_ends_when_the_letter_is_purged() {
    let app = app_with_link_base(Some("https://melding.example.no")).await;
    let (id, email) = forwarded_with_a_large_attachment(&app, &bytes(10, 1), &bytes(3000, 2)).await;
    let plain = &email.message.body.plain;
    let url = plain
        .split_whitespace()
        .find(|w| w.starts_with("https://melding.example.no/"))
        .unwrap_or_else(|| panic!("no link in {plain}"));
    let link = url.replacen("https://melding.example.no", &app.base, 1);
    let client = reqwest::Client::new();
    assert_eq!(client.get(&link).send().await.unwrap().status(), 200);
    app.call(
        reqwest::Method::DELETE,
        &format!("{}/purge", path(&id)),
        Some(&app.person()),
        None,
    )
    .await
    .assert_status(200);
    let a = Answer::read(client.get(&link).send().await.unwrap()).await;
    a.assert_status(410);
    assert_eq!(a.json()["detail"], "The attachment is no longer available");
}

/// Without a public address to link to, an attachment beyond the limit is listed by name.
#[tokio::test]
async fn without_a_public_address_large_attachments_are_listed_by_name() {
    let app = app_with_link_base(None).await;
    let (_, email) = forwarded_with_a_large_attachment(&app, &bytes(10, 1), &bytes(3000, 2)).await;
    assert_eq!(email.message.attachments.len(), 1);
    let plain = &email.message.body.plain;
    assert!(
        plain.ends_with("Vedlegg som ikke er med i denne e-posten:\n- vedtak.pdf"),
        "{plain}"
    );
    assert!(!plain.contains("http"), "{plain}");
}
