//! The raw reference: how many durable single-row inserts of a correspondence-like row the
//! databases on this machine take per second without Melding in front. Melding's create rate is
//! reported as a fraction of these.

use std::path::Path;
use std::process::Command;
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection};

/// A correspondence-like row: the columns a letter's search and overview need, a ~200-byte body,
/// and the recipient and sender indexes Melding's own table has.
const TABLE: &str = "CREATE TABLE raw_correspondence (
    id TEXT PRIMARY KEY NOT NULL,
    resource_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    sender TEXT NOT NULL,
    senders_reference TEXT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    body TEXT NOT NULL,
    created BIGINT NOT NULL,
    last_status INTEGER NOT NULL
)";
const INDEXES: [&str; 2] = [
    "CREATE INDEX raw_by_recipient ON raw_correspondence (recipient, resource_id, created DESC, id DESC)",
    "CREATE INDEX raw_by_sender ON raw_correspondence (sender, resource_id, created DESC, id DESC)",
];
const BODY: &str = "Du har fått innvilget søknaden. Vedtaket kan påklages innen tre uker fra det \
                    tidspunkt underretningen er kommet fram. Se vedlegg for begrunnelse og \
                    informasjon om klageadgang og innsyn i sakens dokumenter.";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RawResult {
    pub database: String,
    pub tool: String,
    pub clients: u32,
    pub seconds: f64,
    pub inserts: u64,
    pub inserts_per_s: f64,
    pub note: String,
    /// A comparison row (INSERT + NOTIFY), not a reference for Melding's ratio.
    pub with_notify: bool,
}

/// SQLite: one INSERT per transaction, WAL, synchronous=FULL, through sqlx on one connection,
/// in `dir` (the same file system as Melding's data directories).
pub async fn sqlite(dir: &Path, seconds: f64) -> anyhow::Result<RawResult> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("raw.db");
    let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .disable_statement_logging();
    let mut conn = opts.connect().await?;
    sqlx::query(TABLE).execute(&mut conn).await?;
    for i in INDEXES {
        sqlx::query(i).execute(&mut conn).await?;
    }
    let start = Instant::now();
    let limit = Duration::from_secs_f64(seconds);
    let mut n = 0u64;
    while start.elapsed() < limit {
        sqlx::query(
            "INSERT INTO raw_correspondence VALUES (?1, 'bench', ?2, 'urn:altinn:organization:identifier-no:991825827', ?3, 'Vedtak', 'Innvilget', ?4, ?5, 2)",
        )
        .bind(format!("{n:016x}{:016x}", rand::random::<u64>()))
        .bind(format!("urn:altinn:person:identifier-no:{:011}", n % 10_000))
        .bind(format!("ref-{n}"))
        .bind(BODY)
        .bind(n as i64)
        .execute(&mut conn)
        .await?;
        n += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    conn.close().await?;
    Ok(RawResult {
        database: "sqlite".into(),
        tool: "sqlx 0.9 (bench binary)".into(),
        clients: 1,
        seconds: secs,
        inserts: n,
        inserts_per_s: n as f64 / secs,
        note: "one INSERT per transaction (autocommit), WAL, synchronous=FULL, one connection"
            .into(),
        with_notify: false,
    })
}

/// PostgreSQL: pgbench with a custom script, one INSERT per transaction, default
/// synchronous_commit, `clients` connections, into a scratch table in `url`'s database.
/// With `notify`, each transaction also sends a `NOTIFY`, as Melding's job enqueue once did:
/// PostgreSQL serialises such commits, and this row shows what that costs.
pub async fn postgres(
    url: &str,
    dir: &Path,
    clients: u32,
    seconds: u32,
    notify: bool,
) -> anyhow::Result<RawResult> {
    let mut conn = sqlx::PgConnection::connect(url).await?;
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE tablename = 'raw_correspondence')",
    )
    .fetch_one(&mut conn)
    .await?;
    if exists {
        sqlx::query("TRUNCATE raw_correspondence")
            .execute(&mut conn)
            .await?;
    } else {
        sqlx::query(TABLE).execute(&mut conn).await?;
        for i in INDEXES {
            sqlx::query(i).execute(&mut conn).await?;
        }
    }
    let sync: String = sqlx::query_scalar("SHOW synchronous_commit")
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;

    std::fs::create_dir_all(dir)?;
    let script = dir.join(if notify {
        "raw-insert-notify.sql"
    } else {
        "raw-insert.sql"
    });
    let insert = format!(
        "INSERT INTO raw_correspondence VALUES (gen_random_uuid()::text, 'bench', \
         'urn:altinn:person:identifier-no:' || lpad(:r::text, 11, '0'), \
         'urn:altinn:organization:identifier-no:991825827', 'ref-' || :client_id, 'Vedtak', \
         'Innvilget', '{BODY}', (extract(epoch from clock_timestamp()) * 1000000)::bigint, 2);\n"
    );
    let body = if notify {
        format!("BEGIN;\n{insert}SELECT pg_notify('melding_bench', '');\nCOMMIT;\n")
    } else {
        insert
    };
    std::fs::write(&script, format!("\\set r random(1, 10000)\n{body}"))?;
    let out = Command::new("pgbench")
        .args(["-n", "-f"])
        .arg(&script)
        .args([
            "-c",
            &clients.to_string(),
            "-j",
            &clients.min(2).to_string(),
            "-T",
            &seconds.to_string(),
            url,
        ])
        .output()
        .context("running pgbench (install postgresql-client or postgresql-contrib)")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "pgbench failed: {}{}",
            stdout,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let field = |prefix: &str| {
        stdout.lines().find_map(|l| {
            l.trim()
                .strip_prefix(prefix)
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<f64>().ok())
        })
    };
    let tps = field("tps = ").context("no tps line in pgbench output")?;
    let inserts = field("number of transactions actually processed: ").unwrap_or(0.0) as u64;
    let version = Command::new("pgbench")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|_| "pgbench".into());
    Ok(RawResult {
        database: "postgres".into(),
        tool: version,
        clients,
        seconds: f64::from(seconds),
        inserts,
        inserts_per_s: tps,
        note: format!(
            "one INSERT per transaction{}, synchronous_commit={sync}, {clients} client(s)",
            if notify {
                " plus a NOTIFY in the same transaction"
            } else {
                ""
            }
        ),
        with_notify: notify,
    })
}
