//! Notices through the whole chain into a real SMTP server (aiosmtpd,
//! `crates/melding-delivery/tests/smtp_sink.py`), on both stores: one that accepts, one that
//! answers 4xx, one that drops the connection, and one that is down and then comes up
//! (issue 15, "Never lost, never spammed"; `reference/delivery-chain.md` §7).
//!
//! The node's clock is simulated, so the job runner's back-off (2 s, 4 s, … capped at an hour)
//! passes by advancing it; the SMTP conversations themselves are real.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Duration;
use melding_core::notify::NotificationChannels;
use melding_delivery::email::{SmtpConfig, SmtpEmailSender, SmtpTls};
use melding_delivery::sms::{CapturingSmsSender, SmsSenderId};
use melding_domain::notification::{Notification, NotificationStatus};
use melding_domain::{CorrespondenceId, EmailAddress};

use crate::smtp_sink::{self as sink, Mode, SinkTls, SmtpSink};
use crate::support::*;

/// A test app whose notification e-mail goes over SMTP to `localhost:port`.
pub(crate) async fn app_sending_to(port: u16) -> TestApp {
    TestApp::spawn_with(move |node| {
        let mut config = SmtpConfig::new("localhost", port, SmtpTls::None);
        config.message_id_domain = "melding.example.no".into();
        config.timeout = std::time::Duration::from_secs(10);
        let email = Arc::new(SmtpEmailSender::new(&config).expect("SMTP config"));
        node.notification_channels = Some(NotificationChannels::new(
            email,
            Arc::new(CapturingSmsSender::new()),
            EmailAddress::parse(NOTIFICATION_FROM).unwrap(),
            Some("Melding".into()),
            SmsSenderId::parse(SMS_SENDER).unwrap(),
        ));
    })
    .await
}

async fn notifications(app: &TestApp, letter: &str) -> Vec<Notification> {
    let id: CorrespondenceId = letter.parse().expect("letter id");
    app.store.notifications_of(id).await.unwrap()
}

/// The `To` addresses of the messages the sink took, with how many times each arrived.
fn arrivals(sink: &SmtpSink) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for (envelope, _) in sink.messages() {
        for rcpt in &envelope[1..] {
            *seen.entry(rcpt.clone()).or_insert(0) += 1;
        }
    }
    seen
}

fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    let prefix = format!("{name}:");
    raw.lines()
        .take_while(|l| !l.is_empty())
        .find(|l| l.len() > prefix.len() && l[..prefix.len()].eq_ignore_ascii_case(&prefix))
        .map(|l| l[prefix.len()..].trim())
}

/// Advances the clock past the longest back-off and runs the due jobs, until `done` holds or
/// `rounds` rounds have passed (a pooled connection to the old server may cost one round).
async fn retry_until(app: &TestApp, rounds: usize, done: impl Fn() -> bool) {
    for _ in 0..rounds {
        if done() {
            return;
        }
        app.advance(Duration::minutes(80));
        app.run_jobs().await;
    }
}

