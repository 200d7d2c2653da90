//! Group commit: every write goes to one writer task, which runs the writes waiting at that
//! moment inside a single `BEGIN IMMEDIATE` transaction (each in a savepoint of its own, so one
//! failing write does not undo the others) and commits once. A caller is answered only after
//! the commit, so an acknowledged write is on disk (`synchronous=FULL`), yet one fsync serves
//! many concurrent requests.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use melding_store::StoreError;
use sqlx::{Connection, SqliteConnection};
use tokio::sync::{mpsc, oneshot};

/// How many writes one transaction takes at most.
const MAX_BATCH: usize = 256;

pub(crate) type OpFuture<'c, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'c>>;

/// Told the commit's outcome after the batch's transaction ends.
type Done = Box<dyn FnOnce(Result<(), String>) + Send>;

/// A write as the writer task sees it: run it on the connection, learn whether it succeeded
/// (its savepoint is rolled back otherwise), and how to answer its caller.
type Op = Box<
    dyn for<'c> FnOnce(
            &'c mut SqliteConnection,
        ) -> Pin<Box<dyn Future<Output = (bool, Done)> + Send + 'c>>
        + Send,
>;

#[derive(Clone)]
pub(crate) struct Writer {
    ops: mpsc::Sender<Op>,
    commits: Arc<AtomicU64>,
}

impl Writer {
    pub(crate) fn start(conn: SqliteConnection) -> Self {
        let (ops, rx) = mpsc::channel(4 * MAX_BATCH);
        let commits = Arc::new(AtomicU64::new(0));
        tokio::spawn(run(conn, rx, commits.clone()));
        Self { ops, commits }
    }

    /// Transactions committed so far (each may hold many writes).
    pub(crate) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    pub(crate) async fn write<T, F>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> OpFuture<'c, T> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel::<Result<T, StoreError>>();
        let op: Op = Box::new(move |conn| {
            Box::pin(async move {
                let result = op(conn).await;
                let ok = result.is_ok();
                let done: Done = Box::new(move |commit| {
                    let outcome = match commit {
                        Ok(()) => result,
                        Err(e) => Err(StoreError::Unavailable(format!("commit failed: {e}"))),
                    };
                    let _ = answer.send(outcome);
                });
                (ok, done)
            })
        });
        let stopped = || StoreError::Unavailable("the database writer has stopped".into());
        self.ops.send(op).await.map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

async fn run(mut conn: SqliteConnection, mut rx: mpsc::Receiver<Op>, commits: Arc<AtomicU64>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        let mut tx = match conn.begin_with("BEGIN IMMEDIATE").await {
            Ok(tx) => tx,
            Err(e) => {
                // Dropping the batch answers each caller that the writer could not serve it.
                tracing::error!(error = %e, "could not begin a write transaction");
                continue;
            }
        };
        let mut done = Vec::with_capacity(batch.len());
        for op in batch {
            let (_ok, answer) = op(&mut tx).await;
            done.push(answer);
        }
        let commit = tx.commit().await.map_err(|e| e.to_string());
        commits.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = &commit {
            tracing::error!(error = %e, "write transaction failed to commit");
        }
        for answer in done {
            answer(commit.clone());
        }
    }
}

/// Ends a write's own savepoint inside the batch's transaction: released when the write
/// succeeded, rolled back first when it failed, so a failed write undoes only itself and the
/// batch's other writes stand. Returns the write's outcome.
pub(crate) async fn end_savepoint<T>(
    conn: &mut SqliteConnection,
    name: &str,
    outcome: Result<T, StoreError>,
) -> Result<T, StoreError> {
    let end = if outcome.is_ok() {
        format!("RELEASE {name}")
    } else {
        format!("ROLLBACK TO {name}; RELEASE {name}")
    };
    sqlx::raw_sql(sqlx::AssertSqlSafe(end))
        .execute(&mut *conn)
        .await
        .map_err(crate::classify)?;
    outcome
}
