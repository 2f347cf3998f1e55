//! `GET`, `HEAD` and `PUT /v1/{pack}/blobs/sha256:{hex}`: blobs by digest, the legacy Palette
//! registry's wire protocol.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::auth::WriteAccess;
use super::blob_response::{DOCKER_CONTENT_DIGEST, blob_path, serve};
use super::extract::{ApiQuery, BlobPath};
use super::respond::header_text;
use super::{ApiError, AppState};
use crate::domain::{Digest, MediaType, PackName};
use crate::registry::RegistryError;
use crate::registry::blobs::Upload;
use crate::registry::error::PutError;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BlobQuery {
    /// Overrides the response's content type when it is a valid media type (`?type=image/png`).
    #[serde(rename = "type")]
    media_type: Option<String>,
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
    let registry = &state.registry;
    let blob = registry.blob(&path.pack, &path.digest).await?;
    match serve(state, &blob, media_type, request, include_body).await {
        Err(error) if error.is_blob_missing() => {
            registry.forget_blob(&path.pack, &path.digest);
            let blob = registry.blob(&path.pack, &path.digest).await?;
            serve(state, &blob, media_type, request, include_body).await
        }
        other => other,
    }
}

#[utoipa::path(get, path = "/v1/{pack}/blobs/{digest}", tag = "blobs", params(("pack" = PackName, Path, description = "Pack name, e.g. cni-calico"), ("digest" = Digest, Path, description = "sha256:<64 hex>"), BlobQuery), responses((status = 200, description = "The blob (Range requests give 206)", content_type = "*/*", body = Vec<u8>), (status = 206, description = "Part of the blob", content_type = "*/*", body = Vec<u8>), (status = 304, description = "Not modified (ETag)"), (status = 416, description = "Range not satisfiable", body = super::error::ErrorBody)))]
pub async fn get_blob(
    State(state): State<AppState>,
    path: BlobPath,
    ApiQuery(query): ApiQuery<BlobQuery>,
    request: HeaderMap,
) -> Result<Response, ApiError> {
    serve_path(&state, &path, query.media_type.as_deref(), &request, true).await
}

/// Like GET without a body: the blob file is only stat'ed, never read.
#[utoipa::path(head, path = "/v1/{pack}/blobs/{digest}", tag = "blobs", params(("pack" = PackName, Path, description = "Pack name, e.g. cni-calico"), ("digest" = Digest, Path, description = "sha256:<64 hex>"), BlobQuery), responses((status = 200, description = "The blob exists; size in Content-Length"), (status = 206, description = "Range"), (status = 304, description = "Not modified (ETag)"), (status = 416, description = "Range not satisfiable")))]
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
#[utoipa::path(put, path = "/v1/{pack}/blobs/{digest}", tag = "blobs", params(("pack" = PackName, Path, description = "Pack name, e.g. cni-calico"), ("digest" = Digest, Path, description = "sha256:<64 hex>")), request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The blob bytes; their sha256 must equal the digest"), security(("bearer" = []), ("basic" = [])), responses((status = 201, description = "Stored", body = UploadResult), (status = 200, description = "Already stored", body = UploadResult)))]
pub async fn put_blob(
    WriteAccess(caller): WriteAccess,
    State(state): State<AppState>,
    path: BlobPath,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let declared_size = content_length(&headers)?;
    let limit = state.registry.max_blob_size();
    if declared_size.is_some_and(|size| size > limit) {
        return Err(RegistryError::Upload(PutError::TooLarge { limit }).into());
    }
    let upload = Upload {
        pack: path.pack,
        digest: path.digest,
        size: declared_size,
        media_type: headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|text| text.parse::<MediaType>().ok()),
    };
    let pack = upload.pack.clone();
    let stored = state
        .registry
        .upload_blob(upload, body.into_data_stream(), &caller)
        .await?;
    let status = match stored.newly_referenced {
        true => StatusCode::CREATED,
        false => StatusCode::OK,
    };
    let mut response_headers = HeaderMap::new();
    let location = blob_path(&pack, &stored.digest);
    response_headers.insert(header::LOCATION, header_text(&location)?);
    response_headers.insert(
        DOCKER_CONTENT_DIGEST,
        header_text(&stored.digest.to_string())?,
    );
    let result = UploadResult {
        digest: stored.digest,
        size: stored.size,
        media_type: stored.media_type.map(|m| m.to_string()),
    };
    Ok((status, response_headers, Json(result)).into_response())
}
