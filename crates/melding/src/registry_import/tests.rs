//! The importer's tests: the JSON and CSV shapes with good and bad files of every kind, and
//! applying them (all or nothing before the first write, in chunks after).

use std::path::Path;
use std::sync::Mutex;

use async_trait::async_trait;
use melding_domain::authz::{Holdings, Right};
use melding_domain::{NationalId, OrgNumber, ResourceType};
use melding_store::{
    DelegationChange, KrrContact, MAX_ORG_CONTACTS, OrgContact, Organization, Person,
    PostalAddress, RegistryStore, Resource, RoleAssignment,
};

use super::*;

/// The JSON importer's batch, for tests that look at what was read.
fn parse(path: &Path, text: &str) -> anyhow::Result<RegistryBatch> {
    parse_json(path, text).map(|i| i.batch)
}

const GOOD: &str = r#"{"organizations": [{"orgNumber": "991825827", "name": "Digitaliseringsdirektoratet"}],
 "persons": [{"nationalId": "08089403198", "name": "Ola Nordmann"}],
 "resources": [{"id": "kommunepost", "owner": "991825827", "serviceOwnerCode": "digdir",
                "title": "Post fra kommunen", "confidential": false}]}"#;

#[test]
fn the_documented_shape_is_accepted() {
    let b = parse(Path::new("r.json"), GOOD).unwrap();
    assert_eq!(b.organizations.len(), 1);
    assert_eq!(b.persons[0].name, "Ola Nordmann");
    assert_eq!(b.resources[0].service_owner_code, "digdir");
}

#[test]
fn a_bad_entry_is_named() {
    let bad = GOOD.replace("08089403198", "08089403199");
    let e = parse(Path::new("r.json"), &bad).unwrap_err().to_string();
    assert!(e.contains("r.json"), "{e}");
    assert!(e.contains("persons[0].nationalId"), "{e}");
}

#[test]
fn unknown_fields_are_an_error() {
    let bad = GOOD.replace("\"title\"", "\"tittel\": \"x\", \"title\"");
    let e = parse(Path::new("r.json"), &bad).unwrap_err().to_string();
    assert!(e.contains("resources[0]"), "{e}");
    assert!(e.contains("tittel"), "{e}");
}

#[test]
fn a_resource_id_with_a_colon_is_refused() {
    let bad = GOOD.replace("\"kommunepost\"", "\"urn:x\"");
    assert!(parse(Path::new("r.json"), &bad).is_err());
}

/// Every optional field, with codes in lower case.
const FULL: &str = r#"{
 "organizations": [{"orgNumber": "991825827", "name": "Digitaliseringsdirektoratet"},
                   {"orgNumber": "974760673", "name": "Digdir Leikanger", "parent": "991825827"}],
 "persons": [{"nationalId": "08089403198", "name": "Ola Nordmann", "reserved": true}],
 "resources": [{"id": "fortrolig", "owner": "991825827", "serviceOwnerCode": "digdir",
                "title": "Fortrolig", "confidential": true,
                "readPolicy": ["komab", "urn:altinn:rolecode:DAGL",
                               "urn:altinn:accesspackage:ordinaer-post-til-virksomheten"]}],
 "roles": [{"orgNumber": "991825827", "nationalId": "08089403198", "role": "dagl"},
           {"orgNumber": "974760673", "nationalId": "08089403198", "role": " Lede "}]}"#;

fn error(text: &str) -> String {
    parse(Path::new("r.json"), text).unwrap_err().to_string()
}

#[test]
fn the_new_fields_are_optional() {
    let b = parse(Path::new("r.json"), GOOD).unwrap();
    assert_eq!(b.organizations[0].parent, None);
    assert!(!b.persons[0].reserved);
    assert!(b.resources[0].read_policy.is_empty());
    assert!(b.roles.is_empty());
}

#[test]
fn parents_reservations_policies_and_roles_are_read() {
    let b = parse(Path::new("r.json"), FULL).unwrap();
    let main = OrgNumber::parse("991825827").unwrap();
    assert_eq!(b.organizations[0].parent, None);
    assert_eq!(b.organizations[1].parent, Some(main.clone()));
    assert!(b.persons[0].reserved);
    assert_eq!(
        b.resources[0].read_policy,
        [
            Right::Role("KOMAB".into()),
            Right::Role("DAGL".into()),
            Right::Package(melding_domain::authz::ORDINARY_POST.into()),
        ]
    );
    let ola = NationalId::parse("08089403198").unwrap();
    assert_eq!(
        b.roles,
        [
            RoleAssignment {
                org: main,
                person: ola.clone(),
                role: "DAGL".into(),
            },
            RoleAssignment {
                org: OrgNumber::parse("974760673").unwrap(),
                person: ola,
                role: "LEDE".into(),
            },
        ]
    );
}

#[test]
fn a_bad_read_policy_entry_is_named() {
    let e = error(&FULL.replace("\"komab\", ", "\"komab\", \"SJEF\", "));
    assert!(
        e.contains("r.json: resources[0].readPolicy[1]: unknown role"),
        "{e}"
    );
    let e = error(&FULL.replace("ordinaer-post-til-virksomheten\"]", "noe-annet\"]"));
    assert!(
        e.contains("resources[0].readPolicy[2]: unknown access package"),
        "{e}"
    );
    let e = error(&FULL.replace("\"readPolicy\": [", "\"readPolicy\": [3, "));
    assert!(e.contains("resources[0].readPolicy[0]"), "{e}");
}

