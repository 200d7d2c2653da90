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
mod error;
mod extract;
mod health;
mod metrics;
mod middleware;
mod openapi;
mod upload;

use std::sync::Arc;

use axum::Router;
use melding_core::Melding;
use melding_store::StoreHealth;
use utoipa_axum::router::OpenApiRouter;

pub use auth::{Authenticator, TrustedIssuer};
pub use cors::{CorsOriginError, CorsOrigins};
pub use error::ApiError;
pub use metrics::metrics_router;

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
    /// Browser origins allowed to read a letter's content (CORS); none by default.
    pub cors_origins: CorsOrigins,
}

/// The default for [`AppState::max_in_flight`].
pub const DEFAULT_MAX_IN_FLIGHT: usize = 1024;

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let content = correspondence::content_routes().layer(axum::middleware::from_fn_with_state(
        cors::ContentCors::new(state.cors_origins.clone()),
        cors::content_cors,
    ));
    let (api, spec) = OpenApiRouter::with_openapi(openapi::base())
        .merge(correspondence::routes())
        .merge(content)
        .merge(upload::routes())
        .merge(attachment::routes())
        .merge(delegation::routes())
        .split_for_parts();
    let mut spec = spec;
    openapi::document_unauthorized(&mut spec);
    let limit = Arc::new(tokio::sync::Semaphore::new(state.max_in_flight.max(1)));
    let api = api.layer(axum::middleware::from_fn_with_state(
        limit,
        middleware::shed_load,
    ));
    Router::new()
        .merge(api)
        .merge(health::routes())
        .merge(openapi::swagger(spec))
        .fallback(middleware::not_found)
        .layer(axum::middleware::from_fn(middleware::security_headers))
        .layer(axum::middleware::from_fn(middleware::trace_id))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            middleware::panic_response,
        ))
        .with_state(state)
}

/// The OpenAPI document, for tools that want it without a running server.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let (_, spec) = OpenApiRouter::<AppState>::with_openapi(openapi::base())
        .merge(correspondence::routes())
        .merge(correspondence::content_routes())
        .merge(upload::routes())
        .merge(attachment::routes())
        .merge(delegation::routes())
        .split_for_parts();
    let mut spec = spec;
    openapi::document_unauthorized(&mut spec);
    spec
}
