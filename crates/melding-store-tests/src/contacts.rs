//! Where parties are reached: postal addresses, KRR entries, an organisation's notification
//! addresses and its own contacts; and the roles registered in an organisation.

use std::sync::Arc;

use melding_store::{
    ContactChange, ContactOutcome, KrrContact, MAX_ORG_CONTACTS, OrgContact, Organization, Person,
    PostalAddress, RegistryBatch, RoleAssignment, StoreError,
};
use tokio::sync::Barrier;

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

fn e_mail_contact(address: &str) -> OrgContact {
    OrgContact {
        email: Some(address.to_owned()),
        ..OrgContact::default()
    }
}

pub async fn contact_changes_apply_each_change_and_keep_the_rest(store: DynStore) {
    let imported = e_mail_contact("post@alfa.no");
    store
        .upsert_registry(&RegistryBatch {
            organizations: vec![Organization {
                notification_emails: vec!["varsel@alfa.no".to_owned()],
                contacts: vec![imported.clone()],
                ..Organization::new(org(1), "Alfa AS")
            }],
            ..RegistryBatch::default()
        })
        .await
        .unwrap();
    let change = |c: ContactChange| {
        let store = store.clone();
        async move { store.change_contacts(&org(1), &c).await.unwrap() }
    };
    let read = || async { store.organization(&org(1)).await.unwrap().unwrap() };

    // The official addresses are replaced; the contacts stay.
    let addresses = ContactChange::NotificationAddresses {
        emails: vec!["ny@alfa.no".to_owned()],
        mobiles: vec!["+4791234567".to_owned()],
    };
    assert_eq!(change(addresses.clone()).await, ContactOutcome::Changed);
    assert_eq!(change(addresses).await, ContactOutcome::Unchanged);
    let o = read().await;
    assert_eq!(o.notification_emails, ["ny@alfa.no"]);
    assert_eq!(o.notification_mobiles, ["+4791234567"]);
    assert_eq!(o.contacts, std::slice::from_ref(&imported));

    // A person's own contact: set, replaced in its place, removed; the others stay.
    let own = |email: &str| ContactChange::OwnContact {
        person: person(1),
        contact: Some(e_mail_contact(email)),
    };
    let mine = |email: &str| OrgContact {
        person: Some(person(1)),
        ..e_mail_contact(email)
    };
    assert_eq!(change(own("kari@alfa.no")).await, ContactOutcome::Changed);
    let other = e_mail_contact("regnskap@alfa.no");
    assert_eq!(
        change(ContactChange::AddContact(other.clone())).await,
        ContactOutcome::Changed
    );
    assert_eq!(
        change(ContactChange::AddContact(other.clone())).await,
        ContactOutcome::Unchanged
    );
    assert_eq!(change(own("kari.n@alfa.no")).await, ContactOutcome::Changed);
    assert_eq!(
        read().await.contacts,
        [imported.clone(), mine("kari.n@alfa.no"), other.clone()]
    );
    let remove_own = ContactChange::OwnContact {
        person: person(1),
        contact: None,
    };
    assert_eq!(change(remove_own.clone()).await, ContactOutcome::Changed);
    assert_eq!(change(remove_own).await, ContactOutcome::Unchanged);
    assert_eq!(
        change(ContactChange::RemoveContact(imported.clone())).await,
        ContactOutcome::Changed
    );
    assert_eq!(
        change(ContactChange::RemoveContact(imported)).await,
        ContactOutcome::Unchanged
    );
    let o = read().await;
    assert_eq!(o.contacts, [other]);
    assert_eq!(o.notification_emails, ["ny@alfa.no"], "the addresses stay");

    // The list holds at most MAX_ORG_CONTACTS: the next one is refused and nothing is written,
    // while a person's contact that replaces their own still may change.
    for i in 1..MAX_ORG_CONTACTS - 1 {
        let c = e_mail_contact(&format!("k{i}@alfa.no"));
        assert_eq!(
            change(ContactChange::AddContact(c)).await,
            ContactOutcome::Changed
        );
    }
    assert_eq!(change(own("kari@alfa.no")).await, ContactOutcome::Changed);
    assert_eq!(read().await.contacts.len(), MAX_ORG_CONTACTS);
    let before = read().await;
    assert_eq!(
        change(ContactChange::AddContact(e_mail_contact("full@alfa.no"))).await,
        ContactOutcome::Full
    );
    let someone_else = ContactChange::OwnContact {
        person: person(2),
        contact: Some(e_mail_contact("per@alfa.no")),
    };
    assert_eq!(change(someone_else).await, ContactOutcome::Full);
    assert_eq!(read().await, before);
    assert_eq!(change(own("kari@alfa.no")).await, ContactOutcome::Unchanged);
    assert_eq!(change(own("kari2@alfa.no")).await, ContactOutcome::Changed);

    // An organisation not registered.
    assert!(matches!(
        store
            .change_contacts(
                &org(9),
                &ContactChange::AddContact(e_mail_contact("x@y.no"))
            )
            .await,
        Err(StoreError::NotFound)
    ));
}

