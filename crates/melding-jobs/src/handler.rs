//! Handlers: the typed [`Handle`] a kind's code implements, and the [`JobHandler`] that binds it
//! to its kind with the types erased, so one runner keeps every kind in one registry.

use std::marker::PhantomData;
use std::sync::Arc;

use async_trait::async_trait;
use futures_util::future::BoxFuture;
use melding_store::Job;

use crate::{DecodeError, JobKind, Outcome};

/// What a handler may know about the row it runs, beside the typed job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobContext {
    /// The row's id (`melding jobs list` shows it).
    pub id: i64,
    /// Attempts including this one (1 on the first run).
    pub attempt: u32,
    /// Attempts before the job is moved to the dead letters.
    pub max_attempts: u32,
}

impl JobContext {
    /// The context of a claimed row.
    pub fn of(job: &Job) -> Self {
        Self {
            id: job.id,
            attempt: job.attempts,
            max_attempts: job.max_attempts,
        }
    }

    /// Whether a failure now moves the job to the dead letters, so a handler can settle the
    /// matter itself instead (the scan job fails the attachment).
    pub fn is_last_attempt(&self) -> bool {
        self.attempt >= self.max_attempts
    }
}

/// The code that carries out jobs of kind `J`. It may run twice for one row (a crash before
/// the row's removal repeats it), so it re-checks state and is safe to repeat.
///
/// A returned error is a failed attempt: the runner records it and retries with back-off. A
/// panic is one too: the runner catches it, records its message, and goes on with other jobs.
#[async_trait]
pub trait Handle<J: JobKind>: Send + Sync + 'static {
    /// Runs one job.
    ///
    /// # Errors
    /// Whatever stops this attempt (storage unavailable, a provider down); the runner retries.
    async fn run(&self, job: J, ctx: &JobContext) -> anyhow::Result<Outcome>;
}

/// A shared handler handles what it handles: a test or a node can keep an `Arc` of its
/// handler to look at it while the runner holds another.
#[async_trait]
impl<J: JobKind, H: Handle<J> + ?Sized> Handle<J> for Arc<H> {
    async fn run(&self, job: J, ctx: &JobContext) -> anyhow::Result<Outcome> {
        (**self).run(job, ctx).await
    }
}

/// A handler bound to its job kind, for [`Runner::register`](crate::Runner::register). Cheap to
/// clone.
#[derive(Clone)]
pub struct JobHandler {
    inner: Arc<dyn Erased>,
}

impl std::fmt::Debug for JobHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobHandler")
            .field("kind", &self.kind())
            .finish_non_exhaustive()
    }
}

impl JobHandler {
    /// Binds `handler` to kind `J`; name the kind when the handler serves several
    /// (`JobHandler::new::<ScanAttachment>(melding.clone())`).
    pub fn new<J: JobKind>(handler: impl Handle<J>) -> Self {
        Self {
            inner: Arc::new(Typed::<J, _> {
                handler,
                kind: PhantomData,
            }),
        }
    }

    /// The `kind` column this handler serves ([`JobKind::KIND`]).
    pub fn kind(&self) -> &'static str {
        self.inner.kind()
    }

    /// Runs one claimed row by hand, outside the runner: no panic is caught and nothing is
    /// settled (e.g. a test that repeats a job the way a crash before its removal would).
    ///
    /// # Errors
    /// The row's payload is not this kind's ([`DecodeError`]), or the handler's own error.
    pub async fn run(&self, job: &Job) -> anyhow::Result<Outcome> {
        self.start(job)?.await
    }

    /// Reads the row as this kind and returns the handler's run, not yet polled.
    pub(crate) fn start<'a>(
        &'a self,
        job: &Job,
    ) -> Result<BoxFuture<'a, anyhow::Result<Outcome>>, DecodeError> {
        self.inner.start(job)
    }
}

/// The registry's view of a [`Typed`] handler.
trait Erased: Send + Sync {
    fn kind(&self) -> &'static str;
    fn start<'a>(
        &'a self,
        job: &Job,
    ) -> Result<BoxFuture<'a, anyhow::Result<Outcome>>, DecodeError>;
}

struct Typed<J, H> {
    handler: H,
    // `fn() -> J`: the handler neither owns nor shares a `J`, so `J` adds no auto-trait bounds.
    kind: PhantomData<fn() -> J>,
}

impl<J: JobKind, H: Handle<J>> Erased for Typed<J, H> {
    fn kind(&self) -> &'static str {
        J::KIND
    }

    fn start<'a>(
        &'a self,
        job: &Job,
    ) -> Result<BoxFuture<'a, anyhow::Result<Outcome>>, DecodeError> {
        let typed = J::from_job(job)?;
        let ctx = JobContext::of(job);
        Ok(Box::pin(async move { self.handler.run(typed, &ctx).await }))
    }
}