#[test]
fn bad_role_entries_are_named() {
    let e = error(&FULL.replace("\"dagl\"", "\"SJEF\""));
    assert!(
        e.contains("r.json: roles[0].role: unknown role \"SJEF\""),
        "{e}"
    );
    assert!(e.contains("DAGL"), "{e}");
    let e = error(&FULL.replace(
        "\"nationalId\": \"08089403198\", \"role\": \" Lede \"",
        "\"nationalId\": \"08089403199\", \"role\": \"LEDE\"",
    ));
    assert!(e.contains("roles[1].nationalId"), "{e}");
    let e = error(&FULL.replace("\"role\": \"dagl\"", "\"role\": \"DAGL\", \"since\": 2020"));
    assert!(e.contains("roles[0]") && e.contains("since"), "{e}");
    let e = error(&FULL.replace(", \"role\": \"dagl\"", ""));
    assert!(e.contains("roles[0]") && e.contains("role"), "{e}");
}

#[test]
fn bad_parents_and_reservations_are_named() {
    let e = error(&FULL.replace("\"parent\": \"991825827\"", "\"parent\": \"991825828\""));
    assert!(e.contains("organizations[1].parent"), "{e}");
    let e = error(&FULL.replace("\"parent\": \"991825827\"", "\"parent\": \"974760673\""));
    assert!(
        e.contains("organizations[1].parent: an organisation is not its own main unit"),
        "{e}"
    );
    let e = error(&FULL.replace("\"reserved\": true", "\"reserved\": \"ja\""));
    assert!(e.contains("persons[0].reserved"), "{e}");
}

async fn store(dir: &tempfile::TempDir) -> melding_store_sqlite::SqliteStore {
    melding_store_sqlite::SqliteStore::open(&dir.path().join("melding.db"))
        .await
        .unwrap()
}

#[tokio::test]
async fn roles_may_name_parties_of_the_file_or_the_registry() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let path = Path::new("r.json");
    apply(&parse_json(path, FULL).unwrap(), &store, false)
        .await
        .unwrap();
    // A later file with roles only, for parties registered before.
    let roles = r#"{"roles": [{"orgNumber": "974760673", "nationalId": "08089403198",
                               "role": "KONT"}]}"#;
    apply(&parse_json(path, roles).unwrap(), &store, false)
        .await
        .unwrap();
    let ola = NationalId::parse("08089403198").unwrap();
    let sub = OrgNumber::parse("974760673").unwrap();
    let held = store.holdings(&ola, &sub).await.unwrap();
    assert_eq!(held.roles.into_iter().collect::<Vec<_>>(), ["KONT", "LEDE"]);
    assert!(store.person(&ola).await.unwrap().unwrap().reserved);
}

#[tokio::test]
async fn a_role_for_an_unknown_party_applies_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let path = Path::new("r.json");
    let unknown_person = FULL.replace(
        "\"nationalId\": \"08089403198\", \"role\": \" Lede \"",
        "\"nationalId\": \"21866699620\", \"role\": \"LEDE\"",
    );
    let e = apply(&parse_json(path, &unknown_person).unwrap(), &store, false)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("r.json: roles[1].nationalId: no such person"),
        "{e}"
    );
    assert!(e.contains("nothing was imported"), "{e}");
    let digdir = OrgNumber::parse("991825827").unwrap();
    assert_eq!(store.organization(&digdir).await.unwrap(), None);
    assert!(store.resource("fortrolig").await.unwrap().is_none());

    let unknown_org = r#"{"persons": [{"nationalId": "08089403198", "name": "Ola"}],
        "roles": [{"orgNumber": "310394955", "nationalId": "08089403198", "role": "DAGL"}]}"#;
    let e = apply(&parse_json(path, unknown_org).unwrap(), &store, false)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("r.json: roles[0].orgNumber: no such organisation"),
        "{e}"
    );
    let ola = NationalId::parse("08089403198").unwrap();
    assert_eq!(store.person(&ola).await.unwrap(), None);
}

/// The `n`th valid national identity number (`n < 100`).
fn nid(n: u32) -> String {
    for individual in (n * 10)..(n * 10 + 10) {
        for control in 0..100 {
            let s = format!("010190{individual:03}{control:02}");
            if NationalId::parse(&s).is_ok() {
                return s;
            }
        }
    }
    panic!("no valid national identity number near {n}");
}

const DIGDIR: &str = "991825827";
const LEIKANGER: &str = "974760673";

/// Writes `text` to `name` in `dir` and reads it as the command does.
fn read_file(
    dir: &tempfile::TempDir,
    name: &str,
    text: &str,
    kind: Option<Kind>,
) -> anyhow::Result<Import> {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    read(&path, kind, false)
}

fn read_error(name: &str, text: &str, kind: Option<Kind>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let e = read_file(&dir, name, text, kind).unwrap_err().to_string();
    assert!(
        e.starts_with(&dir.path().join(name).display().to_string()),
        "{e}"
    );
    e
}

// JSON: addresses and contacts.

const CONTACTS: &str = r#"{
 "organizations": [{"orgNumber": "991825827", "name": "Digitaliseringsdirektoratet",
   "address": {"lines": ["Postboks 1382 Vika"], "postalCode": "0114", "city": "Oslo"},
   "notificationEmails": ["post@digdir.no"], "notificationMobiles": ["99 99 99 99", "004741234567"],
   "contacts": [{"email": "it@digdir.no"},
                {"mobile": "+46701234567", "resources": ["kommunepost"]}]}],
 "persons": [{"nationalId": "08089403198", "name": "Ola Nordmann",
   "address": {"lines": ["Storgata 1"], "postalCode": "SE-111 22", "city": "Stockholm", "country": "se"},
   "krr": {"email": "ola@example.no", "emailUpdated": "2024-01-02T03:04:05Z",
           "mobile": "41234567", "mobileVerified": "2024-01-02T03:04:05.123456+01:00",
           "mailboxProvider": "Digipost", "mailboxAddress": "ola.nordmann#1"}}]}"#;

