//! Unopened confidential letters (issue 15 item 6, reference §4.15 and §8.5), on the simulated
//! clock and on both stores: the organisation's e-mail 7 days after publication, only while the
//! letter is unopened and exactly once, and the list at
//! `GET /correspondence/api/v1/confidential-reminders` in nb, nn and en.

use chrono::Duration;
use chrono_tz::Europe::Oslo;
use melding_domain::{NationalId, OrgNumber};
use melding_store::{Organization, RegistryBatch, RoleAssignment};
use serde_json::{Value, json};

use crate::support::*;

const LIST: &str = "/correspondence/api/v1/confidential-reminders";
const ORG_EMAIL: &str = "post@bygg-og-anlegg.no";

/// Gives the recipient organisation an official e-mail address and a general manager (so it may
/// receive confidential post, 1044).
async fn organisation(app: &TestApp) {
    let mut o = Organization::new(
        OrgNumber::parse(RECIPIENT_ORG).unwrap(),
        "BYGG OG ANLEGG AS",
    );
    o.notification_emails = vec![ORG_EMAIL.into()];
    app.store
        .upsert_registry(&RegistryBatch {
            organizations: vec![o],
            roles: vec![RoleAssignment {
                org: OrgNumber::parse(RECIPIENT_ORG).unwrap(),
                person: NationalId::parse(OTHER_PERSON).unwrap(),
                role: "DAGL".into(),
            }],
            ..RegistryBatch::default()
        })
        .await
        .unwrap();
}

fn confidential_letter() -> Value {
    let mut l = letter(&[RECIPIENT_ORG]);
    l["correspondence"]["resourceId"] = json!(CONFIDENTIAL_RESOURCE);
    l["correspondence"]["isConfidential"] = json!(true);
    l
}

/// The recipient organisation's own token, reading its post.
fn organisation_token(app: &TestApp) -> String {
    app.token(&org(RECIPIENT_ORG), READ)
}

/// The reminders e-mailed so far: (to, subject, plain body).
fn reminders(app: &TestApp) -> Vec<(String, String, String)> {
    app.emails()
        .into_iter()
        .map(|e| {
            (
                e.message.to.as_str().to_owned(),
                e.message.subject,
                e.message.body.plain,
            )
        })
        .collect()
}

#[tokio::test]
async fn an_unopened_confidential_letter_gets_one_email_on_day_7_and_is_listed() {
    let app = TestApp::spawn().await;
    organisation(&app).await;
    let answer = app.send(&app.sender(), confidential_letter()).await;
    answer.assert_status(200);
    // The sender asked for no notification, and its answer names none.
    assert_eq!(
        answer.json()["correspondences"][0]["notifications"],
        Value::Null
    );
    let id = answer.json()["correspondences"][0]["correspondenceId"]
        .as_str()
        .unwrap()
        .to_owned();
    app.run_jobs().await;
    let published = app.now();
    let token = organisation_token(&app);
    app.get(LIST, &token).await.assert_problem(404, 1062);

    // Day 6, 23:59: nothing yet.
    app.advance(Duration::days(7) - Duration::minutes(1));
    app.run_jobs().await;
    assert!(reminders(&app).is_empty());
    app.get(LIST, &token).await.assert_problem(404, 1062);

    // Day 7: one e-mail to the organisation's official address.
    app.advance(Duration::minutes(1));
    app.run_jobs().await;
    let sent = reminders(&app);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].0, ORG_EMAIL);
    assert_eq!(
        sent[0].1,
        "Din virksomhet BYGG OG ANLEGG AS har uåpnet taushetsbelagt post."
    );
    assert!(
        sent[0].2.starts_with(
            "Dette er et automatisk varsel om at din virksomhet har mottatt taushetsbelagt post \
             som ikke er åpnet."
        ),
        "{}",
        sent[0].2
    );

    // Listed, in each language.
    let date = published
        .with_timezone(&Oslo)
        .format("%d.%m.%Y")
        .to_string();
    let nb = app.get(LIST, &token).await;
    nb.assert_status(200);
    assert_eq!(
        nb.headers["content-type"].to_str().unwrap(),
        "text/plain; charset=utf-8"
    );
    assert!(
        nb.text.contains(&format!(
            "\n1. Melding fra avsender Digitaliseringsdirektoratet datert {date}, denne krever \
             tilgang til tjenesten: Post: {CONFIDENTIAL_RESOURCE}\n"
        )),
        "{}",
        nb.text
    );
    assert!(nb.text.starts_with("Dette er et automatisk varsel"));
    assert!(nb.text.trim_end().ends_with("over er åpnet."));
    let nn = app.get(&format!("{LIST}?languageCode=nn"), &token).await;
    assert!(
        nn.text
            .contains("1. Melding frå avsendar Digitaliseringsdirektoratet")
    );
    let en = app.get(&format!("{LIST}?languageCode=EN"), &token).await;
    assert!(
        en.text.contains(&format!(
            "1. Message from sender Digitaliseringsdirektoratet dated {date}"
        )),
        "{}",
        en.text
    );
    app.get(&format!("{LIST}?languageCode=se"), &token)
        .await
        .assert_validation("languageCode");

    // The sender's view lists what the sender ordered: nothing.
    let details = app
        .get(&format!("{}/details", path(&id)), &app.sender())
        .await;
    details.assert_status(200);
    assert_eq!(details.json()["notifications"], json!([]));

    // Exactly once, however often the jobs run.
    app.advance(Duration::days(3));
    app.run_jobs().await;
    assert_eq!(reminders(&app).len(), 1);
}

