//! Rendering a pack for a cloud: `POST`/`GET /v1/packs/{name}/tags/{tag}/render` and the resolved
//! default values, `GET /v1/packs/{name}/tags/{tag}/values`.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::extract::{ApiQuery, TagPath};
use super::json::ApiJson;
use super::respond::{self, header_text};
use super::{ApiError, AppState};
use crate::domain::{PackName, PackState};
use crate::registry::VersionRow;
use crate::registry::rendering::{CacheOutcome, RenderInputs, Rendered, to_yaml};

/// `POST .../render` body; all but `cloudType` optional.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RenderBody {
    /// The cloud to render for (aws, azure, gcp, vsphere, ...).
    #[schema(min_length = 1, pattern = r"\S")]
    pub cloud_type: String,
    /// YAML deep-merged over the pack's values.
    #[serde(default)]
    pub values: Option<String>,
    /// Presets to apply, as `Group:name`.
    #[serde(default)]
    pub presets: Vec<String>,
    /// Profile variables for `.spectro.var.<name>`.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub cluster_name: Option<String>,
    /// The Kubernetes version charts see as `.Capabilities.KubeVersion` (default: Helm's).
    #[serde(default)]
    pub kubernetes_version: Option<String>,
    /// The cluster's API server address, `.Spectro.apiServer` in manifests.
    #[serde(default)]
    pub api_server: Option<String>,
    /// Makes random and time functions repeatable (`randAlphaNum`, `genCA`, `uuidv4`, `now`).
    #[serde(default, deserialize_with = "super::json::seed")]
    #[schema(minimum = 0, maximum = 9007199254740991.0)]
    pub seed: Option<u64>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct RenderQuery {
    /// Any missing key is an error (default: the server's `--strict`).
    strict: Option<bool>,
}

/// The query of the `GET` renders, which name their cloud here.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct CloudQuery {
    /// The cloud to render for (aws, azure, gcp, vsphere, ...).
    #[param(min_length = 1, pattern = r"\S")]
    cloud_type: String,
    /// Any missing key is an error (default: the server's `--strict`).
    strict: Option<bool>,
}

/// The cloud a request names, trimmed; required.
fn cloud(value: &str) -> Result<String, ApiError> {
    match value.trim() {
        cloud if !cloud.is_empty() => Ok(cloud.to_owned()),
        _ => Err(ApiError::InvalidParameter {
            name: "cloudType",
            reason: "the cloud to render for is required".to_owned(),
        }),
    }
}

impl RenderBody {
    fn inputs(self) -> Result<RenderInputs, ApiError> {
        Ok(RenderInputs {
            cloud: cloud(&self.cloud_type)?,
            values: self.values,
            presets: self.presets,
            variables: self.variables,
            region: self.region,
            cluster_name: self.cluster_name,
            kubernetes_version: self.kubernetes_version,
            api_server: self.api_server,
            seed: self.seed,
        })
    }
}

/// `X-Pack-Version`, `X-Pack-Digest`, `X-Render-Cache` and, for deprecated versions, a `Warning`.
fn version_headers(row: &VersionRow, cache: CacheOutcome) -> Result<HeaderMap, ApiError> {
    let mut headers = HeaderMap::new();
    headers.insert("x-pack-version", header_text(row.version.as_str())?);
    headers.insert("x-pack-digest", header_text(&row.digest.to_string())?);
    let outcome = match cache {
        CacheOutcome::Hit => "hit",
        CacheOutcome::Miss => "miss",
    };
    headers.insert("x-render-cache", HeaderValue::from_static(outcome));
    if row.state == PackState::Deprecated {
        let warning = format!("299 - \"{} {} is deprecated\"", row.pack_name, row.version);
        headers.insert(header::WARNING, header_text(&warning)?);
    }
    Ok(headers)
}

