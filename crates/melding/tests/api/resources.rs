//! What a resource's type and minimum authentication level allow (reference §4.1, §4.14): letters
//! only with correspondence services (4010), shared attachments with correspondence services and
//! generic access resources (4009), forwarding only at level 0 (1068), and each check in the
//! reference's order, after the unknown resource (1036) and no access (4001).

use melding_domain::{OrgNumber, ResourceType};
use melding_store::{RegistryBatch, Resource};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::*;

const API: &str = "/correspondence/api/v1";

/// Registers a resource of the sender's with this type and level, named after them.
async fn register(app: &TestApp, id: &str, resource_type: ResourceType, level: u8) {
    register_owned(app, id, SENDER, resource_type, level).await;
}

async fn register_owned(
    app: &TestApp,
    id: &str,
    owner: &str,
    resource_type: ResourceType,
    level: u8,
) {
    app.store
        .upsert_registry(&RegistryBatch {
            resources: vec![Resource {
                id: id.into(),
                owner: OrgNumber::parse(owner).unwrap(),
                service_owner_code: "digdir".into(),
                title: format!("Ressurs {id}"),
                confidential: false,
                read_policy: vec![],
                resource_type,
                minimum_authentication_level: level,
            }],
            ..RegistryBatch::default()
        })
        .await
        .unwrap();
}

fn letter_with(resource: &str) -> Value {
    let mut l = letter(&[PERSON]);
    l["correspondence"]["resourceId"] = json!(resource);
    l
}

async fn init_attachment(app: &TestApp, resource: &str) -> Answer {
    app.call(
        Method::POST,
        &format!("{API}/attachment"),
        Some(&app.sender()),
        Some(json!({
            "resourceId": resource,
            "fileName": "vedlegg.pdf",
            "sendersReference": "vedlegg-1"
        })),
    )
    .await
}

#[tokio::test]
async fn letters_are_sent_only_with_correspondence_services() {
    let app = TestApp::spawn().await;
    register(&app, "tjeneste", ResourceType::CorrespondenceService, 0).await;
    register(&app, "tilgang", ResourceType::GenericAccessResource, 0).await;
    register(&app, "formidling", ResourceType::BrokerService, 0).await;
    register(&app, "app", ResourceType::AltinnApp, 0).await;

    app.send(&app.sender(), letter_with("tjeneste"))
        .await
        .assert_status(200);
    for resource in ["tilgang", "formidling", "app"] {
        app.send(&app.sender(), letter_with(resource))
            .await
            .assert_problem(400, 4010);
    }
    // The same through the multipart endpoint.
    let form = reqwest::multipart::Form::new()
        .text("Correspondence.ResourceId", "formidling")
        .text("Correspondence.SendersReference", "sak-1")
        .text("Correspondence.Content.MessageTitle", "Vedtak")
        .text("Correspondence.Content.MessageBody", "Tekst")
        .text(
            "Recipients[0]",
            format!("urn:altinn:person:identifier-no:{PERSON}"),
        );
    app.send_form(&app.sender(), form)
        .await
        .assert_problem(400, 4010);

    // An Altinn app may send a transmission (a letter into a dialog), and the confidentiality
    // match is skipped for it: neither 4010 nor 1061.
    let dialog = app.send_ok(letter_with("tjeneste")).await.remove(0);
    let mut l = letter_with("app");
    l["correspondence"]["isConfidential"] = json!(true);
    l["correspondence"]["externalReferences"] = json!([{
        "referenceType": "DialogportenDialogId",
        "referenceValue": dialog
    }]);
    app.send(&app.sender(), l).await.assert_status(200);
}

#[tokio::test]
async fn attachments_belong_to_correspondence_services_and_generic_access_resources() {
    let app = TestApp::spawn().await;
    register(&app, "tjeneste", ResourceType::CorrespondenceService, 0).await;
    register(&app, "tilgang", ResourceType::GenericAccessResource, 0).await;
    register(&app, "formidling", ResourceType::BrokerService, 0).await;
    register(&app, "app", ResourceType::AltinnApp, 0).await;

    for resource in ["tjeneste", "tilgang"] {
        let a = init_attachment(&app, resource).await;
        a.assert_status(200);
        assert!(a.json().as_str().is_some(), "an attachment id: {}", a.text);
    }
    for resource in ["formidling", "app"] {
        init_attachment(&app, resource)
            .await
            .assert_problem(400, 4009);
    }
}

#[tokio::test]
async fn forwarding_needs_a_resource_without_an_authentication_level() {
    let app = TestApp::spawn().await;
    register(&app, "niva0", ResourceType::CorrespondenceService, 0).await;
    register(&app, "niva3", ResourceType::CorrespondenceService, 3).await;

    let forwarding = |resource: &str| {
        let mut l = letter_with(resource);
        l["correspondence"]["allowForwarding"] = json!(true);
        l
    };
    app.send(&app.sender(), forwarding("niva0"))
        .await
        .assert_status(200);
    app.send(&app.sender(), forwarding("niva3"))
        .await
        .assert_problem(400, 1068);
    // Without forwarding, the level is no hindrance.
    app.send(&app.sender(), letter_with("niva3"))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn resource_checks_come_in_the_reference_order() {
    // 1036 → 4001 → 4010 → 1060/1061 → 1068 → 1006 (reference §4.1); 1036 → 4001 → 4009 for
    // attachments (§4.14).
    let app = TestApp::spawn().await;
    register_owned(&app, "annens", OTHER_SENDER, ResourceType::BrokerService, 3).await;
    register(&app, "formidling", ResourceType::BrokerService, 3).await;
    register(&app, "niva3", ResourceType::CorrespondenceService, 3).await;

    let worst = |resource: &str| {
        let mut l = letter(&[PERSON]);
        l["correspondence"]["resourceId"] = json!(resource);
        l["correspondence"]["allowForwarding"] = json!(true);
        l["correspondence"]["isConfidential"] = json!(true);
        l["recipients"] = json!([PERSON, PERSON]);
        l
    };
    // An unknown resource before everything else.
    app.send(&app.sender(), worst("finnes-ikke"))
        .await
        .assert_problem(400, 1036);
    init_attachment(&app, "finnes-ikke")
        .await
        .assert_problem(400, 1036);
    // Another owner's broker service: no access before the type.
    app.send(&app.sender(), worst("annens"))
        .await
        .assert_problem(401, 4001);
    init_attachment(&app, "annens")
        .await
        .assert_problem(401, 4001);
    // The type before confidentiality, forwarding and the recipients.
    app.send(&app.sender(), worst("formidling"))
        .await
        .assert_problem(400, 4010);
    // Confidentiality before the authentication level.
    app.send(&app.sender(), worst("niva3"))
        .await
        .assert_problem(400, 1061);
    // The authentication level before duplicate recipients.
    let mut l = worst("niva3");
    l["correspondence"]["isConfidential"] = json!(false);
    app.send(&app.sender(), l).await.assert_problem(400, 1068);
}
