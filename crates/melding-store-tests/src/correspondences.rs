//! Letters, their status logs and the guards on appending to them.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Duration;
use melding_domain::correspondence::{ExternalReference, ReferenceType, ReplyOption};
use melding_domain::{CorrespondenceId, CorrespondenceStatus as S, StatusEntry, StatusHistory};
use melding_store::{AppendGuard, StoreError};
use tokio::sync::Barrier;
use uuid::Uuid;

use crate::DynStore;
use crate::fixtures::{at, insert, job, letter, org, org_urn, person, person_urn, t0};

/// How many entries with `status` the stored log of `id` holds.
async fn count(store: &DynStore, id: CorrespondenceId, status: S) -> usize {
    let c = store.correspondence(id).await.unwrap().unwrap();
    c.statuses
        .entries()
        .iter()
        .filter(|e| e.status == status)
        .count()
}

async fn queued(store: &DynStore) -> u64 {
    store.job_counts(at(1_000_000)).await.unwrap().queued
}

pub async fn letter_round_trips_with_every_field(store: DynStore) {
    let reader = person_urn(&person(1));
    let mut c = letter("skatt-vedtak", &org(1), &reader, at(3600));
    c.settings.senders_reference = "saksnr-2026/42".to_owned();
    c.settings.message_sender = Some("Skatteetaten, innkreving".to_owned());
    c.settings.content.language = "nn".to_owned();
    c.settings.content.title = "Vedtak om «skatt» – 2026".to_owned();
    c.settings.content.summary = "Kort samandrag".to_owned();
    c.settings.content.body = "# Hei\n\nÆ Ø Å æ ø å 😀\n\n* ein\n* to\n".to_owned();
    c.settings.due_date_time = Some(at(14 * 86_400) + Duration::microseconds(7));
    c.settings.external_references = vec![
        ExternalReference {
            value: "dialog-1".to_owned(),
            kind: ReferenceType::DialogportenDialogId,
        },
        ExternalReference {
            value: "generic".to_owned(),
            kind: ReferenceType::Generic,
        },
    ];
    c.settings.property_list = BTreeMap::from([
        ("zeta".to_owned(), "siste".to_owned()),
        ("alpha".to_owned(), "første".to_owned()),
    ]);
    c.settings.reply_options = vec![
        ReplyOption {
            url: "https://example.no/svar".to_owned(),
            text: Some("Svar her".to_owned()),
        },
        ReplyOption {
            url: "https://example.no/klage".to_owned(),
            text: None,
        },
    ];
    c.settings.ignore_reservation = Some(false);
    c.settings.is_confirmation_needed = true;
    c.settings.is_confidential = true;
    c.settings.allow_forwarding = true;
    c.settings.digital_only = true;
    c.idempotent_key = Some(Uuid::new_v4());
    c.created = t0() + Duration::microseconds(1);
    c.published = Some(at(3600) + Duration::microseconds(999_999));
    // Write order, not time order: the log keeps the order it was written in.
    c.statuses = StatusHistory::new(vec![
        StatusEntry::new(S::Initialized, t0(), None),
        StatusEntry::new(S::ReadyForPublish, at(10), None).with_text("Klar til publisering"),
        StatusEntry::new(
            S::Published,
            at(3600) + Duration::microseconds(999_999),
            None,
        ),
        StatusEntry::new(S::Fetched, at(4000), Some(reader.clone())),
        StatusEntry::new(S::Read, at(3999), Some(reader.clone())).with_text(""),
    ]);
    insert(&store, std::slice::from_ref(&c)).await;

    assert_eq!(store.correspondence(c.id).await.unwrap(), Some(c.clone()));
    assert_eq!(
        store
            .find_by_idempotent_key(c.idempotent_key.unwrap())
            .await
            .unwrap(),
        Some(c.id)
    );
}

pub async fn minimal_letter_round_trips(store: DynStore) {
    let a = letter("r", &org(1), &person_urn(&person(1)), t0());
    let b = letter("r", &org(2), &person_urn(&person(2)), at(1));
    insert(&store, &[a.clone(), b.clone()]).await;
    assert_eq!(store.correspondence(a.id).await.unwrap(), Some(a));
    assert_eq!(store.correspondence(b.id).await.unwrap(), Some(b));
}

