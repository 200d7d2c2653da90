//! What the unit tests of several use cases share: a [`Melding`] over a real, throwaway SQLite
//! store with a small registry (a sender owning one resource, another sender, an organisation
//! and a person to write to), and the parties' identifiers.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use melding_blob::LocalBlobStore;
use melding_domain::{NationalId, OrgNumber, ResourceType, SimulatedClock};
use melding_jobs::Waker;
use melding_store::{Organization, Person, RegistryBatch, RegistryStore, Resource};
use melding_store_sqlite::SqliteStore;

use crate::Melding;

/// The sender: owns [`resource`].
pub(crate) const SENDER: &str = "991825827";
/// Another sender, owning nothing.
pub(crate) const OTHER_SENDER: &str = "974760673";
/// An organisation letters are written to.
pub(crate) const RECIPIENT_ORG: &str = "310394955";
/// [`RECIPIENT_ORG`] as a sender writes it in `recipients`.
pub(crate) const ORG_RECIPIENT: &str = "0192:310394955";
/// A person letters are written to.
pub(crate) const PERSON: &str = "08089403198";

/// The simulated clock's time: a Monday morning, UTC.
pub(crate) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

/// [`SENDER`]'s ordinary correspondence service `kommunepost`.
pub(crate) fn resource() -> Resource {
    Resource {
        id: "kommunepost".into(),
        owner: OrgNumber::parse(SENDER).unwrap(),
        service_owner_code: "ttd".into(),
        title: "Kommunepost".into(),
        confidential: false,
        read_policy: vec![],
        resource_type: ResourceType::CorrespondenceService,
        minimum_authentication_level: 0,
    }
}

/// A Melding over a fresh SQLite store holding the two senders, [`RECIPIENT_ORG`], [`PERSON`]
/// and [`resource`], attachment bytes in the same temporary directory, and a clock at [`t0`].
pub(crate) async fn melding() -> (Melding, tempfile::TempDir) {
    let org = |n: &str| OrgNumber::parse(n).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
    store
        .upsert_registry(&RegistryBatch {
            organizations: vec![
                Organization::new(org(SENDER), "Kommunen"),
                Organization::new(org(OTHER_SENDER), "Etaten"),
                Organization::new(org(RECIPIENT_ORG), "Bedrift AS"),
            ],
            persons: vec![Person::new(
                NationalId::parse(PERSON).unwrap(),
                "Kari Nordmann",
            )],
            resources: vec![resource()],
            ..Default::default()
        })
        .await
        .unwrap();
    let blobs = LocalBlobStore::open(&dir.path().join("blobs"))
        .await
        .unwrap();
    let melding = Melding::new(
        Arc::new(store),
        Arc::new(blobs),
        Arc::new(SimulatedClock::new(t0())),
        Waker::default(),
    );
    (melding, dir)
}
