//! Notification orders at initialize (issue 15 item 1): `correspondence.notification` is
//! checked as the reference checks it — model validation first, then the bare-string 3023,
//! then the business rules 3001–3025 in the reference's order after the other rules (§4.1,
//! §8.1) — with the reference's exact status, code and text; and the orders it becomes are
//! written with the letters and listed in the initialize response.

use melding_domain::{CorrespondenceId, NationalId};
use melding_store::{Person, RegistryBatch};
use reqwest::multipart::Form;
use serde_json::{Value, json};

use crate::support::*;

/// A letter to `recipients` with `notification` as its notification order.
fn notified(recipients: &[&str], notification: Value) -> Value {
    let mut b = letter(recipients);
    b["correspondence"]["notification"] = notification;
    b
}

/// An Email CustomMessage with both texts.
fn email() -> Value {
    json!({
        "notificationTemplate": "CustomMessage",
        "notificationChannel": "Email",
        "emailSubject": "Du har fått post",
        "emailBody": "Hei. Du har fått en melding fra $sendersName$."
    })
}

/// Asserts a ProblemDetails with this status, code and the reference's text word for word.
fn assert_text(a: &Answer, status: u16, code: u16, text: &str) {
    a.assert_problem(status, code);
    assert_eq!(a.json()["detail"], text, "CORR-{code:05}");
}

async fn refused(app: &TestApp, body: Value, status: u16, code: u16, text: &str) {
    let a = app.send(&app.sender(), body).await;
    assert_text(&a, status, code, text);
}

const T3001: &str = "The requested notification template with the given language was not found";
const T3002: &str = "Email body and subject must be provided when sending email notifications";
const T3003: &str =
    "Reminder email body and subject must be provided when sending reminder email notifications";
const T3004: &str = "SMS body must be provided when sending SMS notifications";
const T3005: &str = "Reminder SMS body must be provided when sending reminder SMS notifications";
const T3006: &str =
    "Email body, subject and SMS body must be provided when sending preferred notifications";
const T3007: &str = "Reminder email body, subject and SMS body must be provided when sending reminder preferred notifications";
const T3011: &str = "Invalid email provided for custom recipient.";
const T3012: &str = "Invalid mobile number provided. Mobile number can contain only '+' and numeric characters, and it must adhere to the E.164 standard.";
const T3015: &str = "Recipient overrides with email or mobile number are not allowed when using notification recipient name because of name lookup";
const T3017: &str = "Custom recipient with multiple recipients is not allowed";
const T3018: &str = "Custom recipient with multiple identifiers is not allowed";
const T3019: &str = "Custom recipient without identifier is not allowed";
const T3022: &str =
    "OverrideRegisteredContactInformation flag can only be used when CustomRecipients is provided";
const T3024: &str =
    "Email body, subject and SMS body must be provided when sending email and SMS notifications";
const T3025: &str = "Reminder email body, subject and SMS body must be provided when sending reminder email and SMS notifications";

