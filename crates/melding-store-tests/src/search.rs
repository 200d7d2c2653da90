//! Search: who sees which letters, filters, order and paging.

use melding_domain::correspondence::Correspondence;
use melding_domain::{CorrespondenceId, CorrespondenceStatus as S, StatusEntry};
use melding_store::{AppendGuard, SearchQuery, SearchRole};

use crate::DynStore;
use crate::fixtures::{
    at, insert, letter_in, newest_first, org, org_urn, person, person_urn, query,
};

const NONE: [CorrespondenceId; 0] = [];

const PUBLISHED: &[S] = &[S::Initialized, S::ReadyForPublish, S::Published];

async fn ids(store: &DynStore, q: &SearchQuery) -> Vec<CorrespondenceId> {
    let page = store.search(q).await.unwrap();
    assert_eq!(page.next, None, "everything fits on one page");
    page.ids
}

pub async fn search_recipient_sees_only_published_letters(store: DynStore) {
    let sender = org(1);
    let me = person_urn(&person(1));
    let l = |minute: i64, statuses: &[S]| letter_in("res", &sender, &me, at(minute * 60), statuses);
    let initialized = l(1, &[S::Initialized]);
    let ready = l(2, &[S::Initialized, S::ReadyForPublish]);
    let failed = l(3, &[S::Initialized, S::ReadyForPublish, S::Failed]);
    let published = l(4, PUBLISHED);
    let fetched = l(
        5,
        &[S::Initialized, S::ReadyForPublish, S::Published, S::Fetched],
    );
    let read = l(
        6,
        &[
            S::Initialized,
            S::ReadyForPublish,
            S::Published,
            S::Fetched,
            S::Read,
        ],
    );
    let published_later = l(7, &[S::Initialized, S::ReadyForPublish]);
    let only_fetched_later = l(8, &[S::Initialized]);
    let someone_else = letter_in("res", &sender, &person_urn(&person(2)), at(540), PUBLISHED);
    let other_resource = letter_in("other", &sender, &me, at(600), PUBLISHED);
    insert(
        &store,
        &[
            initialized,
            ready,
            failed,
            published.clone(),
            fetched.clone(),
            read.clone(),
            published_later.clone(),
            only_fetched_later.clone(),
            someone_else,
            other_resource,
        ],
    )
    .await;
    // Statuses appended later count the same as stored ones; Fetched never makes a letter
    // visible (it is not the latest status the recipient filter looks at).
    store
        .append_status(
            published_later.id,
            &StatusEntry::new(S::Published, at(1000), None),
            AppendGuard::Always,
            &[],
        )
        .await
        .unwrap();
    store
        .append_status(
            only_fetched_later.id,
            &StatusEntry::new(S::Fetched, at(1000), Some(me.clone())),
            AppendGuard::Always,
            &[],
        )
        .await
        .unwrap();

    let q = query("res", SearchRole::Recipient, &me, None);
    assert_eq!(
        ids(&store, &q).await,
        [published_later.id, read.id, fetched.id, published.id]
    );
    // The recipient role ignores the sender org: a recipient that is an organisation does not
    // see what it sent.
    let q = query(
        "res",
        SearchRole::Recipient,
        &org_urn(&sender),
        Some(&sender),
    );
    assert_eq!(ids(&store, &q).await, NONE);
}

pub async fn search_sender_sees_its_letters_in_every_state(store: DynStore) {
    let me = org(1);
    let reader = person_urn(&person(1));
    let initialized = letter_in("res", &me, &reader, at(60), &[S::Initialized]);
    let failed = letter_in("res", &me, &reader, at(120), &[S::Initialized, S::Failed]);
    let published = letter_in("res", &me, &reader, at(180), PUBLISHED);
    let from_other = letter_in("res", &org(2), &reader, at(240), PUBLISHED);
    let other_resource = letter_in("other", &me, &reader, at(300), PUBLISHED);
    insert(
        &store,
        &[
            initialized.clone(),
            failed.clone(),
            published.clone(),
            from_other,
            other_resource,
        ],
    )
    .await;

    let q = query("res", SearchRole::Sender, &org_urn(&me), Some(&me));
    assert_eq!(
        ids(&store, &q).await,
        [published.id, failed.id, initialized.id]
    );
    // A party that is no organisation has sent nothing.
    let q = query("res", SearchRole::Sender, &reader, None);
    assert_eq!(ids(&store, &q).await, NONE);
}

