//! The dev mailbox writes each letter as a folder a person can open; the test mailbox captures
//! in memory, answers resubmits as a provider would and plays back scripted statuses and
//! failures.

use melding_delivery::mailbox::{
    CapturingMailbox, DigitalMailbox, FileDropMailbox, MailboxAttachment, MailboxMessage,
    MailboxProvider, MailboxRecipient, MailboxRecipientId, MailboxReference, MailboxSender,
    MailboxStatus, PrimaryDocument,
};
use melding_delivery::{PermanentKind, SendError};
use melding_domain::{NationalId, OrgNumber};

fn letter(reference: &str) -> MailboxMessage {
    MailboxMessage {
        reference: MailboxReference::parse(reference).unwrap(),
        provider: MailboxProvider::Digipost,
        recipient: MailboxRecipient {
            id: MailboxRecipientId::Person(NationalId::parse("09866598352").unwrap()),
            mailbox_address: Some("ola.nordmann#3XQ1".into()),
        },
        subject: "Svar på søknad".into(),
        primary_document: PrimaryDocument::Pdf(b"%PDF-1.7 svar".to_vec()),
        attachments: vec![MailboxAttachment {
            name: "Kart / tegning.png".into(),
            media_type: "image/png".into(),
            bytes: vec![0x89, b'P', b'N', b'G'],
        }],
        sender: MailboxSender {
            org_number: OrgNumber::parse("974760673").unwrap(),
            name: "Ås kommune".into(),
        },
    }
}

#[tokio::test]
async fn the_dev_mailbox_writes_a_folder_per_letter() {
    let dir = tempfile::tempdir().unwrap();
    let mailbox = FileDropMailbox::new(dir.path().join("outbox/mailbox"));
    let submission = mailbox.deliver(&letter("corr-1")).await.unwrap();
    assert_eq!(submission.status, MailboxStatus::Delivered { at: None });
    assert!(!submission.already_submitted);

    let folder = dir.path().join("outbox/mailbox/corr-1");
    let mut files: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "attachment-1-Kart___tegning.png",
            "message.json",
            "primary.pdf"
        ]
    );
    assert_eq!(
        std::fs::read(folder.join("primary.pdf")).unwrap(),
        b"%PDF-1.7 svar"
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(folder.join("message.json")).unwrap()).unwrap();
    assert_eq!(
        manifest,
        serde_json::json!({
            "reference": "corr-1",
            "provider": "digipost",
            "recipient": {"nationalId": "09866598352", "mailboxAddress": "ola.nordmann#3XQ1"},
            "subject": "Svar på søknad",
            "sender": {"orgNumber": "974760673", "name": "Ås kommune"},
            "primaryDocument": "primary.pdf",
            "attachments": [{
                "file": "attachment-1-Kart___tegning.png",
                "name": "Kart / tegning.png",
                "mediaType": "image/png",
                "size": 4
            }]
        })
    );

    let reference = MailboxReference::parse("corr-1").unwrap();
    assert_eq!(
        mailbox.delivery_status(&reference).await.unwrap(),
        MailboxStatus::Delivered { at: None }
    );
    let again = mailbox.deliver(&letter("corr-1")).await.unwrap();
    assert!(again.already_submitted);
    assert!(matches!(
        mailbox
            .delivery_status(&MailboxReference::parse("corr-2").unwrap())
            .await,
        Err(SendError::Permanent { .. })
    ));
}

#[tokio::test]
async fn the_dev_mailbox_reports_a_disk_it_cannot_write_as_transient() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, b"file in the way").unwrap();
    let result = FileDropMailbox::new(&blocker)
        .deliver(&letter("corr-1"))
        .await;
    assert!(
        matches!(result, Err(SendError::Transient { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn the_test_mailbox_captures_scripts_statuses_and_fails_on_request() {
    let mailbox = CapturingMailbox::new();
    let reference = MailboxReference::parse("corr-7").unwrap();
    mailbox.fail_next(SendError::transient("down for maintenance"));
    assert_eq!(
        mailbox.deliver(&letter("corr-7")).await,
        Err(SendError::transient("down for maintenance"))
    );
    assert!(mailbox.sent().is_empty());

    mailbox.set_status(&reference, MailboxStatus::Pending);
    let first = mailbox.deliver(&letter("corr-7")).await.unwrap();
    assert_eq!(first.status, MailboxStatus::Pending);
    assert!(!first.already_submitted);
    let again = mailbox.deliver(&letter("corr-7")).await.unwrap();
    assert!(again.already_submitted);
    assert_eq!(mailbox.sent().len(), 1);
    assert_eq!(mailbox.sent()[0].message, letter("corr-7"));

    let failed = MailboxStatus::Failed {
        reason: "mailbox closed".into(),
    };
    mailbox.set_status(&reference, failed.clone());
    assert_eq!(mailbox.delivery_status(&reference).await.unwrap(), failed);

    // Unscripted letters are delivered at once; unknown references are an error.
    let other = mailbox.deliver(&letter("corr-8")).await.unwrap();
    assert_eq!(other.status, MailboxStatus::Delivered { at: None });
    assert!(matches!(
        mailbox
            .delivery_status(&MailboxReference::parse("corr-9").unwrap())
            .await,
        Err(SendError::Permanent {
            kind: PermanentKind::Rejected,
            ..
        })
    ));
}
