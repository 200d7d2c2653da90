//! The job queue: enqueuing with dedupe keys, claiming with leases, retries and dead letters.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::Duration;
use melding_domain::{CorrespondenceStatus as S, StatusEntry};
use melding_store::{AppendGuard, Job, JobCounts};
use tokio::sync::Barrier;

use crate::DynStore;
use crate::fixtures::{at, enqueue, insert, job, letter, org, person, person_urn, t0};

fn lease() -> Duration {
    Duration::seconds(30)
}

async fn claim(store: &DynStore, secs: i64, worker: &str) -> Vec<Job> {
    let mut jobs = store
        .claim_due(at(secs), worker, lease(), 100)
        .await
        .unwrap();
    jobs.sort_by_key(|j| (j.run_at, j.id));
    jobs
}

async fn claim_one(store: &DynStore, secs: i64, worker: &str) -> Job {
    let mut jobs = claim(store, secs, worker).await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    jobs.remove(0)
}

async fn counts(store: &DynStore, secs: i64) -> JobCounts {
    store.job_counts(at(secs)).await.unwrap()
}

fn keys(jobs: &[Job]) -> Vec<&str> {
    jobs.iter().map(|j| j.dedupe_key.as_str()).collect()
}

pub async fn jobs_from_letters_dedupe_on_key(store: DynStore) {
    let c = letter("r", &org(1), &person_urn(&person(1)), t0());
    let mut publish = job("publish", at(0));
    publish.correspondence_id = Some(c.id);
    publish.kind = "publish".to_owned();
    publish.max_attempts = 7;
    let mut again = job("publish", at(10));
    again.payload = serde_json::json!({ "second": true });
    store
        .insert_correspondences(std::slice::from_ref(&c), &[publish.clone(), again.clone()])
        .await
        .unwrap();
    // A later request with the same key keeps the first too.
    enqueue(&store, &[again, job("notify", at(5))]).await;
    assert_eq!(counts(&store, 100).await.queued, 2);

    let jobs = claim(&store, 100, "w").await;
    assert_eq!(keys(&jobs), ["publish", "notify"]);
    let first = &jobs[0];
    assert_eq!(
        (
            first.kind.as_str(),
            first.correspondence_id,
            first.run_at,
            first.attempts,
            first.max_attempts,
            &first.payload,
            &first.last_error,
        ),
        ("publish", Some(c.id), at(0), 1, 7, &publish.payload, &None)
    );
}

pub async fn jobs_from_appends_dedupe_on_key(store: DynStore) {
    let c = letter("r", &org(1), &person_urn(&person(1)), t0());
    store
        .insert_correspondences(std::slice::from_ref(&c), &[job("publish", at(0))])
        .await
        .unwrap();
    let entry = StatusEntry::new(S::Published, at(1), None);
    for extra in ["notify", "remind"] {
        assert!(
            store
                .append_status(
                    c.id,
                    &entry,
                    AppendGuard::Always,
                    &[job("publish", at(1)), job(extra, at(1))],
                )
                .await
                .unwrap()
        );
    }
    let jobs = claim(&store, 100, "w").await;
    assert_eq!(keys(&jobs), ["publish", "notify", "remind"]);
    assert_eq!(jobs[0].run_at, at(0));
}

/// The jobs of one write are enqueued together; a dedupe key repeated among them keeps its first
/// job, as it does across writes.
pub async fn a_key_repeated_in_one_append_keeps_its_first_job(store: DynStore) {
    let c = letter("r", &org(1), &person_urn(&person(1)), t0());
    insert(&store, std::slice::from_ref(&c)).await;
    let mut second = job("notify", at(5));
    second.payload = serde_json::json!({ "second": true });
    let entry = StatusEntry::new(S::Published, at(1), None);
    assert!(
        store
            .append_status(
                c.id,
                &entry,
                AppendGuard::Always,
                &[job("notify", at(1)), second, job("remind", at(2))],
            )
            .await
            .unwrap()
    );
    let jobs = claim(&store, 100, "w").await;
    assert_eq!(keys(&jobs), ["notify", "remind"]);
    assert_eq!(jobs[0].run_at, at(1));
    assert_eq!(jobs[0].payload, job("notify", at(1)).payload);
}

