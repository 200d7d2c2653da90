//! Schema upgrades: a database that holds data written under the first migration's schema
//! (registry entries, a published letter with its history, a queued and a dead job) is opened by
//! today's store, which migrates it to the newest schema, and everything reads back whole; the
//! upgraded database then takes new writes, notification orders (migration 0007) among them.
//! Run on SQLite and on PostgreSQL.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use melding_domain::authz::Holdings;
use melding_domain::correspondence::{ExternalReference, ReferenceType, ReplyOption};
use melding_domain::{CorrespondenceId, CorrespondenceStatus, NationalId, OrgNumber, StatusEntry};
use melding_store::{AppendGuard, SearchQuery, SearchRole};
use melding_store_tests::DynStore;
use sqlx::migrate::Migrator;
use sqlx::{AssertSqlSafe, Connection};

const LETTER: &str = "0198c2a1-0000-7000-8000-000000000001";
const KEY: &str = "5a1d1a6e-3c0e-4e55-9b0b-0a0f2b6c2a11";
const SENDER: &str = "991825827";
const RECIPIENT_ORG: &str = "310394955";
const PERSON: &str = "08089403198";
const RESOURCE: &str = "kommunepost";

/// When the old data was written: 2026-03-02 09:00:00.123456 UTC.
fn t(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
        + chrono::Duration::microseconds(123_456)
        + chrono::Duration::seconds(seconds)
}

/// A migrator holding only the first migration of `store_crate` (the same file, so the full
/// migrator later recognises it as applied by its checksum).
async fn first_migration(store_crate: &str, scratch: &Path) -> Migrator {
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(store_crate)
        .join("migrations");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&source)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    assert!(
        files.len() > 1,
        "{store_crate} has one migration only; nothing to upgrade"
    );
    let dir = scratch.join("first-migration");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(&files[0], dir.join(files[0].file_name().unwrap())).unwrap();
    let migrator = Migrator::new(dir.as_path()).await.unwrap();
    assert_eq!(migrator.iter().count(), 1);
    migrator
}

/// The old rows, in the first schema's SQL; `time` renders a time as that backend stores it.
fn old_rows(time: impl Fn(DateTime<Utc>) -> String, boolean: impl Fn(bool) -> String) -> String {
    let (f, tr) = (boolean(false), boolean(true));
    format!(
        "
        INSERT INTO organizations (org_number, name) VALUES
            ('{SENDER}', 'Digitaliseringsdirektoratet'), ('{RECIPIENT_ORG}', 'BYGG OG ANLEGG AS');
        INSERT INTO persons (national_id, name) VALUES ('{PERSON}', 'OLA NORDMANN');
        INSERT INTO resources (id, owner, service_owner_code, title, confidential)
            VALUES ('{RESOURCE}', '{SENDER}', 'digdir', 'Post fra kommunen', {f});
        INSERT INTO correspondences (id, resource_id, recipient, sender, senders_reference,
            message_sender, language, title, summary, body, requested_publish_time,
            due_date_time, external_references, property_list, reply_options,
            ignore_reservation, is_confirmation_needed, is_confidential, allow_forwarding,
            idempotent_key, created, published, last_status)
        VALUES ('{LETTER}', '{RESOURCE}', 'urn:altinn:person:identifier-no:{PERSON}', '{SENDER}',
            'sak-2026-1', 'Kommunen', 'nb', 'Vedtak om byggesøknad', 'Søknaden er behandlet',
            '# Vedtak', {publish}, {due},
            '[{{\"value\": \"d-1\", \"kind\": \"DialogportenDialogId\"}}]',
            '{{\"saksnr\": \"2026/1\"}}',
            '[{{\"url\": \"https://kommune.example.no/svar\", \"text\": \"Svar\"}}]',
            NULL, {tr}, {f}, {tr}, '{KEY}', {created}, {published}, 2);
        INSERT INTO correspondence_statuses (correspondence_id, status, status_text, changed_at, party)
        VALUES ('{LETTER}', 0, 'Initialized', {created}, NULL),
               ('{LETTER}', 1, 'ReadyForPublish', {created}, NULL),
               ('{LETTER}', 2, 'Published', {published}, NULL);
        INSERT INTO jobs (kind, dedupe_key, correspondence_id, run_at, max_attempts, payload,
            created_at)
        VALUES ('expire', 'expire:{LETTER}', '{LETTER}', {due}, 10, '{{\"n\": 1}}', {created});
        INSERT INTO dead_jobs (id, kind, dedupe_key, correspondence_id, run_at, attempts,
            max_attempts, payload, last_error, created_at, died_at)
        VALUES (41, 'publish', 'publish:old', NULL, {created}, 10, 10, '{{}}', 'gave up',
            {created}, {published});
        ",
        created = time(t(0)),
        publish = time(t(10)),
        published = time(t(11)),
        due = time(t(86_400)),
    )
}

