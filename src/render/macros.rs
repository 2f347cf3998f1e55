//! Macros in values: every string that refers to `.spectro` is rendered as a Go template against the
//! `.spectro` context (so conditionals on the cloud work); every other string, such as Helm templates
//! meant for a chart, is left exactly as it is.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::cache::MacroCache;
use super::data::to_template;
use super::engine::TemplateFailure;
use super::gotemplate::{Budget, Limit};

/// What `.spectro` offers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MacroContext {
    pub cloud_type: String,
    pub region: String,
    pub cluster_name: String,
    pub kubernetes_version: String,
    /// `.spectro.pack.<name>`: other layers' resolved values.
    pub packs: BTreeMap<String, Value>,
    /// `.spectro.var.<name>`: caller-supplied variables.
    pub variables: BTreeMap<String, String>,
}

impl MacroContext {
    fn data(&self) -> super::gotemplate::Value {
        to_template(&json!({
            "spectro": {
                "system": {
                    "cloud": {"type": self.cloud_type, "region": self.region},
                    "cluster": {"name": self.cluster_name},
                    "kubernetes": {"version": self.kubernetes_version},
                },
                "pack": self.packs,
                "var": self.variables,
            }
        }))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MacroError {
    #[error("{path}: the macro cannot be resolved: {message}")]
    Invalid { path: String, message: String },
    #[error(transparent)]
    Limit(#[from] Limit),
}

/// Whether a values string holds an action that refers to `.spectro`.
pub fn refers_to_spectro(text: &str) -> bool {
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return false;
        };
        if after[..end].contains(".spectro") {
            return true;
        }
        rest = &after[end + 2..];
    }
    false
}

/// Resolves every macro string in `values`, in place, charging `budget`.
pub fn resolve(
    values: &mut Value,
    context: &MacroContext,
    budget: &Budget,
    macros: &MacroCache,
) -> Result<(), MacroError> {
    let data = context.data();
    resolve_at(values, &data, &mut String::new(), budget, macros)
}

fn resolve_at(
    value: &mut Value,
    data: &super::gotemplate::Value,
    path: &mut String,
    budget: &Budget,
    macros: &MacroCache,
) -> Result<(), MacroError> {
    match value {
        Value::String(text) if refers_to_spectro(text) => {
            let rendered = macros.render(text, data, budget).map_err(|e| match e {
                TemplateFailure::Limit(limit) => MacroError::Limit(limit),
                other => MacroError::Invalid {
                    path: path.clone(),
                    message: other.to_string(),
                },
            })?;
            *text = rendered;
            Ok(())
        }
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                let length = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                resolve_at(child, data, path, budget, macros)?;
                path.truncate(length);
            }
            Ok(())
        }
        Value::Array(items) => {
            for (index, child) in items.iter_mut().enumerate() {
                let length = path.len();
                path.push_str(&format!("[{index}]"));
                resolve_at(child, data, path, budget, macros)?;
                path.truncate(length);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(cloud: &str) -> MacroContext {
        MacroContext {
            cloud_type: cloud.to_owned(),
            packs: BTreeMap::from([(
                "kubernetes".to_owned(),
                json!({"pack": {"podCIDR": "10.0.0.0/16"}}),
            )]),
            variables: BTreeMap::from([("site".to_owned(), "berlin".to_owned())]),
            ..MacroContext::default()
        }
    }

    #[test]
    fn resolves_spectro_macros_and_leaves_other_templates_alone() {
        let mut values = json!({
            "cloud": "{{ .spectro.system.cloud.type }}",
            "encap": "{{ if eq .spectro.system.cloud.type \"azure\" }}VXLAN{{ else }}IPIP{{ end }}",
            "cidr": "{{ .spectro.pack.kubernetes.pack.podCIDR | default \"192.168.0.0/16\" }}",
            "missing": "{{ .spectro.pack.nothing.pack.podCIDR | default \"fallback\" }}",
            "undefined": "x{{ .spectro.var.unknown }}y",
            "site": ["{{ .spectro.var.site }}"],
            "helm": "{{ .Release.Name }}-{{ .Values.x }}",
            "number": 3,
        });
        resolve(
            &mut values,
            &context("azure"),
            &Budget::unlimited(),
            &MacroCache::default(),
        )
        .unwrap();
        assert_eq!(
            values,
            json!({
                "cloud": "azure",
                "encap": "VXLAN",
                "cidr": "10.0.0.0/16",
                "missing": "fallback",
                "undefined": "xy",
                "site": ["berlin"],
                "helm": "{{ .Release.Name }}-{{ .Values.x }}",
                "number": 3,
            })
        );
    }

    #[test]
    fn a_broken_macro_names_its_path() {
        let mut values = json!({"a": {"b": "{{ .spectro.system.cloud.type | nope }}"}});
        let error = resolve(
            &mut values,
            &context("aws"),
            &Budget::unlimited(),
            &MacroCache::default(),
        )
        .unwrap_err();
        assert!(matches!(error, MacroError::Invalid { path, .. } if path == "a.b"));
    }
}
