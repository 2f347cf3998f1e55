//! Reads of the pack catalog in Palette's shapes.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::blobs;
use super::catalog_cache::json_body;
use super::extract::{ApiPath, ApiQuery};
use super::json::ApiJson;
use super::palette::{
    ListMeta, PackMetadata, PackMetadataList, PackReadme, PackSummaries, PackSummary,
    PackTagEntity, PackTags, PackUidValues, RegistriesMetadata, RegistryMetadata, logo_url,
    union_cloud_types,
};
use super::render_cache::request_key;
use super::{ApiError, AppState, filters, paging};
use crate::domain::{PackName, PackState, Version};
use crate::registry::tags;
use crate::store::blob_records::BlobRecord;
use crate::store::catalog::{self, Filters, SortField, TextFilter, TextMatch, VersionCursor};
use crate::store::versions::{self, VersionRow};

/// `GET /v1/registries/metadata`: this registry.
#[utoipa::path(get, path = "/v1/registries/metadata", tag = "packs", responses((status = 200, body = RegistriesMetadata)))]
pub async fn registries_metadata(State(state): State<AppState>) -> Json<RegistriesMetadata> {
    Json(RegistriesMetadata {
        items: vec![RegistryMetadata {
            uid: state.settings.registry_uid.clone(),
            name: state.settings.registry_name.clone(),
            kind: "pack",
            scope: "system",
            is_private: false,
            is_default: true,
        }],
    })
}

fn check_registry(state: &AppState, registry_uid: &str) -> Result<(), ApiError> {
    if registry_uid == state.settings.registry_uid {
        Ok(())
    } else {
        Err(ApiError::RegistryUnknown(format!(
            "registry {registry_uid} is not this registry (uid {})",
            state.settings.registry_uid
        )))
    }
}

pub async fn versions_of(state: &AppState, name: &str) -> Result<Arc<Vec<VersionRow>>, ApiError> {
    let name: PackName = name.parse()?;
    let rows = state.pack_rows.get(&state.db, name.as_str()).await?;
    if rows.is_empty() {
        return Err(ApiError::PackUnknown(format!(
            "pack {name} is not published"
        )));
    }
    Ok(rows)
}

