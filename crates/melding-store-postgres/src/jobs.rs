//! The job queue on PostgreSQL. A job's row is mapped in one place each way: [`NewJobRow`] (a
//! job to enqueue → its row) and [`JobRow`] (a stored row → [`Job`]).

use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use melding_domain::CorrespondenceId;
use melding_store::sql::TableRow;
use melding_store::{Job, JobCounts, JobStore, NewJob, StoreError, sql, table_row};
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::codec::{column_list, insert_unnest, table_columns};
use crate::{PostgresStore, classify, unsigned};

table_columns! {
    /// A job to enqueue as its row of `jobs`. Its creation time is its first run time.
    #[derive(Debug)]
    pub(crate) struct NewJobRow in "jobs", columns NewJobColumns {
        kind: String as "text",
        dedupe_key: String as "text",
        correspondence_id: Option<Uuid> as "uuid",
        run_at: DateTime<Utc> as "timestamptz",
        max_attempts: i64 as "bigint",
        payload: serde_json::Value as "jsonb",
        created_at: DateTime<Utc> as "timestamptz",
    }
}

impl NewJobRow {
    /// The row of `job`.
    pub(crate) fn new(job: &NewJob) -> Self {
        Self {
            kind: job.kind.clone(),
            dedupe_key: job.dedupe_key.clone(),
            correspondence_id: job.correspondence_id.map(|c| c.as_uuid()),
            run_at: job.run_at,
            max_attempts: i64::from(job.max_attempts),
            payload: job.payload.clone(),
            created_at: job.run_at,
        }
    }
}

impl NewJobColumns {
    /// The rows of `jobs`.
    pub(crate) fn of(jobs: &[NewJob]) -> Self {
        let mut columns = Self::default();
        for job in jobs {
            columns.push(NewJobRow::new(job));
        }
        columns
    }
}

/// Inserts the jobs whose column arrays ([`NewJobColumns`]) are bound from `$first_param` on; a
/// job whose dedupe key is taken is kept as it is.
pub(crate) fn insert_jobs(first_param: usize) -> String {
    format!(
        "{} ON CONFLICT (dedupe_key) DO NOTHING",
        insert_unnest(
            NewJobRow::TABLE,
            NewJobRow::COLUMNS,
            NewJobColumns::SQL_TYPES,
            first_param
        )
    )
}

/// [`insert_jobs`] from `$1`.
static INSERT_JOBS: LazyLock<String> = LazyLock::new(|| insert_jobs(1));

/// Enqueues `jobs` inside the caller's transaction, in one statement however many; a job with
/// the same dedupe key as a queued one is kept as is.
pub(crate) async fn enqueue(tx: &mut PgConnection, jobs: &[NewJob]) -> Result<(), StoreError> {
    if jobs.is_empty() {
        return Ok(());
    }
    NewJobColumns::of(jobs)
        .bind(sqlx::query(INSERT_JOBS.as_str()))
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
        correspondence_id: Option<Uuid>,
        run_at: DateTime<Utc>,
        attempts: i64,
        max_attempts: i64,
        payload: serde_json::Value,
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
            correspondence_id: self.correspondence_id.map(CorrespondenceId::from_uuid),
            run_at: self.run_at,
            attempts: unsigned(self.attempts)?,
            max_attempts: unsigned(self.max_attempts)?,
            payload: self.payload,
            last_error: self.last_error,
        })
    }
}

/// The claim: leases up to `$4` due, free jobs to `$1` until `$2`, `$3` being now. SKIP LOCKED:
/// a job another node is claiming right now is simply not ours; once that claim commits, the
/// job's lease keeps it out of the WHERE clause.
static CLAIM_DUE: LazyLock<String> = LazyLock::new(|| claim_due_where(""));

/// [`CLAIM_DUE`] for the jobs after (`$5`, `$6`) in the queue's order only: see [`ClaimFloor`].
static CLAIM_DUE_AFTER: LazyLock<String> =
    LazyLock::new(|| claim_due_where("AND (run_at, id) > ($5, $6)"));

fn claim_due_where(and: &str) -> String {
    format!(
        "WITH due AS (
             SELECT id FROM jobs
             WHERE run_at <= $3 AND (locked_until IS NULL OR locked_until < $3) {and}
             ORDER BY run_at, id
             LIMIT $4
             FOR UPDATE SKIP LOCKED
         )
         UPDATE jobs j SET locked_by = $1, locked_until = $2, attempts = j.attempts + 1
         FROM due WHERE j.id = due.id
         RETURNING {}",
        column_list("j.", JobRow::COLUMNS)
    )
}

/// How long a node may claim from its [`ClaimFloor`] before it reads the queue from its start
/// again, in the clock's time.
const FULL_CLAIM_EVERY: Duration = Duration::seconds(1);

