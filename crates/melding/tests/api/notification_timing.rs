//! Notifications over time (issue 15's clock-driven cases), on the simulated clock and on both
//! stores: the main notice at publication, the reminder after 7 days only while unread, SMS
//! held for the daytime window in Oslo (across a DST change), the condition checked again at
//! hand-over, stale KRR addresses and revoked organisation contacts skipped.

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Europe::Oslo;
use melding_domain::authz::Right;
use melding_domain::{NationalId, OrgNumber};
use melding_store::{
    DelegationChange, KrrContact, OrgContact, Organization, Person, RegistryBatch,
};
use serde_json::{Value, json};

use crate::support::*;

fn oslo(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Oslo.with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

/// A letter to `recipient` with a notification order.
fn noticed(recipient: &str, notification: Value) -> Value {
    let mut body = letter(&[recipient]);
    body["correspondence"]["notification"] = notification;
    body
}

fn email_with_reminder() -> Value {
    json!({
        "notificationTemplate": "CustomMessage",
        "notificationChannel": "Email",
        "emailSubject": "Ny post fra $sendersName$",
        "emailBody": "Du har fått et brev: $messageTitle$",
        "sendReminder": true,
        "reminderEmailSubject": "Påminnelse: ulest post",
        "reminderEmailBody": "Du har fortsatt et ulest brev."
    })
}

fn sms_with_reminder() -> Value {
    json!({
        "notificationTemplate": "CustomMessage",
        "notificationChannel": "Sms",
        "smsBody": "Ny post i Altinn",
        "sendReminder": true,
        "reminderSmsBody": "Påminnelse: ulest post i Altinn"
    })
}

/// Registers the test person's KRR entry: e-mail and mobile, updated `age` before now.
async fn krr(app: &TestApp, age: Duration) {
    let updated = Some(app.now() - age);
    let mut p = Person::new(NationalId::parse(PERSON).unwrap(), "OLA NORDMANN");
    p.krr = Some(KrrContact {
        email: Some("ola@example.no".into()),
        email_updated: updated,
        mobile: Some("91234567".into()),
        mobile_updated: updated,
        ..KrrContact::default()
    });
    app.store
        .upsert_registry(&RegistryBatch {
            persons: vec![p],
            ..RegistryBatch::default()
        })
        .await
        .unwrap();
}

async fn read(app: &TestApp, id: &str) {
    let token = app.person();
    // Opening the letter logs Fetched, which marking it read requires (1024).
    app.get(&path(id), &token).await.assert_status(200);
    app.post(&format!("{}/markasread", path(id)), &token)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn read_on_day_6_means_no_reminder() {
    let app = TestApp::spawn().await;
    krr(&app, Duration::days(30)).await;
    let id = app
        .send_ok(noticed(PERSON, email_with_reminder()))
        .await
        .remove(0);
    app.run_jobs().await;
    let sent = app.emails();
    assert_eq!(sent.len(), 1, "the main notice at publication");
    assert_eq!(sent[0].message.to.as_str(), "ola@example.no");
    assert_eq!(
        sent[0].message.subject,
        "Ny post fra Digitaliseringsdirektoratet"
    );

    app.advance(Duration::days(6));
    read(&app, &id).await;
    app.advance(Duration::days(1) + Duration::minutes(1));
    app.run_jobs().await;
    assert_eq!(
        app.emails().len(),
        1,
        "no reminder for a letter read on day 6"
    );
}

#[tokio::test]
async fn unread_on_day_7_gets_a_reminder() {
    let app = TestApp::spawn().await;
    krr(&app, Duration::days(30)).await;
    app.send_ok(noticed(PERSON, email_with_reminder())).await;
    app.run_jobs().await;
    app.advance(Duration::days(6));
    app.run_jobs().await;
    assert_eq!(app.emails().len(), 1, "not before day 7");
    app.advance(Duration::days(1) + Duration::minutes(1));
    app.run_jobs().await;
    let sent = app.emails();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].message.subject, "Påminnelse: ulest post");
}

