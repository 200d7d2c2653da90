//! Test data: valid identifiers, fixed times and letters in a given state.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use melding_domain::correspondence::{Content, Correspondence, LetterSettings};
use melding_domain::{
    CorrespondenceId, CorrespondenceStatus, NationalId, OrgNumber, Recipient, ResourceId,
    StatusEntry, StatusHistory,
};
use melding_store::{NewJob, SearchQuery, SearchRole};

use crate::DynStore;

/// The suite's fixed "now": 2026-05-01 12:00:00.250001 UTC (microseconds on purpose).
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap() + Duration::microseconds(250_001)
}

/// `t0() + secs` seconds.
pub fn at(secs: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(secs)
}

/// The `n`th valid organisation number (distinct for distinct `n`, `n < 1000`).
pub fn org(n: u32) -> OrgNumber {
    assert!(n < 1000);
    for base in (n * 7)..(n * 7 + 7) {
        for check in 0..10 {
            if let Ok(o) = OrgNumber::parse(&format!("9{:07}{check}", 1_000_000 + base)) {
                return o;
            }
        }
    }
    panic!("no valid organisation number near {n}");
}

/// The `n`th valid national identity number (distinct for distinct `n`, `n < 100`).
pub fn person(n: u32) -> NationalId {
    assert!(n < 100);
    for individual in (n * 10)..(n * 10 + 10) {
        for control in 0..100 {
            if let Ok(p) = NationalId::parse(&format!("010190{individual:03}{control:02}")) {
                return p;
            }
        }
    }
    panic!("no valid national identity number near {n}");
}

pub fn org_urn(o: &OrgNumber) -> String {
    format!("{}{o}", melding_domain::recipient::ORG_URN)
}

pub fn person_urn(p: &NationalId) -> String {
    format!("{}{p}", melding_domain::recipient::PERSON_URN)
}

/// A letter with the fewest settings, in state Initialized, created at its publish time.
/// `resource_id` and `recipient` (a recipient URN) must parse.
pub fn letter(
    resource_id: &str,
    sender: &OrgNumber,
    recipient: &str,
    requested_publish_time: DateTime<Utc>,
) -> Correspondence {
    Correspondence {
        id: CorrespondenceId::new_v7(requested_publish_time),
        recipient: Recipient::from_urn(recipient).expect("a recipient URN"),
        settings: LetterSettings {
            resource_id: ResourceId::parse(resource_id).expect("a resource id"),
            sender: sender.clone(),
            senders_reference: "ref".to_owned(),
            message_sender: None,
            content: Content {
                language: "nb".to_owned(),
                title: "Tittel".to_owned(),
                summary: String::new(),
                body: "Brødtekst".to_owned(),
            },
            requested_publish_time,
            due_date_time: None,
            external_references: Vec::new(),
            property_list: BTreeMap::new(),
            reply_options: Vec::new(),
            ignore_reservation: None,
            is_confirmation_needed: false,
            is_confidential: false,
            allow_forwarding: false,
            digital_only: false,
        },
        idempotent_key: None,
        created: requested_publish_time,
        published: None,
        statuses: StatusHistory::new(vec![StatusEntry::new(
            CorrespondenceStatus::Initialized,
            requested_publish_time,
            None,
        )]),
    }
}

/// `letter(..)` whose history is `statuses` (one second apart, no party); `published` is set
/// when the history holds Published.
pub fn letter_in(
    resource_id: &str,
    sender: &OrgNumber,
    recipient: &str,
    requested_publish_time: DateTime<Utc>,
    statuses: &[CorrespondenceStatus],
) -> Correspondence {
    let mut c = letter(resource_id, sender, recipient, requested_publish_time);
    let entries: Vec<StatusEntry> = statuses
        .iter()
        .zip(0..)
        .map(|(s, i)| StatusEntry::new(*s, requested_publish_time + Duration::seconds(i), None))
        .collect();
    c.published = entries
        .iter()
        .find(|e| e.status == CorrespondenceStatus::Published)
        .map(|e| e.at);
    c.statuses = StatusHistory::new(entries);
    c
}

/// A job with a JSON payload naming its key.
pub fn job(dedupe_key: &str, run_at: DateTime<Utc>) -> NewJob {
    NewJob {
        kind: "test".to_owned(),
        dedupe_key: dedupe_key.to_owned(),
        correspondence_id: None,
        run_at,
        max_attempts: 5,
        payload: serde_json::json!({ "key": dedupe_key, "n": 3, "nested": { "b": [1, 2.5], "a": null } }),
    }
}

/// Enqueues jobs on their own (no letters).
pub async fn enqueue(store: &DynStore, jobs: &[NewJob]) {
    store.insert_correspondences(&[], jobs).await.unwrap();
}

/// The dedupe keys of the queued jobs (not the dead ones), sorted.
pub async fn queued_keys(store: &DynStore) -> Vec<String> {
    let mut keys: Vec<String> = store
        .list_jobs(false, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.dedupe_key)
        .collect();
    keys.sort();
    keys
}

/// Stores letters (no jobs).
pub async fn insert(store: &DynStore, letters: &[Correspondence]) {
    store.insert_correspondences(letters, &[]).await.unwrap();
}

/// A query for `resource_id` in `role` with no filters and room for everything.
pub fn query(
    resource_id: &str,
    role: SearchRole,
    party_urn: &str,
    sender_org: Option<&OrgNumber>,
) -> SearchQuery {
    SearchQuery {
        resource_id: resource_id.to_owned(),
        role,
        party_urn: party_urn.to_owned(),
        sender_org: sender_org.map(|o| o.to_string()),
        from: None,
        to: None,
        status: None,
        senders_reference: None,
        limit: 100,
        after: None,
    }
}

/// The ids of `letters` in the order a search returns them: newest requested publish time
/// first, ties by id descending.
pub fn newest_first(letters: &[&Correspondence]) -> Vec<CorrespondenceId> {
    let mut v: Vec<(DateTime<Utc>, CorrespondenceId)> = letters
        .iter()
        .map(|c| (c.settings.requested_publish_time, c.id))
        .collect();
    v.sort_by(|a, b| b.cmp(a));
    v.into_iter().map(|(_, id)| id).collect()
}
