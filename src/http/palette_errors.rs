//! Errors in Palette's shape on Palette's routes. Palette's clients decode every error body as
//! `v1Error {code, message, ref, details}` and branch on `code` (the Go SDK's `herr.IsNotFound`
//! is `code == "ResourceNotFound"`), so the routes of Palette's API answer so, with packyard's
//! precise code and extras in `details`. packyard's own routes keep [`super::error::ErrorBody`].

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::error::ErrorBody;

/// `v1Error`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PaletteError {
    /// Palette's code for the status: `ResourceNotFound`, `InvalidRequest`, `Unauthorized`, ...
    pub code: &'static str,
    pub message: String,
    /// The request's `X-Request-Id`, for the server log.
    #[serde(rename = "ref")]
    pub reference: String,
    /// packyard's own error body: its precise `code` and, where they apply, `errors`, `file` and
    /// `limit`.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

/// The routes of Palette's API (packs-api.json and the registry and project calls its clients
/// make). Everything else under `/v1` is packyard's own (publishing, rendering, blobs, tags).
pub fn is_palette_route(method: &Method, path: &str) -> bool {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        ["v1", "registries", ..] | ["v1", "dashboard", ..] => true,
        ["v1", "clusterprofiles", "validate", "packs"] => true,
        ["v1", "packs"] => method != Method::POST,
        ["v1", "packs", "search"] => true,
        ["v1", "packs", _] => true,
        ["v1", "packs", _, "readme" | "logo"] => true,
        ["v1", "packs", _, "registries", _] => true,
        _ => false,
    }
}

/// Palette's code for a status.
fn palette_code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => "InvalidRequest",
        StatusCode::UNAUTHORIZED => "Unauthorized",
        StatusCode::FORBIDDEN => "Forbidden",
        StatusCode::NOT_FOUND => "ResourceNotFound",
        StatusCode::METHOD_NOT_ALLOWED => "MethodNotAllowed",
        StatusCode::NOT_ACCEPTABLE => "NotAcceptable",
        StatusCode::REQUEST_TIMEOUT => "RequestTimeout",
        StatusCode::CONFLICT => "ResourceConflict",
        StatusCode::PAYLOAD_TOO_LARGE => "RequestTooLarge",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "UnsupportedMediaType",
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS => "ServiceUnavailable",
        _ => "InternalError",
    }
}

/// The error a response carries (set by [`super::ApiError`]'s conversion), for reshaping.
#[derive(Debug, Clone)]
pub struct CarriedError(pub std::sync::Arc<ErrorBody>);

/// Rewrites an error response of a Palette route into `v1Error`; other responses pass as they are.
pub fn reshape(response: Response, request_id: Option<&HeaderValue>) -> Response {
    let Some(CarriedError(body)) = response.extensions().get::<CarriedError>().cloned() else {
        return response;
    };
    let (parts, _) = response.into_parts();
    let error = PaletteError {
        code: palette_code(parts.status),
        message: body.message.clone(),
        reference: request_id
            .and_then(|id| id.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        details: serde_json::to_value(&*body).unwrap_or_default(),
    };
    with_json_body(parts, &error)
}

/// An error response with its body replaced by `body` as JSON (status and headers kept).
pub fn with_json_body(mut parts: axum::http::response::Parts, body: &impl Serialize) -> Response {
    let rebuilt = axum::Json(body).into_response();
    // The old body may have been compressed: its encoding and length go with it.
    parts.headers.remove(header::CONTENT_ENCODING);
    parts.headers.remove(header::CONTENT_LENGTH);
    let (new_parts, body) = rebuilt.into_parts();
    for (name, value) in &new_parts.headers {
        parts.headers.insert(name, value.clone());
    }
    Response::from_parts(parts, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palette_routes_are_told_from_packyards_own() {
        for (method, path) in [
            (Method::GET, "/v1/packs"),
            (Method::POST, "/v1/packs/search"),
            (Method::GET, "/v1/packs/abc"),
            (Method::GET, "/v1/packs/abc/readme"),
            (Method::GET, "/v1/packs/cni-calico/registries/r1"),
            (Method::GET, "/v1/registries/pack/r1/sync/status"),
            (Method::GET, "/v1/dashboard/projects/metadata"),
            (Method::POST, "/v1/clusterprofiles/validate/packs"),
        ] {
            assert!(is_palette_route(&method, path), "{method} {path}");
        }
        for (method, path) in [
            (Method::POST, "/v1/packs"),
            (Method::GET, "/v1/packs/cni-calico/tags/3.24.6"),
            (Method::POST, "/v1/clusterprofiles/render"),
            (Method::GET, "/v1/cni-calico/blobs/sha256:00"),
            (Method::GET, "/health"),
        ] {
            assert!(!is_palette_route(&method, path), "{method} {path}");
        }
    }
}