#[test]
fn addresses_krr_and_contacts_are_read_and_normalised() {
    let b = parse(Path::new("r.json"), CONTACTS).unwrap();
    let o = &b.organizations[0];
    assert_eq!(
        o.address,
        Some(PostalAddress {
            lines: vec!["Postboks 1382 Vika".into()],
            postal_code: "0114".into(),
            city: "Oslo".into(),
            country: None,
            protected: false,
        })
    );
    assert_eq!(o.notification_emails, ["post@digdir.no"]);
    assert_eq!(o.notification_mobiles, ["+4799999999", "+4741234567"]);
    assert_eq!(
        o.contacts,
        [
            OrgContact {
                email: Some("it@digdir.no".into()),
                ..OrgContact::default()
            },
            OrgContact {
                mobile: Some("+46701234567".into()),
                resources: vec!["kommunepost".into()],
                ..OrgContact::default()
            },
        ]
    );
    let p = &b.persons[0];
    assert_eq!(p.address.as_ref().unwrap().country.as_deref(), Some("SE"));
    let krr = p.krr.as_ref().unwrap();
    assert_eq!(krr.mobile.as_deref(), Some("+4741234567"));
    assert_eq!(krr.mailbox_provider.as_deref(), Some("digipost"));
    assert_eq!(
        krr.mobile_verified.unwrap().to_rfc3339(),
        "2024-01-02T02:04:05.123456+00:00"
    );
}

#[test]
fn bad_addresses_and_contacts_are_named() {
    for (from, to, expected) in [
        (
            "\"0114\"",
            "\"114\"",
            "organizations[0].address.postalCode: \"114\" is not a Norwegian postal code",
        ),
        (
            "\"post@digdir.no\"",
            "\"post.digdir.no\"",
            "organizations[0].notificationEmails[0]: \"post.digdir.no\" is not an e-mail address",
        ),
        (
            "\"99 99 99 99\"",
            "\"12345678\"",
            "organizations[0].notificationMobiles[0]: \"12345678\" is not a mobile number",
        ),
        (
            "{\"email\": \"it@digdir.no\"}",
            "{\"email\": \"it@\"}",
            "organizations[0].contacts[0].email",
        ),
        (
            "{\"email\": \"it@digdir.no\"}",
            "{\"resources\": []}",
            "organizations[0].contacts[0]: a contact needs an e-mail address or a mobile number",
        ),
        (
            "[\"kommunepost\"]",
            "[\"urn:x\"]",
            "organizations[0].contacts[1].resources[0]",
        ),
        (
            "\"country\": \"se\"",
            "\"country\": \"Sverige\"",
            "persons[0].address.country",
        ),
        (
            "\"41234567\"",
            "\"31234567\"",
            "persons[0].krr.mobile: \"31234567\" is not a mobile number",
        ),
        ("\"ola@example.no\"", "\"ola\"", "persons[0].krr.email"),
        (
            "\"Digipost\"",
            "\"Posten\"",
            "persons[0].krr.mailboxProvider: unknown mailbox provider",
        ),
        (
            ", \"mailboxAddress\": \"ola.nordmann#1\"",
            "",
            "persons[0].krr.mailboxAddress: a mailbox provider needs the address there",
        ),
        (
            "\"emailUpdated\": \"2024-01-02T03:04:05Z\"",
            "\"emailUpdated\": \"i går\"",
            "persons[0].krr.emailUpdated",
        ),
        (
            "\"krr\": {",
            "\"krr\": {\"phone\": \"1\", ",
            "persons[0].krr",
        ),
    ] {
        let text = CONTACTS.replace(from, to);
        assert_ne!(text, CONTACTS, "{from}");
        let e = error(&text);
        assert!(e.contains(expected), "{expected}\n{e}");
    }
}

#[test]
fn more_than_twenty_contacts_names_the_organisation() {
    let contact = r#"{"email": "x@digdir.no"}"#;
    let many = |n: usize| {
        let list = vec![contact; n].join(", ");
        format!(
            r#"{{"organizations": [{{"orgNumber": "974760673", "name": "Leikanger"}},
               {{"orgNumber": "991825827", "name": "Digdir", "contacts": [{list}]}}]}}"#
        )
    };
    assert_eq!(
        parse(Path::new("r.json"), &many(MAX_ORG_CONTACTS))
            .unwrap()
            .organizations[1]
            .contacts
            .len(),
        MAX_ORG_CONTACTS
    );
    let e = error(&many(MAX_ORG_CONTACTS + 1));
    assert!(
        e.contains("r.json: organizations[1].contacts: at most 20 contacts, found 21"),
        "{e}"
    );
}

#[test]
fn an_entry_listed_twice_is_refused() {
    let twice = r#"{"persons": [{"nationalId": "08089403198", "name": "Ola"},
                                {"nationalId": "21866699620", "name": "Kari"},
                                {"nationalId": "08089403198", "name": "Ola N."}]}"#;
    let e = read_error("r.json", twice, None);
    assert!(
        e.contains("persons[2].nationalId: 08089403198 is listed twice (also at persons[0])"),
        "{e}"
    );
    let csv = "nationalId,name\n08089403198,Ola\n21866699620,Kari\n08089403198,Ola N.\n";
    let e = read_error("p.csv", csv, None);
    assert!(
        e.contains("line 4: nationalId: 08089403198 is listed twice (also at line 2)"),
        "{e}"
    );
}

// CSV: good files of every kind.

