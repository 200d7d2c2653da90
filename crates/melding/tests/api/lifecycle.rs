//! A letter's life through the API: send, publish on time, open, read, confirm, purge.

use chrono::Duration;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn a_letter_goes_from_sender_to_confirmed_and_the_sender_sees_the_history() {
    let app = TestApp::spawn().await;
    let mut body = letter(&[PERSON]);
    body["correspondence"]["isConfirmationNeeded"] = json!(true);
    body["correspondence"]["dueDateTime"] = json!("2026-04-01T00:00:00+00:00");
    let sent = app.send(&app.sender(), body).await;
    sent.assert_status(200);
    let v = sent.json();
    assert_eq!(v["correspondences"][0]["status"], "ReadyForPublish");
    assert_eq!(
        v["correspondences"][0]["recipient"],
        format!("urn:altinn:person:identifier-no:{PERSON}")
    );
    assert!(v["correspondences"][0]["notifications"].is_null());
    assert_eq!(v["attachmentIds"], json!([]));
    let id = v["correspondences"][0]["correspondenceId"]
        .as_str()
        .unwrap()
        .to_owned();

    // Not visible before the publish job has run.
    let search =
        format!("/correspondence/api/v1/correspondence?resourceId={RESOURCE}&role=Recipient");
    assert_eq!(
        app.get(&search, &app.person()).await.json()["ids"],
        json!([])
    );
    app.get(&path(&id), &app.person())
        .await
        .assert_problem(404, 1001);

    assert_eq!(app.run_jobs().await, 1);
    assert_eq!(
        app.get(&search, &app.person()).await.json()["ids"],
        json!([id])
    );

    // Opening logs Fetched; the current status stays Published.
    let overview = app.get(&path(&id), &app.person()).await;
    overview.assert_status(200);
    let o = overview.json();
    assert_eq!(o["status"], "Published");
    assert_eq!(o["content"]["messageTitle"], "Vedtak om byggesøknad");
    assert_eq!(o["messageSender"], "Digitaliseringsdirektoratet");
    assert_eq!(
        o["sender"],
        format!("urn:altinn:organization:identifier-no:{SENDER}")
    );
    assert!(o["published"].as_str().unwrap().ends_with("+00:00"));
    assert!(o["read"].is_null());

    let read = app
        .post(&format!("{}/markasread", path(&id)), &app.person())
        .await;
    read.assert_status(200);
    assert_eq!(read.json(), json!(id));
    let confirmed = app
        .post(&format!("{}/confirm", path(&id)), &app.person())
        .await;
    confirmed.assert_status(200);
    assert_eq!(confirmed.json(), json!(id));

    // The sender sees the history but, after publish, not the content.
    let details = app
        .get(&format!("{}/details", path(&id)), &app.sender())
        .await;
    details.assert_status(200);
    let d = details.json();
    assert_eq!(d["status"], "Confirmed");
    assert_eq!(d["content"]["language"], "no");
    assert_eq!(d["content"]["messageBody"], "");
    let history: Vec<&str> = d["statusHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        history,
        [
            "Initialized",
            "ReadyForPublish",
            "Published",
            "Fetched",
            "Read",
            "Confirmed"
        ]
    );
    assert!(d["read"].as_str().is_some());
}

#[tokio::test]
async fn publishing_waits_for_the_requested_time() {
    let app = TestApp::spawn().await;
    let mut body = letter(&[PERSON]);
    let at = app.now() + Duration::hours(2);
    body["correspondence"]["requestedPublishTime"] = json!(at.to_rfc3339());
    let id = app.send_ok(body).await.remove(0);

    assert_eq!(app.run_jobs().await, 0, "nothing is due yet");
    app.advance(Duration::minutes(119));
    app.run_jobs().await;
    app.get(&path(&id), &app.person())
        .await
        .assert_problem(404, 1001);
    let details = app
        .get(&format!("{}/details", path(&id)), &app.sender())
        .await;
    assert_eq!(details.json()["status"], "ReadyForPublish");

    app.advance(Duration::minutes(1));
    assert_eq!(app.run_jobs().await, 1);
    let o = app.get(&path(&id), &app.person()).await;
    o.assert_status(200);
    assert_eq!(o.json()["status"], "Published");
    assert_eq!(
        o.json()["published"],
        melding_api_types::time::format(&at),
        "published exactly when due on the simulated clock"
    );
    // Published once. (A repeated publish job is tested in `repeats.rs`: here the job is gone.)
    let d = app
        .get(&format!("{}/details", path(&id)), &app.sender())
        .await
        .json();
    assert_eq!(history_count(&d, "Published"), 1);
}

#[tokio::test]
async fn one_request_makes_one_letter_per_recipient() {
    let app = TestApp::spawn().await;
    let ids = app
        .send_ok(letter(&[PERSON, OTHER_PERSON, RECIPIENT_ORG]))
        .await;
    assert_eq!(ids.len(), 3);
    app.run_jobs().await;
    let org_token = app.token(&org(RECIPIENT_ORG), READ);
    app.get(&path(&ids[2]), &org_token).await.assert_status(200);
    app.get(&path(&ids[0]), &org_token)
        .await
        .assert_problem(401, 4001);
    app.get(&path(&ids[1]), &app.other_person())
        .await
        .assert_status(200);
}

