//! Helm chart archives inside a pack: enough of each to check it against values.yaml. Entries are
//! named as Helm names them: the first path component (the chart's folder, or `.`) is dropped.

use std::io::Read;

use flate2::read::GzDecoder;
use serde::{Deserialize, Serialize};

/// What a pack records about one of its charts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartInfo {
    /// The path inside the pack, such as `charts/argo-cd-5.1.0.tgz`.
    pub path: String,
    /// `name` from the chart's Chart.yaml.
    pub name: String,
    pub version: String,
}

/// Why a chart archive is not usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChartProblem {
    /// Its Chart.yaml does not parse (the publish is refused).
    Unparsable { line: Option<u64>, message: String },
    /// Anything else (a finding).
    Invalid(String),
}

#[derive(Deserialize)]
struct ChartYaml {
    name: Option<String>,
    version: Option<String>,
}

/// The name Helm gives an archive entry: the path without its first component, cleaned.
pub fn helm_entry_name(raw: &str) -> Option<String> {
    let delimiter = if raw.contains('\\') { '\\' } else { '/' };
    let mut parts = raw.split(delimiter);
    parts.next()?;
    let mut cleaned: Vec<&str> = Vec::new();
    for part in parts {
        match part {
            "" | "." => {}
            ".." => {
                cleaned.pop()?;
            }
            other => cleaned.push(other),
        }
    }
    (!cleaned.is_empty()).then(|| cleaned.join("/"))
}

/// Reads `Chart.yaml` from a chart archive.
pub fn read_chart(path: &str, bytes: impl Read) -> Result<ChartInfo, ChartProblem> {
    const MAX_CHART_YAML: u64 = 1 << 20;
    let invalid =
        |e: std::io::Error| ChartProblem::Invalid(format!("not a readable chart archive: {e}"));
    let mut archive = tar::Archive::new(GzDecoder::new(bytes));
    let entries = archive.entries().map_err(invalid)?;
    for entry in entries {
        let mut entry = entry.map_err(invalid)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let entry_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if helm_entry_name(&entry_path).as_deref() != Some("Chart.yaml") {
            continue;
        }
        let mut text = String::new();
        (&mut entry)
            .take(MAX_CHART_YAML)
            .read_to_string(&mut text)
            .map_err(|e| ChartProblem::Invalid(format!("Chart.yaml is unreadable: {e}")))?;
        let text = text.trim_start_matches('\u{feff}');
        let chart: ChartYaml =
            serde_saphyr::from_str(text).map_err(|e| ChartProblem::Unparsable {
                line: e.location().map(|l| l.line()),
                message: e.without_snippet().to_string(),
            })?;
        let name = chart
            .name
            .ok_or_else(|| ChartProblem::Invalid("Chart.yaml has no name".to_owned()))?;
        return Ok(ChartInfo {
            path: path.to_owned(),
            name,
            version: chart.version.unwrap_or_default(),
        });
    }
    Err(ChartProblem::Invalid(
        "the archive holds no <chart>/Chart.yaml".to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_named_as_helm_names_them() {
        assert_eq!(
            helm_entry_name("mychart/Chart.yaml").as_deref(),
            Some("Chart.yaml")
        );
        assert_eq!(
            helm_entry_name("./Chart.yaml").as_deref(),
            Some("Chart.yaml")
        );
        assert_eq!(
            helm_entry_name("./mychart/templates/a.yaml").as_deref(),
            Some("mychart/templates/a.yaml")
        );
        assert_eq!(helm_entry_name("Chart.yaml"), None);
        assert_eq!(helm_entry_name("x/../../etc"), None);
    }
}
