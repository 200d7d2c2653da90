//! Where parties are reached: postal addresses, KRR entries, an organisation's notification
//! addresses and its own contacts; and the roles registered in an organisation.

use melding_store::{
    KrrContact, MAX_ORG_CONTACTS, OrgContact, Organization, Person, PostalAddress, RegistryBatch,
    RoleAssignment,
};

use crate::DynStore;
use crate::fixtures::{at, org, person};

fn address(city: &str, country: Option<&str>) -> PostalAddress {
    PostalAddress {
        lines: vec!["Storgata 1".to_owned(), "c/o Nordmann".to_owned()],
        postal_code: "0155".to_owned(),
        city: city.to_owned(),
        country: country.map(str::to_owned),
        protected: false,
    }
}

pub async fn registry_round_trips_addresses_and_contacts(store: DynStore) {
    let full_krr = KrrContact {
        email: Some("kari@example.no".to_owned()),
        // With microseconds, which both backends keep.
        email_updated: Some(at(10)),
        email_verified: Some(at(11)),
        mobile: Some("+4799999999".to_owned()),
        mobile_updated: Some(at(12)),
        mobile_verified: Some(at(13)),
        mailbox_provider: Some("digipost".to_owned()),
        mailbox_address: Some("kari.nordmann#1234".to_owned()),
    };
    let contacts: Vec<OrgContact> = (0..MAX_ORG_CONTACTS)
        .map(|i| OrgContact {
            person: None,
            email: (i % 2 == 0).then(|| format!("post{i}@alfa.no")),
            mobile: (i % 3 == 0).then(|| format!("+479000000{i:02}")),
            resources: if i % 4 == 0 {
                vec![]
            } else {
                vec![format!("ressurs-{i}"), "skatt".to_owned()]
            },
        })
        .collect();
    let first = RegistryBatch {
        organizations: vec![
            Organization {
                address: Some(address("Oslo", None)),
                notification_emails: vec!["varsel@alfa.no".to_owned(), "post@alfa.no".to_owned()],
                notification_mobiles: vec!["+4791234567".to_owned()],
                contacts,
                ..Organization::new(org(1), "Alfa AS")
            },
            Organization::new(org(2), "Beta AS"),
        ],
        persons: vec![
            Person {
                address: Some(address("Stockholm", Some("SE"))),
                krr: Some(full_krr),
                ..Person::new(person(1), "Kari Nordmann")
            },
            // A KRR entry with only a mobile number.
            Person {
                krr: Some(KrrContact {
                    mobile: Some("+4741234567".to_owned()),
                    ..KrrContact::default()
                }),
                ..Person::new(person(2), "Ola Nordmann")
            },
            Person::new(person(3), "Per Hansen"),
        ],
        ..RegistryBatch::default()
    };
    store.upsert_registry(&first).await.unwrap();
    for o in &first.organizations {
        assert_eq!(
            store.organization(&o.org_number).await.unwrap().as_ref(),
            Some(o)
        );
    }
    for p in &first.persons {
        assert_eq!(
            store.person(&p.national_id).await.unwrap().as_ref(),
            Some(p)
        );
    }

    // An update clears what the new entry no longer has, and sets what it newly has.
    let second = RegistryBatch {
        organizations: vec![
            Organization::new(org(1), "Alfa AS"),
            Organization {
                contacts: vec![OrgContact {
                    email: Some("beta@example.no".to_owned()),
                    ..OrgContact::default()
                }],
                ..Organization::new(org(2), "Beta AS")
            },
        ],
        persons: vec![
            Person::new(person(1), "Kari Nordmann"),
            Person {
                address: Some(address("Bergen", None)),
                ..Person::new(person(2), "Ola Nordmann")
            },
        ],
        ..RegistryBatch::default()
    };
    store.upsert_registry(&second).await.unwrap();
    for o in &second.organizations {
        assert_eq!(
            store.organization(&o.org_number).await.unwrap().as_ref(),
            Some(o)
        );
    }
    for p in &second.persons {
        assert_eq!(
            store.person(&p.national_id).await.unwrap().as_ref(),
            Some(p)
        );
    }
    // Untouched by the second batch.
    assert_eq!(
        store.person(&person(3)).await.unwrap().as_ref(),
        Some(&first.persons[2])
    );
}

pub async fn organization_roles_lists_exactly_that_orgs_roles(store: DynStore) {
    let role = |o: u32, p: u32, role: &str| RoleAssignment {
        org: org(o),
        person: person(p),
        role: role.to_owned(),
    };
    store
        .upsert_registry(&RegistryBatch {
            organizations: vec![
                Organization::new(org(1), "Alfa AS"),
                Organization {
                    parent: Some(org(1)),
                    ..Organization::new(org(2), "Alfa AS avd. Bergen")
                },
                Organization::new(org(3), "Beta AS"),
            ],
            persons: (1..=3)
                .map(|n| Person::new(person(n), format!("Person {n}")))
                .collect(),
            roles: vec![
                role(1, 2, "MEDL"),
                role(1, 1, "DAGL"),
                role(1, 1, "LEDE"),
                // The sub-unit's and another organisation's roles are their own.
                role(2, 3, "DAGL"),
                role(3, 1, "DAGL"),
            ],
            ..RegistryBatch::default()
        })
        .await
        .unwrap();
    let mut expected = vec![role(1, 1, "DAGL"), role(1, 1, "LEDE"), role(1, 2, "MEDL")];
    expected.sort_by(|a, b| (a.person.as_str(), &a.role).cmp(&(b.person.as_str(), &b.role)));
    assert_eq!(store.organization_roles(&org(1)).await.unwrap(), expected);
    assert_eq!(
        store.organization_roles(&org(2)).await.unwrap(),
        [role(2, 3, "DAGL")]
    );
    assert_eq!(
        store.organization_roles(&org(3)).await.unwrap(),
        [role(3, 1, "DAGL")]
    );
    // No roles, and an organisation not registered at all.
    store
        .upsert_registry(&RegistryBatch {
            organizations: vec![Organization::new(org(4), "Gamma AS")],
            ..RegistryBatch::default()
        })
        .await
        .unwrap();
    assert!(store.organization_roles(&org(4)).await.unwrap().is_empty());
    assert!(store.organization_roles(&org(5)).await.unwrap().is_empty());
}
