//! The CSV shape of a registry file: one kind of entry per file, a header row naming the
//! columns (in any order; optional columns may be left out), one entry per line, several values
//! in one cell separated by `|`. An error names the line and the column, e.g.
//! `persons.csv: line 7: nationalId: control digits do not match`.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use anyhow::anyhow;
use chrono::{DateTime, Utc};
use melding_domain::authz::Right;
use melding_domain::resource::check_authentication_level;
use melding_domain::{NationalId, OrgNumber};
use melding_store::{
    KrrContact, Organization, Person, PostalAddress, RegistryBatch, Resource, RoleAssignment,
    SelfIdentifiedUser,
};

use super::check::{self, Invalid};
use super::{Import, Kind, Place, Places};

/// The columns of each kind: the required ones first.
fn columns(kind: Kind) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        Kind::Persons => (
            &["nationalId", "name"],
            &[
                "reserved",
                "email",
                "emailUpdated",
                "emailVerified",
                "mobile",
                "mobileUpdated",
                "mobileVerified",
                "mailboxProvider",
                "mailboxAddress",
                "addressLines",
                "postalCode",
                "city",
                "country",
            ],
        ),
        Kind::Organizations => (
            &["orgNumber", "name"],
            &[
                "parent",
                "notificationEmails",
                "notificationMobiles",
                "addressLines",
                "postalCode",
                "city",
                "country",
            ],
        ),
        Kind::Resources => (
            &["id", "owner", "serviceOwnerCode", "title"],
            &[
                "confidential",
                "readPolicy",
                "resourceType",
                "minimumAuthenticationLevel",
            ],
        ),
        Kind::Roles => (&["orgNumber", "nationalId", "role"], &[]),
        // Each line fills exactly one of `email` and `username`.
        Kind::SelfIdentified => (&["name"], &["email", "username"]),
    }
}

/// The kind a header row names: roles have `role`, persons `nationalId`, organisations
/// `orgNumber`, resources `id`, and self-identified users `email` or `username` without a
/// `nationalId`.
fn infer(header: &[String]) -> Option<Kind> {
    let has = |c: &str| header.iter().any(|h| h == c);
    if has("role") {
        Some(Kind::Roles)
    } else if has("nationalId") {
        Some(Kind::Persons)
    } else if has("orgNumber") {
        Some(Kind::Organizations)
    } else if has("id") {
        Some(Kind::Resources)
    } else if has("email") || has("username") {
        Some(Kind::SelfIdentified)
    } else {
        None
    }
}

/// Parses a CSV registry file of `kind` (or the kind its header names); nothing is returned
/// unless every line is valid.
pub fn parse(path: &Path, input: impl Read, kind: Option<Kind>) -> anyhow::Result<Import> {
    let file = path.display();
    let mut reader = ::csv::ReaderBuilder::new()
        .trim(::csv::Trim::All)
        .from_reader(input);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| anyhow!("{file}: line 1: {}", csv_reason(&e)))?
        .iter()
        .map(str::to_owned)
        .collect();
    let kind = match kind.or_else(|| infer(&header)) {
        Some(k) => k,
        None => {
            return Err(anyhow!(
                "{file}: line 1: the header names no known kind of entry; give --kind (persons, organizations, resources, roles or self-identified)"
            ));
        }
    };
    let (required, optional) = columns(kind);
    let all = || required.iter().chain(optional).copied();
    let mut index = HashMap::new();
    for (i, h) in header.iter().enumerate() {
        if !all().any(|c| c == h) {
            return Err(anyhow!(
                "{file}: line 1: {h}: not a column of {kind} (columns: {})",
                all().collect::<Vec<_>>().join(", ")
            ));
        }
        if index.insert(h.clone(), i).is_some() {
            return Err(anyhow!("{file}: line 1: {h}: named twice"));
        }
    }
    for c in required {
        if !index.contains_key(*c) {
            return Err(anyhow!(
                "{file}: line 1: {c}: a required column of {kind} is missing"
            ));
        }
    }
    if kind == Kind::SelfIdentified
        && !index.contains_key("email")
        && !index.contains_key("username")
    {
        return Err(anyhow!(
            "{file}: line 1: email: a self-identified user needs an email or a username column"
        ));
    }

    let mut import = Import {
        path: path.to_owned(),
        places: Places::default(),
        batch: RegistryBatch::default(),
    };
    let mut record = ::csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(0, ::csv::Position::line);
                return Err(anyhow!("{file}: line {line}: {}", csv_reason(&e)));
            }
        }
        let line = record.position().map_or(0, ::csv::Position::line);
        // A blank line in the middle is skipped by the reader; one of only separators is not.
        let row = Row {
            path,
            record: &record,
            index: &index,
            line,
        };
        let b = &mut import.batch;
        match kind {
            Kind::Persons => b.persons.push(person(&row)?),
            Kind::Organizations => {
                // A CSV row carries no contacts: an organisation keeps those it has.
                let o = organization(&row)?;
                b.keep_contacts.insert(o.org_number.clone());
                b.organizations.push(o);
            }
            Kind::Resources => b.resources.push(resource(&row)?),
            Kind::Roles => b.roles.push(role(&row)?),
            Kind::SelfIdentified => b.self_identified_users.push(self_identified(&row)?),
        }
        let places = match kind {
            Kind::Persons => &mut import.places.persons,
            Kind::Organizations => &mut import.places.organizations,
            Kind::Resources => &mut import.places.resources,
            Kind::Roles => &mut import.places.roles,
            Kind::SelfIdentified => &mut import.places.self_identified_users,
        };
        places.push(Place::Csv(line));
    }
    Ok(import)
}

