//! What people see of a pack's charts: each chart's identity, dependencies and CRDs, and the
//! parameters its `values.schema.json` declares (with the chart's defaults).

use serde_json::Value;

use super::LoadedVersion;
use crate::pack::chart::Chart;

/// One chart of a pack, summarised.
#[derive(Debug, Clone)]
pub struct ChartSummary {
    pub path: String,
    pub name: String,
    pub version: String,
    pub app_version: String,
    pub description: String,
    /// Dependencies as Chart.yaml declares them: (name, version, condition, alias).
    pub dependencies: Vec<(String, String, String, String)>,
    /// `crds/` files of the chart and its subcharts.
    pub crds: Vec<String>,
    pub parameters: Vec<SchemaParameter>,
    /// Why the chart could not be loaded, when it could not.
    pub problem: Option<String>,
}

/// A value `values.schema.json` describes.
#[derive(Debug, Clone)]
pub struct SchemaParameter {
    /// `charts.<chart>.<dotted path>`.
    pub path: String,
    pub kind: String,
    pub description: String,
    pub required: bool,
    pub allowed: Vec<String>,
    pub default: String,
}

/// The most schema parameters listed per chart (some schemas describe thousands).
const MAX_PARAMETERS: usize = 400;

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn walk(
    schema: &Value,
    values: Option<&Value>,
    path: &str,
    required: bool,
    out: &mut Vec<SchemaParameter>,
) {
    if out.len() >= MAX_PARAMETERS {
        return;
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    let kind = match schema.get("type") {
        Some(Value::Array(types)) => types.iter().map(text).collect::<Vec<_>>().join(" | "),
        Some(t) => text(t),
        None if properties.is_some() => "object".to_owned(),
        None => String::new(),
    };
    let is_leaf = properties.is_none_or(|p| p.is_empty());
    if is_leaf {
        let default = values
            .map(text)
            .or_else(|| schema.get("default").map(text))
            .unwrap_or_default();
        out.push(SchemaParameter {
            path: path.to_owned(),
            kind,
            description: schema
                .get("description")
                .or_else(|| schema.get("title"))
                .map(text)
                .unwrap_or_default(),
            required,
            allowed: schema
                .get("enum")
                .and_then(Value::as_array)
                .map(|items| items.iter().map(text).collect())
                .unwrap_or_default(),
            default: if default.len() > 200 {
                format!("{}…", default.chars().take(200).collect::<String>())
            } else {
                default
            },
        });
        return;
    }
    let needed: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for (key, child) in properties.into_iter().flatten() {
        walk(
            child,
            values.and_then(|v| v.get(key)),
            &format!("{path}.{key}"),
            needed.contains(&key.as_str()),
            out,
        );
    }
}

fn crds(chart: &Chart, prefix: &str, out: &mut Vec<String>) {
    out.extend(chart.crd_files().map(|f| format!("{prefix}{}", f.name)));
    for sub in &chart.dependencies {
        crds(sub, &format!("{prefix}charts/{}/", sub.name()), out);
    }
}

/// The charts of a loaded version, in `pack.json` order.
pub fn summaries(version: &LoadedVersion) -> Vec<ChartSummary> {
    version
        .charts
        .iter()
        .map(|loaded| {
            let info = &loaded.info;
            let mut summary = ChartSummary {
                path: info.path.clone(),
                name: info.name.clone(),
                version: info.version.clone(),
                app_version: String::new(),
                description: String::new(),
                dependencies: Vec::new(),
                crds: Vec::new(),
                parameters: Vec::new(),
                problem: None,
            };
            match &loaded.chart {
                Ok(chart) => {
                    let meta = &chart.metadata;
                    summary.app_version = meta.app_version.clone();
                    summary.description = meta.description.clone();
                    summary.dependencies = meta
                        .dependencies
                        .iter()
                        .map(|d| {
                            (
                                d.name.clone(),
                                d.version.clone(),
                                d.condition.clone(),
                                d.alias.clone(),
                            )
                        })
                        .collect();
                    crds(chart, "", &mut summary.crds);
                    if let Some(schema) = &chart.schema {
                        let values = Value::Object(chart.values.clone());
                        walk(
                            schema,
                            Some(&values),
                            &format!("charts.{}", info.name),
                            false,
                            &mut summary.parameters,
                        );
                    }
                }
                Err(problem) => summary.problem = Some(problem.clone()),
            }
            summary
        })
        .collect()
}
