//! `melding-bench`: how fast Melding is, side by side with the raw database on the same machine.
//!
//! One command starts `melding serve` on loopback, first on SQLite and then on PostgreSQL, seeds
//! its registry, drives open-loop load (a fixed arrival rate, latency measured from each
//! request's due time), measures the durable single-row insert rate of the bare databases, and
//! writes every number to `bench-results/<date>.json` and a table to `BENCHMARKS.md`.
//!
//! ```text
//! cargo run --release -p melding-bench -- --quick
//! ```
//!
//! Benchmarks are programs, not timed tests: nothing here asserts on wall-clock time; the targets
//! are reported against.
#![forbid(unsafe_code)]

mod bulk;
mod ids;
mod inbox;
mod load;
mod notify;
mod perf;
mod raw;
mod report;
mod server;
mod smtp_sink;
mod suite;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Parser;
use sqlx::Connection;

/// The sending organisation, owner of the bench resource.
pub const SENDER_ORG: &str = "991825827";
/// The resource every bench letter is sent with.
pub const RESOURCE: &str = "bench";

#[derive(Parser, Debug)]
#[command(
    name = "melding-bench",
    about = "Benchmark Melding on SQLite and PostgreSQL against the raw databases on this machine"
)]
pub struct Args {
    /// A smoke run, under two minutes (about 100 s on 2 cores): 2 s per scenario, 20,000 bulk letters.
    /// With `--inbox`: 1,000 letters per party and 100 samples per page kind (about a minute).
    #[arg(long)]
    pub quick: bool,
    /// The melding binary to test; by default `cargo build --release -p melding` builds it.
    #[arg(long)]
    pub melding_bin: Option<PathBuf>,
    /// PostgreSQL server for the PostgreSQL half; a database `melding_bench_<pid>` is created on
    /// it and dropped afterwards.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub postgres_url: String,
    /// Skip PostgreSQL (Melding on PostgreSQL and the pgbench reference).
    #[arg(long)]
    pub no_postgres: bool,
    /// Skip SQLite (Melding on SQLite and its raw reference).
    #[arg(long)]
    pub no_sqlite: bool,
    /// Where the JSON results go.
    #[arg(long, default_value = "bench-results")]
    pub results_dir: PathBuf,
    /// Record a system-wide `perf` profile of every scenario into this directory
    /// (`<backend>-<scenario>.data`, with a text summary beside each).
    #[arg(long)]
    pub perf: Option<PathBuf>,
    /// Run nothing: rewrite the Markdown report from this results file of an earlier run (after
    /// the report's text has changed); with `--inbox`, only the inbox section, from an
    /// `inbox-<date>.json`.
    #[arg(long, value_name = "RESULTS_JSON")]
    pub report: Option<PathBuf>,
    /// The Markdown report to (re)write; "-" to skip.
    #[arg(long, default_value = "BENCHMARKS.md")]
    pub markdown: PathBuf,
    /// Run the notification benchmark instead (issue 15): e-mails per second into a local SMTP
    /// server, and the create → SMTP `250` p99 at rising creation rates. Its numbers go to
    /// `bench-results/notifications-<date>.json` and their own section of the Markdown report.
    #[arg(long, conflicts_with = "inbox")]
    pub notifications: bool,
    /// Run the web inbox benchmark instead (issue 17): list-page latency with 10,000 letters
    /// per party, 1 and 4 clients. Its numbers go to `bench-results/inbox-<date>.json` and their
    /// own section of the Markdown report.
    #[arg(long)]
    pub inbox: bool,
    /// With `--notifications`: background jobs the server runs at once (`serve
    /// --job-concurrency`); `notify::JOB_CONCURRENCY` when unset.
    #[arg(long)]
    pub job_concurrency: Option<usize>,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn melding_binary(args: &Args) -> anyhow::Result<PathBuf> {
    if let Some(bin) = &args.melding_bin {
        return Ok(bin.clone());
    }
    let root = workspace_root();
    eprintln!("building melding (cargo build --release -p melding) …");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "-q", "-p", "melding"])
        .current_dir(&root)
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("cargo build --release -p melding failed");
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    Ok(target.join("release").join("melding"))
}

/// `postgres://user@host:port/db?x` with the database replaced.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{db}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

async fn admin(url: &str, sql: String) -> anyhow::Result<()> {
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .with_context(|| "connecting to PostgreSQL (--postgres-url)".to_string())?;
    // One statement at a time: CREATE/DROP DATABASE may not run inside a transaction block,
    // which a multi-statement simple query would be.
    for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_owned()))
            .execute(&mut conn)
            .await?;
    }
    conn.close().await?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // One thread for the generator: it shares the machine's cores with the server and its
    // database, and its own CPU use is reported with every scenario.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(run(args))
}

/// Writes the main suite's report to `markdown`, keeping the sections other programs wrote
/// after it (notifications, the delivery chain, the inbox), whether from a run or `--report`.
fn write_main_report(
    markdown: &Path,
    results: &report::Results,
    json: &Path,
) -> anyhow::Result<()> {
    let old = std::fs::read_to_string(markdown).unwrap_or_default();
    let text = report::keep_notify_section(&old, &results.markdown(json));
    std::fs::write(markdown, text)?;
    Ok(())
}

