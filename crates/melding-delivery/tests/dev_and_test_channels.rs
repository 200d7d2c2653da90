//! The dev channels write each message as a file a person can open; the test channels capture
//! in memory and play back scripted failures.

use std::time::Duration;

use melding_delivery::email::{
    CapturingEmailSender, EmailBody, EmailMessage, EmailSender, FileDropEmailSender,
};
use melding_delivery::sms::{
    CapturingSmsSender, FileDropSmsSender, SmsMessage, SmsSender, SmsSenderId,
};
use melding_delivery::templates::Language;
use melding_delivery::{PermanentKind, SendError};
use melding_domain::{EmailAddress, MobileNumber};

fn email() -> EmailMessage {
    EmailMessage {
        from: EmailAddress::parse("varsel@melding.example.no").unwrap(),
        from_name: None,
        to: EmailAddress::parse("kari@example.no").unwrap(),
        subject: "Ein melding har blitt motteke i Altinn".into(),
        body: EmailBody {
            plain: "Hei. Kari Nordmann har motteke ei ny melding frå Ås kommune.".into(),
            html: None,
        },
        language: Language::Nn,
        envelope_from: None,
        reference: None,
        attachments: Vec::new(),
    }
}

fn sms() -> SmsMessage {
    SmsMessage {
        sender: SmsSenderId::parse("Altinn").unwrap(),
        to: MobileNumber::parse("91234567").unwrap(),
        text: "Hei. Du har fått ei ny melding i Altinn.".into(),
        reference: "n-1".into(),
        time_to_live: Duration::from_secs(3600),
    }
}

#[tokio::test]
async fn the_dev_email_channel_writes_an_eml_file_per_message() {
    let dir = tempfile::tempdir().unwrap();
    let drop_dir = dir.path().join("outbox/email");
    let sender = FileDropEmailSender::new(&drop_dir, "melding.example.no");
    let first = sender.send(&email()).await.unwrap();
    let second = sender.send(&email()).await.unwrap();
    assert_ne!(first.message_id, second.message_id);

    let mut files: Vec<_> = std::fs::read_dir(&drop_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files.iter().all(|f| f.extension().unwrap() == "eml"));
    let raw = std::fs::read_to_string(&files[0]).unwrap();
    assert!(
        raw.contains(&format!("Message-ID: {}", first.message_id)),
        "{raw}"
    );
    assert!(raw.contains("Auto-Submitted: auto-generated"), "{raw}");
    assert!(raw.contains("Content-Language: nn"), "{raw}");
    assert!(first.server_reply.contains("written to"));
}

#[tokio::test]
async fn the_dev_sms_channel_writes_a_json_file_per_message() {
    let dir = tempfile::tempdir().unwrap();
    let sender = FileDropSmsSender::new(dir.path());
    let receipt = sender.send(&sms()).await.unwrap();
    let file = dir
        .path()
        .join(format!("{}.json", receipt.gateway_reference));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(json["to"], "+4791234567");
    assert_eq!(json["sender"], "Altinn");
    assert_eq!(json["text"], "Hei. Du har fått ei ny melding i Altinn.");
    assert_eq!(json["reference"], "n-1");
    assert_eq!(json["segments"], 1);
    assert_eq!(json["encoding"], "Gsm7");
}

#[tokio::test]
async fn a_dev_channel_that_cannot_write_is_transient() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let result = FileDropSmsSender::new(&file).send(&sms()).await;
    assert!(
        matches!(result, Err(SendError::Transient { .. })),
        "{result:?}"
    );
    let result = FileDropEmailSender::new(&file, "x.no").send(&email()).await;
    assert!(
        matches!(result, Err(SendError::Transient { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn the_test_channels_capture_and_play_back_failures() {
    let mail = CapturingEmailSender::new();
    mail.fail_next(SendError::transient("451"));
    assert_eq!(
        mail.send(&email()).await.unwrap_err(),
        SendError::transient("451")
    );
    let receipt = mail.send(&email()).await.unwrap();
    let sent = mail.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].message_id, receipt.message_id);
    assert!(sent[0].raw.contains("Auto-Submitted: auto-generated"));

    let phone = CapturingSmsSender::new();
    phone.fail_next(SendError::permanent(PermanentKind::InvalidRecipient, "x"));
    assert!(phone.send(&sms()).await.is_err());
    assert_eq!(
        phone.send(&sms()).await.unwrap().gateway_reference,
        "capture-1"
    );
    assert_eq!(phone.sent()[0].message, sms());
}
