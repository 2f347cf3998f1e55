//! Reads of one pack in Palette's shapes: its versions with their tags, one version by uid or tag,
//! its README and logo, and its tag list.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::blob_response::serve;
use super::extract::{ApiPath, ApiQuery, PackPath, TagPath};
use super::palette::{PackReadme, PackTagEntity};
use super::respond::{cached_json, header_text, json_body};
use super::{ApiError, AppState};
use crate::domain::{Layer, PackName, PackState};
use crate::registry::catalog::VersionFilter;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct PackRegistryQuery {
    /// Only versions for this cloud (or for all clouds); `all` or empty: every version.
    cloud_type: Option<String>,
    /// Only versions of this layer.
    #[param(value_type = Option<Layer>)]
    layer: Option<String>,
    /// States shown besides active and deprecated, comma-separated (`disabled,deleted`).
    #[param(
        pattern = "^(active|deprecated|disabled|deleted)?(,(active|deprecated|disabled|deleted)?)*$"
    )]
    states: Option<String>,
}

impl PackRegistryQuery {
    fn filter(&self) -> Result<VersionFilter, ApiError> {
        let text = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let layer = text(&self.layer)
            .map(|l| l.parse::<Layer>())
            .transpose()
            .map_err(|e| ApiError::InvalidParameter {
                name: "layer",
                reason: e.to_string(),
            })?;
        Ok(VersionFilter {
            cloud: text(&self.cloud_type),
            layer,
            states: visible_states(self.states.as_deref())?,
        })
    }
}

/// Active and deprecated, plus whatever `states` adds.
fn visible_states(states: Option<&str>) -> Result<Vec<PackState>, ApiError> {
    let mut visible = vec![PackState::Active, PackState::Deprecated];
    for name in states.unwrap_or_default().split(',').map(str::trim) {
        if name.is_empty() {
            continue;
        }
        let state: PackState = name.parse().map_err(|e: crate::domain::PackStateError| {
            ApiError::InvalidParameter {
                name: "states",
                reason: e.to_string(),
            }
        })?;
        if !visible.contains(&state) {
            visible.push(state);
        }
    }
    Ok(visible)
}

/// `GET /v1/packs/{name}/registries/{registryUid}`: every version of a pack with its tags (parent
/// tags as their own entries) and values.
#[utoipa::path(get, path = "/v1/packs/{pack}/registries/{registry}", tag = "packs", params(("pack" = PackName, Path, description = "Pack name, e.g. cni-calico"), ("registry" = String, Path, description = "This registry's uid"), PackRegistryQuery), responses((status = 200, description = "Every version with its tags (v1PackTagEntity)", body = PackTagEntity)))]
pub async fn pack_in_registry(
    State(state): State<AppState>,
    PackPath(pack): PackPath,
    ApiPath((_, registry_uid)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<PackRegistryQuery>,
) -> Result<Response, ApiError> {
    state.registry.check_uid(&registry_uid)?;
    let filter = query.filter()?;
    let key = format!("{filter:?}");
    let parts = [
        b"entity".as_slice(),
        pack.as_str().as_bytes(),
        key.as_bytes(),
    ];
    cached_json(&state, parts, async {
        let view = state.registry.pack_view(&pack, &filter).await?;
        json_body(&PackTagEntity::new(&view, state.registry.uid()))
    })
    .await
}

/// `GET /v1/packs/{uid}`: one version, as a `v1PackTagEntity` with that version alone.
#[utoipa::path(get, path = "/v1/packs/{pack}", tag = "packs", params(("pack" = PackName, Path, description = "A version uid")), responses((status = 200, body = PackTagEntity)))]
pub async fn pack_by_uid(
    State(state): State<AppState>,
    ApiPath(uid): ApiPath<String>,
) -> Result<Json<PackTagEntity>, ApiError> {
    let row = state.registry.version_by_uid(&uid).await?;
    let view = state.registry.version_view(row).await?;
    Ok(Json(PackTagEntity::new(&view, state.registry.uid())))
}

/// `GET /v1/packs/{uid}/readme`.
#[utoipa::path(get, path = "/v1/packs/{pack}/readme", tag = "packs", params(("pack" = PackName, Path, description = "A version uid")), responses((status = 200, body = PackReadme)))]
pub async fn readme(
    State(state): State<AppState>,
    ApiPath(uid): ApiPath<String>,
) -> Result<Json<PackReadme>, ApiError> {
    let row = state.registry.version_by_uid(&uid).await?;
    let pack = state.registry.document(&row).await?;
    Ok(Json(PackReadme {
        readme: pack.readme.unwrap_or_default(),
    }))
}

/// `GET /v1/packs/{uid}/logo`: the logo image, cached like any blob.
#[utoipa::path(get, path = "/v1/packs/{pack}/logo", tag = "packs", params(("pack" = PackName, Path, description = "A version uid")), responses((status = 200, description = "The logo", content_type = "image/png", body = Vec<u8>), (status = 304, description = "Not modified (ETag)")))]
pub async fn logo(
    State(state): State<AppState>,
    ApiPath(uid): ApiPath<String>,
    request: HeaderMap,
) -> Result<Response, ApiError> {
    // The type recorded at publish (from the image's signature); served like any blob.
    let (_, blob) = state.registry.logo(&uid).await?;
    serve(&state, &blob, None, &request, true).await
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TagList {
    name: String,
    tags: Vec<String>,
}

/// `GET /v1/{pack}/tags/list`: the pack's listed tags, oldest version first.
#[utoipa::path(get, path = "/v1/{pack}/tags/list", tag = "registry protocol", params(("pack" = PackName, Path, description = "Pack name, e.g. cni-calico")), responses((status = 200, body = TagList)))]
pub async fn tag_list(
    State(state): State<AppState>,
    PackPath(pack): PackPath,
) -> Result<Json<TagList>, ApiError> {
    let rows = state.registry.versions(&pack).await?;
    let listed = rows.iter().filter(|row| row.state.is_listed());
    Ok(Json(TagList {
        name: pack.to_string(),
        tags: listed.map(|row| row.tag.clone()).collect(),
    }))
}

/// `GET /v1/packs/{name}/tags/{tag}`: the one version a tag (a version, `3.24.x`, or `latest`)
/// resolves to, so tools need not scan every tag. `X-Pack-Version` names the version.
#[utoipa::path(get, path = "/v1/packs/{pack}/tags/{version}", tag = "packs", params(("pack" = PackName, Path, description = "Pack name, e.g. cni-calico"), ("version" = String, Path, description = "A version (3.24.6), a parent tag (3.24.x, 3.x) or latest")), responses((status = 200, description = "The version the tag resolves to", body = PackTagEntity)))]
pub async fn pack_by_tag(
    State(state): State<AppState>,
    path: TagPath,
) -> Result<Response, ApiError> {
    let row = state.registry.resolve(&path.pack, &path.tag).await?;
    let version = header_text(row.version.as_str())?;
    let view = state.registry.version_view(row).await?;
    let entity = PackTagEntity::new(&view, state.registry.uid());
    Ok(([("x-pack-version", version)], Json(entity)).into_response())
}
