//! Receipt trails (`DeliveryStore`, `reference/delivery-chain.md` §3.4): appended with their
//! jobs, oldest first, guarded by the trail and by the letter's Altinn history, and read for
//! many letters at once.

use melding_domain::{CorrespondenceStatus, DeliveryEvent, ReceiptStatus, StatusEntry};
use melding_store::{AppendGuard, StoreError};

use crate::DynStore;
use crate::fixtures::*;

/// Events round-trip with every field and their job, oldest first; an unknown letter is
/// NotFound; many letters read at once come back per letter.
pub async fn delivery_events_round_trip_with_their_job(store: DynStore) {
    let a = letter("res", &org(1), &person_urn(&person(1)), t0());
    let b = letter("res", &org(1), &person_urn(&person(2)), t0());
    insert(&store, &[a.clone(), b.clone()]).await;
    let routed = DeliveryEvent::new(ReceiptStatus::Akseptert, at(10), "Routed to the inbox.")
        .with_details(r#"{"route":"inbox"}"#);
    let notified = DeliveryEvent::new(ReceiptStatus::Varslet, at(20), "Notified.");
    assert!(
        store
            .append_delivery_event(a.id, &routed, &[], &[], &[job("route:a", at(10))])
            .await
            .unwrap()
    );
    assert!(
        store
            .append_delivery_event(a.id, &notified, &[], &[], &[])
            .await
            .unwrap()
    );
    let printed = DeliveryEvent::new(ReceiptStatus::SendtPrint, at(5), "Sent to print.");
    assert!(
        store
            .append_delivery_event(b.id, &printed, &[], &[], &[])
            .await
            .unwrap()
    );
    assert_eq!(
        store.delivery_events(a.id).await.unwrap(),
        vec![routed.clone(), notified.clone()]
    );
    let jobs = store.list_jobs(false, 10).await.unwrap();
    assert!(jobs.iter().any(|j| j.dedupe_key == "route:a"));

    let mut trails = store.delivery_events_of(&[b.id, a.id]).await.unwrap();
    trails.sort_by_key(|(id, _)| *id);
    let mut expected = vec![(a.id, vec![routed, notified]), (b.id, vec![printed])];
    expected.sort_by_key(|(id, _)| *id);
    assert_eq!(trails, expected);

    let unknown = letter("res", &org(1), &person_urn(&person(3)), t0());
    assert!(matches!(
        store
            .append_delivery_event(unknown.id, &notified_at(30), &[], &[], &[])
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(store.delivery_events(unknown.id).await.unwrap().is_empty());
}

fn notified_at(secs: i64) -> DeliveryEvent {
    DeliveryEvent::new(ReceiptStatus::Varslet, at(secs), "Notified.")
}

/// A guarded append writes nothing, not even its job, once the trail holds a status it names
/// or the letter's Altinn history holds a status it names (a read letter is never printed).
pub async fn a_guarded_append_stops_at_the_trail_and_at_a_reading(store: DynStore) {
    let l = letter("res", &org(1), &person_urn(&person(1)), t0());
    insert(&store, std::slice::from_ref(&l)).await;
    let print = DeliveryEvent::new(ReceiptStatus::SendtPrint, at(10), "Sent to print.");
    let stops = ReceiptStatus::STOPS_PRINT;
    let read = [CorrespondenceStatus::Read.value()];

    // Delivered to a digital mailbox: no print.
    let delivered = DeliveryEvent::new(ReceiptStatus::LevertSdp, at(5), "Delivered.");
    store
        .append_delivery_event(l.id, &delivered, &[], &[], &[])
        .await
        .unwrap();
    assert!(
        !store
            .append_delivery_event(l.id, &print, &stops, &read, &[job("print:1", at(10))])
            .await
            .unwrap()
    );

    // Read: no print.
    let m = letter("res", &org(1), &person_urn(&person(2)), t0());
    insert(&store, std::slice::from_ref(&m)).await;
    let reading = StatusEntry::new(
        CorrespondenceStatus::Read,
        at(8),
        Some(person_urn(&person(2))),
    );
    store
        .append_status(m.id, &reading, AppendGuard::Always, &[])
        .await
        .unwrap();
    assert!(
        !store
            .append_delivery_event(m.id, &print, &stops, &read, &[job("print:2", at(10))])
            .await
            .unwrap()
    );

    // Neither: printed once; a second hand-over is refused by the first.
    let n = letter("res", &org(1), &person_urn(&person(3)), t0());
    insert(&store, std::slice::from_ref(&n)).await;
    assert!(
        store
            .append_delivery_event(n.id, &print, &stops, &read, &[job("print:3", at(10))])
            .await
            .unwrap()
    );
    assert!(
        !store
            .append_delivery_event(n.id, &print, &stops, &read, &[])
            .await
            .unwrap()
    );
    assert_eq!(store.delivery_events(n.id).await.unwrap(), vec![print]);
    assert_eq!(queued_keys(&store).await, vec!["print:3".to_owned()]);
}

/// Erasing a letter's content empties its title, summary, body and property list once, and
/// keeps everything else: its parties, status history and receipt trail.
pub async fn erasing_content_keeps_the_letter_and_its_trail(store: DynStore) {
    let mut l = letter("res", &org(1), &person_urn(&person(1)), t0());
    l.settings
        .property_list
        .insert("saksnummer".into(), "2026/17".into());
    insert(&store, std::slice::from_ref(&l)).await;
    let event = DeliveryEvent::new(ReceiptStatus::Akseptert, at(10), "Routed.");
    store
        .append_delivery_event(l.id, &event, &[], &[], &[])
        .await
        .unwrap();
    assert!(store.erase_letter_content(l.id).await.unwrap());
    assert!(!store.erase_letter_content(l.id).await.unwrap());
    let erased = store.correspondence(l.id).await.unwrap().unwrap();
    let content = &erased.settings.content;
    assert_eq!(
        (
            content.title.as_str(),
            content.summary.as_str(),
            content.body.as_str()
        ),
        ("", "", "")
    );
    assert!(erased.settings.property_list.is_empty());
    assert_eq!(
        erased.settings.senders_reference,
        l.settings.senders_reference
    );
    assert_eq!(erased.recipient, l.recipient);
    assert_eq!(erased.statuses, l.statuses);
    assert_eq!(store.delivery_events(l.id).await.unwrap(), vec![event]);
    let unknown = letter("res", &org(1), &person_urn(&person(2)), t0());
    assert!(matches!(
        store.erase_letter_content(unknown.id).await,
        Err(StoreError::NotFound)
    ));
}

/// The operator queue lists letters waiting for an operator, oldest first, until an operator
/// has handled them.
pub async fn the_operator_queue_lists_letters_until_they_are_handled(store: DynStore) {
    let a = letter("res", &org(1), &person_urn(&person(1)), t0());
    let b = letter("res", &org(1), &person_urn(&person(2)), t0());
    let c = letter("res", &org(1), &person_urn(&person(3)), t0());
    insert(&store, &[a.clone(), b.clone(), c.clone()]).await;
    let queued =
        |secs| DeliveryEvent::new(ReceiptStatus::TilManuellHandtering, at(secs), "Queued.");
    for (l, secs) in [(&b, 20), (&a, 10)] {
        store
            .append_delivery_event(l.id, &queued(secs), &[], &[], &[])
            .await
            .unwrap();
    }
    let routed = DeliveryEvent::new(ReceiptStatus::Akseptert, at(5), "Routed.");
    store
        .append_delivery_event(c.id, &routed, &[], &[], &[])
        .await
        .unwrap();
    let ids = |q: Vec<(melding_domain::CorrespondenceId, DeliveryEvent)>| {
        q.into_iter().map(|(id, _)| id).collect::<Vec<_>>()
    };
    assert_eq!(
        ids(store.awaiting_operator(10).await.unwrap()),
        vec![a.id, b.id]
    );
    assert_eq!(ids(store.awaiting_operator(1).await.unwrap()), vec![a.id]);
    let handled = DeliveryEvent::new(ReceiptStatus::ManueltHandtert, at(30), "Handled.");
    store
        .append_delivery_event(a.id, &handled, &[], &[], &[])
        .await
        .unwrap();
    assert_eq!(ids(store.awaiting_operator(10).await.unwrap()), vec![b.id]);
}
