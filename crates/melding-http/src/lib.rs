//! Melding's HTTP face: the Correspondence API v1 with Altinn's paths, shapes and error codes,
//! bearer-token authentication, health endpoints and the generated OpenAPI document.
//!
//! Only this crate touches axum. Handlers parse and check the request, call one use case in
//! `melding-core` with the caller's principal, and map the answer to the wire.
#![forbid(unsafe_code)]

mod attachment;
pub mod auth;
mod correspondence;
mod cors;
mod delegation;
pub mod dev_issuer;
mod error;
mod extract;
mod forwarding;
mod health;
mod metrics;
mod middleware;
mod notification;
mod openapi;
mod receipts;
mod search_query;
mod server;
mod upload;

use std::sync::Arc;

use axum::Router;
use melding_core::Melding;
use melding_core::StoreHealth;
use utoipa_axum::router::OpenApiRouter;

pub use auth::{Authenticator, TrustedIssuer};
pub use cors::{CorsOriginError, CorsOrigins};
pub use error::ApiError;
pub use metrics::HttpStats;
pub use notification::{SMS_DELIVERY_REPORTS, SmsReportWebhook};
pub use server::Server;

/// Largest JSON body accepted by the correspondence endpoints (500 recipients × long bodies fit).
pub const JSON_BODY_LIMIT: usize = 4 * 1024 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub melding: Melding,
    pub auth: Arc<Authenticator>,
    pub health: Arc<dyn StoreHealth>,
    /// API requests served at once; more are answered 503 with `Retry-After`.
    pub max_in_flight: usize,
    /// The longest a request may take, uploads and downloads excepted; longer ones are answered
    /// 408 with a ProblemDetails.
    pub request_timeout: std::time::Duration,
    /// Counters of the HTTP edge (unknown JSON fields) that the metrics listener shows.
    pub stats: Arc<HttpStats>,
    /// Browser origins allowed to read a letter's content (CORS); none by default.
    pub cors_origins: CorsOrigins,
    /// The SMS gateway's delivery-report webhook ([`SMS_DELIVERY_REPORTS`]); `None` answers
    /// every call 401.
    pub sms_reports: Option<SmsReportWebhook>,
}

/// The default for [`AppState::max_in_flight`].
pub const DEFAULT_MAX_IN_FLIGHT: usize = 1024;

/// The default for [`AppState::request_timeout`]: 30 s.
pub const DEFAULT_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The root of the API port: a short JSON pointer to the API, its documents and the health check.
pub const ROOT: &str = "/";

/// Where the OpenAPI document is served (anonymous).
pub const SWAGGER_PATH: &str = "/correspondence/api/v1/swagger/v1/swagger.json";

/// The Swagger UI page that browses the document (anonymous; its scripts and styles are served
/// beside it under the same prefix, compiled into the binary).
pub const SWAGGER_UI_PAGE: &str = "/correspondence/api/v1/swagger/index.html";

/// The routes served outside the OpenAPI document, all `GET` and anonymous: the root, the health checks,
/// the document itself and the Swagger UI page. [`router`] adds exactly these beside the
/// documented API (the UI's static assets sit under the page's prefix).
pub const ANONYMOUS_ROUTES: &[&str] = &[
    ROOT,
    health::HEALTH,
    health::HEALTHZ,
    SWAGGER_PATH,
    SWAGGER_UI_PAGE,
];

/// One route of the application: its method, its path template with `{name}` placeholders as in
/// the OpenAPI document, and whether it needs a bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub method: axum::http::Method,
    pub path: String,
    /// The operation lists a `bearer` security requirement: without a trusted token it answers
    /// 401 (reference §1.3).
    pub bearer: bool,
    /// The operation lists a `basic` security requirement (the SMS gateway's webhook): without
    /// the configured credentials it answers 401 with `WWW-Authenticate: Basic`.
    pub basic: bool,
}

