//! Rendering one pack version: check the cloud, resolve its values (pack values → presets → caller
//! values → macros → schema validation), then render each manifest in `kubeManifests` order with
//! `.Values` = `manifests.<name>`; manifests without such values are emitted verbatim.

use std::sync::Arc;

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::cache::{MacroCache, OutputCache, RegexCache, TEMPLATE_CACHE_BYTES, TemplateCache};
use super::chart::{self as helm, ChartError, ChartRequest, KubeVersion, ParseCache};
use super::data::to_template;
use super::engine::TemplateFailure;
use super::gotemplate::{Budget, Limit, Limits};
use super::macros::{self, MacroContext, MacroError};
use super::output::{self, Document};
use super::validate::{self, Violation};
use super::values::{self, ValuesError};
use crate::pack::chart::{Chart, load_archive};
use crate::pack::charts::ChartInfo;
use crate::pack::{Asset, AssetRole, Manifest, Pack};

/// A stored version, loaded for rendering.
#[derive(Debug, Clone)]
pub struct LoadedVersion {
    pub uid: String,
    pub pack: Pack,
    pub manifests: Vec<Manifest>,
    /// The pack's charts in `pack.json` order (empty until loaded: see [`LoadedVersion::charts_loaded`]).
    pub charts: Vec<LoadedChart>,
}

/// One chart of a pack: what the pack recorded, and the chart itself (or why it did not load).
#[derive(Debug, Clone)]
pub struct LoadedChart {
    pub info: ChartInfo,
    pub chart: Result<Arc<Chart>, String>,
    /// Parsed templates of this chart, kept across renders.
    pub parsed: Arc<ParseCache>,
}

impl LoadedChart {
    /// Loads a chart archive.
    pub fn from_archive(info: ChartInfo, bytes: &[u8]) -> LoadedChart {
        LoadedChart {
            info,
            chart: load_archive(bytes).map(Arc::new).map_err(|e| e.to_string()),
            parsed: Arc::new(ParseCache::default()),
        }
    }
}

impl LoadedChart {
    /// A chart the pack lists but whose archive is missing.
    pub fn missing(info: ChartInfo) -> LoadedChart {
        LoadedChart {
            chart: Err(format!("{} is not in the pack", info.path)),
            info,
            parsed: Arc::new(ParseCache::default()),
        }
    }
}

impl LoadedVersion {
    /// A version read from a pack's files (the offline CLI, tests): charts loaded from the assets.
    pub fn from_read(uid: &str, pack: Pack, assets: &[Asset]) -> LoadedVersion {
        let charts = pack
            .charts
            .iter()
            .map(|info| {
                let bytes = assets
                    .iter()
                    .find(|a| a.role == AssetRole::Chart && a.path == info.path)
                    .and_then(|a| a.entry.bytes().ok().map(|b| b.into_owned()));
                match bytes {
                    Some(bytes) => LoadedChart::from_archive(info.clone(), &bytes),
                    None => LoadedChart::missing(info.clone()),
                }
            })
            .collect();
        LoadedVersion {
            uid: uid.to_owned(),
            manifests: pack.manifests.clone(),
            pack,
            charts,
        }
    }

    /// Whether every chart the pack lists is loaded.
    pub fn charts_loaded(&self) -> bool {
        self.charts.len() == self.pack.charts.len()
    }

    /// Bytes the loaded charts hold.
    pub fn charts_weight(&self) -> u64 {
        self.charts
            .iter()
            // The chart's files and values, and its templates once parsed (cached with it).
            .map(|c| {
                c.chart.as_ref().map_or(256, |chart| {
                    chart.weight() * 2 + chart.template_bytes() * 10
                })
            })
            .sum()
    }
}

/// The facts of the cluster a render is for, beyond values: what charts see as
/// `.Capabilities.KubeVersion`, what manifests see as `.Spectro`, and the seed of random
/// functions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// Empty: Helm's default ([`DEFAULT_KUBE_VERSION`]).
    pub kubernetes_version: String,
    pub cluster_name: String,
    pub api_server: String,
    pub seed: Option<u64>,
}