#[tokio::test]
async fn recipient_name_is_filled_in_per_recipient_exactly_as_registered() {
    let app = TestApp::spawn().await;
    let mut body = letter(&[PERSON, RECIPIENT_ORG]);
    body["correspondence"]["content"]["messageBody"] = json!("Hei {{recipientName}}!");
    let ids = app.send_ok(body).await;
    app.run_jobs().await;
    let person_body =
        app.get(&path(&ids[0]), &app.person()).await.json()["content"]["messageBody"].clone();
    assert_eq!(person_body, "Hei OLA NORDMANN!");
    let org_body = app
        .get(&path(&ids[1]), &app.token(&org(RECIPIENT_ORG), READ))
        .await
        .json()["content"]["messageBody"]
        .clone();
    assert_eq!(org_body, "Hei BYGG OG ANLEGG AS!");
}

#[tokio::test]
async fn content_endpoint_returns_markdown_and_logs_read_once() {
    let app = TestApp::spawn().await;
    let id = app.published_letter().await;
    let c = app
        .get(&format!("{}/content", path(&id)), &app.person())
        .await;
    c.assert_status(200);
    assert!(
        c.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(c.text.contains("**innvilget**"));
    app.get(&format!("{}/content", path(&id)), &app.person())
        .await
        .assert_status(200);
    let d = app
        .get(&format!("{}/details", path(&id)), &app.sender())
        .await
        .json();
    let reads = history_count(&d, "Read");
    assert_eq!(reads, 1);
    // Already read through the content: marking as read again is refused.
    app.post(&format!("{}/markasread", path(&id)), &app.person())
        .await
        .assert_problem(400, 1040);
}

#[tokio::test]
async fn more_than_three_reply_options_are_appended_to_the_body() {
    let app = TestApp::spawn().await;
    let mut body = letter(&[PERSON]);
    body["correspondence"]["replyOptions"] = json!([
        {"linkURL": "https://a.example.no/1", "linkText": "En"},
        {"linkURL": "https://a.example.no/2", "linkText": "To"},
        {"linkURL": "https://a.example.no/3", "linkText": "Tre"},
        {"linkURL": "https://a.example.no/4", "linkText": "Fire"}
    ]);
    let id = app.send_ok(body).await.remove(0);
    app.run_jobs().await;
    let o = app.get(&path(&id), &app.person()).await.json();
    let body = o["content"]["messageBody"].as_str().unwrap();
    assert!(body.ends_with("\n\nSvarvalg:\nEn: https://a.example.no/1\nTo: https://a.example.no/2\nTre: https://a.example.no/3\nFire: https://a.example.no/4"), "{body}");
    assert_eq!(o["replyOptions"][3]["linkURL"], "https://a.example.no/4");
}

#[tokio::test]
async fn fetched_is_logged_once_per_quarter_minute_from_the_overview_but_always_from_details() {
    let app = TestApp::spawn().await;
    let id = app.published_letter().await;
    app.get(&path(&id), &app.person()).await.assert_status(200);
    app.get(&path(&id), &app.person()).await.assert_status(200);
    app.advance(Duration::seconds(16));
    app.get(&path(&id), &app.person()).await.assert_status(200);
    app.get(&format!("{}/details", path(&id)), &app.person())
        .await
        .assert_status(200);
    let d = app
        .get(&format!("{}/details", path(&id)), &app.sender())
        .await
        .json();
    let fetched = history_count(&d, "Fetched");
    assert_eq!(fetched, 3);
}

#[tokio::test]
async fn the_sender_withdraws_a_letter_before_it_is_published() {
    let app = TestApp::spawn().await;
    let mut body = letter(&[PERSON]);
    body["correspondence"]["requestedPublishTime"] =
        json!((app.now() + Duration::days(1)).to_rfc3339());
    let id = app.send_ok(body).await.remove(0);
    let purged = app
        .call(
            reqwest::Method::DELETE,
            &format!("{}/purge", path(&id)),
            Some(&app.sender()),
            None,
        )
        .await;
    purged.assert_status(200);
    assert_eq!(purged.json(), json!(id));
    // The publish job finds a purged letter and does nothing.
    app.advance(Duration::days(2));
    app.run_jobs().await;
    app.get(&path(&id), &app.sender())
        .await
        .assert_problem(404, 1001);
    app.get(&path(&id), &app.person())
        .await
        .assert_problem(404, 1001);
    // Details still answer the sender, without the purge entry.
    let d = app
        .get(&format!("{}/details", path(&id)), &app.sender())
        .await;
    d.assert_status(200);
    assert_eq!(d.json()["status"], "PurgedByAltinn");
    let history: Vec<String> = d.json()["statusHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(history, ["Initialized", "ReadyForPublish"]);
}

#[tokio::test]
async fn the_recipient_deletes_a_letter_after_confirming_when_asked_to() {
    let app = TestApp::spawn().await;
    let mut body = letter(&[PERSON]);
    body["correspondence"]["isConfirmationNeeded"] = json!(true);
    body["correspondence"]["dueDateTime"] = json!("2026-05-01T00:00:00+00:00");
    let id = app.send_ok(body).await.remove(0);
    app.run_jobs().await;
    let purge = format!("{}/purge", path(&id));
    app.get(&path(&id), &app.person()).await.assert_status(200);
    app.call(reqwest::Method::DELETE, &purge, Some(&app.person()), None)
        .await
        .assert_problem(400, 1026);
    app.post(&format!("{}/confirm", path(&id)), &app.person())
        .await
        .assert_status(200);
    app.call(reqwest::Method::DELETE, &purge, Some(&app.person()), None)
        .await
        .assert_status(200);
    app.call(reqwest::Method::DELETE, &purge, Some(&app.person()), None)
        .await
        .assert_problem(400, 1014);
    app.get(&path(&id), &app.person())
        .await
        .assert_problem(404, 1001);
    app.get(&format!("{}/details", path(&id)), &app.person())
        .await
        .assert_problem(404, 1001);
}
