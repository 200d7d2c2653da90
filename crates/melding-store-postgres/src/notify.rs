//! Coalesced `NOTIFY melding_jobs`, sent outside the transactions that enqueue jobs (see the
//! crate documentation for why).

use sqlx::PgPool;
use tokio::sync::mpsc;

use crate::jobs::CHANNEL;

/// Pokes the background task that sends job notices. Cheap to clone and to poke; pokes made
/// while a notice is being sent fold into one more notice.
#[derive(Clone)]
pub(crate) struct Notifier {
    pokes: mpsc::Sender<()>,
}

impl Notifier {
    /// Spawns the sending task on the current runtime; it ends when every `Notifier` is dropped.
    pub(crate) fn start(pool: PgPool) -> Self {
        let (pokes, rx) = mpsc::channel(1);
        tokio::spawn(run(pool, rx));
        Self { pokes }
    }

    pub(crate) fn poke(&self) {
        // Full means a notice is already pending, which is all a poke asks for.
        let _ = self.pokes.try_send(());
    }
}

async fn run(pool: PgPool, mut pokes: mpsc::Receiver<()>) {
    // One statement, so one implicit transaction: the notice is delivered at its commit, and
    // that commit need not wait for its WAL flush (a notice carries nothing to keep).
    let sql =
        format!("SELECT set_config('synchronous_commit', 'off', true), pg_notify('{CHANNEL}', '')");
    while pokes.recv().await.is_some() {
        if pool.is_closed() {
            return;
        }
        if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .execute(&pool)
            .await
        {
            // Listeners fall back to polling, so a missed notice delays, never loses, a job.
            tracing::debug!(error = %e, "could not send a job notice");
        }
    }
}