#[tokio::test]
async fn published_notices_reach_the_smtp_server_once_each_with_its_reply_recorded() {
    if sink::skipped() {
        return;
    }
    let sink = SmtpSink::start(Mode::Accept, SinkTls::None);
    let app = app_sending_to(sink.port).await;
    let mut letters = Vec::new();
    for n in 1..=3 {
        letters.push(
            app.letter_with_orders(&[OrderSpec::email(&format!("kari{n}@example.no"))])
                .await,
        );
    }
    app.run_jobs().await;
    let messages = sink.messages();
    assert_eq!(messages.len(), 3, "{}", sink.log());
    for (envelope, raw) in &messages {
        assert_eq!(envelope[0], NOTIFICATION_FROM);
        assert_eq!(header(raw, "Auto-Submitted"), Some("auto-generated"));
        assert_eq!(header(raw, "Subject"), Some("Ny melding"));
    }
    for (n, letter) in letters.iter().enumerate() {
        let sent = notifications(&app, letter).await;
        assert_eq!(sent.len(), 1);
        let notice = &sent[0];
        assert_eq!(notice.status, NotificationStatus::Succeeded, "{notice:?}");
        assert!(notice.sent.is_some());
        // The server's queue id is recorded, and the Message-ID carries the notification's id.
        let queue_id = notice.provider_reference.as_deref().expect("queue id");
        assert!(queue_id.starts_with('Q'), "{queue_id}");
        let (_, raw) = messages
            .iter()
            .find(|(envelope, _)| envelope[1] == format!("kari{}@example.no", n + 1))
            .expect("the letter's notice arrived");
        let message_id = header(raw, "Message-ID").expect("Message-ID");
        assert!(message_id.contains(&notice.id.to_string()), "{message_id}");
    }
    // Running again sends nothing more.
    app.advance(Duration::hours(2));
    app.run_jobs().await;
    assert_eq!(sink.messages().len(), 3);
}

/// A server that answers `451` or drops the connection at DATA has not taken the notice: it
/// stays `New`, is retried with back-off, and arrives once when the server takes it.
#[tokio::test]
async fn a_4xx_answer_or_a_dropped_connection_is_retried_until_the_server_takes_the_notice() {
    if sink::skipped() {
        return;
    }
    for failing in [Mode::TempFail, Mode::Drop] {
        let port = sink::free_port();
        let bad = SmtpSink::start_on(port, failing, SinkTls::None);
        let app = app_sending_to(port).await;
        let letter = app
            .letter_with_orders(&[OrderSpec::email("kari@example.no")])
            .await;
        app.run_jobs().await;
        for _ in 0..3 {
            app.advance(Duration::minutes(1));
            app.run_jobs().await;
        }
        assert!(bad.messages().is_empty(), "{failing:?}");
        let waiting = notifications(&app, &letter).await;
        assert_eq!(waiting[0].status, NotificationStatus::New, "{failing:?}");
        assert!(waiting[0].sent.is_none());
        drop(bad);

        let good = SmtpSink::start_on(port, Mode::Accept, SinkTls::None);
        retry_until(&app, 3, || !good.messages().is_empty()).await;
        assert_eq!(
            arrivals(&good),
            BTreeMap::from([("kari@example.no".to_owned(), 1)]),
            "{failing:?}: {}",
            good.log()
        );
        let sent = notifications(&app, &letter).await;
        assert_eq!(sent[0].status, NotificationStatus::Succeeded, "{failing:?}");
    }
}

/// A server that is down for ten minutes gets every notice, each once, after it comes back.
#[tokio::test]
async fn a_server_down_for_ten_minutes_gets_every_notice_once_it_is_up() {
    if sink::skipped() {
        return;
    }
    let port = sink::free_port();
    let app = app_sending_to(port).await;
    let addresses: Vec<String> = (1..=20)
        .map(|n| format!("innbygger{n}@example.no"))
        .collect();
    let mut letters = Vec::new();
    for address in &addresses {
        letters.push(app.letter_with_orders(&[OrderSpec::email(address)]).await);
    }
    app.run_jobs().await;
    for _ in 0..10 {
        app.advance(Duration::minutes(1));
        app.run_jobs().await;
    }
    for letter in &letters {
        assert_eq!(
            notifications(&app, letter).await[0].status,
            NotificationStatus::New
        );
    }

    let sink = SmtpSink::start_on(port, Mode::Accept, SinkTls::None);
    retry_until(&app, 3, || sink.messages().len() >= addresses.len()).await;
    let expected: BTreeMap<String, usize> = addresses.iter().map(|a| (a.clone(), 1)).collect();
    assert_eq!(arrivals(&sink), expected, "{}", sink.log());
    for letter in &letters {
        assert_eq!(
            notifications(&app, letter).await[0].status,
            NotificationStatus::Succeeded
        );
    }
}
