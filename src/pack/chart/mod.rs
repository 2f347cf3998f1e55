//! Helm charts as Helm loads them (`pkg/chart/v2/loader`): Chart.yaml (apiVersion v1 or v2, with
//! `requirements.yaml` as v1's spelling of `dependencies`), values.yaml, values.schema.json,
//! templates, other files (reachable through `.Files`), and subcharts under `charts/` as archives
//! or folders. A chart archive is read with its first path component dropped, as Helm names
//! entries; a chart folder is read through its `.helmignore`.

mod ignore;
mod load;

use std::sync::Arc;

use serde_json::{Map, Value as Json};

pub use ignore::{IgnoreRules, glob_match};
pub use load::{LoadError, MAX_CHART_BYTES, load_archive, load_dir, load_files};

/// A file of a chart, named relative to the chart's root (`templates/deployment.yaml`).
#[derive(Debug, Clone)]
pub struct ChartFile {
    pub name: String,
    pub data: Arc<[u8]>,
}

/// One entry of Chart.yaml's `dependencies` (or requirements.yaml's).
#[derive(Debug, Clone, Default)]
pub struct Dependency {
    pub name: String,
    pub version: String,
    pub repository: String,
    pub condition: String,
    pub tags: Vec<String>,
    pub enabled: bool,
    pub import_values: Vec<Json>,
    pub alias: String,
}

/// Chart.yaml, with Go's field names kept for `.Chart`.
#[derive(Debug, Clone, Default)]
pub struct Metadata {
    pub api_version: String,
    pub name: String,
    pub version: String,
    pub app_version: String,
    pub kube_version: String,
    pub description: String,
    pub chart_type: String,
    pub home: String,
    pub icon: String,
    pub condition: String,
    pub tags: String,
    pub deprecated: bool,
    pub keywords: Vec<String>,
    pub sources: Vec<String>,
    /// Each maintainer as `{Name, Email, URL}`.
    pub maintainers: Vec<(String, String, String)>,
    pub annotations: Option<Vec<(String, String)>>,
    pub dependencies: Vec<Dependency>,
}

impl Metadata {
    pub fn is_library(&self) -> bool {
        self.chart_type.eq_ignore_ascii_case("library")
    }
}

/// A loaded chart and its subcharts.
#[derive(Debug, Clone, Default)]
pub struct Chart {
    pub metadata: Metadata,
    /// values.yaml, parsed as Helm parses it (YAML 1.1 scalars, string keys).
    pub values: Map<String, Json>,
    /// values.schema.json, parsed.
    pub schema: Option<Arc<Json>>,
    /// `templates/**`.
    pub templates: Vec<ChartFile>,
    /// Every other file but Chart.yaml, values.yaml, values.schema.json, requirements and locks,
    /// and `charts/` (crds/ files are here).
    pub files: Vec<ChartFile>,
    /// Subcharts found under `charts/`, by folder or archive name order.
    pub dependencies: Vec<Chart>,
}

impl Chart {
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// The CRD files of this chart (`crds/*.yaml|yml|json`), in file order.
    pub fn crd_files(&self) -> impl Iterator<Item = &ChartFile> {
        self.files.iter().filter(|f| {
            f.name.starts_with("crds/")
                && [".yaml", ".yml", ".json"]
                    .iter()
                    .any(|ext| f.name.ends_with(ext))
        })
    }

    /// Bytes of template text in this chart and its subcharts (parsed, a template takes about ten
    /// times its text).
    pub fn template_bytes(&self) -> u64 {
        self.templates
            .iter()
            .map(|t| t.data.len() as u64)
            .sum::<u64>()
            + self
                .dependencies
                .iter()
                .map(Chart::template_bytes)
                .sum::<u64>()
    }

    /// Bytes this chart holds, for cache weights.
    pub fn weight(&self) -> u64 {
        let own: u64 = self
            .templates
            .iter()
            .chain(&self.files)
            .map(|f| f.data.len() as u64 + f.name.len() as u64 + 64)
            .sum();
        own + 4096 + self.dependencies.iter().map(Chart::weight).sum::<u64>()
    }
}
