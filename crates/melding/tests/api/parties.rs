//! Who may read an organisation's post: the authorization matrix over every recipient endpoint,
//! delegation through the API with its log, and KRR reservation.

use melding_domain::authz::{CONFIDENTIAL_POST, ORDINARY_POST};
use melding_domain::{NationalId, OrgNumber};
use melding_store::{Organization, Person, RegistryBatch, RoleAssignment};
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::support::*;

const API: &str = "/correspondence/api/v1";

/// The `n`th valid national identity number born 1 January 1990 (distinct for distinct `n`).
fn fnr(n: u32) -> String {
    for individual in (n * 10 + 500)..(n * 10 + 510) {
        for control in 0..100 {
            let s = format!("010190{individual:03}{control:02}");
            if NationalId::parse(&s).is_ok() {
                return s;
            }
        }
    }
    panic!("no national identity number near {n}");
}

/// The `n`th valid organisation number starting 92 (distinct for distinct `n`).
fn orgnr(n: u32) -> String {
    for base in (n * 11)..(n * 11 + 11) {
        for check in 0..10 {
            let s = format!("92{:06}{check}", 100_000 + base);
            if OrgNumber::parse(&s).is_ok() {
                return s;
            }
        }
    }
    panic!("no organisation number near {n}");
}

struct World {
    dagl: String,
    lede: String,
    employee: String,
    confidential_clerk: String,
    sub_unit: String,
}

/// Persons with roles in the recipient organisation, and a sub-unit of it.
async fn world(app: &TestApp) -> World {
    let w = World {
        dagl: fnr(1),
        lede: fnr(2),
        employee: fnr(3),
        confidential_clerk: fnr(4),
        sub_unit: orgnr(1),
    };
    let person = |id: &str, name: &str| Person::new(NationalId::parse(id).unwrap(), name);
    let role = |org: &str, id: &str, role: &str| RoleAssignment {
        org: OrgNumber::parse(org).unwrap(),
        person: NationalId::parse(id).unwrap(),
        role: role.into(),
    };
    let mut sub = Organization::new(
        OrgNumber::parse(&w.sub_unit).unwrap(),
        "BYGG OG ANLEGG AS AVD BERGEN",
    );
    sub.parent = Some(OrgNumber::parse(RECIPIENT_ORG).unwrap());
    app.store
        .upsert_registry(&RegistryBatch {
            organizations: vec![sub],
            persons: vec![
                person(&w.dagl, "Dag Leder"),
                person(&w.lede, "Styre Leder"),
                person(&w.employee, "Ansatt Uten Tilgang"),
                person(&w.confidential_clerk, "Fortrolig Mottaker"),
            ],
            resources: vec![],
            roles: vec![
                role(RECIPIENT_ORG, &w.dagl, "DAGL"),
                role(RECIPIENT_ORG, &w.lede, "LEDE"),
                role(RECIPIENT_ORG, &w.employee, "MEDL"),
            ],
            self_identified_users: vec![],
        })
        .await
        .unwrap();
    w
}

fn org_urn(n: &str) -> String {
    format!("urn:altinn:organization:identifier-no:{n}")
}