#[test]
fn csv_persons_are_read_with_krr_and_address() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "nationalId,name,reserved,email,mobile,mailboxProvider,mailboxAddress,addressLines,postalCode,city,country\n\
         {},Kari Nordmann,true,kari@example.no,99999999,eboks,kari#2,Storgata 1|c/o Hansen,0155,Oslo,\n\
         {},\"Nordmann, Ola\",,,,,,,,,\n\
         \u{20}{} , Per ,0, , +46 70 123 45 67 ,,,,,,\n",
        nid(1),
        nid(2),
        nid(3)
    );
    let b = read_file(&dir, "persons.csv", &text, None).unwrap().batch;
    assert_eq!(b.persons.len(), 3);
    assert!(b.organizations.is_empty() && b.resources.is_empty() && b.roles.is_empty());
    let kari = &b.persons[0];
    assert!(kari.reserved);
    assert_eq!(
        kari.krr,
        Some(KrrContact {
            email: Some("kari@example.no".into()),
            mobile: Some("+4799999999".into()),
            mailbox_provider: Some("eboks".into()),
            mailbox_address: Some("kari#2".into()),
            ..KrrContact::default()
        })
    );
    assert_eq!(
        kari.address,
        Some(PostalAddress {
            lines: vec!["Storgata 1".into(), "c/o Hansen".into()],
            postal_code: "0155".into(),
            city: "Oslo".into(),
            country: None,
            protected: false,
        })
    );
    assert_eq!(
        b.persons[1],
        Person::new(NationalId::parse(&nid(2)).unwrap(), "Nordmann, Ola")
    );
    assert_eq!(b.persons[2].name, "Per");
    assert_eq!(
        b.persons[2].krr.as_ref().unwrap().mobile.as_deref(),
        Some("+46701234567")
    );
    // Only the required columns, in another order, with --kind.
    let text = format!("name,nationalId\nOla,{}\n", nid(4));
    let b = read_file(&dir, "p.CSV", &text, Some(Kind::Persons))
        .unwrap()
        .batch;
    assert_eq!(b.persons[0].name, "Ola");
    assert_eq!(b.persons[0].krr, None);
}

#[test]
fn csv_organizations_resources_and_roles_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let orgs = format!(
        "orgNumber,name,parent,notificationEmails,notificationMobiles,addressLines,postalCode,city\n\
         {DIGDIR},Digitaliseringsdirektoratet,,post@digdir.no|varsel@digdir.no,99999999,Postboks 1382 Vika,0114,Oslo\n\
         {LEIKANGER},Digdir Leikanger,{DIGDIR},,,,,\n"
    );
    let b = read_file(&dir, "orgs.csv", &orgs, None).unwrap().batch;
    assert_eq!(b.organizations.len(), 2);
    let digdir = &b.organizations[0];
    assert_eq!(
        digdir.notification_emails,
        ["post@digdir.no", "varsel@digdir.no"]
    );
    assert_eq!(digdir.notification_mobiles, ["+4799999999"]);
    assert_eq!(digdir.address.as_ref().unwrap().city, "Oslo");
    assert_eq!(
        b.organizations[1],
        Organization {
            parent: Some(OrgNumber::parse(DIGDIR).unwrap()),
            ..Organization::new(OrgNumber::parse(LEIKANGER).unwrap(), "Digdir Leikanger")
        }
    );

    let resources = format!(
        "id,owner,serviceOwnerCode,title,confidential,readPolicy\n\
         kommunepost,{DIGDIR},digdir,Post fra kommunen,false,\n\
         fortrolig,{DIGDIR},digdir,Fortrolig,true,komab|urn:altinn:rolecode:DAGL\n"
    );
    let b = read_file(&dir, "resources.csv", &resources, None)
        .unwrap()
        .batch;
    assert_eq!(b.resources.len(), 2);
    assert!(b.resources[1].confidential);
    assert_eq!(
        b.resources[1].read_policy,
        [Right::Role("KOMAB".into()), Right::Role("DAGL".into())]
    );

    let roles = format!(
        "orgNumber,nationalId,role\n{DIGDIR},{},dagl\n{LEIKANGER},{}, Lede \n",
        nid(1),
        nid(1)
    );
    let b = read_file(&dir, "roles.csv", &roles, None).unwrap().batch;
    assert_eq!(
        b.roles.iter().map(|r| r.role.as_str()).collect::<Vec<_>>(),
        ["DAGL", "LEDE"]
    );
}

// CSV: bad files.

#[test]
fn a_wrong_column_is_named() {
    let e = read_error(
        "p.csv",
        "nationalId,name,epost\n08089403198,Ola,ola@x.no\n",
        None,
    );
    assert!(
        e.contains("p.csv: line 1: epost: not a column of persons"),
        "{e}"
    );
    assert!(e.contains("columns: nationalId, name, reserved"), "{e}");
    let e = read_error("o.csv", "orgNumber,navn\n991825827,Digdir\n", None);
    assert!(
        e.contains("o.csv: line 1: navn: not a column of organizations"),
        "{e}"
    );
    let e = read_error("r.csv", "id,owner,title\nx,991825827,X\n", None);
    assert!(
        e.contains("r.csv: line 1: serviceOwnerCode: a required column of resources is missing"),
        "{e}"
    );
    let e = read_error("roles.csv", "orgNumber,nationalId,role,since\n", None);
    assert!(
        e.contains("roles.csv: line 1: since: not a column of roles"),
        "{e}"
    );
    let e = read_error("x.csv", "navn,adresse\nOla,Oslo\n", None);
    assert!(
        e.contains("x.csv: line 1: the header names no known kind"),
        "{e}"
    );
    // A persons file given as roles.
    let e = read_error(
        "p.csv",
        "nationalId,name\n08089403198,Ola\n",
        Some(Kind::Roles),
    );
    assert!(e.contains("line 1: name: not a column of roles"), "{e}");
    let e = read_error("p.csv", "nationalId,name,name\n", None);
    assert!(e.contains("line 1: name: named twice"), "{e}");
}

