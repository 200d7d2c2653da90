//! The SMTP channel against a real SMTP server (aiosmtpd, `tests/smtp_sink.py`) that each test
//! starts: accepted messages and their headers, a 4xx, a 5xx, a dropped connection, a server
//! that is down and then comes up, STARTTLS and implicit TLS with a certificate made here, and
//! DKIM signing.

#[path = "common/smtp_sink.rs"]
mod sink;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use melding_delivery::email::{
    DkimAlgorithm, DkimSettings, EmailBody, EmailMessage, EmailSender, SmtpConfig, SmtpEmailSender,
    SmtpTls,
};
use melding_delivery::templates::Language;
use melding_delivery::{PermanentKind, SendError};
use melding_domain::EmailAddress;
use sink::{Mode, SinkTls, SmtpSink};

fn message(html: bool) -> EmailMessage {
    EmailMessage {
        from: EmailAddress::parse("varsel@melding.example.no").unwrap(),
        from_name: Some("Ås kommune".into()),
        to: EmailAddress::parse("kari.nordmann@example.no").unwrap(),
        subject: "En melding har blitt mottatt i Altinn".into(),
        body: EmailBody {
            plain: "Hei. Bakeriet AS har mottatt en ny melding fra Ås kommune.".into(),
            html: html.then(|| "<p>Hei. Bakeriet AS har mottatt en ny melding.</p>".into()),
        },
        language: Language::Nb,
        envelope_from: Some(EmailAddress::parse("bounce+n-42@melding.example.no").unwrap()),
        reference: None,
        attachments: Vec::new(),
    }
}

fn config(port: u16, tls: SmtpTls) -> SmtpConfig {
    let mut config = SmtpConfig::new("localhost", port, tls);
    config.message_id_domain = "melding.example.no".into();
    config.timeout = Duration::from_secs(10);
    config
}

fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    let head = raw.split("\r\n\r\n").next().unwrap_or_default();
    head.split("\r\n")
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
        .map(str::trim)
}

#[tokio::test]
async fn an_accepted_message_carries_the_notification_headers() {
    if sink::skipped() {
        return;
    }
    let sink = SmtpSink::start(Mode::Accept, SinkTls::None);
    let sender = SmtpEmailSender::new(&config(sink.port, SmtpTls::None)).unwrap();

    let receipt = sender.send(&message(false)).await.unwrap();
    assert_eq!(receipt.server_reply, "250 2.0.0 Ok: queued as Q00001");
    assert_eq!(receipt.queue_id.as_deref(), Some("Q00001"));
    assert!(
        receipt.message_id.starts_with('<'),
        "{}",
        receipt.message_id
    );
    assert!(receipt.message_id.ends_with("@melding.example.no>"));

    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "{}", sink.log());
    let (envelope, raw) = &messages[0];
    assert_eq!(
        envelope,
        &["bounce+n-42@melding.example.no", "kari.nordmann@example.no"]
    );
    assert_eq!(header(raw, "Message-ID"), Some(receipt.message_id.as_str()));
    assert_eq!(header(raw, "Auto-Submitted"), Some("auto-generated"));
    assert_eq!(header(raw, "Content-Language"), Some("nb"));
    assert_eq!(header(raw, "To"), Some("kari.nordmann@example.no"));
    assert!(
        header(raw, "From")
            .unwrap()
            .contains("<varsel@melding.example.no>")
    );
    assert!(header(raw, "Date").is_some());
    assert!(
        header(raw, "Content-Type")
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(raw.contains("Bakeriet AS har mottatt"), "{raw}");

    // A second message gets its own Message-ID.
    let second = sender.send(&message(true)).await.unwrap();
    assert_ne!(second.message_id, receipt.message_id);
    assert_eq!(second.queue_id.as_deref(), Some("Q00002"));
    let (_, raw) = &sink.messages()[1];
    assert!(
        header(raw, "Content-Type")
            .unwrap()
            .starts_with("multipart/alternative"),
        "{raw}"
    );
    assert!(raw.contains("Content-Type: text/plain"), "{raw}");
    assert!(raw.contains("Content-Type: text/html"), "{raw}");
    assert!(raw.contains("<p>Hei. Bakeriet AS"), "{raw}");
}