pub async fn letters_are_read_together_in_the_order_asked(store: DynStore) {
    let letters: Vec<_> = (0..3)
        .map(|i| letter("r", &org(1), &person_urn(&person(1)), at(i)))
        .collect();
    insert(&store, &letters).await;
    // Each with its status log, as one by one: a status appended to the second shows.
    let entry = StatusEntry::new(S::ReadyForPublish, at(10), None);
    store
        .append_status(letters[1].id, &entry, AppendGuard::Always, &[])
        .await
        .unwrap();
    let second = store.correspondence(letters[1].id).await.unwrap().unwrap();
    let missing = CorrespondenceId::new_v7(at(99));
    let asked = [
        letters[2].id,
        missing,
        letters[0].id,
        letters[1].id,
        letters[2].id,
    ];
    let got = store.correspondences(&asked).await.unwrap();
    assert_eq!(got, [letters[2].clone(), letters[0].clone(), second]);
    assert!(store.correspondences(&[]).await.unwrap().is_empty());
    assert!(store.correspondences(&[missing]).await.unwrap().is_empty());
}

pub async fn unknown_letter_is_none(store: DynStore) {
    assert_eq!(
        store
            .correspondence(CorrespondenceId::new_v7(t0()))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.find_by_idempotent_key(Uuid::new_v4()).await.unwrap(),
        None
    );
}

pub async fn idempotent_key_conflict_writes_nothing(store: DynStore) {
    let key = Uuid::new_v4();
    let mut first = letter("r", &org(1), &person_urn(&person(1)), t0());
    first.idempotent_key = Some(key);
    store
        .insert_correspondences(std::slice::from_ref(&first), &[job("first", t0())])
        .await
        .unwrap();

    let fresh = letter("r", &org(1), &person_urn(&person(2)), t0());
    let mut repeat = letter("r", &org(1), &person_urn(&person(3)), t0());
    repeat.idempotent_key = Some(key);
    let err = store
        .insert_correspondences(
            &[fresh.clone(), repeat.clone()],
            &[job("second", t0()), job("third", t0())],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");

    assert_eq!(store.correspondence(fresh.id).await.unwrap(), None);
    assert_eq!(store.correspondence(repeat.id).await.unwrap(), None);
    assert_eq!(
        store.find_by_idempotent_key(key).await.unwrap(),
        Some(first.id)
    );
    assert_eq!(store.correspondence(first.id).await.unwrap(), Some(first));
    assert_eq!(queued(&store).await, 1);
}

/// Creates in flight together (one group commit on SQLite) where some fail: each failure
/// undoes only its own letters and jobs, and every other create is stored whole.
pub async fn a_failing_create_among_concurrent_ones_loses_only_itself(store: DynStore) {
    let key = Uuid::new_v4();
    let mut first = letter("r", &org(1), &person_urn(&person(1)), t0());
    first.idempotent_key = Some(key);
    insert(&store, std::slice::from_ref(&first)).await;

    let barrier = Arc::new(Barrier::new(16));
    let mut tasks = Vec::new();
    for i in 0..16u32 {
        let (store, barrier) = (store.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            let mut c = letter("r", &org(1), &person_urn(&person(2)), t0());
            if i % 4 == 0 {
                c.idempotent_key = Some(key);
            }
            barrier.wait().await;
            let written = store
                .insert_correspondences(std::slice::from_ref(&c), &[job(&format!("c{i}"), t0())])
                .await;
            (c, written)
        }));
    }
    let (mut stored, mut refused) = (0, 0);
    for t in tasks {
        let (c, written) = t.await.unwrap();
        match written {
            Ok(()) => {
                assert_eq!(store.correspondence(c.id).await.unwrap(), Some(c));
                stored += 1;
            }
            Err(e) => {
                assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");
                assert_eq!(c.idempotent_key, Some(key));
                assert_eq!(store.correspondence(c.id).await.unwrap(), None);
                refused += 1;
            }
        }
    }
    assert_eq!((stored, refused), (12, 4));
    assert_eq!(queued(&store).await, 12);
    assert_eq!(store.correspondence(first.id).await.unwrap(), Some(first));
}

