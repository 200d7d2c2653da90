//! The delivery chain (issue 16): routing, the print fallback after two business days, paper at
//! once for reserved persons, digital mailboxes, receipts, and the ways a print is stopped, on
//! the simulated clock with the real typst renderer and capturing print and mailbox adapters,
//! on both stores.
//!
//! The clock starts Monday 2 March 2026 at 10:00 Oslo, so two business days after a notice
//! sent then is Wednesday 4 March at 10:00.

use std::sync::Arc;

use chrono::Duration;
use melding_core::{ChainPolicy, DeliveryChannels, DeliverySettings};
use melding_delivery::mailbox::{CapturingMailbox, MailboxProvider};
use melding_delivery::print::{CapturingPrintProvider, PrintCost, PrintOutcome, PrintReference};
use melding_domain::NationalId;
use melding_store::{KrrContact, Person, PostalAddress, RegistryBatch};
use serde_json::{Value, json};

use crate::support::*;

/// A chain app: the chain on for every resource, print and Digipost captured.
struct Chain {
    app: TestApp,
    print: Arc<CapturingPrintProvider>,
    digipost: Arc<CapturingMailbox>,
}

async fn chain_with(policy: ChainPolicy) -> Chain {
    let print = Arc::new(CapturingPrintProvider::new());
    let digipost = Arc::new(CapturingMailbox::new());
    let (p, d) = (print.clone(), digipost.clone());
    let app = TestApp::spawn_with(move |node| {
        node.delivery = DeliverySettings {
            default: policy,
            ..DeliverySettings::default()
        };
        node.delivery_channels = Some(
            DeliveryChannels::new(Arc::new(melding::printing::TypstRenderer))
                .with_print(p)
                .with_mailbox(MailboxProvider::Digipost, d),
        );
    })
    .await;
    Chain {
        app,
        print,
        digipost,
    }
}

async fn chain() -> Chain {
    chain_with(ChainPolicy::svarut()).await
}

fn address() -> PostalAddress {
    PostalAddress {
        lines: vec!["Storgata 1".into()],
        postal_code: "3110".into(),
        city: "TØNSBERG".into(),
        country: None,
        protected: false,
    }
}

/// Registers PERSON as the registry would after a KRR and folkeregister import.
async fn register(app: &TestApp, shape: impl FnOnce(&mut Person)) {
    let mut p = Person::new(NationalId::parse(PERSON).unwrap(), "OLA NORDMANN");
    p.address = Some(address());
    p.krr = Some(KrrContact {
        email: Some("ola@example.no".into()),
        ..KrrContact::default()
    });
    shape(&mut p);
    app.store
        .upsert_registry(&RegistryBatch {
            persons: vec![p],
            ..RegistryBatch::default()
        })
        .await
        .unwrap();
}

/// A letter to PERSON with a notice by e-mail.
fn notified_letter() -> Value {
    let mut l = letter(&[PERSON]);
    l["correspondence"]["notification"] = json!({
        "notificationTemplate": "CustomMessage",
        "notificationChannel": "Email",
        "emailSubject": "Du har fått post",
        "emailBody": "Logg inn for å lese den."
    });
    l
}

fn receipts_path(id: &str) -> String {
    format!("{}/receipts", path(id))
}

