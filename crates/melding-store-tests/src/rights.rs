//! What reading an organisation's post rests on: sub-units, KRR reservations, read policies,
//! Enhetsregisteret roles and delegated rights with their log.

use std::collections::BTreeSet;
use std::sync::Arc;

use melding_domain::authz::{CONFIDENTIAL_POST, Holdings, ORDINARY_POST, Right};
use melding_domain::{OrgNumber, ResourceType};
use melding_store::{
    DelegationChange, Organization, Person, RegistryBatch, Resource, RoleAssignment, StoreError,
};
use tokio::sync::Barrier;

use crate::DynStore;
use crate::fixtures::{at, org, person};

fn sub_unit(n: u32, parent: u32) -> Organization {
    Organization {
        parent: Some(org(parent)),
        ..Organization::new(org(n), format!("Underenhet {n}"))
    }
}

fn role(o: u32, p: u32, role: &str) -> RoleAssignment {
    RoleAssignment {
        org: org(o),
        person: person(p),
        role: role.to_owned(),
    }
}

fn package(urn: &str) -> Right {
    Right::Package(urn.to_owned())
}

fn change(secs: i64, actor: &str, granted: bool, o: u32, p: u32, right: Right) -> DelegationChange {
    DelegationChange {
        at: at(secs),
        actor: actor.to_owned(),
        granted,
        org: org(o),
        person: person(p),
        right,
    }
}

fn held(roles: &[&str], delegated: &[Right]) -> Holdings {
    Holdings {
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        delegated: delegated.iter().cloned().collect(),
    }
}

/// Organisations `1..=orgs` (no parents) and persons `1..=persons`.
async fn parties(store: &DynStore, orgs: u32, persons: u32) {
    store
        .upsert_registry(&RegistryBatch {
            organizations: (1..=orgs)
                .map(|n| Organization::new(org(n), format!("Org {n}")))
                .collect(),
            persons: (1..=persons)
                .map(|n| Person::new(person(n), format!("Person {n}")))
                .collect(),
            ..RegistryBatch::default()
        })
        .await
        .unwrap();
}

/// The batched KRR lookup finds the reserved among registered persons, in the asked order, and
/// passes over the unreserved and the unknown.
pub async fn reserved_persons_are_found_in_one_lookup(store: DynStore) {
    assert!(store.reserved_persons(&[]).await.unwrap().is_empty());
    let reserved = |n| Person {
        reserved: true,
        ..Person::new(person(n), "Reservert")
    };
    store
        .upsert_registry(&RegistryBatch {
            persons: vec![reserved(1), Person::new(person(2), "Ola"), reserved(3)],
            ..RegistryBatch::default()
        })
        .await
        .unwrap();
    let asked = [person(3), person(2), person(4), person(1)];
    assert_eq!(
        store.reserved_persons(&asked).await.unwrap(),
        [person(3), person(1)]
    );
    // Lifting the reservation shows at once.
    store
        .upsert_registry(&RegistryBatch {
            persons: vec![Person::new(person(3), "Reservert")],
            ..RegistryBatch::default()
        })
        .await
        .unwrap();
    assert_eq!(store.reserved_persons(&asked).await.unwrap(), [person(1)]);
}