pub async fn idempotent_key_repeated_in_one_request_writes_nothing(store: DynStore) {
    let key = Uuid::new_v4();
    let mut a = letter("r", &org(1), &person_urn(&person(1)), t0());
    let mut b = letter("r", &org(1), &person_urn(&person(2)), t0());
    a.idempotent_key = Some(key);
    b.idempotent_key = Some(key);
    let err = store
        .insert_correspondences(&[a.clone(), b.clone()], &[job("j", t0())])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(store.correspondence(a.id).await.unwrap(), None);
    assert_eq!(store.find_by_idempotent_key(key).await.unwrap(), None);
    assert_eq!(queued(&store).await, 0);

    // Letters without a key never conflict with each other.
    let c = letter("r", &org(1), &person_urn(&person(1)), t0());
    let d = letter("r", &org(1), &person_urn(&person(1)), t0());
    insert(&store, &[c, d]).await;
}

pub async fn append_always_appends_in_write_order(store: DynStore) {
    let reader = person_urn(&person(1));
    let c = letter("r", &org(1), &reader, t0());
    insert(&store, std::slice::from_ref(&c)).await;

    let ready = StatusEntry::new(S::ReadyForPublish, at(5), None).with_text("klar");
    let earlier = StatusEntry::new(S::Fetched, at(2), Some(reader.clone()));
    let mut j = job("after-ready", at(5));
    j.correspondence_id = Some(c.id);
    assert!(
        store
            .append_status(c.id, &ready, AppendGuard::Always, std::slice::from_ref(&j))
            .await
            .unwrap()
    );
    assert!(
        store
            .append_status(c.id, &earlier, AppendGuard::Always, &[])
            .await
            .unwrap()
    );

    let stored = store.correspondence(c.id).await.unwrap().unwrap();
    let mut expected = c.statuses.clone();
    expected.push(ready);
    expected.push(earlier);
    assert_eq!(stored.statuses, expected);
    assert_eq!(stored.published, None);
    assert_eq!(stored.settings, c.settings);

    let claimed = store
        .claim_due(at(5), "w", Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].dedupe_key, "after-ready");
    assert_eq!(claimed[0].correspondence_id, Some(c.id));
}

pub async fn append_to_unknown_letter_fails(store: DynStore) {
    let id = CorrespondenceId::new_v7(t0());
    let entry = StatusEntry::new(S::Published, t0(), None);
    let result = store
        .append_status(id, &entry, AppendGuard::Always, &[job("j", t0())])
        .await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    assert_eq!(store.correspondence(id).await.unwrap(), None);
    assert_eq!(queued(&store).await, 0);
}

pub async fn append_unless_any_guard(store: DynStore) {
    let c = letter("r", &org(1), &person_urn(&person(1)), t0());
    insert(&store, std::slice::from_ref(&c)).await;
    let guard = || AppendGuard::UnlessAny(vec![S::Published, S::Failed]);

    // An empty list blocks nothing.
    assert!(
        store
            .append_status(
                c.id,
                &StatusEntry::new(S::ReadyForPublish, at(1), None),
                AppendGuard::UnlessAny(vec![]),
                &[],
            )
            .await
            .unwrap()
    );
    // The log holds the guarded statuses only after this.
    assert!(
        store
            .append_status(
                c.id,
                &StatusEntry::new(S::Failed, at(2), None),
                guard(),
                &[job("failed", at(2))],
            )
            .await
            .unwrap()
    );
    // Blocked by Failed, though the appended status is Published: the guard is about the log.
    assert!(
        !store
            .append_status(
                c.id,
                &StatusEntry::new(S::Published, at(3), None),
                guard(),
                &[job("published", at(3))],
            )
            .await
            .unwrap()
    );
    // Statuses outside the list do not block.
    assert!(
        store
            .append_status(
                c.id,
                &StatusEntry::new(S::Read, at(4), None),
                AppendGuard::UnlessAny(vec![S::Read, S::Confirmed]),
                &[],
            )
            .await
            .unwrap()
    );

    let stored = store.correspondence(c.id).await.unwrap().unwrap();
    let kinds: Vec<S> = stored.statuses.entries().iter().map(|e| e.status).collect();
    assert_eq!(
        kinds,
        [S::Initialized, S::ReadyForPublish, S::Failed, S::Read]
    );
    assert_eq!(stored.published, None);
    // Only the written append's job was enqueued.
    let jobs = store
        .claim_due(at(100), "w", Duration::seconds(30), 10)
        .await
        .unwrap();
    let keys: Vec<&str> = jobs.iter().map(|j| j.dedupe_key.as_str()).collect();
    assert_eq!(keys, ["failed"]);
}

