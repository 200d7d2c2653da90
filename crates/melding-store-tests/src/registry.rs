//! Organisations, persons and resources.

use melding_domain::{Party, ResourceType, SelfIdentified};
use melding_store::{Organization, Person, RegistryBatch, Resource, SelfIdentifiedUser};

use crate::DynStore;
use crate::fixtures::{org, person};

fn batch() -> RegistryBatch {
    RegistryBatch {
        keep_contacts: Default::default(),
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
            resource_type: ResourceType::CorrespondenceService,
            minimum_authentication_level: 0,
        }],
        roles: vec![],
        self_identified_users: vec![],
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
        keep_contacts: Default::default(),
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
            resource_type: ResourceType::CorrespondenceService,
            minimum_authentication_level: 0,
        }],
        roles: vec![],
        self_identified_users: vec![],
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

/// Every resource type and authentication level comes back as written, and an upsert changes
/// them (migration 0006).
pub async fn resources_round_trip_type_and_authentication_level(store: DynStore) {
    let resource = |id: &str, resource_type: ResourceType, level: u8| Resource {
        id: id.to_owned(),
        owner: org(1),
        service_owner_code: "skd".to_owned(),
        title: format!("Ressurs {id}"),
        confidential: false,
        read_policy: vec![],
        resource_type,
        minimum_authentication_level: level,
    };
    let first: Vec<Resource> = ResourceType::ALL
        .into_iter()
        .zip([0, 2, 3, 4])
        .enumerate()
        .map(|(i, (t, level))| resource(&format!("r{i}"), t, level))
        .collect();
    store
        .upsert_registry(&RegistryBatch {
            organizations: vec![Organization::new(org(1), "Alfa AS")],
            resources: first.clone(),
            ..RegistryBatch::default()
        })
        .await
        .unwrap();
    for r in &first {
        assert_eq!(store.resource(&r.id).await.unwrap().as_ref(), Some(r));
    }
    let changed = resource("r0", ResourceType::BrokerService, 3);
    store
        .upsert_registry(&RegistryBatch {
            resources: vec![changed.clone()],
            ..RegistryBatch::default()
        })
        .await
        .unwrap();
    assert_eq!(store.resource("r0").await.unwrap(), Some(changed));
    assert_eq!(
        store.resource("r1").await.unwrap().as_ref(),
        Some(&first[1])
    );
}

/// Self-identified users are stored by their login, renamed by an upsert, and known to the
/// batched party lookup beside organisations and persons (migration 0006).
pub async fn self_identified_users_round_trip_and_are_known_parties(store: DynStore) {
    let kari = SelfIdentified::idporten_email("kari@example.no").unwrap();
    let ola = SelfIdentified::legacy("ola77").unwrap();
    let stranger = SelfIdentified::idporten_email("ukjent@example.no").unwrap();
    let user = |u: &SelfIdentified, name: &str| SelfIdentifiedUser {
        user: u.clone(),
        name: name.to_owned(),
    };
    assert_eq!(store.self_identified_user(&kari).await.unwrap(), None);
    let mut first = batch();
    first.self_identified_users = vec![user(&kari, "Kari"), user(&ola, "Ola")];
    store.upsert_registry(&first).await.unwrap();
    assert_eq!(
        store.self_identified_user(&kari).await.unwrap(),
        Some(user(&kari, "Kari"))
    );
    assert_eq!(
        store.self_identified_user(&ola).await.unwrap(),
        Some(user(&ola, "Ola"))
    );
    assert_eq!(store.self_identified_user(&stranger).await.unwrap(), None);
    // An e-mail user and a legacy user with the same text are different users.
    let legacy_kari = SelfIdentified::legacy("kari@example.no").unwrap();
    assert_eq!(
        store.self_identified_user(&legacy_kari).await.unwrap(),
        None
    );

    store
        .upsert_registry(&RegistryBatch {
            self_identified_users: vec![user(&kari, "Kari Nordmann")],
            ..RegistryBatch::default()
        })
        .await
        .unwrap();
    assert_eq!(
        store.self_identified_user(&kari).await.unwrap(),
        Some(user(&kari, "Kari Nordmann"))
    );

    let parties = [
        Party::SelfIdentified(stranger.clone()),
        Party::Organization(org(1)),
        Party::SelfIdentified(kari),
        Party::Person(person(2)),
        Party::SelfIdentified(legacy_kari.clone()),
        Party::SelfIdentified(ola),
    ];
    assert_eq!(
        store.unknown_parties(&parties).await.unwrap(),
        [
            Party::SelfIdentified(stranger),
            Party::Person(person(2)),
            Party::SelfIdentified(legacy_kari),
        ]
    );
}
