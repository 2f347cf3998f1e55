//! Cluster profiles: `POST /v1/clusterprofiles/render` (every layer, in layer order, one YAML
//! stream) and `POST /v1/clusterprofiles/validate/packs` (Palette's validation response).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::extract::ApiQuery;
use super::json::ApiJson;
use super::render::{Format, encode, load_tag, on_render_pool, respond};
use super::{ApiError, AppState};
use crate::render::pipeline::{LoadedVersion, PackRequest, RenderError};
use crate::render::profile::{self, ConstraintError, Layered};
use crate::store::versions::VersionRow;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfilePack {
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
    pub cloud_type: String,
    pub packs: Vec<ProfilePack>,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    #[serde(default)]
    pub cluster_name: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProfileQuery {
    strict: Option<bool>,
}

fn check_body(body: &ProfileBody) -> Result<(), ApiError> {
    if body.cloud_type.trim().is_empty() {
        return Err(ApiError::InvalidBody("cloudType is required".to_owned()));
    }
    if body.packs.is_empty() {
        return Err(ApiError::InvalidBody(
            "a profile needs at least one pack".to_owned(),
        ));
    }
    let mut seen = BTreeSet::new();
    for pack in &body.packs {
        if !seen.insert(pack.name.as_str()) {
            return Err(ApiError::InvalidBody(format!(
                "pack {} appears twice",
                pack.name
            )));
        }
    }
    Ok(())
}

fn tag_of(pack: &ProfilePack) -> &str {
    pack.tag
        .as_deref()
        .filter(|t| !t.is_empty())
        .unwrap_or("latest")
}

fn requests(body: &ProfileBody) -> Vec<PackRequest> {
    body.packs
        .iter()
        .map(|p| PackRequest {
            values: p.values.clone(),
            presets: p.presets.clone(),
        })
        .collect()
}

/// `POST /v1/clusterprofiles/render`.
#[utoipa::path(post, path = "/v1/clusterprofiles/render", tag = "rendering", params(ProfileQuery), request_body(content = ProfileBody, content_type = "application/json"), responses((status = 200, description = "Every layer rendered in order", content((String = "application/yaml"), (Object = "application/json")))))]
pub async fn render_profile(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ProfileQuery>,
    request: HeaderMap,
    ApiJson(body): ApiJson<ProfileBody>,
) -> Result<Response, ApiError> {
    check_body(&body)?;
    let strict = query.strict.unwrap_or(state.settings.strict_by_default);
    let mut loaded: Vec<Arc<LoadedVersion>> = Vec::with_capacity(body.packs.len());
    for pack in &body.packs {
        let (_, version) = load_tag(&state, &pack.name, tag_of(pack)).await?;
        loaded.push(version);
    }
    let cloud = body.cloud_type.trim().to_owned();
    let variables = body.variables.clone();
    let requests = requests(&body);
    let (cluster_name, region) = (body.cluster_name.clone(), body.region.clone());
    state.metrics.render("profile");
    let documents = on_render_pool(
        &state,
        move |renderer, budget| -> Result<Vec<_>, (String, RenderError)> {
            let versions: Vec<&LoadedVersion> = loaded.iter().map(Arc::as_ref).collect();
            let mut context = profile::base_context(&cloud, &versions, &variables);
            context.cluster_name = cluster_name.unwrap_or_default();
            context.region = region.unwrap_or_default();
            let layers: Vec<Layered<'_>> = versions
                .iter()
                .zip(requests)
                .map(|(version, request)| Layered { version, request })
                .collect();
            let resolved = profile::resolve_all(renderer, &layers, &context, budget);
            let order =
                profile::layer_order(&versions.iter().map(|v| v.pack.layer).collect::<Vec<_>>());
            let mut documents = Vec::new();
            for index in order {
                let version = versions[index];
                let label = format!("{}@{}", version.pack.name, version.pack.version);
                let values = resolved[index]
                    .as_ref()
                    .map_err(|e| (label.clone(), e.clone()))?;
                let (rendered, _) = renderer
                    .render(version, values, strict, budget)
                    .map_err(|e| (label, e))?;
                documents.extend(rendered.iter().cloned());
            }
            Ok(documents)
        },
    )
    .await?
    .map_err(|(pack, error)| prefix(pack, error.into()))?;
    let format = Format::from_headers(&request);
    // The output is a function of the documents: their digest is the ETag.
    let mut hasher = Sha256::new();
    for document in &documents {
        hasher.update(document.source.as_bytes());
        hasher.update(document.text.as_bytes());
    }
    hasher.update([u8::from(format == Format::Json)]);
    let encoded = encode(&documents, format, &hasher.finalize().into())?;
    respond(&encoded, format, &request, HeaderMap::new())
}

/// Names the pack an error came from.
fn prefix(pack: String, error: ApiError) -> ApiError {
    match error {
        ApiError::CloudUnsupported(m) => ApiError::CloudUnsupported(m),
        ApiError::ValuesInvalid { message, errors } => ApiError::ValuesInvalid {
            message: format!("{pack}: {message}"),
            errors,
        },
        ApiError::TemplateInvalid(m) => ApiError::TemplateInvalid(format!("{pack}: {m}")),
        ApiError::RenderFailed { message, file } => ApiError::RenderFailed {
            message: format!("{pack}: {message}"),
            file,
        },
        other => other,
    }
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

fn constraint(code: &str, message: String) -> ConstraintError {
    ConstraintError {
        code: code.to_owned(),
        message,
    }
}

/// Palette-style codes for render errors.
fn constraint_errors(error: &RenderError) -> Vec<ConstraintError> {
    match error {
        RenderError::CloudUnsupported { .. } => {
            vec![constraint("CloudTypeNotSupported", error.to_string())]
        }
        RenderError::Invalid(violations) => violations
            .iter()
            .map(|v| constraint("InvalidValues", format!("{} {}", v.path, v.message)))
            .collect(),
        RenderError::Values(_) | RenderError::Macro(_) => {
            vec![constraint("InvalidValues", error.to_string())]
        }
        RenderError::TemplateInvalid(_) => vec![constraint("TemplateInvalid", error.to_string())],
        RenderError::Failed { .. }
        | RenderError::Template { .. }
        | RenderError::Output(_)
        | RenderError::Limit(_) => {
            vec![constraint("RenderFailed", error.to_string())]
        }
    }
}

/// `POST /v1/clusterprofiles/validate/packs`: every problem of every pack, none fatal.
#[utoipa::path(post, path = "/v1/clusterprofiles/validate/packs", tag = "rendering", request_body(content = ProfileBody, content_type = "application/json"), responses((status = 200, body = ValidatorResponse)))]
pub async fn validate_profile(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ProfileBody>,
) -> Result<Json<ValidatorResponse>, ApiError> {
    check_body(&body)?;
    let mut loaded: Vec<Option<(VersionRow, Arc<LoadedVersion>)>> =
        Vec::with_capacity(body.packs.len());
    let mut results: Vec<ValidatorResult> = Vec::with_capacity(body.packs.len());
    for pack in &body.packs {
        let tag = tag_of(pack);
        match load_tag(&state, &pack.name, tag).await {
            Ok((row, version)) => {
                results.push(ValidatorResult {
                    name: pack.name.clone(),
                    display_name: row.display_name.clone(),
                    errors: Vec::new(),
                });
                loaded.push(Some((row, version)));
            }
            Err(
                error @ (ApiError::PackUnknown(_)
                | ApiError::TagUnknown(_)
                | ApiError::InvalidName(_)),
            ) => {
                results.push(ValidatorResult {
                    name: pack.name.clone(),
                    display_name: pack.name.clone(),
                    errors: vec![constraint("PackNotFound", error.to_string())],
                });
                loaded.push(None);
            }
            Err(other) => return Err(other),
        }
    }
    let cloud = body.cloud_type.trim().to_owned();
    let variables = body.variables.clone();
    let requests = requests(&body);
    let versions: Vec<Option<Arc<LoadedVersion>>> = loaded
        .iter()
        .map(|l| l.as_ref().map(|(_, v)| v.clone()))
        .collect();
    let found_errors = on_render_pool(&state, move |renderer, budget| {
        // Checks run over the packs that exist; indices map back to the request.
        let present: Vec<usize> = (0..versions.len())
            .filter(|i| versions[*i].is_some())
            .collect();
        let present_versions: Vec<&LoadedVersion> = present
            .iter()
            .filter_map(|i| versions[*i].as_deref())
            .collect();
        let context = profile::base_context(&cloud, &present_versions, &variables);
        let layers: Vec<Layered<'_>> = present
            .iter()
            .zip(&present_versions)
            .map(|(i, version)| Layered {
                version,
                request: requests[*i].clone(),
            })
            .collect();
        let resolved = profile::resolve_all(renderer, &layers, &context, budget);
        let mut errors: BTreeMap<usize, Vec<ConstraintError>> = BTreeMap::new();
        for (position, result) in resolved.iter().enumerate() {
            let index = present[position];
            let found = match result {
                Ok(values) => {
                    match renderer.render(present_versions[position], values, false, budget) {
                        Ok(_) => Vec::new(),
                        // A spent budget stops the whole validation.
                        Err(RenderError::Limit(limit)) => return Err(limit),
                        Err(e) => constraint_errors(&e),
                    }
                }
                Err(RenderError::Limit(limit)) => return Err(*limit),
                Err(e) => constraint_errors(e),
            };
            errors.entry(index).or_default().extend(found);
        }
        let values: Vec<Option<&Value>> = resolved.iter().map(|r| r.as_ref().ok()).collect();
        for (position, found) in profile::cross_layer_checks(&present_versions, &values)
            .into_iter()
            .enumerate()
        {
            errors.entry(present[position]).or_default().extend(found);
        }
        Ok(errors)
    })
    .await?
    .map_err(|limit| ApiError::from(RenderError::Limit(limit)))?;
    for (index, found) in found_errors {
        results[index].errors.extend(found);
    }
    Ok(Json(ValidatorResponse {
        packs: ValidatorResults { results },
    }))
}
