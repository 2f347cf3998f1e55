//! One log line per request: method, matched route, status, latency. Never headers or bodies, so
//! credentials cannot reach the log.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

use super::error::ErrorDetail;

pub async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned());
    let response = next.run(request).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let route = route.as_deref().unwrap_or("-");
    let status = response.status().as_u16();
    if let Some(ErrorDetail(detail)) = response.extensions().get::<ErrorDetail>() {
        tracing::error!(target: "packyard::http", %method, route, status, latency_ms, error = %detail, "request failed");
    } else {
        tracing::info!(target: "packyard::http", %method, route, status, latency_ms, "request");
    }
    response
}
