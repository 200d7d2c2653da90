//! The runner's panic stories on SQLite, each on a fresh database file.

#[macro_use]
mod story;

use std::future::Future;
use std::sync::Arc;

use melding_store::Store;
use melding_store_sqlite::SqliteStore;

async fn run<F, Fut>(test: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("jobs.db"))
        .await
        .unwrap();
    test(Arc::new(store)).await;
}

panic_stories!(run);
