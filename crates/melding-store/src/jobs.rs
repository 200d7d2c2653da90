//! The job queue's storage: jobs are rows, written in the same transaction as the change that
//! causes them, claimed with leases, and removed when done.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use melding_domain::CorrespondenceId;

use crate::StoreError;

/// A job to enqueue. `dedupe_key` is unique: enqueuing the same key twice keeps the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub kind: String,
    pub dedupe_key: String,
    pub correspondence_id: Option<CorrespondenceId>,
    pub run_at: DateTime<Utc>,
    pub max_attempts: u32,
    pub payload: serde_json::Value,
}

/// A claimed job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub dedupe_key: String,
    pub correspondence_id: Option<CorrespondenceId>,
    pub run_at: DateTime<Utc>,
    /// Attempts including this one.
    pub attempts: u32,
    pub max_attempts: u32,
    pub payload: serde_json::Value,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobCounts {
    pub queued: u64,
    pub due: u64,
    pub dead: u64,
    pub oldest_due: Option<DateTime<Utc>>,
}

/// Tells a runner that jobs were enqueued, possibly by another node.
#[async_trait]
pub trait JobListener: Send {
    /// Waits for the next notice. An error means the listener is broken; poll instead.
    async fn recv(&mut self) -> Result<(), StoreError>;
}

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

    async fn job_counts(&self, now: DateTime<Utc>) -> Result<JobCounts, StoreError>;

    /// Up to `limit` jobs of the queue, or of the dead letters when `dead`, earliest due first.
    async fn list_jobs(&self, dead: bool, limit: u32) -> Result<Vec<Job>, StoreError>;

    /// Puts dead job `id` back in the queue, due at `now` with its attempts reset; returns the
    /// queued job's id, or `None` when there is no such dead job. If a job with the same dedupe
    /// key is queued already, that one stands and the dead one is dropped.
    async fn retry_dead_job(&self, id: i64, now: DateTime<Utc>) -> Result<Option<i64>, StoreError>;
}
