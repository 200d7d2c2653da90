//! The conformance suite on SQLite: every test on a fresh database file in its own directory.

use std::future::Future;
use std::sync::Arc;

use melding_store_sqlite::SqliteStore;
use melding_store_tests::DynStore;

async fn run<F, Fut>(test: F)
where
    F: FnOnce(DynStore) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    // Removed when dropped, also when the test panics.
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open(&dir.path().join("melding.db"))
        .await
        .expect("open SQLite store");
    test(Arc::new(store)).await;
}

melding_store_tests::conformance_tests!(run);

/// README "Durability": every write goes through a connection in WAL mode with
/// `synchronous=FULL`, so a commit is fsynced before the write is acknowledged.
#[tokio::test]
async fn writes_go_to_the_wal_with_synchronous_full() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open(&dir.path().join("melding.db"))
        .await
        .expect("open SQLite store");
    let (journal, synchronous) = store.write_durability().await.unwrap();
    assert_eq!(journal, "wal");
    assert_eq!(synchronous, "full");
}
