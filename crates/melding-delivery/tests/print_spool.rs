//! The dev print channel (a spool directory on a temporary directory) and the test one (in
//! memory): what is written and where, idempotent resubmits, refused non-PDFs, and receipts
//! fetched until acknowledged.

#[path = "common/print_order.rs"]
mod print_order;

use std::path::Path;

use melding_delivery::print::{
    CapturingPrintProvider, PostageClass, PrintCost, PrintManifest, PrintOutcome, PrintProvider,
    PrintReference, SpoolPrintProvider,
};
use melding_delivery::{PermanentKind, SendError};
use print_order::{order, pdf, sha256_hex};

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn the_spool_writes_the_letter_and_its_manifest_into_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let spool = SpoolPrintProvider::new(dir.path().join("print"));
    let letter = pdf("brev", 10_000);

    let submission = spool.submit(&order("brev-1"), &letter).await.unwrap();
    assert!(!submission.already_submitted);
    let outbox = spool.outbox_dir();
    assert_eq!(
        submission.location,
        outbox.join("brev-1.json").display().to_string()
    );
    assert_eq!(names(&outbox), ["brev-1.json", "brev-1.pdf"]);
    assert_eq!(std::fs::read(outbox.join("brev-1.pdf")).unwrap(), letter);

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(outbox.join("brev-1.json")).unwrap()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "manifestVersion": 1,
            "reference": "brev-1",
            "pdfFile": "brev-1.pdf",
            "pdfBytes": 10_000,
            "pdfSha256": sha256_hex(&letter),
            "pageCount": 2,
            "colour": false,
            "duplex": true,
            "postage": "B",
            "senderName": "Tønsberg kommune",
            "recipient": {
                "name": "Kari Nordmann",
                "addressLines": ["Storgata 1", "Leilighet H0201"],
                "postalCode": "3110",
                "city": "TØNSBERG",
                "country": "NO"
            }
        })
    );
    // The documented type reads what was written.
    let manifest: PrintManifest = serde_json::from_value(json).unwrap();
    assert_eq!(manifest.postage, PostageClass::BEconomy);
}

#[tokio::test]
async fn resubmitting_to_the_spool_overwrites_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let spool = SpoolPrintProvider::new(dir.path());
    let first = pdf("first", 500);
    spool.submit(&order("r-1"), &first).await.unwrap();
    let manifest = std::fs::read(spool.outbox_dir().join("r-1.json")).unwrap();

    let mut changed = order("r-1");
    changed.colour = true;
    let again = spool.submit(&changed, &pdf("second", 900)).await.unwrap();
    assert!(again.already_submitted);
    assert_eq!(
        std::fs::read(spool.outbox_dir().join("r-1.pdf")).unwrap(),
        first
    );
    assert_eq!(
        std::fs::read(spool.outbox_dir().join("r-1.json")).unwrap(),
        manifest
    );
    assert_eq!(names(&spool.outbox_dir()), ["r-1.json", "r-1.pdf"]);
}

#[tokio::test]
async fn only_a_pdf_is_spooled() {
    let dir = tempfile::tempdir().unwrap();
    let spool = SpoolPrintProvider::new(dir.path());
    let error = spool
        .submit(&order("r-1"), b"<html>not a letter</html>")
        .await
        .unwrap_err();
    assert!(
        matches!(error, SendError::Permanent { kind: PermanentKind::Rejected, ref reason } if reason.contains("%PDF-")),
        "{error:?}"
    );
    assert!(!spool.outbox_dir().exists());
}

#[tokio::test]
async fn spool_receipts_are_fetched_until_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let spool = SpoolPrintProvider::new(dir.path());
    assert!(spool.fetch_receipts().await.unwrap().is_empty());

    let receipts = spool.receipts_dir();
    std::fs::create_dir_all(&receipts).unwrap();
    std::fs::write(
        receipts.join("b.json"),
        r#"{"reference":"r-2","status":"AVVIST","reason":"PDF is encrypted"}"#,
    )
    .unwrap();
    std::fs::write(
        receipts.join("a.json"),
        r#"{"reference":"r-1","status":"printed","pages":3,"sheets":2,"postage":"prioritert","priceOre":2150}"#,
    )
    .unwrap();
    std::fs::write(receipts.join("c.json"), r#"{"reference":"r-3"}"#).unwrap();
    std::fs::write(receipts.join("d.json.partial"), "{").unwrap();

    let fetched = spool.fetch_receipts().await.unwrap();
    let ids: Vec<&str> = fetched.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["a", "b"]);
    assert_eq!(
        fetched[0].cost,
        PrintCost {
            pages: Some(3),
            sheets: Some(2),
            postage: Some(PostageClass::APriority),
            price_ore: Some(2150)
        }
    );
    assert_eq!(
        fetched[1].outcome,
        PrintOutcome::Rejected {
            reason: "PDF is encrypted".into()
        }
    );
    assert_eq!(names(&spool.unreadable_dir()), ["c.json"]);
    assert_eq!(spool.fetch_receipts().await.unwrap(), fetched);

    spool.acknowledge(&[fetched[1].id.clone()]).await.unwrap();
    assert_eq!(spool.fetch_receipts().await.unwrap(), fetched[..1]);
    let all: Vec<_> = fetched.iter().map(|r| r.id.clone()).collect();
    spool.acknowledge(&all).await.unwrap();
    spool.acknowledge(&all).await.unwrap();
    assert!(spool.fetch_receipts().await.unwrap().is_empty());
    assert_eq!(names(&spool.processed_dir()), ["a.json", "b.json"]);
    assert_eq!(
        names(&receipts),
        ["d.json.partial", "processed", "unreadable"]
    );
}

#[tokio::test]
async fn the_capturing_provider_keeps_each_reference_once_and_receipts_until_acknowledged() {
    let capture = CapturingPrintProvider::new();
    let letter = pdf("brev", 100);
    assert!(
        !capture
            .submit(&order("r-1"), &letter)
            .await
            .unwrap()
            .already_submitted
    );
    assert!(
        capture
            .submit(&order("r-1"), &letter)
            .await
            .unwrap()
            .already_submitted
    );
    let submitted = capture.submitted();
    assert_eq!(submitted.len(), 1);
    assert_eq!(submitted[0].pdf, letter);
    assert_eq!(submitted[0].manifest.pdf_sha256, sha256_hex(&letter));

    capture.fail_next(SendError::transient("print house down"));
    assert!(
        capture
            .submit(&order("r-2"), &letter)
            .await
            .unwrap_err()
            .is_retryable()
    );
    assert!(capture.submit(&order("r-2"), b"GIF89a").await.is_err());
    assert_eq!(capture.submitted().len(), 1);

    let id = capture.add_receipt(
        PrintReference::parse("r-1").unwrap(),
        PrintOutcome::Printed,
        None,
        PrintCost::default(),
    );
    assert_eq!(capture.fetch_receipts().await.unwrap().len(), 1);
    assert_eq!(capture.fetch_receipts().await.unwrap()[0].id, id);
    capture.acknowledge(&[id]).await.unwrap();
    assert!(capture.fetch_receipts().await.unwrap().is_empty());
}