#[tokio::test]
async fn every_notification_rule_answers_with_the_references_code_and_text() {
    let app = TestApp::spawn().await;
    let with = |changes: Value| {
        let mut n = email();
        for (k, v) in changes.as_object().unwrap() {
            n[k] = v.clone();
        }
        n
    };

    // 3001: GenericAltinnMessage has no template for a language written `NB` (which 1023
    // accepts, any case).
    let mut b = notified(
        &[PERSON],
        json!({"notificationTemplate": "GenericAltinnMessage"}),
    );
    b["correspondence"]["content"]["language"] = json!("NB");
    refused(&app, b, 404, 3001, T3001).await;

    let main = |channel: &str, drop: &[&str]| {
        let mut n = with(json!({"notificationChannel": channel, "smsBody": "Ny post"}));
        for d in drop {
            n.as_object_mut().unwrap().remove(*d);
        }
        notified(&[PERSON], n)
    };
    refused(&app, main("Email", &["emailSubject"]), 400, 3002, T3002).await;
    refused(&app, main("Sms", &["smsBody"]), 400, 3004, T3004).await;
    refused(&app, main("EmailPreferred", &["smsBody"]), 400, 3006, T3006).await;
    refused(&app, main("SmsPreferred", &["emailBody"]), 400, 3006, T3006).await;
    refused(&app, main("EmailAndSms", &["smsBody"]), 400, 3024, T3024).await;

    let reminder = |channel: &str, drop: &str| {
        let mut n = with(json!({
            "smsBody": "Ny post", "sendReminder": true, "reminderNotificationChannel": channel,
            "reminderEmailSubject": "Påminnelse", "reminderEmailBody": "Ulest post",
            "reminderSmsBody": "Ulest post"
        }));
        n.as_object_mut().unwrap().remove(drop);
        notified(&[PERSON], n)
    };
    refused(
        &app,
        reminder("Email", "reminderEmailBody"),
        400,
        3003,
        T3003,
    )
    .await;
    refused(&app, reminder("Sms", "reminderSmsBody"), 400, 3005, T3005).await;
    refused(
        &app,
        reminder("EmailPreferred", "reminderSmsBody"),
        400,
        3007,
        T3007,
    )
    .await;
    refused(
        &app,
        reminder("EmailAndSms", "reminderEmailSubject"),
        400,
        3025,
        T3025,
    )
    .await;

    let custom = |r: Value| notified(&[PERSON], with(json!({"customRecipients": [r]})));
    refused(
        &app,
        custom(json!({"emailAddress": "kari@example"})),
        400,
        3011,
        T3011,
    )
    .await;
    refused(
        &app,
        custom(json!({"emailAddress": "kari@example.no;ola@example.no"})),
        400,
        3011,
        T3011,
    )
    .await;
    refused(
        &app,
        custom(json!({"mobileNumber": "91234567"})),
        400,
        3012,
        T3012,
    )
    .await;
    refused(
        &app,
        custom(json!({"mobileNumber": "+4712"})),
        400,
        3012,
        T3012,
    )
    .await;
    let mut named = custom(json!({"mobileNumber": "+4791234567"}));
    named["correspondence"]["notification"]["reminderEmailBody"] = json!("Hei $RecipientName$");
    refused(&app, named, 400, 3015, T3015).await;
    let several = notified(
        &[PERSON, OTHER_PERSON],
        with(json!({"customRecipients": [{"emailAddress": "kari@example.no"}]})),
    );
    refused(&app, several, 400, 3017, T3017).await;
    refused(
        &app,
        custom(json!({"emailAddress": "kari@example.no", "organizationNumber": RECIPIENT_ORG})),
        400,
        3018,
        T3018,
    )
    .await;
    refused(&app, custom(json!({"isReserved": false})), 400, 3019, T3019).await;
    refused(
        &app,
        notified(
            &[PERSON],
            with(json!({"overrideRegisteredContactInformation": true})),
        ),
        400,
        3022,
        T3022,
    )
    .await;

    // The deprecated fields are read too.
    let mut old = email();
    old["customRecipient"] = json!({"mobileNumber": "12345678"});
    refused(&app, notified(&[PERSON], old), 400, 3012, T3012).await;
    let mut older = email();
    older["customNotificationRecipients"] =
        json!([{"recipientToOverride": PERSON, "recipients": [{}]}]);
    refused(&app, notified(&[PERSON], older), 400, 3019, T3019).await;

    // None of the refused requests left a letter behind.
    let search = app
        .get(
            &format!("/correspondence/api/v1/correspondence?resourceId={RESOURCE}&role=Sender"),
            &app.sender(),
        )
        .await;
    search.assert_status(200);
    assert_eq!(search.json()["ids"], json!([]));
}

