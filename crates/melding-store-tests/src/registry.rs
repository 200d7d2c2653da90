//! Organisations, persons and resources.

use melding_domain::Party;
use melding_store::{Organization, Person, RegistryBatch, Resource};

use crate::DynStore;
use crate::fixtures::{org, person};

fn batch() -> RegistryBatch {
    RegistryBatch {
        organizations: vec![
            Organization::new(org(1), "Alfa AS"),
            Organization::new(org(2), "Beta kommune"),
        ],
        persons: vec![Person::new(person(1), "Kari Nordmann")],
        resources: vec![Resource {
            id: "skatt-vedtak".to_owned(),
            owner: org(1),
            service_owner_code: "skd".to_owned(),
            title: "Vedtak".to_owned(),
            confidential: false,
            read_policy: vec![],
        }],
        roles: vec![],
    }
}

pub async fn registry_upsert_is_idempotent_and_updates(store: DynStore) {
    store
        .upsert_registry(&RegistryBatch::default())
        .await
        .unwrap();
    let first = batch();
    store.upsert_registry(&first).await.unwrap();
    store.upsert_registry(&first).await.unwrap();
    assert_eq!(
        store.organization(&org(1)).await.unwrap(),
        Some(first.organizations[0].clone())
    );
    assert_eq!(
        store.organization(&org(2)).await.unwrap(),
        Some(first.organizations[1].clone())
    );
    assert_eq!(
        store.person(&person(1)).await.unwrap(),
        Some(first.persons[0].clone())
    );
    assert_eq!(
        store.resource("skatt-vedtak").await.unwrap(),
        Some(first.resources[0].clone())
    );

    let second = RegistryBatch {
        organizations: vec![Organization::new(org(1), "Alfa ASA")],
        persons: vec![
            Person::new(person(1), "Kari Nordmann Hansen"),
            Person::new(person(2), "Ola Nordmann"),
        ],
        resources: vec![Resource {
            id: "skatt-vedtak".to_owned(),
            owner: org(2),
            service_owner_code: "bk".to_owned(),
            title: "Vedtak (ny)".to_owned(),
            confidential: true,
            read_policy: vec![],
        }],
        roles: vec![],
    };
    store.upsert_registry(&second).await.unwrap();
    assert_eq!(
        store.organization(&org(1)).await.unwrap(),
        Some(second.organizations[0].clone())
    );
    // Entries a batch does not mention stay as they were.
    assert_eq!(
        store.organization(&org(2)).await.unwrap(),
        Some(first.organizations[1].clone())
    );
    assert_eq!(
        store.person(&person(1)).await.unwrap(),
        Some(second.persons[0].clone())
    );
    assert_eq!(
        store.person(&person(2)).await.unwrap(),
        Some(second.persons[1].clone())
    );
    assert_eq!(
        store.resource("skatt-vedtak").await.unwrap(),
        Some(second.resources[0].clone())
    );
}

pub async fn registry_lookups_of_unknown_entries_are_none(store: DynStore) {
    store.upsert_registry(&batch()).await.unwrap();
    assert_eq!(store.organization(&org(3)).await.unwrap(), None);
    assert_eq!(store.person(&person(2)).await.unwrap(), None);
    assert_eq!(store.resource("ukjent").await.unwrap(), None);
    // Resource ids are matched exactly.
    assert_eq!(store.resource("SKATT-VEDTAK").await.unwrap(), None);
}

pub async fn unknown_parties_lists_only_unregistered(store: DynStore) {
    assert!(store.unknown_parties(&[]).await.unwrap().is_empty());
    let parties = [
        Party::Person(person(2)),
        Party::Organization(org(1)),
        Party::Organization(org(3)),
        Party::Person(person(1)),
        Party::Organization(org(4)),
    ];
    assert_eq!(store.unknown_parties(&parties).await.unwrap(), parties);
    store.upsert_registry(&batch()).await.unwrap();
    assert_eq!(
        store.unknown_parties(&parties).await.unwrap(),
        [
            Party::Person(person(2)),
            Party::Organization(org(3)),
            Party::Organization(org(4)),
        ]
    );
}