#[tokio::test]
async fn an_sms_created_at_22_goes_out_after_09_oslo_across_a_dst_change() {
    let app = TestApp::spawn().await;
    // Summer time begins 2026-03-29 at 02:00 in Oslo.
    app.clock.set(oslo(2026, 3, 28, 22, 0));
    krr(&app, Duration::days(30)).await;
    app.send_ok(noticed(PERSON, sms_with_reminder())).await;
    app.run_jobs().await;
    assert!(app.sms().is_empty(), "held overnight, not sent");
    app.clock.set(oslo(2026, 3, 29, 8, 59));
    app.run_jobs().await;
    assert!(
        app.sms().is_empty(),
        "still before 09:00 Oslo (summer time)"
    );
    app.clock.set(oslo(2026, 3, 29, 9, 1));
    app.run_jobs().await;
    let sent = app.sms();
    assert_eq!(sent.len(), 1, "sent once the window opens");
    assert_eq!(sent[0].message.to.as_str(), "+4791234567");
}

#[tokio::test]
async fn a_reminder_sms_held_overnight_is_not_sent_when_the_letter_is_read_at_0830() {
    let app = TestApp::spawn().await;
    // Published at 16:30 Oslo; the reminder is due 7 days later at 16:30... make it evening.
    app.clock.set(oslo(2026, 2, 2, 16, 30));
    krr(&app, Duration::days(30)).await;
    let id = app
        .send_ok(noticed(PERSON, sms_with_reminder()))
        .await
        .remove(0);
    app.run_jobs().await;
    assert_eq!(app.sms().len(), 1, "the main notice inside the window");
    // The reminder falls due at 16:30 + 7 days; at 17:05 it is outside the window and held.
    app.clock.set(oslo(2026, 2, 9, 17, 5));
    app.run_jobs().await;
    assert_eq!(app.sms().len(), 1, "held for the window");
    app.clock.set(oslo(2026, 2, 10, 8, 30));
    read(&app, &id).await;
    app.clock.set(oslo(2026, 2, 10, 9, 30));
    app.run_jobs().await;
    assert_eq!(
        app.sms().len(),
        1,
        "read at 08:30: the held reminder is not sent"
    );
}

#[tokio::test]
async fn a_stale_krr_address_is_skipped() {
    let app = TestApp::spawn().await;
    krr(&app, Duration::days(19 * 31)).await;
    app.send_ok(noticed(PERSON, email_with_reminder())).await;
    app.run_jobs().await;
    assert!(
        app.emails().is_empty(),
        "an address older than 18 months is not used"
    );
}

#[tokio::test]
async fn an_organisation_contact_whose_access_was_revoked_before_sending_is_skipped() {
    let app = TestApp::spawn().await;
    let org = OrgNumber::parse(RECIPIENT_ORG).unwrap();
    let person = NationalId::parse(OTHER_PERSON).unwrap();
    let mut o = Organization::new(org.clone(), "BYGG OG ANLEGG AS");
    o.notification_mobiles = vec!["+4790000001".into()];
    o.contacts = vec![OrgContact {
        person: Some(person.clone()),
        email: None,
        mobile: Some("+4790000002".into()),
        resources: vec![],
    }];
    app.store
        .upsert_registry(&RegistryBatch {
            organizations: vec![o],
            ..RegistryBatch::default()
        })
        .await
        .unwrap();
    let change = |granted: bool, at: DateTime<Utc>| DelegationChange {
        at,
        actor: "admin:test".into(),
        granted,
        org: org.clone(),
        person: person.clone(),
        right: Right::parse(melding_domain::authz::ORDINARY_POST).unwrap(),
    };
    // Sent at 20:00 Oslo: both numbers are looked up (the contact may read the post then), and
    // both SMS are held for the morning.
    app.clock.set(oslo(2026, 2, 2, 20, 0));
    app.store
        .change_delegation(&change(true, app.now()))
        .await
        .unwrap();
    app.send_ok(noticed(RECIPIENT_ORG, sms_with_reminder()))
        .await;
    app.run_jobs().await;
    assert!(app.sms().is_empty(), "held for the window");
    // The right is revoked during the night.
    app.clock.set(oslo(2026, 2, 3, 7, 0));
    app.store
        .change_delegation(&change(false, app.now()))
        .await
        .unwrap();
    app.clock.set(oslo(2026, 2, 3, 9, 30));
    app.run_jobs().await;
    let to: Vec<String> = app
        .sms()
        .iter()
        .map(|s| s.message.to.as_str().to_owned())
        .collect();
    assert_eq!(
        to,
        vec!["+4790000001".to_owned()],
        "only the official number"
    );
}
