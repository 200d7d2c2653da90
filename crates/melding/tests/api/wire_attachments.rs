//! Attachments as an Altinn client sees them on the wire (issue 11, items 6 and 7): a purge is
//! visible in the very next read, DELETE answers the attachment, a missing checksum is `""`,
//! and every upload answers UploadProcessing and is published by its scan job.

use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::support::*;

const API: &str = "/correspondence/api/v1";

fn attachment_path(id: &str) -> String {
    format!("{API}/attachment/{id}")
}

/// A shared attachment, initialized (and uploaded when `data` is given), with no checksum.
async fn shared_attachment(app: &TestApp, data: Option<&[u8]>) -> String {
    let a = app
        .call(
            Method::POST,
            &format!("{API}/attachment"),
            Some(&app.sender()),
            Some(json!({
                "resourceId": RESOURCE,
                "fileName": "vedlegg.pdf",
                "sendersReference": "vedlegg-1"
            })),
        )
        .await;
    a.assert_status(200);
    let id: String = serde_json::from_str(&a.text).unwrap();
    if let Some(data) = data {
        app.upload(&app.sender(), &id, data.to_vec())
            .await
            .assert_status(200);
    }
    id
}

async fn overview(app: &TestApp, id: &str) -> Value {
    let a = app.get(&attachment_path(id), &app.sender()).await;
    a.assert_status(200);
    a.json()
}

async fn purge(app: &TestApp, letter: &str, token: &str) {
    app.call(
        Method::DELETE,
        &format!("{}/purge", path(letter)),
        Some(token),
        None,
    )
    .await
    .assert_status(200);
}

/// A multipart letter to `PERSON` with one file.
fn letter_with_file(data: &[u8]) -> Form {
    Form::new()
        .text("Correspondence.ResourceId", RESOURCE)
        .text("Correspondence.SendersReference", "sak-2026-11")
        .text("Correspondence.Content.Language", "nb")
        .text("Correspondence.Content.MessageTitle", "Vedtak")
        .text("Correspondence.Content.MessageBody", "Se vedlegget.")
        .text(
            "Recipients[0]",
            format!("urn:altinn:person:identifier-no:{PERSON}"),
        )
        .text(
            "Correspondence.Content.Attachments[0].FileName",
            "vedtak.pdf",
        )
        .text(
            "Correspondence.Content.Attachments[0].SendersReference",
            "vedlegg-0",
        )
        .part(
            "attachments",
            Part::bytes(data.to_vec()).file_name("vedtak.pdf"),
        )
}

#[tokio::test]
async fn a_purged_letters_attachment_is_purged_in_the_very_next_read() {
    let app = TestApp::spawn().await;
    let sent = app
        .send_form(&app.sender(), letter_with_file(b"%PDF-1.7 eget"))
        .await;
    sent.assert_status(200);
    let own = sent.json()["attachmentIds"][0].as_str().unwrap().to_owned();
    let own_letter = sent.json()["correspondences"][0]["correspondenceId"]
        .as_str()
        .unwrap()
        .to_owned();
    // A shared attachment used by two letters.
    let shared = shared_attachment(&app, Some(b"%PDF-1.7 delt")).await;
    app.run_jobs().await;
    let mut body = letter(&[PERSON, OTHER_PERSON]);
    body["existingAttachments"] = json!([shared]);
    let both = app.send_ok(body).await;
    app.run_jobs().await;
    assert_eq!(overview(&app, &own).await["status"], "Published");

    // No job runs between the purge and the reads.
    purge(&app, &own_letter, &app.person()).await;
    let o = overview(&app, &own).await;
    assert_eq!(o["status"], "Purged");
    assert_eq!(o["statusText"], "Attachment has been purged");
    purge(&app, &both[0], &app.person()).await;
    assert_eq!(overview(&app, &shared).await["status"], "Published");
    purge(&app, &both[1], &app.other_person()).await;
    assert_eq!(overview(&app, &shared).await["status"], "Purged");
    // The bytes go later, by job.
    app.run_jobs().await;
    let stored = std::fs::read_dir(app.data_dir().join("attachments/blobs"))
        .unwrap()
        .count();
    assert_eq!(stored, 0, "the purged attachments' files are deleted");
}