#[tokio::test]
async fn an_undefined_template_number_is_a_bare_string_after_the_model_checks() {
    let app = TestApp::spawn().await;
    let a = app
        .send(
            &app.sender(),
            notified(&[PERSON], json!({"notificationTemplate": 2})),
        )
        .await;
    a.assert_status(400);
    assert_eq!(a.json(), json!("Invalid notification template"));
    // Model validation comes first.
    let a = app
        .send(
            &app.sender(),
            notified(
                &[PERSON],
                json!({"notificationTemplate": 2, "emailSubject": "x".repeat(513)}),
            ),
        )
        .await;
    a.assert_validation("Correspondence/Notification/EmailSubject");
    // ... and the bare string before any business rule (here 1047).
    let mut b = notified(&[PERSON, OTHER_PERSON], json!({"notificationTemplate": 2}));
    b["idempotentKey"] = json!("6f1c1f5e-54a7-4c34-9a8e-9a2a4a1d3b10");
    let a = app.send(&app.sender(), b).await;
    assert_eq!(a.json(), json!("Invalid notification template"));
}

#[tokio::test]
async fn model_validation_of_the_notification_names_its_fields() {
    let app = TestApp::spawn().await;
    let a = app
        .send(
            &app.sender(),
            notified(&[PERSON], json!({"notificationChannel": 7})),
        )
        .await;
    a.assert_validation("Correspondence/Notification/NotificationChannel");
    assert_eq!(
        a.json()["validationErrors"][0]["detail"],
        "The NotificationChannel field must be a defined value."
    );
    for (field, max) in [
        ("EmailSubject", 512),
        ("EmailBody", 10_000),
        ("SmsBody", 2_144),
        ("ReminderEmailSubject", 512),
        ("ReminderEmailBody", 10_000),
        ("ReminderSmsBody", 2_144),
    ] {
        let mut n = email();
        let key = format!("{}{}", field[..1].to_lowercase(), &field[1..]);
        n[&key] = json!("x".repeat(max));
        app.send(&app.sender(), notified(&[PERSON], n.clone()))
            .await
            .assert_status(200);
        n[&key] = json!("x".repeat(max + 1));
        let a = app.send(&app.sender(), notified(&[PERSON], n)).await;
        a.assert_validation(&format!("Correspondence/Notification/{field}"));
        assert_eq!(
            a.json()["validationErrors"][0]["detail"],
            format!("The field {field} must be a string with a maximum length of {max}.")
        );
    }
    // A name the reference does not define is a JSON error at its path.
    let a = app
        .send(
            &app.sender(),
            notified(&[PERSON], json!({"notificationChannel": "Fax"})),
        )
        .await;
    a.assert_validation("$.correspondence.notification.notificationChannel");
}

#[tokio::test]
async fn the_earlier_rule_wins() {
    let app = TestApp::spawn().await;
    // 3001 before 3022.
    let mut b = notified(
        &[PERSON],
        json!({"notificationTemplate": 1, "overrideRegisteredContactInformation": true}),
    );
    b["correspondence"]["content"]["language"] = json!("EN");
    refused(&app, b, 404, 3001, T3001).await;
    // 3022 before 3002.
    refused(
        &app,
        notified(
            &[PERSON],
            json!({"overrideRegisteredContactInformation": true}),
        ),
        400,
        3022,
        T3022,
    )
    .await;
    // 3017 before 3019.
    refused(
        &app,
        notified(&[PERSON, OTHER_PERSON], json!({"customRecipients": [{}]})),
        400,
        3017,
        T3017,
    )
    .await;
    // 3019 (the second recipient) before 3015 and 3011 (the first).
    let mut n = email();
    n["emailSubject"] = json!("Til $recipientName$");
    n["customRecipients"] = json!([{"emailAddress": "nope"}, {}]);
    refused(&app, notified(&[PERSON], n.clone()), 400, 3019, T3019).await;
    // 3015 before 3011.
    n["customRecipients"] = json!([{"emailAddress": "nope"}]);
    refused(&app, notified(&[PERSON], n), 400, 3015, T3015).await;
    // 3011 before 3012, whichever comes first in the list.
    let mut n = email();
    n["customRecipients"] = json!([{"mobileNumber": "123"}, {"emailAddress": "nope"}]);
    refused(&app, notified(&[PERSON], n), 400, 3011, T3011).await;
    // 3012 before the missing texts (3002).
    let n = json!({"customRecipients": [{"mobileNumber": "123"}]});
    refused(&app, notified(&[PERSON], n), 400, 3012, T3012).await;
    // The letter's own rules come first: the reply options (1035) and the content (1023).
    let mut b = notified(
        &[PERSON],
        json!({"overrideRegisteredContactInformation": true}),
    );
    b["correspondence"]["replyOptions"] = json!([{"linkURL": "http://insecure.example"}]);
    app.send(&app.sender(), b).await.assert_problem(400, 1035);
    let mut b = notified(
        &[PERSON],
        json!({"overrideRegisteredContactInformation": true}),
    );
    b["correspondence"]["content"]["language"] = json!("se");
    app.send(&app.sender(), b).await.assert_problem(400, 1023);
}

