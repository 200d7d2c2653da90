//! The web inbox: its listing across resources with filters and paging, its sender choices,
//! and its sessions.

use chrono::Duration;
use melding_domain::correspondence::Correspondence;
use melding_domain::{CorrespondenceId, CorrespondenceStatus as S, StatusEntry};
use melding_store::{AppendGuard, InboxQuery, StoreError, WebSession};

use crate::DynStore;
use crate::fixtures::{at, insert, letter_in, newest_first, org, person, person_urn};

const PUBLISHED: &[S] = &[S::Initialized, S::ReadyForPublish, S::Published];

fn inbox_query(party_urn: &str) -> InboxQuery {
    InboxQuery {
        party_urn: party_urn.to_owned(),
        unread_only: false,
        archived: false,
        sender: None,
        text: None,
        limit: 100,
        after: None,
    }
}

async fn listed(store: &DynStore, q: &InboxQuery) -> Vec<CorrespondenceId> {
    let page = store.inbox(q).await.unwrap();
    assert_eq!(page.next, None, "everything fits on one page");
    page.ids
}

async fn append(store: &DynStore, id: CorrespondenceId, status: S, secs: i64) {
    store
        .append_status(
            id,
            &StatusEntry::new(status, at(secs), None),
            AppendGuard::Always,
            &[],
        )
        .await
        .unwrap();
}

fn titled(mut c: Correspondence, title: &str, summary: &str) -> Correspondence {
    c.settings.content.title = title.to_owned();
    c.settings.content.summary = summary.to_owned();
    c
}

pub async fn inbox_lists_a_recipients_visible_letters_across_resources(store: DynStore) {
    let me = person_urn(&person(1));
    let sender = org(1);
    let l = |resource: &str, minute: i64, statuses: &[S]| {
        letter_in(resource, &sender, &me, at(minute * 60), statuses)
    };
    let published = l("res", 1, PUBLISHED);
    let other_resource = l("other", 2, PUBLISHED);
    let initialized = l("res", 3, &[S::Initialized]);
    let failed = l("res", 4, &[S::Initialized, S::ReadyForPublish, S::Failed]);
    let purged = l(
        "res",
        5,
        &[
            S::Initialized,
            S::ReadyForPublish,
            S::Published,
            S::PurgedByRecipient,
        ],
    );
    let read = l(
        "res",
        6,
        &[
            S::Initialized,
            S::ReadyForPublish,
            S::Published,
            S::Fetched,
            S::Read,
        ],
    );
    let reserved = l("res", 7, &[S::Initialized, S::ReadyForPublish, S::Reserved]);
    let someone_else = letter_in("res", &sender, &person_urn(&person(2)), at(480), PUBLISHED);
    insert(
        &store,
        &[
            published.clone(),
            other_resource.clone(),
            initialized,
            failed,
            purged,
            read.clone(),
            reserved.clone(),
            someone_else,
        ],
    )
    .await;

    assert_eq!(
        listed(&store, &inbox_query(&me)).await,
        newest_first(&[&published, &other_resource, &read, &reserved])
    );
    // A purge appended later takes the letter out of the listing.
    append(&store, published.id, S::PurgedByRecipient, 900).await;
    assert_eq!(
        listed(&store, &inbox_query(&me)).await,
        newest_first(&[&other_resource, &read, &reserved])
    );
}

