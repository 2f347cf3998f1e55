//! `GET`, `HEAD` and `PUT /v1/{pack}/blobs/sha256:{hex}`: blobs by digest, the legacy Palette
//! registry's wire protocol.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::auth::WriteAccess;
use super::extract::{ApiQuery, BlobPath};
use super::ranges::{self, RangeDecision};
use super::{ApiError, AppState};
use crate::domain::{Digest, MediaType, PackName};
use crate::store::blob_cache::SMALL_BLOB;
use crate::store::blob_records::{self, BlobRecord, ReferenceKind};
use crate::store::blobs::{Expectation, Span};
use crate::store::packs;

/// Large reads keep the syscall count per byte low when streaming big blobs.
const READ_CHUNK: usize = 512 * 1024;
/// Spans up to this size are read in one call instead of streamed (bounded memory per request).
const WHOLE_READ: u64 = 2 << 20;
const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
/// Blobs are data, never pages: no sniffing, and no script or subresource if one is opened.
const BLOB_CSP: HeaderValue = HeaderValue::from_static("sandbox; default-src 'none'");
pub const DOCKER_CONTENT_DIGEST: HeaderName = HeaderName::from_static("docker-content-digest");

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BlobQuery {
    /// Overrides the response's content type when it is a valid media type (`?type=image/png`).
    #[serde(rename = "type")]
    media_type: Option<String>,
}

/// The blob's URL path, as used in `Location` and logo URLs.
pub fn blob_path(pack: &PackName, digest: &Digest) -> String {
    format!("/v1/{pack}/blobs/{digest}")
}

async fn find_blob(state: &AppState, path: &BlobPath) -> Result<BlobRecord, ApiError> {
    state
        .blob_cache
        .find(&state.db, &path.pack, &path.digest)
        .await?
        .ok_or_else(|| ApiError::BlobUnknown {
            pack: path.pack.clone(),
            digest: path.digest,
        })
}

fn missing_from_store(digest: &Digest) -> ApiError {
    ApiError::BlobFileMissing(format!(
        "blob {digest} is recorded in the database but missing from the blob store"
    ))
}

