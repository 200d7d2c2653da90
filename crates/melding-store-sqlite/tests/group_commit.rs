//! Group commit: concurrent writes share transactions, every acknowledged write is durable, and
//! a write that fails in a shared transaction does not take the others down with it.

use chrono::{TimeZone, Utc};
use melding_domain::correspondence::{Content, Correspondence, LetterSettings};
use melding_domain::{
    CorrespondenceId, CorrespondenceStatus, OrgNumber, Recipient, ResourceId, StatusEntry,
    StatusHistory,
};
use melding_store::{CorrespondenceStore, StoreError};
use melding_store_sqlite::SqliteStore;

fn letter(n: u32, key: Option<uuid::Uuid>) -> Correspondence {
    let at = Utc.with_ymd_and_hms(2026, 1, 5, 8, 0, 0).unwrap();
    Correspondence {
        id: CorrespondenceId::from_uuid(uuid::Uuid::from_u128(u128::from(n) + 1)),
        recipient: Recipient::parse("urn:altinn:person:identifier-no:08089403198").unwrap(),
        settings: LetterSettings {
            resource_id: ResourceId::parse("kommunepost").unwrap(),
            sender: OrgNumber::parse("991825827").unwrap(),
            senders_reference: format!("ref-{n}"),
            message_sender: None,
            content: Content {
                language: "nb".into(),
                title: "Vedtak".into(),
                summary: String::new(),
                body: "Tekst".into(),
            },
            requested_publish_time: at,
            due_date_time: None,
            external_references: vec![],
            property_list: Default::default(),
            reply_options: vec![],
            ignore_reservation: None,
            is_confirmation_needed: false,
            is_confidential: false,
            allow_forwarding: false,
            digital_only: false,
        },
        idempotent_key: key,
        created: at,
        published: None,
        statuses: StatusHistory::new(vec![StatusEntry::new(
            CorrespondenceStatus::Initialized,
            at,
            None,
        )]),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn concurrent_writes_share_commits_and_a_failing_one_spares_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let taken = uuid::Uuid::new_v4();
    store
        .insert_correspondences(&[letter(0, Some(taken))], &[])
        .await
        .unwrap();
    let before = store.write_transactions();

    let mut tasks = tokio::task::JoinSet::new();
    for n in 1..=200u32 {
        let store = store.clone();
        // Every tenth write reuses a taken idempotency key and must fail alone.
        let key = (n % 10 == 0).then_some(taken);
        tasks.spawn(async move {
            (
                n,
                store.insert_correspondences(&[letter(n, key)], &[]).await,
            )
        });
    }
    let mut ok = vec![];
    while let Some(done) = tasks.join_next().await {
        let (n, result) = done.unwrap();
        match result {
            Ok(()) => ok.push(n),
            Err(StoreError::Conflict(_)) => assert_eq!(n % 10, 0),
            Err(e) => panic!("write {n}: {e}"),
        }
    }
    assert_eq!(ok.len(), 180);
    let commits = store.write_transactions() - before;
    eprintln!("200 concurrent writes took {commits} commits");
    assert!(commits < 50, "200 concurrent writes took {commits} commits");

    // Every acknowledged write is there after reopening the file.
    drop(store);
    let reopened = SqliteStore::open(&path).await.unwrap();
    for n in ok {
        let id = letter(n, None).id;
        assert!(
            reopened.correspondence(id).await.unwrap().is_some(),
            "letter {n} lost"
        );
    }
}