pub async fn registry_round_trips_parent_reservation_and_read_policy(store: DynStore) {
    let resource = |policy: Vec<Right>| Resource {
        id: "taushetsbelagt".to_owned(),
        owner: org(1),
        service_owner_code: "nav".to_owned(),
        title: "Vedtak".to_owned(),
        confidential: true,
        read_policy: policy,
        resource_type: ResourceType::CorrespondenceService,
        minimum_authentication_level: 0,
    };
    let first = RegistryBatch {
        keep_contacts: Default::default(),
        organizations: vec![Organization::new(org(1), "Alfa AS"), sub_unit(2, 1)],
        persons: vec![
            Person {
                reserved: true,
                ..Person::new(person(1), "Kari Nordmann")
            },
            Person::new(person(2), "Ola Nordmann"),
        ],
        resources: vec![resource(vec![
            Right::Role("KOMAB".to_owned()),
            package(CONFIDENTIAL_POST),
            package(ORDINARY_POST),
        ])],
        roles: vec![],
        self_identified_users: vec![],
    };
    store.upsert_registry(&first).await.unwrap();
    assert_eq!(
        store.organization(&org(1)).await.unwrap(),
        Some(first.organizations[0].clone())
    );
    let sub = store.organization(&org(2)).await.unwrap().unwrap();
    assert_eq!(sub, first.organizations[1]);
    assert_eq!(sub.parent, Some(org(1)));
    let kari = store.person(&person(1)).await.unwrap().unwrap();
    assert!(kari.reserved);
    assert_eq!(kari, first.persons[0]);
    assert_eq!(
        store.person(&person(2)).await.unwrap(),
        Some(first.persons[1].clone())
    );
    // The policy keeps its order.
    assert_eq!(
        store.resource("taushetsbelagt").await.unwrap(),
        Some(first.resources[0].clone())
    );

    // An update clears what the new entry no longer has.
    let second = RegistryBatch {
        keep_contacts: Default::default(),
        organizations: vec![Organization::new(org(2), "Alfa AS avd. Bergen")],
        persons: vec![Person::new(person(1), "Kari Nordmann")],
        resources: vec![resource(vec![])],
        roles: vec![],
        self_identified_users: vec![],
    };
    store.upsert_registry(&second).await.unwrap();
    assert_eq!(
        store.organization(&org(2)).await.unwrap(),
        Some(second.organizations[0].clone())
    );
    assert_eq!(
        store.person(&person(1)).await.unwrap(),
        Some(second.persons[0].clone())
    );
    assert_eq!(
        store.resource("taushetsbelagt").await.unwrap(),
        Some(second.resources[0].clone())
    );
}

pub async fn imported_roles_are_held_for_exactly_their_org(store: DynStore) {
    // Roles may name parties of the same batch.
    let batch = RegistryBatch {
        keep_contacts: Default::default(),
        organizations: vec![Organization::new(org(1), "Alfa AS"), sub_unit(2, 1)],
        persons: vec![
            Person::new(person(1), "Kari Nordmann"),
            Person::new(person(2), "Ola Nordmann"),
        ],
        resources: vec![],
        roles: vec![role(1, 1, "DAGL"), role(1, 1, "MEDL"), role(2, 2, "LEDE")],
        self_identified_users: vec![],
    };
    store.upsert_registry(&batch).await.unwrap();
    // Importing the same roles again is not an error.
    store.upsert_registry(&batch).await.unwrap();
    assert_eq!(
        store.holdings(&person(1), &org(1)).await.unwrap(),
        held(&["DAGL", "MEDL"], &[])
    );
    assert_eq!(
        store.holdings(&person(2), &org(2)).await.unwrap(),
        held(&["LEDE"], &[])
    );
    // Not the parent's roles for the sub-unit, nor the sub-unit's for the parent, nor anyone
    // else's.
    assert_eq!(
        store.holdings(&person(1), &org(2)).await.unwrap(),
        Holdings::default()
    );
    assert_eq!(
        store.holdings(&person(2), &org(1)).await.unwrap(),
        Holdings::default()
    );
    assert_eq!(
        store.holdings(&person(3), &org(1)).await.unwrap(),
        Holdings::default()
    );

    // A later import adds roles (for parties already registered) and never removes any.
    store
        .upsert_registry(&RegistryBatch {
            roles: vec![role(1, 1, "LEDE")],
            ..RegistryBatch::default()
        })
        .await
        .unwrap();
    assert_eq!(
        store.holdings(&person(1), &org(1)).await.unwrap(),
        held(&["DAGL", "LEDE", "MEDL"], &[])
    );
}

