//! Rendering a pack for a cloud: `POST`/`GET /v1/packs/{name}/tags/{tag}/render` and the resolved
//! default values, `GET /v1/packs/{name}/tags/{tag}/values`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::extract::{ApiPath, ApiQuery};
use super::json::ApiJson;
use super::packs::versions_of;
use super::ranges;
use super::render_cache::{CachedBody, request_key};
use super::{ApiError, AppState};
use crate::domain::PackState;
use crate::registry::tags;
use crate::render::gotemplate::Budget;
use crate::render::macros::MacroContext;
use crate::render::output::{self, Document};
use crate::render::pipeline::{CacheOutcome, LoadedVersion, PackRequest, Renderer};
use crate::render::yaml_out;
use crate::store::versions::VersionRow;

/// `POST .../render` body; all but `cloudType` optional.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RenderBody {
    pub cloud_type: String,
    #[serde(default)]
    pub values: Option<String>,
    #[serde(default)]
    pub presets: Vec<String>,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub cluster_name: Option<String>,
    #[serde(default)]
    pub kubernetes_version: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct RenderQuery {
    cloud_type: Option<String>,
    strict: Option<bool>,
}

/// The output format a client asked for with `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

impl Format {
    pub fn from_headers(headers: &HeaderMap) -> Format {
        let accept = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if accept.contains("application/json") {
            Format::Json
        } else {
            Format::Yaml
        }
    }
}

fn cloud(value: &str) -> Result<String, ApiError> {
    let cloud = value.trim();
    if cloud.is_empty() {
        return Err(ApiError::InvalidParameter {
            name: "cloudType",
            reason: "the cloud to render for is required".to_owned(),
        });
    }
    Ok(cloud.to_owned())
}

/// Resolves `{tag}` of `{name}` and loads the version for rendering.
pub async fn load_tag(
    state: &AppState,
    name: &str,
    tag: &str,
) -> Result<(VersionRow, Arc<LoadedVersion>), ApiError> {
    let rows = versions_of(state, name).await?;
    let row = tags::resolve(name, &rows, tag)?.clone();
    let loaded = state.versions.load(&state.db, &row).await?;
    Ok((row, loaded))
}

/// Sets its flag when dropped: a request that is abandoned (the client left, or the request
/// time limit answered first) stops its render at the next budget check.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Runs CPU-bound render work on the blocking pool, at most `--render-concurrency` at once, with
/// a fresh budget that is cancelled if the request goes away.
pub async fn on_render_pool<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&Renderer, &Budget) -> T + Send + 'static,
) -> Result<T, ApiError> {
    let permit = super::limits::render_slot(state).await?;
    let renderer = state.renderer.clone();
    let cancel = CancelOnDrop(Arc::new(AtomicBool::new(false)));
    let flag = cancel.0.clone();
    let result = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let budget = renderer.budget(Some(flag));
        work(&renderer, &budget)
    })
    .await
    .map_err(ApiError::internal)?;
    drop(cancel);
    Ok(result)
}

/// The rendered documents as a body in `format`. `key` digests every input the body is a
/// function of, so it serves as a strong ETag without hashing the (large) body.
pub fn encode(
    documents: &[Document],
    format: Format,
    key: &[u8; 32],
) -> Result<CachedBody, ApiError> {
    let body = match format {
        Format::Yaml => output::to_yaml_stream(documents).into_bytes(),
        Format::Json => {
            let objects =
                output::objects(documents).map_err(crate::render::pipeline::RenderError::from)?;
            serde_json::to_vec(&output::to_list(objects)).map_err(ApiError::internal)?
        }
    };
    let etag = format!("\"{}\"", hex::encode(&key[..16]));
    Ok(CachedBody::new(Bytes::from(body), etag, documents.len()))
}

