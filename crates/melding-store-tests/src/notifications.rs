//! Notification orders, notifications and unmatched delivery reports (`NotificationStore`,
//! reference §8, `delivery-chain.md` §1.10–1.14): orders written with their letter, processed
//! once, notifications updated only from the statuses a caller names, cancelled only while
//! unsent; and org contacts naming (or not naming) the person who registered them.

use chrono::{DateTime, Duration};
use melding_domain::correspondence::Correspondence;
use melding_domain::notification::{
    ContactDecision, ContactSource, DeliveryChannel, EmailContentType, LookupRule, Notification,
    NotificationChannel, NotificationOrder, NotificationStatus, NotificationTemplate,
    NotificationTexts, OrderKind, OrderRecipient, OrderStatus,
};
use melding_domain::{EmailAddress, MobileNumber, Party};
use melding_store::{
    NewJob, NotificationUpdate, OrgContact, Organization, ProcessedOrder, RegistryBatch, StoreError,
};
use uuid::Uuid;

use crate::DynStore;
use crate::fixtures::*;

/// An order for `letter` with the fewest settings: e-mail, custom message, no texts, due and
/// created at `created`, Registered.
pub fn order(
    letter: &Correspondence,
    recipient: OrderRecipient,
    kind: OrderKind,
    created: DateTime<chrono::Utc>,
) -> NotificationOrder {
    NotificationOrder {
        id: NotificationOrder::id_for(letter.id, &recipient.dedupe_key(), kind),
        correspondence_id: letter.id,
        kind,
        recipient,
        channel: NotificationChannel::Email,
        template: NotificationTemplate::CustomMessage,
        texts: NotificationTexts::default(),
        ignore_reservation: false,
        use_stale_contacts: false,
        requested_send_time: created,
        status: OrderStatus::Registered,
        created,
    }
}

/// A New notification of `order` to `address` on `channel`, written at `created`, expiring two
/// days later.
pub fn notification(
    order: &NotificationOrder,
    channel: DeliveryChannel,
    address: &str,
    created: DateTime<chrono::Utc>,
) -> Notification {
    Notification {
        id: Uuid::new_v4(),
        order_id: order.id,
        correspondence_id: order.correspondence_id,
        channel,
        address: Some(address.to_owned()),
        source: Some(ContactSource::Krr),
        status: NotificationStatus::New,
        not_before: created,
        expires: created + Duration::hours(48),
        sent: None,
        delivered: None,
        provider_reference: None,
        detail: None,
        created,
    }
}

/// The outcome of processing `order` at `at`: Processed with `notifications`, a lookup record
/// of one used address, and a send job per notification.
fn processed(
    order: &NotificationOrder,
    notifications: &[Notification],
    at: DateTime<chrono::Utc>,
) -> ProcessedOrder {
    ProcessedOrder {
        order_id: order.id,
        status: OrderStatus::Processed,
        at,
        lookup: vec![ContactDecision {
            address: Some("kari@example.no".to_owned()),
            channel: Some(DeliveryChannel::Email),
            source: Some(ContactSource::Krr),
            rule: LookupRule::Used,
        }],
        notifications: notifications.to_vec(),
        jobs: notifications
            .iter()
            .map(|n| NewJob {
                kind: "send_notification".to_owned(),
                dedupe_key: format!("send:{}", n.id),
                correspondence_id: Some(n.correspondence_id),
                run_at: n.not_before,
                max_attempts: 5,
                payload: serde_json::json!({ "notification": n.id }),
            })
            .collect(),
    }
}

fn party(n: u32) -> OrderRecipient {
    OrderRecipient::Party(Party::Person(person(n)))
}

/// A letter and its orders stored together.
async fn with_orders(store: &DynStore, letter: &Correspondence, orders: &[NotificationOrder]) {
    store
        .insert_letters_with_orders(std::slice::from_ref(letter), &[], &[], orders, &[])
        .await
        .unwrap();
}