pub async fn a_role_for_an_unknown_party_writes_nothing(store: DynStore) {
    parties(&store, 1, 1).await;
    let resource = Resource {
        id: "ny".to_owned(),
        owner: org(1),
        service_owner_code: "x".to_owned(),
        title: "Ny".to_owned(),
        confidential: false,
        read_policy: vec![],
        resource_type: ResourceType::CorrespondenceService,
        minimum_authentication_level: 0,
    };
    for (who, bad) in [
        ("unknown person", role(1, 9, "DAGL")),
        ("unknown organisation", role(9, 1, "DAGL")),
    ] {
        let batch = RegistryBatch {
            keep_contacts: Default::default(),
            organizations: vec![Organization::new(org(3), "Ny AS")],
            persons: vec![Person::new(person(3), "Ny Person")],
            resources: vec![resource.clone()],
            roles: vec![role(1, 1, "DAGL"), role(3, 3, "LEDE"), bad],
            self_identified_users: vec![],
        };
        let err = store.upsert_registry(&batch).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{who}: {err:?}");
        assert_eq!(store.organization(&org(3)).await.unwrap(), None, "{who}");
        assert_eq!(store.person(&person(3)).await.unwrap(), None, "{who}");
        assert_eq!(store.resource("ny").await.unwrap(), None, "{who}");
        assert_eq!(
            store.holdings(&person(1), &org(1)).await.unwrap(),
            Holdings::default(),
            "{who}"
        );
    }

    // A delegation for a party in neither registry is refused as well, revocations included.
    for c in [
        change(1, "admin:ops", true, 1, 9, package(ORDINARY_POST)),
        change(1, "admin:ops", true, 9, 1, package(ORDINARY_POST)),
        change(1, "admin:ops", false, 9, 1, package(ORDINARY_POST)),
    ] {
        let err = store.change_delegation(&c).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{c:?}: {err:?}");
    }
    assert!(store.delegation_log(&org(1)).await.unwrap().is_empty());
    assert!(store.delegation_log(&org(9)).await.unwrap().is_empty());
    assert!(store.organizations_of(&person(1)).await.unwrap().is_empty());
}

pub async fn delegations_change_once_and_log_every_change(store: DynStore) {
    parties(&store, 2, 2).await;
    let manager = format!("{}{}", melding_domain::recipient::PERSON_URN, person(1));
    let komab = Right::Role("KOMAB".to_owned());
    let steps = [
        (
            change(1, &manager, true, 1, 2, package(ORDINARY_POST)),
            true,
        ),
        // Granting a held right changes nothing.
        (
            change(2, &manager, true, 1, 2, package(ORDINARY_POST)),
            false,
        ),
        (
            change(3, "admin:ops", true, 1, 2, package(CONFIDENTIAL_POST)),
            true,
        ),
        (change(4, &manager, true, 1, 2, komab.clone()), true),
        (
            change(5, &manager, false, 1, 2, package(ORDINARY_POST)),
            true,
        ),
        // Revoking a right not held changes nothing.
        (
            change(6, &manager, false, 1, 2, package(ORDINARY_POST)),
            false,
        ),
        (change(7, &manager, false, 1, 1, komab.clone()), false),
        // Another organisation's delegations are its own.
        (
            change(8, "admin:ops", true, 2, 2, package(ORDINARY_POST)),
            true,
        ),
    ];
    for (c, changed) in &steps {
        assert_eq!(store.change_delegation(c).await.unwrap(), *changed, "{c:?}");
    }
    assert_eq!(
        store.holdings(&person(2), &org(1)).await.unwrap(),
        held(&[], &[package(CONFIDENTIAL_POST), komab.clone()])
    );
    assert_eq!(
        store.holdings(&person(2), &org(2)).await.unwrap(),
        held(&[], &[package(ORDINARY_POST)])
    );
    assert_eq!(
        store.holdings(&person(1), &org(1)).await.unwrap(),
        Holdings::default()
    );

    // Only the real changes, oldest first, with every field.
    let logged = |o: u32| -> Vec<DelegationChange> {
        steps
            .iter()
            .filter(|(c, changed)| *changed && c.org == org(o))
            .map(|(c, _)| c.clone())
            .collect()
    };
    assert_eq!(store.delegation_log(&org(1)).await.unwrap(), logged(1));
    assert_eq!(store.delegation_log(&org(1)).await.unwrap().len(), 4);
    assert_eq!(store.delegation_log(&org(2)).await.unwrap(), logged(2));
    assert!(store.delegation_log(&org(3)).await.unwrap().is_empty());

    // Granted again after a revocation is a change again.
    let again = change(9, &manager, true, 1, 2, package(ORDINARY_POST));
    assert!(store.change_delegation(&again).await.unwrap());
    assert_eq!(
        store.delegation_log(&org(1)).await.unwrap().last(),
        Some(&again)
    );
}

