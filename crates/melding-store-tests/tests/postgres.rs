//! The conformance suite on PostgreSQL: every test on a database of its own, created for it on
//! the server at `MELDING_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`,
//! a role that may create databases) and dropped afterwards, whether the test passed or not.

use std::future::Future;
use std::sync::Arc;

use melding_domain::{CorrespondenceId, CorrespondenceStatus, StatusEntry};
use melding_store::StoreHealth;
use melding_store::{AppendGuard, CorrespondenceStore, StoreError};
use melding_store_postgres::PostgresStore;
use melding_store_tests::DynStore;
use melding_store_tests::fixtures::{letter, org, person, person_urn, t0};
use sqlx::{AssertSqlSafe, Connection, PgConnection};

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

fn admin_url() -> String {
    std::env::var("MELDING_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned())
}

/// `url` with its database replaced by `database` (query parameters kept).
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

/// A throwaway database on the test server.
struct TestDatabase {
    name: String,
    url: String,
}

impl TestDatabase {
    async fn create() -> Self {
        let name = format!("melding_test_{}", uuid::Uuid::new_v4().simple());
        let admin = admin_url();
        let mut conn = PgConnection::connect(&admin).await.unwrap_or_else(|e| {
            panic!(
                "cannot reach PostgreSQL at {admin} ({e}); start it or set MELDING_TEST_POSTGRES_URL"
            )
        });
        // The name is ours (a prefix and hex digits), not input.
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let _ = conn.close().await;
        let url = with_database(&admin, &name);
        Self { name, url }
    }

    async fn drop_now(self) {
        let mut conn = PgConnection::connect(&admin_url())
            .await
            .expect("connect to drop test database");
        sqlx::query(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&mut conn)
        .await
        .expect("drop test database");
        let _ = conn.close().await;
    }
}

/// Runs `body` with a fresh database's URL, then drops the database and re-raises a failure.
async fn with_database_for<F, Fut>(body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let db = TestDatabase::create().await;
    // A task of its own, so a panic in the test is caught here and the database still dropped.
    let outcome = tokio::spawn(body(db.url.clone())).await;
    db.drop_now().await;
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("test task failed: {e}"),
        }
    }
}

async fn run<F, Fut>(test: F)
where
    F: FnOnce(DynStore) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    with_database_for(|url| async move {
        let store = PostgresStore::connect(&url)
            .await
            .expect("connect to test database");
        test(Arc::new(store.clone())).await;
        store.close().await;
    })
    .await;
}

melding_store_tests::conformance_tests!(run);

// PostgreSQL-only checks.

/// Several nodes starting at once on an empty database: sqlx's migrator serialises them with
/// its advisory lock, every node starts, and each migration is applied once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_starting_together_migrate_once() {
    with_database_for(|url| async move {
        let nodes: Vec<_> = (0..6)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move {
                    let store = PostgresStore::connect(&url).await?;
                    store.ping().await?;
                    Ok::<_, StoreError>(store)
                })
            })
            .collect();
        let mut stores = Vec::new();
        for n in nodes {
            stores.push(n.await.unwrap().expect("every node starts"));
        }
        let mut conn = PgConnection::connect(&url).await.unwrap();
        let applied: Vec<(i64, bool)> =
            sqlx::query_as("SELECT version, success FROM _sqlx_migrations ORDER BY version")
                .fetch_all(&mut conn)
                .await
                .unwrap();
        assert_eq!(
            applied,
            [
                (1, true),
                (2, true),
                (3, true),
                (4, true),
                (5, true),
                (6, true),
                (7, true),
                (8, true),
                (9, true),
                (10, true),
                (11, true),
                (12, true),
                (13, true),
                (14, true)
            ]
        );
        // Nobody is left holding the migration lock.
        let held: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
             WHERE l.locktype = 'advisory' AND d.datname = current_database()",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(held, 0);
        let _ = conn.close().await;
        PostgresStore::migrate(&url)
            .await
            .expect("migrating again is a no-op");
        for s in stores {
            s.close().await;
        }
    })
    .await;
}

