use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::TimeZone;
use melding_domain::SimulatedClock;
use melding_store::NewJob;
use melding_store_sqlite::SqliteStore;

use super::*;

struct Flaky {
    fails_left: AtomicU32,
    runs: Mutex<Vec<i64>>,
}

#[async_trait]
impl JobHandler for Flaky {
    fn kind(&self) -> &'static str {
        "flaky"
    }
    async fn run(&self, job: &Job) -> anyhow::Result<Outcome> {
        self.runs.lock().unwrap().push(job.id);
        if self.fails_left.load(Ordering::SeqCst) > 0 {
            self.fails_left.fetch_sub(1, Ordering::SeqCst);
            anyhow::bail!("provider down");
        }
        Ok(Outcome::Done)
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, 2, 8, 0, 0).unwrap()
}

async fn setup(
    fails: u32,
    max_attempts: u32,
) -> (
    Runner,
    Arc<Flaky>,
    Arc<SimulatedClock>,
    SqliteStore,
    tempfile::TempDir,
) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
    let clock = Arc::new(SimulatedClock::new(t0()));
    let handler = Arc::new(Flaky {
        fails_left: AtomicU32::new(fails),
        runs: Mutex::new(vec![]),
    });
    let mut runner = Runner::new(
        Arc::new(store.clone()),
        clock.clone(),
        RunnerConfig::default(),
        Waker::default(),
    );
    runner.register(handler.clone());
    // Jobs enter through a domain write; an empty letter batch carries just the job.
    use melding_store::CorrespondenceStore;
    store
        .insert_correspondences(
            &[],
            &[NewJob {
                kind: "flaky".into(),
                dedupe_key: "flaky:1".into(),
                correspondence_id: None,
                run_at: t0() + Duration::minutes(5),
                max_attempts,
                payload: serde_json::json!({}),
            }],
        )
        .await
        .unwrap();
    (runner, handler, clock, store, dir)
}

#[tokio::test]
async fn a_job_runs_only_when_due() {
    let (runner, handler, clock, store, _dir) = setup(0, 3).await;
    assert_eq!(runner.run_until_idle().await.unwrap(), 0);
    clock.advance(Duration::minutes(5));
    assert_eq!(runner.run_until_idle().await.unwrap(), 1);
    assert_eq!(handler.runs.lock().unwrap().len(), 1);
    assert_eq!(store.job_counts(clock.now()).await.unwrap().queued, 0);
}

#[tokio::test]
async fn failures_back_off_then_succeed() {
    let (runner, handler, clock, store, _dir) = setup(2, 5).await;
    clock.advance(Duration::minutes(5));
    assert_eq!(runner.run_until_idle().await.unwrap(), 1);
    // Retried later, not at once.
    assert_eq!(runner.run_until_idle().await.unwrap(), 0);
    clock.advance(Duration::hours(1));
    runner.run_until_idle().await.unwrap();
    clock.advance(Duration::hours(1));
    runner.run_until_idle().await.unwrap();
    assert_eq!(handler.runs.lock().unwrap().len(), 3);
    let counts = store.job_counts(clock.now()).await.unwrap();
    assert_eq!((counts.queued, counts.dead), (0, 0));
}

#[tokio::test]
async fn a_job_that_keeps_failing_is_buried() {
    let (runner, handler, clock, store, _dir) = setup(100, 3).await;
    for _ in 0..5 {
        clock.advance(Duration::hours(2));
        runner.run_until_idle().await.unwrap();
    }
    assert_eq!(handler.runs.lock().unwrap().len(), 3);
    let counts = store.job_counts(clock.now()).await.unwrap();
    assert_eq!((counts.queued, counts.dead), (0, 1));
}