#[tokio::test]
async fn pooled_connections_carry_many_messages_at_once() {
    if sink::skipped() {
        return;
    }
    let sink = SmtpSink::start(Mode::Accept, SinkTls::None);
    let mut config = config(sink.port, SmtpTls::None);
    config.pool_size = 4;
    let sender = std::sync::Arc::new(SmtpEmailSender::new(&config).unwrap());
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let sender = sender.clone();
        tasks.push(tokio::spawn(
            async move { sender.send(&message(false)).await },
        ));
    }
    let mut ids = std::collections::HashSet::new();
    for task in tasks {
        ids.insert(task.await.unwrap().unwrap().message_id);
    }
    assert_eq!(ids.len(), 40);
    assert_eq!(sink.messages().len(), 40);
}

#[tokio::test]
async fn a_4xx_answer_is_transient() {
    if sink::skipped() {
        return;
    }
    let sink = SmtpSink::start(Mode::TempFail, SinkTls::None);
    let sender = SmtpEmailSender::new(&config(sink.port, SmtpTls::None)).unwrap();
    match sender.send(&message(false)).await {
        Err(SendError::Transient { reason }) => assert!(reason.contains("451"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn a_5xx_answer_to_the_recipient_is_a_permanent_invalid_recipient() {
    if sink::skipped() {
        return;
    }
    let sink = SmtpSink::start(Mode::Reject, SinkTls::None);
    let sender = SmtpEmailSender::new(&config(sink.port, SmtpTls::None)).unwrap();
    match sender.send(&message(false)).await {
        Err(SendError::Permanent { kind, reason }) => {
            assert_eq!(kind, PermanentKind::InvalidRecipient, "{reason}");
            assert!(reason.contains("550"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_dropped_connection_is_transient() {
    if sink::skipped() {
        return;
    }
    let sink = SmtpSink::start(Mode::Drop, SinkTls::None);
    let sender = SmtpEmailSender::new(&config(sink.port, SmtpTls::None)).unwrap();
    let result = sender.send(&message(false)).await;
    assert!(
        matches!(result, Err(SendError::Transient { .. })),
        "{result:?}\n{}",
        sink.log()
    );
}

#[tokio::test]
async fn a_server_that_is_down_is_transient_and_the_retry_succeeds_once_it_is_up() {
    if sink::skipped() {
        return;
    }
    let port = sink::free_port();
    let sender = SmtpEmailSender::new(&config(port, SmtpTls::None)).unwrap();
    let first = sender.send(&message(false)).await;
    assert!(
        matches!(first, Err(SendError::Transient { .. })),
        "{first:?}"
    );

    let sink = SmtpSink::start_on(port, Mode::Accept, SinkTls::None);
    let retry = sender.send(&message(false)).await.unwrap();
    assert_eq!(retry.queue_id.as_deref(), Some("Q00001"));
    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test]
async fn starttls_and_implicit_tls_with_a_trusted_certificate() {
    if sink::skipped() {
        return;
    }
    let certs = tempfile::tempdir().unwrap();
    let (ca, cert, key) = sink::make_certificates(certs.path());

    let starttls = SmtpSink::start(
        Mode::Accept,
        SinkTls::StartTls {
            cert: cert.clone(),
            key: key.clone(),
        },
    );
    let mut settings = config(starttls.port, SmtpTls::StartTls);
    settings.extra_root_certificate = Some(ca.clone());
    let receipt = SmtpEmailSender::new(&settings)
        .unwrap()
        .send(&message(false))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", starttls.log()));
    assert_eq!(receipt.queue_id.as_deref(), Some("Q00001"));
    assert_eq!(starttls.messages().len(), 1);

    let implicit = SmtpSink::start(Mode::Accept, SinkTls::Implicit { cert, key });
    let mut settings = config(implicit.port, SmtpTls::Implicit);
    settings.extra_root_certificate = Some(ca);
    SmtpEmailSender::new(&settings)
        .unwrap()
        .send(&message(false))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", implicit.log()));
    assert_eq!(implicit.messages().len(), 1);
}

#[tokio::test]
async fn an_untrusted_certificate_or_a_server_without_starttls_is_transient_and_sends_nothing() {
    if sink::skipped() {
        return;
    }
    let certs = tempfile::tempdir().unwrap();
    let (_ca, cert, key) = sink::make_certificates(certs.path());

    // The server's CA is not trusted: the TLS handshake fails.
    let starttls = SmtpSink::start(Mode::Accept, SinkTls::StartTls { cert, key });
    let result = SmtpEmailSender::new(&config(starttls.port, SmtpTls::StartTls))
        .unwrap()
        .send(&message(false))
        .await;
    assert!(
        matches!(result, Err(SendError::Transient { .. })),
        "{result:?}"
    );
    assert!(starttls.messages().is_empty());

    // STARTTLS is required and the server does not offer it: no fallback to plain text.
    let plain = SmtpSink::start(Mode::Accept, SinkTls::None);
    let result = SmtpEmailSender::new(&config(plain.port, SmtpTls::StartTls))
        .unwrap()
        .send(&message(false))
        .await;
    assert!(
        matches!(result, Err(SendError::Transient { .. })),
        "{result:?}"
    );
    assert!(plain.messages().is_empty());
}

/// Sends one message through a sink with DKIM signing by `key_file`, and returns the message's
/// `DKIM-Signature` header, unfolded.
async fn dkim_signature(selector: &str, key_file: PathBuf, algorithm: DkimAlgorithm) -> String {
    let sink = SmtpSink::start(Mode::Accept, SinkTls::None);
    let mut settings = config(sink.port, SmtpTls::None);
    settings.dkim = Some(DkimSettings {
        selector: selector.into(),
        domain: "melding.example.no".into(),
        key_file,
        algorithm,
    });
    SmtpEmailSender::new(&settings)
        .unwrap()
        .send(&message(false))
        .await
        .unwrap();
    let (_, raw) = &sink.messages()[0];
    let head = raw.split("\r\n\r\n").next().unwrap();
    head.split("\r\n")
        .position(|l| l.starts_with("DKIM-Signature:"))
        .map(|i| {
            // The header folds over several lines.
            head.split("\r\n")
                .skip(i)
                .take_while({
                    let mut first = true;
                    move |l| std::mem::replace(&mut first, false) || l.starts_with([' ', '\t'])
                })
                .collect::<String>()
        })
        .unwrap_or_else(|| panic!("no DKIM-Signature in {raw}"))
}

#[tokio::test]
async fn messages_are_dkim_signed_with_the_configured_key() {
    if sink::skipped() {
        return;
    }
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("dkim.pem");
    generate_rsa_key(&key_file);
    let signature = dkim_signature("melding2026", key_file, DkimAlgorithm::Rsa).await;
    for tag in [
        "d=melding.example.no",
        "s=melding2026",
        "a=rsa-sha256",
        "bh=",
        "b=",
    ] {
        assert!(signature.contains(tag), "{tag} missing in {signature}");
    }
}

#[tokio::test]
async fn messages_are_dkim_signed_with_an_ed25519_key() {
    if sink::skipped() {
        return;
    }
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("dkim-ed25519.txt");
    // Any 32 bytes are an Ed25519 private key; lettre reads their base64 (a newline after it
    // is allowed).
    let out = Command::new("openssl")
        .args(["rand", "-base64", "32"])
        .output()
        .expect("run openssl");
    assert!(out.status.success());
    std::fs::write(&key_file, &out.stdout).unwrap();
    let signature = dkim_signature("ed2026", key_file, DkimAlgorithm::Ed25519).await;
    for tag in ["a=ed25519-sha256", "s=ed2026", "d=melding.example.no"] {
        assert!(signature.contains(tag), "{tag} missing in {signature}");
    }
}

#[tokio::test]
async fn a_missing_or_bad_dkim_key_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = config(25, SmtpTls::None);
    settings.dkim = Some(DkimSettings {
        selector: "s".into(),
        domain: "melding.example.no".into(),
        key_file: dir.path().join("missing.pem"),
        algorithm: DkimAlgorithm::Rsa,
    });
    assert!(SmtpEmailSender::new(&settings).is_err());
    std::fs::write(dir.path().join("bad.pem"), "not a key").unwrap();
    settings.dkim.as_mut().unwrap().key_file = dir.path().join("bad.pem");
    assert!(SmtpEmailSender::new(&settings).is_err());
}

fn generate_rsa_key(path: &Path) {
    let out = Command::new("openssl")
        .args(["genrsa", "-traditional", "-out"])
        .arg(path)
        .arg("2048")
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
