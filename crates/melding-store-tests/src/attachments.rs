//! Attachments, their status logs, their links to letters and the guards on appending.

use std::sync::Arc;

use melding_domain::attachment::{AttachmentStatus as A, DataLocationType, StoredFile};
use melding_domain::{
    Attachment, AttachmentId, AttachmentStatusEntry, CorrespondenceId, CorrespondenceStatus,
    ResourceId, StatusEntry,
};
use melding_store::{AppendGuard, AttachmentGuard, AttachmentPurge, NewLink, StoreError};
use tokio::sync::Barrier;

use crate::DynStore;
use crate::fixtures::{at, job, letter, org, person, person_urn, t0};

/// An attachment of org(1)'s resource in state Initialized, created at `t0`.
pub fn attachment(file_name: &str) -> Attachment {
    Attachment {
        id: AttachmentId::new_v7(t0()),
        resource_id: ResourceId::parse("skatt-vedtak").unwrap(),
        sender: org(1),
        file_name: file_name.to_owned(),
        display_name: None,
        is_encrypted: false,
        checksum: None,
        senders_reference: "vedlegg-1".to_owned(),
        expiration_in_days: None,
        data_location_type: DataLocationType::AltinnCorrespondenceAttachment,
        file: None,
        created: t0(),
        statuses: vec![AttachmentStatusEntry::new(A::Initialized, t0())],
        correspondence_ids: vec![],
    }
}

fn file(key: &str) -> StoredFile {
    StoredFile {
        storage_key: key.to_owned(),
        size: 5_000_000_123,
        checksum: "9e107d9d372bb6826bd81d3542a419d6".to_owned(),
        crc32: 0xfedc_ba98,
    }
}

