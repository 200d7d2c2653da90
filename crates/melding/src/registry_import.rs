//! `melding registry import FILE.json`: organisations, persons and resources, upserted in one
//! transaction. A bad entry is reported by its place in the file and nothing is applied.

use std::path::Path;

use anyhow::{Context, bail};
use melding_domain::{NationalId, OrgNumber};
use melding_store::{Organization, Person, RegistryBatch, Resource};
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
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct OrganizationEntry {
    org_number: OrgNumber,
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PersonEntry {
    national_id: NationalId,
    name: String,
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
    }
    for (i, p) in file.persons.iter().enumerate() {
        if p.name.trim().is_empty() {
            bail!("{}: persons[{i}].name: must not be empty", path.display());
        }
    }
    Ok(RegistryBatch {
        organizations: file
            .organizations
            .into_iter()
            .map(|o| Organization {
                org_number: o.org_number,
                name: o.name,
            })
            .collect(),
        persons: file
            .persons
            .into_iter()
            .map(|p| Person {
                national_id: p.national_id,
                name: p.name,
            })
            .collect(),
        resources: file
            .resources
            .into_iter()
            .map(|r| Resource {
                id: r.id,
                owner: r.owner,
                service_owner_code: r.service_owner_code,
                title: r.title,
                confidential: r.confidential,
            })
            .collect(),
    })
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
}