/// Serves the blob at `path`. When its file is gone (gc may remove a blob after this server
/// cached its record), the cached record is dropped and the database asked again: a removed blob
/// is then a plain 404, a blob the database still records stays a 500.
async fn serve_path(
    state: &AppState,
    path: &BlobPath,
    media_type: Option<&str>,
    request: &HeaderMap,
    include_body: bool,
) -> Result<Response, ApiError> {
    let blob = find_blob(state, path).await?;
    match serve(state, &blob, media_type, request, include_body).await {
        Err(ApiError::BlobFileMissing(_)) => {
            state.blob_cache.forget(&path.pack, &path.digest);
            let blob = find_blob(state, path).await?;
            serve(state, &blob, media_type, request, include_body).await
        }
        other => other,
    }
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
    let etag = format!("\"{}\"", blob.digest);
    let mut headers = HeaderMap::new();
    let header_value = |text: &str| HeaderValue::from_str(text).map_err(ApiError::internal);
    headers.insert(header::ETAG, header_value(&etag)?);
    headers.insert(
        DOCKER_CONTENT_DIGEST,
        header_value(&blob.digest.to_string())?,
    );
    headers.insert(header::CACHE_CONTROL, IMMUTABLE);
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CONTENT_SECURITY_POLICY, BLOB_CSP);
    if ranges::none_match(request, &etag) {
        return Ok(Plan {
            headers,
            status: StatusCode::NOT_MODIFIED,
            span: None,
        });
    }
    let media_type = media_type
        .and_then(|requested| requested.parse::<MediaType>().ok())
        .or_else(|| blob.media_type.clone())
        .unwrap_or_else(MediaType::octet_stream);
    let (media_type, attachment) = passive(media_type, request, &mut headers);
    headers.insert(header::CONTENT_TYPE, header_value(media_type.as_str())?);
    if attachment {
        headers.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment"),
        );
    }
    let (status, span) = match ranges::decide(request, &etag, blob.size) {
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
fn passive(wanted: MediaType, request: &HeaderMap, headers: &mut HeaderMap) -> (MediaType, bool) {
    if wanted.is_passive() {
        return (wanted, false);
    }
    if wanted.is_svg() {
        headers.insert(header::VARY, HeaderValue::from_static("Sec-Fetch-Dest"));
        let image_load = request
            .get("sec-fetch-dest")
            .is_some_and(|dest| dest.as_bytes().eq_ignore_ascii_case(b"image"));
        if image_load {
            return (wanted, false);
        }
    }
    (MediaType::octet_stream(), true)
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
    if !include_body {
        if state.blobs.size_of(&blob.digest).await?.is_none() {
            return Err(missing_from_store(&blob.digest));
        }
        return Ok((plan.status, plan.headers).into_response());
    }
    let not_found_is_missing = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::NotFound {
            missing_from_store(&blob.digest)
        } else {
            e.into()
        }
    };
    let body = match plan.span {
        None => Body::empty(),
        // Small blobs come from memory after their first read.
        Some(span) if blob.size <= SMALL_BLOB => {
            let content = state
                .blob_cache
                .small_content(&state.blobs, blob)
                .await
                .map_err(not_found_is_missing)?;
            let end = usize::try_from(span.start + span.len)
                .unwrap_or(usize::MAX)
                .min(content.len());
            let start = usize::try_from(span.start).unwrap_or(0).min(end);
            state.metrics.blob_bytes_served.inc_by((end - start) as u64);
            Body::from(content.slice(start..end))
        }
        // Mid-sized spans in one blocking read: fewer hops than chunked streaming.
        Some(span) if span.len <= WHOLE_READ => {
            let bytes = state
                .blobs
                .read_whole(&blob.digest, span)
                .await
                .map_err(not_found_is_missing)?;
            state.metrics.blob_bytes_served.inc_by(bytes.len() as u64);
            Body::from(bytes)
        }
        Some(span) => {
            let chunks = state
                .blobs
                .read(&blob.digest, span, READ_CHUNK)
                .await
                .map_err(not_found_is_missing)?;
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
    Ok((plan.status, plan.headers, body).into_response())
}

#[utoipa::path(get, path = "/v1/{pack}/blobs/{digest}", tag = "blobs", params(("pack" = String, Path, description = "Pack name, e.g. cni-calico"), ("digest" = String, Path, description = "sha256:<64 hex>"), BlobQuery), responses((status = 200, description = "The blob (Range requests give 206)", content_type = "*/*", body = Vec<u8>), (status = 206, description = "Part of the blob", content_type = "*/*", body = Vec<u8>), (status = 304, description = "Not modified (ETag)"), (status = 416, description = "Range not satisfiable", body = super::openapi::ErrorResponse)))]
pub async fn get_blob(
    State(state): State<AppState>,
    path: BlobPath,
    ApiQuery(query): ApiQuery<BlobQuery>,
    request: HeaderMap,
) -> Result<Response, ApiError> {
    serve_path(&state, &path, query.media_type.as_deref(), &request, true).await
}

/// Like GET without a body: the blob file is only stat'ed, never read.
#[utoipa::path(head, path = "/v1/{pack}/blobs/{digest}", tag = "blobs", params(("pack" = String, Path, description = "Pack name, e.g. cni-calico"), ("digest" = String, Path, description = "sha256:<64 hex>"), BlobQuery), responses((status = 200, description = "The blob exists; size in Content-Length"), (status = 206, description = "Range"), (status = 304, description = "Not modified (ETag)"), (status = 416, description = "Range not satisfiable")))]
pub async fn head_blob(
    State(state): State<AppState>,
    path: BlobPath,
    ApiQuery(query): ApiQuery<BlobQuery>,
    request: HeaderMap,
) -> Result<Response, ApiError> {
    serve_path(&state, &path, query.media_type.as_deref(), &request, false).await
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct UploadResult {
    #[schema(value_type = String, example = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    digest: Digest,
    size: u64,
    media_type: Option<String>,
}

fn content_length(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    headers
        .get(header::CONTENT_LENGTH)
        .map(|value| {
            value
                .to_str()
                .ok()
                .and_then(|text| text.parse::<u64>().ok())
                .ok_or(ApiError::InvalidParameter {
                    name: "Content-Length",
                    reason: "not a byte count".to_owned(),
                })
        })
        .transpose()
}

/// Streams one blob into the store for `{pack}`: 201 when the pack did not have it, 200 when it did,
/// 400 (with nothing stored) when the content does not match the digest in the URL.
#[utoipa::path(put, path = "/v1/{pack}/blobs/{digest}", tag = "blobs", params(("pack" = String, Path, description = "Pack name, e.g. cni-calico"), ("digest" = String, Path, description = "sha256:<64 hex>")), request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The blob bytes; their sha256 must equal the digest"), security(("bearer" = []), ("basic" = [])), responses((status = 201, description = "Stored", body = UploadResult), (status = 200, description = "Already stored", body = UploadResult)))]
pub async fn put_blob(
    WriteAccess(caller): WriteAccess,
    State(state): State<AppState>,
    path: BlobPath,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    caller.may_write(path.pack.as_str())?;
    let max_size = state.settings.max_blob_size;
    let declared_size = content_length(&headers)?;
    if declared_size.is_some_and(|size| size > max_size) {
        return Err(ApiError::BlobTooLarge { limit: max_size });
    }
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<MediaType>().ok());
    let staged = state
        .blobs
        .stage(
            body.into_data_stream(),
            Expectation {
                digest: Some(path.digest),
                size: declared_size,
                max_size,
            },
        )
        .await?;
    // Claimed before it becomes visible, so a concurrent gc cannot take it (blob_records::reserve).
    blob_records::reserve(&state.db, &staged.digest, staged.size).await?;
    let stored = state.blobs.commit(staged).await?;

    let mut transaction = state.db.begin().await.map_err(ApiError::internal)?;
    packs::ensure_pack(&mut *transaction, &path.pack).await?;
    blob_records::insert_blob(
        &mut *transaction,
        &stored.digest,
        stored.size,
        media_type.as_ref(),
    )
    .await?;
    let newly_referenced = blob_records::insert_pack_blob(
        &mut transaction,
        &path.pack,
        &stored.digest,
        ReferenceKind::Upload,
    )
    .await?;
    transaction.commit().await?;

    let location = blob_path(&path.pack, &stored.digest);
    let status = if newly_referenced {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut response_headers = HeaderMap::new();
    response_headers.insert(
        header::LOCATION,
        HeaderValue::from_str(&location).map_err(ApiError::internal)?,
    );
    response_headers.insert(
        DOCKER_CONTENT_DIGEST,
        HeaderValue::from_str(&stored.digest.to_string()).map_err(ApiError::internal)?,
    );
    let result = UploadResult {
        digest: stored.digest,
        size: stored.size,
        media_type: media_type.map(|m| m.to_string()),
    };
    Ok((status, response_headers, Json(result)).into_response())
}
