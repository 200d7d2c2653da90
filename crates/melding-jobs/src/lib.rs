//! The job runner. Side effects are rows in the `jobs` table, written in the same transaction as
//! the change that causes them; this crate claims due rows with a lease, runs the handler for
//! their kind, and removes, reschedules or buries them.
//!
//! Each kind of job is one type ([`JobKind`]: its kind name, a serde payload) with one typed
//! handler ([`Handle`]); the runner keeps them in one registry by kind ([`JobHandler`]).
//!
//! A crash between running a handler and removing its row repeats the job when the lease runs
//! out, so every handler re-checks state and is safe to repeat. A handler that panics does not
//! take the runner down: the panic is one failed attempt of that job, and every other job runs
//! on (this needs the default `panic = "unwind"`; Melding's profiles keep it).
#![forbid(unsafe_code)]

mod handler;
mod kind;

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use futures_util::{FutureExt, StreamExt};
use melding_domain::Clock;
use melding_store::{Job, JobStore, StoreError};
use rand::Rng;
use tokio::sync::{Notify, watch};
use tracing::Instrument;

pub use handler::{Handle, JobContext, JobHandler};
pub use kind::{DecodeError, JobKind, LETTER_FIELD};

/// What a handler reports when it returns normally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Finished; remove the job.
    Done,
    /// Not time yet (e.g. the publish time moved); run again then, without counting an attempt.
    RunAgainAt(DateTime<Utc>),
}

/// Wakes idle runners when a job is enqueued in this process, so it need not wait for a poll.
#[derive(Debug, Clone, Default)]
pub struct Waker(Arc<Notify>);

impl Waker {
    /// Wakes one idle runner of this process (or the next that goes idle).
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// Tuning for one runner.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Identifies this node's claims.
    pub worker_id: String,
    /// How long a claim lasts before another node may take the job over.
    pub lease: Duration,
    /// How many jobs to claim at once.
    pub batch: u32,
    /// How many of a claimed batch run at the same time. Enough to keep the database busy
    /// between round trips; few enough that the API's requests still find free connections.
    pub concurrency: usize,
    /// The longest an idle runner sleeps before looking again.
    pub poll_interval: std::time::Duration,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            worker_id: format!(
                "melding-{}-{:08x}",
                std::process::id(),
                rand::random::<u32>()
            ),
            lease: Duration::seconds(60),
            batch: 32,
            concurrency: 8,
            poll_interval: std::time::Duration::from_secs(1),
        }
    }
}

/// What a runner has done since it started, for the metrics endpoint
/// (`melding_jobs_runs_total{outcome=…}`). Each run of a handler counts once, under one outcome.
#[derive(Debug, Default)]
pub struct RunnerStats {
    /// Runs that finished their job (`done`).
    pub done: std::sync::atomic::AtomicU64,
    /// Runs that asked to run again later, without counting an attempt (`run_again`).
    pub run_again: std::sync::atomic::AtomicU64,
    /// Runs that returned an error with attempts left; the job waits for its back-off
    /// (`retried`).
    pub retried: std::sync::atomic::AtomicU64,
    /// Runs that returned an error on their last attempt, and rows that no handler of this
    /// version can run (an unknown kind or payload); the job is moved to the dead letters (`buried`).
    pub buried: std::sync::atomic::AtomicU64,
    /// Runs whose handler panicked (`panicked`). The panic is a failed attempt like an error:
    /// the job is retried with back-off, or moved to the dead letters after its last attempt.
    pub panicked: std::sync::atomic::AtomicU64,
}

