//! Writes to packs: `POST /v1/packs` (publish a tar.gz) and
//! `PATCH /v1/packs/{name}/tags/{version}` (lifecycle state).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::auth::{AdminAccess, WriteAccess};
use super::extract::{ApiQuery, VersionPath};
use super::json::ApiJson;
use super::{ApiError, AppState};
use crate::domain::{PackName, PackState, Version};
use crate::registry::Finding;
use crate::registry::publish::{Force, PublishStatus};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublishQuery {
    /// Replace a version published with other content (admin only; needs `message`).
    #[serde(default)]
    force: bool,
    /// Why a forced replace is made (kept in the version's history).
    message: Option<String>,
}

impl PublishQuery {
    fn force(self) -> Result<Option<Force>, ApiError> {
        match (self.force, self.message) {
            (false, _) => Ok(None),
            (true, Some(message)) if !message.trim().is_empty() => Ok(Some(Force {
                message: message.trim().to_owned(),
            })),
            (true, _) => Err(ApiError::InvalidParameter {
                name: "message",
                reason: "a forced replace needs a message saying why".to_owned(),
            }),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct PublishResponse {
    uid: String,
    name: String,
    version: String,
    digest: String,
    status: &'static str,
    warnings: Vec<Finding>,
}

/// `POST /v1/packs`: the body is a `tar.gz` of a pack folder. 201 for a new version (or a forced
/// replace), 200 when the same content is already published, 409 for different content without
/// `?force=true&message=...`.
#[utoipa::path(post, path = "/v1/packs", tag = "publishing", params(PublishQuery), request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "A tar.gz of a pack folder (any Content-Type; clients usually send application/gzip)"), security(("bearer" = []), ("basic" = [])), responses((status = 201, description = "Published (or replaced)", body = PublishResponse), (status = 200, description = "Identical content was already published", body = PublishResponse), (status = 409, description = "The version exists with other content", body = super::error::ErrorBody)))]
pub async fn publish_pack(
    WriteAccess(caller): WriteAccess,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<PublishQuery>,
    body: Body,
) -> Result<Response, ApiError> {
    let force = query.force()?;
    let stream = body.into_data_stream();
    let published = state
        .registry
        .publish_upload(stream, force, &caller)
        .await?;
    let label = published.status.as_str();
    state.metrics.publish(label);
    if published.status != PublishStatus::Unchanged {
        tracing::info!(pack = %published.name, version = %published.version, digest = %published.digest, status = label, "pack published");
    }
    let status = match published.status {
        PublishStatus::Unchanged => StatusCode::OK,
        PublishStatus::Created | PublishStatus::Replaced => StatusCode::CREATED,
    };
    let body = PublishResponse {
        uid: published.uid,
        name: published.name.to_string(),
        version: published.version.to_string(),
        digest: published.digest.to_string(),
        status: label,
        warnings: published.warnings,
    };
    Ok((status, Json(body)).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StateChange {
    state: PackState,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StateResponse {
    uid: String,
    name: String,
    version: String,
    state: PackState,
}

/// `PATCH /v1/packs/{name}/tags/{version}` with `{"state": "deprecated"}`.
#[utoipa::path(patch, path = "/v1/packs/{pack}/tags/{version}", tag = "publishing", params(("pack" = PackName, Path, description = "Pack name, e.g. cni-calico"), ("version" = Version, Path, description = "An exact version")), request_body(content = StateChange, content_type = "application/json"), security(("bearer" = [])), responses((status = 200, body = StateResponse)))]
pub async fn change_state(
    AdminAccess(caller): AdminAccess,
    State(state): State<AppState>,
    path: VersionPath,
    ApiJson(change): ApiJson<StateChange>,
) -> Result<Json<StateResponse>, ApiError> {
    let registry = &state.registry;
    let row = registry
        .change_state(&path.pack, &path.version, change.state, &caller)
        .await?;
    Ok(Json(StateResponse {
        uid: row.uid,
        name: row.pack_name.to_string(),
        version: row.version.to_string(),
        state: row.state,
    }))
}
