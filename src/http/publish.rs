//! Writes to packs: `POST /v1/packs` (publish a tar.gz) and
//! `PATCH /v1/packs/{name}/tags/{version}` (lifecycle state).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::auth::{AdminAccess, WriteAccess};
use super::extract::{ApiPath, ApiQuery};
use super::json::ApiJson;
use super::{ApiError, AppState};
use crate::domain::{PackName, PackState};
use crate::pack::files::{Limits, PackFiles};
use crate::pack::lint::Finding;
use crate::registry::lifecycle;
use crate::registry::publish::{self, Archive, Force, PublishStatus};
use crate::store::blobs::{Expectation, PutError};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublishQuery {
    #[serde(default)]
    force: bool,
    message: Option<String>,
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
#[utoipa::path(post, path = "/v1/packs", tag = "publishing", params(PublishQuery), request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "A tar.gz of a pack folder (any Content-Type; clients usually send application/gzip)"), security(("bearer" = []), ("basic" = [])), responses((status = 201, description = "Published (or replaced)", body = PublishResponse), (status = 200, description = "Identical content was already published", body = PublishResponse), (status = 409, description = "The version exists with other content", body = super::openapi::ErrorResponse)))]
pub async fn publish_pack(
    WriteAccess(caller): WriteAccess,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<PublishQuery>,
    body: Body,
) -> Result<Response, ApiError> {
    let force = match (query.force, query.message) {
        (false, _) => None,
        (true, Some(message)) if !message.trim().is_empty() => Some(Force {
            message: message.trim().to_owned(),
        }),
        (true, _) => {
            return Err(ApiError::InvalidParameter {
                name: "message",
                reason: "a forced replace needs a message saying why".to_owned(),
            });
        }
    };
    if force.is_some() && caller.scope < crate::auth::Scope::Admin {
        return Err(ApiError::Forbidden(format!(
            "{} has scope {}; a forced replace needs admin",
            caller.name, caller.scope
        )));
    }
    let Ok(_publishing) = state.publish_permits.clone().try_acquire_owned() else {
        return Err(ApiError::Overloaded(
            "the registry is at its limit of concurrent publishes (--max-concurrent-publishes); retry shortly".to_owned(),
        ));
    };
    let max_size = state.settings.max_pack_size;
    let staged = state
        .blobs
        .stage(
            body.into_data_stream(),
            Expectation {
                digest: None,
                size: None,
                max_size,
            },
        )
        .await
        .map_err(|e| match e {
            PutError::TooLarge { limit } => {
                ApiError::ArchiveTooLarge(format!("uploads are limited to {limit} bytes"))
            }
            other => other.into(),
        })?;
    let file = staged.open()?;
    let spill = state.blobs.staging_dir();
    let files = tokio::task::spawn_blocking(move || {
        PackFiles::from_archive(file, &Limits::default(), &spill)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|e| ApiError::from(publish::PublishError::Pack(e.into())))?;
    let (pack, assets) = publish::read_pack(files).await?;
    caller.may_write(pack.name.as_str())?;
    let published = publish::publish(
        &state.db,
        &state.blobs,
        pack,
        assets,
        Archive::Staged(staged),
        force.as_ref(),
        &caller.name,
    )
    .await?;
    let (status, label) = match published.status {
        PublishStatus::Created => (StatusCode::CREATED, "created"),
        PublishStatus::Replaced => (StatusCode::CREATED, "replaced"),
        PublishStatus::Unchanged => (StatusCode::OK, "unchanged"),
    };
    state.metrics.publish(label);
    if published.status != PublishStatus::Unchanged {
        state.pack_written(&published.name);
        tracing::info!(pack = %published.name, version = %published.version, digest = %published.digest, status = label, "pack published");
    }
    let body = PublishResponse {
        uid: published.uid,
        name: published.name,
        version: published.version,
        digest: published.digest.to_string(),
        status: label,
        warnings: published.warnings,
    };
    Ok((status, Json(body)).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StateChange {
    state: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct StateResponse {
    uid: String,
    name: String,
    version: String,
    state: PackState,
}

/// `PATCH /v1/packs/{name}/tags/{version}` with `{"state": "deprecated"}`.
#[utoipa::path(patch, path = "/v1/packs/{pack}/tags/{version}", tag = "publishing", params(("pack" = String, Path, description = "Pack name, e.g. cni-calico"), ("version" = String, Path, description = "An exact version")), request_body(content = StateChange, content_type = "application/json"), security(("bearer" = [])), responses((status = 200, body = StateResponse)))]
pub async fn change_state(
    AdminAccess(caller): AdminAccess,
    State(state): State<AppState>,
    ApiPath((name, version)): ApiPath<(String, String)>,
    ApiJson(change): ApiJson<StateChange>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let name: PackName = name.parse()?;
    caller.may_write(name.as_str())?;
    let new_state: PackState = change
        .state
        .parse()
        .map_err(|e: crate::domain::PackStateError| ApiError::InvalidBody(e.to_string()))?;
    let row = lifecycle::change_state(&state.db, name.as_str(), &version, new_state, &caller.name)
        .await?;
    state.pack_written(name.as_str());
    tracing::info!(pack = %name, version = %version, state = %new_state, "pack state changed");
    let body = StateResponse {
        uid: row.uid,
        name: row.pack_name,
        version: row.version,
        state: row.state,
    };
    Ok(Json(
        serde_json::to_value(body).map_err(ApiError::internal)?,
    ))
}