fn accepts_gzip(request: &HeaderMap) -> bool {
    request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

/// A finished body as a response: validators, `Vary`, gzip when the client accepts it.
pub fn respond(
    body: &CachedBody,
    format: Format,
    request: &HeaderMap,
    extra: HeaderMap,
) -> Result<Response, ApiError> {
    let gzip = accepts_gzip(request);
    // Each encoding is its own representation, with its own strong ETag.
    let etag = if gzip {
        format!("{}-gzip\"", body.etag.trim_end_matches('"'))
    } else {
        body.etag.clone()
    };
    let mut headers = extra;
    headers.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).map_err(ApiError::internal)?,
    );
    // Tags move (3.24.x follows new patches): revalidate with the ETag every time.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::VARY,
        HeaderValue::from_static("Accept, Accept-Encoding"),
    );
    headers.insert("x-object-count", HeaderValue::from(body.objects));
    if ranges::none_match(request, &etag) || ranges::none_match(request, &body.etag) {
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }
    let content_type = match format {
        Format::Yaml => "application/yaml",
        Format::Json => "application/json",
    };
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let bytes = if gzip {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        body.gzip().clone()
    } else {
        body.body.clone()
    };
    Ok((StatusCode::OK, headers, bytes).into_response())
}

/// `X-Pack-Version`, `X-Pack-Digest` and, for deprecated versions, a `Warning`.
fn version_headers(row: &VersionRow, cache: CacheOutcome) -> Result<HeaderMap, ApiError> {
    let mut headers = HeaderMap::new();
    let value = |text: &str| HeaderValue::from_str(text).map_err(ApiError::internal);
    headers.insert("x-pack-version", value(&row.version)?);
    headers.insert("x-pack-digest", value(&row.digest.to_string())?);
    headers.insert(
        "x-render-cache",
        HeaderValue::from_static(if cache == CacheOutcome::Hit {
            "hit"
        } else {
            "miss"
        }),
    );
    if row.state == PackState::Deprecated {
        let warning = format!("299 - \"{} {} is deprecated\"", row.pack_name, row.version);
        headers.insert(header::WARNING, value(&warning)?);
    }
    Ok(headers)
}

fn context_for(body: &RenderBody, cloud: &str) -> MacroContext {
    MacroContext {
        cloud_type: cloud.to_owned(),
        region: body.region.clone().unwrap_or_default(),
        cluster_name: body.cluster_name.clone().unwrap_or_default(),
        kubernetes_version: body.kubernetes_version.clone().unwrap_or_default(),
        packs: BTreeMap::new(),
        variables: body.variables.clone(),
    }
}

/// Everything that determines a render response, as a cache key.
fn response_key(
    uid: &str,
    body: &RenderBody,
    cloud: &str,
    strict: bool,
    format: Format,
) -> [u8; 32] {
    let variables = serde_json::to_vec(&body.variables).unwrap_or_default();
    let presets = body.presets.join("\n");
    let flags = [u8::from(strict), u8::from(format == Format::Json)];
    request_key([
        uid.as_bytes(),
        cloud.as_bytes(),
        body.values.as_deref().unwrap_or_default().as_bytes(),
        presets.as_bytes(),
        &variables,
        body.region.as_deref().unwrap_or_default().as_bytes(),
        body.cluster_name.as_deref().unwrap_or_default().as_bytes(),
        body.kubernetes_version
            .as_deref()
            .unwrap_or_default()
            .as_bytes(),
        &flags,
    ])
}

async fn render_tag(
    state: &AppState,
    name: &str,
    tag: &str,
    body: RenderBody,
    strict: bool,
    request: &HeaderMap,
) -> Result<Response, ApiError> {
    let cloud = cloud(&body.cloud_type)?;
    let (row, loaded) = load_tag(state, name, tag).await?;
    Renderer::check_cloud(&loaded, &cloud)?;
    let format = Format::from_headers(request);
    let key = response_key(&row.uid, &body, &cloud, strict, format);
    let cached = state.render_responses.get(&key);
    state.metrics.render_cache(cached.is_some());
    if let Some(cached) = cached {
        return respond(
            &cached,
            format,
            request,
            version_headers(&row, CacheOutcome::Hit)?,
        );
    }
    let context = context_for(&body, &cloud);
    let pack_request = PackRequest {
        values: body.values,
        presets: body.presets,
    };
    let (encoded, outcome) =
        on_render_pool(state, move |renderer, budget| -> Result<_, ApiError> {
            let values = renderer.resolve_values(&loaded, &pack_request, &context, budget)?;
            let (documents, outcome) = renderer.render(&loaded, &values, strict, budget)?;
            Ok((encode(&documents, format, &key)?, outcome))
        })
        .await??;
    state.metrics.render("pack");
    let encoded = Arc::new(encoded);
    state.render_responses.insert(key, encoded.clone());
    respond(&encoded, format, request, version_headers(&row, outcome)?)
}

