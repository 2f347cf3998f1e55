//! Response shapes shared by several handlers: cached JSON catalog bodies, and rendered bodies with
//! their validators, `Vary` and a precomputed gzip form.

use std::future::Future;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Serialize;

use super::{ApiError, AppState, ranges};
use crate::registry::cache::renders::{RenderedBody, request_key};
use crate::registry::rendering::Format;

/// The output format a client asked for with `Accept`.
pub fn format(headers: &HeaderMap) -> Format {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if accept.contains("application/json") {
        Format::Json
    } else {
        Format::Yaml
    }
}

/// A value as a JSON body.
pub fn json_body<T: Serialize>(value: &T) -> Result<Bytes, ApiError> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(ApiError::internal)
}

/// A catalog response: the body for `key_parts` from the registry's catalog cache, or computed by
/// `compute` (once for concurrent identical requests; every write makes cached bodies stale).
pub async fn cached_json<'a>(
    state: &AppState,
    key_parts: impl IntoIterator<Item = &'a [u8]>,
    compute: impl Future<Output = Result<Bytes, ApiError>>,
) -> Result<Response, ApiError> {
    let body = state
        .registry
        .cached_catalog(request_key(key_parts), compute)
        .await?;
    let content_type = HeaderValue::from_static("application/json");
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

fn accepts_gzip(request: &HeaderMap) -> bool {
    request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

/// A rendered body as a response: validators, `Vary`, gzip when the client accepts it (made once
/// per body, so the compression layer leaves it alone).
pub fn rendered(
    body: &RenderedBody,
    format: Format,
    request: &HeaderMap,
    extra: HeaderMap,
) -> Result<Response, ApiError> {
    let gzip = accepts_gzip(request);
    // Each encoding is its own representation, with its own strong ETag.
    let etag = if gzip {
        format!("{}-gzip\"", body.etag.trim_end_matches('"'))
    } else {
        body.etag.clone()
    };
    let mut headers = extra;
    headers.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).map_err(ApiError::internal)?,
    );
    // Tags move (3.24.x follows new patches): revalidate with the ETag every time.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::VARY,
        HeaderValue::from_static("Accept, Accept-Encoding"),
    );
    headers.insert("x-object-count", HeaderValue::from(body.objects));
    if ranges::none_match(request, &etag) || ranges::none_match(request, &body.etag) {
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }
    let content_type = match format {
        Format::Yaml => "application/yaml",
        Format::Json => "application/json",
    };
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let bytes = if gzip {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        body.gzip().clone()
    } else {
        body.body.clone()
    };
    Ok((StatusCode::OK, headers, bytes).into_response())
}

/// A header value from text the server made (versions, digests): never fails for those.
pub fn header_text(text: &str) -> Result<HeaderValue, ApiError> {
    HeaderValue::from_str(text).map_err(ApiError::internal)
}

/// The address clients reach this registry at, as the request names it (`Host`, and
/// `X-Forwarded-Proto` behind a TLS-terminating proxy).
pub fn public_base(headers: &HeaderMap) -> String {
    public_base_of(
        headers.get(axum::http::header::HOST),
        headers.get("x-forwarded-proto"),
    )
}

/// [`public_base`] from the two headers it reads.
pub fn public_base_of(host: Option<&HeaderValue>, proto: Option<&HeaderValue>) -> String {
    let host = host.and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let scheme = match proto.and_then(|h| h.to_str().ok()) {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}")
}
