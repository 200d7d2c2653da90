//! A malware scanner that is down: the scan is retried with back-off, and after the last attempt
//! the attachment and its letters are Failed instead of waiting for ever (README "Attachments").

use std::sync::Arc;

use chrono::Duration;

use crate::attachments::{attachment_path, bytes, ids, letter_form};
use crate::support::*;

/// A clamd address where nothing listens: a stopped clamd.
fn stopped_clamd() -> melding_scan::ClamdScanner {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    melding_scan::ClamdScanner::new(
        format!("tcp://127.0.0.1:{port}").parse().unwrap(),
        std::time::Duration::from_secs(30),
    )
}

#[tokio::test]
async fn a_stopped_scanner_is_retried_then_the_attachment_and_its_letters_fail() {
    let app = TestApp::spawn_with(|node| node.scanner = Some(Arc::new(stopped_clamd()))).await;
    let sent = app
        .send_form(
            &app.sender(),
            letter_form(&[PERSON, OTHER_PERSON], &[("vedtak.pdf", bytes(2_000, 9))]),
        )
        .await;
    sent.assert_status(200);
    let (letters, attachments) = ids(&sent);
    let attachment = attachment_path(&attachments[0]);

    // Each round runs the one attempt that has come due; the back-off is at most 1 h + 25 %.
    let attempts = melding_core::attachments::SCAN_ATTEMPTS;
    for attempt in 1..attempts {
        app.run_jobs().await;
        let a = app.get(&attachment, &app.sender()).await.json();
        assert_eq!(a["status"], "UploadProcessing", "after attempt {attempt}");
        for letter in &letters {
            let l = app.get(&path(letter), &app.sender()).await.json();
            assert_eq!(l["status"], "Initialized", "after attempt {attempt}");
        }
        let queued = app.store.list_jobs(false, 100).await.unwrap();
        let scan = queued
            .iter()
            .find(|j| j.kind == "scan-attachment")
            .expect("the scan is queued again");
        assert_eq!(scan.attempts, attempt);
        assert!(
            scan.run_at > app.now(),
            "retried later, not at once: {scan:?}"
        );
        let error = scan.last_error.as_deref().unwrap_or_default();
        assert!(error.contains("unreachable"), "{error}");
        app.advance(Duration::hours(2));
    }

    // The last attempt gives up: a visible Failed status, not a dead job.
    app.run_jobs().await;
    let a = app.get(&attachment, &app.sender()).await.json();
    assert_eq!(a["status"], "Failed", "{a}");
    assert_eq!(a["statusText"], "Malware scan failed: Not scanned");
    for letter in &letters {
        let l = app.get(&path(letter), &app.sender()).await.json();
        assert_eq!(l["status"], "Failed", "{l}");
        assert_eq!(l["statusText"], "Malware scan failed: Not scanned");
    }
    app.get(&path(&letters[0]), &app.person())
        .await
        .assert_problem(404, 1001);
    assert!(app.store.list_jobs(true, 100).await.unwrap().is_empty());
    assert!(app.store.list_jobs(false, 100).await.unwrap().is_empty());
    let blobs = melding::attachments_dir(app.data_dir()).join("blobs");
    assert_eq!(
        std::fs::read_dir(blobs).unwrap().count(),
        0,
        "the unscanned file is deleted"
    );
}
