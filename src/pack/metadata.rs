//! `pack.json`: the typed view packyard works with, next to the document exactly as published
//! (unknown fields are kept there, never dropped).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::lint::Finding;

pub const FILE: &str = "pack.json";

/// The fields of `pack.json` that packyard reads. Every field is optional here; what is required is
/// decided by the pack reader, so a missing field yields a precise error or finding instead of a
/// generic decode failure.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPackJson {
    name: Option<String>,
    display_name: Option<String>,
    version: Option<String>,
    layer: Option<String>,
    cloud_types: Option<Vec<String>>,
    cloud_type: Option<String>,
    addon_type: Option<String>,
    addon_sub_type: Option<String>,
    group: Option<String>,
    eol: Option<String>,
    annotations: Option<BTreeMap<String, Value>>,
    kube_manifests: Option<Vec<String>>,
    charts: Option<Vec<String>>,
    constraints: Option<Constraints>,
}

/// `constraints` in pack.json.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Constraints {
    #[serde(default)]
    pub dependencies: Vec<Dependency>,
    #[serde(default)]
    pub resources: Vec<Value>,
}

/// One entry of `constraints.dependencies`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dependency {
    pub pack_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_version: Option<String>,
}

/// pack.json as read: typed fields plus the original document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PackJson {
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub version: Option<String>,
    pub layer: Option<String>,
    pub cloud_types: Vec<String>,
    pub addon_type: Option<String>,
    pub addon_sub_type: Option<String>,
    pub group: Option<String>,
    pub eol: Option<String>,
    pub annotations: BTreeMap<String, String>,
    pub kube_manifests: Vec<String>,
    pub charts: Vec<String>,
    pub constraints: Constraints,
    /// The document exactly as published, unknown fields included.
    pub document: Value,
}

/// Why pack.json cannot be read at all.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PackJsonError {
    #[error("pack.json: not valid JSON at line {line}, column {column}: {reason}")]
    Syntax {
        line: usize,
        column: usize,
        reason: String,
    },
    #[error("pack.json: field {field}: {reason}")]
    Field { field: String, reason: String },
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

impl PackJson {
    pub fn parse(bytes: &[u8], findings: &mut Vec<Finding>) -> Result<PackJson, PackJsonError> {
        let document: Value = serde_json::from_slice(bytes).map_err(|e| PackJsonError::Syntax {
            line: e.line(),
            column: e.column(),
            reason: e.to_string(),
        })?;
        if !document.is_object() {
            return Err(PackJsonError::Field {
                field: "(document)".to_owned(),
                reason: "must be a JSON object".to_owned(),
            });
        }
        let raw: RawPackJson =
            serde_path_to_error::deserialize(&document).map_err(|e| PackJsonError::Field {
                field: e.path().to_string(),
                reason: e.inner().to_string(),
            })?;

        let mut cloud_types = raw.cloud_types.unwrap_or_default();
        if let Some(single) = non_empty(raw.cloud_type) {
            findings.push(
                Finding::warning(
                    "legacy-cloud-type",
                    FILE,
                    "the singular cloudType is a legacy field; use cloudTypes",
                )
                .at_field("cloudType"),
            );
            if !cloud_types.contains(&single) {
                cloud_types.push(single);
            }
        }
        // Palette's Go side only reads strings here; other scalars are kept as their text.
        let annotations = raw
            .annotations
            .unwrap_or_default()
            .into_iter()
            .map(|(key, value)| {
                let text = match value {
                    Value::String(s) => s,
                    other => {
                        findings.push(
                            Finding::warning(
                                "annotation-not-string",
                                FILE,
                                format!("annotation {key} is {other}, not a string; it is read as its text"),
                            )
                            .at_field(format!("annotations.{key}")),
                        );
                        match other {
                            Value::Null => String::new(),
                            other => other.to_string(),
                        }
                    }
                };
                (key, text)
            })
            .collect();
        Ok(PackJson {
            name: non_empty(raw.name),
            display_name: non_empty(raw.display_name),
            version: non_empty(raw.version),
            layer: non_empty(raw.layer),
            cloud_types,
            addon_type: non_empty(raw.addon_type),
            addon_sub_type: non_empty(raw.addon_sub_type),
            group: non_empty(raw.group),
            eol: non_empty(raw.eol),
            annotations,
            kube_manifests: raw.kube_manifests.unwrap_or_default(),
            charts: raw.charts.unwrap_or_default(),
            constraints: raw.constraints.unwrap_or_default(),
            document,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_unknown_fields_and_reads_known_ones() {
        let mut findings = Vec::new();
        let json = br#"{"name":"x","version":"1.0.0","ansibleRoles":[],"futureField":{"a":1},
            "annotations":{"source":"community","disabled":true}}"#;
        let pack = PackJson::parse(json, &mut findings).unwrap();
        assert_eq!(pack.name.as_deref(), Some("x"));
        assert_eq!(pack.document["futureField"]["a"], 1);
        assert_eq!(pack.annotations["disabled"], "true");
        assert_eq!(findings.len(), 1);
    }

    #[test]
    fn errors_name_the_field_and_reason() {
        let mut findings = Vec::new();
        let error =
            PackJson::parse(br#"{"name":"x","cloudTypes":"aws"}"#, &mut findings).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("cloudTypes"), "{text}");
        let syntax = PackJson::parse(b"{\"name\":", &mut findings).unwrap_err();
        assert!(syntax.to_string().contains("line 1"), "{syntax}");
    }
}
