//! The embedded default store: one SQLite file in WAL mode with `synchronous=FULL`, so an
//! acknowledged write survives a crash or power cut. Writes go through one connection (SQLite
//! has one writer anyway); reads use a small pool.
#![forbid(unsafe_code)]

mod attachments;
mod codec;
mod correspondences;
mod delivery;
mod forwarding;
mod inbox;
mod jobs;
mod notifications;
mod registry;
mod writer;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use melding_store::{StoreError, StoreHealth};
use sqlx::ConnectOptions;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A SQLite-backed implementation of every storage trait.
#[derive(Clone)]
pub struct SqliteStore {
    writer: writer::Writer,
    reader: SqlitePool,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if missing) the database file at `path` and applies migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .map_err(unavailable)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let mut conn = opts.connect().await.map_err(unavailable)?;
        MIGRATOR
            .run(&mut conn)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let writer = writer::Writer::start(conn);
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts.read_only(true))
            .await
            .map_err(unavailable)?;
        Ok(Self { writer, reader })
    }

    /// Writes a consistent copy of the live database to `dest` (which must not exist) while
    /// the store keeps serving: SQLite's `VACUUM INTO` reads one snapshot.
    pub async fn backup_to(&self, dest: &Path) -> Result<(), StoreError> {
        let dest = dest
            .to_str()
            .ok_or_else(|| StoreError::Unavailable("backup path is not UTF-8".into()))?;
        sqlx::query("VACUUM INTO ?")
            .bind(dest)
            .execute(&self.reader)
            .await
            .map(|_| ())
            .map_err(classify)
    }

    /// Runs `op` inside the writer's shared transaction (as a savepoint of its own) and answers
    /// once that transaction has committed.
    pub(crate) async fn write<T, F>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut sqlx::SqliteConnection) -> writer::OpFuture<'c, T>
            + Send
            + 'static,
    {
        self.writer.write(op).await
    }

    /// The journal mode and synchronous level of the connection every write goes through, as
    /// SQLite reports them (`PRAGMA journal_mode`, `PRAGMA synchronous`): `("wal", "full")`, so
    /// a commit is fsynced to the WAL before a write is acknowledged (README "Durability").
    pub async fn write_durability(&self) -> Result<(String, String), StoreError> {
        self.write(|conn| {
            Box::pin(async move {
                let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(classify)?;
                let level: i64 = sqlx::query_scalar("PRAGMA synchronous")
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(classify)?;
                // SQLite's numbering (https://sqlite.org/pragma.html#pragma_synchronous).
                let level = match level {
                    0 => "off",
                    1 => "normal",
                    2 => "full",
                    3 => "extra",
                    _ => "unknown",
                };
                Ok((journal.to_ascii_lowercase(), level.to_owned()))
            })
        })
        .await
    }

    /// Write transactions committed since the store was opened; with group commit this is
    /// usually far fewer than the writes.
    pub fn write_transactions(&self) -> u64 {
        self.writer.commits()
    }

    /// Applies migrations only (for `melding migrate`).
    pub async fn migrate(path: &Path) -> Result<(), StoreError> {
        Self::open(path).await.map(|_| ())
    }
}

#[async_trait]
impl StoreHealth for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map(|_| ())
            .map_err(classify)
    }
}

pub(crate) fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// Maps a database error to the storage boundary's classes.
pub(crate) fn classify(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.message().to_owned())
        }
        // A row that points at a letter that does not exist.
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NotFound,
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            StoreError::Corrupt(e.to_string())
        }
        _ => StoreError::Unavailable(e.to_string()),
    }
}
