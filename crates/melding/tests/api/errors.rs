//! Every error code reachable through the correspondence endpoints answers with its documented
//! status, `code`, `errorCode` and message.

use reqwest::Method;
use serde_json::json;

use crate::support::*;

async fn send_err(app: &TestApp, body: serde_json::Value, status: u16, code: u16) {
    app.send(&app.sender(), body)
        .await
        .assert_problem(status, code);
}

#[tokio::test]
async fn initialize_business_errors() {
    let app = TestApp::spawn().await;

    let mut b = letter(&[PERSON, OTHER_PERSON]);
    b["idempotentKey"] = json!("6f1c1f5e-54a7-4c34-9a8e-9a2a4a1d3b10");
    send_err(&app, b, 400, 1047).await;

    let mut b = letter(&[PERSON]);
    b["correspondence"]["resourceId"] = json!("no-such-resource");
    send_err(&app, b, 400, 1036).await;

    let mut b = letter(&[PERSON]);
    b["correspondence"]["resourceId"] = json!(OTHER_RESOURCE);
    send_err(&app, b, 401, 4001).await;

    let mut b = letter(&[PERSON]);
    b["correspondence"]["resourceId"] = json!(CONFIDENTIAL_RESOURCE);
    send_err(&app, b, 400, 1060).await;

    let mut b = letter(&[PERSON]);
    b["correspondence"]["isConfidential"] = json!(true);
    send_err(&app, b, 400, 1061).await;

    let mut b = letter(&[PERSON]);
    b["recipients"] = json!(["08089403198", "urn:altinn:person:identifier-no:08089403198"]);
    send_err(&app, b, 400, 1006).await;

    let b = letter(&[PERSON, "01010150740", "314138910"]);
    let a = app.send(&app.sender(), b).await;
    a.assert_problem(404, 1029);
    let detail = a.json()["detail"].as_str().unwrap().to_owned();
    assert!(
        detail.contains("urn:altinn:person:identifier-no:01010150740"),
        "{detail}"
    );
    assert!(
        detail.contains("urn:altinn:organization:identifier-no:314138910"),
        "{detail}"
    );

    let mut b = letter(&[PERSON]);
    b["correspondence"]["isConfirmationNeeded"] = json!(true);
    send_err(&app, b, 400, 1016).await;

    let mut b = letter(&[PERSON]);
    b["correspondence"]["dueDateTime"] = json!("2026-03-01T00:00:00+00:00");
    send_err(&app, b, 400, 1008).await;

    let mut b = letter(&[PERSON]);
    b["correspondence"]["requestedPublishTime"] = json!("2026-03-10T00:00:00+00:00");
    b["correspondence"]["dueDateTime"] = json!("2026-03-05T00:00:00+00:00");
    send_err(&app, b, 400, 1009).await;

    let mut b = letter(&[PERSON]);
    b["correspondence"]["content"]["messageTitle"] = json!("# Overskrift");
    send_err(&app, b, 400, 1002).await;

    let mut b = letter(&[PERSON]);
    b["correspondence"]["content"]["language"] = json!("se");
    let a = app.send(&app.sender(), b).await;
    a.assert_problem(400, 1023);
    assert_eq!(
        a.json()["detail"],
        "Invalid language chosen. Supported languages is Norsk bokmål (nb), Nynorsk (nn) and English (en)"
    );

    let mut b = letter(&[PERSON]);
    b["correspondence"]["messageSender"] = json!("<b>Kommunen</b>");
    send_err(&app, b, 400, 1039).await;

    let mut b = letter(&[PERSON]);
    b["correspondence"]["externalReferences"] = json!([
        {"referenceValue": "Information", "referenceType": "DialogportenTransmissionType"}
    ]);
    send_err(&app, b, 400, 1053).await;

    let mut b = letter(&[PERSON]);
    b["correspondence"]["externalReferences"] = json!([
        {"referenceValue": "Information", "referenceType": "DialogportenTransmissionType"},
        {"referenceValue": "Decision", "referenceType": 6},
        {"referenceValue": "d", "referenceType": "DialogportenDialogId"}
    ]);
    send_err(&app, b, 400, 1052).await;

    let mut b = letter(&[PERSON]);
    b["existingAttachments"] = json!(["0198c2a1-0000-7000-8000-000000000001"]);
    send_err(&app, b, 400, 1007).await;

    let mut b = letter(&[PERSON]);
    b["correspondence"]["content"]["attachments"] =
        json!([{"fileName": "a.pdf", "sendersReference": "x"}]);
    send_err(&app, b, 400, 1005).await;

    let mut b = letter(&[PERSON]);
    b["correspondence"]["replyOptions"] = json!([{"linkURL": "http://insecure.example.no"}]);
    send_err(&app, b, 400, 1035).await;
}