/// Where this node's claims have reached in the queue's order (`run_at`, `id`), so that the
/// next claim starts there.
///
/// Finished jobs are deleted, but their index entries stay until VACUUM removes them, and
/// autovacuum comes by once a minute at most. While a backlog drains, a claim from the start of
/// the queue reads past every job run since: 30,000 drained jobs made a claim cost 10 ms of
/// the database's time (`pg_stat_statements` during `melding-bench --notifications`), more than
/// a core at 50 claims a second. A claim from the floor reads only what is ahead.
///
/// A job can be due behind the floor: one whose lease ran out on a node that stopped, one
/// enqueued or rescheduled to an earlier time, one skipped while another node held it. The
/// queue is therefore read from its start whenever a claim from the floor finds fewer jobs
/// than asked for, and at least every [`FULL_CLAIM_EVERY`]; such a job waits at most that
/// long, and the jobs are still claimed earliest first.
#[derive(Debug, Default)]
pub(crate) struct ClaimFloor(std::sync::Mutex<Option<Floor>>);

#[derive(Debug, Clone, Copy)]
struct Floor {
    /// The last claimed job's place.
    run_at: DateTime<Utc>,
    id: i64,
    /// When the queue was last read from its start.
    full_claim_at: DateTime<Utc>,
}

impl ClaimFloor {
    /// The place to claim after at `now`, if a claim may start there.
    fn usable(&self, now: DateTime<Utc>) -> Option<Floor> {
        let floor = (*self.0.lock().unwrap_or_else(|e| e.into_inner()))?;
        let since = now - floor.full_claim_at;
        (since >= Duration::zero() && since < FULL_CLAIM_EVERY).then_some(floor)
    }

    /// Records a claim at `now` that ended with `last` (`None`: nothing claimed), `full` when it
    /// read the queue from its start.
    fn record(&self, now: DateTime<Utc>, last: Option<&Job>, full: bool, before: Option<Floor>) {
        let mut floor = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let full_claim_at = match (full, before) {
            (false, Some(b)) => b.full_claim_at,
            _ => now,
        };
        *floor = last.map(|j| Floor {
            run_at: j.run_at,
            id: j.id,
            full_claim_at,
        });
    }
}

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

/// The channel every node listens on for enqueued jobs.
pub(crate) const CHANNEL: &str = "melding_jobs";

struct PgJobListener(sqlx::postgres::PgListener);

#[async_trait]
impl melding_store::JobListener for PgJobListener {
    async fn recv(&mut self) -> Result<(), StoreError> {
        self.0.recv().await.map(|_| ()).map_err(classify)
    }
}

impl PostgresStore {
    /// Leases up to `limit` jobs due at `now` to `worker` until `until`: those after `after` in
    /// the queue's order, or from its start.
    async fn lease_due(
        &self,
        worker: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: usize,
        after: Option<&Floor>,
    ) -> Result<Vec<JobRow>, StoreError> {
        let sql = match after {
            Some(_) => CLAIM_DUE_AFTER.as_str(),
            None => CLAIM_DUE.as_str(),
        };
        let mut query = sqlx::query_as::<_, JobRow>(sql)
            .bind(worker)
            .bind(until)
            .bind(now)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX));
        if let Some(f) = after {
            query = query.bind(f.run_at).bind(f.id);
        }
        query.fetch_all(&self.pool).await.map_err(classify)
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
        // From this node's floor first (see `ClaimFloor`), then from the queue's start when
        // that found too few.
        let floor = self.claim_floor.usable(now);
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let until = now + lease;
        let mut rows = match &floor {
            Some(f) => self.lease_due(worker, until, now, limit, Some(f)).await?,
            None => Vec::new(),
        };
        let full = rows.len() < limit;
        if full {
            let more = limit - rows.len();
            rows.extend(self.lease_due(worker, until, now, more, None).await?);
        }
        let mut jobs = rows
            .into_iter()
            .map(JobRow::into_job)
            .collect::<Result<Vec<_>, _>>()?;
        jobs.sort_by_key(|j| (j.run_at, j.id));
        self.claim_floor.record(now, jobs.last(), full, floor);
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
        let sql = if dead { &LIST_DEAD_JOBS } else { &LIST_JOBS };
        let rows = sqlx::query_as::<_, JobRow>(sql.as_str())
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        rows.into_iter().map(JobRow::into_job).collect()
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
        // A free job is due at its run_at; a leased one when its lease has run out too. The
        // two halves use their own index (migration 0012) instead of scanning the queue, and
        // LEAST ignores the half that finds nothing.
        sqlx::query_scalar(
            "SELECT LEAST(
                 (SELECT run_at FROM jobs WHERE locked_until IS NULL ORDER BY run_at LIMIT 1),
                 (SELECT MIN(GREATEST(run_at, locked_until)) FROM jobs
                  WHERE locked_until IS NOT NULL))",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(classify)
    }

    async fn job_counts(&self, now: DateTime<Utc>) -> Result<JobCounts, StoreError> {
        let row = sqlx::query(sql::JOB_COUNTS)
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