#[test]
fn a_bad_line_is_named_by_line_and_column() {
    let persons = format!(
        "nationalId,name,mobile\n{},Kari,\n08089403199,Ola,\n{},Per,\n",
        nid(1),
        nid(2)
    );
    let e = read_error("p.csv", &persons, None);
    assert!(e.contains("p.csv: line 3: nationalId: "), "{e}");
    for (text, expected) in [
        (
            format!("nationalId,name,mobile\n{},Kari,123\n", nid(1)),
            "line 2: mobile: \"123\" is not a mobile number",
        ),
        (
            format!("nationalId,name\n{},\n", nid(1)),
            "line 2: name: must not be empty",
        ),
        (
            format!("nationalId,name,reserved\n{},Kari,kanskje\n", nid(1)),
            "line 2: reserved: \"kanskje\" is not true or false",
        ),
        (
            format!("nationalId,name,postalCode\n{},Kari,0155\n", nid(1)),
            "line 2: city: must not be empty",
        ),
        (
            format!(
                "nationalId,name,mailboxProvider,mailboxAddress\n{},Kari,,kari#1\n",
                nid(1)
            ),
            "line 2: mailboxProvider: a mailbox address needs its provider",
        ),
        (
            format!(
                "nationalId,name,emailVerified\n{},Kari,2024-13-01\n",
                nid(1)
            ),
            "line 2: emailVerified",
        ),
        (
            format!("nationalId,name\n{},Kari,ekstra\n", nid(1)),
            "line 2: 3 columns where the header has 2",
        ),
        (
            format!("orgNumber,name,notificationEmails\n{DIGDIR},Digdir,a@b.no|nei\n"),
            "line 2: notificationEmails: \"nei\" is not an e-mail address",
        ),
        (
            format!("orgNumber,name,parent\n{DIGDIR},Digdir,{DIGDIR}\n"),
            "line 2: parent: an organisation is not its own main unit",
        ),
        (
            format!("orgNumber,name,parent\n{DIGDIR},Digdir,991825828\n"),
            "line 2: parent: ",
        ),
        (
            format!("id,owner,serviceOwnerCode,title,readPolicy\nx,{DIGDIR},digdir,X,SJEF\n"),
            "line 2: readPolicy: unknown role",
        ),
        (
            format!("id,owner,serviceOwnerCode,title\nurn:x,{DIGDIR},digdir,X\n"),
            "line 2: id: a resource id",
        ),
        (
            format!(
                "orgNumber,nationalId,role\n{DIGDIR},{},DAGL\n{DIGDIR},{},SJEF\n",
                nid(1),
                nid(2)
            ),
            "line 3: role: unknown role \"SJEF\"",
        ),
        (
            format!(
                "orgNumber,nationalId,role\n{DIGDIR},{},DAGL\n{DIGDIR},08089403199,DAGL\n",
                nid(1)
            ),
            "line 3: nationalId: ",
        ),
    ] {
        let e = read_error("f.csv", &text, None);
        assert!(e.contains(&format!("f.csv: {expected}")), "{expected}\n{e}");
    }
}

// Resource types and authentication levels (JSON and CSV).

const TYPED: &str = r#"{"resources": [
  {"id": "kommunepost", "owner": "991825827", "serviceOwnerCode": "digdir", "title": "Post"},
  {"id": "tilgang", "owner": "991825827", "serviceOwnerCode": "digdir", "title": "Tilgang",
   "resourceType": "GenericAccessResource", "minimumAuthenticationLevel": 3},
  {"id": "app", "owner": "991825827", "serviceOwnerCode": "digdir", "title": "App",
   "resourceType": "altinnapp", "minimumAuthenticationLevel": 0}]}"#;

#[test]
fn resource_types_and_levels_are_read_with_their_defaults() {
    let b = parse(Path::new("r.json"), TYPED).unwrap();
    let got: Vec<(ResourceType, u8)> = b
        .resources
        .iter()
        .map(|r| (r.resource_type, r.minimum_authentication_level))
        .collect();
    assert_eq!(
        got,
        [
            (ResourceType::CorrespondenceService, 0),
            (ResourceType::GenericAccessResource, 3),
            (ResourceType::AltinnApp, 0),
        ]
    );

    let dir = tempfile::tempdir().unwrap();
    let csv = format!(
        "id,owner,serviceOwnerCode,title,resourceType,minimumAuthenticationLevel\n\
         kommunepost,{DIGDIR},digdir,Post,,\n\
         formidling,{DIGDIR},digdir,Formidling,BrokerService,4\n\
         tjeneste,{DIGDIR},digdir,Tjeneste,correspondenceservice,2\n"
    );
    let b = read_file(&dir, "resources.csv", &csv, None).unwrap().batch;
    let got: Vec<(ResourceType, u8)> = b
        .resources
        .iter()
        .map(|r| (r.resource_type, r.minimum_authentication_level))
        .collect();
    assert_eq!(
        got,
        [
            (ResourceType::CorrespondenceService, 0),
            (ResourceType::BrokerService, 4),
            (ResourceType::CorrespondenceService, 2),
        ]
    );
    // Files without the columns read as before.
    let old = format!("id,owner,serviceOwnerCode,title\nx,{DIGDIR},digdir,X\n");
    let b = read_file(&dir, "old.csv", &old, None).unwrap().batch;
    assert_eq!(
        (
            b.resources[0].resource_type,
            b.resources[0].minimum_authentication_level
        ),
        (ResourceType::CorrespondenceService, 0)
    );
}

#[test]
fn bad_resource_types_and_levels_are_named() {
    let e = error(&TYPED.replace("\"altinnapp\"", "\"Skjema\""));
    assert!(
        e.contains("r.json: resources[2].resourceType: unknown resource type \"Skjema\""),
        "{e}"
    );
    let e = error(&TYPED.replace(
        "\"minimumAuthenticationLevel\": 3",
        "\"minimumAuthenticationLevel\": 5",
    ));
    assert!(
        e.contains(
            "r.json: resources[1].minimumAuthenticationLevel: 5 is not an authentication level"
        ),
        "{e}"
    );
    let e = error(&TYPED.replace(
        "\"minimumAuthenticationLevel\": 0",
        "\"minimumAuthenticationLevel\": -1",
    ));
    assert!(
        e.contains("resources[2].minimumAuthenticationLevel: -1 is not an authentication level"),
        "{e}"
    );
    let e = error(&TYPED.replace(
        "\"minimumAuthenticationLevel\": 3",
        "\"minimumAuthenticationLevel\": \"tre\"",
    ));
    assert!(e.contains("resources[1].minimumAuthenticationLevel"), "{e}");

    let header = "id,owner,serviceOwnerCode,title,resourceType,minimumAuthenticationLevel";
    for (line, expected) in [
        (
            format!("x,{DIGDIR},digdir,X,Skjema,0"),
            "line 3: resourceType: unknown resource type \"Skjema\"",
        ),
        (
            format!("x,{DIGDIR},digdir,X,AltinnApp,5"),
            "line 3: minimumAuthenticationLevel: 5 is not an authentication level",
        ),
        (
            format!("x,{DIGDIR},digdir,X,,tre"),
            "line 3: minimumAuthenticationLevel: \"tre\" is not a whole number",
        ),
    ] {
        let text = format!("{header}\nok,{DIGDIR},digdir,OK,,\n{line}\n");
        let e = read_error("f.csv", &text, None);
        assert!(e.contains(&format!("f.csv: {expected}")), "{expected}\n{e}");
    }
}

