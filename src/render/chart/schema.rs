//! `values.schema.json` of a chart and each enabled subchart, checked against the values that
//! chart will see (a maintained JSON Schema validator: every violation, with its path).

use serde_json::Value as Json;

use super::values::{JMap, Node};

/// One value that breaks a chart's schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The chart (its name as its parent sees it).
    pub chart: String,
    /// The JSON pointer of the value (`/image/tag`), `/` for the root.
    pub path: String,
    pub message: String,
}

/// Helm's layout: each chart's name, then one line per violation.
pub fn describe(violations: &[Violation]) -> String {
    let mut out = String::new();
    let mut last_chart: Option<&str> = None;
    for v in violations {
        if last_chart != Some(&v.chart) {
            out.push_str(&v.chart);
            out.push_str(":\n");
            last_chart = Some(&v.chart);
        }
        out.push_str(&format!("- at '{}': {}\n", v.path, v.message));
    }
    out
}

/// Every violation of every schema in the tree.
pub fn validate(node: &Node<'_>, values: &JMap, out: &mut Vec<Violation>) {
    if let Some(schema) = &node.chart.schema {
        let instance = Json::Object(values.clone());
        match jsonschema::validator_for(schema) {
            Ok(validator) => {
                for error in validator.iter_errors(&instance) {
                    let path = error.instance_path().to_string();
                    out.push(Violation {
                        chart: node.name().to_owned(),
                        path: if path.is_empty() {
                            "/".to_owned()
                        } else {
                            path
                        },
                        message: error.to_string(),
                    });
                }
            }
            Err(e) => out.push(Violation {
                chart: node.name().to_owned(),
                path: "/".to_owned(),
                message: format!("values.schema.json is not a valid schema: {e}"),
            }),
        }
    }
    for sub in &node.deps {
        let empty = JMap::new();
        let sub_values = match values.get(sub.name()) {
            Some(Json::Object(map)) => map,
            _ => &empty,
        };
        validate(sub, sub_values, out);
    }
}
