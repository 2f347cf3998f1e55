//! Listings of the catalog in Palette's shapes: `GET /v1/packs` (versions, filtered and paged by
//! keyset) and `POST /v1/packs/search` (one row per pack, sorted and paged by offset). Bodies are
//! cached by request until the next write.

use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::extract::ApiQuery;
use super::json::ApiJson;
use super::palette::{ListMeta, PackMetadata, PackMetadataList, PackSummaries, PackSummary};
use super::respond::{cached_json, json_body};
use super::{ApiError, AppState, filters, paging};
use crate::domain::PackState;
use crate::registry::catalog::{Filters, Page, SortField, TextFilter, TextMatch, VersionCursor};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Palette's filter terms joined by `AND`: `spec.layer=cni`, `spec.cloudTypes_in_aws,all`.
    filters: Option<String>,
    /// Page size: absent or 0 means 50; more than 50 is 50.
    #[param(minimum = 0)]
    limit: Option<i64>,
    /// The token of the previous page's `listmeta.continue`.
    #[serde(rename = "continue")]
    continue_token: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ListPosition {
    cursor: VersionCursor,
    offset: u64,
}

/// A listing request, parsed.
struct Listing {
    filters: Filters,
    limit: u32,
    position: Option<ListPosition>,
}

impl ListQuery {
    fn parse(&self) -> Result<Listing, ApiError> {
        let filters = match self.filters.as_deref().map(str::trim) {
            Some(text) if !text.is_empty() => filters::parse(text)?,
            _ => Filters::default(),
        };
        let position = match self.continue_token.as_deref() {
            Some(token) if !token.is_empty() => Some(paging::decode(token)?),
            _ => None,
        };
        Ok(Listing {
            filters,
            limit: paging::limit(self.limit)?,
            position,
        })
    }
}

fn list_meta(page: &Page, continue_token: String, limit: u32, offset: u64) -> ListMeta {
    ListMeta {
        continue_token,
        count: page.count,
        limit: u64::from(limit),
        offset,
    }
}

