//! `melding registry import FILE.json`: organisations (with their main unit), persons (with
//! their KRR reservation), resources (with their read policy) and Enhetsregisteret roles,
//! upserted in one transaction. A bad entry is reported by its place in the file and nothing is
//! applied. An import adds roles and never removes one.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{Context, bail};
use melding_domain::authz::{KNOWN_ROLES, Right};
use melding_domain::{NationalId, OrgNumber, Party};
use melding_store::{
    Organization, Person, RegistryBatch, RegistryStore, Resource, RoleAssignment, StoreError,
};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RegistryFile {
    #[serde(default)]
    organizations: Vec<OrganizationEntry>,
    #[serde(default)]
    persons: Vec<PersonEntry>,
    #[serde(default)]
    resources: Vec<ResourceEntry>,
    #[serde(default)]
    roles: Vec<RoleEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct OrganizationEntry {
    org_number: OrgNumber,
    name: String,
    /// The main unit, for a sub-unit.
    #[serde(default)]
    parent: Option<OrgNumber>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PersonEntry {
    national_id: NationalId,
    name: String,
    /// Reserved in KRR against digital post.
    #[serde(default)]
    reserved: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ResourceEntry {
    id: String,
    owner: OrgNumber,
    service_owner_code: String,
    title: String,
    #[serde(default)]
    confidential: bool,
    /// Role codes and access package URNs that grant `read`; none means the ordinary-post
    /// package. Parsed after the file, so an error names the entry.
    #[serde(default)]
    read_policy: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RoleEntry {
    org_number: OrgNumber,
    national_id: NationalId,
    role: String,
}

/// Parses a registry file. Errors name the file and the entry, e.g.
/// `registry.json: organizations[2].orgNumber: control digits do not match`.
pub fn parse(path: &Path, text: &str) -> anyhow::Result<RegistryBatch> {
    let mut de = serde_json::Deserializer::from_str(text);
    let file: RegistryFile = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let at = e.path().to_string();
        let line = e.inner().line();
        anyhow::anyhow!("{}: line {line}: {at}: {}", path.display(), e.into_inner())
    })?;
    for (i, r) in file.resources.iter().enumerate() {
        if r.id.trim().is_empty() || r.id.contains(':') || r.id.chars().count() > 255 {
            bail!(
                "{}: resources[{i}].id: a resource id is 1–255 characters without ':'",
                path.display()
            );
        }
    }
    for (i, o) in file.organizations.iter().enumerate() {
        if o.name.trim().is_empty() {
            bail!(
                "{}: organizations[{i}].name: must not be empty",
                path.display()
            );
        }
        if o.parent.as_ref() == Some(&o.org_number) {
            bail!(
                "{}: organizations[{i}].parent: an organisation is not its own main unit",
                path.display()
            );
        }
    }
    for (i, p) in file.persons.iter().enumerate() {
        if p.name.trim().is_empty() {
            bail!("{}: persons[{i}].name: must not be empty", path.display());
        }
    }
    let mut policies = Vec::with_capacity(file.resources.len());
    for (i, r) in file.resources.iter().enumerate() {
        let policy = r
            .read_policy
            .iter()
            .enumerate()
            .map(|(j, right)| {
                Right::parse(right).map_err(|e| {
                    anyhow::anyhow!("{}: resources[{i}].readPolicy[{j}]: {e}", path.display())
                })
            })
            .collect::<anyhow::Result<Vec<Right>>>()?;
        policies.push(policy);
    }
    let mut roles = Vec::with_capacity(file.roles.len());
    for (i, r) in file.roles.into_iter().enumerate() {
        let role = r.role.trim().to_ascii_uppercase();
        if !KNOWN_ROLES.contains(&role.as_str()) {
            bail!(
                "{}: roles[{i}].role: unknown role {:?} (known roles: {})",
                path.display(),
                r.role,
                KNOWN_ROLES.join(", ")
            );
        }
        roles.push(RoleAssignment {
            org: r.org_number,
            person: r.national_id,
            role,
        });
    }
    Ok(RegistryBatch {
        organizations: file
            .organizations
            .into_iter()
            .map(|o| Organization {
                parent: o.parent,
                ..Organization::new(o.org_number, o.name)
            })
            .collect(),
        persons: file
            .persons
            .into_iter()
            .map(|p| Person {
                reserved: p.reserved,
                ..Person::new(p.national_id, p.name)
            })
            .collect(),
        resources: file
            .resources
            .into_iter()
            .zip(policies)
            .map(|(r, read_policy)| Resource {
                id: r.id,
                owner: r.owner,
                service_owner_code: r.service_owner_code,
                title: r.title,
                confidential: r.confidential,
                read_policy,
            })
            .collect(),
        roles,
    })
}

/// Applies a parsed file in one transaction. A role must name an organisation and a person that
/// are in the file or already registered; the first that does not is reported by its entry and
/// nothing is applied.
pub async fn apply(
    path: &Path,
    batch: &RegistryBatch,
    store: &dyn RegistryStore,
) -> anyhow::Result<()> {
    let in_file: HashSet<Party> = batch
        .organizations
        .iter()
        .map(|o| Party::Organization(o.org_number.clone()))
        .chain(
            batch
                .persons
                .iter()
                .map(|p| Party::Person(p.national_id.clone())),
        )
        .collect();
    let mut elsewhere: Vec<Party> = Vec::new();
    for r in &batch.roles {
        for p in [
            Party::Organization(r.org.clone()),
            Party::Person(r.person.clone()),
        ] {
            if !in_file.contains(&p) && !elsewhere.contains(&p) {
                elsewhere.push(p);
            }
        }
    }
    let unknown = store
        .unknown_parties(&elsewhere)
        .await
        .context("checking the parties of the roles")?;
    for (i, r) in batch.roles.iter().enumerate() {
        if unknown.contains(&Party::Organization(r.org.clone())) {
            bail!(
                "{}: roles[{i}].orgNumber: no such organisation in this file or the registry; nothing was imported",
                path.display()
            );
        }
        if unknown.contains(&Party::Person(r.person.clone())) {
            bail!(
                "{}: roles[{i}].nationalId: no such person in this file or the registry; nothing was imported",
                path.display()
            );
        }
    }
    match store.upsert_registry(batch).await {
        Ok(()) => Ok(()),
        // The check above passed, so a party was removed meanwhile; the store undid the import.
        Err(StoreError::NotFound) => bail!(
            "{}: roles: a role names an organisation or person that is not registered; nothing was imported",
            path.display()
        ),
        Err(e) => Err(e).context(format!("importing {}", path.display())),
    }
}

/// Reads and parses a registry file.
pub fn read(path: &Path) -> anyhow::Result<RegistryBatch> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse(path, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        apply(path, &parse(path, FULL).unwrap(), &store)
            .await
            .unwrap();
        // A later file with roles only, for parties registered before.
        let roles = r#"{"roles": [{"orgNumber": "974760673", "nationalId": "08089403198",
                                   "role": "KONT"}]}"#;
        apply(path, &parse(path, roles).unwrap(), &store)
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
        let e = apply(path, &parse(path, &unknown_person).unwrap(), &store)
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
        let e = apply(path, &parse(path, unknown_org).unwrap(), &store)
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
}
