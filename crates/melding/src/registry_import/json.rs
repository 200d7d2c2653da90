//! The JSON shape of a registry file: one object with any of `organizations`, `persons`,
//! `selfIdentifiedUsers`, `resources` and `roles`. Unknown fields are an error; an error names the entry, e.g.
//! `registry.json: organizations[2].orgNumber: control digits do not match`.

use std::path::Path;

use anyhow::anyhow;
use melding_domain::authz::Right;
use melding_domain::resource::check_authentication_level;
use melding_domain::{NationalId, OrgNumber};
use melding_store::{
    KrrContact, OrgContact, Organization, Person, PostalAddress, RegistryBatch, Resource,
    RoleAssignment, SelfIdentifiedUser,
};
use serde::Deserialize;

use super::check::{self, Invalid};
use super::{Import, Place, Places};

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
    #[serde(default)]
    self_identified_users: Vec<SelfIdentifiedEntry>,
}

/// A self-identified user: exactly one of `email` (an ID-porten e-mail login) and `username` (a
/// legacy Altinn 2 user), and a name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SelfIdentifiedEntry {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    username: Option<String>,
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct OrganizationEntry {
    org_number: OrgNumber,
    name: String,
    /// The main unit, for a sub-unit.
    #[serde(default)]
    parent: Option<OrgNumber>,
    #[serde(default)]
    address: Option<PostalAddress>,
    #[serde(default)]
    notification_emails: Vec<String>,
    #[serde(default)]
    notification_mobiles: Vec<String>,
    /// Absent: an organisation already registered keeps the contacts it has.
    #[serde(default)]
    contacts: Option<Vec<OrgContact>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PersonEntry {
    national_id: NationalId,
    name: String,
    /// Reserved in KRR against digital post.
    #[serde(default)]
    reserved: bool,
    #[serde(default)]
    address: Option<PostalAddress>,
    #[serde(default)]
    krr: Option<KrrContact>,
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
    /// The Resource Registry's type; absent means `CorrespondenceService`. Parsed after the
    /// file, so an error names the entry.
    #[serde(default)]
    resource_type: Option<String>,
    /// The minimum authentication level, 0–4; absent means 0.
    #[serde(default)]
    minimum_authentication_level: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RoleEntry {
    org_number: OrgNumber,
    national_id: NationalId,
    role: String,
}

/// Parses a registry file in JSON; nothing is returned unless every entry is valid.
pub fn parse(path: &Path, text: &str) -> anyhow::Result<Import> {
    let file_name = path.display();
    let mut de = serde_json::Deserializer::from_str(text);
    let file: RegistryFile = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let at = e.path().to_string();
        let line = e.inner().line();
        anyhow!("{file_name}: line {line}: {at}: {}", e.into_inner())
    })?;
    // `field` is the entry's path, e.g. `persons[3].krr`.
    let fail = |field: String, reason: String| anyhow!("{file_name}: {field}: {reason}");
    let nested = |field: String, e: Invalid| {
        let sep = if e.at.is_empty() || e.at.starts_with('[') {
            ""
        } else {
            "."
        };
        anyhow!("{file_name}: {field}{sep}{}: {}", e.at, e.reason)
    };

    let mut organizations = Vec::with_capacity(file.organizations.len());
    let mut keep_contacts = std::collections::BTreeSet::new();
    for (i, o) in file.organizations.into_iter().enumerate() {
        let entry = format!("organizations[{i}]");
        let name = check::name(&o.name).map_err(|r| fail(format!("{entry}.name"), r))?;
        if o.parent.as_ref() == Some(&o.org_number) {
            return Err(fail(
                format!("{entry}.parent"),
                "an organisation is not its own main unit".into(),
            ));
        }
        let address = o
            .address
            .map(check::address)
            .transpose()
            .map_err(|e| nested(format!("{entry}.address"), e))?;
        let notification_emails = each(&o.notification_emails, check::email)
            .map_err(|(j, r)| fail(format!("{entry}.notificationEmails[{j}]"), r))?;
        let notification_mobiles = each(&o.notification_mobiles, check::mobile)
            .map_err(|(j, r)| fail(format!("{entry}.notificationMobiles[{j}]"), r))?;
        if o.contacts.is_none() {
            keep_contacts.insert(o.org_number.clone());
        }
        let contacts = check::contacts(o.contacts.unwrap_or_default())
            .map_err(|e| nested(format!("{entry}.contacts"), e))?;
        organizations.push(Organization {
            org_number: o.org_number,
            name,
            parent: o.parent,
            address,
            notification_emails,
            notification_mobiles,
            contacts,
        });
    }

    let mut persons = Vec::with_capacity(file.persons.len());
    for (i, p) in file.persons.into_iter().enumerate() {
        let entry = format!("persons[{i}]");
        persons.push(Person {
            name: check::name(&p.name).map_err(|r| fail(format!("{entry}.name"), r))?,
            reserved: p.reserved,
            address: p
                .address
                .map(check::address)
                .transpose()
                .map_err(|e| nested(format!("{entry}.address"), e))?,
            krr: p
                .krr
                .map(check::krr)
                .transpose()
                .map_err(|e| nested(format!("{entry}.krr"), e))?,
            national_id: p.national_id,
        });
    }

    let mut resources = Vec::with_capacity(file.resources.len());
    for (i, r) in file.resources.into_iter().enumerate() {
        let entry = format!("resources[{i}]");
        let id = check::resource_id(&r.id).map_err(|e| fail(format!("{entry}.id"), e))?;
        let read_policy = each(&r.read_policy, |s| {
            Right::parse(s).map_err(|e| e.to_string())
        })
        .map_err(|(j, e)| fail(format!("{entry}.readPolicy[{j}]"), e))?;
        let resource_type = r
            .resource_type
            .as_deref()
            .map(check::resource_type)
            .transpose()
            .map_err(|e| fail(format!("{entry}.resourceType"), e))?
            .unwrap_or_default();
        let minimum_authentication_level = r
            .minimum_authentication_level
            .map(check_authentication_level)
            .transpose()
            .map_err(|e| fail(format!("{entry}.minimumAuthenticationLevel"), e))?
            .unwrap_or(0);
        resources.push(Resource {
            id,
            owner: r.owner,
            service_owner_code: r.service_owner_code,
            title: r.title,
            confidential: r.confidential,
            read_policy,
            resource_type,
            minimum_authentication_level,
        });
    }

    let mut roles = Vec::with_capacity(file.roles.len());
    for (i, r) in file.roles.into_iter().enumerate() {
        roles.push(RoleAssignment {
            role: check::role(&r.role).map_err(|e| fail(format!("roles[{i}].role"), e))?,
            org: r.org_number,
            person: r.national_id,
        });
    }

    let mut self_identified_users = Vec::with_capacity(file.self_identified_users.len());
    for (i, u) in file.self_identified_users.into_iter().enumerate() {
        let entry = format!("selfIdentifiedUsers[{i}]");
        let user = match (u.email.as_deref(), u.username.as_deref()) {
            (Some(email), None) => check::self_identified_email(email)
                .map_err(|e| fail(format!("{entry}.email"), e))?,
            (None, Some(name)) => check::self_identified_username(name)
                .map_err(|e| fail(format!("{entry}.username"), e))?,
            _ => return Err(fail(entry, check::ONE_LOGIN.into())),
        };
        self_identified_users.push(SelfIdentifiedUser {
            user,
            name: check::name(&u.name).map_err(|r| fail(format!("{entry}.name"), r))?,
        });
    }

    let places = |list: &'static str, n: usize| (0..n).map(|i| Place::Json(list, i)).collect();
    Ok(Import {
        path: path.to_owned(),
        places: Places {
            organizations: places("organizations", organizations.len()),
            persons: places("persons", persons.len()),
            resources: places("resources", resources.len()),
            roles: places("roles", roles.len()),
            self_identified_users: places("selfIdentifiedUsers", self_identified_users.len()),
        },
        batch: RegistryBatch {
            organizations,
            keep_contacts,
            persons,
            resources,
            roles,
            self_identified_users,
        },
    })
}

/// Checks every value of a list, reporting the first bad one by its index.
fn each<T>(
    values: &[String],
    check: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, (usize, String)> {
    values
        .iter()
        .enumerate()
        .map(|(j, v)| check(v).map_err(|e| (j, e)))
        .collect()
}
