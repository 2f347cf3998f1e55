//! The HTTP API. Handlers parse, call into `store`, and shape the response; nothing else.

mod auth;
mod blobs;
mod catalog;
mod error;
mod extract;
mod logging;
mod ops;
mod ranges;
mod state;

use axum::Router;
use axum::routing::get;

pub use error::ApiError;
pub use state::{AppState, Settings};

/// The complete router, used by the server and by the tests alike.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(ops::health))
        .route("/v1/_catalog", get(catalog::list_repositories))
        .route(
            "/v1/{pack}/blobs/{*digest}",
            get(blobs::get_blob)
                .head(blobs::head_blob)
                .put(blobs::put_blob),
        )
        .fallback(error::route_not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(axum::middleware::from_fn(logging::log_request))
        .with_state(state)
}
