//! Listings of the catalog in Palette's shapes: `GET /v1/packs` (versions, filtered and paged by
//! keyset) and `POST /v1/packs/search` (one row per pack, sorted and paged by offset). Bodies are
//! cached by request until the next write.

use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::extract::ApiQuery;
use super::json::{ApiJson, null_as_empty};
use super::palette::{ListMeta, PackMetadata, PackMetadataList, PackSummaries, PackSummary};
use super::respond::{cached_json, json_body};
use super::{ApiError, AppState, filters, paging};
use crate::domain::PackState;
use crate::registry::catalog::{
    Filters, Page, SortField, Start, Term, TextFilter, TextMatch, VersionCursor, VersionSort,
};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Palette's filter language: `<field><op><value>` terms joined by `AND` and `OR` (`AND`
    /// binds tighter); operators `=`, `!=`, `>`, `>=`, `<`, `<=` (versions compare as versions)
    /// and `_in_a,b`. E.g. `spec.name=cni-calicoANDspec.version>3.24.0`.
    filters: Option<String>,
    /// `<field>=1|-1,...`, e.g. `spec.version=-1,metadata.name=1`.
    #[serde(rename = "orderBy")]
    #[param(rename = "orderBy")]
    order_by: Option<String>,
    /// Accepted for Palette's clients; every field is returned.
    #[expect(
        dead_code,
        reason = "accepted and ignored, as Palette's clients send it"
    )]
    fields: Option<String>,
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

/// Where the next page starts: after a version in the default order, or at an offset.
#[derive(Debug, Serialize, Deserialize)]
enum ListPosition {
    After { cursor: VersionCursor, offset: u64 },
    Offset(u64),
}

/// A listing request, parsed.
struct Listing {
    filters: Filters,
    sort: Vec<(VersionSort, bool)>,
    limit: u32,
    position: ListPosition,
}

impl ListQuery {
    fn parse(&self, registry_uid: &str) -> Result<Listing, ApiError> {
        let expression = filters::parse(self.filters.as_deref().unwrap_or_default())?;
        let sort = filters::version_order(self.order_by.as_deref().unwrap_or_default())?;
        let position = match self.continue_token.as_deref().filter(|t| !t.is_empty()) {
            Some(token) => match paging::decode(token)? {
                ListPosition::After { .. } if !sort.is_empty() => {
                    return Err(ApiError::InvalidParameter {
                        name: "continue",
                        reason: "not a token this server issued for this orderBy".to_owned(),
                    });
                }
                position => position,
            },
            None => ListPosition::Offset(paging::offset(self.offset)?),
        };
        Ok(Listing {
            filters: Filters {
                any_of: filters::version_terms(&expression, registry_uid)?,
                ..Filters::default()
            },
            sort,
            limit: paging::limit(self.limit)?,
            position,
        })
    }
}

fn list_meta(page: &Page, continue_token: String, limit: u32, next_offset: u64) -> ListMeta {
    ListMeta {
        continue_token,
        count: page.count,
        limit: u64::from(limit),
        offset: next_offset,
    }
}

/// `GET /v1/packs?filters=...&orderBy=...&limit=&offset=&continue=`: pack versions as
/// `v1PackSummaries`, values included. `listmeta.offset` is where the next page starts.
#[utoipa::path(get, path = "/v1/packs", tag = "packs", params(ListQuery), responses((status = 200, description = "Versions matching the filters (v1PackSummaries)", body = PackSummaries)))]
pub async fn list_packs(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Response, ApiError> {
    let listing = query.parse(state.registry.uid())?;
    let key = format!("{query:?}");
    cached_json(&state, [b"list".as_slice(), key.as_bytes()], async {
        let registry = &state.registry;
        let (start, skipped) = match &listing.position {
            ListPosition::After { cursor, offset } => (Start::After(cursor), *offset),
            ListPosition::Offset(offset) => (Start::Offset(*offset), *offset),
        };
        let page = registry
            .list_versions(&listing.filters, &listing.sort, start, listing.limit)
            .await?;
        let next_offset = skipped + page.rows.len() as u64;
        // Keyset paging in the default order (stable while versions are published), offsets
        // for any other order.
        let keyset = listing.sort.is_empty()
            && matches!(
                listing.position,
                ListPosition::After { .. } | ListPosition::Offset(0)
            );
        let next = match page.rows.last() {
            Some(last) if page.more && keyset => paging::encode(&ListPosition::After {
                cursor: VersionCursor::after(last),
                offset: next_offset,
            }),
            Some(_) if page.more => paging::encode(&ListPosition::Offset(next_offset)),
            _ => String::new(),
        };
        let mut documents = registry.documents(&page.rows).await?;
        json_body(&PackSummaries {
            listmeta: list_meta(&page, next, listing.limit, next_offset),
            items: page
                .rows
                .iter()
                .map(|row| PackSummary::new(row, documents.remove(&row.uid), registry.uid()))
                .collect(),
        })
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

/// `v1PackType`: what Palette calls a pack's origin. Every pack of this registry is `spectro`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
enum PaletteType {
    Spectro,
    Helm,
    Manifest,
    Oci,
}

/// `v1PackFilterSpec`. Every list and object may be `null` (Go clients send nil slices so).
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PackFilterSpec {
    name: Option<FilterString>,
    display_name: Option<FilterString>,
    #[serde(rename = "type", default, deserialize_with = "null_as_empty")]
    #[schema(nullable)]
    types: Vec<PaletteType>,
    #[serde(default, deserialize_with = "null_as_empty")]
    #[schema(nullable)]
    layer: Vec<String>,
    /// Clouds; `all` matches every pack.
    #[serde(default, deserialize_with = "null_as_empty")]
    #[schema(nullable)]
    environment: Vec<String>,
    /// Add-on types; "" matches packs without one.
    #[serde(rename = "addOnType", default, deserialize_with = "null_as_empty")]
    #[schema(nullable)]
    addon_type: Vec<String>,
    #[serde(rename = "addOnSubType", default, deserialize_with = "null_as_empty")]
    #[schema(nullable)]
    addon_sub_type: Vec<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    #[schema(nullable)]
    registry_uid: Vec<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    #[schema(nullable)]
    source: Vec<String>,
    is_fips: Option<bool>,
    #[serde(default, deserialize_with = "null_as_empty")]
    #[schema(value_type = Option<Vec<PackState>>)]
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
    #[serde(default, deserialize_with = "null_as_empty")]
    #[schema(nullable)]
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
        paging::offset(self.offset)
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
        // Palette's type: every pack here is "spectro"; a list without it matches nothing.
        let mut terms = Vec::new();
        if !self.types.is_empty() {
            terms.push(Term::Always(self.types.contains(&PaletteType::Spectro)));
        }
        Ok(Filters {
            terms,
            names: self
                .name
                .map(FilterString::into_filters)
                .unwrap_or_default(),
            display_names: self
                .display_name
                .map(FilterString::into_filters)
                .unwrap_or_default(),
            layers: self.layer,
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
            any_of: Vec::new(),
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
                listmeta: list_meta(&page, token, search.limit, next),
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
