//! Helm chart archives inside a pack: enough of each to check it against values.yaml.

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

#[derive(Deserialize)]
struct ChartYaml {
    name: Option<String>,
    version: Option<String>,
}

/// Reads `Chart.yaml` from a chart archive (`<chart>/Chart.yaml` at the top level).
pub fn read_chart(path: &str, bytes: &[u8]) -> Result<ChartInfo, String> {
    const MAX_CHART_YAML: u64 = 1 << 20;
    let mut archive = tar::Archive::new(GzDecoder::new(bytes));
    let entries = archive
        .entries()
        .map_err(|e| format!("not a readable chart archive: {e}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("not a readable chart archive: {e}"))?;
        let entry_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let mut components = entry_path.trim_start_matches("./").split('/');
        let (Some(_), Some("Chart.yaml"), None) =
            (components.next(), components.next(), components.next())
        else {
            continue;
        };
        let mut text = String::new();
        (&mut entry)
            .take(MAX_CHART_YAML)
            .read_to_string(&mut text)
            .map_err(|e| format!("Chart.yaml is unreadable: {e}"))?;
        let chart: ChartYaml = serde_saphyr::from_str(&text)
            .map_err(|e| format!("Chart.yaml is not valid YAML: {}", e.without_snippet()))?;
        let name = chart.name.ok_or("Chart.yaml has no name")?;
        return Ok(ChartInfo {
            path: path.to_owned(),
            name,
            version: chart.version.unwrap_or_default(),
        });
    }
    Err("the archive holds no <chart>/Chart.yaml".to_owned())
}