#[tokio::test]
async fn deleting_an_attachment_answers_200_with_the_purged_attachment() {
    let app = TestApp::spawn().await;
    let id = shared_attachment(&app, None).await;
    let a = app
        .call(
            Method::DELETE,
            &attachment_path(&id),
            Some(&app.sender()),
            None,
        )
        .await;
    a.assert_status(200);
    assert!(
        a.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let o = a.json();
    assert_eq!(o["attachmentId"], id.as_str());
    assert_eq!(o["status"], "Purged");
    assert_eq!(o["statusText"], "Attachment has been purged");
    assert_eq!(o["checksum"], "");
    assert_eq!(o["correspondenceIds"], json!([]));
    // Once only (2006); someone else's is 4001.
    app.call(
        Method::DELETE,
        &attachment_path(&id),
        Some(&app.sender()),
        None,
    )
    .await
    .assert_problem(400, 2006);
    let other = shared_attachment(&app, None).await;
    app.call(
        Method::DELETE,
        &attachment_path(&other),
        Some(&app.other_sender()),
        None,
    )
    .await
    .assert_problem(401, 4001);
}

#[tokio::test]
async fn an_attachment_without_a_checksum_shows_an_empty_one() {
    let app = TestApp::spawn().await;
    let id = shared_attachment(&app, None).await;
    assert_eq!(overview(&app, &id).await["checksum"], json!(""));
    let d = app
        .get(&format!("{}/details", attachment_path(&id)), &app.sender())
        .await;
    d.assert_status(200);
    assert_eq!(d.json()["checksum"], json!(""));
    // Once uploaded, it is the file's MD5.
    app.upload(&app.sender(), &id, b"abc".to_vec())
        .await
        .assert_status(200);
    assert_eq!(
        overview(&app, &id).await["checksum"],
        "900150983cd24fb0d6963f7d28e17f72"
    );
}

#[tokio::test]
async fn every_upload_answers_upload_processing_and_its_scan_job_publishes_it() {
    let app = TestApp::spawn().await;
    // The raw upload of a shared attachment.
    let id = shared_attachment(&app, None).await;
    let up = app.upload(&app.sender(), &id, b"%PDF-1.7".to_vec()).await;
    up.assert_status(200);
    assert_eq!(up.json()["status"], "UploadProcessing");
    assert_eq!(overview(&app, &id).await["status"], "UploadProcessing");
    // Not usable by a letter until published (1018).
    let mut body = letter(&[PERSON]);
    body["existingAttachments"] = json!([id]);
    app.send(&app.sender(), body.clone())
        .await
        .assert_problem(400, 1018);
    app.run_jobs().await;
    let o = overview(&app, &id).await;
    assert_eq!(o["status"], "Published");
    assert_eq!(o["statusText"], "Bypassed malware scan");
    app.send(&app.sender(), body).await.assert_status(200);

    // The multipart letter: its attachment waits, and so does the letter.
    let sent = app
        .send_form(&app.sender(), letter_with_file(b"%PDF-1.7 x"))
        .await;
    sent.assert_status(200);
    let v = sent.json();
    assert_eq!(v["correspondences"][0]["status"], "Initialized");
    let aid = v["attachmentIds"][0].as_str().unwrap().to_owned();
    let letter_id = v["correspondences"][0]["correspondenceId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(overview(&app, &aid).await["status"], "UploadProcessing");
    app.run_jobs().await;
    let o = overview(&app, &aid).await;
    assert_eq!(o["status"], "Published");
    assert_eq!(o["statusText"], "Bypassed malware scan");
    let l = app.get(&path(&letter_id), &app.person()).await;
    l.assert_status(200);
    assert_eq!(l.json()["status"], "Published");
}
