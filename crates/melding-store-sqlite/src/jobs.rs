//! The job queue on SQLite. A job's row is mapped in one place each way: [`NewJobRow`] (a job
//! to enqueue → its row) and [`JobRow`] (a stored row → [`Job`]).

use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use melding_store::sql::TableRow;
use melding_store::{Job, JobCounts, JobStore, NewJob, StoreError, sql, table_row};
use sqlx::{Connection, Row, SqliteConnection};

use crate::codec::{column_list, corrupt, from_micros, insert_from_json, json_rows, micros};
use crate::{SqliteStore, classify};

table_row! {
    /// A job to enqueue as its row of `jobs`: ids as text, times as microseconds since the Unix
    /// epoch (UTC), the payload as JSON text. Its creation time is its first run time.
    #[derive(Debug)]
    pub(crate) struct NewJobRow in "jobs" {
        kind: String,
        dedupe_key: String,
        correspondence_id: Option<String>,
        run_at: i64,
        max_attempts: i64,
        payload: String,
        created_at: i64,
    }
}

impl NewJobRow {
    /// The row of `job`.
    pub(crate) fn new(job: &NewJob) -> Self {
        Self {
            kind: job.kind.clone(),
            dedupe_key: job.dedupe_key.clone(),
            correspondence_id: job.correspondence_id.map(|c| c.to_string()),
            run_at: micros(job.run_at),
            max_attempts: i64::from(job.max_attempts),
            payload: job.payload.to_string(),
            created_at: micros(job.run_at),
        }
    }
}

/// Inserts the jobs of the JSON array bound to `param` ([`NewJobRow`]s); a job whose dedupe key
/// is taken is kept as it is.
pub(crate) fn insert_jobs(param: &str) -> String {
    format!(
        "{} ON CONFLICT (dedupe_key) DO NOTHING",
        insert_from_json(NewJobRow::TABLE, NewJobRow::COLUMNS, param)
    )
}

/// [`insert_jobs`] of `$1`.
static INSERT_JOBS: LazyLock<String> = LazyLock::new(|| insert_jobs("$1"));

/// Enqueues `jobs` inside the caller's transaction, in one statement however many; a job with
/// the same dedupe key as a queued one is kept as is.
pub(crate) async fn enqueue(tx: &mut SqliteConnection, jobs: &[NewJob]) -> Result<(), StoreError> {
    if jobs.is_empty() {
        return Ok(());
    }
    let rows: Vec<NewJobRow> = jobs.iter().map(NewJobRow::new).collect();
    sqlx::query(INSERT_JOBS.as_str())
        .bind(json_rows(&rows)?)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
    Ok(())
}

table_row! {
    /// A stored row of `jobs` or `dead_jobs` (which share these columns), read by column name.
    #[derive(Debug, sqlx::FromRow)]
    struct JobRow in "jobs" {
        id: i64,
        kind: String,
        dedupe_key: String,
        correspondence_id: Option<String>,
        run_at: i64,
        attempts: i64,
        max_attempts: i64,
        payload: String,
        last_error: Option<String>,
    }
}

impl JobRow {
    /// The job this row holds.
    fn into_job(self) -> Result<Job, StoreError> {
        Ok(Job {
            id: self.id,
            kind: self.kind,
            dedupe_key: self.dedupe_key,
            correspondence_id: self
                .correspondence_id
                .map(|s| s.parse().map_err(corrupt))
                .transpose()?,
            run_at: from_micros(self.run_at)?,
            attempts: count(self.attempts)?,
            max_attempts: count(self.max_attempts)?,
            payload: serde_json::from_str(&self.payload).map_err(corrupt)?,
            last_error: self.last_error,
        })
    }
}

/// An attempt count read back from an `INTEGER` column.
fn count(v: i64) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("count out of range: {v}")))
}

/// The claim: leases up to `$4` due, free jobs to `$1` until `$2`, `$3` being now.
static CLAIM_DUE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE jobs SET locked_by = $1, locked_until = $2, attempts = attempts + 1
         WHERE id IN (SELECT id FROM jobs
                      WHERE run_at <= $3 AND (locked_until IS NULL OR locked_until < $3)
                      ORDER BY run_at LIMIT $4)
         RETURNING {}",
        column_list("", JobRow::COLUMNS)
    )
});

/// Up to `$1` jobs of `jobs`, earliest due first.
static LIST_JOBS: LazyLock<String> = LazyLock::new(|| list_from("jobs"));

/// Up to `$1` jobs of `dead_jobs`, earliest due first.
static LIST_DEAD_JOBS: LazyLock<String> = LazyLock::new(|| list_from("dead_jobs"));

fn list_from(table: &str) -> String {
    format!(
        "SELECT {} FROM {table} ORDER BY run_at, id LIMIT $1",
        column_list("", JobRow::COLUMNS)
    )
}

#[async_trait]
impl JobStore for SqliteStore {
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        worker: &str,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError> {
        let worker = worker.to_owned();
        self.write(move |conn| {
            Box::pin(async move {
                let rows = sqlx::query_as::<_, JobRow>(CLAIM_DUE.as_str())
                    .bind(worker)
                    .bind(micros(now + lease))
                    .bind(micros(now))
                    .bind(i64::from(limit))
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(classify)?;
                rows.into_iter().map(JobRow::into_job).collect()
            })
        })
        .await
    }