pub async fn search_recipient_and_sender_is_the_union(store: DynStore) {
    let me = org(1);
    let other = org(2);
    let sent_draft = letter_in("res", &me, &org_urn(&other), at(60), &[S::Initialized]);
    let sent = letter_in("res", &me, &person_urn(&person(1)), at(120), PUBLISHED);
    let received = letter_in("res", &other, &org_urn(&me), at(180), PUBLISHED);
    let received_draft = letter_in("res", &other, &org_urn(&me), at(240), &[S::Initialized]);
    // Sent to itself, published: found once.
    let to_self = letter_in("res", &me, &org_urn(&me), at(300), PUBLISHED);
    let unrelated = letter_in("res", &other, &person_urn(&person(1)), at(360), PUBLISHED);
    insert(
        &store,
        &[
            sent_draft.clone(),
            sent.clone(),
            received.clone(),
            received_draft,
            to_self.clone(),
            unrelated,
        ],
    )
    .await;

    let q = query(
        "res",
        SearchRole::RecipientAndSender,
        &org_urn(&me),
        Some(&me),
    );
    assert_eq!(
        ids(&store, &q).await,
        [to_self.id, received.id, sent.id, sent_draft.id]
    );
    let q = query("res", SearchRole::Recipient, &org_urn(&me), Some(&me));
    assert_eq!(ids(&store, &q).await, [to_self.id, received.id]);
    let q = query("res", SearchRole::Sender, &org_urn(&me), Some(&me));
    assert_eq!(ids(&store, &q).await, [to_self.id, sent.id, sent_draft.id]);
}

pub async fn search_status_filter_means_ever_had(store: DynStore) {
    let sender = org(1);
    let me = person_urn(&person(1));
    let read = letter_in(
        "res",
        &sender,
        &me,
        at(60),
        &[
            S::Initialized,
            S::ReadyForPublish,
            S::Published,
            S::Fetched,
            S::Read,
        ],
    );
    let published = letter_in("res", &sender, &me, at(120), PUBLISHED);
    let draft = letter_in("res", &sender, &me, at(180), &[S::Initialized]);
    let failed = letter_in("res", &sender, &me, at(240), &[S::Initialized, S::Failed]);
    insert(
        &store,
        &[
            read.clone(),
            published.clone(),
            draft.clone(),
            failed.clone(),
        ],
    )
    .await;

    let with = |role, status| {
        let mut q = query("res", role, &me, Some(&sender));
        q.status = Some(status);
        q
    };
    use SearchRole::{Recipient, Sender};
    assert_eq!(ids(&store, &with(Recipient, S::Read)).await, [read.id]);
    assert_eq!(ids(&store, &with(Recipient, S::Fetched)).await, [read.id]);
    assert_eq!(
        ids(&store, &with(Recipient, S::Published)).await,
        [published.id, read.id]
    );
    assert_eq!(ids(&store, &with(Recipient, S::Confirmed)).await, NONE);
    // A recipient never finds letters by a status from before publishing, though every letter
    // has been Initialized.
    for s in [S::Initialized, S::ReadyForPublish, S::Failed] {
        assert_eq!(ids(&store, &with(Recipient, s)).await, NONE, "{s:?}");
    }
    // A sender does.
    assert_eq!(
        ids(&store, &with(Sender, S::Initialized)).await,
        [failed.id, draft.id, published.id, read.id]
    );
    assert_eq!(
        ids(&store, &with(Sender, S::ReadyForPublish)).await,
        [published.id, read.id]
    );
    assert_eq!(ids(&store, &with(Sender, S::Failed)).await, [failed.id]);
    assert_eq!(ids(&store, &with(Sender, S::Read)).await, [read.id]);
}