pub async fn inbox_filters_unread_archived_sender_and_text(store: DynStore) {
    let me = person_urn(&person(1));
    let (a, b) = (org(1), org(2));
    let unread = titled(
        letter_in("res", &a, &me, at(60), PUBLISHED),
        "Eiendomsskatt 2027",
        "Skatteseddel for eiendom",
    );
    let read = titled(
        letter_in("res", &a, &me, at(120), PUBLISHED),
        "Vedtak om barnehageplass",
        "Svar på søknaden",
    );
    let from_b = titled(
        letter_in("res", &b, &me, at(180), PUBLISHED),
        "Renovasjon",
        "Tømmeplan for EIENDOMMEN din",
    );
    let archived = letter_in("res", &b, &me, at(240), PUBLISHED);
    insert(
        &store,
        &[
            unread.clone(),
            read.clone(),
            from_b.clone(),
            archived.clone(),
        ],
    )
    .await;
    append(&store, read.id, S::Read, 300).await;
    append(&store, archived.id, S::Read, 300).await;
    append(&store, archived.id, S::Archived, 301).await;

    // The inbox leaves the archived letter out; the archive lists only it.
    assert_eq!(
        listed(&store, &inbox_query(&me)).await,
        newest_first(&[&unread, &read, &from_b])
    );
    let q = InboxQuery {
        archived: true,
        ..inbox_query(&me)
    };
    assert_eq!(listed(&store, &q).await, [archived.id]);

    let q = InboxQuery {
        unread_only: true,
        ..inbox_query(&me)
    };
    assert_eq!(listed(&store, &q).await, newest_first(&[&unread, &from_b]));

    let q = InboxQuery {
        sender: Some(b.to_string()),
        ..inbox_query(&me)
    };
    assert_eq!(listed(&store, &q).await, [from_b.id]);

    // Title or summary, case ignored (the searched text is lower-cased whole).
    let q = InboxQuery {
        text: Some("eiendom".to_owned()),
        ..inbox_query(&me)
    };
    assert_eq!(listed(&store, &q).await, newest_first(&[&unread, &from_b]));
    let q = InboxQuery {
        text: Some("SØKNADEN".to_owned()),
        ..inbox_query(&me)
    };
    assert_eq!(listed(&store, &q).await, [read.id]);
    // Capitals beyond ASCII are folded too: "tømmeplan" finds "TØMMEPLAN", and "ÆØÅ" finds
    // "æøå".
    let q = InboxQuery {
        text: Some("eiendommen din".to_owned()),
        ..inbox_query(&me)
    };
    assert_eq!(listed(&store, &q).await, [from_b.id]);
    let shouting = titled(
        letter_in("res", &a, &me, at(50), PUBLISHED),
        "VARSEL OM TØMMING",
        "blåbær og ÆRFUGL",
    );
    insert(&store, std::slice::from_ref(&shouting)).await;
    for text in ["tømming", "ærfugl", "BLÅBÆR", "Tømming"] {
        let q = InboxQuery {
            text: Some(text.to_owned()),
            ..inbox_query(&me)
        };
        assert_eq!(listed(&store, &q).await, [shouting.id], "{text}");
    }
    // Wildcards of LIKE are plain text here.
    let q = InboxQuery {
        text: Some("%".to_owned()),
        ..inbox_query(&me)
    };
    assert_eq!(listed(&store, &q).await, [] as [CorrespondenceId; 0]);

    assert_eq!(
        store.inbox_senders(&me).await.unwrap(),
        [a.to_string(), b.to_string()]
    );
    assert!(
        store
            .inbox_senders(&person_urn(&person(2)))
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn inbox_pages_newest_first_with_ties_broken_by_id(store: DynStore) {
    let me = person_urn(&person(1));
    let sender = org(1);
    // Five letters, two of them at the same instant.
    let letters: Vec<Correspondence> = [60, 120, 120, 180, 240]
        .into_iter()
        .map(|s| letter_in("res", &sender, &me, at(s), PUBLISHED))
        .collect();
    insert(&store, &letters).await;
    let all: Vec<&Correspondence> = letters.iter().collect();
    let expected = newest_first(&all);

    let mut seen = Vec::new();
    let mut q = InboxQuery {
        limit: 2,
        ..inbox_query(&me)
    };
    loop {
        let page = store.inbox(&q).await.unwrap();
        assert!(page.ids.len() <= 2);
        seen.extend(page.ids);
        match page.next {
            Some(next) => q.after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, expected);
}

fn session(hash_digit: char, minute: i64) -> WebSession {
    WebSession {
        token_hash: hash_digit.to_string().repeat(64),
        person: person(1).to_string(),
        acr: "idporten-loa-high".to_owned(),
        acting_for: person_urn(&person(1)),
        csrf_token: "c".repeat(43),
        id_token: Some("eyJ.id.token".to_owned()),
        created: at(minute * 60),
        last_seen: at(minute * 60),
    }
}

pub async fn web_sessions_round_trip_touch_and_end(store: DynStore) {
    let s = session('a', 1);
    store.insert_session(&s).await.unwrap();
    assert_eq!(store.session(&s.token_hash).await.unwrap(), Some(s.clone()));
    assert_eq!(store.session(&"b".repeat(64)).await.unwrap(), None);
    // A token hash is stored once.
    assert!(matches!(
        store.insert_session(&s).await,
        Err(StoreError::Conflict(_))
    ));

    let later = s.last_seen + Duration::seconds(90);
    let org_urn = crate::fixtures::org_urn(&org(1));
    assert!(
        store
            .touch_session(&s.token_hash, later, &org_urn)
            .await
            .unwrap()
    );
    let touched = store.session(&s.token_hash).await.unwrap().unwrap();
    assert_eq!(touched.last_seen, later);
    assert_eq!(touched.acting_for, org_urn);
    assert_eq!(touched.created, s.created);

    assert!(store.delete_session(&s.token_hash).await.unwrap());
    assert!(!store.delete_session(&s.token_hash).await.unwrap());
    assert!(
        !store
            .touch_session(&s.token_hash, later, &org_urn)
            .await
            .unwrap()
    );
    assert_eq!(store.session(&s.token_hash).await.unwrap(), None);
}

pub async fn expired_web_sessions_are_deleted(store: DynStore) {
    let old = session('a', 1);
    let idle = WebSession {
        last_seen: at(10 * 60),
        ..session('b', 5)
    };
    let live = WebSession {
        last_seen: at(30 * 60),
        ..session('c', 20)
    };
    for s in [&old, &idle, &live] {
        store.insert_session(s).await.unwrap();
    }
    // Created before minute 2, or last seen before minute 15.
    let deleted = store
        .delete_expired_sessions(at(2 * 60), at(15 * 60))
        .await
        .unwrap();
    assert_eq!(deleted, 2);
    assert_eq!(store.session(&old.token_hash).await.unwrap(), None);
    assert_eq!(store.session(&idle.token_hash).await.unwrap(), None);
    assert_eq!(
        store.session(&live.token_hash).await.unwrap(),
        Some(live.clone())
    );
}