/// Every route [`router`] serves, for tests that must cover them all (the 401 matrix). The API
/// routes come from the OpenAPI document, which `utoipa_axum::routes!` fills from the same
/// handlers it registers, so the two cannot differ; then [`ANONYMOUS_ROUTES`]. Add a route only
/// through one of those two, never with a bare `Router::route`, or it escapes this list.
pub fn route_list() -> Vec<Route> {
    use axum::http::Method;
    let mut out = Vec::new();
    for (path, item) in openapi_document().paths.paths {
        let operations = [
            (Method::GET, &item.get),
            (Method::PUT, &item.put),
            (Method::POST, &item.post),
            (Method::DELETE, &item.delete),
            (Method::OPTIONS, &item.options),
            (Method::HEAD, &item.head),
            (Method::PATCH, &item.patch),
            (Method::TRACE, &item.trace),
        ];
        for (method, operation) in operations {
            if let Some(op) = operation {
                let needs = |scheme: &str| {
                    op.security.as_ref().is_some_and(|reqs| {
                        reqs.iter().any(|r| {
                            serde_json::to_value(r)
                                .ok()
                                .and_then(|v| v.as_object().map(|o| o.contains_key(scheme)))
                                .unwrap_or(false)
                        })
                    })
                };
                out.push(Route {
                    method,
                    path: path.clone(),
                    bearer: needs("bearer"),
                    basic: needs("basic"),
                });
            }
        }
    }
    out.extend(ANONYMOUS_ROUTES.iter().map(|p| Route {
        method: Method::GET,
        path: (*p).to_owned(),
        bearer: false,
        basic: false,
    }));
    out
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let (api, spec) = documented_api(Some(cors::ContentCors::new(state.cors_origins.clone())));
    let limit = Arc::new(tokio::sync::Semaphore::new(state.max_in_flight.max(1)));
    let api = api
        .layer(axum::middleware::from_fn_with_state(
            state.request_timeout,
            middleware::time_limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            limit,
            middleware::shed_load,
        ));
    Router::new()
        .merge(api)
        .merge(health::routes())
        .route(ROOT, axum::routing::get(middleware::root))
        .merge(openapi::swagger(spec))
        .fallback(middleware::not_found)
        .layer(axum::middleware::from_fn(middleware::uniform_errors))
        .layer(axum::middleware::from_fn(middleware::security_headers))
        // Inside the trace id, so a panic's 500 carries it and gets its access-log line.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            middleware::panic_response,
        ))
        .layer(axum::middleware::from_fn(middleware::trace_id))
        .with_state(state)
}

/// The OpenAPI document, for tools that want it without a running server.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    documented_api(None).1
}

/// The documented API: its routes and, from the same handlers, its OpenAPI document with each
/// 401 described as it is sent. [`router`] serves it with the content and forward endpoints
/// behind their CORS layer (`content_cors`); [`openapi_document`] and [`route_list`] read the
/// same assembly, so the document and the routes cannot drift apart.
fn documented_api(
    content_cors: Option<Arc<cors::ContentCors>>,
) -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let mut content = correspondence::content_routes();
    // The forward endpoints are recipient-facing too, and the reference declares the same
    // CORS policy on them (reference §0, "CORS").
    let mut forwarding = forwarding::routes();
    if let Some(origins) = content_cors {
        content = content.layer(axum::middleware::from_fn_with_state(
            origins.clone(),
            cors::content_cors,
        ));
        forwarding = forwarding.layer(axum::middleware::from_fn_with_state(
            origins,
            cors::content_cors,
        ));
    }
    let (api, mut spec) = OpenApiRouter::with_openapi(openapi::base())
        .merge(correspondence::routes())
        .merge(content)
        .merge(upload::routes())
        .merge(attachment::routes())
        .merge(delegation::routes())
        .merge(notification::routes())
        .merge(forwarding)
        .merge(receipts::routes())
        .split_for_parts();
    openapi::document_unauthorized(&mut spec);
    (api, spec)
}