/// The statuses of a letter's receipt trail as its sender reads them.
async fn trail(app: &TestApp, id: &str) -> Vec<String> {
    let a = app.get(&receipts_path(id), &app.sender()).await;
    a.assert_status(200);
    a.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_unread_letter_is_printed_two_business_days_after_its_notice() {
    let c = chain().await;
    register(&c.app, |_| {}).await;
    let id = c.app.send_ok(notified_letter()).await.remove(0);
    c.app.run_jobs().await;
    assert_eq!(c.app.emails().len(), 1, "the notice went out");
    assert_eq!(
        trail(&c.app, &id).await,
        ["MOTTATT", "AKSEPTERT", "VARSLET"]
    );

    // The route was decided on recorded facts.
    let a = c.app.get(&receipts_path(&id), &c.app.sender()).await;
    let routed = &a.json()["events"][1];
    assert_eq!(routed["details"]["route"], "inbox");
    assert_eq!(routed["details"]["facts"]["notifiable"], true);
    assert_eq!(
        routed["details"]["printNotBefore"], "2026-03-04T09:00:00Z",
        "Wednesday 10:00 Oslo"
    );

    // One minute before the deadline: nothing.
    c.app.advance(Duration::days(2) - Duration::minutes(1));
    c.app.run_jobs().await;
    assert!(c.print.submitted().is_empty());

    // At the deadline: printed, with the window-envelope address.
    c.app.advance(Duration::minutes(1));
    c.app.run_jobs().await;
    let printed = c.print.submitted();
    assert_eq!(printed.len(), 1);
    let order = &printed[0].order;
    assert_eq!(order.reference.as_str(), id);
    assert_eq!(order.recipient_name, "OLA NORDMANN");
    assert_eq!(order.address.postal_code(), "3110");
    assert_eq!(order.sender_name, "Digitaliseringsdirektoratet");
    assert!(printed[0].pdf.starts_with(b"%PDF-"));
    assert!(order.page_count >= 1);
    assert_eq!(
        trail(&c.app, &id).await,
        [
            "MOTTATT",
            "AKSEPTERT",
            "VARSLET",
            "SENDT_PRINT",
            "SENDT_PRINT"
        ]
    );
    // The hand-over records what the print costs depend on.
    let a = c.app.get(&receipts_path(&id), &c.app.sender()).await;
    let handed = a.json()["events"][4]["details"].clone();
    assert_eq!(handed["pages"], order.page_count);
    assert_eq!(handed["colour"], false);
    assert_eq!(handed["duplex"], false);
    assert_eq!(handed["postage"], "B");

    // Reading now changes nothing in the print, and nothing prints twice.
    c.app.advance(Duration::days(3));
    c.app.run_jobs().await;
    assert_eq!(c.print.submitted().len(), 1);

    // The print house's receipt: printed, with its costs.
    c.print.add_receipt(
        PrintReference::parse(&id).unwrap(),
        PrintOutcome::Printed,
        None,
        PrintCost {
            pages: Some(2),
            price_ore: Some(1450),
            ..PrintCost::default()
        },
    );
    c.app.advance(Duration::minutes(5));
    c.app.run_jobs().await;
    let a = c.app.get(&receipts_path(&id), &c.app.sender()).await;
    assert_eq!(a.json()["status"], "PRINTET");
    let last = a.json()["events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["details"]["priceOre"], 1450);
}

#[tokio::test]
async fn a_letter_read_before_its_deadline_is_never_printed() {
    let c = chain().await;
    register(&c.app, |_| {}).await;
    let id = c.app.send_ok(notified_letter()).await.remove(0);
    c.app.run_jobs().await;
    c.app.advance(Duration::days(1));
    c.app
        .get(&path(&id), &c.app.person())
        .await
        .assert_status(200);
    c.app
        .post(&format!("{}/markasread", path(&id)), &c.app.person())
        .await
        .assert_status(200);
    c.app.advance(Duration::days(7));
    c.app.run_jobs().await;
    assert!(c.print.submitted().is_empty());
    assert_eq!(
        trail(&c.app, &id).await,
        ["MOTTATT", "AKSEPTERT", "VARSLET", "LEST"]
    );
}

#[tokio::test]
async fn a_notice_held_for_the_sms_window_moves_the_deadline() {
    let c = chain().await;
    register(&c.app, |p| {
        p.krr = Some(KrrContact {
            mobile: Some("+4799999999".into()),
            ..KrrContact::default()
        })
    })
    .await;
    // 18:00 Oslo on Monday: the SMS waits for Tuesday 09:00, so print waits for Thursday 09:00.
    c.app.advance(Duration::hours(8));
    let mut l = letter(&[PERSON]);
    l["correspondence"]["notification"] = json!({
        "notificationTemplate": "CustomMessage",
        "notificationChannel": "Sms",
        "smsBody": "Du har fått post."
    });
    let id = c.app.send_ok(l).await.remove(0);
    c.app.run_jobs().await;
    assert!(c.app.sms().is_empty(), "held for the daytime window");
    // Tuesday 09:01 Oslo, inside the window (strictly after 09:00): the SMS goes.
    c.app.advance(Duration::hours(15) + Duration::minutes(1));
    c.app.run_jobs().await;
    assert_eq!(c.app.sms().len(), 1);
    // Wednesday 18:01, two business days after publication: not yet, the notice went later.
    c.app.advance(Duration::hours(33));
    c.app.run_jobs().await;
    assert!(
        c.print.submitted().is_empty(),
        "{:?}",
        trail(&c.app, &id).await
    );
    // Thursday 09:01 Oslo, two business days after the notice.
    c.app.advance(Duration::hours(15));
    c.app.run_jobs().await;
    assert_eq!(c.print.submitted().len(), 1);
}

#[tokio::test]
async fn a_reserved_person_is_accepted_and_gets_paper_at_once() {
    let c = chain().await;
    register(&c.app, |p| p.reserved = true).await;
    // Without the chain the lone reserved recipient would be refused (1030).
    let id = c.app.send_ok(notified_letter()).await.remove(0);
    c.app.run_jobs().await;
    assert_eq!(c.print.submitted().len(), 1);
    let a = c.app.get(&receipts_path(&id), &c.app.sender()).await;
    let events = a.json()["events"].clone();
    assert_eq!(events[1]["status"], "AKSEPTERT");
    assert_eq!(events[1]["details"]["route"], "print");
    assert_eq!(events[1]["details"]["facts"]["reserved"], true);
    assert!(c.app.emails().is_empty(), "no notice to a reserved person");
}

#[tokio::test]
async fn a_person_without_a_contact_point_or_address_is_not_delivered() {
    let c = chain().await;
    register(&c.app, |p| {
        p.krr = None;
        p.address = None;
    })
    .await;
    let id = c.app.send_ok(letter(&[PERSON])).await.remove(0);
    c.app.run_jobs().await;
    assert!(c.print.submitted().is_empty());
    assert_eq!(
        trail(&c.app, &id).await,
        ["MOTTATT", "AKSEPTERT", "IKKE_LEVERT"]
    );
}

#[tokio::test]
async fn a_digital_only_letter_is_never_printed() {
    let c = chain_with(ChainPolicy {
        digital_only: true,
        ..ChainPolicy::svarut()
    })
    .await;
    register(&c.app, |_| {}).await;
    let id = c.app.send_ok(notified_letter()).await.remove(0);
    c.app.run_jobs().await;
    c.app.advance(Duration::days(10));
    c.app.run_jobs().await;
    assert!(c.print.submitted().is_empty());
    assert_eq!(
        trail(&c.app, &id).await,
        ["MOTTATT", "AKSEPTERT", "VARSLET"]
    );

    // A reserved person under digital-only is refused as in Altinn (1030): no paper route.
    register(&c.app, |p| p.reserved = true).await;
    c.app
        .send(&c.app.sender(), notified_letter())
        .await
        .assert_problem(422, 1030);
}

#[tokio::test]
async fn a_digital_mailbox_delivery_is_never_printed() {
    let c = chain().await;
    register(&c.app, |p| {
        p.krr = Some(KrrContact {
            email: Some("ola@example.no".into()),
            mailbox_provider: Some("digipost".into()),
            mailbox_address: Some("ola.nordmann#1234".into()),
            ..KrrContact::default()
        })
    })
    .await;
    let id = c.app.send_ok(notified_letter()).await.remove(0);
    c.app.run_jobs().await;
    let sent = c.digipost.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].message.subject, "Vedtak om byggesøknad");
    assert_eq!(
        sent[0].message.recipient.mailbox_address.as_deref(),
        Some("ola.nordmann#1234")
    );
    c.app.advance(Duration::days(10));
    c.app.run_jobs().await;
    assert!(c.print.submitted().is_empty());
    let statuses = trail(&c.app, &id).await;
    assert!(
        statuses.ends_with(&["SENDT_SDP".into(), "LEVERT_SDP".into()])
            || statuses.contains(&"LEVERT_SDP".to_owned()),
        "{statuses:?}"
    );
    assert!(!statuses.contains(&"SENDT_PRINT".to_owned()));
}

