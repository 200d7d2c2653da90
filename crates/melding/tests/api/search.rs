//! Search: roles, filters, ordering and cursor paging.

use chrono::Duration;
use serde_json::{Value, json};

use crate::support::*;

fn ids(v: &Value) -> Vec<String> {
    v["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap().to_owned())
        .collect()
}

async fn send_at(app: &TestApp, offset_min: i64, reference: &str) -> String {
    let mut b = letter(&[PERSON]);
    b["correspondence"]["requestedPublishTime"] =
        json!((app.now() + Duration::minutes(offset_min)).to_rfc3339());
    b["correspondence"]["sendersReference"] = json!(reference);
    app.send_ok(b).await.remove(0)
}

#[tokio::test]
async fn newest_first_with_filters_and_cursor_paging() {
    let app = TestApp::spawn().await;
    let a = send_at(&app, 1, "a").await;
    let b = send_at(&app, 2, "b").await;
    let c = send_at(&app, 3, "c").await;
    app.advance(Duration::minutes(5));
    app.run_jobs().await;
    let base =
        format!("/correspondence/api/v1/correspondence?resourceId={RESOURCE}&role=Recipient");
    assert_eq!(
        ids(&app.get(&base, &app.person()).await.json()),
        [c.as_str(), b.as_str(), a.as_str()]
    );

    // Page through two at a time.
    let first = app
        .get(&format!("{base}&limit=2"), &app.person())
        .await
        .json();
    assert_eq!(ids(&first), [c.as_str(), b.as_str()]);
    let cursor = first["nextCursor"].as_str().unwrap();
    let second = app
        .get(&format!("{base}&limit=2&cursor={cursor}"), &app.person())
        .await
        .json();
    assert_eq!(ids(&second), [a.as_str()]);
    assert!(second.get("nextCursor").is_none());

    // from/to are exclusive bounds on the requested publish time.
    let from = (app.now() - Duration::minutes(5) + Duration::minutes(1)).to_rfc3339();
    let to = (app.now() - Duration::minutes(5) + Duration::minutes(3)).to_rfc3339();
    let q = format!("{base}&from={}&to={}", urlencode(&from), urlencode(&to));
    assert_eq!(ids(&app.get(&q, &app.person()).await.json()), [b.as_str()]);

    assert_eq!(
        ids(&app
            .get(&format!("{base}&sendersReference=a"), &app.person())
            .await
            .json()),
        [a.as_str()]
    );

    // Status means "has ever had".
    app.get(&path(&b), &app.person()).await.assert_status(200);
    app.post(&format!("{}/markasread", path(&b)), &app.person())
        .await
        .assert_status(200);
    assert_eq!(
        ids(&app
            .get(&format!("{base}&status=Read"), &app.person())
            .await
            .json()),
        [b.as_str()]
    );
    assert_eq!(
        ids(&app
            .get(&format!("{base}&status=4"), &app.person())
            .await
            .json()),
        [b.as_str()]
    );
    assert!(
        ids(&app
            .get(&format!("{base}&status=ReadyForPublish"), &app.person())
            .await
            .json())
        .is_empty()
    );
    assert_eq!(
        ids(&app
            .get(&format!("{base}&status=Published"), &app.person())
            .await
            .json())
        .len(),
        3
    );
}

#[tokio::test]
async fn the_sender_role_lists_unpublished_letters_too() {
    let app = TestApp::spawn().await;
    let later = send_at(&app, 60, "later").await;
    let base = format!("/correspondence/api/v1/correspondence?resourceId={RESOURCE}");
    assert_eq!(
        ids(&app
            .get(&format!("{base}&role=Sender"), &app.sender())
            .await
            .json()),
        [later.as_str()]
    );
    assert_eq!(
        ids(&app
            .get(&format!("{base}&role=1"), &app.sender())
            .await
            .json()),
        [later.as_str()]
    );
    assert!(
        ids(&app
            .get(&format!("{base}&role=Recipient"), &app.person())
            .await
            .json())
        .is_empty()
    );
    assert_eq!(
        ids(&app
            .get(
                &format!("{base}&role=RecipientAndSender&onBehalfOf=0192:{SENDER}"),
                &app.sender()
            )
            .await
            .json()),
        [later.as_str()]
    );
}

#[tokio::test]
async fn a_resource_urn_searches_the_resource() {
    let app = TestApp::spawn().await;
    let id = send_at(&app, 60, "urn").await;
    let search = |resource: &str| {
        format!(
            "/correspondence/api/v1/correspondence?resourceId={}&role=Sender",
            urlencode(resource)
        )
    };
    assert_eq!(
        ids(&app
            .get(
                &search(&format!("urn:altinn:resource:{RESOURCE}")),
                &app.sender()
            )
            .await
            .json()),
        [id.as_str()]
    );
    // No resource has an id with a ':' after the prefix: no access, as for an unknown one.
    app.get(
        &search(&format!("urn:altinn:resource:{RESOURCE}:x")),
        &app.sender(),
    )
    .await
    .assert_problem(401, 4001);
    app.get(&search("unknown"), &app.sender())
        .await
        .assert_problem(401, 4001);
}

#[tokio::test]
async fn organisations_search_their_own_post() {
    let app = TestApp::spawn().await;
    let id = app.send_ok(letter(&[RECIPIENT_ORG])).await.remove(0);
    app.run_jobs().await;
    let token = app.token(&org(RECIPIENT_ORG), READ);
    let q = format!(
        "/correspondence/api/v1/correspondence?resourceId={RESOURCE}&role=recipient&onBehalfOf=urn:altinn:organization:identifier-no:{RECIPIENT_ORG}"
    );
    assert_eq!(ids(&app.get(&q, &token).await.json()), [id.as_str()]);
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}