    async fn complete_jobs(&self, ids: &[i64], worker: &str) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let worker = worker.to_owned();
        let ids = serde_json::Value::from(ids.to_vec()).to_string();
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "DELETE FROM jobs
                     WHERE id IN (SELECT value FROM json_each(?)) AND locked_by = ?",
                )
                .bind(ids)
                .bind(worker)
                .execute(&mut *conn)
                .await
                .map_err(classify)?;
                Ok(())
            })
        })
        .await
    }

    async fn reschedule_job(
        &self,
        id: i64,
        worker: &str,
        run_at: DateTime<Utc>,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let (worker, error) = (worker.to_owned(), error.map(str::to_owned));
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "UPDATE jobs SET run_at = ?, locked_by = NULL, locked_until = NULL,
                         last_error = COALESCE(?, last_error),
                         attempts = CASE WHEN ? THEN attempts ELSE attempts - 1 END
                     WHERE id = ? AND locked_by = ?",
                )
                .bind(micros(run_at))
                .bind(error.clone())
                .bind(error.is_some())
                .bind(id)
                .bind(worker)
                .execute(&mut *conn)
                .await
                .map_err(classify)?;
                Ok(())
            })
        })
        .await
    }

    async fn bury_job(&self, id: i64, worker: &str, error: &str) -> Result<(), StoreError> {
        let (worker, error) = (worker.to_owned(), error.to_owned());
        self.write(move |conn| {
            Box::pin(async move {
                let mut tx = conn.begin().await.map_err(classify)?;
                let moved = sqlx::query(
                    "INSERT INTO dead_jobs (id, kind, dedupe_key, correspondence_id, run_at, attempts,
                         max_attempts, payload, last_error, created_at, died_at)
                     SELECT id, kind, dedupe_key, correspondence_id, run_at, attempts, max_attempts,
                         payload, ?, created_at, locked_until
                     FROM jobs WHERE id = ? AND locked_by = ?",
                )
                .bind(error)
                .bind(id)
                .bind(worker)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
                if moved.rows_affected() > 0 {
                    sqlx::query("DELETE FROM jobs WHERE id = ?")
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                }
                tx.commit().await.map_err(classify)
            })
        })
        .await
    }

    async fn list_jobs(&self, dead: bool, limit: u32) -> Result<Vec<Job>, StoreError> {
        let sql = if dead { &LIST_DEAD_JOBS } else { &LIST_JOBS };
        let rows = sqlx::query_as::<_, JobRow>(sql.as_str())
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await
            .map_err(classify)?;
        rows.into_iter().map(JobRow::into_job).collect()
    }

    async fn retry_dead_job(&self, id: i64, now: DateTime<Utc>) -> Result<Option<i64>, StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                let mut tx = conn.begin().await.map_err(classify)?;
                let dedupe_key: Option<String> =
                    sqlx::query_scalar("SELECT dedupe_key FROM dead_jobs WHERE id = ?")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(classify)?;
                let Some(dedupe_key) = dedupe_key else {
                    return Ok(None);
                };
                sqlx::query(
                    "INSERT INTO jobs (kind, dedupe_key, correspondence_id, run_at, max_attempts, payload, created_at)
                     SELECT kind, dedupe_key, correspondence_id, ?, max_attempts, payload, created_at
                     FROM dead_jobs WHERE id = ?
                     ON CONFLICT (dedupe_key) DO NOTHING",
                )
                .bind(micros(now))
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
                sqlx::query("DELETE FROM dead_jobs WHERE id = ?")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                let queued: i64 = sqlx::query_scalar("SELECT id FROM jobs WHERE dedupe_key = ?")
                    .bind(&dedupe_key)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(classify)?;
                tx.commit().await.map_err(classify)?;
                Ok(Some(queued))
            })
        })
        .await
    }

    async fn next_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        // A free job is due at its run_at; a leased one when its lease has run out too. Each
        // half reads its own index (migration 0012) instead of scanning the queue.
        let t: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(t) FROM (
                     SELECT * FROM (SELECT run_at AS t FROM jobs WHERE locked_until IS NULL
                                    ORDER BY run_at LIMIT 1)
                     UNION ALL
                     SELECT MIN(MAX(run_at, locked_until)) FROM jobs
                     WHERE locked_until IS NOT NULL)",
        )
        .fetch_one(&self.reader)
        .await
        .map_err(classify)?;
        t.map(from_micros).transpose()
    }

    async fn job_counts(&self, now: DateTime<Utc>) -> Result<JobCounts, StoreError> {
        let row = sqlx::query(sql::JOB_COUNTS)
            .bind(micros(now))
            .fetch_one(&self.reader)
            .await
            .map_err(classify)?;
        Ok(JobCounts {
            queued: row.try_get::<i64, _>("queued").map_err(classify)? as u64,
            due: row.try_get::<i64, _>("due").map_err(classify)? as u64,
            dead: row.try_get::<i64, _>("dead").map_err(classify)? as u64,
            oldest_due: row
                .try_get::<Option<i64>, _>("oldest")
                .map_err(classify)?
                .map(from_micros)
                .transpose()?,
        })
    }
}