// Self-identified users (JSON and CSV).

const SELF_IDENTIFIED: &str = r#"{"selfIdentifiedUsers": [
  {"email": " Kari@Example.no ", "name": "Kari Nordmann"},
  {"username": "Ola77", "name": "Ola Selvregistrert"}]}"#;

#[test]
fn self_identified_users_are_read_by_their_login() {
    let expected = [
        melding_store::SelfIdentifiedUser {
            user: melding_domain::SelfIdentified::IdportenEmail("kari@example.no".into()),
            name: "Kari Nordmann".into(),
        },
        melding_store::SelfIdentifiedUser {
            user: melding_domain::SelfIdentified::Legacy("ola77".into()),
            name: "Ola Selvregistrert".into(),
        },
    ];
    let b = parse(Path::new("r.json"), SELF_IDENTIFIED).unwrap();
    assert_eq!(b.self_identified_users, expected);

    let dir = tempfile::tempdir().unwrap();
    let csv = "email,username,name\n Kari@Example.no ,,Kari Nordmann\n,Ola77,Ola Selvregistrert\n";
    let b = read_file(&dir, "users.csv", csv, None).unwrap().batch;
    assert_eq!(b.self_identified_users, expected);
    // One login column is enough, and --kind names the kind.
    let b = read_file(
        &dir,
        "epost.csv",
        "name,email\nKari Nordmann,kari@example.no\n",
        Some(Kind::SelfIdentified),
    )
    .unwrap()
    .batch;
    assert_eq!(b.self_identified_users, expected[..1]);
}

#[test]
fn bad_self_identified_users_are_named() {
    for (text, expected) in [
        (
            SELF_IDENTIFIED.replace(" Kari@Example.no ", "kari"),
            "r.json: selfIdentifiedUsers[0].email: \"kari\" is not an e-mail address",
        ),
        (
            SELF_IDENTIFIED.replace(" Kari@Example.no ", "kari:x@example.no"),
            "r.json: selfIdentifiedUsers[0].email: \"kari:x@example.no\" cannot be an ID-porten e-mail login",
        ),
        (
            SELF_IDENTIFIED.replace("Ola77", "ola:77"),
            "r.json: selfIdentifiedUsers[1].username: \"ola:77\" is not a user name",
        ),
        (
            SELF_IDENTIFIED.replace("\"username\": \"Ola77\", ", ""),
            "r.json: selfIdentifiedUsers[1]: a self-identified user has exactly one login",
        ),
        (
            SELF_IDENTIFIED.replace(
                "\"username\"",
                "\"email\": \"ola@example.no\", \"username\"",
            ),
            "r.json: selfIdentifiedUsers[1]: a self-identified user has exactly one login",
        ),
        (
            SELF_IDENTIFIED.replace("\"Kari Nordmann\"", "\" \""),
            "r.json: selfIdentifiedUsers[0].name: must not be empty",
        ),
    ] {
        let e = error(&text);
        assert!(e.contains(expected), "{expected}\n{e}");
    }
    let e = error(&SELF_IDENTIFIED.replace("\"name\": \"Kari", "\"navn\": \"Kari"));
    assert!(e.contains("selfIdentifiedUsers[0]"), "{e}");

    for (text, expected) in [
        (
            "email,name\nkari@example.no,Kari\nkari,Kari\n",
            "f.csv: line 3: email: \"kari\" is not an e-mail address",
        ),
        (
            "email,username,name\nkari@example.no,kari,Kari\n",
            "f.csv: line 2: email: a self-identified user has exactly one login",
        ),
        (
            "email,username,name\n,,Kari\n",
            "f.csv: line 2: email: a self-identified user has exactly one login",
        ),
        (
            "username,name\nola:77,Ola\n",
            "f.csv: line 2: username: \"ola:77\" is not a user name",
        ),
        (
            "email,name\nkari@example.no,\n",
            "f.csv: line 2: name: must not be empty",
        ),
    ] {
        let e = read_error("f.csv", text, None);
        assert!(e.contains(expected), "{expected}\n{e}");
    }
    let e = read_error("f.csv", "name\nKari\n", Some(Kind::SelfIdentified));
    assert!(
        e.contains(
            "f.csv: line 1: email: a self-identified user needs an email or a username column"
        ),
        "{e}"
    );
    // The same login twice, in any case.
    let e = read_error(
        "u.json",
        &SELF_IDENTIFIED.replace("\"username\": \"Ola77\"", "\"email\": \"KARI@example.no\""),
        None,
    );
    assert!(
        e.contains("selfIdentifiedUsers[1].email: kari@example.no is listed twice (also at selfIdentifiedUsers[0])"),
        "{e}"
    );
    let e = read_error("u.csv", "username,name\nola,Ola\nOLA,Ola\n", None);
    assert!(
        e.contains("line 3: username: ola is listed twice (also at line 2)"),
        "{e}"
    );
}

