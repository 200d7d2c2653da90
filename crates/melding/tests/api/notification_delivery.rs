//! Notifications through the node: orders of a published letter are processed and handed to
//! the (capturing) e-mail and SMS channels (reference §8, `delivery-chain.md` §1).

use crate::support::*;

/// A published letter's e-mail and SMS orders leave through the node's channels, from the
/// configured address and sender id, once each.
#[tokio::test]
async fn a_published_letters_orders_are_sent_through_the_nodes_channels() {
    let app = TestApp::spawn().await;
    app.letter_with_orders(&[
        OrderSpec::email("kari@example.no"),
        OrderSpec::sms("+4791234567"),
    ])
    .await;
    assert!(app.emails().is_empty() && app.sms().is_empty());
    app.run_jobs().await;
    let emails = app.emails();
    assert_eq!(emails.len(), 1, "{emails:?}");
    assert_eq!(emails[0].message.to.as_str(), "kari@example.no");
    assert_eq!(emails[0].message.from.as_str(), NOTIFICATION_FROM);
    assert_eq!(emails[0].message.subject, "Ny melding");
    let sms = app.sms();
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert_eq!(sms[0].message.to.as_str(), "+4791234567");
    assert_eq!(sms[0].message.sender.as_str(), SMS_SENDER);
    // Running again sends nothing more.
    app.run_jobs().await;
    assert_eq!((app.emails().len(), app.sms().len()), (1, 1));
}

fn check(id: &str, main: bool) -> String {
    let tail = if main { "/check/main" } else { "/check" };
    format!("{}/notification{tail}", path(id))
}

/// Reference §4.13: `{"sendNotification": bool}`, always 200; the main notice ignores Read, the
/// reminder does not; an unknown letter is false; the route needs the condition-check scope.
#[tokio::test]
async fn the_condition_endpoints_answer_as_altinn_notifications_expects() {
    let app = TestApp::spawn().await;
    let checker = app.token(&org(SENDER), CONDITION_CHECK);
    let id = app.send_ok(letter(&[PERSON])).await.remove(0);
    // Not yet published: neither.
    for main in [true, false] {
        let a = app.get(&check(&id, main), &checker).await;
        a.assert_status(200);
        assert_eq!(a.json(), serde_json::json!({"sendNotification": false}));
    }
    app.run_jobs().await;
    for main in [true, false] {
        let a = app.get(&check(&id, main), &checker).await;
        assert_eq!(a.json()["sendNotification"], true, "main={main}");
    }
    // Fetched and read: the reminder stops, the main notice does not.
    app.get(&path(&id), &app.person()).await.assert_status(200);
    app.post(&format!("{}/markasread", path(&id)), &app.person())
        .await
        .assert_status(200);
    assert_eq!(
        app.get(&check(&id, true), &checker).await.json()["sendNotification"],
        true
    );
    assert_eq!(
        app.get(&check(&id, false), &checker).await.json()["sendNotification"],
        false
    );
    // Unknown and malformed ids: false, 200.
    for unknown in ["0194c2a0-5c00-7000-8000-000000000099", "not-a-guid"] {
        let a = app.get(&check(unknown, true), &checker).await;
        a.assert_status(200);
        assert_eq!(a.json()["sendNotification"], false);
    }
    // A sender's token without the scope: 403.
    let a = app.get(&check(&id, true), &app.sender()).await;
    assert_eq!(a.status, 403);
}

async fn post_reports(
    app: &TestApp,
    auth: Option<(&str, &str)>,
    body: serde_json::Value,
) -> Answer {
    let mut req = app
        .client
        .post(format!(
            "{}/notifications/api/v1/sms/delivery-reports",
            app.base
        ))
        .json(&body);
    if let Some((u, p)) = auth {
        req = req.basic_auth(u, Some(p));
    }
    Answer::read(req.send().await.unwrap()).await
}

