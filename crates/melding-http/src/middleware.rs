//! Cross-cutting HTTP behaviour: the request's trace id (from `traceparent` or new) and its
//! access-log line, security headers on every answer, ProblemDetails for the refusals the
//! framework makes itself (405, 413, 415, …) and for requests over the time limit, the JSON 404
//! for unknown routes, and a problem answer for panics.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use crate::error::{ApiError, RefusalReason};

tokio::task_local! {
    static TRACE_ID: String;
}

/// The trace id of the request being served (W3C `traceparent` form).
pub(crate) fn current_trace_id() -> String {
    TRACE_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| new_trace_id())
}

fn new_trace_id() -> String {
    let trace: u128 = rand::random();
    let span: u64 = rand::random();
    format!("00-{trace:032x}-{span:016x}-01")
}

/// The route template of a request (`/correspondence/api/v1/correspondence/{correspondenceId}`),
/// or `<unmatched>` for a path no route knows. Logs name the template, never the path, which
/// may hold a national id.
fn route_of(req: &Request) -> String {
    req.extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "<unmatched>".to_owned(), |p| p.as_str().to_owned())
}

/// Takes the trace id from a valid `traceparent` header, or makes one, for the request's life,
/// and writes one access-log line per request (target `melding::access`): method, route
/// template, status, duration in milliseconds and trace id (the `traceId` of a ProblemDetails),
/// plus the reason for a 401 or 403. A 5xx is logged at `error`, anything else at `info`. Never
/// the path, query, headers or body: they may hold a national id, a token or a letter.
pub(crate) async fn trace_id(req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            let parts: Vec<&str> = v.split('-').collect();
            parts.len() == 4
                && parts[1].len() == 32
                && parts
                    .iter()
                    .all(|p| p.bytes().all(|b| b.is_ascii_hexdigit()))
        })
        .map(str::to_owned)
        .unwrap_or_else(new_trace_id);
    let method = req.method().clone();
    let route = route_of(&req);
    let started = Instant::now();
    let span = tracing::info_span!("request", method = %method, route = %route, trace_id = %id);
    let res = TRACE_ID
        .scope(id.clone(), next.run(req).instrument(span))
        .await;
    let status = res.status().as_u16();
    // Milliseconds to the microsecond: `12.345`, not a long binary fraction.
    let duration_ms = started.elapsed().as_micros() as f64 / 1000.0;
    let reason = res
        .extensions()
        .get::<RefusalReason>()
        .map(|r| r.0.as_str())
        .unwrap_or("");
    if status >= 500 {
        tracing::error!(target: "melding::access", %method, %route, status, duration_ms, trace_id = %id, reason, "request");
    } else {
        tracing::info!(target: "melding::access", %method, %route, status, duration_ms, trace_id = %id, reason, "request");
    }
    res
}

/// Answers every refusal the framework makes itself (405 from the method router, 413 from the
/// body limit, 415, a 400 from an extractor) as a ProblemDetails like Melding's own, keeping
/// `Allow`. The empty 401/403 of the auth gates and answers that already are JSON pass as they
/// are.
pub(crate) async fn uniform_errors(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let res = next.run(req).await;
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("json"));
    if status.as_u16() < 400
        || is_json
        || status == StatusCode::UNAUTHORIZED
        || status == StatusCode::FORBIDDEN
    {
        return res;
    }
    let allow = res.headers().get(header::ALLOW).cloned();
    let detail = match status {
        StatusCode::METHOD_NOT_ALLOWED => format!(
            "This endpoint does not accept {method}; it accepts {}",
            allow
                .as_ref()
                .and_then(|a| a.to_str().ok())
                .unwrap_or("other methods")
        ),
        StatusCode::PAYLOAD_TOO_LARGE => {
            "The request body is larger than this endpoint accepts".to_owned()
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            "The request body's media type is not supported by this endpoint".to_owned()
        }
        _ => {
            // An extractor's own sentence (e.g. a multipart framing error), when it is short.
            let body = axum::body::to_bytes(res.into_body(), 512)
                .await
                .ok()
                .and_then(|b| String::from_utf8(b.to_vec()).ok())
                .filter(|t| !t.trim().is_empty());
            body.unwrap_or_else(|| {
                status
                    .canonical_reason()
                    .unwrap_or("The request was refused")
                    .to_owned()
            })
        }
    };
    let mut answer = ApiError::Plain(status, detail).into_response();
    if let Some(allow) = allow {
        answer.headers_mut().insert(header::ALLOW, allow);
    }
    answer
}