async fn render_tag(
    state: &AppState,
    path: TagPath,
    inputs: RenderInputs,
    strict: Option<bool>,
    request: &HeaderMap,
) -> Result<Response, ApiError> {
    let strict = strict.unwrap_or(state.settings.strict_by_default);
    let format = respond::format(request);
    let registry = &state.registry;
    let rendered = registry
        .render_pack(&path.pack, &path.tag, inputs, strict, format)
        .await?;
    let Rendered {
        row,
        body,
        cache,
        nothing_to_render,
    } = rendered;
    state.metrics.render_cache(cache == CacheOutcome::Hit);
    if cache == CacheOutcome::Miss {
        state.metrics.render("pack");
    }
    let mut headers = version_headers(&row, cache)?;
    if nothing_to_render {
        let warning = format!(
            "299 - \"{} {} has nothing to render: it lists no manifests (kubeManifests) and no charts\"",
            row.pack_name, row.version
        );
        headers.append(header::WARNING, header_text(&warning)?);
    }
    respond::rendered(&body, format, request, headers)
}

/// `POST /v1/packs/{name}/tags/{tag}/render`.
#[utoipa::path(post, path = "/v1/packs/{pack}/tags/{version}/render", tag = "rendering", params(("pack" = PackName, Path, description = "Pack name, e.g. cni-calico"), ("version" = String, Path, description = "A version (3.24.6), a parent tag (3.24.x, 3.x) or latest"), RenderQuery), request_body(content = RenderBody, content_type = "application/json"), responses((status = 200, description = "The rendered objects: YAML stream, or JSON with Accept: application/json", content((Vec<Object> = "application/yaml"), (Object = "application/json"))), (status = 304, description = "Not modified (ETag)")))]
pub async fn render_post(
    State(state): State<AppState>,
    path: TagPath,
    ApiQuery(query): ApiQuery<RenderQuery>,
    request: HeaderMap,
    ApiJson(body): ApiJson<RenderBody>,
) -> Result<Response, ApiError> {
    render_tag(&state, path, body.inputs()?, query.strict, &request).await
}

/// `GET /v1/packs/{name}/tags/{tag}/render?cloudType=`: the pack's defaults for that cloud.
#[utoipa::path(get, path = "/v1/packs/{pack}/tags/{version}/render", tag = "rendering", params(("pack" = PackName, Path, description = "Pack name, e.g. cni-calico"), ("version" = String, Path, description = "A version (3.24.6), a parent tag (3.24.x, 3.x) or latest"), CloudQuery), responses((status = 200, description = "The pack rendered with its defaults for the cloud", content((Vec<Object> = "application/yaml"), (Object = "application/json"))), (status = 304, description = "Not modified (ETag)")))]
pub async fn render_get(
    State(state): State<AppState>,
    path: TagPath,
    ApiQuery(query): ApiQuery<CloudQuery>,
    request: HeaderMap,
) -> Result<Response, ApiError> {
    let inputs = RenderInputs {
        cloud: cloud(&query.cloud_type)?,
        ..RenderInputs::default()
    };
    render_tag(&state, path, inputs, query.strict, &request).await
}

/// `GET /v1/packs/{name}/tags/{tag}/values?cloudType=`: the resolved default values as YAML.
#[utoipa::path(get, path = "/v1/packs/{pack}/tags/{version}/values", tag = "rendering", params(("pack" = PackName, Path, description = "Pack name, e.g. cni-calico"), ("version" = String, Path, description = "A version (3.24.6), a parent tag (3.24.x, 3.x) or latest"), CloudQuery), responses((status = 200, description = "The resolved values for the cloud", content_type = "application/yaml", body = Object)))]
pub async fn default_values(
    State(state): State<AppState>,
    path: TagPath,
    ApiQuery(query): ApiQuery<CloudQuery>,
) -> Result<Response, ApiError> {
    let cloud = cloud(&query.cloud_type)?;
    let (row, values) = state
        .registry
        .default_values(&path.pack, &path.tag, &cloud)
        .await?;
    let mut text = to_yaml(&values);
    text.push('\n');
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/yaml"),
        ),
        (
            header::HeaderName::from_static("x-pack-version"),
            header_text(row.version.as_str())?,
        ),
    ];
    Ok((StatusCode::OK, headers, text).into_response())
}