/// Which states a listing shows: active and deprecated, plus whatever `states` adds.
fn visible_states(states: Option<&str>) -> Result<Vec<PackState>, ApiError> {
    let mut visible = vec![PackState::Active, PackState::Deprecated];
    for name in states
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
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

/// The newest of `rows` by version order (the entity's display fields come from it).
fn newest(rows: &[VersionRow]) -> Option<&VersionRow> {
    rows.iter()
        .filter_map(|row| Version::parse(&row.version).ok().map(|v| (v, row)))
        .max_by(|(a, _), (b, _)| a.cmp(b))
        .map(|(_, row)| row)
}

async fn tag_entity(state: &AppState, visible: &[VersionRow]) -> Result<PackTagEntity, ApiError> {
    let registry_uid = &state.settings.registry_uid;
    // The entity describes the pack by its newest listed version (or newest at all).
    let listed: Vec<VersionRow> = visible
        .iter()
        .filter(|r| r.state.is_listed())
        .cloned()
        .collect();
    let display = newest(&listed)
        .or_else(|| newest(visible))
        .cloned()
        .ok_or_else(|| ApiError::internal("tag entity without versions"))?;
    let documents =
        versions::load_documents_for_pack(state.db.reader(), &display.pack_name).await?;
    let mut pack_values = Vec::with_capacity(visible.len());
    for row in visible {
        let pack = documents
            .get(&row.uid)
            .ok_or_else(|| ApiError::internal(format!("version {} has no document", row.uid)))?;
        pack_values.push(PackUidValues::new(row, pack, registry_uid));
    }
    Ok(PackTagEntity {
        name: display.pack_name.clone(),
        display_name: display.display_name.clone(),
        layer: display.layer.clone(),
        cloud_types: union_cloud_types(visible),
        addon_type: display.addon_type.clone(),
        addon_sub_type: display.addon_sub_type.clone(),
        logo_url: logo_url(&display),
        registry_uid: registry_uid.clone(),
        tags: tags::tag_entries(visible)
            .into_iter()
            .map(PackTags::from)
            .collect(),
        pack_values,
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct PackRegistryQuery {
    cloud_type: Option<String>,
    layer: Option<String>,
    states: Option<String>,
}

/// `GET /v1/packs/{name}/registries/{registryUid}`: every version of a pack with its tags (parent
/// tags as their own entries) and values.
#[utoipa::path(get, path = "/v1/packs/{pack}/registries/{registry}", tag = "packs", params(("pack" = String, Path, description = "Pack name, e.g. cni-calico"), ("registry" = String, Path, description = "This registry's uid"), PackRegistryQuery), responses((status = 200, description = "Every version with its tags (v1PackTagEntity)", body = PackTagEntity)))]
pub async fn pack_in_registry(
    State(state): State<AppState>,
    ApiPath((name, registry_uid)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<PackRegistryQuery>,
) -> Result<Response, ApiError> {
    check_registry(&state, &registry_uid)?;
    let key = request_key([
        b"entity".as_slice(),
        name.as_bytes(),
        query.cloud_type.as_deref().unwrap_or_default().as_bytes(),
        query.layer.as_deref().unwrap_or_default().as_bytes(),
        query.states.as_deref().unwrap_or_default().as_bytes(),
    ]);
    let catalog = state.catalog.clone();
    catalog
        .get_or_compute(&state.db, key, async {
            let rows = versions_of(&state, &name).await?;
            let states = visible_states(query.states.as_deref())?;
            let cloud = query
                .cloud_type
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty() && *c != "all");
            let layer = query
                .layer
                .as_deref()
                .map(str::trim)
                .filter(|l| !l.is_empty());
            let visible: Vec<VersionRow> = rows
                .iter()
                .filter(|row| states.contains(&row.state))
                .filter(|row| {
                    cloud.is_none_or(|c| row.cloud_types.iter().any(|t| t == c || t == "all"))
                })
                .filter(|row| layer.is_none_or(|l| row.layer == l))
                .cloned()
                .collect();
            if visible.is_empty() {
                return Err(ApiError::PackUnknown(format!(
                    "no version of pack {name} matches the requested cloud type, layer and states"
                )));
            }
            let entity = tag_entity(&state, &visible).await?;
            json_body(&entity)
        })
        .await
}

/// `GET /v1/packs/{uid}`: one version, as a `v1PackTagEntity` with that version alone.
#[utoipa::path(get, path = "/v1/packs/{pack}", tag = "packs", params(("pack" = String, Path, description = "Pack name (or, on this route, a version uid)")), responses((status = 200, body = PackTagEntity)))]
pub async fn pack_by_uid(
    State(state): State<AppState>,
    ApiPath(uid): ApiPath<String>,
) -> Result<Json<PackTagEntity>, ApiError> {
    let row = version_by_uid(&state, &uid).await?;
    Ok(Json(tag_entity(&state, std::slice::from_ref(&row)).await?))
}

async fn version_by_uid(state: &AppState, uid: &str) -> Result<VersionRow, ApiError> {
    versions::find_by_uid(state.db.reader(), uid)
        .await?
        .filter(|row| row.state != PackState::Deleted)
        .ok_or_else(|| ApiError::NotFound(format!("no pack version has uid {uid}")))
}

/// `GET /v1/packs/{uid}/readme`.
#[utoipa::path(get, path = "/v1/packs/{pack}/readme", tag = "packs", params(("pack" = String, Path, description = "Pack name (or, on this route, a version uid)")), responses((status = 200, body = PackReadme)))]
pub async fn readme(
    State(state): State<AppState>,
    ApiPath(uid): ApiPath<String>,
) -> Result<Json<PackReadme>, ApiError> {
    let row = version_by_uid(&state, &uid).await?;
    let pack = versions::load_document(state.db.reader(), &row.uid)
        .await?
        .ok_or_else(|| ApiError::internal("version without document"))?;
    Ok(Json(PackReadme {
        readme: pack.readme.unwrap_or_default(),
    }))
}

/// `GET /v1/packs/{uid}/logo`: the logo image, cached like any blob.
#[utoipa::path(get, path = "/v1/packs/{pack}/logo", tag = "packs", params(("pack" = String, Path, description = "Pack name (or, on this route, a version uid)")), responses((status = 200, description = "The logo", content_type = "image/png", body = Vec<u8>), (status = 304, description = "Not modified (ETag)")))]
pub async fn logo(
    State(state): State<AppState>,
    ApiPath(uid): ApiPath<String>,
    request: HeaderMap,
) -> Result<Response, ApiError> {
    let row = version_by_uid(&state, &uid).await?;
    let digest = row
        .logo_digest
        .ok_or_else(|| ApiError::NotFound(format!("pack version {uid} has no logo")))?;
    let size = state.blobs.size_of(&digest).await?.ok_or_else(|| {
        ApiError::internal(format!("logo {digest} is missing from the blob store"))
    })?;
    // The type recorded at publish (from the image's signature); served like any blob.
    let pack: crate::domain::PackName = row.pack_name.parse()?;
    let media_type = state
        .blob_cache
        .find(&state.db, &pack, &digest)
        .await?
        .and_then(|found| found.media_type);
    let record = BlobRecord {
        digest,
        size,
        media_type,
    };
    blobs::serve(&state, &record, None, &request, true).await
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TagList {
    name: String,
    tags: Vec<String>,
}

/// `GET /v1/{pack}/tags/list`: the pack's listed tags, oldest version first.
#[utoipa::path(get, path = "/v1/{pack}/tags/list", tag = "registry protocol", params(("pack" = String, Path, description = "Pack name, e.g. cni-calico")), responses((status = 200, body = TagList)))]
pub async fn tag_list(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<TagList>, ApiError> {
    let rows = versions_of(&state, &name).await?;
    Ok(Json(TagList {
        name,
        tags: rows
            .iter()
            .filter(|row| row.state.is_listed())
            .map(|row| row.tag.clone())
            .collect(),
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    filters: Option<String>,
    limit: Option<i64>,
    #[serde(rename = "continue")]
    continue_token: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ListPosition {
    cursor: VersionCursor,
    offset: u64,
}

/// `GET /v1/packs?filters=...&limit=&continue=`: pack versions as `v1PackSummaries`.
#[utoipa::path(get, path = "/v1/packs", tag = "packs", params(ListQuery), responses((status = 200, description = "Versions matching the filters (v1PackSummaries)", body = PackSummaries)))]
pub async fn list_packs(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Response, ApiError> {
    let key = request_key([
        b"list".as_slice(),
        query.filters.as_deref().unwrap_or_default().as_bytes(),
        format!("{:?}", query.limit).as_bytes(),
        query
            .continue_token
            .as_deref()
            .unwrap_or_default()
            .as_bytes(),
    ]);
    let catalog = state.catalog.clone();
    catalog
        .get_or_compute(&state.db, key, async {
            let filters = match query
                .filters
                .as_deref()
                .map(str::trim)
                .filter(|f| !f.is_empty())
            {
                Some(text) => filters::parse(text)?,
                None => Filters::default(),
            };
            let limit = paging::limit(query.limit)?;
            let position: Option<ListPosition> = query
                .continue_token
                .as_deref()
                .filter(|t| !t.is_empty())
                .map(paging::decode)
                .transpose()?;
            let reader = state.db.reader();
            let mut rows = catalog::list_versions(
                reader,
                &filters,
                position.as_ref().map(|p| &p.cursor),
                limit + 1,
            )
            .await?;
            let count = catalog::count_versions(reader, &filters).await?;
            let offset = position.as_ref().map_or(0, |p| p.offset);
            let more = rows.len() > limit as usize;
            rows.truncate(limit as usize);
            let continue_token = match rows.last() {
                Some(last) if more => paging::encode(&ListPosition {
                    cursor: VersionCursor {
                        pack_name: last.pack_name.clone(),
                        version_key: last.version_key.clone(),
                    },
                    offset: offset + rows.len() as u64,
                }),
                _ => String::new(),
            };
            let registry_uid = &state.settings.registry_uid;
            let summaries = PackSummaries {
                listmeta: ListMeta {
                    continue_token,
                    count,
                    limit: u64::from(limit),
                    offset,
                },
                items: rows
                    .iter()
                    .map(|row| PackSummary::new(row, registry_uid))
                    .collect(),
            };
            json_body(&summaries)
        })
        .await
}

/// `v1FilterString`.
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FilterString {
    eq: Option<String>,
    ne: Option<String>,
    contains: Option<String>,
    begins_with: Option<String>,
    ignore_case: Option<bool>,
}

impl FilterString {
    fn into_filters(self) -> Vec<TextFilter> {
        let ignore_case = self.ignore_case.unwrap_or(true);
        [
            self.eq.map(TextMatch::Eq),
            self.ne.map(TextMatch::Ne),
            self.contains.map(TextMatch::Contains),
            self.begins_with.map(TextMatch::BeginsWith),
        ]
        .into_iter()
        .flatten()
        .map(|matcher| TextFilter {
            matcher,
            ignore_case,
        })
        .collect()
    }
}

/// `v1PackFilterSpec`.
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PackFilterSpec {
    name: Option<FilterString>,
    display_name: Option<FilterString>,
    #[serde(rename = "type", default)]
    types: Vec<String>,
    #[serde(default)]
    layer: Vec<String>,
    #[serde(default)]
    environment: Vec<String>,
    #[serde(rename = "addOnType", default)]
    addon_type: Vec<String>,
    #[serde(rename = "addOnSubType", default)]
    addon_sub_type: Vec<String>,
    #[serde(default)]
    registry_uid: Vec<String>,
    #[serde(default)]
    source: Vec<String>,
    is_fips: Option<bool>,
    #[serde(default)]
    state: Vec<String>,
    /// packyard extension: text the name or display name contains (ignoring case).
    #[serde(default)]
    text: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
enum SortFieldName {
    Name,
    Type,
    Layer,
    #[serde(rename = "addOnType")]
    AddOnType,
    DisplayName,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
enum SortOrder {
    #[default]
    Asc,
    Desc,
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
pub struct PackSortSpec {
    field: SortFieldName,
    #[serde(default)]
    order: SortOrder,
}

/// `v1PacksFilterSpec`.
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct PacksFilterSpec {
    #[serde(default)]
    filter: Option<PackFilterSpec>,
    #[serde(default)]
    sort: Vec<PackSortSpec>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    limit: Option<i64>,
    offset: Option<i64>,
    #[serde(rename = "continue")]
    continue_token: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SearchPosition {
    offset: u64,
}

/// `POST /v1/packs/search`: one row per pack name, described by its latest version.
#[utoipa::path(post, path = "/v1/packs/search", tag = "packs", params(SearchQuery), request_body(content = PacksFilterSpec, content_type = "application/json"), responses((status = 200, description = "One row per pack (v1PackMetadataList)", body = PackMetadataList)))]
pub async fn search_packs(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<SearchQuery>,
    ApiJson(spec): ApiJson<PacksFilterSpec>,
) -> Result<Response, ApiError> {
    let key = request_key([
        b"search".as_slice(),
        &serde_json::to_vec(&spec).map_err(ApiError::internal)?,
        format!("{:?} {:?}", query.limit, query.offset).as_bytes(),
        query
            .continue_token
            .as_deref()
            .unwrap_or_default()
            .as_bytes(),
    ]);
    let catalog = state.catalog.clone();
    catalog
        .get_or_compute(&state.db, key, async {
            let filter = spec.filter.unwrap_or_default();
            let registry_uid = state.settings.registry_uid.clone();
            let limit = paging::limit(query.limit)?;
            let offset = match (
                query.continue_token.as_deref().filter(|t| !t.is_empty()),
                query.offset,
            ) {
                (Some(token), _) => paging::decode::<SearchPosition>(token)?.offset,
                (None, Some(offset)) if offset < 0 => {
                    return Err(ApiError::InvalidParameter {
                        name: "offset",
                        reason: "must not be negative".to_owned(),
                    });
                }
                (None, Some(offset)) => u64::try_from(offset).unwrap_or(0),
                (None, None) => 0,
            };
            let empty = |offset| PackMetadataList {
                items: Vec::new(),
                listmeta: ListMeta {
                    continue_token: String::new(),
                    count: 0,
                    limit: u64::from(limit),
                    offset,
                },
            };
            if !filter.registry_uid.is_empty() && !filter.registry_uid.contains(&registry_uid) {
                return json_body(&empty(offset));
            }
            let mut states = Vec::new();
            for name in &filter.state {
                states.push(
                    name.parse::<PackState>()
                        .map_err(|e| ApiError::InvalidBody(e.to_string()))?,
                );
            }
            let filters = Filters {
                names: filter
                    .name
                    .map(FilterString::into_filters)
                    .unwrap_or_default(),
                display_names: filter
                    .display_name
                    .map(FilterString::into_filters)
                    .unwrap_or_default(),
                layers: filter.layer,
                types: filter.types,
                addon_types: filter.addon_type,
                addon_sub_types: filter.addon_sub_type,
                sources: filter.source,
                clouds: filter
                    .environment
                    .into_iter()
                    .filter(|c| c != "all")
                    .collect(),
                is_fips: filter.is_fips,
                states,
                text: filter.text,
            };
            let sort: Vec<(SortField, bool)> = spec
                .sort
                .iter()
                .map(|s| {
                    let field = match s.field {
                        SortFieldName::Name => SortField::Name,
                        SortFieldName::Type => SortField::Type,
                        SortFieldName::Layer => SortField::Layer,
                        SortFieldName::AddOnType => SortField::AddonType,
                        SortFieldName::DisplayName => SortField::DisplayName,
                    };
                    (field, matches!(s.order, SortOrder::Desc))
                })
                .collect();
            let reader = state.db.reader();
            let mut rows =
                catalog::search_packs(reader, &filters, &sort, offset, limit + 1).await?;
            let count = catalog::count_packs(reader, &filters).await?;
            let more = rows.len() > limit as usize;
            rows.truncate(limit as usize);
            let next = offset + rows.len() as u64;
            let registry_name = &state.settings.registry_name;
            let list = PackMetadataList {
                items: rows
                    .iter()
                    .map(|row| PackMetadata::new(row, &registry_uid, registry_name))
                    .collect(),
                listmeta: ListMeta {
                    continue_token: if more {
                        paging::encode(&SearchPosition { offset: next })
                    } else {
                        String::new()
                    },
                    count,
                    limit: u64::from(limit),
                    offset,
                },
            };
            json_body(&list)
        })
        .await
}

/// `GET /v1/packs/{name}/tags/{tag}`: the one version a tag (a version, `3.24.x`, or `latest`)
/// resolves to, so tools need not scan every tag. `X-Pack-Version` names the version.
#[utoipa::path(get, path = "/v1/packs/{pack}/tags/{version}", tag = "packs", params(("pack" = String, Path, description = "Pack name, e.g. cni-calico"), ("version" = String, Path, description = "A version (3.24.6), a parent tag (3.24.x, 3.x) or latest")), responses((status = 200, description = "The version the tag resolves to", body = PackTagEntity)))]
pub async fn pack_by_tag(
    State(state): State<AppState>,
    ApiPath((name, tag)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let rows = versions_of(&state, &name).await?;
    let row = crate::registry::tags::resolve(&name, &rows, &tag)?.clone();
    let entity = tag_entity(&state, std::slice::from_ref(&row)).await?;
    let mut response = Json(entity).into_response();
    if let Ok(value) = axum::http::HeaderValue::from_str(&row.version) {
        response.headers_mut().insert("x-pack-version", value);
    }
    Ok(response)
}