fn csv_reason(e: &::csv::Error) -> String {
    match e.kind() {
        ::csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("{len} columns where the header has {expected_len}")
        }
        ::csv::ErrorKind::Utf8 { .. } => "not UTF-8 text".to_owned(),
        _ => e.to_string(),
    }
}

/// One line, with the header's columns.
struct Row<'a> {
    path: &'a Path,
    record: &'a ::csv::StringRecord,
    index: &'a HashMap<String, usize>,
    line: u64,
}

impl Row<'_> {
    /// The cell of `column`, empty when the file has no such column.
    fn cell(&self, column: &str) -> &str {
        self.index
            .get(column)
            .and_then(|i| self.record.get(*i))
            .unwrap_or("")
    }

    fn opt(&self, column: &str) -> Option<&str> {
        Some(self.cell(column)).filter(|c| !c.is_empty())
    }

    /// The `|`-separated values of `column`.
    fn list(&self, column: &str) -> Vec<&str> {
        self.cell(column)
            .split('|')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    }

    fn error(&self, column: &str, reason: impl std::fmt::Display) -> anyhow::Error {
        anyhow!(
            "{}: line {}: {column}: {reason}",
            self.path.display(),
            self.line
        )
    }

    fn check<T>(&self, column: &str, r: Result<T, String>) -> anyhow::Result<T> {
        r.map_err(|e| self.error(column, e))
    }

    fn national_id(&self, column: &str) -> anyhow::Result<NationalId> {
        NationalId::parse(self.cell(column)).map_err(|e| self.error(column, e))
    }

    fn org_number(&self, column: &str) -> anyhow::Result<OrgNumber> {
        OrgNumber::parse(self.cell(column)).map_err(|e| self.error(column, e))
    }

    fn flag(&self, column: &str) -> anyhow::Result<bool> {
        match self.cell(column).to_ascii_lowercase().as_str() {
            "" | "false" | "0" | "no" | "nei" => Ok(false),
            "true" | "1" | "yes" | "ja" => Ok(true),
            other => Err(self.error(column, format!("{other:?} is not true or false"))),
        }
    }

    fn time(&self, column: &str) -> anyhow::Result<Option<DateTime<Utc>>> {
        self.opt(column)
            .map(|t| {
                DateTime::parse_from_rfc3339(t)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|e| self.error(column, format!("{t:?} is not an RFC 3339 time: {e}")))
            })
            .transpose()
    }

    /// Every value of a `|`-separated column, checked.
    fn each(
        &self,
        column: &str,
        check: impl Fn(&str) -> Result<String, String>,
    ) -> anyhow::Result<Vec<String>> {
        self.list(column)
            .into_iter()
            .map(|v| self.check(column, check(v)))
            .collect()
    }

    /// The address in `addressLines`, `postalCode`, `city` and `country`; none when all are
    /// empty.
    fn address(&self) -> anyhow::Result<Option<PostalAddress>> {
        let columns = ["addressLines", "postalCode", "city", "country"];
        if columns.iter().all(|c| self.opt(c).is_none()) {
            return Ok(None);
        }
        let a = PostalAddress {
            lines: self
                .list("addressLines")
                .into_iter()
                .map(str::to_owned)
                .collect(),
            postal_code: self.cell("postalCode").to_owned(),
            city: self.cell("city").to_owned(),
            country: self.opt("country").map(str::to_owned),
            // Address protection comes with the JSON import only (`protected`).
            protected: false,
        };
        check::address(a).map(Some).map_err(|e| {
            let column = if e.at.starts_with("lines") {
                "addressLines"
            } else {
                &e.at
            };
            self.error(column, e.reason)
        })
    }
}