pub async fn concurrent_contact_changes_all_take_effect(store: DynStore) {
    store
        .upsert_registry(&RegistryBatch {
            organizations: vec![Organization::new(org(1), "Alfa AS")],
            ..RegistryBatch::default()
        })
        .await
        .unwrap();
    // Each change reads the list and writes it back: without the store's one transaction per
    // change, some of these would overwrite the others.
    let tasks = 10;
    let barrier = Arc::new(Barrier::new(tasks));
    let handles: Vec<_> = (0..tasks)
        .map(|i| {
            let store = store.clone();
            let barrier = barrier.clone();
            let change = ContactChange::OwnContact {
                person: person(u32::try_from(i).unwrap() + 1),
                contact: Some(e_mail_contact(&format!("p{i}@alfa.no"))),
            };
            tokio::spawn(async move {
                barrier.wait().await;
                store.change_contacts(&org(1), &change).await.unwrap()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.await.unwrap(), ContactOutcome::Changed);
    }
    let mut emails: Vec<String> = store
        .organization(&org(1))
        .await
        .unwrap()
        .unwrap()
        .contacts
        .into_iter()
        .filter_map(|c| c.email)
        .collect();
    emails.sort();
    let mut expected: Vec<String> = (0..tasks).map(|i| format!("p{i}@alfa.no")).collect();
    expected.sort();
    assert_eq!(emails, expected);
}

pub async fn an_upsert_may_keep_the_stored_contacts(store: DynStore) {
    let with = |contacts: Vec<OrgContact>, name: &str| Organization {
        notification_emails: vec![format!("{name}@alfa.no")],
        contacts,
        ..Organization::new(org(1), name)
    };
    let kept = vec![e_mail_contact("kari@alfa.no")];
    store
        .upsert_registry(&RegistryBatch {
            organizations: vec![with(kept.clone(), "alfa")],
            ..RegistryBatch::default()
        })
        .await
        .unwrap();
    // Kept: the rest of the entry is updated, the contacts are not; a new organisation in the
    // same batch gets the entry's list.
    store
        .upsert_registry(&RegistryBatch {
            organizations: vec![
                with(vec![], "beta"),
                Organization {
                    contacts: vec![e_mail_contact("ny@gamma.no")],
                    ..Organization::new(org(2), "Gamma AS")
                },
            ],
            keep_contacts: [org(1), org(2)].into(),
            ..RegistryBatch::default()
        })
        .await
        .unwrap();
    let o = store.organization(&org(1)).await.unwrap().unwrap();
    assert_eq!(o.name, "beta");
    assert_eq!(o.notification_emails, ["beta@alfa.no"]);
    assert_eq!(o.contacts, kept);
    let new = store.organization(&org(2)).await.unwrap().unwrap();
    assert_eq!(new.contacts, [e_mail_contact("ny@gamma.no")]);
    // Not kept: replaced.
    store
        .upsert_registry(&RegistryBatch {
            organizations: vec![with(vec![], "alfa")],
            ..RegistryBatch::default()
        })
        .await
        .unwrap();
    assert!(
        store
            .organization(&org(1))
            .await
            .unwrap()
            .unwrap()
            .contacts
            .is_empty()
    );
}
