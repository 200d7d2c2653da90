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