pub async fn search_bounds_are_exclusive(store: DynStore) {
    let sender = org(1);
    let me = person_urn(&person(1));
    let letters: Vec<Correspondence> = (0..4)
        .map(|i| letter_in("res", &sender, &me, at(i * 60), PUBLISHED))
        .collect();
    insert(&store, &letters).await;
    let between = |from: Option<i64>, to: Option<i64>| {
        let mut q = query("res", SearchRole::Recipient, &me, None);
        q.from = from.map(at);
        q.to = to.map(at);
        q
    };
    let id = |i: usize| letters[i].id;

    assert_eq!(ids(&store, &between(Some(60), Some(180))).await, [id(2)]);
    assert_eq!(
        ids(&store, &between(Some(59), Some(181))).await,
        [id(3), id(2), id(1)]
    );
    assert_eq!(ids(&store, &between(Some(60), None)).await, [id(3), id(2)]);
    assert_eq!(ids(&store, &between(None, Some(60))).await, [id(0)]);
    assert_eq!(ids(&store, &between(Some(60), Some(120))).await, NONE);
    assert_eq!(
        ids(&store, &between(None, None)).await,
        [id(3), id(2), id(1), id(0)]
    );
}

pub async fn search_by_senders_reference(store: DynStore) {
    let sender = org(1);
    let me = person_urn(&person(1));
    let mut letters: Vec<Correspondence> = Vec::new();
    for (i, reference) in ["sak-1", "sak-2", "sak-1", "SAK-1"].iter().enumerate() {
        let mut c = letter_in("res", &sender, &me, at(i as i64 * 60), PUBLISHED);
        c.settings.senders_reference = (*reference).to_owned();
        letters.push(c);
    }
    insert(&store, &letters).await;
    let mut q = query("res", SearchRole::Sender, &org_urn(&sender), Some(&sender));
    q.senders_reference = Some("sak-1".to_owned());
    assert_eq!(ids(&store, &q).await, [letters[2].id, letters[0].id]);
    q.senders_reference = Some("sak".to_owned());
    assert_eq!(ids(&store, &q).await, NONE);
}

pub async fn search_orders_newest_first(store: DynStore) {
    let sender = org(1);
    let me = person_urn(&person(1));
    // Stored out of order, with ties on the requested publish time.
    let letters: Vec<Correspondence> = [180, 0, 60, 60, 240, 60, 120]
        .into_iter()
        .map(|s| letter_in("res", &sender, &me, at(s), PUBLISHED))
        .collect();
    insert(&store, &letters).await;
    let q = query("res", SearchRole::Recipient, &me, None);
    let expected = newest_first(&letters.iter().collect::<Vec<_>>());
    assert_eq!(ids(&store, &q).await, expected);
}

pub async fn search_pages_through_ties_with_the_cursor(store: DynStore) {
    let sender = org(1);
    let me = person_urn(&person(1));
    let mut letters: Vec<Correspondence> = Vec::new();
    for s in [0, 60, 60, 60, 60, 120, 120, 180, 60, 240, 60] {
        letters.push(letter_in("res", &sender, &me, at(s), PUBLISHED));
    }
    // Ids made for one time share their timestamp bits and differ only in the random ones.
    for _ in 0..3 {
        letters.push(letter_in("res", &sender, &me, at(60), PUBLISHED));
    }
    insert(&store, &letters).await;
    let expected = newest_first(&letters.iter().collect::<Vec<_>>());

    for limit in [1, 2, 3, 4, 5, 13] {
        let mut q = query("res", SearchRole::Recipient, &me, None);
        q.limit = limit;
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            pages += 1;
            assert!(pages <= expected.len() + 1, "paging does not end");
            let page = store.search(&q).await.unwrap();
            assert!(page.ids.len() <= limit as usize);
            seen.extend(page.ids.iter().copied());
            match page.next {
                Some(next) => {
                    assert_eq!(page.ids.len(), limit as usize, "only full pages continue");
                    let last = *page.ids.last().unwrap();
                    let last_letter = letters.iter().find(|c| c.id == last).unwrap();
                    assert_eq!(next, (last_letter.settings.requested_publish_time, last));
                    q.after = Some(next);
                }
                None => break,
            }
        }
        assert_eq!(seen, expected, "limit {limit}");
    }
}

