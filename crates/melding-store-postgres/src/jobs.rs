use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use melding_domain::CorrespondenceId;
use melding_store::{Job, JobCounts, JobStore, NewJob, StoreError};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row, Transaction};
use uuid::Uuid;

use crate::{PostgresStore, classify, unsigned};

/// Enqueues a job inside the caller's transaction; a job with the same dedupe key is kept as is.
pub(crate) async fn enqueue(
    tx: &mut Transaction<'static, Postgres>,
    job: &NewJob,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO jobs (kind, dedupe_key, correspondence_id, run_at, max_attempts, payload, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $4)
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(&job.kind)
    .bind(&job.dedupe_key)
    .bind(job.correspondence_id.map(|c| c.as_uuid()))
    .bind(job.run_at)
    .bind(i64::from(job.max_attempts))
    .bind(&job.payload)
    .execute(&mut **tx)
    .await
    .map_err(classify)?;
    Ok(())
}

/// The channel every node listens on for enqueued jobs.
pub(crate) const CHANNEL: &str = "melding_jobs";

struct PgJobListener(sqlx::postgres::PgListener);

#[async_trait]
impl melding_store::JobListener for PgJobListener {
    async fn recv(&mut self) -> Result<(), StoreError> {
        self.0.recv().await.map(|_| ()).map_err(classify)
    }
}

#[async_trait]
impl JobStore for PostgresStore {
    async fn job_listener(
        &self,
    ) -> Result<Option<Box<dyn melding_store::JobListener>>, StoreError> {
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool)
            .await
            .map_err(classify)?;
        listener.listen(CHANNEL).await.map_err(classify)?;
        Ok(Some(Box::new(PgJobListener(listener))))
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        worker: &str,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError> {
        // SKIP LOCKED: a job another node is claiming right now is simply not ours; once that
        // claim commits, the job's lease keeps it out of the WHERE clause.
        let rows = sqlx::query(
            "WITH due AS (
                 SELECT id FROM jobs
                 WHERE run_at <= $3 AND (locked_until IS NULL OR locked_until < $3)
                 ORDER BY run_at, id
                 LIMIT $4
                 FOR UPDATE SKIP LOCKED
             )
             UPDATE jobs j SET locked_by = $1, locked_until = $2, attempts = j.attempts + 1
             FROM due WHERE j.id = due.id
             RETURNING j.id, j.kind, j.dedupe_key, j.correspondence_id, j.run_at, j.attempts,
                       j.max_attempts, j.payload, j.last_error",
        )
        .bind(worker)
        .bind(now + lease)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        let mut jobs = rows
            .iter()
            .map(job_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        jobs.sort_by_key(|j| (j.run_at, j.id));
        Ok(jobs)
    }

    async fn complete_jobs(&self, ids: &[i64], worker: &str) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        sqlx::query("DELETE FROM jobs WHERE id = ANY($1) AND locked_by = $2")
            .bind(ids)
            .bind(worker)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn reschedule_job(
        &self,
        id: i64,
        worker: &str,
        run_at: DateTime<Utc>,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        // Without an error the run did not fail (e.g. "not yet"): give back its attempt.
        sqlx::query(
            "UPDATE jobs SET run_at = $1, locked_by = NULL, locked_until = NULL,
                 last_error = COALESCE($2, last_error),
                 attempts = CASE WHEN $2::text IS NULL THEN attempts - 1 ELSE attempts END
             WHERE id = $3 AND locked_by = $4",
        )
        .bind(run_at)
        .bind(error)
        .bind(id)
        .bind(worker)
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(())
    }