/// Appending to a letter that does not exist is NotFound (SQLite reports a failed foreign key).
#[tokio::test]
async fn append_to_unknown_letter_is_not_found() {
    with_database_for(|url| async move {
        let store = PostgresStore::connect(&url).await.unwrap();
        let err = store
            .append_status(
                CorrespondenceId::new_v7(t0()),
                &StatusEntry::new(CorrespondenceStatus::Published, t0(), None),
                AppendGuard::Always,
                &[],
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{err:?}");
        // A letter that exists is appended to as usual.
        let c = letter("r", &org(1), &person_urn(&person(1)), t0());
        store
            .insert_correspondences(std::slice::from_ref(&c), &[])
            .await
            .unwrap();
        assert!(
            store
                .append_status(
                    c.id,
                    &StatusEntry::new(CorrespondenceStatus::Published, t0(), None),
                    AppendGuard::Always,
                    &[],
                )
                .await
                .unwrap()
        );
        store.close().await;
    })
    .await;
}

#[test]
fn test_database_urls_keep_everything_but_the_database() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(
        with_database("postgres://h:5432", "x"),
        "postgres://h:5432/x"
    );
}

/// An unreachable server is Unavailable, not a panic or a hang.
#[tokio::test]
async fn unreachable_server_is_unavailable() {
    let err = PostgresStore::connect("postgres://postgres@127.0.0.1:1/none")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
}

/// A job enqueued through one node's store is announced to another node's listener, so idle
/// runners start at once instead of waiting for their poll.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enqueue_on_one_node_wakes_the_listeners_of_others() {
    with_database_for(|url| async move {
        let listening = PostgresStore::connect(&url).await.unwrap();
        let enqueuing: DynStore = Arc::new(PostgresStore::connect(&url).await.unwrap());
        let mut listener = melding_store::JobStore::job_listener(&listening)
            .await
            .unwrap()
            .expect("PostgreSQL offers a listener");
        melding_store_tests::fixtures::enqueue(
            &enqueuing,
            &[melding_store_tests::fixtures::job("wake", t0())],
        )
        .await;
        tokio::time::timeout(std::time::Duration::from_secs(10), listener.recv())
            .await
            .expect("the notice arrives")
            .unwrap();
    })
    .await;
}

/// README "Durability": a commit is acknowledged only once it is flushed. A server, database or
/// role with `synchronous_commit = off` does not weaken the store's connections.
#[tokio::test]
async fn letter_writes_commit_synchronously_even_when_the_server_says_off() {
    let db = TestDatabase::create().await;
    let name = db.name.clone();
    let url = db.url.clone();
    let outcome = tokio::spawn(async move {
        let store = PostgresStore::connect(&url).await.unwrap();
        assert_ne!(store.synchronous_commit().await.unwrap(), "off");
        store.close().await;

        let mut admin = PgConnection::connect(&admin_url()).await.unwrap();
        // The name is ours (a prefix and hex digits), not input.
        sqlx::query(AssertSqlSafe(format!(
            "ALTER DATABASE {name} SET synchronous_commit = off"
        )))
        .execute(&mut admin)
        .await
        .unwrap();
        let _ = admin.close().await;
        let mut plain = PgConnection::connect(&url).await.unwrap();
        let setting: String = sqlx::query_scalar("SHOW synchronous_commit")
            .fetch_one(&mut plain)
            .await
            .unwrap();
        assert_eq!(setting, "off", "the database now says off");
        let _ = plain.close().await;

        let store = PostgresStore::connect(&url).await.unwrap();
        // The store's connections are switched back to on (each as it is opened).
        assert_eq!(store.synchronous_commit().await.unwrap(), "on");
        // And a letter written through it is stored as usual.
        let c = letter("r", &org(1), &person_urn(&person(1)), t0());
        store
            .insert_correspondences(std::slice::from_ref(&c), &[])
            .await
            .unwrap();
        store.close().await;
    })
    .await;
    db.drop_now().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}
