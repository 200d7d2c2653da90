//! The SFTP print channel against a real OpenSSH sshd that each test starts
//! (`tests/common/sshd.rs`): an upload that appears only whole, with its manifest; a resubmit
//! that changes nothing; receipts read until acknowledged, once; a host key that is not pinned;
//! a server that is down and then comes up.

#[path = "common/print_order.rs"]
mod print_order;
#[path = "common/sshd.rs"]
mod sshd;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use melding_delivery::print::{
    HostKeyFingerprint, PrintManifest, PrintOutcome, PrintProvider, SftpAuth, SftpPrintConfig,
    SftpPrintProvider,
};
use melding_delivery::{Secret, SendError};
use print_order::{order, pdf, sha256_hex};
use sshd::Sshd;

fn config(sshd: &Sshd, fingerprint: &str) -> SftpPrintConfig {
    let auth = SftpAuth {
        private_key: Secret::new(sshd.client_key.clone()),
        passphrase: None,
        password: None,
    };
    let mut config = SftpPrintConfig::new(
        "127.0.0.1",
        sshd.port,
        sshd.user.clone(),
        auth,
        vec![HostKeyFingerprint::parse(fingerprint).unwrap()],
    );
    let data = sshd.data_dir();
    config.outbox_dir = data.join("outbox").display().to_string();
    config.receipts_dir = data.join("receipts").display().to_string();
    config.timeout = Duration::from_secs(10);
    config
}

fn provider(sshd: &Sshd) -> SftpPrintProvider {
    SftpPrintProvider::new(config(sshd, &sshd.host_fingerprint)).unwrap()
}

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

fn assert_transient(error: &SendError, mentions: &str) {
    match error {
        SendError::Transient { reason } => {
            assert!(reason.contains(mentions), "{mentions:?} not in {reason:?}")
        }
        other => panic!("expected a transient error, got {other:?}"),
    }
}

#[tokio::test]
async fn an_upload_appears_whole_and_its_manifest_after_it() {
    if sshd::skipped() {
        return;
    }
    let sshd = Sshd::start();
    let provider = provider(&sshd);
    let outbox = sshd.data_dir().join("outbox");
    let letter = pdf("brev 1", 4 * 1024 * 1024);

    // Watch the outbox while the upload runs: whenever the PDF is visible it is whole, and
    // whenever the manifest is visible the PDF is there and whole.
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (done, outbox, size) = (done.clone(), outbox.clone(), letter.len() as u64);
        std::thread::spawn(move || {
            let mut looks = 0u32;
            while !done.load(Ordering::SeqCst) {
                let manifest = outbox.join("brev-1.json").exists();
                if let Ok(meta) = std::fs::metadata(outbox.join("brev-1.pdf")) {
                    assert_eq!(meta.len(), size, "a half-written PDF was visible");
                } else {
                    assert!(!manifest, "the manifest was visible before its PDF");
                }
                looks += 1;
                std::thread::sleep(Duration::from_millis(1));
            }
            looks
        })
    };
    let submission = provider.submit(&order("brev-1"), &letter).await;
    done.store(true, Ordering::SeqCst);
    let looks = watcher
        .join()
        .expect("the watcher saw a half-published letter");
    let submission = submission.unwrap_or_else(|e| panic!("{e}\n{}", sshd.log()));
    assert!(looks > 0);
    assert!(!submission.already_submitted);
    assert!(
        submission.location.ends_with("/outbox/brev-1.json"),
        "{}",
        submission.location
    );

    assert_eq!(names(&outbox), ["brev-1.json", "brev-1.pdf"]);
    assert_eq!(std::fs::read(outbox.join("brev-1.pdf")).unwrap(), letter);
    let manifest: PrintManifest =
        serde_json::from_slice(&std::fs::read(outbox.join("brev-1.json")).unwrap()).unwrap();
    assert_eq!(manifest.reference.as_str(), "brev-1");
    assert_eq!(manifest.pdf_file, "brev-1.pdf");
    assert_eq!(manifest.pdf_bytes, letter.len() as u64);
    assert_eq!(manifest.pdf_sha256, sha256_hex(&letter));
    assert_eq!(manifest.recipient.postal_code, "3110");
    assert_eq!(
        manifest.recipient.address_lines,
        ["Storgata 1", "Leilighet H0201"]
    );
}

#[tokio::test]
async fn resubmitting_a_reference_overwrites_nothing() {
    if sshd::skipped() {
        return;
    }
    let sshd = Sshd::start();
    let provider = provider(&sshd);
    let outbox = sshd.data_dir().join("outbox");
    let first = pdf("first", 2000);

    assert!(
        !provider
            .submit(&order("r-7"), &first)
            .await
            .unwrap()
            .already_submitted
    );
    let manifest_before = std::fs::read(outbox.join("r-7.json")).unwrap();
    let again = provider
        .submit(&order("r-7"), &pdf("second", 3000))
        .await
        .unwrap();
    assert!(again.already_submitted);
    assert_eq!(std::fs::read(outbox.join("r-7.pdf")).unwrap(), first);
    assert_eq!(
        std::fs::read(outbox.join("r-7.json")).unwrap(),
        manifest_before
    );
    assert_eq!(names(&outbox), ["r-7.json", "r-7.pdf"]);

    // A PDF left without its manifest by an attempt that stopped half-way is replaced.
    std::fs::write(outbox.join("r-8.pdf"), b"%PDF-1.7 stale").unwrap();
    std::fs::write(outbox.join("r-8.pdf.partial"), b"%PDF-1.7 half").unwrap();
    let letter = pdf("r-8", 5000);
    assert!(
        !provider
            .submit(&order("r-8"), &letter)
            .await
            .unwrap()
            .already_submitted
    );
    assert_eq!(std::fs::read(outbox.join("r-8.pdf")).unwrap(), letter);
    assert_eq!(
        names(&outbox),
        ["r-7.json", "r-7.pdf", "r-8.json", "r-8.pdf"]
    );
}