/// `GET /v1/packs?filters=...&limit=&continue=`: pack versions as `v1PackSummaries`.
#[utoipa::path(get, path = "/v1/packs", tag = "packs", params(ListQuery), responses((status = 200, description = "Versions matching the filters (v1PackSummaries)", body = PackSummaries)))]
pub async fn list_packs(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Response, ApiError> {
    let listing = query.parse()?;
    let token = query.continue_token.as_deref().unwrap_or_default();
    let key = [
        b"list".as_slice(),
        query.filters.as_deref().unwrap_or_default().as_bytes(),
    ];
    let limit = listing.limit.to_le_bytes();
    cached_json(
        &state,
        key.into_iter().chain([&limit[..], token.as_bytes()]),
        async {
            let registry = &state.registry;
            let cursor = listing.position.as_ref().map(|p| &p.cursor);
            let page = registry
                .list_versions(&listing.filters, cursor, listing.limit)
                .await?;
            let offset = listing.position.as_ref().map_or(0, |p| p.offset);
            let next = match page.rows.last() {
                Some(last) if page.more => paging::encode(&ListPosition {
                    cursor: VersionCursor::after(last),
                    offset: offset + page.rows.len() as u64,
                }),
                _ => String::new(),
            };
            json_body(&PackSummaries {
                listmeta: list_meta(&page, next, listing.limit, offset),
                items: page
                    .rows
                    .iter()
                    .map(|row| PackSummary::new(row, registry.uid()))
                    .collect(),
            })
        },
    )
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
    #[schema(value_type = Vec<PackState>)]
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
    /// Page size: absent or 0 means 50; more than 50 is 50.
    #[param(minimum = 0)]
    limit: Option<i64>,
    /// Rows to skip (ignored when `continue` is given).
    #[param(minimum = 0)]
    offset: Option<i64>,
    /// The token of the previous page's `listmeta.continue`.
    #[serde(rename = "continue")]
    continue_token: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SearchPosition {
    offset: u64,
}

impl SearchQuery {
    fn offset(&self) -> Result<u64, ApiError> {
        if let Some(token) = self.continue_token.as_deref().filter(|t| !t.is_empty()) {
            return Ok(paging::decode::<SearchPosition>(token)?.offset);
        }
        match self.offset {
            Some(offset) if offset < 0 => Err(ApiError::InvalidParameter {
                name: "offset",
                reason: "must not be negative".to_owned(),
            }),
            Some(offset) => Ok(u64::try_from(offset).unwrap_or(0)),
            None => Ok(0),
        }
    }
}

/// A search, parsed: `None` filters when the spec names only other registries.
struct Search {
    filters: Option<Filters>,
    sort: Vec<(SortField, bool)>,
    offset: u64,
    limit: u32,
}

impl PacksFilterSpec {
    fn parse(self, query: &SearchQuery, registry_uid: &str) -> Result<Search, ApiError> {
        let filter = self.filter.unwrap_or_default();
        let elsewhere = !filter.registry_uid.is_empty()
            && !filter.registry_uid.iter().any(|uid| uid == registry_uid);
        let sort = self.sort.iter().map(PackSortSpec::field).collect();
        Ok(Search {
            filters: if elsewhere {
                None
            } else {
                Some(filter.into_filters()?)
            },
            sort,
            offset: query.offset()?,
            limit: paging::limit(query.limit)?,
        })
    }
}

impl PackFilterSpec {
    fn into_filters(self) -> Result<Filters, ApiError> {
        let states = self
            .state
            .iter()
            .map(|name| name.parse::<PackState>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ApiError::InvalidBody(e.to_string()))?;
        Ok(Filters {
            names: self
                .name
                .map(FilterString::into_filters)
                .unwrap_or_default(),
            display_names: self
                .display_name
                .map(FilterString::into_filters)
                .unwrap_or_default(),
            layers: self.layer,
            types: self.types,
            addon_types: self.addon_type,
            addon_sub_types: self.addon_sub_type,
            sources: self.source,
            clouds: self
                .environment
                .into_iter()
                .filter(|c| c != "all")
                .collect(),
            is_fips: self.is_fips,
            states,
            text: self.text,
        })
    }
}

impl PackSortSpec {
    fn field(&self) -> (SortField, bool) {
        let field = match self.field {
            SortFieldName::Name => SortField::Name,
            SortFieldName::Type => SortField::Type,
            SortFieldName::Layer => SortField::Layer,
            SortFieldName::AddOnType => SortField::AddonType,
            SortFieldName::DisplayName => SortField::DisplayName,
        };
        (field, matches!(self.order, SortOrder::Desc))
    }
}

/// `POST /v1/packs/search`: one row per pack name, described by its latest version.
#[utoipa::path(post, path = "/v1/packs/search", tag = "packs", params(SearchQuery), request_body(content = PacksFilterSpec, content_type = "application/json"), responses((status = 200, description = "One row per pack (v1PackMetadataList)", body = PackMetadataList)))]
pub async fn search_packs(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<SearchQuery>,
    ApiJson(spec): ApiJson<PacksFilterSpec>,
) -> Result<Response, ApiError> {
    let spec_key = serde_json::to_vec(&spec).map_err(ApiError::internal)?;
    let query_key = format!("{query:?}");
    let search = spec.parse(&query, state.registry.uid())?;
    cached_json(
        &state,
        [b"search".as_slice(), &spec_key, query_key.as_bytes()],
        async {
            let registry = &state.registry;
            let page = match &search.filters {
                Some(filters) => {
                    registry
                        .search_packs(filters, &search.sort, search.offset, search.limit)
                        .await?
                }
                None => Page {
                    rows: Vec::new(),
                    count: 0,
                    more: false,
                },
            };
            let next = search.offset + page.rows.len() as u64;
            let token = match page.more {
                true => paging::encode(&SearchPosition { offset: next }),
                false => String::new(),
            };
            let (uid, name) = (registry.uid(), registry.name());
            json_body(&PackMetadataList {
                listmeta: list_meta(&page, token, search.limit, search.offset),
                items: page
                    .rows
                    .iter()
                    .map(|row| PackMetadata::new(row, uid, name))
                    .collect(),
            })
        },
    )
    .await
}