/// Routes that stream a body of any size in or out; the request time limit does not apply.
fn streams(route: &str) -> bool {
    route.ends_with("/upload") || route.ends_with("/download") || route.ends_with("/downloadall")
}

/// Ends a request that takes longer than the limit (a client that stops sending its body, a
/// store that does not answer) with a 408 ProblemDetails and `Connection: close`. Uploads and
/// downloads stream for as long as their bytes flow and are not limited.
pub(crate) async fn time_limit(
    State(limit): State<Duration>,
    req: Request,
    next: Next,
) -> Response {
    if streams(&route_of(&req)) {
        return next.run(req).await;
    }
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            let mut res = ApiError::Plain(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "The request took longer than {} s and was ended",
                    limit.as_secs_f64()
                ),
            )
            .into_response();
            res.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            res
        }
    }
}

/// `GET /`: where to go from here, for a person who opens the API's address in a browser or
/// with curl. The paths are the ones this router serves.
pub(crate) async fn root() -> Response {
    let body = serde_json::json!({
        "service": "Melding",
        "description": "Secure digital post, wire-compatible with the Altinn 3 Correspondence API v1",
        "version": env!("CARGO_PKG_VERSION"),
        "api": "/correspondence/api/v1",
        "openapi": "/correspondence/api/v1/swagger/v1/swagger.json",
        "health": "/health",
        "inbox": "not offered yet: recipients read their letters through the API",
        "docs": "README.md in the source distribution: the walk-through, the endpoints and the configuration",
    });
    axum::Json(body).into_response()
}

/// `X-Content-Type-Options: nosniff` everywhere; `Cache-Control: no-store` outside the swagger.
pub(crate) async fn security_headers(req: Request, next: Next) -> Response {
    let swagger = req
        .uri()
        .path()
        .starts_with("/correspondence/api/v1/swagger");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !swagger {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

pub(crate) async fn not_found() -> Response {
    ApiError::Plain(StatusCode::NOT_FOUND, "No such endpoint".into()).into_response()
}

pub(crate) fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::Plain(
        StatusCode::INTERNAL_SERVER_ERROR,
        "An unexpected error occurred".into(),
    )
    .into_response()
}

/// Answers 503 with `Retry-After` instead of queueing when the node already serves as many API
/// requests as it is set to, so a spike is refused quickly rather than answered seconds late.
pub(crate) async fn shed_load(
    State(limit): State<Arc<tokio::sync::Semaphore>>,
    req: Request,
    next: Next,
) -> Response {
    match limit.try_acquire_owned() {
        Ok(permit) => {
            let res = next.run(req).await;
            drop(permit);
            res
        }
        Err(_) => ApiError::Overloaded.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::body::Body;
    use tower::ServiceExt;

    use super::*;

    /// Collects what a test's subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    #[tokio::test]
    async fn a_server_error_is_logged_at_error_and_a_client_error_at_info() {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(captured.clone())
            .with_ansi(false)
            .finish();
        // The test runtime has one thread, so the requests below run under this subscriber.
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = axum::Router::new()
            .route(
                "/boom/{id}",
                axum::routing::get(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
            )
            .route(
                "/gone/{id}",
                axum::routing::get(|| async { StatusCode::NOT_FOUND }),
            )
            .layer(axum::middleware::from_fn(trace_id));
        for path in ["/boom/08089403198", "/gone/08089403198"] {
            let req = Request::get(path).body(Body::empty()).unwrap();
            app.clone().oneshot(req).await.unwrap();
        }
        let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let line = |route: &str| {
            log.lines()
                .find(|l| l.contains("melding::access") && l.contains(route))
                .unwrap_or_else(|| panic!("no access line for {route} in {log}"))
                .to_owned()
        };
        let boom = line("route=/boom/{id}");
        assert!(
            boom.contains("ERROR") && boom.contains("status=500"),
            "{boom}"
        );
        let gone = line("route=/gone/{id}");
        assert!(
            gone.contains(" INFO ") && gone.contains("status=404"),
            "{gone}"
        );
        assert!(
            !log.contains("08089403198"),
            "the path is not logged: {log}"
        );
    }
}
