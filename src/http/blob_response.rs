//! Answering with a blob: conditional, ranged, streamed, and passive (no blob can act as a page on
//! this origin). Used by the blob routes and the logo route.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use futures_util::StreamExt;

use super::ranges::{self, RangeDecision};
use super::{ApiError, AppState};
use crate::domain::{Digest, MediaType, PackName};
use crate::registry::BlobRecord;
use crate::registry::blobs::{SMALL_BLOB, Span};

/// Large reads keep the syscall count per byte low when streaming big blobs.
const READ_CHUNK: usize = 512 * 1024;
/// Spans up to this size are read in one call instead of streamed (bounded memory per request).
const WHOLE_READ: u64 = 2 << 20;
const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
/// Blobs are data, never pages: no sniffing, and no script or subresource if one is opened.
const BLOB_CSP: HeaderValue = HeaderValue::from_static("sandbox; default-src 'none'");
pub const DOCKER_CONTENT_DIGEST: HeaderName = HeaderName::from_static("docker-content-digest");

/// The blob's URL path, as used in `Location` and logo URLs.
pub fn blob_path(pack: &PackName, digest: &Digest) -> String {
    format!("/v1/{pack}/blobs/{digest}")
}

/// The headers every blob response carries, and the decision on what body to send.
struct Plan {
    headers: HeaderMap,
    status: StatusCode,
    span: Option<Span>,
}

fn plan(
    blob: &BlobRecord,
    media_type: Option<&str>,
    request: &HeaderMap,
) -> Result<Plan, ApiError> {
    // The digest is spelled once; header values take the strings without copying them again.
    let digest = blob.digest.to_string();
    let etag = format!("\"{digest}\"");
    let owned = |text: String| {
        HeaderValue::from_maybe_shared(bytes::Bytes::from(text)).map_err(ApiError::internal)
    };
    let header_value = |text: &str| HeaderValue::from_str(text).map_err(ApiError::internal);
    let decision =
        (!ranges::none_match(request, &etag)).then(|| ranges::decide(request, &etag, blob.size));
    let mut headers = HeaderMap::with_capacity(16);
    headers.insert(header::ETAG, owned(etag)?);
    headers.insert(DOCKER_CONTENT_DIGEST, owned(digest)?);
    headers.insert(header::CACHE_CONTROL, IMMUTABLE);
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CONTENT_SECURITY_POLICY, BLOB_CSP);
    let Some(decision) = decision else {
        return Ok(Plan {
            headers,
            status: StatusCode::NOT_MODIFIED,
            span: None,
        });
    };
    let requested = media_type.and_then(|requested| requested.parse::<MediaType>().ok());
    let (media_type, attachment) = match requested.as_ref().or(blob.media_type.as_ref()) {
        Some(wanted) => passive(wanted, request, &mut headers),
        None => (MediaType::OCTET_STREAM, false),
    };
    headers.insert(header::CONTENT_TYPE, header_value(media_type)?);
    if attachment {
        headers.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment"),
        );
    }
    let (status, span) = match decision {
        RangeDecision::Full => (
            StatusCode::OK,
            Span {
                start: 0,
                len: blob.size,
            },
        ),
        RangeDecision::Partial(span) => {
            let last = span.start + span.len - 1;
            let range = format!("bytes {}-{last}/{}", span.start, blob.size);
            headers.insert(header::CONTENT_RANGE, header_value(&range)?);
            (StatusCode::PARTIAL_CONTENT, span)
        }
        RangeDecision::Unsatisfiable => {
            return Err(ApiError::RangeNotSatisfiable { size: blob.size });
        }
    };
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(span.len));
    Ok(Plan {
        headers,
        status,
        span: Some(span),
    })
}

/// The type a blob is served as, and whether it must be a download: passive types as they are,
/// SVG only to an `<img>` load (`Sec-Fetch-Dest: image`), anything else as an
/// `application/octet-stream` attachment, so no blob can act as a page on this origin.
fn passive<'a>(
    wanted: &'a MediaType,
    request: &HeaderMap,
    headers: &mut HeaderMap,
) -> (&'a str, bool) {
    if wanted.is_passive() {
        return (wanted.as_str(), false);
    }
    if wanted.is_svg() {
        headers.insert(header::VARY, HeaderValue::from_static("Sec-Fetch-Dest"));
        let image_load = request
            .get("sec-fetch-dest")
            .is_some_and(|dest| dest.as_bytes().eq_ignore_ascii_case(b"image"));
        if image_load {
            return (wanted.as_str(), false);
        }
    }
    (MediaType::OCTET_STREAM, true)
}

/// Answers a request for `blob`: conditional, ranged, streamed. `media_type` is a requested
/// override (`?type=`), used only when it is a valid media type. With `include_body` false (HEAD),
/// the file is only stat'ed.
pub async fn serve(
    state: &AppState,
    blob: &BlobRecord,
    media_type: Option<&str>,
    request: &HeaderMap,
    include_body: bool,
) -> Result<Response, ApiError> {
    let plan = plan(blob, media_type, request)?;
    let registry = &state.registry;
    if !include_body {
        registry.check_blob_file(blob).await?;
        return Ok(respond(plan.status, plan.headers, Body::empty()));
    }
    let body = match plan.span {
        None => Body::empty(),
        // Small blobs come from memory after their first read.
        Some(span) if blob.size <= SMALL_BLOB => {
            let content = registry.small_blob(blob).await?;
            let end = usize::try_from(span.start + span.len)
                .unwrap_or(usize::MAX)
                .min(content.len());
            let start = usize::try_from(span.start).unwrap_or(0).min(end);
            state.metrics.blob_bytes_served.inc_by((end - start) as u64);
            Body::from(content.slice(start..end))
        }
        // Mid-sized spans in one blocking read: fewer hops than chunked streaming.
        Some(span) if span.len <= WHOLE_READ => {
            let bytes = registry.read_blob(blob, span).await?;
            state.metrics.blob_bytes_served.inc_by(bytes.len() as u64);
            Body::from(bytes)
        }
        Some(span) => {
            let chunks = registry.stream_blob(blob, span, READ_CHUNK).await?;
            // Counted as the chunks go out: an aborted download counts what was sent.
            let served = state.metrics.blob_bytes_served.clone();
            let chunks = chunks.inspect(move |chunk| {
                if let Ok(chunk) = chunk {
                    served.inc_by(chunk.len() as u64);
                }
            });
            Body::from_stream(chunks)
        }
    };
    Ok(respond(plan.status, plan.headers, body))
}

/// A response made of its parts as they are (`(status, headers, body).into_response()` would
/// insert every header again into a new map).
fn respond(status: StatusCode, headers: HeaderMap, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}
