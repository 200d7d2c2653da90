//! Prometheus metrics, served on their own listener so they are never exposed with the API:
//! the job queue (queued, due, dead, age of the oldest due job) and what this node's runner did.

use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use melding_core::{JobStore, RunnerStats};
use melding_domain::Clock;

/// Counters of this node's HTTP edge, shown by the metrics listener.
#[derive(Debug, Default)]
pub struct HttpStats {
    /// JSON properties that a request carried and no model knows (accepted and ignored, as in
    /// Altinn, reference §0): `melding_http_unknown_json_fields_total`.
    pub unknown_json_fields: AtomicU64,
}

#[derive(Clone)]
struct MetricsState {
    jobs: Arc<dyn JobStore>,
    clock: Arc<dyn Clock>,
    runner: Arc<RunnerStats>,
    http: Arc<HttpStats>,
}

/// `GET /metrics` in the Prometheus text format: the job queue from `jobs` at `clock`'s now,
/// this node's job runs from `runner`, and its HTTP edge counters from `http`.
pub(crate) fn metrics_router(
    jobs: Arc<dyn JobStore>,
    clock: Arc<dyn Clock>,
    runner: Arc<RunnerStats>,
    http: Arc<HttpStats>,
) -> Router {
    Router::new()
        .route("/metrics", get(render))
        .with_state(MetricsState {
            jobs,
            clock,
            runner,
            http,
        })
}

async fn render(State(state): State<MetricsState>) -> Response {
    let now = state.clock.now();
    let counts = match state.jobs.job_counts(now).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "metrics: job counts unavailable");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let oldest_age = counts
        .oldest_due
        .map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0);
    let mut out = String::new();
    let mut gauge = |name: &str, help: &str, value: f64| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
        );
    };
    gauge(
        "melding_jobs_queued",
        "Jobs waiting in the queue.",
        counts.queued as f64,
    );
    gauge(
        "melding_jobs_due",
        "Queued jobs whose time has come.",
        counts.due as f64,
    );
    gauge(
        "melding_jobs_dead",
        "Jobs that used up their attempts.",
        counts.dead as f64,
    );
    gauge(
        "melding_jobs_oldest_due_age_seconds",
        "How long the oldest due job has waited.",
        oldest_age,
    );
    let _ = writeln!(
        out,
        "# HELP melding_jobs_runs_total Job runs on this node by outcome.\n# TYPE melding_jobs_runs_total counter"
    );
    for (outcome, counter) in [
        ("done", &state.runner.done),
        ("run_again", &state.runner.run_again),
        ("retried", &state.runner.retried),
        ("buried", &state.runner.buried),
        ("panicked", &state.runner.panicked),
    ] {
        let _ = writeln!(
            out,
            "melding_jobs_runs_total{{outcome=\"{outcome}\"}} {}",
            counter.load(Ordering::Relaxed)
        );
    }
    let _ = writeln!(
        out,
        "# HELP melding_http_unknown_json_fields_total JSON properties in requests that no model knows (ignored).\n# TYPE melding_http_unknown_json_fields_total counter\nmelding_http_unknown_json_fields_total {}",
        state.http.unknown_json_fields.load(Ordering::Relaxed)
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}
