//! Forwarding events (`ForwardingStore`, reference §4.12): written with their job, unique per
//! letter and address key even when two writers race, and marked sent once, with the letter's
//! Forwarded status in the same write.

use chrono::Duration;
use melding_domain::forwarding::{ForwardingEvent, ForwardingLink};
use melding_domain::{
    AttachmentId, CorrespondenceStatus, EmailAddress, ForwardingEventId, StatusEntry,
};
use melding_store::StoreError;

use crate::DynStore;
use crate::fixtures::*;

fn event(
    letter: &melding_domain::correspondence::Correspondence,
    to: &str,
    secs: i64,
) -> ForwardingEvent {
    ForwardingEvent {
        id: ForwardingEventId::new_v7(at(secs)),
        correspondence_id: letter.id,
        forwarded_on: at(secs),
        forwarded_by: person_urn(&person(1)),
        to_email: EmailAddress::parse(to).unwrap(),
        forwarding_text: Some("Til orientering".to_owned()),
        sent: None,
    }
}

fn forwarded(secs: i64) -> StatusEntry {
    StatusEntry::new(
        CorrespondenceStatus::Forwarded,
        at(secs),
        Some(person_urn(&person(1))),
    )
}

/// An event round-trips with every field, with its job; events list oldest first.
pub async fn forwarding_events_round_trip_with_their_job(store: DynStore) {
    let l = letter("res", &org(1), &person_urn(&person(1)), t0());
    insert(&store, std::slice::from_ref(&l)).await;
    let first = event(&l, "Kari@Example.no", 10);
    let mut second = event(&l, "ola@example.no", 20);
    second.forwarding_text = None;
    store
        .insert_forwarding_event(&first, &[job("forward:1", at(10))])
        .await
        .unwrap();
    store.insert_forwarding_event(&second, &[]).await.unwrap();
    assert_eq!(
        store.forwarding_event(first.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        store.forwarding_events(l.id).await.unwrap(),
        vec![first.clone(), second]
    );
    let jobs = store.list_jobs(false, 10).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].dedupe_key, "forward:1");
    assert_eq!(
        store
            .forwarding_event(ForwardingEventId::new_v7(at(99)))
            .await
            .unwrap(),
        None
    );
    // An event for a letter that does not exist is refused.
    let ghost = letter("res", &org(1), &person_urn(&person(1)), at(5));
    assert!(matches!(
        store
            .insert_forwarding_event(&event(&ghost, "a@example.no", 1), &[])
            .await,
        Err(StoreError::NotFound)
    ));
}

/// The same address in another case is a conflict that writes nothing, not even its job; of
/// concurrent forwards to one address, exactly one is written.
pub async fn one_forwarding_per_letter_and_address(store: DynStore) {
    let l = letter("res", &org(1), &person_urn(&person(1)), t0());
    insert(&store, std::slice::from_ref(&l)).await;
    store
        .insert_forwarding_event(&event(&l, "kari@example.no", 1), &[])
        .await
        .unwrap();
    let again = store
        .insert_forwarding_event(&event(&l, "KARI@example.no", 2), &[job("forward:2", at(2))])
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert!(store.list_jobs(false, 10).await.unwrap().is_empty());

    let mut racers = Vec::new();
    for n in 0..8 {
        let (store, e) = (store.clone(), event(&l, "ola@example.no", 10 + n));
        racers.push(tokio::spawn(async move {
            store.insert_forwarding_event(&e, &[]).await
        }));
    }
    let mut written = 0;
    for r in racers {
        match r.await.unwrap() {
            Ok(()) => written += 1,
            Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(written, 1);
    assert_eq!(store.forwarding_events(l.id).await.unwrap().len(), 2);
}

/// Marking sent sets the time and appends Forwarded once; a repeat changes nothing; an unknown
/// event is NotFound.
pub async fn marking_a_forwarding_sent_appends_forwarded_once(store: DynStore) {
    let l = letter("res", &org(1), &person_urn(&person(1)), t0());
    insert(&store, std::slice::from_ref(&l)).await;
    let e = event(&l, "kari@example.no", 10);
    store.insert_forwarding_event(&e, &[]).await.unwrap();
    let sent = at(10) + Duration::seconds(30);
    assert!(
        store
            .mark_forwarding_sent(e.id, sent, &forwarded(10))
            .await
            .unwrap()
    );
    assert!(
        !store
            .mark_forwarding_sent(e.id, sent + Duration::hours(1), &forwarded(10))
            .await
            .unwrap()
    );
    assert_eq!(
        store.forwarding_event(e.id).await.unwrap().unwrap().sent,
        Some(sent)
    );
    let read = store.correspondence(l.id).await.unwrap().unwrap();
    let entries: Vec<_> = read
        .statuses
        .entries()
        .iter()
        .filter(|s| s.status == CorrespondenceStatus::Forwarded)
        .collect();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].at, at(10));
    assert!(matches!(
        store
            .mark_forwarding_sent(ForwardingEventId::new_v7(at(50)), sent, &forwarded(50))
            .await,
        Err(StoreError::NotFound)
    ));
}

/// Download links round-trip with every field and are found by their token hash only; a
/// repeated token hash is a conflict that writes none of its batch, and a link of an unknown
/// forwarding is refused.
pub async fn forwarding_links_are_found_by_their_token_hash(store: DynStore) {
    let l = letter("res", &org(1), &person_urn(&person(1)), t0());
    insert(&store, std::slice::from_ref(&l)).await;
    let e = event(&l, "kari@example.no", 10);
    store.insert_forwarding_event(&e, &[]).await.unwrap();
    let link = |hash: &str, secs: i64| ForwardingLink {
        token_hash: hash.to_owned(),
        forwarding_event_id: e.id,
        correspondence_id: l.id,
        attachment_id: AttachmentId::new_v7(at(secs)),
        created: at(secs),
        expires: at(secs) + Duration::days(7),
    };
    let (a, b) = (link(&"a".repeat(64), 11), link(&"b".repeat(64), 12));
    store
        .insert_forwarding_links(&[a.clone(), b.clone()])
        .await
        .unwrap();
    assert_eq!(
        store.forwarding_link(&a.token_hash).await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        store.forwarding_link(&b.token_hash).await.unwrap(),
        Some(b.clone())
    );
    assert_eq!(store.forwarding_link(&"c".repeat(64)).await.unwrap(), None);
    store.insert_forwarding_links(&[]).await.unwrap();

    let c = link(&"c".repeat(64), 13);
    assert!(matches!(
        store.insert_forwarding_links(&[c.clone(), a.clone()]).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.forwarding_link(&c.token_hash).await.unwrap(), None);

    let mut orphan = link(&"d".repeat(64), 14);
    orphan.forwarding_event_id = ForwardingEventId::new_v7(at(99));
    assert!(matches!(
        store.insert_forwarding_links(&[orphan]).await,
        Err(StoreError::NotFound)
    ));
}
