//! The runner's panic stories on PostgreSQL: each on a database of its own, created on the
//! server at `MELDING_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`,
//! a role that may create databases) and dropped afterwards, whether the story passed or not.

#[macro_use]
mod story;

use std::future::Future;
use std::sync::Arc;

use melding_store::Store;
use melding_store_postgres::PostgresStore;
use sqlx::{AssertSqlSafe, Connection, PgConnection};

fn admin_url() -> String {
    std::env::var("MELDING_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A throwaway database, dropped with this value.
struct TestDatabase {
    name: String,
    url: String,
}

impl TestDatabase {
    async fn create() -> Self {
        let name = format!("melding_jobs_{}", uuid::Uuid::new_v4().simple());
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
        let (base, query) = match admin.split_once('?') {
            Some((b, q)) => (b, format!("?{q}")),
            None => (admin.as_str(), String::new()),
        };
        let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
        let url = format!("{server}/{name}{query}");
        Self { name, url }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Dropping may happen while the test's runtime unwinds: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the test database");
            rt.block_on(async {
                if let Ok(mut conn) = PgConnection::connect(&admin_url()).await {
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

async fn run<F, Fut>(test: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    let db = TestDatabase::create().await;
    let store = PostgresStore::connect(&db.url)
        .await
        .expect("connect to test database");
    test(Arc::new(store.clone())).await;
    store.close().await;
}

panic_stories!(run);
