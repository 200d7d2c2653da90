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
            keep_contacts: Default::default(),
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

/// The parties `token` reads post for, as URNs in the order answered.
async fn parties_of(app: &TestApp, token: &str) -> Vec<String> {
    let a = app.get("/melding/api/v1/authorizedparties", token).await;
    a.assert_status(200);
    a.json()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["party"].as_str().unwrap().to_owned())
        .collect()
}

fn person_urn(n: &str) -> String {
    format!("urn:altinn:person:identifier-no:{n}")
}

/// Grant, revoke, log and authorized parties over every kind of caller: only the organisation's
/// registered general manager or chair (or an administrator) manages its delegations; a right
/// merely delegated, even a role named DAGL, does not make its holder a delegator.
#[tokio::test]
async fn the_delegation_endpoints_hold_for_every_kind_of_caller() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let other_dagl = fnr(6);
    let delegated_dagl = fnr(7);
    app.store
        .upsert_registry(&RegistryBatch {
            persons: vec![
                Person::new(NationalId::parse(&other_dagl).unwrap(), "Annen Leder"),
                Person::new(
                    NationalId::parse(&delegated_dagl).unwrap(),
                    "Delegert Leder",
                ),
            ],
            roles: vec![RoleAssignment {
                org: OrgNumber::parse(OTHER_SENDER).unwrap(),
                person: NationalId::parse(&other_dagl).unwrap(),
                role: "DAGL".into(),
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    let t = |id: &str| app.token(&person(id), READ);
    let grants = format!("/melding/api/v1/organizations/{RECIPIENT_ORG}/delegations");
    let log = format!("{grants}/log");
    let revoke = |who: &str, right: &str| format!("{grants}/{who}?right={right}");
    let grant = |token: Option<String>, who: String, right: &'static str| {
        let (app, grants) = (&app, grants.clone());
        async move {
            app.call(
                Method::POST,
                &grants,
                token.as_deref(),
                Some(json!({"nationalId": who, "right": right})),
            )
            .await
        }
    };
    // The general manager delegates the role DAGL to a person who holds no registered role.
    let g = grant(Some(t(&w.dagl)), delegated_dagl.clone(), "DAGL").await;
    g.assert_status(200);
    assert_eq!(g.json()["changed"], true);

    // Without a token: 401 with an empty body everywhere.
    for (method, p) in [
        (Method::POST, grants.clone()),
        (Method::DELETE, revoke(&w.employee, ORDINARY_POST)),
        (Method::GET, log.clone()),
        (Method::GET, "/melding/api/v1/authorizedparties".to_owned()),
    ] {
        let body = (method == Method::POST)
            .then(|| json!({"nationalId": w.employee, "right": ORDINARY_POST}));
        let a = app.call(method.clone(), &p, None, body).await;
        assert_eq!(a.status, 401, "{method} {p}");
        assert!(a.text.is_empty());
    }

    // Refused: a stranger, an employee, another organisation's general manager and the person
    // with the delegated DAGL; none of them changes anything or reads the log.
    let refused = [
        ("stranger", OTHER_PERSON.to_owned()),
        ("employee", w.employee.clone()),
        ("DAGL of another organisation", other_dagl.clone()),
        ("delegated DAGL", delegated_dagl.clone()),
    ];
    for (cell, who) in &refused {
        let token = t(who);
        let a = grant(Some(token.clone()), w.employee.clone(), ORDINARY_POST).await;
        assert_eq!(a.status, 401, "{cell}: grant: {}", a.text);
        a.assert_problem(401, 4001);
        // The delegated DAGL may not even pass its own right on, or take it away.
        app.call(
            Method::DELETE,
            &revoke(&delegated_dagl, "DAGL"),
            Some(&token),
            None,
        )
        .await
        .assert_problem(401, 4001);
        let l = app.get(&log, &token).await;
        l.assert_problem(401, 4001);
        assert!(!l.text.contains(&delegated_dagl), "{cell}: the log leaked");
    }
    let employee_reads = |token: String| {
        let app = &app;
        async move {
            let id = letter_to(app, RECIPIENT_ORG, RESOURCE, false).await;
            app.get(&path(&id), &token).await.status
        }
    };
    assert_eq!(
        employee_reads(t(&w.employee)).await,
        401,
        "nothing was granted"
    );

    // The chair may do all three, and the log shows every change in order.
    let lede = t(&w.lede);
    grant(Some(lede.clone()), w.employee.clone(), ORDINARY_POST)
        .await
        .assert_status(200);
    assert_eq!(employee_reads(t(&w.employee)).await, 200);
    let r = app
        .call(
            Method::DELETE,
            &revoke(&w.employee, ORDINARY_POST),
            Some(&lede),
            None,
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.json()["changed"], true);
    let entries: Vec<(String, String, String)> = app
        .get(&log, &lede)
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap().to_owned(),
                e["action"].as_str().unwrap().to_owned(),
                e["nationalId"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            (person_urn(&w.dagl), "grant".into(), delegated_dagl.clone()),
            (person_urn(&w.lede), "grant".into(), w.employee.clone()),
            (person_urn(&w.lede), "revoke".into(), w.employee.clone()),
        ]
    );
    // The delegated role is still in place: the refused revocations above changed nothing.
    let still = grant(Some(lede.clone()), delegated_dagl.clone(), "DAGL").await;
    still.assert_status(200);
    assert_eq!(still.json()["changed"], false);

    // Authorized parties: everyone sees themself first, and only organisations they hold a
    // post right for.
    let sorted = |mut v: Vec<String>| {
        v[1..].sort();
        v
    };
    assert_eq!(
        parties_of(&app, &t(OTHER_PERSON)).await,
        [person_urn(OTHER_PERSON)]
    );
    assert_eq!(
        parties_of(&app, &t(&w.employee)).await,
        [person_urn(&w.employee)]
    );
    let mut main_and_sub = vec![org_urn(RECIPIENT_ORG), org_urn(&w.sub_unit)];
    main_and_sub.sort();
    assert_eq!(
        sorted(parties_of(&app, &lede).await),
        [vec![person_urn(&w.lede)], main_and_sub.clone()].concat()
    );
    assert_eq!(
        parties_of(&app, &t(&other_dagl)).await,
        [person_urn(&other_dagl), org_urn(OTHER_SENDER)]
    );
    let delegated = app
        .get("/melding/api/v1/authorizedparties", &t(&delegated_dagl))
        .await
        .json();
    assert_eq!(delegated[0]["party"], person_urn(&delegated_dagl));
    // Listed for the role it was given, which is all it holds: a delegated role carries no
    // package with it.
    let main = delegated
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["party"] == org_urn(RECIPIENT_ORG))
        .unwrap_or_else(|| panic!("{delegated}"));
    assert_eq!(main["rights"], json!(["DAGL"]));
}

