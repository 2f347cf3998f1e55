//! The HTTP API. Handlers parse, call the registry, and shape the response; nothing else.

pub mod auth;
mod blob_response;
mod blobs;
mod catalog;
mod error;
mod extract;
mod filters;
mod json;
pub mod layers;
mod limits;
mod listing;
pub mod metrics;
mod oci;
mod oci_errors;
mod oci_paths;
pub mod openapi;
mod ops;
mod overview;
mod packs;
mod paging;
mod palette;
mod palette_errors;
mod profiles;
mod publish;
mod ranges;
mod registries;
mod render;
mod respond;
mod state;
pub mod ui;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{any, get, patch, post};

pub use error::ApiError;
pub use state::{AppState, Settings};

/// Limit for JSON request bodies (filters, state changes).
const SMALL_BODY: usize = 64 * 1024;

/// Limit for render requests (they carry a values document).
const RENDER_BODY: usize = 1 << 20;

/// The complete router, used by the server and by the tests alike: the routes inside the
/// middleware of [`layers::around`].
pub fn router(state: AppState) -> Router {
    let metrics = state.metrics.clone();
    layers::around(routes(state), metrics)
}

/// Every route with its own limits and the API's admission checks, without the outer middleware.
pub fn routes(state: AppState) -> Router {
    let api = Router::new()
        .route("/", get(ui::page))
        .route("/packs/{name}", get(ui::pack_page))
        .route("/openapi.json", get(openapi::document))
        .route("/static/{file}", get(ui::static_file))
        .route("/v1/_catalog", get(catalog::list_repositories))
        .route(
            "/v1/registries/metadata",
            get(registries::registries_metadata),
        )
        .route("/v1/registries/pack", get(registries::pack_registries))
        .route(
            "/v1/registries/pack/summary",
            get(registries::pack_registries_summary),
        )
        .route(
            "/v1/registries/pack/{uid}",
            get(registries::pack_registry_by_uid),
        )
        .route(
            "/v1/registries/pack/{uid}/sync/status",
            get(registries::pack_registry_sync_status),
        )
        .route("/v1/registries/helm", get(registries::helm_registries))
        .route(
            "/v1/registries/helm/summary",
            get(registries::helm_registries_summary),
        )
        .route(
            "/v1/registries/helm/{uid}",
            get(registries::helm_registry_by_uid),
        )
        .route(
            "/v1/registries/oci/summary",
            get(registries::oci_registries_summary),
        )
        .route(
            "/v1/dashboard/projects/metadata",
            get(registries::projects_metadata),
        )
        .route(
            "/v1/packs",
            get(listing::list_packs).post(publish::publish_pack),
        )
        .route(
            "/v1/packs/search",
            post(listing::search_packs).layer(DefaultBodyLimit::max(SMALL_BODY)),
        )
        .route("/v1/packs/{pack}", get(packs::pack_by_uid))
        .route("/v1/packs/{pack}/readme", get(packs::readme))
        .route("/v1/packs/{pack}/logo", get(packs::logo))
        .route(
            "/v1/packs/{pack}/registries/{registry}",
            get(packs::pack_in_registry),
        )
        .route(
            "/v1/packs/{pack}/tags/{version}",
            get(packs::pack_by_tag)
                .merge(patch(publish::change_state).layer(DefaultBodyLimit::max(SMALL_BODY))),
        )
        .route(
            "/v1/packs/{pack}/tags/{version}/render",
            get(render::render_get)
                .post(render::render_post)
                .layer(DefaultBodyLimit::max(RENDER_BODY)),
        )
        .route(
            "/v1/packs/{pack}/tags/{version}/values",
            get(render::default_values),
        )
        .route(
            "/v1/packs/{pack}/tags/{version}/overview",
            get(overview::overview),
        )
        .route(
            "/v1/clusterprofiles/render",
            post(profiles::render_profile).layer(DefaultBodyLimit::max(RENDER_BODY)),
        )
        .route(
            "/v1/clusterprofiles/validate/packs",
            post(profiles::validate_profile).layer(DefaultBodyLimit::max(RENDER_BODY)),
        )
        .route("/v1/{pack}/tags/list", get(packs::tag_list))
        // JSON, YAML and text compress; blobs are served as stored (so no compression layer there).
        .layer(layers::compression())
        .route(
            "/v1/{pack}/blobs/{*digest}",
            get(blobs::get_blob)
                .head(blobs::head_blob)
                .put(blobs::put_blob),
        )
        // The OCI distribution API: names contain slashes, so its paths are parsed by hand.
        .route("/v2/", any(oci::dispatch))
        .route("/v2/{*rest}", any(oci::dispatch))
        .fallback(error::route_not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        // The request cap, credentials, upload rate and time limit.
        .layer(from_fn_with_state(state.clone(), limits::admit));
    let api = match layers::cors(&state.settings.cors_origins) {
        Some(cors) => api.layer(cors),
        None => api,
    };
    // Health and metrics are never refused by the request cap: a saturated server must still say
    // so. /metrics follows the read rule; /health is always open.
    let operations = Router::new()
        .route("/metrics", get(metrics::metrics))
        .layer(from_fn_with_state(state.clone(), limits::guard))
        .route("/health", get(ops::health));
    api.merge(operations).with_state(state)
}