#[tokio::test]
async fn a_refused_mailbox_delivery_falls_back_to_the_inbox_and_print() {
    let c = chain().await;
    register(&c.app, |p| {
        p.krr = Some(KrrContact {
            email: Some("ola@example.no".into()),
            mailbox_provider: Some("digipost".into()),
            ..KrrContact::default()
        })
    })
    .await;
    c.digipost.fail_next(melding_delivery::SendError::permanent(
        melding_delivery::PermanentKind::InvalidRecipient,
        "unknown mailbox",
    ));
    let id = c.app.send_ok(notified_letter()).await.remove(0);
    c.app.run_jobs().await;
    c.app.advance(Duration::days(2));
    c.app.run_jobs().await;
    assert_eq!(
        c.print.submitted().len(),
        1,
        "{:?}",
        trail(&c.app, &id).await
    );
}

#[tokio::test]
async fn read_elsewhere_and_an_operator_stop_the_print() {
    let c = chain().await;
    register(&c.app, |_| {}).await;
    let first = c.app.send_ok(notified_letter()).await.remove(0);
    let second = c.app.send_ok(notified_letter()).await.remove(0);
    c.app.run_jobs().await;

    // The sender's archive system says the first was read there.
    let report = json!({"system": "Kommunens arkiv"});
    let a = c
        .app
        .call(
            reqwest::Method::POST,
            &format!("{}/read-elsewhere", path(&first)),
            Some(&c.app.sender()),
            Some(report.clone()),
        )
        .await;
    a.assert_status(200);
    assert_eq!(a.json(), json!(true));
    // Only the sender may say so.
    c.app
        .call(
            reqwest::Method::POST,
            &format!("{}/read-elsewhere", path(&first)),
            Some(&c.app.other_sender()),
            Some(report.clone()),
        )
        .await
        .assert_problem(401, 4001);
    // A report without a system is a validation problem.
    c.app
        .call(
            reqwest::Method::POST,
            &format!("{}/read-elsewhere", path(&first)),
            Some(&c.app.sender()),
            Some(json!({})),
        )
        .await
        .assert_validation("System");

    // An operator stops the second.
    let stopped = melding_core::delivery::stop_print(
        c.app.store.as_ref(),
        c.app.now(),
        second.parse().unwrap(),
        "kari",
        "levert for hånd",
    )
    .await
    .unwrap();
    assert!(stopped);

    c.app.advance(Duration::days(5));
    c.app.run_jobs().await;
    assert!(c.print.submitted().is_empty());
    assert_eq!(trail(&c.app, &first).await.last().unwrap(), "LEST");
    assert_eq!(
        trail(&c.app, &second).await.last().unwrap(),
        "MANUELT_HANDTERT"
    );
    // Once stopped, a second stop is refused.
    assert!(
        !melding_core::delivery::stop_print(
            c.app.store.as_ref(),
            c.app.now(),
            second.parse().unwrap(),
            "kari",
            "igjen",
        )
        .await
        .unwrap()
    );
}

