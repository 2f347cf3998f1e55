//! `presets.yaml`: named value bundles a user can pick, at most one per group.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::lint::Finding;
use super::yaml;

pub const FILE: &str = "presets.yaml";

/// One preset, in Palette's `v1PackPreset` shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Preset {
    pub name: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub group: String,
    /// Dotted value paths deleted from the values.
    #[serde(default)]
    pub remove: Vec<String>,
    /// A YAML string deep-merged into the values.
    #[serde(default)]
    pub add: String,
}

#[derive(Deserialize)]
struct PresetsFile {
    #[serde(default)]
    presets: Vec<Preset>,
}

/// Reads presets.yaml (already parsed as YAML). Unreadable presets become findings.
pub fn read(document: &Value, findings: &mut Vec<Finding>) -> Vec<Preset> {
    if document.is_null() {
        return Vec::new();
    }
    let file: PresetsFile = match serde_path_to_error::deserialize(document) {
        Ok(file) => file,
        Err(e) => {
            findings.push(
                Finding::error("presets-invalid", FILE, e.inner().to_string())
                    .at_field(e.path().to_string()),
            );
            return Vec::new();
        }
    };
    let mut names = BTreeSet::new();
    for (index, preset) in file.presets.iter().enumerate() {
        let field = format!("presets[{index}]");
        if !names.insert(preset.name.clone()) {
            findings.push(
                Finding::error(
                    "preset-duplicate",
                    FILE,
                    format!("preset name {:?} is used twice", preset.name),
                )
                .at_field(field.clone()),
            );
        }
        if !preset.add.trim().is_empty() {
            let mut ignored = Vec::new();
            match yaml::parse(&preset.add, FILE, &mut ignored) {
                Ok(Value::Object(_)) | Ok(Value::Null) => {}
                Ok(_) => findings.push(
                    Finding::error("preset-invalid", FILE, "add must be a YAML mapping")
                        .at_field(format!("{field}.add")),
                ),
                Err(e) => findings.push(
                    Finding::error(
                        "preset-invalid",
                        FILE,
                        format!("add is not valid YAML: {}", e.message),
                    )
                    .at_field(format!("{field}.add")),
                ),
            }
        }
        if preset.remove.iter().any(|path| path.trim().is_empty()) {
            findings.push(
                Finding::error("preset-invalid", FILE, "remove holds an empty path")
                    .at_field(format!("{field}.remove")),
            );
        }
    }
    file.presets
}
