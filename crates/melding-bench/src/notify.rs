//! The notification benchmark (issue 15, "Speed"): how many notification e-mails one node
//! hands to a local SMTP server per second, and, with letters created at a steady rate, the
//! highest rate at which the time from creating a letter to the SMTP server's `250` for its
//! e-mail stays under 5 s at the 99th percentile. On SQLite and on PostgreSQL.
//!
//! `melding serve` runs as in the main suite, with `[notifications] email = "smtp"` pointed at
//! [`SmtpSink`] on loopback (no TLS) and every person registered with a fresh KRR e-mail
//! address, so each letter with a notification order becomes one e-mail.
//!
//! ```text
//! cargo run --release -p melding-bench -- --notifications [--quick]
//! ```

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::task::JoinSet;

use crate::server::{Melding, Registry, clock_ticks};
use crate::smtp_sink::SmtpSink;
use crate::{RESOURCE, SENDER_ORG, ids};

/// The end-to-end bound of the issue: create → `250`, p99 under 5 s.
pub const E2E_P99_BOUND_MS: f64 = 5_000.0;
/// The throughput target of the issue: e-mails per second into a local SMTP server.
pub const EMAILS_PER_S_TARGET: f64 = 1_000.0;
/// Background jobs the server runs at once in this benchmark (`serve --job-concurrency`). On
/// PostgreSQL a notice waits mostly on round trips and commits, not on CPU: with 64 jobs the
/// 2-core machine was 30-45 % idle during the throughput phase (982 e-mails/s), with 128 it
/// made 1,522 (`--no-sqlite --job-concurrency 128`, 2026-12-01).
pub const JOB_CONCURRENCY: usize = 128;

/// How long and how hard the notification benchmark runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NotifyMode {
    pub name: String,
    /// Letters (one e-mail each) in the throughput phase.
    pub throughput_letters: u64,
    /// Recipients per create request in the throughput phase.
    pub batch: usize,
    /// Seconds each end-to-end rate step creates letters for.
    pub step_seconds: u64,
    /// The creation rates tried end to end, ascending; stepping stops at the first that fails.
    pub step_rates: Vec<f64>,
    /// Registered persons (the recipients, round robin).
    pub persons: usize,
    /// Background jobs the server runs at once (`serve --job-concurrency`);
    /// [`JOB_CONCURRENCY`] unless `--job-concurrency` says otherwise.
    #[serde(default = "default_job_concurrency")]
    pub job_concurrency: usize,
}

fn default_job_concurrency() -> usize {
    JOB_CONCURRENCY
}

impl NotifyMode {
    pub fn quick() -> Self {
        Self {
            name: "quick".into(),
            throughput_letters: 5_000,
            batch: 500,
            step_seconds: 5,
            step_rates: vec![50.0, 200.0, 400.0],
            persons: 1_000,
            job_concurrency: JOB_CONCURRENCY,
        }
    }

    pub fn full() -> Self {
        Self {
            name: "full".into(),
            throughput_letters: 30_000,
            batch: 500,
            step_seconds: 20,
            step_rates: vec![50.0, 100.0, 200.0, 300.0, 400.0, 600.0, 800.0, 1000.0],
            persons: 5_000,
            job_concurrency: JOB_CONCURRENCY,
        }
    }
}

/// The throughput phase: a backlog of letters, all published at one instant, drained into SMTP.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Throughput {
    pub letters: u64,
    /// E-mails the SMTP server accepted.
    pub emails: u64,
    /// Seconds from the first `250` to the last.
    pub seconds: f64,
    pub emails_per_s: f64,
    /// Seconds creating the letters took (they were published after that).
    pub create_seconds: f64,
    /// The server's CPU over the drain, in cores (1.0 = one core busy).
    pub server_cpu_cores: f64,
}

/// One end-to-end step: letters created open-loop at `rate`, each timed from its due time to
/// its e-mail's `250`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct E2eStep {
    pub rate: f64,
    pub letters: u64,
    /// Create requests that did not answer 200.
    pub create_errors: u64,
    /// Letters whose e-mail did not arrive within 60 s of the last create.
    pub missing: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub passed: bool,
}

/// One backend's notification numbers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NotifyBackend {
    pub backend: String,
    pub throughput: Throughput,
    pub steps: Vec<E2eStep>,
    /// The highest step rate that passed (p99 < 5 s, no errors, nothing missing); 0 if none.
    pub max_e2e_rate: f64,
}

fn person_urn(p: &str) -> String {
    format!("urn:altinn:person:identifier-no:{p}")
}

