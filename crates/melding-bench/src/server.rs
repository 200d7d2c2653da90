//! One Melding server under test: a `melding serve` child process on loopback with a fresh data
//! directory (and, for PostgreSQL, a database of its own), plus what the benchmark reads about it
//! from /proc.

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;

use crate::{RESOURCE, SENDER_ORG};

/// The registry every run imports: the sender with its resource, and the recipients.
#[derive(Debug)]
pub struct Registry {
    pub persons: Vec<String>,
    pub orgs: Vec<String>,
    /// Give every person a KRR e-mail address (`<national id>@bench.test`, updated now), so a
    /// letter with an e-mail notice to them becomes one e-mail.
    pub krr_emails: bool,
}

impl Registry {
    pub fn to_json(&self) -> serde_json::Value {
        let mut organizations = vec![json!({"orgNumber": SENDER_ORG, "name": "Bench Sender"})];
        organizations.extend(
            self.orgs
                .iter()
                .enumerate()
                .map(|(i, o)| json!({"orgNumber": o, "name": format!("Bench Org {i}")})),
        );
        let updated = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let persons: Vec<_> = self
            .persons
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut person = json!({"nationalId": p, "name": format!("Bench Person {i}")});
                if self.krr_emails {
                    person["krr"] = json!({"email": format!("{p}@bench.test"),
                                           "emailUpdated": updated});
                }
                person
            })
            .collect();
        json!({
            "organizations": organizations,
            "persons": persons,
            "resources": [{"id": RESOURCE, "owner": SENDER_ORG, "serviceOwnerCode": "bench",
                           "title": "Bench letters", "confidential": false}],
        })
    }
}

/// A running `melding serve`.
#[derive(Debug)]
pub struct Melding {
    child: Child,
    pub pid: u32,
    pub base: String,
    pub metrics: String,
    bin: PathBuf,
    pub data_dir: PathBuf,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn db_args(cmd: &mut Command, data_dir: &Path, database_url: Option<&str>) {
    cmd.arg("--data-dir").arg(data_dir);
    if let Some(url) = database_url {
        cmd.arg("--database-url").arg(url);
    }
    // A config file or database URL in the caller's environment must not leak into the run.
    cmd.env_remove("MELDING_CONFIG")
        .env_remove("MELDING_DATABASE_URL")
        .env_remove("MELDING_DATA_DIR");
}

fn run_quiet(cmd: &mut Command, what: &str) -> anyhow::Result<String> {
    let out = cmd.output().with_context(|| format!("running {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

impl Melding {
    /// Migrates, imports the registry and starts the server; returns once `/healthz` answers.
    pub async fn start(
        bin: &Path,
        data_dir: &Path,
        database_url: Option<&str>,
        registry: &Registry,
    ) -> anyhow::Result<Self> {
        Self::start_with(bin, data_dir, database_url, registry, &[]).await
    }

    /// [`Self::start`] with more arguments for `melding serve` (a config file, a job
    /// concurrency).
    pub async fn start_with(
        bin: &Path,
        data_dir: &Path,
        database_url: Option<&str>,
        registry: &Registry,
        serve_args: &[String],
    ) -> anyhow::Result<Self> {
        Self::start_json(bin, data_dir, database_url, &registry.to_json(), serve_args).await
    }

    /// [`Self::start_with`] importing `registry`, a `melding registry import` document, as it
    /// is (a registry the [`Registry`] shape cannot say, such as several senders).
    pub async fn start_json(
        bin: &Path,
        data_dir: &Path,
        database_url: Option<&str>,
        registry: &serde_json::Value,
        serve_args: &[String],
    ) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir)?;
        let reg_file = data_dir.join("bench-registry.json");
        std::fs::write(&reg_file, serde_json::to_vec(registry)?)?;
        let mut import = Command::new(bin);
        import.args(["registry", "import"]).arg(&reg_file);
        db_args(&mut import, data_dir, database_url);
        run_quiet(&mut import, "melding registry import")?;

        let port = free_port()?;
        let metrics_port = free_port()?;
        let log = File::create(data_dir.join("server.log"))?;
        let mut serve = Command::new(bin);
        serve
            .arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--metrics-listen")
            .arg(format!("127.0.0.1:{metrics_port}"))
            .args(serve_args);
        db_args(&mut serve, data_dir, database_url);
        let child = serve
            .env("MELDING_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting melding serve")?;
        let pid = child.id();
        let server = Self {
            child,
            pid,
            base: format!("http://127.0.0.1:{port}/correspondence/api/v1"),
            metrics: format!("http://127.0.0.1:{metrics_port}/metrics"),
            bin: bin.to_owned(),
            data_dir: data_dir.to_owned(),
        };
        let health = format!("http://127.0.0.1:{port}/healthz");
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if client
                .get(&health)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(server);
            }
            if Instant::now() > deadline {
                bail!(
                    "melding serve did not answer /healthz within 30 s; see {}",
                    data_dir.join("server.log").display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A development token from `melding token` on this server's data directory.
    pub fn token(&self, party: (&str, &str), scope: &str) -> anyhow::Result<String> {
        let mut cmd = Command::new(&self.bin);
        cmd.args([
            "token",
            "--init",
            party.0,
            party.1,
            "--scope",
            scope,
            "--minutes",
            "120",
        ]);
        cmd.arg("--data-dir").arg(&self.data_dir);
        run_quiet(&mut cmd, "melding token")
    }

    /// Waits until no job is due (letters published), at most `limit`. Jobs scheduled for later
    /// (expiry, reminders) do not count.
    pub async fn wait_jobs_idle(&self, client: &reqwest::Client, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(r) = client.get(&self.metrics).send().await
                && let Ok(text) = r.text().await
            {
                let due = text
                    .lines()
                    .find_map(|l| l.strip_prefix("melding_jobs_due "))
                    .and_then(|v| v.trim().parse::<f64>().ok());
                if due == Some(0.0) {
                    return true;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    pub fn proc(&self) -> ProcSample {
        ProcSample::read(self.pid)
    }

    /// Resets the peak resident set (VmHWM) so the next scenario's peak is its own.
    pub fn reset_peak(&self) {
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.pid), "5");
    }

    /// SIGTERM, then SIGKILL if it has not stopped after 10 s.
    pub fn stop(mut self) -> anyhow::Result<()> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

/// CPU time and memory of a process, from /proc.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcSample {
    /// utime + stime in clock ticks.
    pub cpu_ticks: u64,
    pub rss_kib: u64,
    pub hwm_kib: u64,
}

impl ProcSample {
    pub fn read(pid: u32) -> Self {
        let mut s = Self::default();
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            // The command name may hold spaces; the fields after its closing parenthesis do not.
            if let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) {
                let f: Vec<&str> = rest.split_whitespace().collect();
                // After ")": state is field 3, so utime (14) and stime (15) are at 11 and 12.
                let utime: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0);
                let stime: u64 = f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
                s.cpu_ticks = utime + stime;
            }
        }
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            for line in status.lines() {
                let kib = |l: &str| {
                    l.split_whitespace()
                        .nth(1)
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0)
                };
                if line.starts_with("VmRSS:") {
                    s.rss_kib = kib(line);
                } else if line.starts_with("VmHWM:") {
                    s.hwm_kib = kib(line);
                }
            }
        }
        s
    }
}

/// Clock ticks per second for /proc/PID/stat (`getconf CLK_TCK`, almost always 100).
pub fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}