async fn run(args: Args) -> anyhow::Result<()> {
    if let Some(json) = &args.report {
        if args.inbox {
            return inbox::rewrite_report(&args, json);
        }
        let results: report::Results = serde_json::from_slice(
            &std::fs::read(json).with_context(|| format!("reading {}", json.display()))?,
        )
        .with_context(|| format!("{} is not a melding-bench results file", json.display()))?;
        write_main_report(&args.markdown, &results, json)?;
        eprintln!("wrote {} from {}", args.markdown.display(), json.display());
        return Ok(());
    }
    let began = Instant::now();
    let bin = melding_binary(&args)?;
    if !bin.exists() {
        bail!("no melding binary at {}", bin.display());
    }
    if let Some(dir) = &args.perf {
        perf::enable(dir)?;
    }
    let mode = if args.quick {
        suite::Mode::quick()
    } else {
        suite::Mode::full()
    };
    let pid = std::process::id();
    let work = std::env::temp_dir().join(format!("melding-bench-{pid}"));
    std::fs::create_dir_all(&work)?;
    eprintln!("work directory {}", work.display());
    if args.notifications {
        return notifications(&args, &bin, &work, began).await;
    }
    if args.inbox {
        return inbox::run(&args, &bin, &work, began).await;
    }

    let mut results = report::Results::new(&bin, &mode);

    if !args.no_sqlite {
        eprintln!("raw reference: SQLite, {} s …", mode.raw_seconds);
        results
            .raw
            .push(raw::sqlite(&work.join("raw-sqlite"), f64::from(mode.raw_seconds)).await?);
        eprintln!("Melding on SQLite …");
        let r = suite::run_backend(&bin, &work.join("sqlite"), None, &mode).await;
        results.backends.push(r.context("Melding on SQLite")?);
    }

    if !args.no_postgres {
        let db = format!("melding_bench_{pid}");
        let raw_db = format!("melding_bench_{pid}_raw");
        admin(
            &args.postgres_url,
            format!("CREATE DATABASE {db}; CREATE DATABASE {raw_db}"),
        )
        .await?;
        let outcome = async {
            let raw_url = with_database(&args.postgres_url, &raw_db);
            for (clients, notify) in [(1, false), (16, false), (16, true)] {
                eprintln!(
                    "raw reference: PostgreSQL pgbench, {clients} client(s){}, {} s …",
                    if notify { ", INSERT + NOTIFY" } else { "" },
                    mode.raw_seconds
                );
                results.raw.push(
                    raw::postgres(
                        &raw_url,
                        &work.join("raw-postgres"),
                        clients,
                        mode.raw_seconds,
                        notify,
                    )
                    .await?,
                );
            }
            eprintln!("Melding on PostgreSQL …");
            let url = with_database(&args.postgres_url, &db);
            let r = suite::run_backend(&bin, &work.join("postgres"), Some(&url), &mode).await;
            results.backends.push(r.context("Melding on PostgreSQL")?);
            anyhow::Ok(())
        }
        .await;
        let dropped = admin(
            &args.postgres_url,
            format!("DROP DATABASE IF EXISTS {db} WITH (FORCE); DROP DATABASE IF EXISTS {raw_db} WITH (FORCE)"),
        )
        .await;
        outcome?;
        dropped?;
    }

    let _ = std::fs::remove_dir_all(&work);
    results.total_seconds = began.elapsed().as_secs_f64();
    let json_path = results.write_json(&args.results_dir)?;
    eprintln!("wrote {}", json_path.display());
    if args.markdown.as_os_str() != "-" {
        write_main_report(&args.markdown, &results, &json_path)?;
        eprintln!("wrote {}", args.markdown.display());
    }
    print!("{}", results.summary());
    Ok(())
}

/// The notification benchmark on SQLite, then PostgreSQL (`--notifications`).
async fn notifications(args: &Args, bin: &Path, work: &Path, began: Instant) -> anyhow::Result<()> {
    let mut mode = if args.quick {
        notify::NotifyMode::quick()
    } else {
        notify::NotifyMode::full()
    };
    if let Some(n) = args.job_concurrency {
        mode.job_concurrency = n;
    }
    let mut results = report::NotifyResults::new(bin, &mode);
    if !args.no_sqlite {
        eprintln!("notifications on SQLite …");
        let r = notify::run_backend(bin, &work.join("notify-sqlite"), None, &mode).await;
        results.backends.push(r.context("notifications on SQLite")?);
    }
    if !args.no_postgres {
        let db = format!("melding_bench_notify_{}", std::process::id());
        admin(&args.postgres_url, format!("CREATE DATABASE {db}")).await?;
        eprintln!("notifications on PostgreSQL …");
        let url = with_database(&args.postgres_url, &db);
        let r = notify::run_backend(bin, &work.join("notify-postgres"), Some(&url), &mode).await;
        let dropped = admin(
            &args.postgres_url,
            format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
        )
        .await;
        results
            .backends
            .push(r.context("notifications on PostgreSQL")?);
        dropped?;
    }
    let _ = std::fs::remove_dir_all(work);
    results.total_seconds = began.elapsed().as_secs_f64();
    let json_path = results.write_json(&args.results_dir)?;
    eprintln!("wrote {}", json_path.display());
    if args.markdown.as_os_str() != "-" {
        let old = std::fs::read_to_string(&args.markdown).unwrap_or_default();
        let text = report::splice_notify_section(&old, &results.markdown(&json_path));
        std::fs::write(&args.markdown, text)?;
        eprintln!("wrote {}", args.markdown.display());
    }
    for b in &results.backends {
        println!(
            "{}: {:.0} e-mails/s; notice p99 < 5 s up to {:.0} letters/s",
            b.backend, b.throughput.emails_per_s, b.max_e2e_rate
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database_in_a_url() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h:5432", "x"),
            "postgres://h:5432/x"
        );
    }
}