/// Reads the old data back through today's store, then writes to the upgraded schema.
async fn everything_reads_back(store: DynStore) {
    let id: CorrespondenceId = LETTER.parse().unwrap();
    let letter = store
        .correspondence(id)
        .await
        .unwrap()
        .expect("the old letter");
    let s = &letter.settings;
    assert_eq!(
        letter.recipient.urn(),
        format!("urn:altinn:person:identifier-no:{PERSON}")
    );
    assert_eq!(s.resource_id.as_str(), RESOURCE);
    assert_eq!(s.sender.as_str(), SENDER);
    assert_eq!(s.senders_reference, "sak-2026-1");
    assert_eq!(s.message_sender.as_deref(), Some("Kommunen"));
    assert_eq!(s.content.title, "Vedtak om byggesøknad");
    assert_eq!(s.content.summary, "Søknaden er behandlet");
    assert_eq!(s.content.body, "# Vedtak");
    assert_eq!(s.requested_publish_time, t(10));
    assert_eq!(s.due_date_time, Some(t(86_400)));
    assert_eq!(
        s.external_references,
        [ExternalReference {
            value: "d-1".into(),
            kind: ReferenceType::DialogportenDialogId
        }]
    );
    assert_eq!(s.property_list["saksnr"], "2026/1");
    assert_eq!(
        s.reply_options,
        [ReplyOption {
            url: "https://kommune.example.no/svar".into(),
            text: Some("Svar".into())
        }]
    );
    assert_eq!(s.ignore_reservation, None);
    assert!(s.is_confirmation_needed && !s.is_confidential && s.allow_forwarding);
    assert_eq!(letter.idempotent_key, Some(KEY.parse().unwrap()));
    assert_eq!(letter.created, t(0));
    assert_eq!(letter.published, Some(t(11)));
    let history: Vec<_> = letter
        .statuses
        .entries()
        .iter()
        .map(|e| (e.status, e.at))
        .collect();
    assert_eq!(
        history,
        [
            (CorrespondenceStatus::Initialized, t(0)),
            (CorrespondenceStatus::ReadyForPublish, t(0)),
            (CorrespondenceStatus::Published, t(11)),
        ]
    );
    assert_eq!(
        store
            .find_by_idempotent_key(KEY.parse().unwrap())
            .await
            .unwrap(),
        Some(id)
    );
    let page = store
        .search(&SearchQuery {
            resource_id: RESOURCE.into(),
            role: SearchRole::Recipient,
            party_urn: format!("urn:altinn:person:identifier-no:{PERSON}"),
            sender_org: None,
            from: None,
            to: None,
            status: None,
            senders_reference: None,
            limit: 10,
            after: None,
        })
        .await
        .unwrap();
    assert_eq!(page.ids, [id]);

    // The registry, with the columns later migrations added at their defaults.
    let sender = OrgNumber::parse(SENDER).unwrap();
    let org = store.organization(&sender).await.unwrap().unwrap();
    assert_eq!(org.name, "Digitaliseringsdirektoratet");
    assert_eq!(org.parent, None);
    assert!(org.notification_emails.is_empty() && org.contacts.is_empty());
    let person_id = NationalId::parse(PERSON).unwrap();
    let person = store.person(&person_id).await.unwrap().unwrap();
    assert_eq!(person.name, "OLA NORDMANN");
    assert!(!person.reserved);
    assert_eq!(person.krr, None);
    let resource = store.resource(RESOURCE).await.unwrap().unwrap();
    assert_eq!(resource.title, "Post fra kommunen");
    assert_eq!(resource.owner, sender);
    assert!(!resource.confidential && resource.read_policy.is_empty());
    let recipient_org = OrgNumber::parse(RECIPIENT_ORG).unwrap();
    assert_eq!(
        store.holdings(&person_id, &recipient_org).await.unwrap(),
        Holdings::default()
    );

    // The jobs: the queued one and the dead one.
    let queued = store.list_jobs(false, 10).await.unwrap();
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(queued[0].kind, "expire");
    assert_eq!(queued[0].correspondence_id, Some(id));
    assert_eq!(queued[0].run_at, t(86_400));
    assert_eq!(queued[0].payload, serde_json::json!({"n": 1}));
    let dead = store.list_jobs(true, 10).await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].id, 41);
    assert_eq!(dead[0].last_error.as_deref(), Some("gave up"));

    // The upgraded schema takes new writes beside the old rows.
    let fetched = StatusEntry::new(
        CorrespondenceStatus::Fetched,
        t(100),
        Some(format!("urn:altinn:person:identifier-no:{PERSON}")),
    );
    assert!(
        store
            .append_status(id, &fetched, AppendGuard::Always, &[])
            .await
            .unwrap()
    );
    let letter = store.correspondence(id).await.unwrap().unwrap();
    assert_eq!(letter.statuses.entries().len(), 4);
    let mut registry = melding_store::RegistryBatch::default();
    let mut sub = melding_store::Organization::new(
        OrgNumber::parse("974760673").unwrap(),
        "BYGG OG ANLEGG AS AVD BERGEN",
    );
    sub.parent = Some(recipient_org.clone());
    registry.organizations.push(sub.clone());
    store.upsert_registry(&registry).await.unwrap();
    assert_eq!(
        store
            .organization(&sub.org_number)
            .await
            .unwrap()
            .unwrap()
            .parent,
        Some(recipient_org)
    );

    // Notification orders (migration 0007): the old letter has none; a new letter is written
    // with its order and both read back.
    assert!(store.notification_orders(id).await.unwrap().is_empty());
    let new_letter = melding_store_tests::fixtures::letter(
        RESOURCE,
        &sender,
        &format!("urn:altinn:person:identifier-no:{PERSON}"),
        t(200),
    );
    let party = melding_domain::Party::Person(person_id.clone());
    let order = melding_store_tests::order(
        &new_letter,
        melding_domain::notification::OrderRecipient::Party(party),
        melding_domain::notification::OrderKind::Main,
        t(200),
    );
    store
        .insert_letters_with_orders(
            std::slice::from_ref(&new_letter),
            &[],
            &[],
            std::slice::from_ref(&order),
            &[],
        )
        .await
        .unwrap();
    let orders = store.notification_orders(new_letter.id).await.unwrap();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].order, order);
}

