//! Self-identified recipients (reference §5.1, §5.2): ID-porten e-mail users
//! (`urn:altinn:person:idporten-email:…`) and legacy Altinn 2 users
//! (`urn:altinn:person:legacy-selfidentified:…`) are checked against the registry like persons
//! and organisations (1029 when unknown), receive their letters, and read them with a token that
//! names them in its `c` claim.

use melding_domain::{Party, SelfIdentified};
use melding_store::{RegistryBatch, SelfIdentifiedUser};
use serde_json::json;

use crate::support::*;

const API: &str = "/correspondence/api/v1";
const KARI: &str = "urn:altinn:person:idporten-email:kari@example.no";
const OLA: &str = "urn:altinn:person:legacy-selfidentified:ola77";

fn user(urn: &str) -> SelfIdentified {
    SelfIdentified::from_urn(urn).unwrap().unwrap()
}

/// Kari (e-mail login) and Ola (legacy user name) in the registry.
async fn register(app: &TestApp) {
    app.store
        .upsert_registry(&RegistryBatch {
            self_identified_users: vec![
                SelfIdentifiedUser {
                    user: user(KARI),
                    name: "Kari Nordmann".into(),
                },
                SelfIdentifiedUser {
                    user: user(OLA),
                    name: "Ola Selvregistrert".into(),
                },
            ],
            ..RegistryBatch::default()
        })
        .await
        .unwrap();
}

fn letter_to(recipients: &[&str]) -> serde_json::Value {
    let mut l = letter(&[]);
    l["recipients"] = json!(recipients);
    l
}

fn reader(app: &TestApp, urn: &str) -> String {
    app.token(&Party::SelfIdentified(user(urn)), READ)
}

#[tokio::test]
async fn an_unknown_self_identified_recipient_is_1029() {
    let app = TestApp::spawn().await;
    register(&app).await;
    let stranger = "urn:altinn:person:idporten-email:ukjent@example.no";
    let legacy_stranger = "urn:altinn:person:legacy-selfidentified:ukjent";
    for recipients in [vec![stranger], vec![legacy_stranger]] {
        let a = app.send(&app.sender(), letter_to(&recipients)).await;
        a.assert_problem(404, 1029);
        assert!(a.json()["detail"].as_str().unwrap().contains(recipients[0]));
    }
    // Among known recipients, only the unknown ones are named.
    let person = format!("urn:altinn:person:identifier-no:{PERSON}");
    let a = app
        .send(
            &app.sender(),
            letter_to(&[KARI, stranger, &person, legacy_stranger, OLA]),
        )
        .await;
    a.assert_problem(404, 1029);
    let detail = a.json()["detail"].as_str().unwrap().to_owned();
    for unknown in [stranger, legacy_stranger] {
        assert!(detail.contains(unknown), "{detail}");
    }
    for known in [KARI, OLA, person.as_str()] {
        assert!(!detail.contains(known), "{detail}");
    }
}

#[tokio::test]
async fn a_self_identified_user_receives_and_reads_their_letter() {
    let app = TestApp::spawn().await;
    register(&app).await;
    let mut l = letter_to(&["urn:altinn:person:idporten-email:Kari@Example.no", OLA]);
    l["correspondence"]["content"]["messageTitle"] = json!("Til {{recipientName}}");
    let a = app.send(&app.sender(), l).await;
    a.assert_status(200);
    let sent = a.json()["correspondences"].as_array().unwrap().clone();
    assert_eq!(sent[0]["recipient"], KARI);
    assert_eq!(sent[1]["recipient"], OLA);
    let kari_letter = sent[0]["correspondenceId"].as_str().unwrap().to_owned();
    let ola_letter = sent[1]["correspondenceId"].as_str().unwrap().to_owned();
    app.run_jobs().await;

    // Kari lists, opens, reads and confirms her letter with her own token.
    let kari = reader(&app, KARI);
    let found = app
        .get(
            &format!("{API}/correspondence?resourceId={RESOURCE}&role=Recipient"),
            &kari,
        )
        .await;
    found.assert_status(200);
    assert_eq!(found.json()["ids"], json!([kari_letter]));
    let overview = app.get(&path(&kari_letter), &kari).await;
    overview.assert_status(200);
    let o = overview.json();
    assert_eq!(o["recipient"], KARI);
    assert_eq!(o["content"]["messageTitle"], "Til Kari Nordmann");
    app.post(&format!("{}/markasread", path(&kari_letter)), &kari)
        .await
        .assert_status(200);
    let details = app
        .get(&format!("{}/details", path(&kari_letter)), &app.sender())
        .await
        .json();
    assert_eq!(history_count(&details, "Fetched"), 1);
    assert_eq!(history_count(&details, "Read"), 1);

    // Ola reads his own, and neither reads the other's; nor does a person.
    let ola = reader(&app, OLA);
    app.get(&path(&ola_letter), &ola).await.assert_status(200);
    app.get(&path(&kari_letter), &ola)
        .await
        .assert_problem(401, 4001);
    app.get(&path(&ola_letter), &kari)
        .await
        .assert_problem(401, 4001);
    app.get(&path(&kari_letter), &app.person())
        .await
        .assert_problem(401, 4001);

    // The caller's own party, with the registered name.
    let parties = app.get("/melding/api/v1/authorizedparties", &kari).await;
    parties.assert_status(200);
    assert_eq!(parties.json()[0]["party"], KARI);
    assert_eq!(parties.json()[0]["name"], "Kari Nordmann");
}
