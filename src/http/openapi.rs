//! The OpenAPI 3.1 document at `/openapi.json`, generated from the handlers' `#[utoipa::path]`
//! annotations and the types' `ToSchema` derives, so it cannot drift from the code.

use std::sync::OnceLock;

use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{RefOr, Response as ApiResponse, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use super::palette_errors::is_palette_route;

/// The errors any operation may answer with, added to every operation.
const COMMON_ERRORS: &[(&str, &str)] = &[
    (
        "400",
        "The request is malformed: a parameter, a path segment or the body",
    ),
    (
        "401",
        "Credentials are needed or not valid (WWW-Authenticate says which)",
    ),
    ("403", "The credentials' scope does not allow this"),
    ("404", "No such pack, version, tag, blob or route"),
    ("405", "The route does not allow this method"),
    ("406", "No representation matches Accept"),
    ("408", "The request body arrived too slowly"),
    ("409", "The request conflicts with what is stored"),
    ("413", "The request body is too large"),
    ("415", "The body's Content-Type is not accepted"),
    (
        "422",
        "The request is well-formed but cannot be processed (values, templates, clouds)",
    ),
    ("500", "An internal error (details only in the server log)"),
    (
        "503",
        "Overloaded or unavailable; Retry-After says when to retry",
    ),
];

struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)),
        );
        let error = |description: &str, schema: &str| -> RefOr<ApiResponse> {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    utoipa::openapi::ContentBuilder::new()
                        .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                            schema,
                        ))))
                        .build(),
                )
                .build()
                .into()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            for (method, operation) in [
                (Method::GET, &mut item.get),
                (Method::PUT, &mut item.put),
                (Method::POST, &mut item.post),
                (Method::PATCH, &mut item.patch),
                (Method::HEAD, &mut item.head),
                (Method::DELETE, &mut item.delete),
            ] {
                let Some(operation) = operation else {
                    continue;
                };
                // Palette's routes answer errors in Palette's shape (`v1Error`).
                let schema = match is_palette_route(&method, path) {
                    true => "PaletteError",
                    false => "ErrorResponse",
                };
                for (status, description) in COMMON_ERRORS {
                    operation
                        .responses
                        .responses
                        .entry((*status).to_owned())
                        .or_insert_with(|| error(description, schema));
                }
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "packyard",
        description = "A Palette-style pack registry: packs, blobs by digest, rendering.",
        license(name = "Apache-2.0")
    ),
    paths(
        super::ui::page,
        super::ui::pack_page,
        super::ui::static_file,
        super::ops::health,
        super::metrics::metrics,
        document,
        super::catalog::list_repositories,
        super::blobs::get_blob,
        super::blobs::head_blob,
        super::blobs::put_blob,
        super::registries::registries_metadata,
        super::registries::pack_registries,
        super::registries::pack_registries_summary,
        super::registries::pack_registry_by_uid,
        super::registries::pack_registry_sync_status,
        super::registries::helm_registries,
        super::registries::helm_registries_summary,
        super::registries::helm_registry_by_uid,
        super::registries::oci_registries_summary,
        super::registries::projects_metadata,
        super::listing::list_packs,
        super::publish::publish_pack,
        super::listing::search_packs,
        super::packs::pack_by_uid,
        super::packs::readme,
        super::packs::logo,
        super::packs::pack_in_registry,
        super::packs::pack_by_tag,
        super::publish::change_state,
        super::render::render_get,
        super::render::render_post,
        super::render::default_values,
        super::overview::overview,
        super::profiles::render_profile,
        super::profiles::validate_profile,
        super::packs::tag_list,
    ),
    components(schemas(
        super::error::ErrorBody,
        super::palette_errors::PaletteError,
        crate::domain::PackName,
        crate::domain::Digest,
        crate::domain::Version
    )),
    modifiers(&CommonErrors)
)]
struct ApiDoc;

/// The document, built once.
pub fn openapi_json() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        ApiDoc::openapi()
            .to_pretty_json()
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    })
}

/// `GET /openapi.json`.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", responses((status = 200, description = "This document (OpenAPI 3.1)", body = Object)))]
pub async fn document() -> Response {
    let mut response = openapi_json().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
