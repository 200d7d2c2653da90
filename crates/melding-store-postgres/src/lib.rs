//! The scale-out store: PostgreSQL, shared by any number of stateless `melding` nodes. It
//! implements every storage trait with the same semantics as `melding-store-sqlite` (the
//! conformance suite in `melding-store-tests` runs on both).
//!
//! Concurrency rules that SQLite gets for free from its single writer are explicit here:
//! - `append_status` locks the letter's row (`SELECT … FOR UPDATE`) before it evaluates its
//!   guard, so concurrent appends of a status that may appear once write it once;
//! - `claim_due` picks jobs with `FOR UPDATE SKIP LOCKED`, so workers on several nodes never
//!   claim the same job and never wait for each other.
//!
//! ## Job notifications
//! Nodes learn of enqueued jobs through `LISTEN melding_jobs`. The `NOTIFY` is not sent inside
//! the transaction that enqueues: PostgreSQL serialises the commits of notifying transactions
//! (`PreCommit_Notify` takes a database-wide lock held through the commit's WAL flush), which
//! capped creates at one commit per fsync, however many connections wrote. Instead a write that
//! enqueued a job pokes a [`Notifier`](notify::Notifier) after its commit, and one background
//! task sends the `NOTIFY`s, coalesced (pokes that arrive while one is being sent fold into the
//! next) and without waiting for a flush. A lost notice only delays a job until the next poll.
//!
//! ## Migrations when several nodes start together
//! [`PostgresStore::connect`] applies the embedded migrations (`migrations/`) before it returns.
//! sqlx's migrator takes a session-level advisory lock on PostgreSQL (`pg_advisory_lock` with a
//! key derived from the database name, see `sqlx-postgres`'s `migrate.rs`) *before* it creates
//! `_sqlx_migrations` and holds it until every pending migration is applied; a second node
//! blocks on that lock and then finds nothing left to apply. sqlx does not release the lock when
//! a migration fails, so migrations run on a dedicated one-connection pool that is closed
//! afterwards: ending the session releases the lock, and no connection of the store's pool ever
//! holds it. (`tests/postgres.rs` in `melding-store-tests` starts several nodes at once on an
//! empty database to check this.)
#![forbid(unsafe_code)]

mod attachments;
mod codec;
mod correspondences;
mod delivery;
mod forwarding;
mod inbox;
mod jobs;
mod notifications;
mod notify;
mod registry;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use melding_store::{StoreError, StoreHealth};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Connections per node. A node's work is short transactions; more nodes scale further.
const POOL_SIZE: u32 = 10;

/// A PostgreSQL-backed implementation of every storage trait.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    notifier: notify::Notifier,
    /// Where this node's job claims have reached (shared by the store's clones).
    claim_floor: std::sync::Arc<jobs::ClaimFloor>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: never print it.
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://…`), applies pending migrations under
    /// PostgreSQL's advisory lock and opens a connection pool.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let opts = PgConnectOptions::from_str(url).map_err(unavailable)?;
        migrate_with(&opts).await?;
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(|conn, _| Box::pin(commit_durably(conn)))
            // No ping before every checkout: it doubled the round trips of a one-statement
            // write. A connection the server has dropped fails its next statement instead;
            // sqlx then discards it and the request answers 503, the caller's retry succeeds.
            .test_before_acquire(false)
            .connect_with(opts)
            .await
            .map_err(unavailable)?;
        let notifier = notify::Notifier::start(pool.clone());
        Ok(Self {
            pool,
            notifier,
            claim_floor: std::sync::Arc::default(),
        })
    }

    /// Applies migrations only (for `melding migrate`).
    pub async fn migrate(url: &str) -> Result<(), StoreError> {
        let opts = PgConnectOptions::from_str(url).map_err(unavailable)?;
        migrate_with(&opts).await
    }

    /// The `synchronous_commit` setting the store's connections write with (`on`, `local`,
    /// `remote_write`, `remote_apply`; never `off`, see [`commit_durably`]).
    pub async fn synchronous_commit(&self) -> Result<String, StoreError> {
        sqlx::query_scalar("SHOW synchronous_commit")
            .fetch_one(&self.pool)
            .await
            .map_err(classify)
    }

    /// Tells listening nodes that jobs were enqueued; call after the enqueueing commit.
    pub(crate) fn jobs_enqueued(&self) {
        self.notifier.poke();
    }

    /// Closes the pool and waits until every connection is closed.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Makes a new connection commit durably: an answer of 200 means the letter is on disk
/// (README "Durability"), so a commit must not return before its WAL record is flushed.
/// `synchronous_commit = off`, whether set in `postgresql.conf`, for the database or for the role,
/// would acknowledge commits that a crash can lose; such a session is switched to `on`. Stronger
/// settings (`remote_write`, `remote_apply` with synchronous standbys) are kept.
async fn commit_durably(conn: &mut sqlx::PgConnection) -> Result<(), sqlx::Error> {
    let setting: String = sqlx::query_scalar("SHOW synchronous_commit")
        .fetch_one(&mut *conn)
        .await?;
    if setting == "off" {
        tracing::warn!(
            "synchronous_commit is off on the server; Melding's connections set it to on so acknowledged letters survive a crash"
        );
        sqlx::query("SET synchronous_commit = on")
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

async fn migrate_with(opts: &PgConnectOptions) -> Result<(), StoreError> {
    // A pool of one connection, closed afterwards: ending that session releases sqlx's
    // advisory lock even when a migration failed.
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(opts.clone())
        .await
        .map_err(unavailable)?;
    let result = MIGRATOR.run(&pool).await;
    pool.close().await;
    result.map_err(unavailable)
}

#[async_trait]
impl StoreHealth for PostgresStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(classify)
    }
}

pub(crate) fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

pub(crate) fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// Maps a database error to the storage boundary's classes.
pub(crate) fn classify(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.message().to_owned())
        }
        // A row that points at a letter or attachment that does not exist.
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NotFound,
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            StoreError::Corrupt(e.to_string())
        }
        _ => StoreError::Unavailable(e.to_string()),
    }
}

/// A count or attempt number read back from a `bigint` column.
pub(crate) fn unsigned<T: TryFrom<i64>>(v: i64) -> Result<T, StoreError> {
    T::try_from(v).map_err(|_| StoreError::Corrupt(format!("number out of range: {v}")))
}
