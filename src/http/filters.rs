//! Palette's `filters` query syntax for `GET /v1/packs`: terms joined by `AND`, each
//! `field=value` or `field_in_a,b`.

use crate::domain::PackState;
use crate::registry::catalog::{Filters, TextFilter, TextMatch};

use super::ApiError;

const FIELDS: &str = "spec.name, spec.displayName, spec.layer, spec.type, spec.addonType, spec.cloudTypes, spec.state";

fn invalid(reason: String) -> ApiError {
    ApiError::InvalidParameter {
        name: "filters",
        reason,
    }
}

fn split_list(values: &str) -> Vec<String> {
    values
        .split(',')
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

pub fn parse(text: &str) -> Result<Filters, ApiError> {
    let mut filters = Filters::default();
    for term in text.split("AND").map(str::trim).filter(|t| !t.is_empty()) {
        let (field, values) = if let Some((field, values)) = term.split_once("_in_") {
            (field, split_list(values))
        } else if let Some((field, value)) = term.split_once('=') {
            (field, vec![value.trim().to_owned()])
        } else {
            return Err(invalid(format!(
                "term {term:?} is neither field=value nor field_in_a,b"
            )));
        };
        if values.is_empty() || values.iter().any(String::is_empty) {
            return Err(invalid(format!("term {term:?} has no value")));
        }
        let exact = |values: Vec<String>| {
            values
                .into_iter()
                .map(|v| TextFilter {
                    matcher: TextMatch::Eq(v),
                    ignore_case: false,
                })
                .collect::<Vec<_>>()
        };
        match field.trim() {
            "spec.name" | "metadata.name" => {
                if values.len() > 1 {
                    return Err(invalid("spec.name takes one value".to_owned()));
                }
                filters.names.extend(exact(values));
            }
            "spec.displayName" => {
                if values.len() > 1 {
                    return Err(invalid("spec.displayName takes one value".to_owned()));
                }
                filters.display_names.extend(exact(values));
            }
            "spec.layer" => filters.layers.extend(values),
            "spec.type" => filters.types.extend(values),
            "spec.addonType" => filters.addon_types.extend(values),
            "spec.cloudTypes" | "spec.cloudType" => filters.clouds.extend(values),
            "spec.state" | "spec.states" => {
                for value in values {
                    let state: PackState = value
                        .parse()
                        .map_err(|e: crate::domain::PackStateError| invalid(e.to_string()))?;
                    filters.states.push(state);
                }
            }
            other => {
                return Err(invalid(format!(
                    "unknown field {other:?}; supported: {FIELDS}"
                )));
            }
        }
    }
    Ok(filters)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_palette_filter_terms() {
        let filters =
            parse("spec.layer=cniANDspec.cloudTypes_in_aws,allANDspec.name=cni-calico").unwrap();
        assert_eq!(filters.layers, ["cni"]);
        assert_eq!(filters.clouds, ["aws", "all"]);
        assert_eq!(filters.names.len(), 1);
    }

    #[test]
    fn refuses_unknown_fields_and_empty_values() {
        for bad in [
            "spec.colour=red",
            "spec.layer=",
            "spec.layer",
            "spec.state=gone",
            "spec.name_in_a,b",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
