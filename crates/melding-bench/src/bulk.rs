//! Bulk-loading a large database for the search and overview scenarios, straight into SQLite or
//! PostgreSQL rather than through the API (a million letters through the API would take longer
//! than the benchmark). Every row is a copy of one template letter that Melding itself created
//! and published, with a new id, recipient, sender's reference and time, so the rows hold exactly
//! what Melding writes; the template's status rows are copied for each.

use std::path::Path;
use std::str::FromStr;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BulkInfo {
    pub letters: u64,
    pub recipients: u64,
    pub load_seconds: f64,
}

const COLUMNS: &str = "id, resource_id, recipient, sender, senders_reference, message_sender, \
    language, title, summary, body, requested_publish_time, due_date_time, external_references, \
    property_list, reply_options, ignore_reservation, is_confirmation_needed, is_confidential, \
    allow_forwarding, idempotent_key, created, published, last_status";

/// Loads `letters` copies of `template` spread round-robin over every person in the registry.
/// Letter n is n milliseconds older than the template, its id a UUIDv7 of that time.
pub async fn load(
    dir: &Path,
    database_url: Option<&str>,
    template: &str,
    template_person: &str,
    letters: u64,
) -> anyhow::Result<BulkInfo> {
    let started = Instant::now();
    let recipients = match database_url {
        None => sqlite(&dir.join("melding.db"), template, template_person, letters).await?,
        Some(url) => postgres(url, template, template_person, letters).await?,
    };
    Ok(BulkInfo {
        letters,
        recipients,
        load_seconds: started.elapsed().as_secs_f64(),
    })
}

async fn sqlite(db: &Path, template: &str, person: &str, n: u64) -> anyhow::Result<u64> {
    let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", db.display()))?;
    let mut conn = SqliteConnection::connect_with(&opts).await?;
    let recipients: i64 = sqlx::query_scalar("SELECT count(*) FROM persons")
        .fetch_one(&mut conn)
        .await?;
    let mut tx = conn.begin().await?;
    // The recipients numbered 0.., keyed so that each letter finds its one by a lookup.
    sqlx::query(
        "CREATE TEMP TABLE bulk_persons AS
         SELECT row_number() OVER (ORDER BY national_id) - 1 AS k, national_id FROM persons",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query("CREATE UNIQUE INDEX temp.bulk_persons_k ON bulk_persons (k)")
        .execute(&mut *tx)
        .await?;
    // Times are microseconds; the template's publish time in ms is the id's time base.
    let sql = format!(
        "INSERT INTO correspondences ({COLUMNS})
         WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?1),
              t AS (SELECT * FROM correspondences WHERE id = ?2)
         SELECT printf('%08x-%04x-7000-8000-%012x',
                       ((t.requested_publish_time / 1000 - seq.n) >> 16) & 4294967295,
                       (t.requested_publish_time / 1000 - seq.n) & 65535, seq.n),
                t.resource_id, replace(t.recipient, ?3, p.national_id), t.sender,
                'bulk-' || seq.n, t.message_sender, t.language, t.title, t.summary, t.body,
                t.requested_publish_time - seq.n * 1000, t.due_date_time, t.external_references,
                t.property_list, t.reply_options, t.ignore_reservation, t.is_confirmation_needed,
                t.is_confidential, t.allow_forwarding, NULL, t.created - seq.n * 1000,
                t.published - seq.n * 1000, t.last_status
         FROM seq, t JOIN bulk_persons p ON p.k = seq.n % ?4"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(n as i64)
        .bind(template)
        .bind(person)
        .bind(recipients)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO correspondence_statuses (correspondence_id, status, status_text, changed_at, party)
         SELECT c.id, s.status, s.status_text, s.changed_at - (t.requested_publish_time - c.requested_publish_time), s.party
         FROM correspondences c, correspondences t
         JOIN correspondence_statuses s ON s.correspondence_id = t.id
         WHERE t.id = ?1 AND c.senders_reference GLOB 'bulk-*'
         ORDER BY c.rowid, s.id",
    )
    .bind(template)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    sqlx::query("ANALYZE").execute(&mut conn).await?;
    conn.close().await?;
    Ok(recipients as u64)
}

async fn postgres(url: &str, template: &str, person: &str, n: u64) -> anyhow::Result<u64> {
    let mut conn = sqlx::PgConnection::connect(url).await?;
    let recipients: i64 = sqlx::query_scalar("SELECT count(*) FROM persons")
        .fetch_one(&mut conn)
        .await?;
    let mut tx = conn.begin().await?;
    let sql = format!(
        "INSERT INTO correspondences ({COLUMNS})
         WITH p AS (SELECT national_id, row_number() OVER (ORDER BY national_id) - 1 AS k
                    FROM persons),
              t AS (SELECT *, (extract(epoch FROM requested_publish_time) * 1000)::bigint AS ms
                    FROM correspondences WHERE id = $2::uuid)
         SELECT (lpad(to_hex((t.ms - g.n) >> 16), 8, '0') || '-'
                 || lpad(to_hex((t.ms - g.n) & 65535), 4, '0') || '-7000-8000-'
                 || lpad(to_hex(g.n), 12, '0'))::uuid,
                t.resource_id, replace(t.recipient, $3, p.national_id), t.sender,
                'bulk-' || g.n, t.message_sender, t.language, t.title, t.summary, t.body,
                t.requested_publish_time - g.n * interval '1 millisecond', t.due_date_time,
                t.external_references, t.property_list, t.reply_options, t.ignore_reservation,
                t.is_confirmation_needed, t.is_confidential, t.allow_forwarding, NULL,
                t.created - g.n * interval '1 millisecond',
                t.published - g.n * interval '1 millisecond', t.last_status
         FROM generate_series(1, $1::bigint) AS g(n) CROSS JOIN t JOIN p ON p.k = g.n % $4"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(n as i64)
        .bind(template)
        .bind(person)
        .bind(recipients)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO correspondence_statuses (correspondence_id, status, status_text, changed_at, party)
         SELECT c.id, s.status, s.status_text,
                s.changed_at - (t.requested_publish_time - c.requested_publish_time), s.party
         FROM correspondences t
         JOIN correspondence_statuses s ON s.correspondence_id = t.id
         JOIN correspondences c ON c.senders_reference LIKE 'bulk-%'
         WHERE t.id = $1::uuid
         ORDER BY c.requested_publish_time DESC, s.id",
    )
    .bind(template)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    sqlx::query("ANALYZE").execute(&mut conn).await?;
    conn.close().await?;
    Ok(recipients as u64)
}
