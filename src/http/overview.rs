//! `GET /v1/packs/{name}/tags/{tag}/overview`: what the browser's pack page shows for one version,
//! computed on the server: the README as sanitised HTML, the parameters with their default per
//! cloud, images, presets and downloadable blobs.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use serde_json::Value;

use super::blob_response::blob_path;
use super::extract::TagPath;
use super::palette::logo_url;
use super::{ApiError, AppState};
use crate::domain::{PackName, PackState};
use crate::registry::rendering::get_path;
use crate::registry::{LoadedVersion, SchemaField, VersionBlob, VersionRow};

/// Clouds a pack offered for `all` is shown with.
const SHOWN_FOR_ALL: [&str; 5] = ["aws", "azure", "gcp", "vsphere", "openstack"];

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Overview {
    name: String,
    display_name: String,
    version: String,
    uid: String,
    state: PackState,
    layer: String,
    digest: String,
    cloud_types: Vec<String>,
    logo_url: String,
    readme_html: String,
    images: Vec<String>,
    presets: Vec<PresetSummary>,
    parameters: Vec<Parameter>,
    blobs: Vec<BlobLink>,
    warnings: usize,
    /// The pack's Helm charts, in `pack.json` order.
    charts: Vec<ChartView>,
    /// How many manifests (`kubeManifests`) the pack renders besides its charts.
    manifests: usize,
    /// The version's OCI reference without the registry's host: `<repository>:<version>` in
    /// Palette's layout, for `oras pull <host>/<reference>`.
    oci_reference: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct ChartView {
    path: String,
    name: String,
    version: String,
    app_version: String,
    description: String,
    dependencies: Vec<ChartDependency>,
    crds: Vec<String>,
    /// Parameters from the chart's values.schema.json, with the chart's defaults.
    parameters: Vec<ChartParameter>,
    /// Why the chart could not be loaded, when it could not.
    problem: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct ChartDependency {
    name: String,
    version: String,
    condition: String,
    alias: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct ChartParameter {
    path: String,
    #[serde(rename = "type")]
    kind: String,
    description: String,
    required: bool,
    supported_values: Vec<String>,
    default: String,
}

fn chart_views(version: &LoadedVersion) -> Vec<ChartView> {
    crate::registry::charts::summaries(version)
        .into_iter()
        .map(|c| ChartView {
            path: c.path,
            name: c.name,
            version: c.version,
            app_version: c.app_version,
            description: c.description,
            dependencies: c
                .dependencies
                .into_iter()
                .map(|(name, version, condition, alias)| ChartDependency {
                    name,
                    version,
                    condition,
                    alias,
                })
                .collect(),
            crds: c.crds,
            parameters: c
                .parameters
                .into_iter()
                .map(|p| ChartParameter {
                    path: p.path,
                    kind: p.kind,
                    description: p.description,
                    required: p.required,
                    supported_values: p.allowed,
                    default: p.default,
                })
                .collect(),
            problem: c.problem,
        })
        .collect()
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct PresetSummary {
    name: String,
    display_name: String,
    group: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct Parameter {
    name: String,
    key: String,
    #[serde(rename = "type")]
    kind: String,
    format: String,
    supported_values: Vec<String>,
    description: String,
    required: bool,
    readonly: bool,
    /// The default, grouped by the clouds that share it.
    defaults: Vec<CloudDefault>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct CloudDefault {
    clouds: Vec<String>,
    value: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct BlobLink {
    path: String,
    role: String,
    digest: String,
    size: u64,
    url: String,
}

/// Markdown to HTML, then sanitised: no script, event handler or `javascript:` URL survives.
pub fn readme_html(markdown: &str) -> String {
    let parser = pulldown_cmark::Parser::new_ext(markdown, pulldown_cmark::Options::ENABLE_TABLES);
    let mut html = String::with_capacity(markdown.len() * 2);
    pulldown_cmark::html::push_html(&mut html, parser);
    ammonia::clean(&html)
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A parameter's name as a pack's users know it: without the `manifests.<file>.` or `charts.<chart>.`
/// prefix (`etcd.endpoints`), else the full path (`pack.podCIDR`).
fn short_name(path: &str) -> String {
    let mut parts = path.splitn(3, '.');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("manifests" | "charts"), Some(_), Some(rest)) => rest.to_owned(),
        _ => path.to_owned(),
    }
}

fn parameters(schema: &[SchemaField], defaults: &[(String, Value)]) -> Vec<Parameter> {
    schema
        .iter()
        .map(|field| {
            let mut grouped: Vec<CloudDefault> = Vec::new();
            for (cloud, values) in defaults {
                let value = if field.is_password() {
                    "••••••".to_owned()
                } else {
                    get_path(values, &field.name).map(text).unwrap_or_default()
                };
                match grouped.iter_mut().find(|d| d.value == value) {
                    Some(group) => group.clouds.push(cloud.clone()),
                    None => grouped.push(CloudDefault {
                        clouds: vec![cloud.clone()],
                        value,
                    }),
                }
            }
            Parameter {
                key: short_name(&field.name),
                name: field.name.clone(),
                kind: field.type_name().to_owned(),
                format: field.format.clone(),
                supported_values: field.list_options().to_vec(),
                description: field.hints.join(" "),
                required: field.required,
                readonly: field.readonly,
                defaults: grouped,
            }
        })
        .collect()
}

fn images(values: &Value) -> Vec<String> {
    get_path(values, "pack.content.images")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| {
                    item.get("image")
                        .and_then(Value::as_str)
                        .or_else(|| item.as_str())
                })
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn clouds_shown(version: &LoadedVersion) -> Vec<String> {
    if version.pack.cloud_types.iter().any(|c| c == "all") {
        SHOWN_FOR_ALL.iter().map(|c| (*c).to_owned()).collect()
    } else {
        version.pack.cloud_types.clone()
    }
}

fn blob_links(pack: &PackName, blobs: Vec<VersionBlob>) -> Vec<BlobLink> {
    blobs
        .into_iter()
        .map(|blob| {
            let mut url = blob_path(pack, &blob.digest);
            match blob.role.as_str() {
                "logo" => url.push_str("?type=image/png"),
                "archive" | "chart" => url.push_str("?type=application/gzip"),
                _ => {}
            }
            BlobLink {
                path: blob.path,
                role: blob.role,
                digest: blob.digest.to_string(),
                size: blob.size,
                url,
            }
        })
        .collect()
}

impl Overview {
    fn new(row: &VersionRow, version: &LoadedVersion, defaults: &[(String, Value)]) -> Overview {
        let pack = &version.pack;
        let presets = pack.presets.iter().map(|p| PresetSummary {
            name: p.name.clone(),
            display_name: p.display_name.clone(),
            group: p.group.clone(),
        });
        Overview {
            name: row.pack_name.to_string(),
            display_name: row.display_name.clone(),
            version: row.version.to_string(),
            uid: row.uid.clone(),
            state: row.state,
            layer: row.layer.to_string(),
            digest: row.digest.to_string(),
            cloud_types: row.cloud_types.0.clone(),
            logo_url: logo_url(row),
            readme_html: readme_html(pack.readme.as_deref().unwrap_or_default()),
            images: images(&pack.values),
            presets: presets.collect(),
            parameters: parameters(&pack.schema, defaults),
            blobs: Vec::new(),
            warnings: pack.findings.len(),
            charts: chart_views(version),
            manifests: version.manifests.len(),
            oci_reference: String::new(),
        }
    }
}

#[utoipa::path(get, path = "/v1/packs/{pack}/tags/{version}/overview", tag = "packs", params(("pack" = PackName, Path, description = "Pack name, e.g. cni-calico"), ("version" = String, Path, description = "A version (3.24.6), a parent tag (3.24.x, 3.x) or latest")), responses((status = 200, body = Overview)))]
pub async fn overview(
    State(state): State<AppState>,
    path: TagPath,
) -> Result<Json<Overview>, ApiError> {
    let registry = &state.registry;
    let (row, loaded) = registry.load(&path.pack, &path.tag).await?;
    let blobs = registry.version_blobs(&row).await?;
    let defaults = registry
        .defaults_per_cloud(loaded.clone(), clouds_shown(&loaded))
        .await?;
    // Markdown and sanitising are CPU work on text of any size: off the async threads.
    let mut overview = tokio::task::spawn_blocking(move || Overview::new(&row, &loaded, &defaults))
        .await
        .map_err(ApiError::internal)?;
    overview.blobs = blob_links(&path.pack, blobs);
    overview.oci_reference = format!(
        "{}:{}",
        registry.palette_repository(&path.pack),
        overview.version
    );
    Ok(Json(overview))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readme_html_keeps_markdown_and_drops_scripts() {
        let html = readme_html(
            "# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<script>alert(1)</script>\n<a href=\"javascript:alert(1)\" onclick=\"x()\">x</a>\n<img src=\"y.png\" onerror=\"z()\">\n",
        );
        assert!(html.contains("<h1>Title</h1>"), "{html}");
        assert!(html.contains("<table>"), "{html}");
        for forbidden in ["<script", "onclick", "onerror", "javascript:"] {
            assert!(!html.contains(forbidden), "{forbidden} survived: {html}");
        }
    }

    #[test]
    fn defaults_group_clouds_that_share_a_value() {
        let (field, _) = crate::pack::schema::parse_pipeline(
            "m.c.type",
            r#"{{ format "${list:[A,B]}" | hints "Type" }}"#,
        )
        .unwrap();
        let defaults = vec![
            (
                "aws".to_owned(),
                serde_json::json!({"m": {"c": {"type": "A"}}}),
            ),
            (
                "azure".to_owned(),
                serde_json::json!({"m": {"c": {"type": "B"}}}),
            ),
            (
                "gcp".to_owned(),
                serde_json::json!({"m": {"c": {"type": "A"}}}),
            ),
        ];
        let parameters = parameters(&[field], &defaults);
        assert_eq!(parameters[0].defaults.len(), 2);
        assert_eq!(parameters[0].defaults[0].clouds, ["aws", "gcp"]);
        assert_eq!(parameters[0].defaults[1].value, "B");
        assert_eq!(parameters[0].supported_values, ["A", "B"]);
    }
}