/// An order with every field set reads back whole, with no processing record; a letter's
/// orders come main notices first, then by creation; an unknown order is `None`.
pub async fn notification_order_round_trips_with_every_field(store: DynStore) {
    let l = letter("r", &org(1), &person_urn(&person(1)), t0());
    let mut full = order(&l, party(1), OrderKind::Reminder, at(1));
    full.channel = NotificationChannel::EmailAndSms;
    full.template = NotificationTemplate::GenericAltinnMessage;
    full.texts = NotificationTexts {
        email_subject: Some("Påminnelse: $correspondenceRecipientName$".to_owned()),
        email_body: Some("<p>Du har post</p>".to_owned()),
        email_content_type: EmailContentType::Html,
        sms_body: Some("Du har post i Altinn".to_owned()),
    };
    full.ignore_reservation = true;
    full.use_stale_contacts = true;
    full.requested_send_time = at(7 * 86_400) + Duration::microseconds(3);
    let email = OrderRecipient::Email(EmailAddress::parse("Kari@Example.no").unwrap());
    let mobile = OrderRecipient::Mobile(MobileNumber::parse("+4799999999").unwrap());
    let later_main = order(&l, email, OrderKind::Main, at(3));
    let earlier_main = order(&l, mobile, OrderKind::Main, at(2));
    with_orders(
        &store,
        &l,
        &[full.clone(), later_main.clone(), earlier_main.clone()],
    )
    .await;

    let record = store.notification_order(full.id).await.unwrap().unwrap();
    assert_eq!(record.order, full);
    assert_eq!(record.processed, None);
    assert!(record.lookup.is_empty());
    let orders: Vec<NotificationOrder> = store
        .notification_orders(l.id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.order)
        .collect();
    assert_eq!(orders, [earlier_main, later_main, full]);
    assert_eq!(
        store.notification_order(Uuid::new_v4()).await.unwrap(),
        None
    );
    let other = letter("r", &org(1), &person_urn(&person(2)), t0());
    insert(&store, std::slice::from_ref(&other)).await;
    assert!(
        store
            .notification_orders(other.id)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Orders are written in the letter's transaction: a letter insert that fails (an idempotency
/// key taken) writes none of its orders, and an order id taken fails the letter too.
pub async fn orders_are_written_atomically_with_their_letter(store: DynStore) {
    let key = Uuid::new_v4();
    let mut first = letter("r", &org(1), &person_urn(&person(1)), t0());
    first.idempotent_key = Some(key);
    let first_order = order(&first, party(1), OrderKind::Main, t0());
    with_orders(&store, &first, std::slice::from_ref(&first_order)).await;

    let mut repeat = letter("r", &org(1), &person_urn(&person(2)), t0());
    repeat.idempotent_key = Some(key);
    let repeat_order = order(&repeat, party(2), OrderKind::Main, t0());
    let err = store
        .insert_letters_with_orders(
            std::slice::from_ref(&repeat),
            &[],
            &[],
            std::slice::from_ref(&repeat_order),
            &[job("repeat", t0())],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(
        store.notification_order(repeat_order.id).await.unwrap(),
        None
    );
    assert!(
        store
            .notification_orders(repeat.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.list_jobs(false, 10).await.unwrap().is_empty());

    // The same order id again (it is derived from letter, recipient and kind): no letter either.
    let fresh = letter("r", &org(1), &person_urn(&person(3)), t0());
    let mut clash = order(&fresh, party(3), OrderKind::Main, t0());
    clash.id = first_order.id;
    clash.correspondence_id = fresh.id;
    let err = store
        .insert_letters_with_orders(std::slice::from_ref(&fresh), &[], &[], &[clash], &[])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(store.correspondence(fresh.id).await.unwrap(), None);
    assert_eq!(
        store
            .notification_order(first_order.id)
            .await
            .unwrap()
            .unwrap()
            .order,
        first_order
    );
}

/// Processing writes the status, lookup record, notifications and their jobs once: a second
/// processing of the same order returns false and writes nothing; an unknown order is
/// `NotFound`.
pub async fn processing_an_order_writes_once(store: DynStore) {
    let l = letter("r", &org(1), &person_urn(&person(1)), t0());
    let o = order(&l, party(1), OrderKind::Main, t0());
    with_orders(&store, &l, std::slice::from_ref(&o)).await;
    let mut sms = notification(&o, DeliveryChannel::Sms, "+4799999999", at(10));
    sms.source = Some(ContactSource::RegisteredContact {
        person_urn: person_urn(&person(9)),
    });
    let email = notification(&o, DeliveryChannel::Email, "kari@example.no", at(10));
    let mut reserved = notification(&o, DeliveryChannel::Email, "", at(5));
    reserved.address = None;
    reserved.source = None;
    reserved.status = NotificationStatus::FailedRecipientReserved;
    reserved.detail = Some("reserved in KRR".to_owned());
    let first = processed(&o, &[sms.clone(), email.clone(), reserved.clone()], at(10));
    assert!(store.process_notification_order(&first).await.unwrap());

    let record = store.notification_order(o.id).await.unwrap().unwrap();
    assert_eq!(record.order.status, OrderStatus::Processed);
    assert_eq!(record.processed, Some(at(10)));
    assert_eq!(record.lookup, first.lookup);
    // Creation order, ties by id.
    let mut same_time = [sms.clone(), email.clone()];
    same_time.sort_by_key(|n| n.id);
    let expected = [reserved.clone(), same_time[0].clone(), same_time[1].clone()];
    assert_eq!(store.notifications_of(l.id).await.unwrap(), expected);
    assert_eq!(store.notification(sms.id).await.unwrap(), Some(sms.clone()));
    assert_eq!(store.notification(Uuid::new_v4()).await.unwrap(), None);
    // The send jobs are in the queue.
    let keys = queued_keys(&store).await;
    let mut expected_keys: Vec<String> = first.jobs.iter().map(|j| j.dedupe_key.clone()).collect();
    expected_keys.sort();
    assert_eq!(keys, expected_keys);

    // Again (a repeated job): nothing changes.
    let again_notification = notification(&o, DeliveryChannel::Email, "ola@example.no", at(20));
    let mut again = processed(&o, std::slice::from_ref(&again_notification), at(20));
    again.status = OrderStatus::SendConditionNotMet;
    assert!(!store.process_notification_order(&again).await.unwrap());
    let record = store.notification_order(o.id).await.unwrap().unwrap();
    assert_eq!(record.order.status, OrderStatus::Processed);
    assert_eq!(record.processed, Some(at(10)));
    assert_eq!(store.notifications_of(l.id).await.unwrap(), expected);
    assert_eq!(store.list_jobs(false, 10).await.unwrap().len(), 3);

    let mut unknown = first.clone();
    unknown.order_id = Uuid::new_v4();
    unknown.notifications.clear();
    unknown.jobs.clear();
    let err = store
        .process_notification_order(&unknown)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
}

/// Publishing with the orders due at that moment writes the status, its jobs and each
/// order's outcome together; a guard that refuses the status writes none of it; an order
/// processed before is left as it is; an unknown order writes nothing at all.
pub async fn publishing_processes_due_orders_in_the_same_write(store: DynStore) {
    use melding_domain::{CorrespondenceStatus, StatusEntry};
    use melding_store::AppendGuard;
    let published = |secs| StatusEntry::new(CorrespondenceStatus::Published, at(secs), None);
    let guard = || AppendGuard::UnlessAny(vec![CorrespondenceStatus::Published]);
    let l = letter("r", &org(1), &person_urn(&person(1)), t0());
    let main = order(&l, party(1), OrderKind::Main, t0());
    let other = order(&l, party(2), OrderKind::Main, t0());
    with_orders(&store, &l, &[main.clone(), other.clone()]).await;
    // `other` was processed before (by an older node's job): its second outcome is not written.
    let before = notification(&other, DeliveryChannel::Email, "ola@example.no", at(5));
    assert!(
        store
            .process_notification_order(&processed(&other, std::slice::from_ref(&before), at(5)))
            .await
            .unwrap()
    );
    let email = notification(&main, DeliveryChannel::Email, "kari@example.no", at(10));
    let late = notification(&other, DeliveryChannel::Email, "per@example.no", at(10));
    let outcomes = [
        processed(&main, std::slice::from_ref(&email), at(10)),
        processed(&other, std::slice::from_ref(&late), at(10)),
    ];
    let route = job("route:1", at(10));
    assert!(
        store
            .publish_with_orders(
                l.id,
                &published(10),
                guard(),
                std::slice::from_ref(&route),
                &outcomes
            )
            .await
            .unwrap()
    );
    let letter_now = store.correspondence(l.id).await.unwrap().unwrap();
    assert!(
        letter_now
            .statuses
            .has_been(CorrespondenceStatus::Published)
    );
    let record = store.notification_order(main.id).await.unwrap().unwrap();
    assert_eq!(record.order.status, OrderStatus::Processed);
    assert_eq!(record.processed, Some(at(10)));
    let record = store.notification_order(other.id).await.unwrap().unwrap();
    assert_eq!(record.processed, Some(at(5)));
    let mut ids: Vec<Uuid> = store
        .notifications_of(l.id)
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.id)
        .collect();
    ids.sort();
    let mut expected = vec![before.id, email.id];
    expected.sort();
    assert_eq!(ids, expected);
    let keys = queued_keys(&store).await;
    let mut expected_keys = vec![
        route.dedupe_key.clone(),
        format!("send:{}", before.id),
        format!("send:{}", email.id),
    ];
    expected_keys.sort();
    assert_eq!(keys, expected_keys);

    // Published already: the guard refuses, and nothing of the call is written.
    let l2 = letter("r", &org(1), &person_urn(&person(3)), at(1));
    let o2 = order(&l2, party(3), OrderKind::Main, at(1));
    with_orders(&store, &l2, std::slice::from_ref(&o2)).await;
    store
        .append_status(l2.id, &published(11), guard(), &[])
        .await
        .unwrap();
    let n2 = notification(&o2, DeliveryChannel::Email, "kari@example.no", at(12));
    assert!(
        !store
            .publish_with_orders(
                l2.id,
                &published(12),
                guard(),
                &[job("route:2", at(12))],
                &[processed(&o2, std::slice::from_ref(&n2), at(12))],
            )
            .await
            .unwrap()
    );
    let record = store.notification_order(o2.id).await.unwrap().unwrap();
    assert_eq!(record.order.status, OrderStatus::Registered);
    assert!(store.notifications_of(l2.id).await.unwrap().is_empty());
    assert_eq!(store.list_jobs(false, 10).await.unwrap().len(), 3);

    // An unknown order: nothing is written, not even the status.
    let l3 = letter("r", &org(1), &person_urn(&person(4)), at(2));
    with_orders(&store, &l3, &[]).await;
    let ghost = order(&l3, party(4), OrderKind::Main, at(2));
    let err = store
        .publish_with_orders(
            l3.id,
            &published(13),
            guard(),
            &[],
            &[processed(&ghost, &[], at(13))],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
    let l3_now = store.correspondence(l3.id).await.unwrap().unwrap();
    assert!(!l3_now.statuses.has_been(CorrespondenceStatus::Published));
}

/// An order whose condition said no is processed without notifications, and cannot be
/// completed; a Processed one can, once.
pub async fn only_a_processed_order_completes(store: DynStore) {
    let l = letter("r", &org(1), &person_urn(&person(1)), t0());
    let main = order(&l, party(1), OrderKind::Main, t0());
    let reminder = order(&l, party(1), OrderKind::Reminder, t0());
    with_orders(&store, &l, &[main.clone(), reminder.clone()]).await;
    assert!(!store.complete_notification_order(main.id).await.unwrap());

    let mut not_met = processed(&reminder, &[], at(1));
    not_met.status = OrderStatus::SendConditionNotMet;
    assert!(store.process_notification_order(&not_met).await.unwrap());
    assert!(
        !store
            .complete_notification_order(reminder.id)
            .await
            .unwrap()
    );
    let record = store
        .notification_order(reminder.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.order.status, OrderStatus::SendConditionNotMet);

    assert!(
        store
            .process_notification_order(&processed(&main, &[], at(1)))
            .await
            .unwrap()
    );
    assert!(store.complete_notification_order(main.id).await.unwrap());
    assert!(!store.complete_notification_order(main.id).await.unwrap());
    let record = store.notification_order(main.id).await.unwrap().unwrap();
    assert_eq!(record.order.status, OrderStatus::Completed);
    assert!(
        !store
            .complete_notification_order(Uuid::new_v4())
            .await
            .unwrap()
    );
}

/// An update applies only while the notification's status is one it names, sets only the
/// fields it gives, and an unknown notification is `NotFound`.
pub async fn updates_apply_only_from_the_named_statuses(store: DynStore) {
    let l = letter("r", &org(1), &person_urn(&person(1)), t0());
    let o = order(&l, party(1), OrderKind::Main, t0());
    with_orders(&store, &l, std::slice::from_ref(&o)).await;
    let n = notification(&o, DeliveryChannel::Sms, "+4799999999", at(1));
    store
        .process_notification_order(&processed(&o, std::slice::from_ref(&n), at(1)))
        .await
        .unwrap();

    // Held for the SMS window: only not-before moves.
    let mut hold =
        NotificationUpdate::new(n.id, &[NotificationStatus::New], NotificationStatus::New);
    hold.not_before = Some(at(3600));
    assert!(store.update_notification(&hold).await.unwrap());
    let mut expected = n.clone();
    expected.not_before = at(3600);
    assert_eq!(
        store.notification(n.id).await.unwrap(),
        Some(expected.clone())
    );

    let mut accepted = NotificationUpdate::new(
        n.id,
        &[NotificationStatus::New],
        NotificationStatus::Accepted,
    );
    accepted.sent = Some(at(3601));
    accepted.provider_reference = Some("gw-123".to_owned());
    accepted.detail = Some("202 Accepted".to_owned());
    assert!(store.update_notification(&accepted).await.unwrap());
    // A second hand-over of the same notification is refused and changes nothing.
    let mut twice = accepted.clone();
    twice.provider_reference = Some("gw-999".to_owned());
    assert!(!store.update_notification(&twice).await.unwrap());
    expected.status = NotificationStatus::Accepted;
    expected.sent = Some(at(3601));
    expected.provider_reference = Some("gw-123".to_owned());
    expected.detail = Some("202 Accepted".to_owned());
    assert_eq!(
        store.notification(n.id).await.unwrap(),
        Some(expected.clone())
    );

    // The delivery report: from Accepted (or New, should it overtake the answer).
    let mut delivered = NotificationUpdate::new(
        n.id,
        &[NotificationStatus::New, NotificationStatus::Accepted],
        NotificationStatus::Delivered,
    );
    delivered.delivered = Some(at(3700));
    assert!(store.update_notification(&delivered).await.unwrap());
    expected.status = NotificationStatus::Delivered;
    expected.delivered = Some(at(3700));
    assert_eq!(store.notification(n.id).await.unwrap(), Some(expected));

    let err = store
        .update_notification(&NotificationUpdate::new(
            Uuid::new_v4(),
            &[NotificationStatus::New],
            NotificationStatus::Failed,
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
}

/// A provider's reference finds its notification on that channel only.
pub async fn notifications_are_found_by_provider_reference(store: DynStore) {
    let l = letter("r", &org(1), &person_urn(&person(1)), t0());
    let o = order(&l, party(1), OrderKind::Main, t0());
    with_orders(&store, &l, std::slice::from_ref(&o)).await;
    let email = notification(&o, DeliveryChannel::Email, "kari@example.no", at(1));
    let sms = notification(&o, DeliveryChannel::Sms, "+4799999999", at(1));
    store
        .process_notification_order(&processed(&o, &[email.clone(), sms.clone()], at(1)))
        .await
        .unwrap();
    for (n, reference) in [(&email, "4Qx1Zk0abc"), (&sms, "4Qx1Zk0abc-sms")] {
        let mut u = NotificationUpdate::new(
            n.id,
            &[NotificationStatus::New],
            NotificationStatus::Succeeded,
        );
        u.provider_reference = Some(reference.to_owned());
        assert!(store.update_notification(&u).await.unwrap());
    }
    let found = store
        .notification_by_provider_reference(DeliveryChannel::Email, "4Qx1Zk0abc")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, email.id);
    assert_eq!(found.provider_reference.as_deref(), Some("4Qx1Zk0abc"));
    let found = store
        .notification_by_provider_reference(DeliveryChannel::Sms, "4Qx1Zk0abc-sms")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, sms.id);
    assert_eq!(
        store
            .notification_by_provider_reference(DeliveryChannel::Sms, "4Qx1Zk0abc")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .notification_by_provider_reference(DeliveryChannel::Email, "unknown")
            .await
            .unwrap(),
        None
    );
}

/// Unmatched delivery reports are kept whole and listed newest first, at most `limit`.
pub async fn unmatched_reports_are_listed_newest_first(store: DynStore) {
    assert!(store.unmatched_reports(10).await.unwrap().is_empty());
    let reports = [
        (
            at(1),
            DeliveryChannel::Sms,
            r#"{"reference":"a","status":"DELIVERED"}"#,
        ),
        (at(3), DeliveryChannel::Email, "<report><id>b</id></report>"),
        (at(2), DeliveryChannel::Sms, r#"{"reference":"c"}"#),
    ];
    for (received, channel, body) in reports {
        store
            .record_unmatched_report(received, channel, body)
            .await
            .unwrap();
    }
    let listed = store.unmatched_reports(2).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(
        (
            listed[0].received,
            listed[0].channel,
            listed[0].body.as_str()
        ),
        (at(3), DeliveryChannel::Email, "<report><id>b</id></report>")
    );
    assert_eq!(
        (
            listed[1].received,
            listed[1].channel,
            listed[1].body.as_str()
        ),
        (at(2), DeliveryChannel::Sms, r#"{"reference":"c"}"#)
    );
    assert_ne!(listed[0].id, listed[1].id);
    let all = store.unmatched_reports(10).await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[2].received, at(1));
}

/// Cancelling a letter's notifications touches only its Registered orders and New
/// notifications, records the detail on them, and says how many changed.
pub async fn cancel_touches_only_unsent_orders_and_notifications(store: DynStore) {
    let l = letter("r", &org(1), &person_urn(&person(1)), t0());
    let main = order(&l, party(1), OrderKind::Main, t0());
    let reminder = order(&l, party(1), OrderKind::Reminder, t0());
    with_orders(&store, &l, &[main.clone(), reminder.clone()]).await;
    let waiting = notification(&main, DeliveryChannel::Sms, "+4799999999", at(1));
    let sent = notification(&main, DeliveryChannel::Email, "kari@example.no", at(1));
    store
        .process_notification_order(&processed(&main, &[waiting.clone(), sent.clone()], at(1)))
        .await
        .unwrap();
    let mut handed_over = NotificationUpdate::new(
        sent.id,
        &[NotificationStatus::New],
        NotificationStatus::Succeeded,
    );
    handed_over.detail = Some("250 OK".to_owned());
    assert!(store.update_notification(&handed_over).await.unwrap());
    // Another letter's order and notification stay as they are.
    let other = letter("r", &org(1), &person_urn(&person(2)), t0());
    let other_order = order(&other, party(2), OrderKind::Main, t0());
    with_orders(&store, &other, std::slice::from_ref(&other_order)).await;

    assert_eq!(
        store
            .cancel_notifications(l.id, "the letter was purged")
            .await
            .unwrap(),
        (1, 1)
    );
    let statuses: Vec<(Uuid, OrderStatus)> = store
        .notification_orders(l.id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.order.id, r.order.status))
        .collect();
    assert_eq!(
        statuses,
        [
            (main.id, OrderStatus::Processed),
            (reminder.id, OrderStatus::Cancelled)
        ]
    );
    let waiting = store.notification(waiting.id).await.unwrap().unwrap();
    assert_eq!(waiting.status, NotificationStatus::Cancelled);
    assert_eq!(waiting.detail.as_deref(), Some("the letter was purged"));
    let sent = store.notification(sent.id).await.unwrap().unwrap();
    assert_eq!(sent.status, NotificationStatus::Succeeded);
    assert_eq!(sent.detail.as_deref(), Some("250 OK"));
    assert_eq!(
        store
            .notification_order(other_order.id)
            .await
            .unwrap()
            .unwrap()
            .order
            .status,
        OrderStatus::Registered
    );
    // Nothing left to cancel.
    assert_eq!(
        store.cancel_notifications(l.id, "again").await.unwrap(),
        (0, 0)
    );
}

/// The orders addressed to a party, newest first, at most `limit`; bare addresses and other
/// parties are not among them.
pub async fn orders_for_a_party_are_newest_first(store: DynStore) {
    let kari = party(1);
    let urn = person_urn(&person(1));
    let mut expected = Vec::new();
    for i in 0..3 {
        let l = letter("r", &org(1), &urn, at(i * 60));
        let main = order(&l, kari.clone(), OrderKind::Main, at(i * 60));
        let email = OrderRecipient::Email(EmailAddress::parse("kari@example.no").unwrap());
        let custom = order(&l, email, OrderKind::Main, at(i * 60));
        let reminder = order(&l, kari.clone(), OrderKind::Reminder, at(i * 60 + 1));
        with_orders(&store, &l, &[main.clone(), custom, reminder.clone()]).await;
        expected.push(main);
        expected.push(reminder);
    }
    let other = letter("r", &org(1), &person_urn(&person(2)), at(500));
    with_orders(
        &store,
        &other,
        &[order(&other, party(2), OrderKind::Main, at(500))],
    )
    .await;
    expected.reverse();

    let found: Vec<NotificationOrder> = store
        .notification_orders_for_party(&urn, 4)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.order)
        .collect();
    assert_eq!(found, expected[..4]);
    assert_eq!(
        store
            .notification_orders_for_party(&urn, 100)
            .await
            .unwrap()
            .len(),
        6
    );
    let stranger = org_urn(&org(7));
    assert!(
        store
            .notification_orders_for_party(&stranger, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// An organisation's contacts read back with the person who registered them, and without one
/// (the JSON written before contacts named a person has no `person` key, which is what a
/// contact without a person is still written as).
pub async fn org_contacts_with_and_without_a_person_read_back(store: DynStore) {
    let mut o = Organization::new(org(3), "BYGG OG ANLEGG AS");
    o.contacts = vec![
        OrgContact {
            email: Some("post@bygg.no".to_owned()),
            ..OrgContact::default()
        },
        OrgContact {
            person: Some(person(4)),
            mobile: Some("+4799999999".to_owned()),
            resources: vec!["kommunepost".to_owned()],
            ..OrgContact::default()
        },
    ];
    store
        .upsert_registry(&RegistryBatch {
            organizations: vec![o.clone()],
            ..RegistryBatch::default()
        })
        .await
        .unwrap();
    let read = store.organization(&o.org_number).await.unwrap().unwrap();
    assert_eq!(read.contacts, o.contacts);
}