    async fn bury_job(&self, id: i64, worker: &str, error: &str) -> Result<(), StoreError> {
        // One statement: the job leaves the queue and enters the dead letters atomically.
        sqlx::query(
            "WITH gone AS (
                 DELETE FROM jobs WHERE id = $1 AND locked_by = $2
                 RETURNING id, kind, dedupe_key, correspondence_id, run_at, attempts,
                           max_attempts, payload, created_at, locked_until
             )
             INSERT INTO dead_jobs (id, kind, dedupe_key, correspondence_id, run_at, attempts,
                 max_attempts, payload, last_error, created_at, died_at)
             SELECT id, kind, dedupe_key, correspondence_id, run_at, attempts, max_attempts,
                 payload, $3, created_at, locked_until
             FROM gone",
        )
        .bind(id)
        .bind(worker)
        .bind(error)
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(())
    }

    async fn list_jobs(&self, dead: bool, limit: u32) -> Result<Vec<Job>, StoreError> {
        let sql = if dead {
            "SELECT id, kind, dedupe_key, correspondence_id, run_at, attempts, max_attempts,
                    payload, last_error FROM dead_jobs ORDER BY run_at, id LIMIT $1"
        } else {
            "SELECT id, kind, dedupe_key, correspondence_id, run_at, attempts, max_attempts,
                    payload, last_error FROM jobs ORDER BY run_at, id LIMIT $1"
        };
        let rows = sqlx::query(sql)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        rows.iter().map(job_from_row).collect()
    }

    async fn retry_dead_job(&self, id: i64, now: DateTime<Utc>) -> Result<Option<i64>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let gone = sqlx::query(
            "DELETE FROM dead_jobs WHERE id = $1
             RETURNING kind, dedupe_key, correspondence_id, max_attempts, payload, created_at",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        let Some(row) = gone else {
            return Ok(None);
        };
        let dedupe_key: String = row.try_get("dedupe_key").map_err(classify)?;
        let queued: Option<i64> = sqlx::query_scalar(
            "INSERT INTO jobs (kind, dedupe_key, correspondence_id, run_at, max_attempts, payload, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (dedupe_key) DO NOTHING
             RETURNING id",
        )
        .bind(row.try_get::<String, _>("kind").map_err(classify)?)
        .bind(&dedupe_key)
        .bind(row.try_get::<Option<Uuid>, _>("correspondence_id").map_err(classify)?)
        .bind(now)
        .bind(row.try_get::<i64, _>("max_attempts").map_err(classify)?)
        .bind(row.try_get::<serde_json::Value, _>("payload").map_err(classify)?)
        .bind(row.try_get::<DateTime<Utc>, _>("created_at").map_err(classify)?)
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        let id = match queued {
            Some(id) => id,
            None => sqlx::query_scalar("SELECT id FROM jobs WHERE dedupe_key = $1")
                .bind(&dedupe_key)
                .fetch_one(&mut *tx)
                .await
                .map_err(classify)?,
        };
        tx.commit().await.map_err(classify)?;
        self.jobs_enqueued();
        Ok(Some(id))
    }

    async fn next_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        // A leased job is due again when its lease runs out (GREATEST ignores a NULL lease).
        sqlx::query_scalar("SELECT MIN(GREATEST(run_at, locked_until)) FROM jobs")
            .fetch_one(&self.pool)
            .await
            .map_err(classify)
    }

    async fn job_counts(&self, now: DateTime<Utc>) -> Result<JobCounts, StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM jobs) AS queued,
                    (SELECT COUNT(*) FROM jobs WHERE run_at <= $1) AS due,
                    (SELECT COUNT(*) FROM dead_jobs) AS dead,
                    (SELECT MIN(run_at) FROM jobs WHERE run_at <= $1) AS oldest",
        )
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(classify)?;
        Ok(JobCounts {
            queued: unsigned(row.try_get("queued").map_err(classify)?)?,
            due: unsigned(row.try_get("due").map_err(classify)?)?,
            dead: unsigned(row.try_get("dead").map_err(classify)?)?,
            oldest_due: row.try_get("oldest").map_err(classify)?,
        })
    }
}

fn job_from_row(r: &PgRow) -> Result<Job, StoreError> {
    Ok(Job {
        id: r.try_get("id").map_err(classify)?,
        kind: r.try_get("kind").map_err(classify)?,
        dedupe_key: r.try_get("dedupe_key").map_err(classify)?,
        correspondence_id: r
            .try_get::<Option<Uuid>, _>("correspondence_id")
            .map_err(classify)?
            .map(CorrespondenceId::from_uuid),
        run_at: r.try_get("run_at").map_err(classify)?,
        attempts: unsigned(r.try_get("attempts").map_err(classify)?)?,
        max_attempts: unsigned(r.try_get("max_attempts").map_err(classify)?)?,
        payload: r.try_get("payload").map_err(classify)?,
        last_error: r.try_get("last_error").map_err(classify)?,
    })
}
