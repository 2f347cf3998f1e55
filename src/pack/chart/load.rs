//! Loading a chart from an archive, a folder or a list of files, with Helm's rules and messages.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use flate2::read::GzDecoder;
use serde_json::{Map, Value as Json};

use super::{Chart, ChartFile, Dependency, IgnoreRules, Metadata};
use crate::pack::charts::helm_entry_name;

/// The most a chart may unpack to, subcharts included (Helm refuses 100 MiB).
pub const MAX_CHART_BYTES: u64 = 64 << 20;
/// The deepest subchart nesting followed (real charts nest three deep).
const MAX_DEPTH: usize = 16;

/// Why a chart could not be loaded, in Helm's words where Helm has them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LoadError(pub String);

fn err(message: impl Into<String>) -> LoadError {
    LoadError(message.into())
}

/// Loads a chart archive (`.tgz`).
pub fn load_archive(bytes: &[u8]) -> Result<Chart, LoadError> {
    let mut budget = MAX_CHART_BYTES;
    load_archive_within(bytes, &mut budget, 0)
}

fn load_archive_within(bytes: &[u8], budget: &mut u64, depth: usize) -> Result<Chart, LoadError> {
    let files = unpack(bytes, budget)?;
    load_nested(files, budget, depth)
}

fn unpack(bytes: &[u8], budget: &mut u64) -> Result<Vec<ChartFile>, LoadError> {
    let mut archive = tar::Archive::new(GzDecoder::new(bytes));
    let entries = archive
        .entries()
        .map_err(|e| err(format!("not a chart archive: {e}")))?;
    let mut files: Vec<ChartFile> = Vec::new();
    for entry in entries {
        let mut entry = entry.map_err(|e| err(format!("not a chart archive: {e}")))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(name) = helm_entry_name(&raw) else {
            continue;
        };
        let mut data = Vec::new();
        (&mut entry)
            .take(*budget + 1)
            .read_to_end(&mut data)
            .map_err(|e| err(format!("not a chart archive: {e}")))?;
        if data.len() as u64 > *budget {
            return Err(err(format!(
                "chart exceeds the maximum decompressed size of {} MiB",
                MAX_CHART_BYTES >> 20
            )));
        }
        *budget -= data.len() as u64;
        // A later entry of the same name replaces an earlier one, as in Helm.
        files.retain(|f| f.name != name);
        files.push(ChartFile {
            name,
            data: Arc::from(data),
        });
    }
    Ok(files)
}

/// Loads a chart folder, skipping what its `.helmignore` ignores.
pub fn load_dir(root: &Path) -> Result<Chart, LoadError> {
    let rules = match std::fs::read_to_string(root.join(".helmignore")) {
        Ok(text) => IgnoreRules::parse(&text),
        Err(_) => IgnoreRules::parse(""),
    };
    let mut files = Vec::new();
    let mut budget = MAX_CHART_BYTES;
    walk(root, "", &rules, &mut files, &mut budget)?;
    load_nested(files, &mut budget, 0)
}

fn walk(
    dir: &Path,
    prefix: &str,
    rules: &IgnoreRules,
    files: &mut Vec<ChartFile>,
    budget: &mut u64,
) -> Result<(), LoadError> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| err(format!("{}: {e}", dir.display())))?
        .filter_map(Result::ok)
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let path = entry.path();
        let meta = std::fs::metadata(&path).map_err(|e| err(format!("{rel}: {e}")))?;
        if meta.is_dir() {
            if !rules.ignored(&rel, true) {
                walk(&path, &rel, rules, files, budget)?;
            }
            continue;
        }
        if rules.ignored(&rel, false) {
            continue;
        }
        if meta.len() > *budget {
            return Err(err(format!(
                "chart exceeds the maximum decompressed size of {} MiB",
                MAX_CHART_BYTES >> 20
            )));
        }
        let data = std::fs::read(&path).map_err(|e| err(format!("{rel}: {e}")))?;
        *budget = budget.saturating_sub(data.len() as u64);
        files.push(ChartFile {
            name: rel,
            data: Arc::from(data),
        });
    }
    Ok(())
}

/// Loads a chart from its files (named relative to its root).
pub fn load_files(files: Vec<ChartFile>) -> Result<Chart, LoadError> {
    let mut budget = MAX_CHART_BYTES;
    load_nested(files, &mut budget, 0)
}