pub async fn attachment_round_trips_with_every_field(store: DynStore) {
    let mut a = attachment("Vedtak «2026».pdf");
    a.display_name = Some("Vedtak".to_owned());
    a.is_encrypted = true;
    a.checksum = Some("00112233445566778899aabbccddeeff".to_owned());
    a.expiration_in_days = Some(30);
    a.data_location_type = DataLocationType::ExternalStorage;
    store.insert_attachment(&a, &[]).await.unwrap();
    assert_eq!(store.attachment(a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(
        store.attachment(AttachmentId::new_v7(at(1))).await.unwrap(),
        None
    );
}

pub async fn upload_records_the_file_with_its_status(store: DynStore) {
    let a = attachment("a.pdf");
    store.insert_attachment(&a, &[]).await.unwrap();
    let entry = AttachmentStatusEntry::new(A::Published, at(2)).with_text("Bypassed malware scan");
    let written = store
        .append_attachment_status(
            a.id,
            &entry,
            AttachmentGuard::Always,
            Some(&file("k1")),
            &[job("settled", at(2))],
        )
        .await
        .unwrap();
    assert!(written);
    let back = store.attachment(a.id).await.unwrap().unwrap();
    assert_eq!(back.file, Some(file("k1")));
    // The computed checksum is the attachment's checksum from now on.
    assert_eq!(back.checksum.as_deref(), Some(file("k1").checksum.as_str()));
    assert_eq!(back.statuses.len(), 2);
    assert_eq!(back.status(), A::Published);
    assert_eq!(back.current().unwrap().text, "Bypassed malware scan");
    assert_eq!(store.job_counts(at(3)).await.unwrap().queued, 1);
}

pub async fn attachment_guards_block_repeats_and_linked(store: DynStore) {
    let a = attachment("a.pdf");
    store.insert_attachment(&a, &[]).await.unwrap();
    let processing = AttachmentStatusEntry::new(A::UploadProcessing, at(1));
    let once = AttachmentGuard::UnlinkedUnlessEver(vec![A::UploadProcessing]);
    let j = [job("blocked-job", at(1))];
    assert!(
        store
            .append_attachment_status(a.id, &processing, once.clone(), None, &[])
            .await
            .unwrap()
    );
    assert!(
        !store
            .append_attachment_status(a.id, &processing, once, None, &j)
            .await
            .unwrap()
    );
    // A linked attachment refuses an unlinked-only append, but not a plain one.
    let b = attachment("b.pdf");
    let c = letter("skatt-vedtak", &org(1), &person_urn(&person(1)), t0());
    let link = NewLink {
        correspondence_id: c.id,
        attachment_id: b.id,
        expiration_time: None,
    };
    store
        .insert_letters(
            std::slice::from_ref(&c),
            std::slice::from_ref(&b),
            &[link],
            &[],
        )
        .await
        .unwrap();
    let purged = AttachmentStatusEntry::new(A::Purged, at(2));
    assert!(
        !store
            .append_attachment_status(
                b.id,
                &purged,
                AttachmentGuard::UnlinkedUnlessEver(vec![A::Purged]),
                None,
                &j
            )
            .await
            .unwrap()
    );
    assert!(
        store
            .append_attachment_status(
                b.id,
                &purged,
                AttachmentGuard::UnlessEver(vec![A::Purged]),
                None,
                &[]
            )
            .await
            .unwrap()
    );
    // Refused appends enqueued nothing.
    assert_eq!(store.job_counts(at(3)).await.unwrap().queued, 0);
    let missing = store
        .append_attachment_status(
            AttachmentId::new_v7(at(9)),
            &purged,
            AttachmentGuard::Always,
            None,
            &[],
        )
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
}

pub async fn letters_link_new_and_existing_attachments_in_order(store: DynStore) {
    let shared = attachment("shared.pdf");
    store.insert_attachment(&shared, &[]).await.unwrap();
    let new = attachment("new.txt");
    let letters = [
        letter("skatt-vedtak", &org(1), &person_urn(&person(1)), t0()),
        letter("skatt-vedtak", &org(1), &person_urn(&person(2)), t0()),
    ];
    let mut links = vec![];
    for c in &letters {
        links.push(NewLink {
            correspondence_id: c.id,
            attachment_id: new.id,
            expiration_time: Some(at(86_400)),
        });
        links.push(NewLink {
            correspondence_id: c.id,
            attachment_id: shared.id,
            expiration_time: None,
        });
    }
    store
        .insert_letters(&letters, std::slice::from_ref(&new), &links, &[])
        .await
        .unwrap();
    for c in &letters {
        let of = store.attachments_of(c.id).await.unwrap();
        let names: Vec<&str> = of.iter().map(|l| l.attachment.file_name.as_str()).collect();
        assert_eq!(names, ["new.txt", "shared.pdf"]);
        assert_eq!(of[0].expiration_time, Some(at(86_400)));
        assert_eq!(of[1].expiration_time, None);
    }
    let mut ids = vec![letters[0].id, letters[1].id];
    ids.sort();
    let back = store.attachment(shared.id).await.unwrap().unwrap();
    assert_eq!(back.correspondence_ids, ids);
    // A stored letter without links has none.
    let lonely = letter("skatt-vedtak", &org(1), &person_urn(&person(3)), t0());
    store
        .insert_correspondences(std::slice::from_ref(&lonely), &[])
        .await
        .unwrap();
    assert!(store.correspondence(lonely.id).await.unwrap().is_some());
    assert!(store.attachments_of(lonely.id).await.unwrap().is_empty());
}

pub async fn a_link_to_a_missing_attachment_writes_nothing(store: DynStore) {
    let c = letter("skatt-vedtak", &org(1), &person_urn(&person(1)), t0());
    let link = NewLink {
        correspondence_id: c.id,
        attachment_id: AttachmentId::new_v7(at(5)),
        expiration_time: None,
    };
    let e = store
        .insert_letters(std::slice::from_ref(&c), &[], &[link], &[job("j", t0())])
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound), "{e:?}");
    assert_eq!(store.correspondence(c.id).await.unwrap(), None);
    assert_eq!(store.job_counts(at(1)).await.unwrap().queued, 0);
}

pub async fn concurrent_uploads_start_once(store: DynStore) {
    let a = attachment("a.pdf");
    store.insert_attachment(&a, &[]).await.unwrap();
    let n = 8;
    let barrier = Arc::new(Barrier::new(n));
    let mut tasks = vec![];
    for i in 0..n {
        let (store, barrier, id) = (store.clone(), barrier.clone(), a.id);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let entry = AttachmentStatusEntry::new(A::UploadProcessing, at(i as i64));
            store
                .append_attachment_status(
                    id,
                    &entry,
                    AttachmentGuard::UnlinkedUnlessEver(vec![A::UploadProcessing]),
                    None,
                    &[],
                )
                .await
                .unwrap()
        }));
    }
    let mut written = 0;
    for t in tasks {
        written += usize::from(t.await.unwrap());
    }
    assert_eq!(written, 1);
    let back = store.attachment(a.id).await.unwrap().unwrap();
    assert_eq!(back.statuses.len(), 2);
}

/// The purge of `a` with a letter, with one job of its own.
fn purge_of(a: &Attachment) -> AttachmentPurge {
    AttachmentPurge {
        attachment_id: a.id,
        entry: AttachmentStatusEntry::new(A::Purged, at(10))
            .with_text("Attachment has been purged"),
        jobs: vec![job(&format!("delete-blob:{}", a.id), at(10))],
    }
}

