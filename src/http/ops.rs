//! Operational endpoints.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::AppState;

const HEALTH_DB_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /health`: `{"status":"UP"}`, or 503 with the reason when the database does not answer.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, description = "Up", body = Object), (status = 503, description = "Down, with the reason (status DOWN, code, message)", body = super::error::ErrorBody)))]
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let reason = match tokio::time::timeout(HEALTH_DB_TIMEOUT, state.registry.ping()).await {
        Ok(Ok(())) => return (StatusCode::OK, Json(json!({"status": "UP"}))),
        Ok(Err(error)) => {
            tracing::warn!(%error, "health check: database error");
            "the database returned an error"
        }
        Err(_) => "the database did not answer within 2 s",
    };
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"status": "DOWN", "code": "UNAVAILABLE", "message": reason})),
    )
}