/// `delivery-chain.md` §1.13/§7.2: a report for a sent SMS moves it to Delivered (and the
/// order to Completed); an unknown reference is kept; wrong or no credentials are 401.
#[tokio::test]
async fn sms_delivery_reports_move_the_sms_to_delivered_and_keep_unknown_ones() {
    let app = TestApp::spawn().await;
    let id = app
        .letter_with_orders(&[OrderSpec::sms("+4791234567")])
        .await;
    app.run_jobs().await;
    let sms = app.sms();
    assert_eq!(sms.len(), 1);
    let reference = sms[0].gateway_reference.clone();
    let report = serde_json::json!([
        {"gatewayReference": reference, "to": "+4791234567", "status": "DELIVRD"},
        {"gatewayReference": "ukjent-42", "status": "DELIVRD"}
    ]);
    for wrong in [
        None,
        Some((SMS_REPORTS_USER, "feil")),
        Some(("andre", SMS_REPORTS_PASSWORD)),
    ] {
        let a = post_reports(&app, wrong, report.clone()).await;
        assert_eq!(a.status, 401, "{wrong:?}");
        let challenge = a.headers["www-authenticate"].to_str().unwrap();
        assert!(challenge.starts_with("Basic"), "{challenge}");
    }
    let a = post_reports(&app, Some((SMS_REPORTS_USER, SMS_REPORTS_PASSWORD)), report).await;
    a.assert_status(200);
    assert_eq!(a.json(), serde_json::json!({"matched": 1, "unmatched": 1}));

    let letter_id = id.parse().unwrap();
    let notifications = app.store.notifications_of(letter_id).await.unwrap();
    assert_eq!(notifications.len(), 1);
    assert_eq!(
        notifications[0].status,
        melding_domain::notification::NotificationStatus::Delivered
    );
    assert_eq!(notifications[0].delivered, Some(app.now()));
    let orders = app.store.notification_orders(letter_id).await.unwrap();
    assert_eq!(
        orders[0].order.status,
        melding_domain::notification::OrderStatus::Completed
    );
    let kept = app.store.unmatched_reports(10).await.unwrap();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(kept[0].body.contains("ukjent-42"), "{}", kept[0].body);

    // A body that is no report: 400, and kept.
    let a = post_reports(
        &app,
        Some((SMS_REPORTS_USER, SMS_REPORTS_PASSWORD)),
        serde_json::json!({"status": "DELIVRD"}),
    )
    .await;
    assert_eq!(a.status, 400, "{}", a.text);
    assert_eq!(app.store.unmatched_reports(10).await.unwrap().len(), 2);
}

/// Reference §4.3/4.4: the overview lists each order as `{notificationOrderId, isReminder}`;
/// the details list them with their processing status and each notification's send status,
/// orders not yet processed included.
#[tokio::test]
async fn overview_and_details_list_the_orders_and_their_notifications() {
    let app = TestApp::spawn().await;
    let id = app
        .letter_with_orders(&[
            OrderSpec::email("kari@example.no"),
            OrderSpec::email("kari@example.no").reminder(),
        ])
        .await;
    app.run_jobs().await;
    let overview = app.get(&path(&id), &app.sender()).await;
    overview.assert_status(200);
    let list = overview.json()["notifications"].as_array().unwrap().clone();
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(list[0]["isReminder"], false);
    assert_eq!(list[1]["isReminder"], true);
    assert!(list[0]["notificationOrderId"].as_str().is_some());
    assert_eq!(list[0].as_object().unwrap().len(), 2, "{:?}", list[0]);

    let details = app
        .get(&format!("{}/details", path(&id)), &app.sender())
        .await;
    details.assert_status(200);
    let list = details.json()["notifications"].as_array().unwrap().clone();
    assert_eq!(list.len(), 2, "{list:?}");
    let main = &list[0];
    assert_eq!(
        main["notificationOrderId"],
        overview.json()["notifications"][0]["notificationOrderId"]
    );
    // Email_Succeeded is not final (a bounce may follow), so the order stays Processed.
    assert_eq!(main["processingStatus"]["status"], "Order_Processed");
    assert_eq!(main["notificationChannel"], "Email");
    assert_eq!(main["sendersReference"], "corr-sak-2026-1");
    let email = &main["notificationStatusDetails"]["email"];
    assert_eq!(email["sendStatus"]["status"], "Email_Succeeded");
    assert_eq!(email["succeeded"], true);
    assert_eq!(email["recipient"]["emailAddress"], "kari@example.no");
    assert_eq!(
        main["notificationStatusDetails"]["emails"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(main["notificationStatusDetails"]["sms"].is_null());
    // The reminder is due in 7 days: registered, nothing sent yet.
    let reminder = &list[1];
    assert_eq!(reminder["isReminder"], true);
    assert_eq!(reminder["processingStatus"]["status"], "Order_Registered");
    assert!(
        reminder["notificationStatusDetails"]["emails"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}
