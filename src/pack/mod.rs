//! The Palette pack format: read and validate a pack folder or archive into a [`Pack`], with lint
//! findings for what Palette lets through and errors only for what makes a pack unusable.

pub mod chart;
pub mod charts;
pub mod content_digest;
pub mod files;
pub mod lint;
pub mod metadata;
pub mod presets;
pub mod schema;
pub mod yaml;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use self::charts::ChartInfo;
use self::files::PackFiles;
use self::lint::Finding;
use self::metadata::{PackJson, PackJsonError};
use self::presets::Preset;
use self::schema::SchemaField;
pub use crate::domain::PackType;
use crate::domain::{Digest, Layer, PackName, PackNameError, PackState, Version, VersionError};

pub const VALUES_FILE: &str = "values.yaml";
pub const README_FILE: &str = "README.md";
pub const LOGO_FILE: &str = "logo.png";

/// Cloud types Palette knows (PACK-FORMAT.md); others are accepted with a finding.
pub const KNOWN_CLOUD_TYPES: &[&str] = &[
    "all",
    "aws",
    "azure",
    "gcp",
    "vsphere",
    "openstack",
    "baremetal",
    "maas",
    "aks",
    "eks",
    "tke",
    "edge",
    "libvirt",
    "edge-native",
    "coxedge",
    "tencent",
    "custom",
];

/// Why a pack is refused: only what makes it unusable.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error(transparent)]
    Files(#[from] files::FilesError),
    #[error("the pack has no pack.json")]
    NoPackJson,
    #[error(transparent)]
    PackJson(#[from] PackJsonError),
    #[error("pack.json: field name: missing")]
    MissingName,
    #[error("pack.json: field version: missing")]
    MissingVersion,
    #[error("pack.json: field name: {0}")]
    InvalidName(#[from] PackNameError),
    #[error("pack.json: field version: {0}")]
    InvalidVersion(#[from] VersionError),
    /// A file the pack needs (values.yaml, presets.yaml, a chart's Chart.yaml) does not parse:
    /// publishing it would serve substitute values.
    #[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Unparsable {
        file: String,
        line: Option<u64>,
        message: String,
    },
}

impl From<yaml::YamlError> for PackError {
    fn from(error: yaml::YamlError) -> PackError {
        PackError::Unparsable {
            file: error.file,
            line: error.line,
            message: error.message,
        }
    }
}

/// One manifest of `kubeManifests`, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Path inside the pack, such as `manifests/calico.yaml`.
    pub path: String,
    /// The file's basename without extension: its values live under `manifests.<name>`.
    pub name: String,
    pub text: String,
    /// True when `manifests.<name>` exists in values.yaml, so the file is rendered as a template;
    /// otherwise it is emitted verbatim.
    pub templated: bool,
}

/// A validated pack version. Binary files (logo, charts) travel separately as [`Asset`]s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pack {
    pub name: PackName,
    #[serde(with = "version_text")]
    pub version: Version,
    pub display_name: String,
    pub layer: Layer,
    pub pack_type: PackType,
    pub cloud_types: Vec<String>,
    /// The state pack.json asks for (`annotations.system_state` / `annotations.disabled`).
    pub initial_state: PackState,
    pub pack_json: PackJson,
    /// values.yaml exactly as published.
    pub values_text: String,
    /// values.yaml parsed (null when it is empty or unreadable).
    pub values: Value,
    pub schema: Vec<SchemaField>,
    pub presets: Vec<Preset>,
    pub readme: Option<String>,
    pub manifests: Vec<Manifest>,
    pub charts: Vec<ChartInfo>,
    pub digest: Digest,
    pub findings: Vec<Finding>,
}

/// A binary file of a pack stored as a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AssetRole {
    Logo,
    Chart,
}

/// A binary file of a pack, where its bytes are (in memory or in a spill file).
#[derive(Debug, Clone)]
pub struct Asset {
    pub role: AssetRole,
    pub path: String,
    pub entry: files::Entry,
}

mod version_text {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::domain::Version;

