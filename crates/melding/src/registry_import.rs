//! `melding registry import FILE`: organisations (with their main unit, address and contacts),
//! persons (with their KRR entry and address), self-identified users (by e-mail login or legacy
//! user name), resources (with their type, authentication level and read policy) and
//! Enhetsregisteret roles, from a JSON file of any kinds or a CSV file of one kind.
//!
//! The whole file is read and checked before anything is written: a bad entry is reported by
//! its place (`persons[3].krr.mobile`, `line 7: mobile`) and nothing is applied. A valid file is
//! then written in transactions of [`CHUNK`] entries, so a million persons need not fit in one
//! transaction; only a store failure midway leaves the earlier transactions applied, and since
//! every write is an upsert, running the same import again completes it. An import adds roles
//! and never removes one.

mod check;
mod csv;
mod json;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use melding_domain::Party;
use melding_store::{RegistryBatch, RegistryStore, StoreError};

pub use json::parse as parse_json;

/// Entries per transaction when writing an import.
pub const CHUNK: usize = 10_000;

/// The kind of entry a CSV file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    Persons,
    Organizations,
    Resources,
    Roles,
    /// Self-identified users (`--kind self-identified`).
    SelfIdentified,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Persons => "persons",
            Kind::Organizations => "organizations",
            Kind::Resources => "resources",
            Kind::Roles => "roles",
            Kind::SelfIdentified => "self-identified",
        })
    }
}

/// Where an entry came from, for messages: an index in a JSON list or a line of a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Json(&'static str, usize),
    Csv(u64),
}

impl Place {
    /// The place of `field` in this entry: `roles[2].nationalId` or `line 3: nationalId`.
    fn field(self, field: &str) -> String {
        match self {
            Place::Json(list, i) => format!("{list}[{i}].{field}"),
            Place::Csv(line) => format!("line {line}: {field}"),
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Json(list, i) => write!(f, "{list}[{i}]"),
            Place::Csv(line) => write!(f, "line {line}"),
        }
    }
}

/// The places of a batch's entries, list by list.
#[derive(Debug, Clone, Default)]
struct Places {
    organizations: Vec<Place>,
    persons: Vec<Place>,
    resources: Vec<Place>,
    roles: Vec<Place>,
    self_identified_users: Vec<Place>,
}

/// A file read and checked, ready to apply.
#[derive(Debug, Clone)]
pub struct Import {
    pub path: PathBuf,
    pub batch: RegistryBatch,
    places: Places,
}

/// Reads and checks a registry file: CSV when its name ends in `.csv` (of `kind`, or the kind
/// its header names), JSON otherwise. `progress` shows a bar on stderr.
pub fn read(path: &Path, kind: Option<Kind>, progress: bool) -> anyhow::Result<Import> {
    let import = if is_csv(path) {
        let file =
            std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let bar = bar(progress, size, "reading", "{bytes}/{total_bytes}");
        let import = csv::parse(path, std::io::BufReader::new(bar.wrap_read(file)), kind);
        bar.finish_and_clear();
        import?
    } else {
        anyhow::ensure!(
            kind.is_none(),
            "{}: --kind is for CSV files; a JSON file names its kinds",
            path.display()
        );
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        json::parse(path, &text)?
    };
    unique(&import)?;
    Ok(import)
}

fn is_csv(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

/// Refuses an organisation, person or resource listed twice: which entry should win is not
/// the importer's to guess.
fn unique(import: &Import) -> anyhow::Result<()> {
    fn check<'a>(
        path: &Path,
        keys: impl Iterator<Item = &'a str>,
        places: &[Place],
        field: &str,
    ) -> anyhow::Result<()> {
        let mut seen: HashMap<&str, Place> = HashMap::new();
        for (key, place) in keys.zip(places) {
            if let Some(first) = seen.insert(key, *place) {
                bail!(
                    "{}: {}: {key} is listed twice (also at {first})",
                    path.display(),
                    place.field(field)
                );
            }
        }
        Ok(())
    }
    let (b, p) = (&import.batch, &import.places);
    let path = import.path.as_path();
    check(
        path,
        b.organizations.iter().map(|o| o.org_number.as_str()),
        &p.organizations,
        "orgNumber",
    )?;
    check(
        path,
        b.persons.iter().map(|p| p.national_id.as_str()),
        &p.persons,
        "nationalId",
    )?;
    check(
        path,
        b.resources.iter().map(|r| r.id.as_str()),
        &p.resources,
        "id",
    )?;
    // A self-identified user by their login: the e-mail address or the user name.
    let urns: Vec<String> = b
        .self_identified_users
        .iter()
        .map(|u| u.user.urn())
        .collect();
    for (login, field) in [
        (melding_domain::recipient::EMAIL_URN, "email"),
        (melding_domain::recipient::SELF_IDENTIFIED_URN, "username"),
    ] {
        let (keys, places): (Vec<&str>, Vec<Place>) = urns
            .iter()
            .zip(&p.self_identified_users)
            .filter_map(|(urn, place)| urn.strip_prefix(login).map(|key| (key, *place)))
            .unzip();
        check(path, keys.into_iter(), &places, field)?;
    }
    Ok(())
}