#[tokio::test]
async fn receipts_are_fetched_until_acknowledged_and_then_never_again() {
    if sshd::skipped() {
        return;
    }
    let sshd = Sshd::start();
    let provider = provider(&sshd);
    let receipts = sshd.data_dir().join("receipts");

    // No receipts directory yet: no receipts.
    assert!(provider.fetch_receipts().await.unwrap().is_empty());

    std::fs::create_dir_all(&receipts).unwrap();
    std::fs::write(
        receipts.join("20261202-0001.json"),
        r#"{"reference":"r-1","status":"printed","at":"2026-12-02T09:15:00+01:00","pages":2,"sheets":1,"postage":"B","priceOre":1850}"#,
    )
    .unwrap();
    std::fs::write(
        receipts.join("20261202-0002.json"),
        r#"{"reference":"r-2","status":"rejected","reason":"address incomplete"}"#,
    )
    .unwrap();
    std::fs::write(receipts.join("20261202-0003.json"), "{ not json").unwrap();
    std::fs::write(receipts.join("20261202-0004.json.partial"), "{").unwrap();

    let first = provider.fetch_receipts().await.unwrap();
    let ids: Vec<&str> = first.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["20261202-0001", "20261202-0002"]);
    assert_eq!(first[0].reference.as_str(), "r-1");
    assert_eq!(first[0].outcome, PrintOutcome::Printed);
    assert_eq!(first[0].cost.price_ore, Some(1850));
    assert_eq!(first[0].cost.sheets, Some(1));
    assert_eq!(
        first[1].outcome,
        PrintOutcome::Rejected {
            reason: "address incomplete".into()
        }
    );
    // The unreadable file is set aside for an operator; the half-written one is left alone.
    assert_eq!(names(&receipts.join("unreadable")), ["20261202-0003.json"]);

    // Not acknowledged: fetched again (at least once).
    assert_eq!(provider.fetch_receipts().await.unwrap(), first);

    provider.acknowledge(&[first[0].id.clone()]).await.unwrap();
    let second = provider.fetch_receipts().await.unwrap();
    assert_eq!(second, first[1..]);

    // Acknowledging again, or both, is not an error and moves each file once.
    let all: Vec<_> = first.iter().map(|r| r.id.clone()).collect();
    provider.acknowledge(&all).await.unwrap();
    provider.acknowledge(&all).await.unwrap();
    assert!(provider.fetch_receipts().await.unwrap().is_empty());
    assert_eq!(
        names(&receipts.join("processed")),
        ["20261202-0001.json", "20261202-0002.json"]
    );
    assert_eq!(
        names(&receipts),
        ["20261202-0004.json.partial", "processed", "unreadable"]
    );
}

#[tokio::test]
async fn a_host_key_that_is_not_pinned_is_refused() {
    if sshd::skipped() {
        return;
    }
    let sshd = Sshd::start();
    let other = sshd.scratch("other_host_key");
    sshd::keygen(&other);
    let pinned = sshd::fingerprint(&other.with_extension("pub"));
    assert_ne!(pinned, sshd.host_fingerprint);
    let provider = SftpPrintProvider::new(config(&sshd, &pinned)).unwrap();

    let error = provider
        .submit(&order("r-1"), &pdf("x", 100))
        .await
        .unwrap_err();
    assert_transient(&error, "not one of the pinned keys");
    assert_transient(&error, &sshd.host_fingerprint);
    let error = provider.fetch_receipts().await.unwrap_err();
    assert_transient(&error, "not one of the pinned keys");
    assert!(names(&sshd.data_dir()).is_empty(), "something was written");

    // With no key pinned at all every server is refused.
    let mut none = config(&sshd, &sshd.host_fingerprint);
    none.host_keys.clear();
    let error = SftpPrintProvider::new(none)
        .unwrap()
        .submit(&order("r-1"), &pdf("x", 100))
        .await
        .unwrap_err();
    assert_transient(&error, "not one of the pinned keys");
}

#[tokio::test]
async fn a_client_key_the_server_does_not_know_is_a_transient_error() {
    if sshd::skipped() {
        return;
    }
    let sshd = Sshd::start();
    let stranger = sshd.scratch("stranger");
    sshd::keygen(&stranger);
    let mut config = config(&sshd, &sshd.host_fingerprint);
    config.auth.private_key = Secret::new(std::fs::read_to_string(&stranger).unwrap());
    let error = SftpPrintProvider::new(config)
        .unwrap()
        .submit(&order("r-1"), &pdf("x", 100))
        .await
        .unwrap_err();
    assert_transient(&error, "refused to log in");
}

#[tokio::test]
async fn a_server_that_is_down_is_transient_and_works_when_it_comes_up() {
    if sshd::skipped() {
        return;
    }
    let mut sshd = Sshd::start();
    let provider = provider(&sshd);
    sshd.stop();

    let error = provider
        .submit(&order("r-1"), &pdf("x", 100))
        .await
        .unwrap_err();
    assert!(error.is_retryable());
    assert_transient(&error, "SFTP connect to 127.0.0.1");
    assert_transient(
        &provider.fetch_receipts().await.unwrap_err(),
        "SFTP connect",
    );

    sshd.resume();
    let submission = provider
        .submit(&order("r-1"), &pdf("x", 100))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", sshd.log()));
    assert!(!submission.already_submitted);
    assert_eq!(
        names(&sshd.data_dir().join("outbox")),
        ["r-1.json", "r-1.pdf"]
    );
}