pub async fn claim_takes_only_due_jobs(store: DynStore) {
    assert!(claim(&store, 0, "w").await.is_empty());
    enqueue(
        &store,
        &[
            job("past", at(-10)),
            job("now", at(0)),
            job("future", at(10)),
        ],
    )
    .await;

    let jobs = claim(&store, 0, "a").await;
    assert_eq!(keys(&jobs), ["past", "now"]);
    for j in &jobs {
        assert_eq!(j.attempts, 1);
        assert_eq!(j.max_attempts, 5);
        assert_eq!(j.kind, "test");
        assert_eq!(j.last_error, None);
        assert_eq!(j.correspondence_id, None);
        assert_eq!(j.payload, job(&j.dedupe_key, j.run_at).payload);
    }
    assert_ne!(jobs[0].id, jobs[1].id);
    // Leased jobs are not claimed again, by anyone.
    assert!(claim(&store, 1, "a").await.is_empty());
    assert!(claim(&store, 1, "b").await.is_empty());
    assert_eq!(keys(&claim(&store, 10, "b").await), ["future"]);
}

pub async fn claim_respects_limit_in_run_order(store: DynStore) {
    enqueue(
        &store,
        &[
            job("c", at(-3)),
            job("a", at(-5)),
            job("e", at(-1)),
            job("b", at(-4)),
            job("d", at(-2)),
        ],
    )
    .await;
    let mut first = store.claim_due(at(0), "w", lease(), 2).await.unwrap();
    first.sort_by_key(|j| j.run_at);
    assert_eq!(keys(&first), ["a", "b"]);
    let mut rest = store.claim_due(at(0), "w", lease(), 10).await.unwrap();
    rest.sort_by_key(|j| j.run_at);
    assert_eq!(keys(&rest), ["c", "d", "e"]);
    assert!(
        store
            .claim_due(at(0), "w", lease(), 0)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn lease_blocks_other_workers_until_it_expires(store: DynStore) {
    enqueue(&store, &[job("j", at(0))]).await;
    let a = claim_one(&store, 0, "a").await;
    assert_eq!(a.attempts, 1);
    assert!(claim(&store, 29, "b").await.is_empty());

    // The lease (30 s) has run out: another worker takes the job over, as a new attempt.
    let b = claim_one(&store, 31, "b").await;
    assert_eq!((b.id, b.attempts), (a.id, 2));
    // The first worker no longer holds it.
    store.complete_jobs(&[a.id], "a").await.unwrap();
    assert_eq!(counts(&store, 100).await.queued, 1);
    store.complete_jobs(&[b.id], "b").await.unwrap();
    assert_eq!(counts(&store, 100).await.queued, 0);
    assert!(claim(&store, 1000, "c").await.is_empty());
}

/// A batch completes in one call: the jobs the worker holds go, the others stay.
pub async fn complete_removes_a_batch_but_only_the_workers_jobs(store: DynStore) {
    store.complete_jobs(&[], "a").await.unwrap();
    enqueue(
        &store,
        &[job("j1", at(0)), job("j2", at(0)), job("j3", at(0))],
    )
    .await;
    let mine = claim(&store, 0, "a").await;
    assert_eq!(mine.len(), 3);
    // j3's lease runs out and worker b takes it over.
    let theirs = {
        let j3 = mine.iter().find(|j| j.dedupe_key == "j3").unwrap().id;
        store.reschedule_job(j3, "a", at(0), None).await.unwrap();
        claim_one(&store, 1, "b").await
    };
    let ids: Vec<i64> = mine.iter().map(|j| j.id).chain([i64::MAX]).collect();
    store.complete_jobs(&ids, "a").await.unwrap();
    assert_eq!(counts(&store, 100).await.queued, 1);
    store.complete_jobs(&[theirs.id], "b").await.unwrap();
    assert_eq!(counts(&store, 100).await.queued, 0);
}

pub async fn complete_by_wrong_worker_does_nothing(store: DynStore) {
    enqueue(&store, &[job("j", at(0)), job("idle", at(1000))]).await;
    let j = claim_one(&store, 0, "a").await;
    store.complete_jobs(&[j.id], "b").await.unwrap();
    assert_eq!(counts(&store, 0).await.queued, 2);
    // Nobody completes a job that is not claimed.
    let idle_id = store
        .list_jobs(false, 10)
        .await
        .unwrap()
        .into_iter()
        .find(|q| q.dedupe_key == "idle")
        .expect("the idle job is queued")
        .id;
    for worker in ["a", "b", ""] {
        store.complete_jobs(&[idle_id], worker).await.unwrap();
    }
    assert_eq!(counts(&store, 0).await.queued, 2);
    // An unknown job is no error.
    store.complete_jobs(&[i64::MAX], "a").await.unwrap();

    store.complete_jobs(&[j.id], "a").await.unwrap();
    assert_eq!(counts(&store, 0).await.queued, 1);
    assert_eq!(keys(&claim(&store, 1000, "a").await), ["idle"]);
}

pub async fn reschedule_without_error_gives_back_the_attempt(store: DynStore) {
    enqueue(&store, &[job("j", at(0))]).await;
    let j = claim_one(&store, 0, "a").await;
    store
        .reschedule_job(j.id, "a", at(100), None)
        .await
        .unwrap();
    // Not due before its new time, and no longer leased.
    assert!(claim(&store, 99, "b").await.is_empty());
    assert_eq!(store.next_due().await.unwrap(), Some(at(100)));
    let again = claim_one(&store, 100, "b").await;
    assert_eq!((again.id, again.attempts, again.run_at), (j.id, 1, at(100)));
    assert_eq!(again.last_error, None);
}

pub async fn reschedule_with_error_counts_and_records_it(store: DynStore) {
    enqueue(&store, &[job("j", at(0))]).await;
    let j = claim_one(&store, 0, "a").await;
    store
        .reschedule_job(j.id, "a", at(100), Some("smtp: 451"))
        .await
        .unwrap();
    let second = claim_one(&store, 100, "a").await;
    assert_eq!(second.attempts, 2);
    assert_eq!(second.last_error.as_deref(), Some("smtp: 451"));

    // Another worker cannot reschedule it: the lease stands.
    store
        .reschedule_job(j.id, "b", at(100), Some("not mine"))
        .await
        .unwrap();
    assert!(claim(&store, 110, "b").await.is_empty());

    // Rescheduling without an error keeps the last error and gives back the attempt.
    store
        .reschedule_job(j.id, "a", at(200), None)
        .await
        .unwrap();
    let third = claim_one(&store, 200, "a").await;
    assert_eq!(third.attempts, 2);
    assert_eq!(third.last_error.as_deref(), Some("smtp: 451"));
    store
        .reschedule_job(j.id, "a", at(300), Some("smtp: 550"))
        .await
        .unwrap();
    let fourth = claim_one(&store, 300, "a").await;
    assert_eq!(fourth.attempts, 3);
    assert_eq!(fourth.last_error.as_deref(), Some("smtp: 550"));
}

pub async fn bury_moves_job_to_dead_letters(store: DynStore) {
    enqueue(&store, &[job("doomed", at(0)), job("fine", at(0))]).await;
    let jobs = claim(&store, 0, "a").await;
    let doomed = jobs.iter().find(|j| j.dedupe_key == "doomed").unwrap();

    store.bury_job(doomed.id, "b", "not mine").await.unwrap();
    let before = counts(&store, 0).await;
    assert_eq!((before.queued, before.dead), (2, 0));

    store.bury_job(doomed.id, "a", "gave up").await.unwrap();
    let fine = jobs.iter().find(|j| j.dedupe_key == "fine").unwrap();
    store.complete_jobs(&[fine.id], "a").await.unwrap();
    assert_eq!(
        counts(&store, 0).await,
        JobCounts {
            queued: 0,
            due: 0,
            dead: 1,
            oldest_due: None,
        }
    );
    assert!(claim(&store, 10_000, "a").await.is_empty());
    assert_eq!(store.next_due().await.unwrap(), None);
    // Burying twice does nothing more.
    store.bury_job(doomed.id, "a", "again").await.unwrap();
    assert_eq!(counts(&store, 0).await.dead, 1);
}

pub async fn dead_jobs_are_listed_and_retried(store: DynStore) {
    enqueue(&store, &[job("doomed", at(0)), job("waiting", at(50))]).await;
    let doomed = claim(&store, 0, "a").await.remove(0);
    store.bury_job(doomed.id, "a", "gave up").await.unwrap();

    let queued = store.list_jobs(false, 10).await.unwrap();
    assert_eq!(keys(&queued), ["waiting"]);
    let dead = store.list_jobs(true, 10).await.unwrap();
    assert_eq!(keys(&dead), ["doomed"]);
    assert_eq!(dead[0].id, doomed.id);
    assert_eq!(dead[0].attempts, 1);
    assert_eq!(dead[0].last_error.as_deref(), Some("gave up"));
    assert!(store.list_jobs(true, 0).await.unwrap().is_empty());

    let requeued = store
        .retry_dead_job(doomed.id, at(100))
        .await
        .unwrap()
        .unwrap();
    assert!(store.list_jobs(true, 10).await.unwrap().is_empty());
    let again = claim(&store, 100, "b")
        .await
        .into_iter()
        .find(|j| j.dedupe_key == "doomed")
        .unwrap();
    assert_eq!(again.id, requeued);
    assert_eq!(again.dedupe_key, "doomed");
    assert_eq!(again.attempts, 1, "attempts start over");
    assert_eq!(
        store.retry_dead_job(doomed.id, at(100)).await.unwrap(),
        None
    );
    assert_eq!(store.retry_dead_job(987_654, at(100)).await.unwrap(), None);
}

pub async fn retrying_a_dead_job_whose_key_is_queued_keeps_the_queued_one(store: DynStore) {
    enqueue(&store, &[job("k", at(0))]).await;
    let first = claim_one(&store, 0, "a").await;
    store.bury_job(first.id, "a", "gave up").await.unwrap();
    enqueue(&store, &[job("k", at(10))]).await;
    let queued = store.list_jobs(false, 10).await.unwrap();
    assert_eq!(queued.len(), 1);
    let kept = store.retry_dead_job(first.id, at(20)).await.unwrap();
    assert_eq!(kept, Some(queued[0].id));
    assert_eq!(store.list_jobs(false, 10).await.unwrap().len(), 1);
    assert!(store.list_jobs(true, 10).await.unwrap().is_empty());
}

pub async fn next_due_and_job_counts(store: DynStore) {
    assert_eq!(store.next_due().await.unwrap(), None);
    assert_eq!(counts(&store, 0).await, JobCounts::default());

    enqueue(
        &store,
        &[job("a", at(0)), job("b", at(100)), job("c", at(200))],
    )
    .await;
    assert_eq!(store.next_due().await.unwrap(), Some(at(0)));
    assert_eq!(
        counts(&store, 100).await,
        JobCounts {
            queued: 3,
            due: 2,
            dead: 0,
            oldest_due: Some(at(0)),
        }
    );
    assert_eq!(
        counts(&store, -1).await,
        JobCounts {
            queued: 3,
            due: 0,
            dead: 0,
            oldest_due: None,
        }
    );

    // A leased job is next due when its lease runs out.
    let a = claim_one(&store, 0, "w").await;
    assert_eq!(store.next_due().await.unwrap(), Some(at(30)));
    store
        .reschedule_job(a.id, "w", at(150), Some("later"))
        .await
        .unwrap();
    assert_eq!(store.next_due().await.unwrap(), Some(at(100)));
    let mut long = store
        .claim_due(at(100), "w", Duration::seconds(500), 1)
        .await
        .unwrap();
    let b = long.remove(0);
    assert_eq!(b.dedupe_key, "b");
    assert_eq!(store.next_due().await.unwrap(), Some(at(150)));
    store.complete_jobs(&[b.id], "w").await.unwrap();
    assert_eq!(counts(&store, 1000).await.queued, 2);
}

/// A job that becomes due before the ones already claimed (a lease that ran out, an earlier
/// reschedule) is not passed over: a claim that finds fewer jobs than it asks for, and any
/// claim a second after the queue was last read from its start, take it, earliest first.
/// (PostgreSQL claims from where its last claim ended while a backlog drains.)
pub async fn a_job_due_before_the_claimed_ones_is_not_passed_over(store: DynStore) {
    enqueue(&store, &[job("a", at(0)), job("b", at(1)), job("c", at(2))]).await;
    let take = |secs: i64, n: u32| {
        let store = store.clone();
        async move {
            let mut jobs = store.claim_due(at(secs), "w", lease(), n).await.unwrap();
            jobs.sort_by_key(|j| (j.run_at, j.id));
            jobs
        }
    };
    assert_eq!(keys(&take(10, 1).await), ["a"]);
    enqueue(&store, &[job("z", at(-5))]).await;
    assert_eq!(keys(&take(10, 10).await), ["z", "b", "c"]);

    enqueue(
        &store,
        &[job("d", at(3)), job("e", at(4)), job("y", at(-4))],
    )
    .await;
    assert_eq!(keys(&take(12, 1).await), ["y"]);
    assert_eq!(keys(&take(12, 5).await), ["d", "e"]);
    assert!(take(12, 5).await.is_empty());
}

/// Five workers claim twenty jobs at once, a few at a time: every job is claimed exactly once.
pub async fn concurrent_claims_never_share_a_job(store: DynStore) {
    let jobs: Vec<_> = (0..20).map(|i| job(&format!("j{i}"), at(-i))).collect();
    enqueue(&store, &jobs).await;
    let workers = 5;
    let barrier = Arc::new(Barrier::new(workers));
    let tasks: Vec<_> = (0..workers)
        .map(|w| {
            let store = store.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                let worker = format!("w{w}");
                let mut mine = Vec::new();
                loop {
                    let got = store.claim_due(at(0), &worker, lease(), 3).await.unwrap();
                    if got.is_empty() {
                        break mine;
                    }
                    mine.extend(got.into_iter().map(|j| (j.id, j.attempts)));
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    assert_eq!(all.len(), 20, "{all:?}");
    let distinct: HashSet<i64> = all.iter().map(|(id, _)| *id).collect();
    assert_eq!(distinct.len(), 20);
    assert!(all.iter().all(|(_, attempts)| *attempts == 1));
}