/// A letter with one attachment to `recipient` (an org number) on `resource`, published.
async fn letter_to(app: &TestApp, recipient: &str, resource: &str, confidential: bool) -> String {
    let form = Form::new()
        .text("Correspondence.ResourceId", resource.to_owned())
        .text("Correspondence.SendersReference", "matrise")
        .text(
            "Correspondence.Content.MessageTitle",
            "Brev til virksomheten",
        )
        .text("Correspondence.Content.MessageBody", "Innhold")
        .text("Correspondence.IsConfidential", confidential.to_string())
        .text(
            "Correspondence.Content.Attachments[0].FileName",
            "vedlegg.pdf",
        )
        .text(
            "Correspondence.Content.Attachments[0].SendersReference",
            "v",
        )
        .text("Recipients[0]", org_urn(recipient))
        .part(
            "attachments",
            Part::bytes(vec![1, 2, 3]).file_name("vedlegg.pdf"),
        );
    let a = app.send_form(&app.sender(), form).await;
    a.assert_status(200);
    app.run_jobs().await;
    a.json()["correspondences"][0]["correspondenceId"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Every recipient endpoint for `id`, as `token`: all succeed, or all refuse with 401/4001 and
/// nothing of the letter. Purge comes last.
async fn assert_cell(
    app: &TestApp,
    token: &str,
    id: &str,
    recipient: &str,
    resource: &str,
    allowed: bool,
    cell: &str,
) {
    let attachment = {
        let links = app.store.attachments_of(id.parse().unwrap()).await.unwrap();
        links[0].attachment.id.to_string()
    };
    let calls: Vec<(Method, String)> = vec![
        (Method::GET, path(id)),
        (Method::GET, format!("{}/details", path(id))),
        (Method::POST, format!("{}/markasread", path(id))),
        (Method::POST, format!("{}/confirm", path(id))),
        (Method::GET, format!("{}/content", path(id))),
        (
            Method::GET,
            format!("{}/attachment/{attachment}/download", path(id)),
        ),
        (Method::GET, format!("{}/attachments/downloadall", path(id))),
        (Method::DELETE, format!("{}/purge", path(id))),
    ];
    let search = format!(
        "{API}/correspondence?resourceId={resource}&role=recipient&onBehalfOf={}",
        org_urn(recipient)
    );
    if allowed {
        let found = app.get(&search, token).await;
        found.assert_status(200);
        assert!(
            found.text.contains(id),
            "{cell}: search should list the letter"
        );
    } else {
        app.get(&search, token).await.assert_problem(401, 4001);
    }
    for (method, p) in calls {
        let a = app.call(method.clone(), &p, Some(token), None).await;
        if allowed {
            assert_eq!(a.status, 200, "{cell}: {method} {p}: {}", a.text);
        } else {
            a.assert_problem(401, 4001);
            assert!(
                !a.text.contains("Brev til"),
                "{cell}: {p} leaked the letter"
            );
        }
    }
}

#[tokio::test]
async fn the_authorization_matrix_holds_for_every_recipient_endpoint() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let t = |id: &str| app.token(&person(id), READ);

    // The person themself, and another person, on a person's letter.
    let own = app
        .send_form(&app.sender(), {
            Form::new()
                .text("Correspondence.ResourceId", RESOURCE)
                .text("Correspondence.SendersReference", "x")
                .text("Correspondence.Content.MessageTitle", "Brev til person")
                .text("Correspondence.Content.MessageBody", "Innhold")
                .text("Correspondence.Content.Attachments[0].FileName", "a.pdf")
                .text(
                    "Correspondence.Content.Attachments[0].SendersReference",
                    "v",
                )
                .text(
                    "Recipients[0]",
                    format!("urn:altinn:person:identifier-no:{PERSON}"),
                )
                .part("attachments", Part::bytes(vec![9]).file_name("a.pdf"))
        })
        .await
        .json()["correspondences"][0]["correspondenceId"]
        .as_str()
        .unwrap()
        .to_owned();
    app.run_jobs().await;
    // Another person may not search on the first one's behalf or open the letter.
    let other_search = format!(
        "{API}/correspondence?resourceId={RESOURCE}&role=recipient&onBehalfOf=urn:altinn:person:identifier-no:{PERSON}"
    );
    app.get(&other_search, &app.other_person())
        .await
        .assert_problem(401, 4001);
    for p in [
        path(&own),
        format!("{}/details", path(&own)),
        format!("{}/content", path(&own)),
    ] {
        app.get(&p, &app.other_person())
            .await
            .assert_problem(401, 4001);
    }
    let mine = app
        .get(
            &format!("{API}/correspondence?resourceId={RESOURCE}&role=recipient"),
            &app.person(),
        )
        .await;
    assert!(mine.text.contains(&own));
    app.get(&path(&own), &app.person()).await.assert_status(200);

    // Organisation letters.
    let cells: Vec<(&str, String, bool)> = vec![
        ("DAGL", w.dagl.clone(), true),
        ("LEDE", w.lede.clone(), true),
        ("employee without access", w.employee.clone(), false),
        ("a stranger", OTHER_PERSON.to_owned(), false),
    ];
    for (cell, who, allowed) in &cells {
        let id = letter_to(&app, RECIPIENT_ORG, RESOURCE, false).await;
        assert_cell(&app, &t(who), &id, RECIPIENT_ORG, RESOURCE, *allowed, cell).await;
    }

    // The employee gets ordinary post from the general manager: effective on the next request.
    let dagl = t(&w.dagl);
    let grant = |token: String, who: String, right: &'static str| {
        let app = &app;
        async move {
            app.call(
                Method::POST,
                &format!("/melding/api/v1/organizations/{RECIPIENT_ORG}/delegations"),
                Some(&token),
                Some(json!({"nationalId": who, "right": right})),
            )
            .await
        }
    };
    let g = grant(dagl.clone(), w.employee.clone(), ORDINARY_POST).await;
    g.assert_status(200);
    assert_eq!(g.json()["changed"], true);
    assert_eq!(
        grant(dagl.clone(), w.employee.clone(), ORDINARY_POST)
            .await
            .json()["changed"],
        false
    );
    let id = letter_to(&app, RECIPIENT_ORG, RESOURCE, false).await;
    assert_cell(
        &app,
        &t(&w.employee),
        &id,
        RECIPIENT_ORG,
        RESOURCE,
        true,
        "delegated",
    )
    .await;

    // Revoked: refused again on the very next request.
    let revoke = format!(
        "/melding/api/v1/organizations/{RECIPIENT_ORG}/delegations/{}?right={ORDINARY_POST}",
        w.employee
    );
    let r = app.call(Method::DELETE, &revoke, Some(&dagl), None).await;
    r.assert_status(200);
    assert_eq!(r.json()["changed"], true);
    let id = letter_to(&app, RECIPIENT_ORG, RESOURCE, false).await;
    assert_cell(
        &app,
        &t(&w.employee),
        &id,
        RECIPIENT_ORG,
        RESOURCE,
        false,
        "revoked",
    )
    .await;

    // Confidential post: DAGL alone may not read it; the confidential package may.
    grant(
        dagl.clone(),
        w.confidential_clerk.clone(),
        CONFIDENTIAL_POST,
    )
    .await
    .assert_status(200);
    let id = letter_to(&app, RECIPIENT_ORG, CONFIDENTIAL_RESOURCE, true).await;
    assert_cell(
        &app,
        &dagl,
        &id,
        RECIPIENT_ORG,
        CONFIDENTIAL_RESOURCE,
        false,
        "confidential, DAGL",
    )
    .await;
    assert_cell(
        &app,
        &t(&w.confidential_clerk),
        &id,
        RECIPIENT_ORG,
        CONFIDENTIAL_RESOURCE,
        true,
        "confidential package",
    )
    .await;

    // A sub-unit's post is read through the main unit's roles.
    let id = letter_to(&app, &w.sub_unit, RESOURCE, false).await;
    assert_cell(
        &app,
        &t(&w.employee),
        &id,
        &w.sub_unit,
        RESOURCE,
        false,
        "sub-unit, employee",
    )
    .await;
    let id = letter_to(&app, &w.sub_unit, RESOURCE, false).await;
    assert_cell(
        &app,
        &dagl,
        &id,
        &w.sub_unit,
        RESOURCE,
        true,
        "sub-unit, DAGL of the main unit",
    )
    .await;

    // The employee's authorized parties: themself only, after the revocation; the general
    // manager's: the organisation and its sub-unit.
    let parties = |token: String| {
        let app = &app;
        async move {
            let a = app.get("/melding/api/v1/authorizedparties", &token).await;
            a.assert_status(200);
            a.json()
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["party"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        parties(t(&w.employee)).await,
        [format!("urn:altinn:person:identifier-no:{}", w.employee)]
    );
    let mut expected = vec![org_urn(RECIPIENT_ORG), org_urn(&w.sub_unit)];
    expected.sort();
    let mut got = parties(dagl.clone()).await;
    assert_eq!(
        got.remove(0),
        format!("urn:altinn:person:identifier-no:{}", w.dagl)
    );
    got.sort();
    assert_eq!(got, expected);

    // Every change is in the log, with who and what.
    let log = app
        .get(
            &format!("/melding/api/v1/organizations/{RECIPIENT_ORG}/delegations/log"),
            &dagl,
        )
        .await;
    log.assert_status(200);
    let entries: Vec<(String, String, String, String)> = log
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap().to_owned(),
                e["action"].as_str().unwrap().to_owned(),
                e["nationalId"].as_str().unwrap().to_owned(),
                e["right"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let actor = format!("urn:altinn:person:identifier-no:{}", w.dagl);
    assert_eq!(
        entries,
        vec![
            (
                actor.clone(),
                "grant".into(),
                w.employee.clone(),
                ORDINARY_POST.into()
            ),
            (
                actor.clone(),
                "revoke".into(),
                w.employee.clone(),
                ORDINARY_POST.into()
            ),
            (
                actor,
                "grant".into(),
                w.confidential_clerk.clone(),
                CONFIDENTIAL_POST.into()
            ),
        ]
    );
}

#[tokio::test]
async fn only_administrators_and_the_organisations_leaders_delegate() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let body = |who: &str| json!({"nationalId": who, "right": ORDINARY_POST});
    let url = format!("/melding/api/v1/organizations/{RECIPIENT_ORG}/delegations");
    // An employee, another organisation's token and a stranger may not.
    for token in [
        app.token(&person(&w.employee), READ),
        app.other_sender(),
        app.other_person(),
    ] {
        app.call(Method::POST, &url, Some(&token), Some(body(&w.employee)))
            .await
            .assert_problem(401, 4001);
    }
    app.call(Method::POST, &url, None, Some(body(&w.employee)))
        .await
        .assert_status(401);
    // An administrator may, for any organisation; the log names them.
    let admin = app.token(&org(SENDER), "melding:admin");
    app.call(Method::POST, &url, Some(&admin), Some(body(&w.employee)))
        .await
        .assert_status(200);
    let log = app.get(&format!("{url}/log"), &admin).await.json();
    assert_eq!(
        log[0]["actor"],
        format!("admin:urn:altinn:organization:identifier-no:{SENDER}")
    );
    // Bad input is named; unknown persons are 404.
    app.call(
        Method::POST,
        &url,
        Some(&admin),
        Some(json!({"nationalId": w.employee, "right": "SJEF"})),
    )
    .await
    .assert_validation("Right");
    app.call(
        Method::POST,
        &url,
        Some(&admin),
        Some(json!({"nationalId": "123", "right": ORDINARY_POST})),
    )
    .await
    .assert_validation("NationalId");
    app.call(Method::POST, &url, Some(&admin), Some(body(&fnr(9))))
        .await
        .assert_problem(404, 1029);
}

#[tokio::test]
async fn reserved_persons_get_no_digital_post() {
    let app = TestApp::spawn().await;
    let reserved = fnr(5);
    let mut p = Person::new(NationalId::parse(&reserved).unwrap(), "Reservert Person");
    p.reserved = true;
    app.store
        .upsert_registry(&RegistryBatch {
            persons: vec![p],
            ..Default::default()
        })
        .await
        .unwrap();
    // Alone: refused with 422/1030, unless the sender ignores the reservation.
    app.send(&app.sender(), letter(&[&reserved]))
        .await
        .assert_problem(422, 1030);
    let mut l = letter(&[&reserved]);
    l["correspondence"]["ignoreReservation"] = json!(true);
    let a = app.send(&app.sender(), l).await;
    a.assert_status(200);
    assert_eq!(a.json()["correspondences"][0]["status"], "ReadyForPublish");
    // Among others: the reserved one is Reserved, then Failed by the publish job.
    let a = app.send(&app.sender(), letter(&[PERSON, &reserved])).await;
    a.assert_status(200);
    let statuses: Vec<Value> = a.json()["correspondences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].clone())
        .collect();
    assert_eq!(statuses, [json!("ReadyForPublish"), json!("Reserved")]);
    let reserved_id = a.json()["correspondences"][1]["correspondenceId"]
        .as_str()
        .unwrap()
        .to_owned();
    app.run_jobs().await;
    let o = app.get(&path(&reserved_id), &app.sender()).await.json();
    assert_eq!(o["status"], "Failed");
    assert_eq!(
        o["statusText"],
        "Recipient has reserved themselves against public correspondences"
    );
}

#[tokio::test]
async fn confidential_post_needs_an_organisation_with_a_leader_registered() {
    let app = TestApp::spawn().await;
    world(&app).await;
    let confidential = |recipient: &str| {
        let mut l = letter(&[recipient]);
        l["correspondence"]["resourceId"] = json!(CONFIDENTIAL_RESOURCE);
        l["correspondence"]["isConfidential"] = json!(true);
        l
    };
    // Brønnøysundregistrene has no roles registered here: 1044, naming it.
    let a = app.send(&app.sender(), confidential(OTHER_SENDER)).await;
    a.assert_problem(400, 1044);
    assert!(a.json()["detail"].as_str().unwrap().contains(OTHER_SENDER));
    // The recipient organisation has a general manager; a person needs no role.
    app.send(&app.sender(), confidential(RECIPIENT_ORG))
        .await
        .assert_status(200);
    app.send(&app.sender(), confidential(PERSON))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn confidential_post_to_a_sub_unit_counts_its_main_units_leaders() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    // A sub-unit of Brønnøysundregistrene, which has no roles registered, and a sub-unit with a
    // general manager of its own under it.
    let (bare_sub, led_sub, sub_leader) = (orgnr(2), orgnr(3), fnr(5));
    let sub = |n: &str, name: &str| {
        let mut o = Organization::new(OrgNumber::parse(n).unwrap(), name);
        o.parent = Some(OrgNumber::parse(OTHER_SENDER).unwrap());
        o
    };
    app.store
        .upsert_registry(&RegistryBatch {
            organizations: vec![
                sub(&bare_sub, "Avdeling uten leder"),
                sub(&led_sub, "Avdeling"),
            ],
            persons: vec![Person::new(
                NationalId::parse(&sub_leader).unwrap(),
                "Avdelings Leder",
            )],
            roles: vec![RoleAssignment {
                org: OrgNumber::parse(&led_sub).unwrap(),
                person: NationalId::parse(&sub_leader).unwrap(),
                role: "DAGL".into(),
            }],
            ..RegistryBatch::default()
        })
        .await
        .unwrap();
    let confidential = |recipient: &str| {
        let mut l = letter(&[recipient]);
        l["correspondence"]["resourceId"] = json!(CONFIDENTIAL_RESOURCE);
        l["correspondence"]["isConfidential"] = json!(true);
        l
    };
    // The main unit's general manager receives for the sub-unit.
    app.send(&app.sender(), confidential(&w.sub_unit))
        .await
        .assert_status(200);
    // A sub-unit's own leader is enough when the main unit has none.
    app.send(&app.sender(), confidential(&led_sub))
        .await
        .assert_status(200);
    // Neither the sub-unit nor its main unit has one: 1044, naming only that sub-unit.
    let a = app
        .send(&app.sender(), {
            let mut l = confidential(&bare_sub);
            l["recipients"] = json!([org_urn(&bare_sub), org_urn(&w.sub_unit)]);
            l
        })
        .await;
    a.assert_problem(400, 1044);
    let detail = a.json()["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains(&bare_sub), "{detail}");
    assert!(!detail.contains(&w.sub_unit), "{detail}");

    // Reading: the confidential-post package held in the main unit counts for the sub-unit;
    // the main unit's general manager alone does not hold it.
    let dagl = app.token(&person(&w.dagl), READ);
    app.call(
        Method::POST,
        &format!("/melding/api/v1/organizations/{RECIPIENT_ORG}/delegations"),
        Some(&dagl),
        Some(json!({"nationalId": w.confidential_clerk, "right": CONFIDENTIAL_POST})),
    )
    .await
    .assert_status(200);
    let id = letter_to(&app, &w.sub_unit, CONFIDENTIAL_RESOURCE, true).await;
    app.get(&path(&id), &dagl).await.assert_problem(401, 4001);
    app.get(&path(&id), &app.token(&person(&w.confidential_clerk), READ))
        .await
        .assert_status(200);
}