pub async fn search_exactly_full_last_page_has_no_next(store: DynStore) {
    let sender = org(1);
    let me = person_urn(&person(1));
    let letters: Vec<Correspondence> = (0..4)
        .map(|i| letter_in("res", &sender, &me, at(i * 60), PUBLISHED))
        .collect();
    insert(&store, &letters).await;
    let expected = newest_first(&letters.iter().collect::<Vec<_>>());

    let mut q = query("res", SearchRole::Recipient, &me, None);
    q.limit = 4;
    let page = store.search(&q).await.unwrap();
    assert_eq!(page.ids, expected);
    assert_eq!(page.next, None);

    q.limit = 2;
    let first = store.search(&q).await.unwrap();
    assert_eq!(first.ids, expected[..2]);
    q.after = first.next;
    let second = store.search(&q).await.unwrap();
    assert_eq!(second.ids, expected[2..]);
    assert_eq!(second.next, None);

    // A cursor past the end gives an empty page.
    q.after = Some((at(-1), expected[3]));
    let empty = store.search(&q).await.unwrap();
    assert!(empty.ids.is_empty());
    assert_eq!(empty.next, None);
}

/// The unopened confidential letters of one recipient (reference §4.15): confidential,
/// published at or before the bound, never Fetched or Read, neither failed nor purged; oldest
/// publish time first, at most `limit`.
pub async fn unopened_confidential_lists_only_never_opened_confidential_letters(store: DynStore) {
    let sender = org(1);
    let me = org_urn(&org(2));
    let l = |minute: i64, statuses: &[S]| {
        let mut c = letter_in("res", &sender, &me, at(minute * 60), statuses);
        c.settings.is_confidential = true;
        c
    };
    let oldest = l(1, PUBLISHED);
    let newer = l(3, PUBLISHED);
    let fetched = l(
        2,
        &[S::Initialized, S::ReadyForPublish, S::Published, S::Fetched],
    );
    let read = l(
        2,
        &[
            S::Initialized,
            S::ReadyForPublish,
            S::Published,
            S::Fetched,
            S::Read,
        ],
    );
    let purged = l(
        2,
        &[
            S::Initialized,
            S::ReadyForPublish,
            S::Published,
            S::PurgedByAltinn,
        ],
    );
    let not_published = l(2, &[S::Initialized, S::ReadyForPublish]);
    let too_new = l(30, PUBLISHED);
    let mut ordinary = letter_in("res", &sender, &me, at(120), PUBLISHED);
    ordinary.settings.is_confidential = false;
    let mut someone_else = letter_in("res", &sender, &org_urn(&org(3)), at(120), PUBLISHED);
    someone_else.settings.is_confidential = true;
    let opened_later = l(2, PUBLISHED);
    insert(
        &store,
        &[
            oldest.clone(),
            newer.clone(),
            fetched,
            read,
            purged,
            not_published,
            too_new,
            ordinary,
            someone_else,
            opened_later.clone(),
        ],
    )
    .await;
    // Fetched appended after the letter was written counts the same.
    store
        .append_status(
            opened_later.id,
            &StatusEntry::new(S::Fetched, at(1000), Some(me.clone())),
            AppendGuard::Always,
            &[],
        )
        .await
        .unwrap();
    // Published one second after each letter's publish time (the fixture's spacing).
    let bound = at(10 * 60);
    assert_eq!(
        store.unopened_confidential(&me, bound, 100).await.unwrap(),
        vec![oldest.id, newer.id]
    );
    assert_eq!(
        store.unopened_confidential(&me, bound, 1).await.unwrap(),
        vec![oldest.id]
    );
    // The bound is inclusive.
    let exactly = oldest.published.unwrap();
    assert_eq!(
        store
            .unopened_confidential(&me, exactly, 100)
            .await
            .unwrap(),
        vec![oldest.id]
    );
    assert_eq!(
        store
            .unopened_confidential(&me, exactly - chrono::Duration::microseconds(1), 100)
            .await
            .unwrap(),
        NONE
    );
}
