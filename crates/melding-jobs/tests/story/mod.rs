//! The runner's stories, written once and run on every store (`sqlite.rs`, `postgres.rs`): a
//! handler that panics while other jobs run is one failed attempt of its own job, and neither
//! those jobs nor the runner stop; and a node's runner keeps its places busy, so a slow job
//! holds one place while jobs enqueued after it run.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use melding_domain::{Clock, SimulatedClock};
use melding_jobs::{
    Handle, JobContext, JobHandler, JobKind, Outcome, Runner, RunnerConfig, RunnerStats, Waker,
};
use melding_store::{Job, JobStore, NewJob, Store};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

/// A job whose handler panics with `boom {n}`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Boom {
    n: u32,
}

impl JobKind for Boom {
    const KIND: &'static str = "boom";
    const MAX_ATTEMPTS: u32 = 3;
    fn dedupe_key(&self) -> String {
        format!("boom:{}", self.n)
    }
}

/// A job whose handler finishes once it is let go.
#[derive(Debug, Serialize, Deserialize)]
pub struct Steady {
    n: u32,
}

impl JobKind for Steady {
    const KIND: &'static str = "steady";
    fn dedupe_key(&self) -> String {
        format!("steady:{}", self.n)
    }
}

/// What both handlers share: how many steady runs have started and finished, and whether they
/// may finish.
struct Board {
    started: watch::Sender<u32>,
    released: watch::Sender<bool>,
    finished: AtomicU32,
}

impl Board {
    fn new(released: bool) -> Arc<Self> {
        Arc::new(Self {
            started: watch::channel(0).0,
            released: watch::channel(released).0,
            finished: AtomicU32::new(0),
        })
    }
}

struct SteadyHandler(Arc<Board>);

#[async_trait]
impl Handle<Steady> for SteadyHandler {
    async fn run(&self, _job: Steady, _ctx: &JobContext) -> anyhow::Result<Outcome> {
        let mut released = self.0.released.subscribe();
        self.0.started.send_modify(|n| *n += 1);
        released.wait_for(|r| *r).await?;
        self.0.finished.fetch_add(1, Ordering::SeqCst);
        Ok(Outcome::Done)
    }
}

/// Panics once `wait_for` steady runs have started (and are still running), letting them go
/// first.
struct BoomHandler {
    board: Arc<Board>,
    wait_for: u32,
}

#[async_trait]
impl Handle<Boom> for BoomHandler {
    async fn run(&self, job: Boom, _ctx: &JobContext) -> anyhow::Result<Outcome> {
        let mut started = self.board.started.subscribe();
        started.wait_for(|n| *n >= self.wait_for).await?;
        self.board.released.send_replace(true);
        panic!("boom {}", job.n);
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, 2, 8, 0, 0).unwrap()
}

fn runner(
    store: &Arc<dyn Store>,
    clock: &Arc<SimulatedClock>,
    board: &Arc<Board>,
    wait_for: u32,
    waker: Waker,
) -> Runner {
    let config = RunnerConfig {
        poll_interval: std::time::Duration::from_millis(20),
        ..RunnerConfig::default()
    };
    let mut runner = Runner::new(
        store.clone() as Arc<dyn JobStore>,
        clock.clone(),
        config,
        waker,
    );
    runner.register(JobHandler::new(SteadyHandler(board.clone())));
    runner.register(JobHandler::new(BoomHandler {
        board: board.clone(),
        wait_for,
    }));
    runner
}

/// Enqueues `jobs` the way Melding does: in a domain write, here an empty batch of letters.
async fn enqueue(store: &Arc<dyn Store>, jobs: &[NewJob]) {
    store.insert_correspondences(&[], jobs).await.unwrap();
}

fn count(counter: &std::sync::atomic::AtomicU64) -> u64 {
    counter.load(Ordering::SeqCst)
}

fn outcomes(stats: &RunnerStats) -> [u64; 5] {
    [
        count(&stats.done),
        count(&stats.run_again),
        count(&stats.retried),
        count(&stats.buried),
        count(&stats.panicked),
    ]
}