/// A letter to `recipients` with an e-mail notice whose subject is the letter's title.
fn noticed_letter(title: &str, recipients: &[String], publish_at: Option<String>) -> String {
    let mut body = json!({
        "correspondence": {
            "resourceId": RESOURCE,
            "sendersReference": "bench-notifications",
            "content": {"language": "nb", "messageTitle": title,
                        "messageSummary": "Benchmark", "messageBody": "Du har fått et brev."},
            "notification": {"notificationTemplate": "CustomMessage",
                             "notificationChannel": "Email",
                             "emailSubject": "$messageTitle$",
                             "emailBody": "Du har fått brevet «$messageTitle$»."},
        },
        "recipients": recipients,
    });
    if let Some(at) = publish_at {
        body["correspondence"]["requestedPublishTime"] = json!(at);
    }
    body.to_string()
}

/// The config file pointing the server's e-mail at the sink.
fn config(dir: &Path, sink: &SmtpSink) -> anyhow::Result<std::path::PathBuf> {
    let path = dir.join("bench-notifications.toml");
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        &path,
        format!(
            "[notifications]\nemail = \"smtp\"\nfrom = \"ikke-svar@bench.test\"\n\
             [notifications.smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n",
            sink.port
        ),
    )?;
    Ok(path)
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

/// Runs both phases on a fresh server; `database_url` None is SQLite in `dir`.
pub async fn run_backend(
    bin: &Path,
    dir: &Path,
    database_url: Option<&str>,
    mode: &NotifyMode,
) -> anyhow::Result<NotifyBackend> {
    let backend = if database_url.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let sink = SmtpSink::start().await?;
    let registry = Registry {
        persons: ids::national_ids(mode.persons),
        orgs: Vec::new(),
        krr_emails: true,
    };
    let cfg = config(dir, &sink)?;
    let extra = [
        "--config".to_owned(),
        cfg.display().to_string(),
        "--job-concurrency".to_owned(),
        mode.job_concurrency.to_string(),
    ];
    let server = Melding::start_with(bin, dir, database_url, &registry, &extra).await?;
    let outcome = phases(&server, &sink, backend, &registry, mode).await;
    let stopped = server.stop();
    let result = outcome?;
    stopped?;
    Ok(result)
}

async fn phases(
    server: &Melding,
    sink: &SmtpSink,
    backend: &str,
    registry: &Registry,
    mode: &NotifyMode,
) -> anyhow::Result<NotifyBackend> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(4096)
        .http1_only()
        .build()?;
    let sender = server.token(
        ("--org", SENDER_ORG),
        "altinn:correspondence.write altinn:serviceowner",
    )?;
    let recipients: Vec<String> = registry.persons.iter().map(|p| person_urn(p)).collect();

    let throughput = throughput(server, sink, &client, &sender, &recipients, mode).await?;
    eprintln!(
        "  {backend}: {} e-mails in {:.1} s = {:.0} e-mails/s (server {:.2} cores)",
        throughput.emails, throughput.seconds, throughput.emails_per_s, throughput.server_cpu_cores
    );

    let mut steps = Vec::new();
    for &rate in &mode.step_rates {
        let step = e2e_step(sink, server, &client, &sender, &recipients, rate, mode).await?;
        eprintln!(
            "  {backend}: {rate:>5.0} letters/s → p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms, {} missing, {} errors{}",
            step.p50_ms,
            step.p99_ms,
            step.max_ms,
            step.missing,
            step.create_errors,
            if step.passed {
                ""
            } else {
                "  (over the bound)"
            }
        );
        let passed = step.passed;
        steps.push(step);
        if !passed {
            break;
        }
    }
    let max_e2e_rate = steps
        .iter()
        .filter(|s| s.passed)
        .map(|s| s.rate)
        .fold(0.0, f64::max);
    Ok(NotifyBackend {
        backend: backend.to_owned(),
        throughput,
        steps,
        max_e2e_rate,
    })
}

