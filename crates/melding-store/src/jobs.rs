//! The job queue's storage: jobs are rows, written in the same transaction as the change that
//! causes them, claimed with leases, and removed when done.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use melding_domain::CorrespondenceId;

use crate::StoreError;

/// A job to enqueue. `dedupe_key` is unique: enqueuing the same key twice keeps the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// Which handler runs it (the job kind's name, e.g. `publish`).
    pub kind: String,
    /// What makes two enqueues the same job (e.g. the kind and the letter's id).
    pub dedupe_key: String,
    /// The letter the job is about, if any.
    pub correspondence_id: Option<CorrespondenceId>,
    /// When it becomes due (UTC); also recorded as its creation time.
    pub run_at: DateTime<Utc>,
    /// How many attempts it gets before it is moved to the dead letters.
    pub max_attempts: u32,
    /// The handler's input, as the job kind defines it.
    pub payload: serde_json::Value,
}

/// A claimed job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// The queue's key for it (kept when it is moved to the dead letters).
    pub id: i64,
    /// As enqueued ([`NewJob::kind`]).
    pub kind: String,
    /// As enqueued ([`NewJob::dedupe_key`]).
    pub dedupe_key: String,
    /// As enqueued ([`NewJob::correspondence_id`]).
    pub correspondence_id: Option<CorrespondenceId>,
    /// When it became (or becomes) due, UTC; moved on by a reschedule.
    pub run_at: DateTime<Utc>,
    /// Attempts including this one.
    pub attempts: u32,
    /// As enqueued ([`NewJob::max_attempts`]).
    pub max_attempts: u32,
    /// As enqueued ([`NewJob::payload`]).
    pub payload: serde_json::Value,
    /// The error of the last failed attempt, if one failed.
    pub last_error: Option<String>,
}

/// The size of the queue at one moment, for metrics and `melding jobs`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobCounts {
    /// Jobs in the queue, due or not, leased or not.
    pub queued: u64,
    /// Queued jobs whose run time has come.
    pub due: u64,
    /// Jobs in the dead letters.
    pub dead: u64,
    /// The earliest run time (UTC) of a due job: how long the oldest has waited.
    pub oldest_due: Option<DateTime<Utc>>,
}

/// Tells a runner that jobs were enqueued, possibly by another node.
#[async_trait]
pub trait JobListener: Send {
    /// Waits for the next notice. An error means the listener is broken; poll instead.
    async fn recv(&mut self) -> Result<(), StoreError>;
}

/// The job queue (DESIGN decision 2): rows claimed with leases by the runners of every node,
/// removed when done, moved to the dead letters when their attempts are used up. Every method
/// answers [`StoreError::Unavailable`] when the database fails.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// A listener for enqueue notices from every node, where the backend has one (PostgreSQL's
    /// LISTEN/NOTIFY). `None` means runners rely on their own wake-ups and polling.
    async fn job_listener(&self) -> Result<Option<Box<dyn JobListener>>, StoreError> {
        Ok(None)
    }

    /// Claims up to `limit` due jobs whose lease is free, leasing them to `worker` until
    /// `now + lease` and counting an attempt.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        worker: &str,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError>;

    /// Removes finished jobs, each only while `worker` holds its lease; one statement however
    /// many (a runner completes a batch at once).
    async fn complete_jobs(&self, ids: &[i64], worker: &str) -> Result<(), StoreError>;

    /// Frees a job to run again at `run_at`. `error` is recorded when the attempt failed.
    async fn reschedule_job(
        &self,
        id: i64,
        worker: &str,
        run_at: DateTime<Utc>,
        error: Option<&str>,
    ) -> Result<(), StoreError>;

    /// Moves a job that used up its attempts to the dead letters.
    async fn bury_job(&self, id: i64, worker: &str, error: &str) -> Result<(), StoreError>;

    /// When the next queued job becomes due, if any.
    async fn next_due(&self) -> Result<Option<DateTime<Utc>>, StoreError>;

    /// The queue's counts, with "due" meaning a run time at or before `now`.
    async fn job_counts(&self, now: DateTime<Utc>) -> Result<JobCounts, StoreError>;

    /// Up to `limit` jobs of the queue, or of the dead letters when `dead`, earliest due first.
    async fn list_jobs(&self, dead: bool, limit: u32) -> Result<Vec<Job>, StoreError>;

    /// Puts dead job `id` back in the queue, due at `now` with its attempts reset; returns the
    /// queued job's id, or `None` when there is no such dead job. If a job with the same dedupe
    /// key is queued already, that one stands and the dead one is dropped.
    async fn retry_dead_job(&self, id: i64, now: DateTime<Utc>) -> Result<Option<i64>, StoreError>;
}