/// The Kubernetes version `helm template` assumes when none is given.
pub const DEFAULT_KUBE_VERSION: &str = "1.36.0";

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RenderError {
    #[error("{pack} does not support cloud {cloud:?} (it supports {})", supported.join(", "))]
    CloudUnsupported {
        pack: String,
        cloud: String,
        supported: Vec<String>,
    },
    #[error(transparent)]
    Values(#[from] ValuesError),
    #[error(transparent)]
    Macro(MacroError),
    #[error("{} value(s) do not fit the pack's schema: {}", .0.len(), summarize(.0))]
    Invalid(Vec<Violation>),
    #[error("{0}")]
    TemplateInvalid(String),
    #[error("{file}: {message}")]
    Failed { file: String, message: String },
    #[error("{file}: {message}")]
    Template { file: String, message: String },
    /// A chart of the pack did not load or render (Helm's message).
    #[error("chart {chart}: {message}")]
    Chart { chart: String, message: String },
    #[error(transparent)]
    Output(#[from] output::OutputError),
    /// A render budget was exceeded.
    #[error(transparent)]
    Limit(#[from] Limit),
}

impl From<MacroError> for RenderError {
    fn from(error: MacroError) -> RenderError {
        match error {
            MacroError::Limit(limit) => RenderError::Limit(limit),
            other => RenderError::Macro(other),
        }
    }
}

fn summarize(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(|v| format!("{} {}", v.path, v.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// What a caller asks of one pack.
#[derive(Debug, Clone, Default)]
pub struct PackRequest {
    pub values: Option<String>,
    pub presets: Vec<String>,
}

/// The renderer, its caches and the budget every render gets; shared by every request.
pub struct Renderer {
    templates: TemplateCache,
    outputs: OutputCache,
    macros: MacroCache,
    regexes: RegexCache,
    limits: Limits,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Renderer")
    }
}

/// Renders a cache hit or miss count (for metrics and benchmarks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    Hit,
    Miss,
}

impl Renderer {
    /// `output_cache_bytes` 0 disables the output cache.
    pub fn new(output_cache_bytes: u64) -> Renderer {
        Renderer::with_limits(output_cache_bytes, Limits::default())
    }

    /// A renderer whose renders get `limits`.
    pub fn with_limits(output_cache_bytes: u64, limits: Limits) -> Renderer {
        Renderer {
            templates: TemplateCache::new(TEMPLATE_CACHE_BYTES),
            outputs: OutputCache::new(output_cache_bytes),
            macros: MacroCache::default(),
            regexes: RegexCache::default(),
            limits,
        }
    }

    /// A fresh budget for one request (a pack or a whole profile), stopping early when `cancel`
    /// is set.
    pub fn budget(&self, cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>) -> Budget {
        match cancel {
            Some(flag) => Budget::with_cancel(self.limits, flag),
            None => Budget::new(self.limits),
        }
    }

    /// Bytes each of the renderer's caches holds now, by name.
    pub fn cache_sizes(&self) -> [(&'static str, u64); 5] {
        [
            ("render_output", self.outputs.bytes()),
            ("templates", self.templates.bytes()),
            ("macros", self.macros.bytes()),
            ("schema_regexes", self.regexes.bytes()),
            // Go-syntax regexes of template functions, process-wide (see `goregex`).
            ("template_regexes", super::goregex::cache_bytes()),
        ]
    }

    /// Refuses a cloud the pack does not list (and no `all`).
    pub fn check_cloud(version: &LoadedVersion, cloud: &str) -> Result<(), RenderError> {
        if version.pack.supports_cloud(cloud) {
            Ok(())
        } else {
            Err(RenderError::CloudUnsupported {
                pack: format!("{}@{}", version.pack.name, version.pack.version),
                cloud: cloud.to_owned(),
                supported: version.pack.cloud_types.clone(),
            })
        }
    }

    /// Resolves and validates the values of one pack for `context` (whose cloud must be set).
    pub fn resolve_values(
        &self,
        version: &LoadedVersion,
        request: &PackRequest,
        context: &MacroContext,
        budget: &Budget,
    ) -> Result<Value, RenderError> {
        let pack = &version.pack;
        let mut values = match &pack.values {
            Value::Object(_) => pack.values.clone(),
            _ => json!({}),
        };
        let mut wanted = request.presets.clone();
        if let Some(text) = &request.values {
            wanted.extend(values::presets_from_comment(text));
        }
        let presets = values::select_presets(&pack.presets, &wanted)?;
        values::apply_presets(&mut values, &presets)?;
        let mut defaults = values.clone();
        if let Some(text) = &request.values {
            values::deep_merge(&mut values, values::parse_mapping(text)?);
        }
        macros::resolve(&mut values, context, budget, &self.macros)?;
        macros::resolve(&mut defaults, context, budget, &self.macros)?;
        let violations = validate::validate(&values, &defaults, &pack.schema, &self.regexes);
        if !violations.is_empty() {
            return Err(RenderError::Invalid(violations));
        }
        Ok(values)
    }

    /// The pack's default values for `context`, without validation (what a UI pre-fills).
    pub fn default_values(
        &self,
        version: &LoadedVersion,
        context: &MacroContext,
        budget: &Budget,
    ) -> Result<Value, RenderError> {
        let mut values = match &version.pack.values {
            Value::Object(_) => version.pack.values.clone(),
            _ => json!({}),
        };
        macros::resolve(&mut values, context, budget, &self.macros)?;
        Ok(values)
    }

    fn output_key(
        version: &LoadedVersion,
        values: &Value,
        strict: bool,
        facts: &Facts,
    ) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(version.uid.as_bytes());
        hasher.update([0, u8::from(strict), 0]);
        hasher.update(serde_json::to_vec(values).unwrap_or_default());
        for fact in [
            &facts.kubernetes_version,
            &facts.cluster_name,
            &facts.api_server,
        ] {
            hasher.update([0]);
            hasher.update(fact.as_bytes());
        }
        hasher.update(facts.seed.map_or([0; 9], |seed| {
            let mut bytes = [1; 9];
            bytes[1..].copy_from_slice(&seed.to_be_bytes());
            bytes
        }));
        hasher.finalize().into()
    }

    /// Renders the pack with resolved `values` for a cluster of Helm's default Kubernetes
    /// version (tests and tools).
    pub fn render(
        &self,
        version: &LoadedVersion,
        values: &Value,
        strict: bool,
        budget: &Budget,
    ) -> Result<(Arc<Vec<Document>>, CacheOutcome), RenderError> {
        self.render_for(version, values, strict, &Facts::default(), budget)
    }

    /// Renders the pack with resolved `values`: its charts in `pack.json` order, then its
    /// manifests in `kubeManifests` order.
    pub fn render_for(
        &self,
        version: &LoadedVersion,
        values: &Value,
        strict: bool,
        facts: &Facts,
        budget: &Budget,
    ) -> Result<(Arc<Vec<Document>>, CacheOutcome), RenderError> {
        let key = Self::output_key(version, values, strict, facts);
        if let Some(found) = self.outputs.get(&key) {
            return Ok((found, CacheOutcome::Hit));
        }
        let _entropy = super::sprig::random::enter(facts.seed);
        let pack = &version.pack;
        let mut documents = Vec::new();
        for chart in &version.charts {
            documents.extend(Self::render_chart(chart, values, facts, budget)?);
        }
        for manifest in &version.manifests {
            let source = format!("{}@{}/{}", pack.name, pack.version, manifest.path);
            let text = if manifest.templated {
                self.render_manifest(version, manifest, values, strict, facts, budget)?
            } else {
                budget.charge(manifest.text.len() as u64)?;
                manifest.text.clone()
            };
            documents.extend(output::split_documents(&source, &text));
        }
        let documents = Arc::new(documents);
        self.outputs.insert(key, documents.clone());
        Ok((documents, CacheOutcome::Miss))
    }

    /// One chart as `helm template --include-crds` renders it, its values `charts.<name>`, its
    /// release name `pack.releaseNameOverride.<name>` (or the chart's name) and its namespace
    /// `pack.namespace` (or the release name, where Palette would create one).
    fn render_chart(
        chart: &LoadedChart,
        values: &Value,
        facts: &Facts,
        budget: &Budget,
    ) -> Result<Vec<Document>, RenderError> {
        let name = chart.info.name.clone();
        let failed = |message: String| RenderError::Chart {
            chart: name.clone(),
            message,
        };
        let loaded = chart.chart.as_ref().map_err(|e| failed(e.clone()))?;
        let chart_values = match values.get("charts").and_then(|c| c.get(&name)) {
            Some(Value::Object(map)) => map.clone(),
            _ => serde_json::Map::new(),
        };
        let text_at = |path: &[&str]| {
            path.iter()
                .try_fold(values, |v, key| v.get(key))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let release =
            text_at(&["pack", "releaseNameOverride", &name]).unwrap_or_else(|| name.clone());
        let namespace = text_at(&["pack", "namespace"]).unwrap_or_else(|| release.clone());
        let wanted = if facts.kubernetes_version.is_empty() {
            DEFAULT_KUBE_VERSION
        } else {
            &facts.kubernetes_version
        };
        let kube_version = KubeVersion::parse(wanted)
            .ok_or_else(|| failed(format!("invalid kubernetes version {wanted:?}")))?;
        let request = ChartRequest {
            release: &release,
            namespace: &namespace,
            kube_version: &kube_version,
            api_versions: &[],
            values: &chart_values,
            include_crds: true,
        };
        let output =
            helm::render_cached(loaded, &request, &chart.parsed, budget).map_err(|e| match e {
                ChartError::Limit(limit) => RenderError::Limit(limit),
                ChartError::ValuesInvalid(violations) => RenderError::Invalid(
                    violations
                        .into_iter()
                        .map(|v| Violation {
                            path: format!(
                                "charts.{name}{}{}",
                                if v.chart == name {
                                    String::new()
                                } else {
                                    format!(" ({})", v.chart)
                                },
                                v.path.replace('/', ".").trim_end_matches('.')
                            ),
                            message: v.message,
                        })
                        .collect(),
                ),
                other => failed(other.to_string()),
            })?;
        Ok(output.into_documents())
    }

    fn render_manifest(
        &self,
        version: &LoadedVersion,
        manifest: &Manifest,
        values: &Value,
        strict: bool,
        facts: &Facts,
        budget: &Budget,
    ) -> Result<String, RenderError> {
        // A template that failed its publish-time checks is never rendered: same message as the finding.
        if let Some(finding) = version
            .pack
            .findings
            .iter()
            .find(|f| f.code == "template-invalid" && f.file == manifest.path)
        {
            return Err(RenderError::TemplateInvalid(finding.located_message()));
        }
        let compiled = self
            .templates
            .get(&version.uid, &manifest.path, &manifest.text, strict);
        let template = compiled
            .as_ref()
            .as_ref()
            .map_err(|e| RenderError::Template {
                file: manifest.path.clone(),
                message: e.to_string(),
            })?;
        let manifest_values = values
            .get("manifests")
            .and_then(|m| m.get(&manifest.name))
            .cloned()
            .unwrap_or(Value::Null);
        let data = to_template(&json!({
            "Values": manifest_values,
            "Spectro": {"cluster": facts.cluster_name, "apiServer": facts.api_server},
        }));
        template
            .execute_with(&data, budget)
            .map_err(|failure| match failure {
                TemplateFailure::Fail(message) => RenderError::Failed {
                    file: manifest.path.clone(),
                    message,
                },
                TemplateFailure::Error(message) => RenderError::Template {
                    file: manifest.path.clone(),
                    message,
                },
                TemplateFailure::Limit(limit) => RenderError::Limit(limit),
            })
    }
}