#[tokio::test]
async fn the_sender_queries_the_status_of_many_letters_at_once() {
    let c = chain().await;
    register(&c.app, |_| {}).await;
    let ids = c.app.send_ok(notified_letter()).await;
    let other = c.app.send_ok(notified_letter()).await;
    c.app.run_jobs().await;
    let mine = [ids[0].clone(), other[0].clone()];
    let query = |ids: Value| json!({ "correspondenceIds": ids });
    let a = c
        .app
        .call(
            reqwest::Method::POST,
            "/correspondence/api/v1/correspondence/receipts",
            Some(&c.app.sender()),
            Some(query(json!([mine[0], mine[1], mine[0]]))),
        )
        .await;
    a.assert_status(200);
    let answer = a.json();
    let answered = answer.as_array().unwrap();
    assert_eq!(answered.len(), 2, "{answered:?}");
    assert!(answered.iter().all(|s| s["status"] == "VARSLET"));
    // Another sender learns nothing of them.
    let a = c
        .app
        .call(
            reqwest::Method::POST,
            "/correspondence/api/v1/correspondence/receipts",
            Some(&c.app.other_sender()),
            Some(query(json!([mine[0]]))),
        )
        .await;
    assert_eq!(a.json(), json!([]));
    // No ids, and more than 1,000, are validation problems.
    for ids in [json!([]), json!(vec![mine[0].clone(); 1001])] {
        c.app
            .call(
                reqwest::Method::POST,
                "/correspondence/api/v1/correspondence/receipts",
                Some(&c.app.sender()),
                Some(query(ids)),
            )
            .await
            .assert_validation("CorrespondenceIds");
    }
}

#[tokio::test]
async fn without_the_chain_a_letter_stays_in_the_inbox() {
    let app = TestApp::spawn().await;
    register(&app, |_| {}).await;
    let id = app.send_ok(notified_letter()).await.remove(0);
    app.run_jobs().await;
    app.advance(Duration::days(5));
    app.run_jobs().await;
    assert_eq!(trail(&app, &id).await, ["MOTTATT"]);
    // The recipient reads the same trail.
    app.get(&receipts_path(&id), &app.person())
        .await
        .assert_status(200);
}