pub async fn append_unless_same_since_guard(store: DynStore) {
    let alice = person_urn(&person(1));
    let bob = person_urn(&person(2));
    let c = letter("r", &org(1), &alice, t0());
    insert(&store, std::slice::from_ref(&c)).await;
    let fetched =
        |secs, party: Option<&String>| StatusEntry::new(S::Fetched, at(secs), party.cloned());
    let append = |entry: StatusEntry, since| {
        let store = store.clone();
        async move {
            store
                .append_status(c.id, &entry, AppendGuard::UnlessSameSince(at(since)), &[])
                .await
                .unwrap()
        }
    };

    assert!(append(fetched(100, Some(&alice)), 0).await);
    // Same party and status since a time at or before the logged one: blocked.
    assert!(!append(fetched(150, Some(&alice)), 50).await);
    assert!(!append(fetched(150, Some(&alice)), 100).await);
    // Another party, or no party, is not the same party.
    assert!(append(fetched(150, Some(&bob)), 50).await);
    assert!(append(fetched(160, None), 50).await);
    // "No party" is the same as "no party".
    assert!(!append(fetched(170, None), 50).await);
    // Since a time after the last one: written again.
    assert!(append(fetched(200, Some(&alice)), 101).await);
    // Another status by the same party is not the same status.
    assert!(append(StatusEntry::new(S::Read, at(210), Some(alice.clone())), 0).await);

    assert_eq!(count(&store, c.id, S::Fetched).await, 4);
    assert_eq!(count(&store, c.id, S::Read).await, 1);
}

pub async fn published_is_set_once(store: DynStore) {
    let c = letter("r", &org(1), &person_urn(&person(1)), t0());
    insert(&store, std::slice::from_ref(&c)).await;
    let first = at(60) + Duration::microseconds(123);
    for when in [first, at(120)] {
        assert!(
            store
                .append_status(
                    c.id,
                    &StatusEntry::new(S::Published, when, None),
                    AppendGuard::Always,
                    &[],
                )
                .await
                .unwrap()
        );
    }
    let stored = store.correspondence(c.id).await.unwrap().unwrap();
    assert_eq!(stored.published, Some(first));
    assert_eq!(count(&store, c.id, S::Published).await, 2);

    // A letter stored with a publish time keeps it.
    let mut d = letter("r", &org(1), &person_urn(&person(1)), t0());
    d.published = Some(at(5));
    insert(&store, std::slice::from_ref(&d)).await;
    assert!(
        store
            .append_status(
                d.id,
                &StatusEntry::new(S::Published, at(500), None),
                AppendGuard::Always,
                &[],
            )
            .await
            .unwrap()
    );
    let stored = store.correspondence(d.id).await.unwrap().unwrap();
    assert_eq!(stored.published, Some(at(5)));
}

