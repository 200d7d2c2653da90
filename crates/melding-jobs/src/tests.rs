use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use chrono::TimeZone;
use melding_domain::{CorrespondenceId, SimulatedClock};
use melding_store::NewJob;
use melding_store_sqlite::SqliteStore;
use serde::{Deserialize, Serialize};

use super::*;

/// A job that fails while its handler has failures left.
#[derive(Debug, Serialize, Deserialize)]
struct FlakyJob {
    n: u32,
}

impl JobKind for FlakyJob {
    const KIND: &'static str = "flaky";
    fn dedupe_key(&self) -> String {
        format!("flaky:{}", self.n)
    }
}

struct Flaky {
    fails_left: AtomicU32,
    runs: Mutex<Vec<i64>>,
}

#[async_trait]
impl Handle<FlakyJob> for Flaky {
    async fn run(&self, _job: FlakyJob, ctx: &JobContext) -> anyhow::Result<Outcome> {
        self.runs.lock().unwrap().push(ctx.id);
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
    runner.register(JobHandler::new(handler.clone()));
    // Jobs enter through a domain write; an empty letter batch carries just the job.
    use melding_store::CorrespondenceStore;
    store
        .insert_correspondences(
            &[],
            &[NewJob {
                max_attempts,
                ..FlakyJob { n: 1 }.due_at(t0() + Duration::minutes(5))
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

#[derive(Debug, Serialize, Deserialize)]
struct OverlappingJob {
    n: u32,
}

impl JobKind for OverlappingJob {
    const KIND: &'static str = "overlapping";
    const MAX_ATTEMPTS: u32 = 3;
    fn dedupe_key(&self) -> String {
        format!("overlapping:{}", self.n)
    }
}

/// Counts how many of its runs overlap.
struct Overlapping {
    now: AtomicU32,
    most: AtomicU32,
    done: AtomicU32,
}

#[async_trait]
impl Handle<OverlappingJob> for Overlapping {
    async fn run(&self, _job: OverlappingJob, _ctx: &JobContext) -> anyhow::Result<Outcome> {
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
    runner.register(JobHandler::new(handler.clone()));
    use melding_store::CorrespondenceStore;
    let jobs: Vec<NewJob> = (0..20).map(|n| OverlappingJob { n }.due_at(t0())).collect();
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

// ---- kinds as stored rows ----

/// A kind stored the old way: the letter in the row's column, the payload `null`.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LetterJob {
    correspondence_id: CorrespondenceId,
}

impl JobKind for LetterJob {
    const KIND: &'static str = "letter-job";
    const LETTER_IN_COLUMN: bool = true;
    fn dedupe_key(&self) -> String {
        format!("letter-job:{}", self.correspondence_id)
    }
}

/// The same, with a field of its own beside the letter.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LetterAndKey {
    correspondence_id: CorrespondenceId,
    key: String,
}

impl JobKind for LetterAndKey {
    const KIND: &'static str = "letter-and-key";
    const LETTER_IN_COLUMN: bool = true;
    fn dedupe_key(&self) -> String {
        self.key.clone()
    }
}

/// The row a store would hand back for `new`, as claimed for its first attempt.
fn claimed(new: NewJob) -> Job {
    Job {
        id: 7,
        kind: new.kind,
        dedupe_key: new.dedupe_key,
        correspondence_id: new.correspondence_id,
        run_at: new.run_at,
        attempts: 1,
        max_attempts: new.max_attempts,
        payload: new.payload,
        last_error: None,
    }
}

#[test]
fn a_kind_is_stored_as_its_name_key_and_serde_payload() {
    let new = FlakyJob { n: 4 }.due_at(t0());
    assert_eq!(
        new,
        NewJob {
            kind: "flaky".into(),
            dedupe_key: "flaky:4".into(),
            correspondence_id: None,
            run_at: t0(),
            max_attempts: 10,
            payload: serde_json::json!({ "n": 4 }),
        }
    );
    assert_eq!(FlakyJob::from_job(&claimed(new)).unwrap().n, 4);
}

#[test]
fn a_letter_in_the_column_leaves_a_null_payload_and_comes_back() {
    let id = CorrespondenceId::new_v7(t0());
    let job = LetterJob {
        correspondence_id: id,
    };
    let new = job.due_at(t0());
    assert_eq!(new.correspondence_id, Some(id));
    assert_eq!(new.payload, serde_json::Value::Null);
    assert_eq!(LetterJob::from_job(&claimed(new)).unwrap(), job);

    let both = LetterAndKey {
        correspondence_id: id,
        key: "k".into(),
    };
    let new = both.due_at(t0());
    assert_eq!(new.correspondence_id, Some(id));
    assert_eq!(new.payload, serde_json::json!({ "key": "k" }));
    assert_eq!(LetterAndKey::from_job(&claimed(new)).unwrap(), both);
}

#[test]
fn a_row_of_another_kind_or_shape_is_not_read() {
    let row = claimed(FlakyJob { n: 1 }.due_at(t0()));
    assert!(matches!(
        OverlappingJob::from_job(&row),
        Err(DecodeError::WrongKind { expected: "overlapping", ref found }) if found == "flaky"
    ));
    let bad = Job {
        payload: serde_json::json!({ "n": "one" }),
        ..row
    };
    let err = FlakyJob::from_job(&bad).unwrap_err();
    assert!(
        matches!(err, DecodeError::Payload { kind: "flaky", .. }),
        "{err}"
    );
    // A letter kind whose row lost its letter.
    let orphan = Job {
        correspondence_id: None,
        ..claimed(
            LetterJob {
                correspondence_id: CorrespondenceId::new_v7(t0()),
            }
            .due_at(t0()),
        )
    };
    assert!(LetterJob::from_job(&orphan).is_err());
}

#[tokio::test]
async fn rows_no_handler_can_read_are_buried_at_once() {
    let (runner, handler, clock, store, _dir) = setup(0, 5).await;
    use melding_store::CorrespondenceStore;
    let unreadable = NewJob {
        dedupe_key: "flaky:unreadable".into(),
        payload: serde_json::json!({ "n": "one" }),
        ..FlakyJob { n: 2 }.due_at(t0())
    };
    let unknown = NewJob {
        kind: "retired-kind".into(),
        dedupe_key: "retired-kind:1".into(),
        ..FlakyJob { n: 3 }.due_at(t0())
    };
    store
        .insert_correspondences(&[], &[unreadable, unknown])
        .await
        .unwrap();
    assert_eq!(runner.run_until_idle().await.unwrap(), 2);
    assert!(handler.runs.lock().unwrap().is_empty());
    let dead = store.list_jobs(true, 10).await.unwrap();
    let error_of = |key: &str| {
        dead.iter()
            .find(|j| j.dedupe_key == key)
            .and_then(|j| j.last_error.clone())
            .unwrap_or_else(|| panic!("{key} is not dead: {dead:?}"))
    };
    assert!(error_of("flaky:unreadable").contains("cannot be read"));
    assert!(error_of("retired-kind:1").contains("no handler"));
    assert_eq!(runner.stats().buried.load(Ordering::SeqCst), 2);
    // The well-formed job still runs when due.
    clock.advance(Duration::minutes(5));
    assert_eq!(runner.run_until_idle().await.unwrap(), 1);
    assert_eq!(handler.runs.lock().unwrap().len(), 1);
}

#[test]
fn a_panic_message_is_read_from_a_literal_or_a_formatted_panic() {
    let caught = |f: fn()| std::panic::catch_unwind(f).unwrap_err();
    assert_eq!(
        panic_message(caught(|| panic!("literal")).as_ref()),
        "literal"
    );
    assert_eq!(
        panic_message(caught(|| panic!("formatted {}", 42)).as_ref()),
        "formatted 42"
    );
    assert_eq!(
        panic_message(caught(|| std::panic::panic_any(42_u8)).as_ref()),
        "a panic without a message"
    );
}