async fn find(store: &Arc<dyn Store>, dead: bool, key: &str) -> Option<Job> {
    store
        .list_jobs(dead, 100)
        .await
        .unwrap()
        .into_iter()
        .find(|j| j.dedupe_key == key)
}

/// Fails the test instead of hanging it when `what` never happens (a guard, not a measurement).
async fn within_a_minute<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(std::time::Duration::from_secs(60), f)
        .await
        .unwrap_or_else(|_| panic!("{what} did not happen"))
}

/// A handler panics while four other jobs of its batch are in flight: those finish, and the
/// panic is a failed attempt of its own job, with the message as its last error, retried with
/// back-off, and buried after its last attempt.
pub async fn a_panic_is_a_failed_attempt_while_other_jobs_run_on(store: Arc<dyn Store>) {
    let clock = Arc::new(SimulatedClock::new(t0()));
    let board = Board::new(false);
    let runner = runner(&store, &clock, &board, 4, Waker::default());
    let mut jobs = vec![Boom { n: 1 }.due_at(t0())];
    jobs.extend((0..4).map(|n| Steady { n }.due_at(t0())));
    enqueue(&store, &jobs).await;

    let ran = within_a_minute("the first batch", runner.run_until_idle()).await;
    assert_eq!(ran.unwrap(), 5);
    assert_eq!(board.finished.load(Ordering::SeqCst), 4);
    let stats = runner.stats();
    assert_eq!(outcomes(&stats), [4, 0, 0, 0, 1]);
    let boom = find(&store, false, "boom:1").await.expect("boom is queued");
    assert_eq!(boom.attempts, 1);
    // Retried after its back-off, not at once.
    assert!(boom.run_at > t0(), "{boom:?}");
    let error = boom.last_error.expect("the panic is recorded");
    assert!(
        error.contains("panicked") && error.contains("boom 1"),
        "{error}"
    );
    assert_eq!(runner.run_until_idle().await.unwrap(), 0);

    for attempt in 2..=3 {
        clock.advance(Duration::hours(1));
        let ran = within_a_minute("a retry", runner.run_until_idle()).await;
        assert_eq!(ran.unwrap(), 1, "attempt {attempt}");
    }
    assert_eq!(outcomes(&stats), [4, 0, 0, 0, 3]);
    assert!(find(&store, false, "boom:1").await.is_none());
    let dead = find(&store, true, "boom:1").await.expect("boom is dead");
    assert_eq!(dead.attempts, 3);
    let error = dead.last_error.expect("the panic is recorded");
    assert!(error.contains("boom 1"), "{error}");
    let counts = store.job_counts(clock.now()).await.unwrap();
    assert_eq!((counts.queued, counts.dead), (0, 1));
}