fn load_nested(files: Vec<ChartFile>, budget: &mut u64, depth: usize) -> Result<Chart, LoadError> {
    if depth > MAX_DEPTH {
        return Err(err("subcharts nest too deeply"));
    }
    let mut chart = Chart::default();
    let mut chart_yaml: Option<Json> = None;
    let mut requirements: Option<Json> = None;
    let mut subcharts: BTreeMap<String, Vec<ChartFile>> = BTreeMap::new();
    for file in files {
        match file.name.as_str() {
            "Chart.yaml" => chart_yaml = Some(parse_yaml(&file, "Chart.yaml")?),
            "values.yaml" => {
                chart.values = match parse_yaml(&file, "values.yaml")? {
                    Json::Object(map) => map,
                    Json::Null => Map::new(),
                    _ => return Err(err("cannot load values.yaml: not a mapping")),
                }
            }
            "values.schema.json" => {
                let schema: Json = serde_json::from_slice(&file.data)
                    .map_err(|e| err(format!("cannot load values.schema.json: {e}")))?;
                chart.schema = Some(Arc::new(schema));
            }
            "requirements.yaml" => requirements = Some(parse_yaml(&file, "requirements.yaml")?),
            "Chart.lock" | "requirements.lock" => {}
            name if name.starts_with("templates/") => chart.templates.push(file),
            name if name.starts_with("charts/") && !name.ends_with(".prov") => {
                let rest = &name["charts/".len()..];
                let key = rest.split('/').next().unwrap_or(rest).to_owned();
                subcharts.entry(key).or_default().push(file);
            }
            _ => chart.files.push(file),
        }
    }
    let chart_yaml = chart_yaml.ok_or_else(|| err("Chart.yaml file is missing"))?;
    chart.metadata = metadata(&chart_yaml)?;
    if chart.metadata.api_version.is_empty() {
        chart.metadata.api_version = "v1".to_owned();
    }
    if let Some(requirements) = requirements
        && let Some(deps) = requirements.get("dependencies")
    {
        chart.metadata.dependencies = dependencies(deps);
    }
    validate(&chart.metadata)?;
    for (name, files) in subcharts {
        if name.starts_with(['.', '_']) {
            continue;
        }
        let sub = if name.ends_with(".tgz") {
            let Some(file) = files.iter().find(|f| f.name == format!("charts/{name}")) else {
                continue;
            };
            load_archive_within(&file.data, budget, depth + 1)
        } else {
            let prefix = format!("charts/{name}/");
            let inner: Vec<ChartFile> = files
                .into_iter()
                .filter_map(|f| {
                    f.name.strip_prefix(&prefix).map(|rest| ChartFile {
                        name: rest.to_owned(),
                        data: f.data.clone(),
                    })
                })
                .collect();
            if inner.is_empty() {
                continue;
            }
            load_nested(inner, budget, depth + 1)
        };
        let sub = sub.map_err(|e| {
            err(format!(
                "error unpacking subchart {name} in {}: {e}",
                chart.metadata.name
            ))
        })?;
        chart.dependencies.push(sub);
    }
    Ok(chart)
}

fn parse_yaml(file: &ChartFile, label: &str) -> Result<Json, LoadError> {
    let text = std::str::from_utf8(&file.data)
        .map_err(|_| err(format!("cannot load {label}: not UTF-8")))?;
    let text = text.trim_start_matches('\u{feff}');
    let mut ignored = Vec::new();
    crate::pack::yaml::parse(text, label, &mut ignored)
        .map_err(|e| err(format!("cannot load {label}: {e}")))
}

