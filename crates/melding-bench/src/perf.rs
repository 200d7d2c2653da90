//! `--perf DIR`: a system-wide `perf record` around each scenario, so the report can say where
//! the time went (Melding, its SQLite worker thread, PostgreSQL's backends, the kernel) and the
//! claim can be checked. `perf` must be installed; without `--perf` nothing here runs.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

static DIR: OnceLock<PathBuf> = OnceLock::new();

/// Turns profiling on for every scenario from now on.
pub fn enable(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let _ = DIR.set(dir.to_owned());
    Ok(())
}

/// A `perf record` running while one scenario runs.
pub struct Recording {
    child: Child,
    data: PathBuf,
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

/// Starts recording all CPUs (999 samples a second each, with call chains) if `--perf` was given.
pub fn start(label: &str, scenario: &str) -> Option<Recording> {
    let dir = DIR.get()?;
    let data = dir.join(format!("{}-{}.data", slug(label), slug(scenario)));
    let child = Command::new("perf")
        .args(["record", "-a", "-g", "-F", "999", "-q", "-o"])
        .arg(&data)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match child {
        Ok(child) => Some(Recording { child, data }),
        Err(e) => {
            eprintln!("  (perf record could not start: {e}; no profile for {scenario})");
            None
        }
    }
}

impl Recording {
    /// Stops recording and writes `<name>.txt` beside the data: the share of samples per
    /// process and the hottest symbols.
    pub fn finish(mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        let text = self.data.with_extension("txt");
        let report = |sort: &str| {
            Command::new("perf")
                .args(["report", "--stdio", "--no-children", "-g", "none"])
                .args(["--percent-limit", "0.5", "--sort", sort, "-i"])
                .arg(&self.data)
                .stderr(Stdio::null())
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default()
        };
        let body = format!("{}\n{}", report("comm"), report("comm,dso,sym"));
        if let Err(e) = std::fs::write(&text, body) {
            eprintln!("  (could not write {}: {e})", text.display());
        }
    }
}