/// The runner a node starts at boot keeps running after a handler panicked: a job enqueued
/// afterwards still runs, and the runner stops only when told to.
pub async fn the_node_runner_keeps_running_after_a_panic(store: Arc<dyn Store>) {
    let clock = Arc::new(SimulatedClock::new(t0()));
    let board = Board::new(true);
    let waker = Waker::default();
    let runner = Arc::new(runner(&store, &clock, &board, 0, waker.clone()));
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn({
        let runner = runner.clone();
        async move { runner.run_forever(stopped).await }
    });

    enqueue(
        &store,
        &[NewJob {
            max_attempts: 1,
            ..Boom { n: 2 }.due_at(t0())
        }],
    )
    .await;
    waker.wake();
    within_a_minute("burying the panicking job", async {
        while find(&store, true, "boom:2").await.is_none() {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await;

    enqueue(&store, &[Steady { n: 9 }.due_at(t0())]).await;
    waker.wake();
    within_a_minute("the job after the panic", async {
        while board.finished.load(Ordering::SeqCst) < 1 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await;

    stop.send_replace(true);
    within_a_minute("the runner stopping", task)
        .await
        .expect("the runner's task ends normally, not by a panic");
    assert_eq!(count(&runner.stats().panicked), 1);
    assert_eq!(count(&runner.stats().done), 1);
}

/// A job that finishes once [`Gate::open`] turns true.
#[derive(Debug, Serialize, Deserialize)]
pub struct Slow {}

impl JobKind for Slow {
    const KIND: &'static str = "slow";
    fn dedupe_key(&self) -> String {
        "slow".into()
    }
}

/// A job that finishes at once.
#[derive(Debug, Serialize, Deserialize)]
pub struct Quick {
    n: u32,
}

impl JobKind for Quick {
    const KIND: &'static str = "quick";
    fn dedupe_key(&self) -> String {
        format!("quick:{}", self.n)
    }
}

/// What the slow and quick handlers share.
#[derive(Default)]
struct Gate {
    slow_started: watch::Sender<bool>,
    open: watch::Sender<bool>,
    quick_done: AtomicU32,
}

#[async_trait]
impl Handle<Slow> for Gate {
    async fn run(&self, _job: Slow, _ctx: &JobContext) -> anyhow::Result<Outcome> {
        let mut open = self.open.subscribe();
        self.slow_started.send_replace(true);
        open.wait_for(|o| *o).await?;
        Ok(Outcome::Done)
    }
}

#[async_trait]
impl Handle<Quick> for Gate {
    async fn run(&self, _job: Quick, _ctx: &JobContext) -> anyhow::Result<Outcome> {
        self.quick_done.fetch_add(1, Ordering::SeqCst);
        Ok(Outcome::Done)
    }
}

/// A node's runner with two places: while a slow job holds one, jobs enqueued after it was
/// claimed run in the other and are removed; once the slow job ends it is removed too, and a
/// stopped runner returns.
pub async fn a_slow_job_holds_one_place_while_later_jobs_run(store: Arc<dyn Store>) {
    let clock = Arc::new(SimulatedClock::new(t0()));
    let waker = Waker::default();
    let gate = Arc::new(Gate::default());
    let config = RunnerConfig {
        concurrency: 2,
        poll_interval: std::time::Duration::from_millis(20),
        ..RunnerConfig::default()
    };
    let mut runner = Runner::new(
        store.clone() as Arc<dyn JobStore>,
        clock.clone(),
        config,
        waker.clone(),
    );
    runner.register(JobHandler::new::<Slow>(gate.clone()));
    runner.register(JobHandler::new::<Quick>(gate.clone()));
    let runner = Arc::new(runner);
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn({
        let runner = runner.clone();
        async move { runner.run_forever(stopped).await }
    });

    enqueue(&store, &[Slow {}.due_at(t0())]).await;
    waker.wake();
    let mut started = gate.slow_started.subscribe();
    within_a_minute("the slow job starting", started.wait_for(|s| *s))
        .await
        .unwrap();

    let quick: Vec<NewJob> = (1..=5).map(|n| Quick { n }.due_at(t0())).collect();
    enqueue(&store, &quick).await;
    waker.wake();
    within_a_minute("the quick jobs running beside the slow one", async {
        while gate.quick_done.load(Ordering::SeqCst) < 5
            || store.list_jobs(false, 10).await.unwrap().len() > 1
        {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(find(&store, false, "slow").await.is_some(), "still running");

    gate.open.send_replace(true);
    within_a_minute("the slow job's removal", async {
        while find(&store, false, "slow").await.is_some() {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await;
    stop.send_replace(true);
    within_a_minute("the runner stopping", task)
        .await
        .expect("the runner's task ends normally");
    assert_eq!(outcomes(&runner.stats()), [6, 0, 0, 0, 0]);
}

/// One `#[tokio::test]` per story, each given a fresh store by `$run`.
macro_rules! panic_stories {
    ($run:path) => {
        #[tokio::test]
        async fn a_panic_is_a_failed_attempt_while_other_jobs_run_on() {
            $run(story::a_panic_is_a_failed_attempt_while_other_jobs_run_on).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn the_node_runner_keeps_running_after_a_panic() {
            $run(story::the_node_runner_keeps_running_after_a_panic).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_slow_job_holds_one_place_while_later_jobs_run() {
            $run(story::a_slow_job_holds_one_place_while_later_jobs_run).await;
        }
    };
}
