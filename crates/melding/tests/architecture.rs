//! The crate layering of DESIGN.md ("Crate | Holds | May depend on", and the rules under it),
//! checked from `cargo metadata`: a crate that gains a dependency the table does not allow fails
//! this test, and so does a new crate that is not in the table.
//!
//! What is checked:
//! - Between workspace crates, each crate's normal (non-dev) dependencies are among those the table
//!   allows it. Dev-dependencies are free: tests may use anything.
//! - Only the store crates touch SQL at run time: `sqlx` is a normal dependency of the store
//!   backends alone. The named exceptions are the benchmark's raw database baselines
//!   (`melding-bench`) and the test helpers that create throwaway databases (dev-dependencies).
//! - Only `melding-http` and `melding-web` use axum.
//! - `melding-core` names no concrete backend: no store backend, no `sqlx`, no `object_store`,
//!   no SMTP client.
//! - `melding-domain` has no async runtime anywhere in its dependency tree.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

/// DESIGN.md's table: each workspace crate and the workspace crates it may depend on.
const LAYERS: &[(&str, &[&str])] = &[
    ("melding-domain", &[]),
    ("melding-api-types", &["melding-domain"]),
    ("melding-store", &["melding-domain"]),
    ("melding-store-sqlite", &["melding-store", "melding-domain"]),
    (
        "melding-store-postgres",
        &["melding-store", "melding-domain"],
    ),
    ("melding-store-tests", &["melding-store", "melding-domain"]),
    ("melding-blob", &["melding-domain"]),
    ("melding-scan", &[]),
    ("melding-zip", &["melding-domain"]),
    ("melding-delivery", &["melding-domain"]),
    ("melding-print", &["melding-domain"]),
    ("melding-jobs", &["melding-store", "melding-domain"]),
    (
        "melding-core",
        &[
            "melding-domain",
            "melding-store",
            "melding-blob",
            "melding-scan",
            // Beyond the table: the streamed zip writer, which core wraps for "download all" so
            // that `melding-http` needs no more than core.
            "melding-zip",
            "melding-delivery",
            "melding-jobs",
        ],
    ),
    (
        "melding-http",
        &["melding-core", "melding-api-types", "melding-domain"],
    ),
    ("melding-web", &["melding-core", "melding-domain"]),
    // The composition root may depend on everything.
    ("melding", &["*"]),
    // The benchmark talks to the binary over HTTP and to the databases with sqlx; it takes the
    // synthetic identifiers of its registry from the domain.
    ("melding-bench", &["melding-domain"]),
];

/// Crates that may use sqlx at run time: the store backends, and the benchmark's raw baselines.
const SQL: &[&str] = &[
    "melding-store-sqlite",
    "melding-store-postgres",
    "melding-bench",
];

/// Crates that may use axum.
const AXUM: &[&str] = &["melding-http", "melding-web"];

/// What `melding-core` must not name: the concrete backends behind its traits.
const CONCRETE_BACKENDS: &[&str] = &[
    "melding-store-sqlite",
    "melding-store-postgres",
    "sqlx",
    "object_store",
    "lettre",
];

/// Async runtimes that `melding-domain` must not pull in, directly or through a dependency.
const RUNTIMES: &[&str] = &["tokio", "async-std", "smol", "async-executor"];

struct Workspace {
    /// Workspace crate → its normal dependencies (by package name).
    normal: BTreeMap<String, BTreeSet<String>>,
    metadata: Value,
}

fn workspace() -> Workspace {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml");
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--locked",
            "--manifest-path",
        ])
        .arg(manifest)
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata is JSON");
    let members: BTreeSet<&str> = metadata["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    let mut normal = BTreeMap::new();
    for p in metadata["packages"].as_array().unwrap() {
        if !members.contains(p["id"].as_str().unwrap()) {
            continue;
        }
        let deps = p["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["kind"].is_null())
            .map(|d| d["name"].as_str().unwrap().to_owned())
            .collect();
        normal.insert(p["name"].as_str().unwrap().to_owned(), deps);
    }
    Workspace { normal, metadata }
}

impl Workspace {
    /// Every package in the normal dependency tree of `name` (itself excluded), from the resolve
    /// graph.
    fn normal_closure(&self, name: &str) -> BTreeSet<String> {
        let packages: BTreeMap<&str, &str> = self.metadata["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
            .collect();
        let nodes: BTreeMap<&str, &Value> = self.metadata["resolve"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| (n["id"].as_str().unwrap(), n))
            .collect();
        let start = packages
            .iter()
            .find(|(_, n)| **n == name)
            .map(|(id, _)| *id)
            .unwrap_or_else(|| panic!("{name} is not in the workspace"));
        let mut seen = BTreeSet::new();
        let mut todo = vec![start];
        while let Some(id) = todo.pop() {
            for dep in nodes[id]["deps"].as_array().unwrap() {
                let normal = dep["dep_kinds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|k| k["kind"].is_null());
                let dep_id = dep["pkg"].as_str().unwrap();
                if normal && seen.insert(packages[dep_id].to_owned()) {
                    todo.push(dep_id);
                }
            }
        }
        seen
    }
}

#[test]
fn workspace_crates_depend_only_as_the_design_allows() {
    let ws = workspace();
    let layers: BTreeMap<&str, &[&str]> = LAYERS.iter().copied().collect();
    let members: BTreeSet<&String> = ws.normal.keys().collect();
    let mut faults = Vec::new();
    for (krate, deps) in &ws.normal {
        let Some(allowed) = layers.get(krate.as_str()) else {
            faults.push(format!(
                "{krate} is not in DESIGN.md's crate table (add it there and to LAYERS)"
            ));
            continue;
        };
        if allowed.contains(&"*") {
            continue;
        }
        for dep in deps.iter().filter(|d| members.contains(d)) {
            if !allowed.contains(&dep.as_str()) {
                faults.push(format!("{krate} depends on {dep}"));
            }
        }
    }
    assert!(
        faults.is_empty(),
        "dependencies DESIGN.md does not allow:\n{}",
        faults.join("\n")
    );
}

#[test]
fn only_the_stores_touch_sql_and_only_the_web_crates_touch_axum() {
    let ws = workspace();
    let mut faults = Vec::new();
    for (krate, deps) in &ws.normal {
        if deps.contains("sqlx") && !SQL.contains(&krate.as_str()) {
            faults.push(format!("{krate} uses sqlx at run time"));
        }
        let axum = deps.contains("axum") || deps.contains("utoipa-axum");
        if axum && !AXUM.contains(&krate.as_str()) {
            faults.push(format!("{krate} uses axum"));
        }
    }
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}

#[test]
fn core_names_no_concrete_backend() {
    let ws = workspace();
    let named: Vec<&String> = ws.normal["melding-core"]
        .iter()
        .filter(|d| CONCRETE_BACKENDS.contains(&d.as_str()))
        .collect();
    assert!(named.is_empty(), "melding-core depends on {named:?}");
}

#[test]
fn the_domain_has_no_async_runtime() {
    let ws = workspace();
    let closure = ws.normal_closure("melding-domain");
    let runtimes: Vec<&String> = closure
        .iter()
        .filter(|p| RUNTIMES.contains(&p.as_str()))
        .collect();
    assert!(runtimes.is_empty(), "melding-domain pulls in {runtimes:?}");
    // The check can fail: the binary's own tree does hold a runtime.
    assert!(ws.normal_closure("melding").contains("tokio"));
}