/// Creates `mode.throughput_letters` letters in batches, all to be published at one instant
/// after the last is created, and measures how fast their e-mails reach the sink.
async fn throughput(
    server: &Melding,
    sink: &SmtpSink,
    client: &reqwest::Client,
    sender: &str,
    recipients: &[String],
    mode: &NotifyMode,
) -> anyhow::Result<Throughput> {
    let url = format!("{}/correspondence", server.base);
    let post = |body: String| {
        client
            .post(&url)
            .bearer_auth(sender)
            .header("content-type", "application/json")
            .body(body)
    };
    // One batch published at once tells how fast creating goes, so the backlog's publish time
    // can be set after its last letter.
    let probe = recipients[..mode.batch.min(recipients.len())].to_vec();
    let began = Instant::now();
    let r = post(noticed_letter("probe", &probe, None)).send().await?;
    anyhow::ensure!(
        r.status().is_success(),
        "create failed: {}",
        r.text().await?
    );
    let per_letter = began.elapsed().as_secs_f64() / probe.len() as f64;
    wait_for(sink, probe.len(), Duration::from_secs(60)).await;
    sink.take();

    let lead = per_letter * mode.throughput_letters as f64 * 3.0 + 5.0;
    let publish_at = chrono::Utc::now() + chrono::Duration::milliseconds((lead * 1000.0) as i64);
    let publish = publish_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let created = Instant::now();
    let mut made = 0u64;
    let mut batch_no = 0usize;
    while made < mode.throughput_letters {
        let n = (mode.throughput_letters - made).min(mode.batch as u64) as usize;
        let start = (batch_no * mode.batch) % recipients.len();
        let to: Vec<String> = (0..n)
            .map(|k| recipients[(start + k) % recipients.len()].clone())
            .collect();
        let r = post(noticed_letter("throughput", &to, Some(publish.clone())))
            .send()
            .await?;
        anyhow::ensure!(
            r.status().is_success(),
            "create failed: {}",
            r.text().await?
        );
        made += n as u64;
        batch_no += 1;
    }
    let create_seconds = created.elapsed().as_secs_f64();
    if chrono::Utc::now() > publish_at {
        eprintln!("  (creating took longer than the lead; the drain overlaps creation)");
    }
    let ticks = clock_ticks();
    let cpu_before = server.proc().cpu_ticks;
    let drained = wait_for(
        sink,
        mode.throughput_letters as usize,
        Duration::from_secs_f64(lead + 600.0),
    )
    .await;
    let cpu = server.proc().cpu_ticks.saturating_sub(cpu_before) as f64 / ticks;
    let accepted = sink.take();
    if !drained {
        eprintln!(
            "  (only {} of {} e-mails arrived)",
            accepted.len(),
            mode.throughput_letters
        );
    }
    let first = accepted.iter().map(|a| a.at).min();
    let last = accepted.iter().map(|a| a.at).max();
    let seconds = match (first, last) {
        (Some(f), Some(l)) => l.duration_since(f).as_secs_f64().max(1e-3),
        _ => 0.0,
    };
    let emails = accepted.len() as u64;
    Ok(Throughput {
        letters: mode.throughput_letters,
        emails,
        seconds,
        emails_per_s: if seconds > 0.0 {
            emails as f64 / seconds
        } else {
            0.0
        },
        create_seconds,
        server_cpu_cores: if seconds > 0.0 { cpu / seconds } else { 0.0 },
    })
}

/// Waits until the sink holds `n` messages or `limit` passes; whether it got them all.
async fn wait_for(sink: &SmtpSink, n: usize, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while sink.count() < n {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    true
}

/// Creates letters open-loop at `rate` for `mode.step_seconds`, one recipient each, titled
/// `e2e-<rate>-<i>`, and times each from its due time to the `250` for its e-mail.
async fn e2e_step(
    sink: &SmtpSink,
    server: &Melding,
    client: &reqwest::Client,
    sender: &str,
    recipients: &[String],
    rate: f64,
    mode: &NotifyMode,
) -> anyhow::Result<E2eStep> {
    sink.take();
    let n = (rate * mode.step_seconds as f64).round() as u64;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let start = Instant::now() + Duration::from_millis(5);
    let errors = Arc::new(Mutex::new(0u64));
    let url = format!("{}/correspondence", server.base);
    let mut tasks = JoinSet::new();
    let prefix = format!("e2e-{rate:.0}-");
    for i in 0..n {
        let due = start + interval.mul_f64(i as f64);
        if due > Instant::now() {
            tokio::time::sleep_until(due.into()).await;
        }
        let to = [recipients[i as usize % recipients.len()].clone()];
        let request = client
            .post(&url)
            .bearer_auth(sender)
            .header("content-type", "application/json")
            .body(noticed_letter(&format!("{prefix}{i}"), &to, None));
        let errors = errors.clone();
        tasks.spawn(async move {
            let ok = match request.send().await {
                Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                Err(_) => false,
            };
            if !ok {
                *errors.lock().unwrap_or_else(|e| e.into_inner()) += 1;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let create_errors = *errors.lock().unwrap_or_else(|e| e.into_inner());
    wait_for(sink, (n - create_errors) as usize, Duration::from_secs(60)).await;
    let mut h = histogram();
    let mut seen = 0u64;
    for a in sink.take() {
        let Some(i) = a
            .subject
            .strip_prefix(&prefix)
            .and_then(|s| s.parse::<u64>().ok())
        else {
            continue;
        };
        let due = start + interval.mul_f64(i as f64);
        let us = a.at.saturating_duration_since(due).as_micros().max(1) as u64;
        let _ = h.record(us);
        seen += 1;
    }
    let ms = |us: u64| us as f64 / 1000.0;
    let (p50_ms, p99_ms, max_ms) = if h.is_empty() {
        (0.0, 0.0, 0.0)
    } else {
        (
            ms(h.value_at_quantile(0.5)),
            ms(h.value_at_quantile(0.99)),
            ms(h.max()),
        )
    };
    let missing = n.saturating_sub(seen);
    Ok(E2eStep {
        rate,
        letters: n,
        create_errors,
        missing,
        p50_ms,
        p99_ms,
        max_ms,
        passed: create_errors == 0 && missing == 0 && p99_ms < E2E_P99_BOUND_MS,
    })
}