#[tokio::test]
async fn a_lease_blocks_other_workers_until_it_expires() {
    let (runner, handler, clock, store, _dir) = setup(0, 3).await;
    clock.advance(Duration::minutes(5));
    // Another node ("a") claims the job and holds it.
    let a = store
        .claim_due(clock.now(), "a", Duration::seconds(60), 10)
        .await
        .unwrap();
    assert_eq!(a.len(), 1);
    // This runner finds nothing to run while the lease holds.
    assert_eq!(runner.run_until_idle().await.unwrap(), 0);
    assert!(handler.runs.lock().unwrap().is_empty());
    clock.advance(Duration::seconds(59));
    assert_eq!(runner.run_until_idle().await.unwrap(), 0);
    assert!(handler.runs.lock().unwrap().is_empty());
    // Once it has run out, the runner takes the job over (its second attempt) and finishes it.
    clock.advance(Duration::seconds(2));
    assert_eq!(runner.run_until_idle().await.unwrap(), 1);
    assert_eq!(*handler.runs.lock().unwrap(), [a[0].id]);
    assert_eq!(store.job_counts(clock.now()).await.unwrap().queued, 0);
}

#[tokio::test]
async fn a_late_completion_by_the_first_worker_leaves_the_job_to_the_second() {
    let (_runner, _handler, clock, store, _dir) = setup(0, 3).await;
    clock.advance(Duration::minutes(5));
    let a = store
        .claim_due(clock.now(), "a", Duration::seconds(60), 10)
        .await
        .unwrap();
    assert_eq!(a.len(), 1);
    clock.advance(Duration::seconds(61));
    let b = store
        .claim_due(clock.now(), "b", Duration::seconds(60), 10)
        .await
        .unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].attempts, 2);
    // The first worker's late completion does not remove the job the second now holds.
    store.complete_jobs(&[a[0].id], "a").await.unwrap();
    assert_eq!(store.job_counts(clock.now()).await.unwrap().queued, 1);
}

#[test]
fn backoff_grows_and_is_capped() {
    assert!(
        backoff(1) >= Duration::milliseconds(1500) && backoff(1) <= Duration::milliseconds(2500)
    );
    assert!(backoff(5) >= Duration::seconds(24));
    assert!(backoff(50) <= Duration::seconds(4500));
}

/// Counts how many of its runs overlap.
struct Overlapping {
    now: AtomicU32,
    most: AtomicU32,
    done: AtomicU32,
}

#[async_trait]
impl JobHandler for Overlapping {
    fn kind(&self) -> &'static str {
        "overlapping"
    }
    async fn run(&self, _job: &Job) -> anyhow::Result<Outcome> {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        self.now.fetch_sub(1, Ordering::SeqCst);
        self.done.fetch_add(1, Ordering::SeqCst);
        Ok(Outcome::Done)
    }
}

async fn overlap_with(concurrency: usize) -> (u32, u32) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
    let clock = Arc::new(SimulatedClock::new(t0()));
    let handler = Arc::new(Overlapping {
        now: AtomicU32::new(0),
        most: AtomicU32::new(0),
        done: AtomicU32::new(0),
    });
    let config = RunnerConfig {
        concurrency,
        ..RunnerConfig::default()
    };
    let mut runner = Runner::new(
        Arc::new(store.clone()),
        clock.clone(),
        config,
        Waker::default(),
    );
    runner.register(handler.clone());
    use melding_store::CorrespondenceStore;
    let jobs: Vec<NewJob> = (0..20)
        .map(|i| NewJob {
            kind: "overlapping".into(),
            dedupe_key: format!("overlapping:{i}"),
            correspondence_id: None,
            run_at: t0(),
            max_attempts: 3,
            payload: serde_json::json!({}),
        })
        .collect();
    store.insert_correspondences(&[], &jobs).await.unwrap();
    assert_eq!(runner.run_until_idle().await.unwrap(), 20);
    assert_eq!(store.job_counts(clock.now()).await.unwrap().queued, 0);
    (
        handler.most.load(Ordering::SeqCst),
        handler.done.load(Ordering::SeqCst),
    )
}

#[tokio::test]
async fn a_batch_runs_up_to_the_configured_number_of_jobs_at_once() {
    // 20 due jobs, a batch of 32: all are claimed at once, but only `concurrency` run together.
    assert_eq!(overlap_with(4).await, (4, 20));
    assert_eq!(overlap_with(1).await, (1, 20));
}