fn person(row: &Row<'_>) -> anyhow::Result<Person> {
    let krr_columns = [
        "email",
        "emailUpdated",
        "emailVerified",
        "mobile",
        "mobileUpdated",
        "mobileVerified",
        "mailboxProvider",
        "mailboxAddress",
    ];
    let krr = if krr_columns.iter().all(|c| row.opt(c).is_none()) {
        None
    } else {
        let k = KrrContact {
            email: row.opt("email").map(str::to_owned),
            email_updated: row.time("emailUpdated")?,
            email_verified: row.time("emailVerified")?,
            mobile: row.opt("mobile").map(str::to_owned),
            mobile_updated: row.time("mobileUpdated")?,
            mobile_verified: row.time("mobileVerified")?,
            mailbox_provider: row.opt("mailboxProvider").map(str::to_owned),
            mailbox_address: row.opt("mailboxAddress").map(str::to_owned),
        };
        Some(check::krr(k).map_err(|Invalid { at, reason }| row.error(&at, reason))?)
    };
    Ok(Person {
        national_id: row.national_id("nationalId")?,
        name: row.check("name", check::name(row.cell("name")))?,
        reserved: row.flag("reserved")?,
        address: row.address()?,
        krr,
    })
}

fn organization(row: &Row<'_>) -> anyhow::Result<Organization> {
    let org_number = row.org_number("orgNumber")?;
    let parent = row
        .opt("parent")
        .map(|_| row.org_number("parent"))
        .transpose()?;
    if parent.as_ref() == Some(&org_number) {
        return Err(row.error("parent", "an organisation is not its own main unit"));
    }
    Ok(Organization {
        name: row.check("name", check::name(row.cell("name")))?,
        parent,
        address: row.address()?,
        notification_emails: row.each("notificationEmails", check::email)?,
        notification_mobiles: row.each("notificationMobiles", check::mobile)?,
        contacts: Vec::new(),
        org_number,
    })
}

fn resource(row: &Row<'_>) -> anyhow::Result<Resource> {
    Ok(Resource {
        id: row.check("id", check::resource_id(row.cell("id")))?,
        owner: row.org_number("owner")?,
        service_owner_code: row.check(
            "serviceOwnerCode",
            check::name(row.cell("serviceOwnerCode")),
        )?,
        title: row.check("title", check::name(row.cell("title")))?,
        confidential: row.flag("confidential")?,
        read_policy: row
            .list("readPolicy")
            .into_iter()
            .map(|r| Right::parse(r).map_err(|e| row.error("readPolicy", e)))
            .collect::<anyhow::Result<_>>()?,
        resource_type: row
            .opt("resourceType")
            .map(|t| row.check("resourceType", check::resource_type(t)))
            .transpose()?
            .unwrap_or_default(),
        minimum_authentication_level: row
            .opt("minimumAuthenticationLevel")
            .map(|l| {
                let level = l
                    .parse::<i64>()
                    .map_err(|_| format!("{l:?} is not a whole number"))
                    .and_then(check_authentication_level);
                row.check("minimumAuthenticationLevel", level)
            })
            .transpose()?
            .unwrap_or(0),
    })
}

fn self_identified(row: &Row<'_>) -> anyhow::Result<SelfIdentifiedUser> {
    let user = match (row.opt("email"), row.opt("username")) {
        (Some(email), None) => row.check("email", check::self_identified_email(email))?,
        (None, Some(name)) => row.check("username", check::self_identified_username(name))?,
        (_, _) => return Err(row.error("email", check::ONE_LOGIN)),
    };
    Ok(SelfIdentifiedUser {
        user,
        name: row.check("name", check::name(row.cell("name")))?,
    })
}

fn role(row: &Row<'_>) -> anyhow::Result<RoleAssignment> {
    Ok(RoleAssignment {
        org: row.org_number("orgNumber")?,
        person: row.national_id("nationalId")?,
        role: row.check("role", check::role(row.cell("role")))?,
    })
}
