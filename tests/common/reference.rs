//! Reference data kept outside the project: Calico's upstream manifests and Palette's API models,
//! read in place from `$PACKYARD_REFERENCE_DIR` (default `../shared` beside the clone). A test that
//! needs them says that it skips, and returns, when they are absent (a fresh clone on its own);
//! under `CI=true` their absence is a failure.

use std::path::PathBuf;

/// The reference directory.
pub fn dir() -> PathBuf {
    std::env::var_os("PACKYARD_REFERENCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared")))
}

/// `relative` inside the reference directory, or `None` (after saying so) when it is absent.
pub fn path(relative: &str) -> Option<PathBuf> {
    let path = dir().join(relative);
    if path.exists() {
        Some(path)
    } else {
        super::skip(&format!(
            "reference data {} is absent (set PACKYARD_REFERENCE_DIR to the directory \
             holding upstream/calico and palette-api)",
            path.display()
        ));
        None
    }
}

/// Calico's upstream manifests, `upstream/calico`.
pub fn calico_upstream() -> Option<PathBuf> {
    path("upstream/calico")
}

/// The Helm chart corpus: `$PACKYARD_CHART_CORPUS`, default `charts` in the reference directory;
/// `None` (after saying so) when it is absent.
pub fn chart_corpus() -> Option<PathBuf> {
    let path = std::env::var_os("PACKYARD_CHART_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir().join("charts"));
    if path.join("helm_template.py").exists() {
        Some(path)
    } else {
        super::skip(&format!(
            "the chart corpus {} is absent (set PACKYARD_CHART_CORPUS to the folder holding the charts and helm_template.py)",
            path.display()
        ));
        None
    }
}
