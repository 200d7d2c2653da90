//! Every job kind run twice on the same row, the way a node that dies after a job's work but
//! before removing its row repeats it (DESIGN: "a crash may repeat a job; it never loses one").
//! The first run is done by hand under a dead node's lease; after the lease the app's runner
//! claims the same row and runs it again. Each test asserts one status entry and one effect.

use std::sync::Arc;

use chrono::Duration;
use reqwest::Method;
use serde_json::Value;

use crate::attachments::{attachment_path, bytes, ids, letter_form};
use crate::support::*;

/// Runs the due job of `kind` once as a node that then dies without removing it, then lets the
/// app's runner take the same row over after the lease and run everything that is due.
async fn run_twice_as_after_a_crash(app: &TestApp, kind: &str) {
    let lease = Duration::seconds(60);
    let claimed = app
        .store
        .claim_due(app.now(), "crashed-node", lease, 100)
        .await
        .unwrap();
    let job = claimed
        .iter()
        .find(|j| j.kind == kind)
        .unwrap_or_else(|| panic!("no due {kind} job in {claimed:?}"));
    let handler = app.runner.handler(kind).expect("a handler for the kind");
    handler.run(job).await.unwrap();
    let queued = |jobs: Vec<melding_store::Job>| jobs.iter().any(|j| j.id == job.id);
    assert!(queued(app.store.list_jobs(false, 1000).await.unwrap()));

    app.advance(lease + Duration::seconds(1));
    app.run_jobs().await;
    assert!(
        !queued(app.store.list_jobs(false, 1000).await.unwrap()),
        "the runner took the {kind} job over and finished it"
    );
    assert!(!queued(app.store.list_jobs(true, 1000).await.unwrap()));
}

fn count(history: &Value, status: &str) -> usize {
    history["statusHistory"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["status"] == status)
        .count()
}

async fn attachment_details(app: &TestApp, id: &str) -> Value {
    let d = app
        .get(&format!("{}/details", attachment_path(id)), &app.sender())
        .await;
    d.assert_status(200);
    d.json()
}

async fn letter_details(app: &TestApp, id: &str) -> Value {
    let d = app
        .get(&format!("{}/details", path(id)), &app.sender())
        .await;
    d.assert_status(200);
    d.json()
}

#[tokio::test]
async fn the_publish_job_run_twice_publishes_once() {
    let app = TestApp::spawn().await;
    let id = app.send_ok(letter(&[PERSON])).await.remove(0);
    let published_at = app.now();
    run_twice_as_after_a_crash(&app, "publish").await;
    let d = letter_details(&app, &id).await;
    assert_eq!(count(&d, "Published"), 1, "{d}");
    // The one effect: the letter is published at the first run's time, not the repeat's.
    assert_eq!(
        d["published"],
        melding_api_types::time::format(&published_at),
        "{d}"
    );
    let search =
        format!("/correspondence/api/v1/correspondence?resourceId={RESOURCE}&role=Recipient");
    assert_eq!(
        app.get(&search, &app.person()).await.json()["ids"],
        serde_json::json!([id])
    );
}

#[tokio::test]
async fn the_scan_job_run_twice_settles_the_attachment_once() {
    let app =
        TestApp::spawn_with(|node| node.scanner = Some(Arc::new(melding_scan::EicarScanner))).await;
    let sent = app
        .send_form(
            &app.sender(),
            letter_form(&[PERSON], &[("ren.pdf", bytes(5_000, 3))]),
        )
        .await;
    sent.assert_status(200);
    let (letters, attachments) = ids(&sent);
    run_twice_as_after_a_crash(&app, "scan-attachment").await;
    let a = attachment_details(&app, &attachments[0]).await;
    assert_eq!(a["status"], "Published", "{a}");
    assert_eq!(count(&a, "Published"), 1, "{a}");
    // The effect on the letter: made ready and published once.
    let d = letter_details(&app, &letters[0]).await;
    assert_eq!(count(&d, "ReadyForPublish"), 1, "{d}");
    assert_eq!(count(&d, "Published"), 1, "{d}");
}

#[tokio::test]
async fn the_expiry_job_run_twice_expires_once() {
    let app = TestApp::spawn().await;
    let form = letter_form(&[PERSON], &[("a.pdf", bytes(1000, 4))]).text(
        "Correspondence.Content.Attachments[0].ExpirationInDays",
        "1",
    );
    let sent = app.send_form(&app.sender(), form).await;
    sent.assert_status(200);
    let (_, attachments) = ids(&sent);
    app.run_jobs().await;
    app.advance(Duration::hours(24));
    assert_eq!(stored_files(&app), 1);
    run_twice_as_after_a_crash(&app, "expire-attachment").await;
    let a = attachment_details(&app, &attachments[0]).await;
    assert_eq!(a["status"], "Expired", "{a}");
    assert_eq!(count(&a, "Expired"), 1, "{a}");
    assert_eq!(stored_files(&app), 0, "the file is deleted");
}

/// A purge marks the letter's unshared attachments Purged in its own write; the job it leaves
/// deletes the file, and running that job twice deletes it once and changes nothing else.
#[tokio::test]
async fn the_purge_job_run_twice_purges_the_attachment_once() {
    let app = TestApp::spawn().await;
    let sent = app
        .send_form(
            &app.sender(),
            letter_form(&[PERSON], &[("a.pdf", bytes(1000, 5))]),
        )
        .await;
    sent.assert_status(200);
    let (letters, attachments) = ids(&sent);
    app.run_jobs().await;
    app.get(&path(&letters[0]), &app.person())
        .await
        .assert_status(200);
    app.call(
        Method::DELETE,
        &format!("{}/purge", path(&letters[0])),
        Some(&app.person()),
        None,
    )
    .await
    .assert_status(200);
    assert_eq!(stored_files(&app), 1);
    run_twice_as_after_a_crash(&app, "delete-blob").await;
    let a = attachment_details(&app, &attachments[0]).await;
    assert_eq!(a["status"], "Purged", "{a}");
    assert_eq!(count(&a, "Purged"), 1, "{a}");
    assert_eq!(stored_files(&app), 0, "the file is deleted");
}

/// How many attachment files the node's data directory holds.
fn stored_files(app: &TestApp) -> usize {
    let blobs = melding::attachments_dir(app.data_dir()).join("blobs");
    std::fs::read_dir(blobs).unwrap().count()
}
