use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use melding_store::{Job, JobCounts, JobStore, NewJob, StoreError};
use sqlx::sqlite::SqliteRow;
use sqlx::{Connection, Row, SqliteConnection};

use crate::codec::{corrupt, from_micros, micros};
use crate::{SqliteStore, classify};

/// Enqueues a job inside the caller's transaction; a job with the same dedupe key is kept as is.
pub(crate) async fn enqueue(tx: &mut SqliteConnection, job: &NewJob) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO jobs (kind, dedupe_key, correspondence_id, run_at, max_attempts, payload, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(&job.kind)
    .bind(&job.dedupe_key)
    .bind(job.correspondence_id.map(|c| c.to_string()))
    .bind(micros(job.run_at))
    .bind(i64::from(job.max_attempts))
    .bind(job.payload.to_string())
    .bind(micros(job.run_at))
    .execute(&mut *tx)
    .await
    .map_err(classify)?;
    Ok(())
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
                let rows = sqlx::query(
                    "UPDATE jobs SET locked_by = ?1, locked_until = ?2, attempts = attempts + 1
                     WHERE id IN (SELECT id FROM jobs
                                  WHERE run_at <= ?3 AND (locked_until IS NULL OR locked_until < ?3)
                                  ORDER BY run_at LIMIT ?4)
                     RETURNING id, kind, dedupe_key, correspondence_id, run_at, attempts, max_attempts,
                               payload, last_error",
                )
                .bind(worker)
                .bind(micros(now + lease))
                .bind(micros(now))
                .bind(i64::from(limit))
                .fetch_all(&mut *conn)
                .await
                .map_err(classify)?;
                rows.iter().map(job_from_row).collect()
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
        let sql = if dead {
            "SELECT id, kind, dedupe_key, correspondence_id, run_at, attempts, max_attempts,
                    payload, last_error FROM dead_jobs ORDER BY run_at, id LIMIT ?"
        } else {
            "SELECT id, kind, dedupe_key, correspondence_id, run_at, attempts, max_attempts,
                    payload, last_error FROM jobs ORDER BY run_at, id LIMIT ?"
        };
        let rows = sqlx::query(sql)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await
            .map_err(classify)?;
        rows.iter().map(job_from_row).collect()
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
        let t: Option<i64> =
            sqlx::query_scalar("SELECT MIN(COALESCE(MAX(run_at, locked_until), run_at)) FROM jobs")
                .fetch_one(&self.reader)
                .await
                .map_err(classify)?;
        t.map(from_micros).transpose()
    }

    async fn job_counts(&self, now: DateTime<Utc>) -> Result<JobCounts, StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM jobs) AS queued,
                    (SELECT COUNT(*) FROM jobs WHERE run_at <= ?1) AS due,
                    (SELECT COUNT(*) FROM dead_jobs) AS dead,
                    (SELECT MIN(run_at) FROM jobs WHERE run_at <= ?1) AS oldest",
        )
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

fn job_from_row(r: &SqliteRow) -> Result<Job, StoreError> {
    Ok(Job {
        id: r.try_get("id").map_err(classify)?,
        kind: r.try_get("kind").map_err(classify)?,
        dedupe_key: r.try_get("dedupe_key").map_err(classify)?,
        correspondence_id: r
            .try_get::<Option<String>, _>("correspondence_id")
            .map_err(classify)?
            .map(|s| s.parse().map_err(corrupt))
            .transpose()?,
        run_at: from_micros(r.try_get("run_at").map_err(classify)?)?,
        attempts: r.try_get::<i64, _>("attempts").map_err(classify)? as u32,
        max_attempts: r.try_get::<i64, _>("max_attempts").map_err(classify)? as u32,
        payload: serde_json::from_str(&r.try_get::<String, _>("payload").map_err(classify)?)
            .map_err(corrupt)?,
        last_error: r.try_get("last_error").map_err(classify)?,
    })
}