    pub fn serialize<S: Serializer>(version: &Version, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(version.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Version, D::Error> {
        let text = String::deserialize(deserializer)?;
        Version::parse(&text).map_err(serde::de::Error::custom)
    }
}

fn utf8_text(files: &PackFiles, path: &str, findings: &mut Vec<Finding>) -> Option<String> {
    match files.text(path)? {
        Ok(text) => Some(text.into_owned()),
        Err(e) => {
            let code = match e {
                files::TextError::NotUtf8(_) => "not-utf8",
                files::TextError::TooLarge => "file-too-large",
                files::TextError::Io(_) => "file-unreadable",
            };
            findings.push(Finding::error(code, path, e.to_string()));
            None
        }
    }
}

/// A file the pack cannot do without, as text; refused when unreadable.
fn required_text(files: &PackFiles, path: &str) -> Result<Option<String>, PackError> {
    match files.text(path) {
        None => Ok(None),
        Some(Ok(text)) => Ok(Some(text.into_owned())),
        Some(Err(e)) => Err(PackError::Unparsable {
            file: path.to_owned(),
            line: None,
            message: e.to_string(),
        }),
    }
}

fn parse_yaml_file(files: &PackFiles, path: &str, findings: &mut Vec<Finding>) -> Value {
    let Some(text) = utf8_text(files, path, findings) else {
        return Value::Null;
    };
    match yaml::parse(&text, path, findings) {
        Ok(value) => value,
        Err(e) => {
            findings.push(e.into_finding("yaml-invalid"));
            Value::Null
        }
    }
}

fn state_from_annotations(pack_json: &PackJson, findings: &mut Vec<Finding>) -> PackState {
    let annotation = |key: &str| {
        pack_json
            .annotations
            .get(key)
            .map(|v| v.trim().to_ascii_lowercase())
    };
    let system_state = match annotation("system_state").as_deref() {
        None | Some("") => PackState::Active,
        Some("deprecated") => PackState::Deprecated,
        Some("deleted") => PackState::Deleted,
        Some("disabled") => PackState::Disabled,
        Some("active") => PackState::Active,
        Some(other) => {
            findings.push(
                Finding::warning(
                    "unknown-state",
                    metadata::FILE,
                    format!(
                        "system_state {other:?} is not deprecated or deleted; the version is active"
                    ),
                )
                .at_field("annotations.system_state"),
            );
            PackState::Active
        }
    };
    let disabled = annotation("disabled").as_deref() == Some("true");
    match system_state {
        PackState::Deleted => PackState::Deleted,
        _ if disabled => PackState::Disabled,
        state => state,
    }
}

fn read_layer(pack_json: &PackJson, findings: &mut Vec<Finding>) -> Layer {
    let missing = |findings: &mut Vec<Finding>, message: String| {
        findings.push(Finding::warning("layer-invalid", metadata::FILE, message).at_field("layer"));
        Layer::Addon
    };
    match pack_json.layer.as_deref() {
        None => missing(
            findings,
            "no layer; the pack is treated as an addon".to_owned(),
        ),
        Some(text) => text.parse().unwrap_or_else(|e: crate::domain::LayerError| {
            missing(findings, format!("{e}; the pack is treated as an addon"))
        }),
    }
}

fn read_cloud_types(pack_json: &PackJson, findings: &mut Vec<Finding>) -> Vec<String> {
    if pack_json.cloud_types.is_empty() {
        findings.push(
            Finding::warning(
                "cloud-types-missing",
                metadata::FILE,
                "no cloudTypes; the pack is offered for every cloud (all)",
            )
            .at_field("cloudTypes"),
        );
        return vec!["all".to_owned()];
    }
    for cloud in &pack_json.cloud_types {
        if !KNOWN_CLOUD_TYPES.contains(&cloud.as_str()) {
            findings.push(
                Finding::warning(
                    "cloud-type-unknown",
                    metadata::FILE,
                    format!("cloud type {cloud:?} is not one Palette knows"),
                )
                .at_field("cloudTypes"),
            );
        }
    }
    pack_json.cloud_types.clone()
}

/// `manifests/calico.yaml` → `calico`.
fn manifest_name(path: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    file.strip_suffix(".yaml")
        .or_else(|| file.strip_suffix(".yml"))
        .unwrap_or(file)
        .to_owned()
}

fn read_manifests(
    files: &PackFiles,
    pack_json: &PackJson,
    values: &Value,
    findings: &mut Vec<Finding>,
) -> Vec<Manifest> {
    let manifest_values = values.get("manifests").and_then(Value::as_object);
    let mut manifests = Vec::new();
    for path in &pack_json.kube_manifests {
        let normalised = path.trim_start_matches("./").to_owned();
        let Some(text) = utf8_text(files, &normalised, findings) else {
            if !files.contains(&normalised) {
                findings.push(
                    Finding::error(
                        "manifest-missing",
                        metadata::FILE,
                        format!("kubeManifests lists {path}, which is not in the pack"),
                    )
                    .at_field("kubeManifests"),
                );
            }
            continue;
        };
        let name = manifest_name(&normalised);
        // Templated manifests are parsed by the registry at publish time (`render::precheck`).
        let templated = manifest_values.is_some_and(|m| m.contains_key(&name));
        manifests.push(Manifest {
            path: normalised,
            name,
            text,
            templated,
        });
    }
    for path in files.paths() {
        if path.starts_with("manifests/") && !manifests.iter().any(|m| m.path == path) {
            findings.push(Finding::warning(
                "manifest-unlisted",
                path,
                "not listed in pack.json kubeManifests, so it is never applied",
            ));
        }
    }
    if let Some(keys) = manifest_values {
        for key in keys.keys() {
            if !manifests.iter().any(|m| &m.name == key) {
                let known: Vec<&str> = manifests.iter().map(|m| m.name.as_str()).collect();
                findings.push(
                    Finding::warning(
                        "values-key-without-manifest",
                        VALUES_FILE,
                        format!(
                            "manifests.{key} matches no manifest file (manifests: {}), so none of its values is used",
                            if known.is_empty() { "none".to_owned() } else { known.join(", ") }
                        ),
                    )
                    .at_field(format!("manifests.{key}")),
                );
            }
        }
    }
    manifests
}

fn read_charts(
    files: &PackFiles,
    pack_json: &PackJson,
    values: &Value,
    findings: &mut Vec<Finding>,
    assets: &mut Vec<Asset>,
) -> Result<Vec<ChartInfo>, PackError> {
    let mut charts = Vec::new();
    for path in &pack_json.charts {
        let normalised = path.trim_start_matches("./").to_owned();
        let Some(entry) = files.get(&normalised) else {
            findings.push(
                Finding::error(
                    "chart-missing",
                    metadata::FILE,
                    format!("charts lists {path}, which is not in the pack"),
                )
                .at_field("charts"),
            );
            continue;
        };
        let reader = entry.content.reader().map_err(|e| PackError::Unparsable {
            file: normalised.clone(),
            line: None,
            message: e.to_string(),
        })?;
        match charts::read_chart(&normalised, reader) {
            Ok(chart) => charts.push(chart),
            Err(charts::ChartProblem::Invalid(reason)) => {
                findings.push(Finding::error("chart-invalid", &normalised, reason))
            }
            Err(charts::ChartProblem::Unparsable { line, message }) => {
                return Err(PackError::Unparsable {
                    file: format!("{normalised}:Chart.yaml"),
                    line,
                    message,
                });
            }
        }
        assets.push(Asset {
            role: AssetRole::Chart,
            path: normalised,
            entry: entry.clone(),
        });
    }
    let chart_values = values.get("charts").and_then(Value::as_object);
    for chart in &charts {
        if chart_values.is_some_and(|keys| !keys.contains_key(&chart.name)) {
            findings.push(
                Finding::warning(
                    "chart-values-key-mismatch",
                    VALUES_FILE,
                    format!(
                        "chart {} (from {}) has no charts.{} values; its values must be keyed by the Chart.yaml name",
                        chart.name, chart.path, chart.name
                    ),
                )
                .at_field("charts"),
            );
        }
    }
    if let Some(keys) = chart_values {
        for key in keys.keys() {
            if !charts.iter().any(|c| &c.name == key) {
                findings.push(
                    Finding::warning(
                        "values-key-without-chart",
                        VALUES_FILE,
                        format!("charts.{key} matches no chart's Chart.yaml name, so none of its values is used"),
                    )
                    .at_field(format!("charts.{key}")),
                );
            }
        }
    }
    Ok(charts)
}

/// Reads and validates a pack. Returns the pack and its binary assets (logo, charts).
/// The name and version pack.json declares, when both are valid (a quick look, without reading the
/// rest of the pack).
pub fn identify(files: &PackFiles) -> Option<(PackName, Version)> {
    let bytes = files.get(metadata::FILE)?.bytes().ok()?;
    let pack_json = PackJson::parse(&bytes, &mut Vec::new()).ok()?;
    let name = pack_json.name?.parse().ok()?;
    let version = Version::parse(pack_json.version.as_deref()?).ok()?;
    Some((name, version))
}

pub fn read(files: &PackFiles) -> Result<(Pack, Vec<Asset>), PackError> {
    let mut findings = Vec::new();
    let pack_json_bytes = files
        .get(metadata::FILE)
        .ok_or(PackError::NoPackJson)?
        .bytes()
        .map_err(|e| PackError::Unparsable {
            file: metadata::FILE.to_owned(),
            line: None,
            message: e.to_string(),
        })?;
    let pack_json = PackJson::parse(&pack_json_bytes, &mut findings)?;
    let name: PackName = pack_json
        .name
        .as_deref()
        .ok_or(PackError::MissingName)?
        .parse()?;
    let version = Version::parse(
        pack_json
            .version
            .as_deref()
            .ok_or(PackError::MissingVersion)?,
    )?;
    for leniency in version.leniencies() {
        findings.push(
            Finding::warning(
                "version-not-semver",
                metadata::FILE,
                format!("version {version} is not strict semver: {leniency}; it is kept as published and ordered leniently"),
            )
            .at_field("version"),
        );
    }
    let display_name = pack_json.display_name.clone().unwrap_or_else(|| {
        findings.push(
            Finding::warning(
                "display-name-missing",
                metadata::FILE,
                "no displayName; the name is shown instead",
            )
            .at_field("displayName"),
        );
        name.to_string()
    });
    if let Some(eol) = &pack_json.eol
        && !is_iso_date(eol)
    {
        findings.push(
            Finding::warning(
                "eol-invalid",
                metadata::FILE,
                format!("eol {eol:?} is not a yyyy-MM-dd date"),
            )
            .at_field("eol"),
        );
    }
    let layer = read_layer(&pack_json, &mut findings);
    let cloud_types = read_cloud_types(&pack_json, &mut findings);
    let initial_state = state_from_annotations(&pack_json, &mut findings);

    let values_text = match required_text(files, VALUES_FILE)? {
        Some(text) => text,
        None => {
            findings.push(Finding::warning(
                "values-missing",
                VALUES_FILE,
                "the pack has no values.yaml",
            ));
            String::new()
        }
    };
    let values = match yaml::parse(&values_text, VALUES_FILE, &mut findings)? {
        value @ (Value::Object(_) | Value::Null) => value,
        _ => {
            return Err(PackError::Unparsable {
                file: VALUES_FILE.to_owned(),
                line: None,
                message: "values.yaml must be a mapping".to_owned(),
            });
        }
    };

    let schema = match files.get(schema::FILE).map(|_| ()) {
        Some(_) => schema::read(
            &parse_yaml_file(files, schema::FILE, &mut findings),
            &mut findings,
        ),
        None => Vec::new(),
    };
    let presets = match required_text(files, presets::FILE)? {
        Some(text) => presets::read(
            &yaml::parse(&text, presets::FILE, &mut findings)?,
            &mut findings,
        ),
        None => Vec::new(),
    };
    let readme = utf8_text(files, README_FILE, &mut findings);
    if !files.contains(README_FILE) {
        findings.push(Finding::warning(
            "readme-missing",
            README_FILE,
            "the pack has no README.md",
        ));
    }
    let manifests = read_manifests(files, &pack_json, &values, &mut findings);
    let mut assets = Vec::new();
    let charts = read_charts(files, &pack_json, &values, &mut findings, &mut assets)?;
    match files.get(LOGO_FILE) {
        Some(entry) => {
            let head = entry.head(8).unwrap_or_default();
            if !head.starts_with(b"\x89PNG\r\n\x1a\n") {
                findings.push(Finding::warning(
                    "logo-not-png",
                    LOGO_FILE,
                    "logo.png is not a PNG image",
                ));
            }
            assets.push(Asset {
                role: AssetRole::Logo,
                path: LOGO_FILE.to_owned(),
                entry: entry.clone(),
            });
        }
        None => findings.push(Finding::warning(
            "logo-missing",
            LOGO_FILE,
            "the pack has no logo.png",
        )),
    }
    let pack_type = if !charts.is_empty() || !pack_json.charts.is_empty() {
        PackType::Helm
    } else if !pack_json.kube_manifests.is_empty() {
        PackType::Manifest
    } else {
        PackType::Spectro
    };
    let pack = Pack {
        name,
        version,
        display_name,
        layer,
        pack_type,
        cloud_types,
        initial_state,
        pack_json,
        values_text,
        values,
        schema,
        presets,
        readme,
        manifests,
        charts,
        digest: content_digest::content_digest(files),
        findings: lint::bound(findings),
    };
    Ok((pack, assets))
}

fn is_iso_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit())
}

impl Pack {
    /// The tag clients use for this version: the version, prefixed `<group>__` for grouped packs.
    pub fn tag(&self) -> String {
        tag_for(self.pack_json.group.as_deref(), self.version.as_str())
    }

    /// Whether the pack may be rendered for `cloud` (listed, or `all`).
    pub fn supports_cloud(&self, cloud: &str) -> bool {
        self.cloud_types.iter().any(|c| c == "all" || c == cloud)
    }
}

/// Palette writes grouped versions' tags as `lts__1.2.3`.
pub fn tag_for(group: Option<&str>, version: &str) -> String {
    match group.map(str::trim).filter(|g| !g.is_empty()) {
        Some(group) => format!("{}__{version}", group.to_ascii_lowercase()),
        None => version.to_owned(),
    }
}