/// The orders listed for one letter of an initialize answer: (isReminder, orderId).
fn orders_of(letter: &Value) -> Vec<(bool, String)> {
    letter["notifications"]
        .as_array()
        .unwrap_or_else(|| panic!("no notifications: {letter}"))
        .iter()
        .map(|n| {
            assert_eq!(n["status"], "Success");
            (
                n["isReminder"].as_bool().unwrap(),
                n["orderId"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn orders_are_written_with_the_letters_and_listed_in_the_answer() {
    let app = TestApp::spawn().await;
    // Without a notification: null, as Altinn answers.
    let a = app.send(&app.sender(), letter(&[PERSON])).await;
    a.assert_status(200);
    assert_eq!(a.json()["correspondences"][0]["notifications"], Value::Null);

    // The person, two spellings of one address (one order), a mobile number; with a reminder.
    let mut n = email();
    n["sendReminder"] = json!(true);
    n["reminderEmailSubject"] = json!("Påminnelse");
    n["reminderEmailBody"] = json!("Du har en ulest melding.");
    n["customRecipients"] = json!([
        {"emailAddress": "Kari.Nordmann@example.no"},
        {"emailAddress": "kari.nordmann@EXAMPLE.no"},
        {"mobileNumber": "+47 912 34 567"}
    ]);
    let mut b = notified(&[PERSON], n);
    b["correspondence"]["requestedPublishTime"] = json!("2026-03-04T09:00:00+00:00");
    let a = app.send(&app.sender(), b).await;
    a.assert_status(200);
    let answer = a.json();
    let letter_answer = &answer["correspondences"][0];
    let listed = orders_of(letter_answer);
    let reminders: Vec<bool> = listed.iter().map(|(r, _)| *r).collect();
    assert_eq!(reminders, [false, false, false, true, true, true]);
    let id: CorrespondenceId = letter_answer["correspondenceId"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let stored = app.store.notification_orders(id).await.unwrap();
    let mut stored_ids: Vec<String> = stored.iter().map(|o| o.order.id.to_string()).collect();
    let mut listed_ids: Vec<String> = listed.iter().map(|(_, id)| id.clone()).collect();
    stored_ids.sort();
    listed_ids.sort();
    assert_eq!(stored_ids, listed_ids, "the answer lists the stored orders");
    let publish = "2026-03-04T09:00:00Z"
        .parse::<chrono::DateTime<chrono::Utc>>()
        .unwrap();
    for o in &stored {
        assert_eq!(o.order.correspondence_id, id);
        let due = match o.order.kind {
            melding_domain::notification::OrderKind::Main => publish,
            melding_domain::notification::OrderKind::Reminder
            | melding_domain::notification::OrderKind::ConfidentialReminder => {
                publish + chrono::Duration::days(7)
            }
        };
        assert_eq!(o.order.requested_send_time, due);
    }
    let keys: std::collections::BTreeSet<String> = stored
        .iter()
        .map(|o| o.order.recipient.dedupe_key())
        .collect();
    assert_eq!(
        keys.into_iter().collect::<Vec<_>>(),
        [
            "email:kari.nordmann@example.no".to_owned(),
            "sms:+4791234567".to_owned(),
            format!("urn:altinn:person:identifier-no:{PERSON}"),
        ]
    );
}

#[tokio::test]
async fn several_recipients_get_orders_each_and_a_reserved_one_none() {
    let app = TestApp::spawn().await;
    let reserved_id = "01010150740";
    let mut reserved = Person::new(NationalId::parse(reserved_id).unwrap(), "Reservert");
    reserved.reserved = true;
    app.store
        .upsert_registry(&RegistryBatch {
            persons: vec![reserved],
            ..Default::default()
        })
        .await
        .unwrap();
    let mut n = email();
    n["notificationTemplate"] = json!(1);
    n["notificationChannel"] = json!(4);
    let a = app
        .send(
            &app.sender(),
            notified(&[PERSON, RECIPIENT_ORG, reserved_id], n),
        )
        .await;
    a.assert_status(200);
    let v = a.json();
    let letters = v["correspondences"].as_array().unwrap();
    assert_eq!(orders_of(&letters[0]).len(), 1);
    assert_eq!(orders_of(&letters[1]).len(), 1);
    assert_ne!(orders_of(&letters[0])[0].1, orders_of(&letters[1])[0].1);
    assert_eq!(letters[2]["status"], "Reserved");
    assert_eq!(letters[2]["notifications"], Value::Null);
    let org_letter: CorrespondenceId = letters[1]["correspondenceId"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let [order] = &app.store.notification_orders(org_letter).await.unwrap()[..] else {
        panic!("one order for the organisation's letter")
    };
    assert_eq!(
        order.order.recipient.dedupe_key(),
        format!("urn:altinn:organization:identifier-no:{RECIPIENT_ORG}")
    );
    assert_eq!(
        order.order.template,
        melding_domain::notification::NotificationTemplate::GenericAltinnMessage
    );
    assert_eq!(
        order.order.channel,
        melding_domain::notification::NotificationChannel::EmailAndSms
    );
}

#[tokio::test]
async fn the_multipart_endpoint_takes_the_notification_fields() {
    let app = TestApp::spawn().await;
    let form = Form::new()
        .text("Correspondence.ResourceId", RESOURCE)
        .text("Correspondence.SendersReference", "sak-2026-9")
        .text("Correspondence.Content.Language", "nb")
        .text("Correspondence.Content.MessageTitle", "Vedtak")
        .text("Correspondence.Content.MessageBody", "Tekst")
        .text(
            "Recipients[0]",
            format!("urn:altinn:person:identifier-no:{PERSON}"),
        )
        .text("Correspondence.Notification.NotificationTemplate", "0")
        .text("Correspondence.Notification.NotificationChannel", "Sms")
        .text("Correspondence.Notification.SmsBody", "Du har fått post")
        .text(
            "correspondence.notification.overrideRegisteredContactInformation",
            "true",
        )
        .text(
            "Correspondence.Notification.CustomRecipients[0].MobileNumber",
            "+4791234567",
        );
    let a = app.send_form(&app.sender(), form).await;
    a.assert_status(200);
    let listed = orders_of(&a.json()["correspondences"][0]);
    assert_eq!(listed.len(), 1);
    // The same form without the SMS text breaks 3004.
    let form = Form::new()
        .text("Correspondence.ResourceId", RESOURCE)
        .text("Correspondence.SendersReference", "sak-2026-9")
        .text("Correspondence.Content.MessageTitle", "Vedtak")
        .text("Correspondence.Content.MessageBody", "Tekst")
        .text(
            "Recipients[0]",
            format!("urn:altinn:person:identifier-no:{PERSON}"),
        )
        .text("Correspondence.Notification.NotificationChannel", "1");
    let a = app.send_form(&app.sender(), form).await;
    assert_text(&a, 400, 3004, T3004);
}
