//! One log line per request: method, matched route, status, latency. Never headers or bodies, so
//! credentials cannot reach the log.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;
use super::error::ErrorDetail;
use super::metrics::RequestLabels;

/// Logs the request and records it in the request metrics.
pub async fn log_request(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned());
    let response = next.run(request).await;
    let elapsed = started.elapsed().as_secs_f64();
    let latency_ms = elapsed * 1000.0;
    let route = route.as_deref().unwrap_or("-");
    let status = response.status().as_u16();
    state.metrics.observe_request(
        RequestLabels {
            method: method.as_str().to_owned(),
            route: route.to_owned(),
            status: status.to_string(),
        },
        elapsed,
    );
    if let Some(ErrorDetail(detail)) = response.extensions().get::<ErrorDetail>() {
        tracing::error!(target: "packyard::http", %method, route, status, latency_ms, error = %detail, "request failed");
    } else {
        tracing::info!(target: "packyard::http", %method, route, status, latency_ms, "request");
    }
    response
}
