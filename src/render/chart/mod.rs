//! Helm charts rendered as `helm template --include-crds` renders them: dependencies and values
//! processed as Helm does ([`values`]), `values.schema.json` checked, one template set for the
//! chart and its enabled subcharts on packyard's engine with Sprig's and Helm's functions
//! ([`engine`]), and Helm's output order ([`output`]).

mod engine;
pub mod objects;
pub mod output;
mod schema;
pub mod values;

use serde_json::{Map, Value as Json};

pub use engine::{ParseCache, render, render_cached, render_files};
pub use objects::KubeVersion;
pub use output::{ChartOutput, Document};

use super::gotemplate::Limit;

/// What one chart render needs besides the chart.
#[derive(Debug, Clone)]
pub struct ChartRequest<'a> {
    pub release: &'a str,
    pub namespace: &'a str,
    pub kube_version: &'a KubeVersion,
    /// API versions beyond Helm's defaults (`--api-versions`).
    pub api_versions: &'a [String],
    /// The user's values for the chart (what `--values` would pass).
    pub values: &'a Map<String, Json>,
    pub include_crds: bool,
}

/// Why a chart did not render, in Helm's words.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChartError {
    /// A library chart, or another type Helm does not install.
    #[error("{0} charts are not installable")]
    NotInstallable(String),
    #[error(
        "an error occurred while checking for chart dependencies. You may need to run 'helm dependency build' to fetch missing dependencies: found in Chart.yaml, but missing in charts/ directory: {}",
        .0.join(", ")
    )]
    MissingDependencies(Vec<String>),
    #[error(
        "chart requires kubeVersion: {constraint} which is incompatible with Kubernetes {version}"
    )]
    KubeVersion { constraint: String, version: String },
    /// Values that do not meet a chart's `values.schema.json`: every violation, by chart.
    #[error("values don't meet the specifications of the schema(s) in the following chart(s):\n{}", schema::describe(.0))]
    ValuesInvalid(Vec<schema::Violation>),
    /// Dependency or values processing failed.
    #[error("{0}")]
    Values(String),
    /// A template failed to parse or execute, or its output is not YAML.
    #[error("{0}")]
    Template(String),
    #[error(transparent)]
    Limit(#[from] Limit),
}

pub use schema::Violation;