#[tokio::test]
async fn the_idempotency_key_admits_one_letter_even_under_concurrent_requests() {
    let app = TestApp::spawn().await;
    let key = "0f8fad5b-d9cb-469f-a165-70867728950e";
    let mut b = letter(&[PERSON]);
    b["idempotentKey"] = json!(key);
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let req = app
            .client
            .post(format!("{}/correspondence/api/v1/correspondence", app.base))
            .bearer_auth(app.sender())
            .json(&b);
        set.spawn(async move {
            let res = req.send().await.unwrap();
            Answer {
                status: res.status(),
                headers: res.headers().clone(),
                text: res.text().await.unwrap(),
            }
        });
    }
    let answers = set.join_all().await;
    let ok = answers.iter().filter(|a| a.status == 200).count();
    let conflicts: Vec<_> = answers.iter().filter(|a| a.status == 409).collect();
    assert_eq!(ok, 1, "exactly one request wins");
    assert_eq!(conflicts.len(), 7);
    for c in conflicts {
        c.assert_problem(409, 1034);
    }
    // Later requests with other content are refused too.
    b["correspondence"]["sendersReference"] = json!("another");
    send_err(&app, b, 409, 1034).await;
    let found = app
        .get(
            &format!("/correspondence/api/v1/correspondence?resourceId={RESOURCE}&role=Sender&idempotentKey={key}"),
            &app.sender(),
        )
        .await;
    assert_eq!(found.json()["ids"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn model_validation_problems_name_the_field() {
    let app = TestApp::spawn().await;
    let mut b = letter(&[PERSON]);
    b["correspondence"]["content"]["messageTitle"] = json!("x".repeat(256));
    app.send(&app.sender(), b)
        .await
        .assert_validation("Correspondence/Content/MessageTitle");

    let mut b = letter(&[PERSON]);
    b["correspondence"]["content"]
        .as_object_mut()
        .unwrap()
        .remove("messageBody");
    app.send(&app.sender(), b)
        .await
        .assert_validation("Correspondence/Content/MessageBody");

    let mut b = letter(&[PERSON]);
    b["recipients"] = json!([]);
    app.send(&app.sender(), b)
        .await
        .assert_validation("Recipients");

    let mut b = letter(&[PERSON]);
    b["recipients"] = json!(["08089403199"]);
    let a = app.send(&app.sender(), b).await;
    a.assert_validation("Recipients[0]");
    assert!(
        a.text
            .contains("The given Recipient national identity number is not valid")
    );

    let mut b = letter(&[PERSON]);
    b["recipients"] = json!(vec![format!("0192:{SENDER}"); 501]);
    app.send(&app.sender(), b)
        .await
        .assert_validation("Recipients");

    let mut b = letter(&[PERSON]);
    b["idempotentKey"] = json!("not-a-guid");
    app.send(&app.sender(), b)
        .await
        .assert_validation("IdempotentKey");

    let mut b = letter(&[PERSON]);
    b["correspondence"]["content"]["messageTitle"] = json!(42);
    app.send(&app.sender(), b)
        .await
        .assert_validation("$.correspondence.content.messageTitle");

    let a = app
        .client
        .post(format!("{}/correspondence/api/v1/correspondence", app.base))
        .bearer_auth(app.sender())
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 400);

    let a = app
        .client
        .post(format!("{}/correspondence/api/v1/correspondence", app.base))
        .bearer_auth(app.sender())
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 415);
}