async fn purge_letter(
    store: &DynStore,
    id: CorrespondenceId,
    attachments: &[AttachmentPurge],
) -> Result<bool, StoreError> {
    let entry = StatusEntry::new(
        CorrespondenceStatus::PurgedByRecipient,
        at(10),
        Some(person_urn(&person(1))),
    );
    let guard = AppendGuard::UnlessAny(vec![
        CorrespondenceStatus::PurgedByAltinn,
        CorrespondenceStatus::PurgedByRecipient,
    ]);
    store
        .purge_correspondence(
            id,
            &entry,
            guard,
            &[job(&format!("purged:{id}"), at(10))],
            attachments,
        )
        .await
}

pub async fn purging_a_letter_purges_the_attachments_no_live_letter_uses(store: DynStore) {
    let own = attachment("own.pdf");
    let shared = attachment("shared.pdf");
    let mut ended = attachment("ended.pdf");
    ended
        .statuses
        .push(AttachmentStatusEntry::new(A::Expired, at(1)));
    let letters = [
        letter("skatt-vedtak", &org(1), &person_urn(&person(1)), t0()),
        letter("skatt-vedtak", &org(1), &person_urn(&person(2)), t0()),
    ];
    let link = |c: usize, a: &Attachment| NewLink {
        correspondence_id: letters[c].id,
        attachment_id: a.id,
        expiration_time: None,
    };
    let links = [
        link(0, &own),
        link(0, &shared),
        link(0, &ended),
        link(1, &shared),
    ];
    store
        .insert_letters(
            &letters,
            &[own.clone(), shared.clone(), ended.clone()],
            &links,
            &[],
        )
        .await
        .unwrap();
    let all = [purge_of(&own), purge_of(&shared), purge_of(&ended)];
    assert!(purge_letter(&store, letters[0].id, &all).await.unwrap());
    // Read right after the purge: the letter's own attachment is Purged already.
    let back = store.attachment(own.id).await.unwrap().unwrap();
    assert_eq!(back.status(), A::Purged);
    assert_eq!(back.current().unwrap().text, "Attachment has been purged");
    assert_eq!(back.current().unwrap().at, at(10));
    // The other letter still uses the shared one; an expired one stays expired.
    let back = store.attachment(shared.id).await.unwrap().unwrap();
    assert_eq!(back.status(), A::Initialized);
    let back = store.attachment(ended.id).await.unwrap().unwrap();
    assert_eq!(back.statuses, ended.statuses);
    let c = store.correspondence(letters[0].id).await.unwrap().unwrap();
    assert!(c.statuses.is_purged());
    // The letter's job and the purged attachment's job, nothing for the others.
    assert_eq!(store.job_counts(at(11)).await.unwrap().queued, 2);
    // A repeat is refused by the guard and writes nothing.
    assert!(!purge_letter(&store, letters[0].id, &all).await.unwrap());
    assert_eq!(store.job_counts(at(11)).await.unwrap().queued, 2);
    // The last letter using the shared attachment is purged: now it is purged too.
    assert!(
        purge_letter(&store, letters[1].id, &[purge_of(&shared)])
            .await
            .unwrap()
    );
    let back = store.attachment(shared.id).await.unwrap().unwrap();
    assert_eq!(back.status(), A::Purged);
    assert_eq!(back.statuses.len(), 2);
    assert_eq!(store.job_counts(at(11)).await.unwrap().queued, 4);
    let missing = purge_letter(&store, CorrespondenceId::new_v7(at(3)), &[]).await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
}

pub async fn concurrent_purges_of_letters_sharing_an_attachment_purge_it_once(store: DynStore) {
    let n = 6;
    let shared = attachment("shared.pdf");
    let letters: Vec<_> = (0..n)
        .map(|i| letter("skatt-vedtak", &org(1), &person_urn(&person(i)), t0()))
        .collect();
    let links: Vec<NewLink> = letters
        .iter()
        .map(|c| NewLink {
            correspondence_id: c.id,
            attachment_id: shared.id,
            expiration_time: None,
        })
        .collect();
    store
        .insert_letters(&letters, std::slice::from_ref(&shared), &links, &[])
        .await
        .unwrap();
    let barrier = Arc::new(Barrier::new(letters.len()));
    let mut tasks = vec![];
    for c in &letters {
        let (store, barrier, id, purge) = (store.clone(), barrier.clone(), c.id, purge_of(&shared));
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            purge_letter(&store, id, &[purge]).await.unwrap()
        }));
    }
    for t in tasks {
        assert!(t.await.unwrap());
    }
    // Whichever purge came last saw every other letter purged: the attachment is purged, once.
    let back = store.attachment(shared.id).await.unwrap().unwrap();
    assert_eq!(back.status(), A::Purged);
    assert_eq!(back.statuses.len(), 2);
}