#[tokio::test]
async fn self_identified_users_reach_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let import = read_file(&dir, "users.json", SELF_IDENTIFIED, None).unwrap();
    apply(&import, &store, false).await.unwrap();
    let kari = melding_domain::SelfIdentified::IdportenEmail("kari@example.no".into());
    assert_eq!(
        store
            .self_identified_user(&kari)
            .await
            .unwrap()
            .unwrap()
            .name,
        "Kari Nordmann"
    );
    assert!(
        store
            .unknown_parties(&[Party::SelfIdentified(kari)])
            .await
            .unwrap()
            .is_empty()
    );
}

#[test]
fn kind_is_for_csv_files() {
    let e = read_error("r.json", GOOD, Some(Kind::Persons));
    assert!(e.contains("--kind is for CSV files"), "{e}");
}

#[tokio::test]
async fn a_bad_line_in_the_middle_fails_the_whole_read_and_the_fixed_file_applies() {
    // `read` checks the whole file before it returns an `Import`, and only an `Import` can be
    // applied, so a file that fails to read cannot write anything (the CLI test
    // `a_bad_registry_file_imports_nothing` checks that through `melding registry import`).
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let mut text = String::from("nationalId,name\n");
    for n in 1..=40 {
        let name = if n == 20 {
            String::new()
        } else {
            format!("Person {n}")
        };
        text.push_str(&format!("{},{name}\n", nid(n)));
    }
    let e = read_file(&dir, "p.csv", &text, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("p.csv: line 21: name: must not be empty"), "{e}");
    // Fixed, the whole file is applied, in several transactions.
    let text = text.replace(
        &format!("{},\n", nid(20)),
        &format!("{},Person 20\n", nid(20)),
    );
    let import = read_file(&dir, "p.csv", &text, None).unwrap();
    apply_in_chunks(&import, &store, false, 7).await.unwrap();
    for n in 1..=40 {
        let p = store
            .person(&NationalId::parse(&nid(n)).unwrap())
            .await
            .unwrap();
        assert_eq!(p.unwrap().name, format!("Person {n}"));
    }
}

#[tokio::test]
async fn csv_roles_need_registered_parties() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let persons = format!("nationalId,name\n{},Kari\n", nid(1));
    apply(
        &read_file(&dir, "p.csv", &persons, None).unwrap(),
        &store,
        false,
    )
    .await
    .unwrap();
    let orgs = format!("orgNumber,name\n{DIGDIR},Digdir\n");
    apply(
        &read_file(&dir, "o.csv", &orgs, None).unwrap(),
        &store,
        false,
    )
    .await
    .unwrap();
    let roles = format!(
        "orgNumber,nationalId,role\n{DIGDIR},{},DAGL\n{DIGDIR},{},LEDE\n",
        nid(1),
        nid(2)
    );
    let e = apply(
        &read_file(&dir, "roles.csv", &roles, None).unwrap(),
        &store,
        false,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("roles.csv: line 3: nationalId: no such person in this file or the registry; nothing was imported"),
        "{e}"
    );
    let digdir = OrgNumber::parse(DIGDIR).unwrap();
    assert!(store.organization_roles(&digdir).await.unwrap().is_empty());
    let roles = format!("orgNumber,nationalId,role\n{LEIKANGER},{},DAGL\n", nid(1));
    let e = apply(
        &read_file(&dir, "roles.csv", &roles, None).unwrap(),
        &store,
        false,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("roles.csv: line 2: orgNumber: no such organisation"),
        "{e}"
    );

    let roles = format!("orgNumber,nationalId,role\n{DIGDIR},{},DAGL\n", nid(1));
    apply(
        &read_file(&dir, "roles.csv", &roles, None).unwrap(),
        &store,
        false,
    )
    .await
    .unwrap();
    assert_eq!(
        store.organization_roles(&digdir).await.unwrap(),
        [RoleAssignment {
            org: digdir.clone(),
            person: NationalId::parse(&nid(1)).unwrap(),
            role: "DAGL".into(),
        }]
    );
}

#[tokio::test]
async fn contacts_and_addresses_reach_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let import = parse_json(Path::new("r.json"), CONTACTS).unwrap();
    apply(&import, &store, false).await.unwrap();
    let digdir = OrgNumber::parse(DIGDIR).unwrap();
    assert_eq!(
        store.organization(&digdir).await.unwrap().as_ref(),
        Some(&import.batch.organizations[0])
    );
    let ola = NationalId::parse("08089403198").unwrap();
    assert_eq!(
        store.person(&ola).await.unwrap().as_ref(),
        Some(&import.batch.persons[0])
    );
}

#[tokio::test]
async fn a_file_without_contacts_leaves_an_organisations_contacts_as_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    apply(
        &parse_json(Path::new("r.json"), CONTACTS).unwrap(),
        &store,
        false,
    )
    .await
    .unwrap();
    let digdir = OrgNumber::parse(DIGDIR).unwrap();
    let contacts = || async { store.organization(&digdir).await.unwrap().unwrap().contacts };
    assert_eq!(contacts().await.len(), 2);
    // A CSV file cannot carry contacts, and a JSON entry may leave them out: the contacts kept
    // in the web inbox stay, while the rest of the entry is updated.
    let csv = read_file(
        &dir,
        "organizations.csv",
        &format!("orgNumber,name,notificationEmails\n{DIGDIR},Digdir,ny@digdir.no\n"),
        None,
    )
    .unwrap();
    apply(&csv, &store, false).await.unwrap();
    let o = store.organization(&digdir).await.unwrap().unwrap();
    assert_eq!((o.name.as_str(), o.contacts.len()), ("Digdir", 2));
    assert_eq!(o.notification_emails, ["ny@digdir.no"]);
    let json = format!(r#"{{"organizations": [{{"orgNumber": "{DIGDIR}", "name": "D"}}]}}"#);
    apply(
        &parse_json(Path::new("r.json"), &json).unwrap(),
        &store,
        false,
    )
    .await
    .unwrap();
    assert_eq!(contacts().await.len(), 2);
    // A JSON entry that gives contacts replaces them, an empty list included.
    let json = format!(
        r#"{{"organizations": [{{"orgNumber": "{DIGDIR}", "name": "D", "contacts": []}}]}}"#
    );
    apply(
        &parse_json(Path::new("r.json"), &json).unwrap(),
        &store,
        false,
    )
    .await
    .unwrap();
    assert!(contacts().await.is_empty());
}