/// A scalar as Go's YAML reads it into a string field (numbers and booleans as written).
fn scalar(value: Option<&Json>) -> String {
    match value {
        Some(Json::String(s)) => s.clone(),
        Some(Json::Number(n)) => n.to_string(),
        Some(Json::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

fn strings(value: Option<&Json>) -> Vec<String> {
    match value {
        Some(Json::Array(items)) => items.iter().map(|v| scalar(Some(v))).collect(),
        _ => Vec::new(),
    }
}

fn metadata(yaml: &Json) -> Result<Metadata, LoadError> {
    if !yaml.is_object() {
        return Err(err("cannot load Chart.yaml: not a mapping"));
    }
    let field = |key: &str| scalar(yaml.get(key));
    let maintainers = match yaml.get("maintainers") {
        Some(Json::Array(items)) => items
            .iter()
            .map(|m| {
                (
                    scalar(m.get("name")),
                    scalar(m.get("email")),
                    scalar(m.get("url")),
                )
            })
            .collect(),
        _ => Vec::new(),
    };
    let annotations = match yaml.get("annotations") {
        Some(Json::Object(map)) => Some(
            map.iter()
                .map(|(k, v)| (k.clone(), scalar(Some(v))))
                .collect(),
        ),
        _ => None,
    };
    Ok(Metadata {
        api_version: field("apiVersion"),
        name: field("name"),
        version: field("version"),
        app_version: field("appVersion"),
        kube_version: field("kubeVersion"),
        description: field("description"),
        chart_type: field("type"),
        home: field("home"),
        icon: field("icon"),
        condition: field("condition"),
        tags: field("tags"),
        deprecated: matches!(yaml.get("deprecated"), Some(Json::Bool(true))),
        keywords: strings(yaml.get("keywords")),
        sources: strings(yaml.get("sources")),
        maintainers,
        annotations,
        dependencies: yaml
            .get("dependencies")
            .map(dependencies)
            .unwrap_or_default(),
    })
}

fn dependencies(value: &Json) -> Vec<Dependency> {
    let Json::Array(items) = value else {
        return Vec::new();
    };
    items
        .iter()
        .filter(|d| d.is_object())
        .map(|d| Dependency {
            name: scalar(d.get("name")),
            version: scalar(d.get("version")),
            repository: scalar(d.get("repository")),
            condition: scalar(d.get("condition")),
            tags: strings(d.get("tags")),
            enabled: matches!(d.get("enabled"), Some(Json::Bool(true))),
            import_values: match d.get("import-values") {
                Some(Json::Array(items)) => items.clone(),
                _ => Vec::new(),
            },
            alias: scalar(d.get("alias")),
        })
        .collect()
}

/// Helm's `Metadata.Validate`, for what stops a chart from loading.
fn validate(metadata: &Metadata) -> Result<(), LoadError> {
    if metadata.name.is_empty() {
        return Err(err("validation: chart.metadata.name is required"));
    }
    if metadata.name.contains(['/', '\\']) || metadata.name == "." || metadata.name == ".." {
        return Err(err(format!(
            "validation: chart.metadata.name {:?} is invalid",
            metadata.name
        )));
    }
    if metadata.version.is_empty() {
        return Err(err("validation: chart.metadata.version is required"));
    }
    if !matches!(
        metadata.chart_type.to_ascii_lowercase().as_str(),
        "" | "application" | "library"
    ) {
        return Err(err(
            "validation: chart.metadata.type must be application or library",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> ChartFile {
        ChartFile {
            name: name.to_owned(),
            data: Arc::from(text.as_bytes()),
        }
    }

    #[test]
    fn files_are_sorted_into_their_roles() {
        let chart = load_files(vec![
            file("Chart.yaml", "apiVersion: v2\nname: a\nversion: 1.0.0\n"),
            file("values.yaml", "x: 1\n"),
            file("templates/a.yaml", "a"),
            file("crds/c.yaml", "c"),
            file("files/f.txt", "f"),
            file("charts/sub/Chart.yaml", "name: sub\nversion: 0.1.0\n"),
            file("charts/sub/templates/s.yaml", "s"),
            file("charts/_skip/Chart.yaml", "name: skip\nversion: 0.1.0\n"),
        ])
        .unwrap();
        assert_eq!(chart.name(), "a");
        assert_eq!(chart.values["x"], 1);
        assert_eq!(chart.templates.len(), 1);
        assert_eq!(chart.crd_files().count(), 1);
        assert_eq!(chart.files.len(), 2);
        assert_eq!(chart.dependencies.len(), 1);
        assert_eq!(chart.dependencies[0].metadata.api_version, "v1");
    }

    #[test]
    fn an_archive_that_unpacks_past_the_limit_stops_there() {
        use std::io::Write;
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        let zeros = vec![0u8; (MAX_CHART_BYTES + 1) as usize];
        let mut header = tar::Header::new_gnu();
        header.set_size(zeros.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, "bomb/files/zeros", zeros.as_slice())
            .unwrap();
        let mut gz = builder.into_inner().unwrap();
        gz.flush().unwrap();
        let archive = gz.finish().unwrap();
        assert!(archive.len() < 1 << 20, "a small archive");
        let error = load_archive(&archive).unwrap_err();
        assert!(error.0.contains("maximum decompressed size"), "{error}");
    }

    #[test]
    fn a_chart_without_chart_yaml_or_name_is_refused_in_helms_words() {
        assert_eq!(
            load_files(vec![file("values.yaml", "")]).unwrap_err().0,
            "Chart.yaml file is missing"
        );
        assert_eq!(
            load_files(vec![file("Chart.yaml", "version: 1.0.0\n")])
                .unwrap_err()
                .0,
            "validation: chart.metadata.name is required"
        );
    }
}
