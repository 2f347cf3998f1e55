//! What Palette's clients ask about registries and projects before they ask for packs: this
//! registry as Palette's pack registry (list, summary, by uid, sync status), the Helm and OCI
//! registry lists (empty: packyard is neither), registry metadata, and the one default project.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use super::extract::{ApiPath, ApiQuery};
use super::palette::{
    EmptyRegistries, EntityMeta, ListMeta, PackRegistries, PackRegistriesSummary, PackRegistry,
    PackRegistrySpec, PackRegistrySpecSummary, PackRegistryStatus, PackRegistryStatusSummary,
    PackRegistrySummary, ProjectMetadata, ProjectsMetadata, RegistriesMetadata, RegistryAuth,
    RegistryMetadata, RegistrySyncStatus, rfc3339,
};
use super::respond::public_base;
use super::{ApiError, AppState, filters, paging};

/// This registry's scope in Palette's terms: visible to every tenant and project.
const SCOPE: &str = "system";

/// The fields a registry filter may name.
const REGISTRY_FIELDS: &str = "metadata.uid, metadata.name, spec.name, spec.scope";

/// Does a `scope` parameter include this registry? Palette's scopes: `all` (or none), `system`,
/// `tenant`, `project`.
fn in_scope(scope: Option<&str>) -> Result<bool, ApiError> {
    match scope.map(str::trim).unwrap_or_default() {
        "" | "all" | "system" => Ok(true),
        "tenant" | "project" => Ok(false),
        other => Err(ApiError::InvalidParameter {
            name: "scope",
            reason: format!("{other:?} is not a scope: all, system, tenant or project"),
        }),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScopeQuery {
    /// `all` (the default), `system`, `tenant` or `project`.
    #[param(pattern = "^(all|system|tenant|project)?$")]
    scope: Option<String>,
}

/// `GET /v1/registries/metadata?scope=`: this registry, if the scope includes it.
#[utoipa::path(get, path = "/v1/registries/metadata", tag = "registries", params(ScopeQuery), responses((status = 200, body = RegistriesMetadata)))]
pub async fn registries_metadata(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ScopeQuery>,
) -> Result<Json<RegistriesMetadata>, ApiError> {
    let items = match in_scope(query.scope.as_deref())? {
        true => vec![RegistryMetadata {
            uid: state.registry.uid().to_owned(),
            name: state.registry.name().to_owned(),
            kind: "pack",
            scope: SCOPE,
            is_private: state.settings.private,
            is_default: true,
        }],
        false => Vec::new(),
    };
    Ok(Json(RegistriesMetadata { items }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegistryListQuery {
    /// Only the registry of this name.
    name: Option<String>,
    /// `all` (the default), `system`, `tenant` or `project`.
    #[param(pattern = "^(all|system|tenant|project)?$")]
    scope: Option<String>,
    /// Palette's filter language over metadata.uid, metadata.name, spec.name and spec.scope.
    filters: Option<String>,
    /// Accepted for Palette's clients (one registry needs no order).
    #[serde(rename = "orderBy")]
    #[param(rename = "orderBy")]
    #[expect(
        dead_code,
        reason = "accepted and ignored, as Palette's clients send it"
    )]
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
    /// Rows to skip.
    #[param(minimum = 0)]
    offset: Option<i64>,
    /// Accepted for Palette's clients (one registry is never more than a page).
    #[serde(rename = "continue")]
    #[expect(dead_code, reason = "accepted and ignored: every answer fits one page")]
    continue_token: Option<String>,
}

impl RegistryListQuery {
    /// Whether this registry is listed, and the list's meta.
    fn select(&self, state: &AppState) -> Result<(bool, ListMeta), ApiError> {
        // Every parameter is checked, whatever the others select.
        let scoped = in_scope(self.scope.as_deref())?;
        let expression = filters::parse(self.filters.as_deref().unwrap_or_default())?;
        let (uid, name) = (state.registry.uid(), state.registry.name());
        let matched = filters::matches(
            &expression,
            |field| match field {
                "metadata.uid" => Some(uid.to_owned()),
                "metadata.name" | "spec.name" => Some(name.to_owned()),
                "spec.scope" => Some(SCOPE.to_owned()),
                _ => None,
            },
            REGISTRY_FIELDS,
        )?;
        let named = self
            .name
            .as_deref()
            .is_none_or(|n| n.is_empty() || n == name);
        let matched = matched && named && scoped;
        let offset = paging::offset(self.offset)?;
        let shown = matched && offset == 0;
        let meta = ListMeta {
            continue_token: String::new(),
            count: u64::from(matched),
            limit: u64::from(paging::limit(self.limit)?),
            offset: offset + u64::from(shown),
        };
        Ok((shown, meta))
    }
}

fn now() -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    rfc3339(millis)
}

fn meta(state: &AppState) -> EntityMeta {
    EntityMeta {
        uid: state.registry.uid().to_owned(),
        name: state.registry.name().to_owned(),
    }
}

fn pack_registry(state: &AppState, headers: &HeaderMap) -> PackRegistry {
    let auth = match (state.settings.private, state.registry.has_basic_users()) {
        (false, _) => "noAuth",
        (true, true) => "basic",
        (true, false) => "token",
    };
    PackRegistry {
        api_version: "v1",
        kind: "PackRegistry",
        metadata: meta(state),
        spec: PackRegistrySpec {
            auth: RegistryAuth { kind: auth },
            endpoint: public_base(headers),
            name: state.registry.name().to_owned(),
            private: state.settings.private,
            registry_uid: state.registry.uid().to_owned(),
            scope: SCOPE,
        },
        status: PackRegistryStatus {
            pack_sync_status: RegistrySyncStatus::in_sync(now()),
        },
    }
}

/// `GET /v1/registries/pack`: this registry as Palette's pack registry (`v1PackRegistries`).
#[utoipa::path(get, path = "/v1/registries/pack", tag = "registries", params(RegistryListQuery), responses((status = 200, body = PackRegistries)))]
pub async fn pack_registries(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<RegistryListQuery>,
) -> Result<Json<PackRegistries>, ApiError> {
    let (shown, listmeta) = query.select(&state)?;
    let items = match shown {
        true => vec![pack_registry(&state, &headers)],
        false => Vec::new(),
    };
    Ok(Json(PackRegistries { items, listmeta }))
}

/// `GET /v1/registries/pack/summary`: `v1PackRegistriesSummary`.
#[utoipa::path(get, path = "/v1/registries/pack/summary", tag = "registries", params(RegistryListQuery), responses((status = 200, body = PackRegistriesSummary)))]
pub async fn pack_registries_summary(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<RegistryListQuery>,
) -> Result<Json<PackRegistriesSummary>, ApiError> {
    let (shown, listmeta) = query.select(&state)?;
    let items = match shown {
        true => vec![PackRegistrySummary {
            metadata: meta(&state),
            spec: PackRegistrySpecSummary {
                endpoint: public_base(&headers),
                private: state.settings.private,
                scope: SCOPE,
            },
            status: PackRegistryStatusSummary {
                sync: RegistrySyncStatus::in_sync(now()),
            },
        }],
        false => Vec::new(),
    };
    Ok(Json(PackRegistriesSummary { items, listmeta }))
}

/// `GET /v1/registries/pack/{uid}`: `v1PackRegistry`.
#[utoipa::path(get, path = "/v1/registries/pack/{uid}", tag = "registries", params(("uid" = String, Path, description = "This registry's uid")), responses((status = 200, body = PackRegistry)))]
pub async fn pack_registry_by_uid(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(uid): ApiPath<String>,
) -> Result<Json<PackRegistry>, ApiError> {
    state.registry.check_uid(&uid)?;
    Ok(Json(pack_registry(&state, &headers)))
}

/// `GET /v1/registries/pack/{uid}/sync/status`: always in sync (`v1RegistrySyncStatus`).
#[utoipa::path(get, path = "/v1/registries/pack/{uid}/sync/status", tag = "registries", params(("uid" = String, Path, description = "This registry's uid")), responses((status = 200, body = RegistrySyncStatus)))]
pub async fn pack_registry_sync_status(
    State(state): State<AppState>,
    ApiPath(uid): ApiPath<String>,
) -> Result<Json<RegistrySyncStatus>, ApiError> {
    state.registry.check_uid(&uid)?;
    Ok(Json(RegistrySyncStatus::in_sync(now())))
}

/// An empty list of registries of a kind packyard is not (Helm, OCI); the query is still checked.
fn empty(query: &RegistryListQuery) -> Result<Json<EmptyRegistries>, ApiError> {
    in_scope(query.scope.as_deref())?;
    filters::parse(query.filters.as_deref().unwrap_or_default())?;
    paging::offset(query.offset)?;
    Ok(Json(EmptyRegistries::new(u64::from(paging::limit(
        query.limit,
    )?))))
}

/// `GET /v1/registries/helm`: `v1HelmRegistries`, empty.
#[utoipa::path(get, path = "/v1/registries/helm", tag = "registries", params(RegistryListQuery), responses((status = 200, body = EmptyRegistries)))]
pub async fn helm_registries(
    ApiQuery(query): ApiQuery<RegistryListQuery>,
) -> Result<Json<EmptyRegistries>, ApiError> {
    empty(&query)
}

/// `GET /v1/registries/helm/summary`: `v1HelmRegistriesSummary`, empty.
#[utoipa::path(get, path = "/v1/registries/helm/summary", tag = "registries", params(RegistryListQuery), responses((status = 200, body = EmptyRegistries)))]
pub async fn helm_registries_summary(
    ApiQuery(query): ApiQuery<RegistryListQuery>,
) -> Result<Json<EmptyRegistries>, ApiError> {
    empty(&query)
}

/// `GET /v1/registries/oci/summary`: `v1OciRegistries`, empty.
#[utoipa::path(get, path = "/v1/registries/oci/summary", tag = "registries", params(RegistryListQuery), responses((status = 200, body = EmptyRegistries)))]
pub async fn oci_registries_summary(
    ApiQuery(query): ApiQuery<RegistryListQuery>,
) -> Result<Json<EmptyRegistries>, ApiError> {
    empty(&query)
}

/// `GET /v1/registries/helm/{uid}`: there are no Helm registries here, so always 404.
#[utoipa::path(get, path = "/v1/registries/helm/{uid}", tag = "registries", params(("uid" = String, Path, description = "A Helm registry uid")), responses((status = 404, description = "packyard is a pack registry, not a Helm registry", body = super::palette_errors::PaletteError)))]
pub async fn helm_registry_by_uid(
    State(state): State<AppState>,
    ApiPath(uid): ApiPath<String>,
) -> ApiError {
    ApiError::NotFound(format!(
        "no Helm registry {uid:?}: {} is a pack registry (uid {})",
        state.registry.name(),
        state.registry.uid()
    ))
}

/// The default project's uid: stable for a registry, shaped like Palette's uids (24 hex).
fn project_uid(registry_uid: &str) -> String {
    let digest = Sha256::digest(format!("{registry_uid}/projects/Default").as_bytes());
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// `GET /v1/dashboard/projects/metadata`: one project, `Default` (`v1ProjectsMetadata`). The
/// Terraform provider resolves its `project` setting here before anything else.
#[utoipa::path(get, path = "/v1/dashboard/projects/metadata", tag = "registries", responses((status = 200, body = ProjectsMetadata)))]
pub async fn projects_metadata(State(state): State<AppState>) -> Json<ProjectsMetadata> {
    Json(ProjectsMetadata {
        items: vec![ProjectMetadata {
            metadata: EntityMeta {
                uid: project_uid(state.registry.uid()),
                name: "Default".to_owned(),
            },
        }],
    })
}