#[tokio::test]
async fn recipient_action_errors() {
    let app = TestApp::spawn().await;
    let id = app.published_letter().await;
    let read = format!("{}/markasread", path(&id));
    let confirm = format!("{}/confirm", path(&id));
    app.post(&read, &app.person())
        .await
        .assert_problem(400, 1024);
    app.post(&confirm, &app.person())
        .await
        .assert_problem(400, 1025);
    app.get(&path(&id), &app.person()).await.assert_status(200);
    app.post(&confirm, &app.person()).await.assert_status(200);
    app.post(&confirm, &app.person())
        .await
        .assert_problem(400, 1041);
    app.post(&read, &app.person()).await.assert_status(200);
    app.post(&read, &app.person())
        .await
        .assert_problem(400, 1040);

    let unknown = "0198c2a1-0000-7000-8000-0000000000ff";
    app.get(&path(unknown), &app.person())
        .await
        .assert_problem(404, 1001);
    app.post(&format!("{}/markasread", path(unknown)), &app.person())
        .await
        .assert_problem(404, 1001);
    app.get(&path("not-a-guid"), &app.person())
        .await
        .assert_validation("correspondenceId");
}

#[tokio::test]
async fn a_sender_cannot_purge_a_published_letter() {
    let app = TestApp::spawn().await;
    let id = app.published_letter().await;
    app.call(
        Method::DELETE,
        &format!("{}/purge", path(&id)),
        Some(&app.sender()),
        None,
    )
    .await
    .assert_problem(400, 1013);
}

#[tokio::test]
async fn transmission_ids_cannot_be_sent() {
    let app = TestApp::spawn().await;
    let mut b = letter(&[PERSON]);
    b["correspondence"]["externalReferences"] =
        json!([{"referenceValue": "t-1", "referenceType": "DialogportenTransmissionId"}]);
    app.send(&app.sender(), b)
        .await
        .assert_validation("Correspondence/ExternalReferences");
}

#[tokio::test]
async fn search_errors() {
    let app = TestApp::spawn().await;
    let base = "/correspondence/api/v1/correspondence";
    app.get(&format!("{base}?role=Recipient"), &app.person())
        .await
        .assert_validation("resourceId");
    app.get(&format!("{base}?resourceId={RESOURCE}"), &app.person())
        .await
        .assert_validation("role");
    app.get(
        &format!("{base}?resourceId={RESOURCE}&role=Nobody"),
        &app.person(),
    )
    .await
    .assert_validation("role");
    app.get(
        &format!("{base}?resourceId={RESOURCE}&role=Recipient&from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z"),
        &app.person(),
    )
    .await
    .assert_problem(400, 1027);
    app.get(
        &format!("{base}?resourceId={RESOURCE}&role=Recipient&cursor=junk"),
        &app.person(),
    )
    .await
    .assert_validation("cursor");
    app.get(
        &format!("{base}?resourceId={RESOURCE}&role=Recipient&onBehalfOf=12345"),
        &app.person(),
    )
    .await
    .assert_validation("onBehalfOf");
    app.get(
        &format!("{base}?resourceId={RESOURCE}&role=Recipient&onBehalfOf={OTHER_PERSON}"),
        &app.person(),
    )
    .await
    .assert_problem(401, 4001);
    app.get(
        &format!("{base}?resourceId=unknown&role=Recipient"),
        &app.person(),
    )
    .await
    .assert_problem(401, 4001);
}