impl RunnerStats {
    fn count(counter: &std::sync::atomic::AtomicU64) {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Claims and runs jobs: one per node, shared by its tasks.
pub struct Runner {
    stats: Arc<RunnerStats>,
    store: Arc<dyn JobStore>,
    clock: Arc<dyn Clock>,
    handlers: HashMap<&'static str, JobHandler>,
    config: RunnerConfig,
    waker: Waker,
}

impl Runner {
    /// A runner over `store`'s queue that reads time from `clock` and wakes on `waker`. It runs
    /// nothing until handlers are registered; a row of an unregistered kind is moved to the
    /// dead letters.
    pub fn new(
        store: Arc<dyn JobStore>,
        clock: Arc<dyn Clock>,
        config: RunnerConfig,
        waker: Waker,
    ) -> Self {
        Self {
            stats: Arc::default(),
            store,
            clock,
            handlers: HashMap::new(),
            config,
            waker,
        }
    }

    /// What this runner has done, shared with the metrics endpoint.
    pub fn stats(&self) -> Arc<RunnerStats> {
        self.stats.clone()
    }

    /// Runs jobs of `handler`'s kind with it from now on; a second handler for the same kind
    /// replaces the first.
    pub fn register(&mut self, handler: JobHandler) {
        self.handlers.insert(handler.kind(), handler);
    }

    /// The handler registered for `kind`, if any: for running one claimed job by hand, e.g. a
    /// test that repeats a job the way a crash before its removal would.
    pub fn handler(&self, kind: &str) -> Option<JobHandler> {
        self.handlers.get(kind).cloned()
    }

    /// Claims one batch of due jobs and runs them; returns how many ran. A job whose handler
    /// fails or panics is settled (rescheduled or buried) and counts as ran.
    ///
    /// # Errors
    /// The first storage error of the claim, of settling a job, or of removing the finished ones.
    pub async fn run_once(&self) -> Result<usize, StoreError> {
        let jobs = self
            .claim(usize::try_from(self.config.batch).unwrap_or(usize::MAX))
            .await?;
        let n = jobs.len();
        // The batch runs `concurrency` jobs at a time: each is a few short reads and one
        // guarded write, so one at a time would leave the database idle between round trips
        // and let a steady stream of new letters outpace publishing, while the whole batch at
        // once took every pooled connection from the API. Handlers already tolerate running
        // beside each other (several nodes claim from the same table); every job ends before
        // the next claim, and the first storage error is reported after all of them have.
        //
        // Finished jobs are removed together once the batch has run: one write instead of one
        // per job. A crash before that removal repeats them when their leases run out, as a
        // crash between a handler and its own removal always could.
        let mut first_error = None;
        let mut done = Vec::new();
        let mut running = futures_util::stream::iter(jobs.into_iter().map(|job| self.run_job(job)))
            .buffer_unordered(self.config.concurrency.max(1));
        while let Some(ran) = running.next().await {
            match ran {
                Ok(Some(id)) => done.push(id),
                Ok(None) => {}
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        drop(running);
        let completed = self
            .store
            .complete_jobs(&done, &self.config.worker_id)
            .await;
        if let Some(e) = first_error {
            return Err(e);
        }
        completed?;
        Ok(n)
    }

    /// Runs due jobs until none is left (for tests and for `melding jobs run`).
    ///
    /// # Errors
    /// The first storage error, as [`Runner::run_once`].
    pub async fn run_until_idle(&self) -> Result<usize, StoreError> {
        let mut total = 0;
        loop {
            let n = self.run_once().await?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }

    /// Runs until `shutdown` turns true: keeps up to [`RunnerConfig::concurrency`] jobs running
    /// at all times, claiming more as running ones finish, and sleeps when nothing is due until
    /// the next job is due, a local enqueue wakes it, the database announces a job, or the poll
    /// interval passes. On shutdown it claims nothing more and returns once the running jobs
    /// have ended and the finished ones are removed.
    ///
    /// Unlike [`Runner::run_once`], which runs a claimed batch to its end before claiming again,
    /// this is a pipeline: a slow job (an SMTP server that takes a second to answer) holds one
    /// place, not the whole batch, and the finished jobs are removed by a task of their own in
    /// one write per group, while the next jobs already run.
    pub async fn run_forever(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut listener = match self.store.job_listener().await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "no job notifications; polling instead");
                None
            }
        };
        let limit = self.config.concurrency.max(1);
        // Claim when a quarter of the places are free (or nothing runs), so a steady stream is
        // claimed in groups rather than one claim (one write) per finished job.
        let refill = (limit / 4).max(1);
        let batch = usize::try_from(self.config.batch.max(1)).unwrap_or(usize::MAX);
        let (finished, to_remove) = tokio::sync::mpsc::unbounded_channel::<i64>();
        let remover = tokio::spawn(remove_finished(
            self.store.clone(),
            self.config.worker_id.clone(),
            to_remove,
        ));
        let mut running = tokio::task::JoinSet::new();
        loop {
            while running.try_join_next().is_some() {}
            if *shutdown.borrow() {
                break;
            }
            let free = limit - running.len();
            let mut drained = true;
            if free >= refill || running.is_empty() {
                let want = free.min(batch);
                match self.claim(want).await {
                    Ok(jobs) => {
                        drained = jobs.len() < want;
                        for job in jobs {
                            let runner = self.clone();
                            let finished = finished.clone();
                            running.spawn(async move {
                                match runner.run_job(job).await {
                                    Ok(Some(id)) => {
                                        let _ = finished.send(id);
                                    }
                                    Ok(None) => {}
                                    Err(e) => {
                                        tracing::warn!(error = %e, "settling a job failed; it runs again when its lease ends");
                                    }
                                }
                            });
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "job claim failed; retrying"),
                }
            } else {
                drained = false;
            }
            if !drained {
                // More is due than there is room for: wait for a place.
                if free < refill {
                    tokio::select! {
                        _ = running.join_next() => {}
                        _ = shutdown.changed() => {}
                    }
                }
                continue;
            }
            let sleep = match self.store.next_due().await {
                Ok(Some(at)) => (at - self.clock.now())
                    .to_std()
                    .unwrap_or_default()
                    .min(self.config.poll_interval),
                _ => self.config.poll_interval,
            };
            let notice = async {
                match listener.as_mut() {
                    Some(l) => l.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(sleep) => {}
                _ = self.waker.0.notified() => {}
                _ = shutdown.changed() => {}
                heard = notice => {
                    if let Err(e) = heard {
                        tracing::warn!(error = %e, "job notifications lost; polling instead");
                        listener = None;
                    }
                }
            }
        }
        while running.join_next().await.is_some() {}
        drop(finished);
        let _ = remover.await;
    }

    /// Claims up to `n` due jobs for this runner.
    async fn claim(&self, n: usize) -> Result<Vec<Job>, StoreError> {
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        self.store
            .claim_due(
                self.clock.now(),
                &self.config.worker_id,
                self.config.lease,
                n,
            )
            .await
    }

    /// Runs one job and settles it, except that a finished job is returned (its id) for the
    /// batch to remove.
    async fn run_job(&self, job: Job) -> Result<Option<i64>, StoreError> {
        let span =
            tracing::info_span!("job", job_id = job.id, kind = %job.kind, attempt = job.attempts);
        self.run_job_in_span(job).instrument(span).await
    }

    async fn run_job_in_span(&self, job: Job) -> Result<Option<i64>, StoreError> {
        let worker = &self.config.worker_id;
        let Some(handler) = self.handlers.get(job.kind.as_str()) else {
            let msg = format!("no handler for job kind {}", job.kind);
            tracing::error!(job_id = job.id, kind = %job.kind, "{msg}");
            RunnerStats::count(&self.stats.buried);
            return self
                .store
                .bury_job(job.id, worker, &msg)
                .await
                .map(|()| None);
        };
        let run = match handler.start(&job) {
            Ok(run) => run,
            Err(e) => {
                // A payload this version cannot read stays unreadable however often it is
                // tried: bury it at once, like a kind without a handler, for `jobs retry` after
                // a fix.
                RunnerStats::count(&self.stats.buried);
                tracing::error!(error = %e, "job payload unreadable; moved to dead letters");
                return self
                    .store
                    .bury_job(job.id, worker, &e.to_string())
                    .await
                    .map(|()| None);
            }
        };
        // A panic unwinds to here instead of through the batch and the runner's task, which
        // would stop every job of this node while HTTP kept serving. Handlers keep their state
        // in the store, where a run cut short by a panic leaves what a crash would leave and
        // the retry re-checks it; so treating the run as unwind safe is sound.
        let ran = AssertUnwindSafe(run).catch_unwind().await;
        let settled = match ran {
            Ok(Ok(Outcome::Done)) => {
                RunnerStats::count(&self.stats.done);
                return Ok(Some(job.id));
            }
            Ok(Ok(Outcome::RunAgainAt(at))) => {
                RunnerStats::count(&self.stats.run_again);
                self.store.reschedule_job(job.id, worker, at, None).await
            }
            Ok(Err(e)) => {
                let counter = if job.attempts >= job.max_attempts {
                    &self.stats.buried
                } else {
                    &self.stats.retried
                };
                RunnerStats::count(counter);
                self.fail(&job, &format!("{e:#}")).await
            }
            Err(panic) => {
                RunnerStats::count(&self.stats.panicked);
                let msg = format!("the handler panicked: {}", panic_message(panic.as_ref()));
                self.fail(&job, &msg).await
            }
        };
        settled.map(|()| None)
    }

    /// Settles a failed attempt: the job runs again after its back-off, or, after its last
    /// attempt, moves to the dead letters. `error` is recorded as its last error.
    async fn fail(&self, job: &Job, error: &str) -> Result<(), StoreError> {
        let worker = &self.config.worker_id;
        if job.attempts >= job.max_attempts {
            tracing::error!(error, "job failed for the last time; moved to dead letters");
            self.store.bury_job(job.id, worker, error).await
        } else {
            let at = self.clock.now() + backoff(job.attempts);
            tracing::warn!(error, retry_at = %at, "job failed; will retry");
            self.store
                .reschedule_job(job.id, worker, at, Some(error))
                .await
        }
    }
}

/// Removes the jobs [`Runner::run_forever`] reports finished, all that have arrived in one
/// write, until the runner drops its sender. A failed removal is logged: those jobs run again
/// when their leases end, as after a crash, and their handlers find nothing left to do.
async fn remove_finished(
    store: Arc<dyn JobStore>,
    worker: String,
    mut finished: tokio::sync::mpsc::UnboundedReceiver<i64>,
) {
    let mut ids = Vec::new();
    while finished.recv_many(&mut ids, 512).await > 0 {
        if let Err(e) = store.complete_jobs(&ids, &worker).await {
            tracing::warn!(error = %e, jobs = ids.len(), "removing finished jobs failed; they run again when their leases end");
        }
        ids.clear();
    }
}

/// The message a panic was raised with (`panic!` with a literal gives a `&str`, with a format a
/// `String`), or a note that it carried something else.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    if let Some(s) = panic.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s
    } else {
        "a panic without a message"
    }
}

/// How long a job waits after failed attempt `attempt` (1 for the first): exponential back-off
/// with ±25 % jitter, 2 s, 4 s, 8 s, … capped at one hour.
pub fn backoff(attempt: u32) -> Duration {
    let base = 2i64.saturating_pow(attempt.min(20)).min(3600);
    let jitter = rand::rng().random_range(0.75..1.25);
    Duration::milliseconds((base as f64 * 1000.0 * jitter) as i64)
}

#[cfg(test)]
mod tests;