#[tokio::test]
async fn content_is_deleted_after_three_months_and_the_trail_stays() {
    let c = chain().await;
    register(&c.app, |_| {}).await;
    let id = c.app.send_ok(notified_letter()).await.remove(0);
    c.app.run_jobs().await;
    let published = c.app.now();
    // The recipient sees when the content goes: 2 June 2026, 10:00 Oslo (DST: 08:00 UTC).
    let a = c.app.get(&receipts_path(&id), &c.app.person()).await;
    a.assert_status(200);
    assert_eq!(
        a.json()["contentDeletionDue"],
        "2026-06-02T08:00:00.000000+00:00"
    );
    c.app
        .get(&path(&id), &c.app.person())
        .await
        .assert_status(200);
    c.app
        .post(&format!("{}/markasread", path(&id)), &c.app.person())
        .await
        .assert_status(200);

    // A minute before: still there.
    let due = chrono::DateTime::parse_from_rfc3339("2026-06-02T08:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    c.app.advance(due - published - Duration::minutes(1));
    c.app.run_jobs().await;
    let letter = c
        .app
        .store
        .correspondence(id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(letter.settings.content.title, "Vedtak om byggesøknad");

    // At the date: the content is gone, the recipient no longer sees the letter, and the
    // sender still reads its history and its receipt trail.
    c.app.advance(Duration::minutes(1));
    c.app.run_jobs().await;
    let letter = c
        .app
        .store
        .correspondence(id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(letter.settings.content.title, "");
    assert_eq!(letter.settings.content.body, "");
    let a = c.app.get(&receipts_path(&id), &c.app.sender()).await;
    assert_eq!(a.json()["status"], "SLETTET");
    let events = a.json()["events"].clone();
    let last = events.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last["text"],
        "Content and attachments deleted at the end of the retention period (3 months)."
    );
    assert_eq!(
        trail(&c.app, &id).await,
        ["MOTTATT", "AKSEPTERT", "VARSLET", "LEST", "SLETTET"]
    );
    // Nothing is printed from a deleted letter, and the job does not repeat the deletion.
    c.app.advance(Duration::days(30));
    c.app.run_jobs().await;
    assert!(c.print.submitted().is_empty());
    assert_eq!(trail(&c.app, &id).await.len(), 5);
    c.app
        .get(&path(&id), &c.app.person())
        .await
        .assert_problem(404, 1001);
}

#[tokio::test]
async fn a_protected_address_is_never_printed_and_waits_for_an_operator() {
    let c = chain().await;
    register(&c.app, |p| {
        p.reserved = true;
        if let Some(a) = p.address.as_mut() {
            a.protected = true;
        }
    })
    .await;
    let id = c.app.send_ok(notified_letter()).await.remove(0);
    c.app.run_jobs().await;
    c.app.advance(Duration::days(5));
    c.app.run_jobs().await;
    assert!(c.print.submitted().is_empty());
    let a = c.app.get(&receipts_path(&id), &c.app.sender()).await;
    assert_eq!(a.json()["events"][1]["details"]["route"], "operator");
    assert_eq!(
        a.json()["events"][1]["details"]["facts"]["protectedAddress"],
        true
    );
    assert_eq!(a.json()["status"], "TIL_MANUELL_HANDTERING");
    let queue = c.app.store.awaiting_operator(10).await.unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].0.to_string(), id);

    // The operator handles it by other means and takes it out of the queue.
    assert!(
        melding_core::delivery::stop_print(
            c.app.store.as_ref(),
            c.app.now(),
            id.parse().unwrap(),
            "kari",
            "sendt via Folkeregisterets adressetjeneste",
        )
        .await
        .unwrap()
    );
    assert!(c.app.store.awaiting_operator(10).await.unwrap().is_empty());
    assert_eq!(trail(&c.app, &id).await.last().unwrap(), "MANUELT_HANDTERT");
}

#[tokio::test]
async fn a_letter_marked_digital_only_is_never_printed() {
    let c = chain().await;
    register(&c.app, |p| p.krr = None).await;
    let mut l = letter(&[PERSON]);
    l["correspondence"]["digitalOnly"] = json!(true);
    let id = c.app.send_ok(l).await.remove(0);
    c.app.run_jobs().await;
    c.app.advance(Duration::days(5));
    c.app.run_jobs().await;
    assert!(c.print.submitted().is_empty());
    let a = c.app.get(&receipts_path(&id), &c.app.sender()).await;
    assert_eq!(
        a.json()["events"][1]["details"]["facts"]["digitalOnly"],
        true
    );
    assert_eq!(a.json()["status"], "IKKE_LEVERT");

    // The same letter without the flag goes on paper.
    let id = c.app.send_ok(letter(&[PERSON])).await.remove(0);
    c.app.run_jobs().await;
    assert_eq!(c.print.submitted().len(), 1);
    assert_eq!(c.print.submitted()[0].order.reference.as_str(), id);

    // A reserved person cannot get a digital-only letter: refused as in Altinn (1030).
    register(&c.app, |p| p.reserved = true).await;
    let mut l = letter(&[PERSON]);
    l["correspondence"]["digitalOnly"] = json!(true);
    c.app
        .send(&c.app.sender(), l)
        .await
        .assert_problem(422, 1030);
}
