//! Cross-cutting HTTP behaviour: the request's trace id (from `traceparent` or new), security
//! headers on every answer, the JSON 404 for unknown routes, and a problem answer for panics.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use crate::error::ApiError;

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

/// Takes the trace id from a valid `traceparent` header, or makes one, for the request's life.
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
    let span = tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), trace_id = %id);
    TRACE_ID.scope(id, next.run(req).instrument(span)).await
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