/// Applies a checked file. A role must name an organisation and a person that are in the file
/// or already registered; the first that does not is reported by its place and nothing is
/// applied. The entries are then written in transactions of [`CHUNK`].
pub async fn apply(
    import: &Import,
    store: &dyn RegistryStore,
    progress: bool,
) -> anyhow::Result<()> {
    apply_in_chunks(import, store, progress, CHUNK).await
}

async fn apply_in_chunks(
    import: &Import,
    store: &dyn RegistryStore,
    progress: bool,
    chunk: usize,
) -> anyhow::Result<()> {
    let path = import.path.display();
    let batch = &import.batch;
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
    let mut asked: HashSet<Party> = HashSet::new();
    for r in &batch.roles {
        for p in [
            Party::Organization(r.org.clone()),
            Party::Person(r.person.clone()),
        ] {
            if !in_file.contains(&p) && asked.insert(p.clone()) {
                elsewhere.push(p);
            }
        }
    }
    let unknown: HashSet<Party> = store
        .unknown_parties(&elsewhere)
        .await
        .context("checking the parties of the roles")?
        .into_iter()
        .collect();
    for (r, place) in batch.roles.iter().zip(&import.places.roles) {
        if unknown.contains(&Party::Organization(r.org.clone())) {
            bail!(
                "{path}: {}: no such organisation in this file or the registry; nothing was imported",
                place.field("orgNumber")
            );
        }
        if unknown.contains(&Party::Person(r.person.clone())) {
            bail!(
                "{path}: {}: no such person in this file or the registry; nothing was imported",
                place.field("nationalId")
            );
        }
    }

    let total = entries(batch);
    let bar = bar(progress, total as u64, "writing", "{pos}/{len} entries");
    let mut written = 0;
    for chunk in chunks(batch, chunk) {
        let n = entries(&chunk);
        if let Err(e) = store.upsert_registry(&chunk).await {
            bar.abandon();
            let what = if written == 0 {
                "nothing was imported".to_owned()
            } else {
                format!(
                    "the first {written} of {total} entries were imported and stay; the import is \
                     an upsert, so running it again completes it"
                )
            };
            return Err(match e {
                // The check above passed, so a party was removed meanwhile; the store undid
                // this transaction.
                StoreError::NotFound => anyhow::anyhow!(
                    "{path}: roles: a role names an organisation or person that is not registered; {what}"
                ),
                e => anyhow::Error::new(e).context(format!("importing {path}: {what}")),
            });
        }
        written += n;
        bar.inc(n as u64);
    }
    bar.finish_and_clear();
    Ok(())
}

fn entries(b: &RegistryBatch) -> usize {
    b.organizations.len()
        + b.persons.len()
        + b.resources.len()
        + b.roles.len()
        + b.self_identified_users.len()
}

/// `batch` cut into batches of at most `size` entries, made one at a time, in the order
/// organisations, persons, resources, roles, self-identified users: a resource's owner and a
/// role's parties are written before it (or in the same transaction). A batch of at most `size`
/// stays one transaction.
fn chunks(batch: &RegistryBatch, size: usize) -> impl Iterator<Item = RegistryBatch> + '_ {
    let total = entries(batch);
    let count = total.div_ceil(size).max(1);
    (0..count).map(move |k| {
        let (start, end) = (k * size, ((k + 1) * size).min(total));
        // Each list's part of [start, end), the lists laid end to end.
        let mut offset = 0;
        let mut part = |len: usize| {
            let range = start.clamp(offset, offset + len) - offset
                ..end.clamp(offset, offset + len) - offset;
            offset += len;
            range
        };
        RegistryBatch {
            organizations: batch.organizations[part(batch.organizations.len())].to_vec(),
            keep_contacts: batch.keep_contacts.clone(),
            persons: batch.persons[part(batch.persons.len())].to_vec(),
            resources: batch.resources[part(batch.resources.len())].to_vec(),
            roles: batch.roles[part(batch.roles.len())].to_vec(),
            self_identified_users: batch.self_identified_users
                [part(batch.self_identified_users.len())]
            .to_vec(),
        }
    })
}

/// A progress bar on stderr, or a hidden one.
fn bar(show: bool, len: u64, message: &'static str, counts: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len).with_message(message);
    let template = format!("{{msg:8}} [{{wide_bar}}] {counts} ({{eta}})");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

#[cfg(test)]
mod tests;
