//! What the composition root runs: the API and the metrics endpoint as servers on listeners it
//! binds. The binary asks for a [`Server`] and serves it; axum stays inside this crate
//! (DESIGN.md: only `melding-http` and `melding-web` touch axum).

use std::future::Future;
use std::sync::Arc;

use melding_core::{JobStore, RunnerStats};
use melding_domain::Clock;

use crate::{AppState, HttpStats};

/// One HTTP application, ready to serve on a listener: the Correspondence API
/// ([`Server::api`]) or the Prometheus endpoint ([`Server::metrics`]). Cheap to clone; every
/// clone serves the same application.
#[derive(Clone)]
pub struct Server {
    router: axum::Router,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").finish_non_exhaustive()
    }
}

impl Server {
    /// The whole API of a node (what [`crate::router`] assembles): the Correspondence API v1,
    /// health checks, the OpenAPI document and the Swagger UI.
    pub fn api(state: AppState) -> Self {
        Self {
            router: crate::router(state),
        }
    }

    /// This application with `pages` served beside it: the web inbox's router
    /// (`melding_web::router`), whose paths (`/inbox…`) the API does not use. The pages keep
    /// their own layers (HTML error pages, their security headers); the API's fallback still
    /// answers every other path.
    pub fn with_pages(self, pages: axum::Router) -> Self {
        Self {
            router: pages.merge(self.router),
        }
    }

    /// `GET /metrics` in the Prometheus text format, for a listener of its own: the job queue
    /// from `jobs` at `clock`'s now, this node's job runs from `runner`, and the HTTP edge's
    /// counters from `http` (the same [`HttpStats`] the API's [`AppState`] holds).
    pub fn metrics(
        jobs: Arc<dyn JobStore>,
        clock: Arc<dyn Clock>,
        runner: Arc<RunnerStats>,
        http: Arc<HttpStats>,
    ) -> Self {
        Self {
            router: crate::metrics::metrics_router(jobs, clock, runner, http),
        }
    }

    /// Serves on `listener` until `shutdown` completes, then stops accepting and lets the
    /// requests in flight finish before returning.
    ///
    /// Errors: the I/O error that ended the accept loop.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
    }
}
