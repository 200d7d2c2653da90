//! `/health` (the database answers) and `/healthz` (the process answers), both anonymous.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::AppState;

/// 200 when the database answers.
pub(crate) const HEALTH: &str = "/health";
/// 200 when the process answers.
pub(crate) const HEALTHZ: &str = "/healthz";

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(HEALTH, get(health))
        .route(HEALTHZ, get(healthz))
}

async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match state.health.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({"status": "Healthy",
                        "message": "Environment properly configured and database is accessible"})),
        ),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"status": "Unhealthy",
                            "message": "Health check failed: the database is not accessible"})),
            )
        }
    }
}

async fn healthz() -> Json<Value> {
    Json(json!({"status": "Healthy", "message": "Process is responsive"}))
}