/// Ten appends of Read guarded by "unless Read", all at once: one is written, with its job.
pub async fn concurrent_guarded_appends_write_once(store: DynStore) {
    let reader = person_urn(&person(1));
    let c = letter("r", &org(1), &reader, t0());
    insert(&store, std::slice::from_ref(&c)).await;
    let n = 10;
    let barrier = Arc::new(Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let store = store.clone();
            let barrier = barrier.clone();
            let reader = reader.clone();
            tokio::spawn(async move {
                let entry = StatusEntry::new(S::Read, at(60 + i as i64), Some(reader));
                barrier.wait().await;
                store
                    .append_status(
                        c.id,
                        &entry,
                        AppendGuard::UnlessAny(vec![S::Read]),
                        &[job(&format!("read-{i}"), at(60))],
                    )
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut written = 0;
    for t in tasks {
        written += usize::from(t.await.unwrap());
    }
    assert_eq!(written, 1);
    assert_eq!(count(&store, c.id, S::Read).await, 1);
    assert_eq!(queued(&store).await, 1);
}

/// A sender's purge (guarded against purges and Published) and a publish (guarded against
/// purges), started together at a barrier, 50 times: exactly one of them is written each time,
/// and the purge's job only when the purge is. This is the store's half of reference §6.2's
/// "sender purge after Published → 1013" under concurrency.
pub async fn a_purge_and_a_publish_racing_write_one_of_them(store: DynStore) {
    let purge_guard =
        || AppendGuard::UnlessAny(vec![S::PurgedByAltinn, S::PurgedByRecipient, S::Published]);
    let publish_guard = || {
        AppendGuard::UnlessAny(vec![
            S::Published,
            S::Failed,
            S::PurgedByAltinn,
            S::PurgedByRecipient,
        ])
    };
    let (mut purges, mut publishes) = (0, 0);
    for round in 0..50_i64 {
        let c = letter("r", &org(1), &person_urn(&person(1)), t0());
        insert(&store, std::slice::from_ref(&c)).await;
        let barrier = Arc::new(Barrier::new(2));
        let purge = tokio::spawn({
            let (store, barrier) = (store.clone(), barrier.clone());
            let entry = StatusEntry::new(S::PurgedByAltinn, at(60), Some(org_urn(&org(1))));
            async move {
                barrier.wait().await;
                store
                    .append_status(
                        c.id,
                        &entry,
                        purge_guard(),
                        &[job(&format!("purge-{round}"), at(60))],
                    )
                    .await
                    .unwrap()
            }
        });
        let publish = tokio::spawn({
            let (store, barrier) = (store.clone(), barrier.clone());
            let entry = StatusEntry::new(S::Published, at(60), None);
            async move {
                barrier.wait().await;
                store
                    .append_status(c.id, &entry, publish_guard(), &[])
                    .await
                    .unwrap()
            }
        });
        let (purged, published) = (purge.await.unwrap(), publish.await.unwrap());
        assert!(
            purged != published,
            "round {round}: purged {purged}, published {published}"
        );
        assert_eq!(
            count(&store, c.id, S::PurgedByAltinn).await,
            usize::from(purged)
        );
        assert_eq!(
            count(&store, c.id, S::Published).await,
            usize::from(published)
        );
        purges += u64::from(purged);
        publishes += u64::from(published);
    }
    assert_eq!(queued(&store).await, purges, "a job per written purge");
    assert_eq!(purges + publishes, 50);
}

/// Ten Fetched by the same party, de-duplicated "since" a time before all of them: one entry.
pub async fn concurrent_fetched_appends_write_once(store: DynStore) {
    let reader = person_urn(&person(1));
    let c = letter("r", &org(1), &reader, t0());
    insert(&store, std::slice::from_ref(&c)).await;
    let n = 10;
    let barrier = Arc::new(Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let store = store.clone();
            let barrier = barrier.clone();
            let reader = reader.clone();
            tokio::spawn(async move {
                let entry = StatusEntry::new(S::Fetched, at(60 + i as i64), Some(reader));
                barrier.wait().await;
                store
                    .append_status(c.id, &entry, AppendGuard::UnlessSameSince(at(0)), &[])
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut written = 0;
    for t in tasks {
        written += usize::from(t.await.unwrap());
    }
    assert_eq!(written, 1);
    assert_eq!(count(&store, c.id, S::Fetched).await, 1);
}
