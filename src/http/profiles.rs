//! Cluster profiles: `POST /v1/clusterprofiles/render` (every layer, in layer order, one YAML
//! stream) and `POST /v1/clusterprofiles/validate/packs` (Palette's validation response).

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::extract::ApiQuery;
use super::json::ApiJson;
use super::respond;
use super::{ApiError, AppState};
use crate::domain::PackName;
use crate::registry::rendering::{self, ConstraintError, Profile};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfilePack {
    /// The pack's name.
    #[schema(value_type = PackName)]
    pub name: String,
    /// A version, a parent tag (`3.24.x`) or `latest` (the default).
    #[serde(default)]
    pub tag: Option<String>,
    #[serde(default)]
    pub values: Option<String>,
    #[serde(default)]
    pub presets: Vec<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileBody {
    /// The cloud to render for.
    #[schema(min_length = 1, pattern = r"\S")]
    pub cloud_type: String,
    /// The profile's packs, each named once.
    #[schema(min_items = 1)]
    pub packs: Vec<ProfilePack>,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    #[serde(default)]
    pub cluster_name: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    /// The Kubernetes version charts see (default: the profile's Kubernetes layer).
    #[serde(default)]
    pub kubernetes_version: Option<String>,
    /// The cluster's API server address, `.Spectro.apiServer` in manifests.
    #[serde(default)]
    pub api_server: Option<String>,
    /// Makes random and time functions repeatable.
    #[serde(default, deserialize_with = "super::json::seed")]
    #[schema(minimum = 0, maximum = 9007199254740991.0)]
    pub seed: Option<u64>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProfileQuery {
    strict: Option<bool>,
}

impl ProfileBody {
    /// The profile, checked: a cloud, at least one pack, no pack twice.
    fn profile(self) -> Result<Profile, ApiError> {
        let cloud = self.cloud_type.trim().to_owned();
        if cloud.is_empty() {
            return Err(ApiError::InvalidBody("cloudType is required".to_owned()));
        }
        if self.packs.is_empty() {
            return Err(ApiError::InvalidBody(
                "a profile needs at least one pack".to_owned(),
            ));
        }
        let mut seen = BTreeSet::new();
        if let Some(twice) = self.packs.iter().find(|p| !seen.insert(p.name.as_str())) {
            return Err(ApiError::InvalidBody(format!(
                "pack {} appears twice",
                twice.name
            )));
        }
        let packs = self
            .packs
            .into_iter()
            .map(ProfilePack::into_registry)
            .collect();
        Ok(Profile {
            cloud,
            packs,
            variables: self.variables,
            cluster_name: self.cluster_name,
            region: self.region,
            kubernetes_version: self.kubernetes_version,
            api_server: self.api_server,
            seed: self.seed,
        })
    }
}

impl ProfilePack {
    fn into_registry(self) -> rendering::ProfilePack {
        let tag = self.tag.filter(|t| !t.is_empty());
        rendering::ProfilePack {
            name: self.name,
            tag: tag.unwrap_or_else(|| "latest".to_owned()),
            values: self.values,
            presets: self.presets,
        }
    }
}

/// `POST /v1/clusterprofiles/render`.
#[utoipa::path(post, path = "/v1/clusterprofiles/render", tag = "rendering", params(ProfileQuery), request_body(content = ProfileBody, content_type = "application/json"), responses((status = 200, description = "Every layer rendered in order", content((Vec<Object> = "application/yaml"), (Object = "application/json")))))]
pub async fn render_profile(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ProfileQuery>,
    request: HeaderMap,
    ApiJson(body): ApiJson<ProfileBody>,
) -> Result<Response, ApiError> {
    let profile = body.profile()?;
    let strict = query.strict.unwrap_or(state.settings.strict_by_default);
    let format = respond::format(&request);
    state.metrics.render("profile");
    let body = state
        .registry
        .render_profile(profile, strict, format)
        .await?;
    respond::rendered(&body, format, &request, HeaderMap::new())
}

/// `v1ConstraintValidatorResult`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValidatorResult {
    name: String,
    display_name: String,
    errors: Vec<ConstraintError>,
}

/// `v1ClusterProfileValidatorResponse`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ValidatorResponse {
    packs: ValidatorResults,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ValidatorResults {
    results: Vec<ValidatorResult>,
}

/// `POST /v1/clusterprofiles/validate/packs`: every problem of every pack, none fatal.
#[utoipa::path(post, path = "/v1/clusterprofiles/validate/packs", tag = "rendering", request_body(content = ProfileBody, content_type = "application/json"), responses((status = 200, body = ValidatorResponse)))]
pub async fn validate_profile(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ProfileBody>,
) -> Result<Json<ValidatorResponse>, ApiError> {
    let findings = state.registry.validate_profile(body.profile()?).await?;
    let results = findings
        .into_iter()
        .map(|found| ValidatorResult {
            name: found.name,
            display_name: found.display_name,
            errors: found.errors,
        })
        .collect();
    Ok(Json(ValidatorResponse {
        packs: ValidatorResults { results },
    }))
}