#[tokio::test]
async fn opening_the_letter_removes_its_reminder_and_its_line() {
    let app = TestApp::spawn().await;
    organisation(&app).await;
    let opened = app.send_ok(confidential_letter()).await.remove(0);
    let unopened = app.send_ok(confidential_letter()).await.remove(0);
    app.run_jobs().await;
    let token = organisation_token(&app);
    // Day 3: the organisation opens one of them.
    app.advance(Duration::days(3));
    app.get(&path(&opened), &token).await.assert_status(200);
    app.advance(Duration::days(5));
    app.run_jobs().await;
    // One e-mail, for the unopened letter only.
    assert_eq!(reminders(&app).len(), 1);
    let list = app.get(LIST, &token).await;
    list.assert_status(200);
    assert!(list.text.contains("\n1. Melding fra avsender"));
    assert!(!list.text.contains("\n2. "), "{}", list.text);
    // Once that is opened too, nothing is listed.
    app.get(&path(&unopened), &token).await.assert_status(200);
    app.get(LIST, &token).await.assert_problem(404, 1062);
    app.advance(Duration::days(1));
    app.run_jobs().await;
    assert_eq!(reminders(&app).len(), 1);
}

#[tokio::test]
async fn a_purged_letter_gets_no_reminder() {
    let app = TestApp::spawn().await;
    organisation(&app).await;
    let id = app.send_ok(confidential_letter()).await.remove(0);
    app.run_jobs().await;
    // The sender may not purge after publication (1013); the service's own purge is used here
    // through the store, as an operator's would be.
    app.advance(Duration::days(2));
    let purged = melding_domain::StatusEntry::new(
        melding_domain::CorrespondenceStatus::PurgedByAltinn,
        app.now(),
        None,
    );
    app.store
        .append_status(
            id.parse().unwrap(),
            &purged,
            melding_store::AppendGuard::Always,
            &[],
        )
        .await
        .unwrap();
    app.advance(Duration::days(6));
    app.run_jobs().await;
    assert!(reminders(&app).is_empty());
    app.get(LIST, &organisation_token(&app))
        .await
        .assert_problem(404, 1062);
}

#[tokio::test]
async fn letters_that_are_not_confidential_get_no_reminder() {
    let app = TestApp::spawn().await;
    organisation(&app).await;
    app.send_ok(letter(&[RECIPIENT_ORG])).await;
    app.run_jobs().await;
    app.advance(Duration::days(8));
    app.run_jobs().await;
    assert!(reminders(&app).is_empty());
    app.get(LIST, &organisation_token(&app))
        .await
        .assert_problem(404, 1062);
}

#[tokio::test]
async fn the_list_needs_an_organisation_caller_and_the_read_scope() {
    let app = TestApp::spawn().await;
    // A person's token names no organisation: 4006.
    app.get(LIST, &app.person()).await.assert_problem(401, 4006);
    // A sender's token lacks altinn:correspondence.read: 403 with an empty body.
    let a = app.get(LIST, &app.sender()).await;
    a.assert_status(403);
    assert!(a.text.is_empty());
    // No token at all: 401.
    let a = app.call(reqwest::Method::GET, LIST, None, None).await;
    a.assert_status(401);
}