#[tokio::test]
async fn a_sqlite_database_of_the_first_schema_upgrades_with_its_data() {
    use sqlx::sqlite::SqliteConnectOptions;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("melding.db");
    let migrator = first_migration("melding-store-sqlite", dir.path()).await;
    let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
        .unwrap()
        .create_if_missing(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
    migrator.run(&mut conn).await.unwrap();
    let rows = old_rows(
        |at| at.timestamp_micros().to_string(),
        |b| i64::from(b).to_string(),
    );
    sqlx::raw_sql(AssertSqlSafe(rows))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    let store = melding_store_sqlite::SqliteStore::open(&path)
        .await
        .unwrap();
    everything_reads_back(std::sync::Arc::new(store)).await;
}

/// A database of its own on the test server, dropped when the test ends, passed or failed.
struct ThrowawayDatabase {
    admin: String,
    name: String,
}

impl Drop for ThrowawayDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Dropped outside the test's runtime, on a thread with one of its own.
        let _ = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(async {
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                        let _ = sqlx::query(AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .execute(&mut conn)
                        .await;
                    }
                });
        })
        .join();
    }
}

#[tokio::test]
async fn a_postgres_database_of_the_first_schema_upgrades_with_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let migrator = first_migration("melding-store-postgres", dir.path()).await;
    let admin = std::env::var("MELDING_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let name = format!("melding_upgrade_{}", uuid::Uuid::new_v4().simple());
    let mut admin_conn = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is not reachable: {e}"));
    // The name is a fixed prefix and hex digits.
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin_conn)
        .await
        .unwrap();
    admin_conn.close().await.unwrap();
    let _database = ThrowawayDatabase {
        admin: admin.clone(),
        name: name.clone(),
    };
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    let url = format!("{base}/{name}");

    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    migrator.run(&mut conn).await.unwrap();
    let rows = old_rows(
        |at| format!("'{}'::timestamptz", at.to_rfc3339()),
        |b| b.to_string(),
    );
    sqlx::raw_sql(AssertSqlSafe(rows))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let store = melding_store_postgres::PostgresStore::connect(&url)
        .await
        .unwrap();
    everything_reads_back(std::sync::Arc::new(store.clone())).await;
    store.close().await;
}