/// A delegation held for the main unit reaches the sub-unit's post, and its revocation takes
/// that away again.
#[tokio::test]
async fn a_delegation_for_the_main_unit_reads_the_sub_units_post() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let employee = app.token(&person(&w.employee), READ);
    let id = letter_to(&app, &w.sub_unit, RESOURCE, false).await;
    app.get(&path(&id), &employee)
        .await
        .assert_problem(401, 4001);
    app.call(
        Method::POST,
        &format!("/melding/api/v1/organizations/{RECIPIENT_ORG}/delegations"),
        Some(&app.token(&person(&w.dagl), READ)),
        Some(json!({"nationalId": w.employee, "right": ORDINARY_POST})),
    )
    .await
    .assert_status(200);
    let id = letter_to(&app, &w.sub_unit, RESOURCE, false).await;
    assert_cell(
        &app,
        &employee,
        &id,
        &w.sub_unit,
        RESOURCE,
        true,
        "sub-unit, ordinary post delegated for the main unit",
    )
    .await;
    let mut expected = vec![org_urn(RECIPIENT_ORG), org_urn(&w.sub_unit)];
    expected.sort();
    let mut got = parties_of(&app, &employee).await;
    assert_eq!(got.remove(0), person_urn(&w.employee));
    got.sort();
    assert_eq!(got, expected);
    app.call(
        Method::DELETE,
        &format!(
            "/melding/api/v1/organizations/{RECIPIENT_ORG}/delegations/{}?right={ORDINARY_POST}",
            w.employee
        ),
        Some(&app.token(&person(&w.dagl), READ)),
        None,
    )
    .await
    .assert_status(200);
    let id = letter_to(&app, &w.sub_unit, RESOURCE, false).await;
    assert_cell(
        &app,
        &employee,
        &id,
        &w.sub_unit,
        RESOURCE,
        false,
        "sub-unit, delegation revoked",
    )
    .await;
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