/// `POST /v1/packs/{name}/tags/{tag}/render`.
#[utoipa::path(post, path = "/v1/packs/{pack}/tags/{version}/render", tag = "rendering", params(("pack" = String, Path, description = "Pack name, e.g. cni-calico"), ("version" = String, Path, description = "A version (3.24.6), a parent tag (3.24.x, 3.x) or latest"), RenderQuery), request_body(content = RenderBody, content_type = "application/json"), responses((status = 200, description = "The rendered objects: YAML stream, or JSON with Accept: application/json", content((String = "application/yaml"), (Object = "application/json"))), (status = 304, description = "Not modified (ETag)")))]
pub async fn render_post(
    State(state): State<AppState>,
    ApiPath((name, tag)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<RenderQuery>,
    request: HeaderMap,
    ApiJson(body): ApiJson<RenderBody>,
) -> Result<Response, ApiError> {
    let strict = query.strict.unwrap_or(state.settings.strict_by_default);
    render_tag(&state, &name, &tag, body, strict, &request).await
}

/// `GET /v1/packs/{name}/tags/{tag}/render?cloudType=`: the pack's defaults for that cloud.
#[utoipa::path(get, path = "/v1/packs/{pack}/tags/{version}/render", tag = "rendering", params(("pack" = String, Path, description = "Pack name, e.g. cni-calico"), ("version" = String, Path, description = "A version (3.24.6), a parent tag (3.24.x, 3.x) or latest"), RenderQuery), responses((status = 200, description = "The pack rendered with its defaults for the cloud", content((String = "application/yaml"), (Object = "application/json"))), (status = 304, description = "Not modified (ETag)")))]
pub async fn render_get(
    State(state): State<AppState>,
    ApiPath((name, tag)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<RenderQuery>,
    request: HeaderMap,
) -> Result<Response, ApiError> {
    let strict = query.strict.unwrap_or(state.settings.strict_by_default);
    let body = RenderBody {
        cloud_type: query.cloud_type.unwrap_or_default(),
        values: None,
        presets: Vec::new(),
        variables: BTreeMap::new(),
        region: None,
        cluster_name: None,
        kubernetes_version: None,
    };
    render_tag(&state, &name, &tag, body, strict, &request).await
}

/// `GET /v1/packs/{name}/tags/{tag}/values?cloudType=`: the resolved default values as YAML.
#[utoipa::path(get, path = "/v1/packs/{pack}/tags/{version}/values", tag = "rendering", params(("pack" = String, Path, description = "Pack name, e.g. cni-calico"), ("version" = String, Path, description = "A version (3.24.6), a parent tag (3.24.x, 3.x) or latest"), RenderQuery), responses((status = 200, description = "The resolved values for the cloud", content_type = "application/yaml", body = String)))]
pub async fn default_values(
    State(state): State<AppState>,
    ApiPath((name, tag)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<RenderQuery>,
) -> Result<Response, ApiError> {
    let cloud = cloud(query.cloud_type.as_deref().unwrap_or_default())?;
    let (row, loaded) = load_tag(&state, &name, &tag).await?;
    Renderer::check_cloud(&loaded, &cloud)?;
    let context = MacroContext {
        cloud_type: cloud,
        ..MacroContext::default()
    };
    let values = on_render_pool(&state, move |renderer, budget| {
        renderer.default_values(&loaded, &context, budget)
    })
    .await??;
    let mut text = yaml_out::to_yaml(&values);
    text.push('\n');
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/yaml"),
    );
    headers.insert(
        "x-pack-version",
        HeaderValue::from_str(&row.version).map_err(ApiError::internal)?,
    );
    Ok((StatusCode::OK, headers, text).into_response())
}