pub async fn organizations_of_lists_held_orgs_and_their_sub_units(store: DynStore) {
    // Main unit ← sub-unit: 1 ← 2, 1 ← 3; 4 ← 5; 6 ← 7; 8 alone; and 3 ← 9, which is listed
    // only for a right in 3 (one level, as in Enhetsregisteret).
    store
        .upsert_registry(&RegistryBatch {
            keep_contacts: Default::default(),
            organizations: vec![
                Organization::new(org(1), "Alfa AS"),
                sub_unit(2, 1),
                sub_unit(3, 1),
                Organization::new(org(4), "Beta AS"),
                sub_unit(5, 4),
                Organization::new(org(6), "Gamma AS"),
                sub_unit(7, 6),
                Organization::new(org(8), "Delta AS"),
                sub_unit(9, 3),
            ],
            persons: (1..=4)
                .map(|n| Person::new(person(n), format!("Person {n}")))
                .collect(),
            resources: vec![],
            roles: vec![
                role(1, 1, "DAGL"),
                role(1, 1, "MEDL"),
                // A role in a sub-unit that is listed anyway.
                role(2, 1, "KONT"),
                // Only the sub-unit: not its parent.
                role(7, 2, "DAGL"),
            ],
            self_identified_users: vec![],
        })
        .await
        .unwrap();
    let grant = |o: u32, p: u32| change(1, "admin:ops", true, o, p, package(ORDINARY_POST));
    assert!(store.change_delegation(&grant(4, 1)).await.unwrap());
    // A delegation where the person also has a role.
    assert!(store.change_delegation(&grant(1, 1)).await.unwrap());

    let sorted = |ns: &[u32]| -> Vec<OrgNumber> {
        let set: BTreeSet<OrgNumber> = ns.iter().map(|n| org(*n)).collect();
        set.into_iter().collect()
    };
    assert_eq!(
        store.organizations_of(&person(1)).await.unwrap(),
        sorted(&[1, 2, 3, 4, 5])
    );
    assert_eq!(
        store.organizations_of(&person(2)).await.unwrap(),
        sorted(&[7])
    );
    assert!(store.organizations_of(&person(3)).await.unwrap().is_empty());

    // A delegation alone brings its organisation and sub-units; revoking it takes them away.
    assert!(store.change_delegation(&grant(6, 3)).await.unwrap());
    assert_eq!(
        store.organizations_of(&person(3)).await.unwrap(),
        sorted(&[6, 7])
    );
    let mut revoke = grant(6, 3);
    revoke.granted = false;
    assert!(store.change_delegation(&revoke).await.unwrap());
    assert!(store.organizations_of(&person(3)).await.unwrap().is_empty());
    assert!(store.organizations_of(&person(4)).await.unwrap().is_empty());
}

pub async fn concurrent_identical_grants_log_one_change(store: DynStore) {
    parties(&store, 1, 1).await;
    let tasks = 8;
    for granted in [true, false] {
        let barrier = Arc::new(Barrier::new(tasks));
        let handles: Vec<_> = (0..tasks)
            .map(|i| {
                let store = store.clone();
                let barrier = barrier.clone();
                let c = change(
                    i64::from(granted),
                    &format!("admin:{i}"),
                    granted,
                    1,
                    1,
                    package(ORDINARY_POST),
                );
                tokio::spawn(async move {
                    barrier.wait().await;
                    store.change_delegation(&c).await.unwrap()
                })
            })
            .collect();
        let mut changed = 0;
        for h in handles {
            changed += usize::from(h.await.unwrap());
        }
        assert_eq!(changed, 1, "granted: {granted}");
    }
    let log = store.delegation_log(&org(1)).await.unwrap();
    assert_eq!(
        log.iter().map(|c| c.granted).collect::<Vec<_>>(),
        [true, false]
    );
    assert_eq!(
        store.holdings(&person(1), &org(1)).await.unwrap(),
        Holdings::default()
    );
}