#[test]
fn chunks_keep_the_order_and_a_small_batch_whole() {
    let b = parse(Path::new("r.json"), FULL).unwrap();
    // 2 organisations, 1 person, 1 resource, 2 roles.
    let one: Vec<_> = chunks(&b, CHUNK).collect();
    assert_eq!(one, std::slice::from_ref(&b));
    let small: Vec<_> = chunks(&b, 4).collect();
    assert_eq!(small.len(), 2);
    assert_eq!(
        (
            small[0].organizations.len(),
            small[0].persons.len(),
            small[0].resources.len()
        ),
        (2, 1, 1)
    );
    assert_eq!(small[1].roles, b.roles);
    // Cut inside the lists: every entry once, in order.
    let three: Vec<_> = chunks(&b, 3).collect();
    assert_eq!(three.len(), 2);
    assert_eq!(
        (three[0].organizations.len(), three[0].persons.len()),
        (2, 1)
    );
    assert_eq!((three[1].resources.len(), three[1].roles.len()), (1, 2));
    let five: Vec<_> = chunks(&b, 5).collect();
    assert_eq!(five.iter().map(entries).collect::<Vec<_>>(), [5, 1]);
    assert_eq!(five[0].roles, b.roles[..1]);
    assert_eq!(five[1].roles, b.roles[1..]);
    assert_eq!(
        chunks(&RegistryBatch::default(), 3).collect::<Vec<_>>(),
        [RegistryBatch::default()]
    );
}

/// A SQLite store whose `upsert_registry` fails from the `fail_at`th call (1-based) on.
struct FailingStore {
    inner: melding_store_sqlite::SqliteStore,
    fail_at: usize,
    calls: Mutex<usize>,
}

#[async_trait]
impl RegistryStore for FailingStore {
    async fn upsert_registry(&self, batch: &RegistryBatch) -> Result<(), StoreError> {
        let call = {
            let mut calls = self.calls.lock().unwrap();
            *calls += 1;
            *calls
        };
        if call >= self.fail_at {
            return Err(StoreError::Unavailable("the disk is full".into()));
        }
        self.inner.upsert_registry(batch).await
    }
    async fn resource(&self, id: &str) -> Result<Option<Resource>, StoreError> {
        self.inner.resource(id).await
    }
    async fn organization(&self, org: &OrgNumber) -> Result<Option<Organization>, StoreError> {
        self.inner.organization(org).await
    }
    async fn person(&self, id: &NationalId) -> Result<Option<Person>, StoreError> {
        self.inner.person(id).await
    }
    async fn unknown_parties(&self, parties: &[Party]) -> Result<Vec<Party>, StoreError> {
        self.inner.unknown_parties(parties).await
    }
    async fn self_identified_user(
        &self,
        user: &melding_domain::SelfIdentified,
    ) -> Result<Option<melding_store::SelfIdentifiedUser>, StoreError> {
        self.inner.self_identified_user(user).await
    }

    async fn reserved_persons(
        &self,
        persons: &[NationalId],
    ) -> Result<Vec<NationalId>, StoreError> {
        self.inner.reserved_persons(persons).await
    }
    async fn holdings(&self, person: &NationalId, org: &OrgNumber) -> Result<Holdings, StoreError> {
        self.inner.holdings(person, org).await
    }
    async fn organizations_of(&self, person: &NationalId) -> Result<Vec<OrgNumber>, StoreError> {
        self.inner.organizations_of(person).await
    }
    async fn change_delegation(&self, change: &DelegationChange) -> Result<bool, StoreError> {
        self.inner.change_delegation(change).await
    }
    async fn organization_roles(&self, org: &OrgNumber) -> Result<Vec<RoleAssignment>, StoreError> {
        self.inner.organization_roles(org).await
    }
    async fn delegation_log(&self, org: &OrgNumber) -> Result<Vec<DelegationChange>, StoreError> {
        self.inner.delegation_log(org).await
    }

    async fn change_contacts(
        &self,
        org: &OrgNumber,
        change: &melding_store::ContactChange,
    ) -> Result<melding_store::ContactOutcome, StoreError> {
        self.inner.change_contacts(org, change).await
    }
}

#[tokio::test]
async fn a_store_failure_midway_says_what_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("nationalId,name\n");
    for n in 1..=10 {
        text.push_str(&format!("{},Person {n}\n", nid(n)));
    }
    let import = read_file(&dir, "p.csv", &text, None).unwrap();
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let failing = |dir, fail_at| async move {
        FailingStore {
            inner: store(dir).await,
            fail_at,
            calls: Mutex::new(0),
        }
    };
    let first = failing(&dirs[0], 1).await;
    let e = format!(
        "{:#}",
        apply_in_chunks(&import, &first, false, 4)
            .await
            .unwrap_err()
    );
    assert!(e.contains("p.csv: nothing was imported"), "{e}");
    assert!(e.contains("the disk is full"), "{e}");

    let third = failing(&dirs[1], 3).await;
    let e = format!(
        "{:#}",
        apply_in_chunks(&import, &third, false, 4)
            .await
            .unwrap_err()
    );
    assert!(
        e.contains("the first 8 of 10 entries were imported and stay"),
        "{e}"
    );
    assert!(e.contains("running it again completes it"), "{e}");
    assert!(
        third
            .person(&NationalId::parse(&nid(8)).unwrap())
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        third
            .person(&NationalId::parse(&nid(9)).unwrap())
            .await
            .unwrap()
            .is_none()
    );
}
