//! Cluster profiles: several packs rendered together in layer order, with cross-layer macros, and
//! the checks Palette's profile validation makes (plus the pod CIDR check Palette never made).

use std::collections::BTreeMap;

use serde_json::Value;

use super::gotemplate::{Budget, Limit};
use super::macros::MacroContext;
use super::pipeline::{Facts, LoadedVersion, PackRequest, RenderError, Renderer};
use super::values::get_path;
use crate::domain::{Layer, Version};

/// Pack annotation naming the value that holds the pod CIDR (`pack.podCIDR` in a Kubernetes pack,
/// `manifests.calico.calicoNetworkCIDR` in Calico): the profile check compares the CNI's with the
/// Kubernetes layer's.
pub const POD_CIDR_ANNOTATION: &str = "podCIDRValuePath";

/// One layer of a profile, loaded.
pub struct Layered<'a> {
    pub version: &'a LoadedVersion,
    pub request: PackRequest,
}

/// Indices of `layers` in layer order (kernel, os, k8s, cni, csi, addon), stable within a layer.
pub fn layer_order(layers: &[Layer]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..layers.len()).collect();
    order.sort_by_key(|&i| layers[i]);
    order
}

/// The facts charts and manifests see in a profile: the Kubernetes version of its k8s layer (or
/// the request's), the cluster's name and API server, the seed.
pub fn facts(context: &MacroContext, api_server: &str, seed: Option<u64>) -> Facts {
    Facts {
        kubernetes_version: context.kubernetes_version.clone(),
        cluster_name: context.cluster_name.clone(),
        api_server: api_server.to_owned(),
        seed,
    }
}

/// The base macro context of a profile: the cloud, and the Kubernetes version from its k8s layer.
pub fn base_context(
    cloud: &str,
    versions: &[&LoadedVersion],
    variables: &BTreeMap<String, String>,
) -> MacroContext {
    let kubernetes_version = versions
        .iter()
        .find(|v| v.pack.layer == Layer::K8s)
        .map(|v| v.pack.version.to_string())
        .unwrap_or_default();
    MacroContext {
        cloud_type: cloud.to_owned(),
        kubernetes_version,
        variables: variables.clone(),
        ..MacroContext::default()
    }
}

/// Resolves every layer's values in layer order; each layer sees the earlier layers' values as
/// `.spectro.pack.<name>`. Returns the values per input index, or the first layer's error.
pub fn resolve_all(
    renderer: &Renderer,
    layers: &[Layered<'_>],
    base: &MacroContext,
    budget: &Budget,
) -> Vec<Result<Value, RenderError>> {
    let order = layer_order(
        &layers
            .iter()
            .map(|l| l.version.pack.layer)
            .collect::<Vec<_>>(),
    );
    let mut context = base.clone();
    let mut results: Vec<Option<Result<Value, RenderError>>> =
        layers.iter().map(|_| None).collect();
    for index in order {
        let layer = &layers[index];
        let result = Renderer::check_cloud(layer.version, &context.cloud_type).and_then(|()| {
            renderer.resolve_values(layer.version, &layer.request, &context, budget)
        });
        if let Ok(values) = &result {
            context
                .packs
                .insert(layer.version.pack.name.to_string(), values.clone());
        }
        results[index] = Some(result);
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or(Ok(Value::Null)))
        .collect()
}

/// One finding of profile validation: Palette's `v1ConstraintError`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ConstraintError {
    pub code: String,
    pub message: String,
}

fn error(code: &str, message: String) -> ConstraintError {
    ConstraintError {
        code: code.to_owned(),
        message,
    }
}

/// Whether `version` lies within `min` and `max`. A bound with fewer parts compares only those
/// parts, so a maximum of `1.24` admits every `1.24.z`.
pub fn within(version: &str, min: Option<&str>, max: Option<&str>) -> bool {
    let Ok(version) = Version::parse(version) else {
        return false;
    };
    let parts = |text: &str| -> Option<Vec<u64>> {
        text.trim()
            .trim_start_matches(['v', 'V'])
            .split(['-', '+'])
            .next()?
            .split('.')
            .map(|p| p.parse().ok())
            .collect()
    };
    let Some(actual) = parts(version.as_str()) else {
        return false;
    };
    let compare = |bound: &[u64]| -> std::cmp::Ordering {
        bound
            .iter()
            .enumerate()
            .map(|(i, b)| actual.get(i).copied().unwrap_or(0).cmp(b))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    };
    let min_ok = min
        .filter(|m| !m.trim().is_empty())
        .and_then(parts)
        .is_none_or(|m| compare(&m).is_ge());
    let max_ok = max
        .filter(|m| !m.trim().is_empty())
        .and_then(parts)
        .is_none_or(|m| compare(&m).is_le());
    min_ok && max_ok
}

/// Profile-level checks across layers: dependencies, one pack per single-pack layer, pod CIDR.
/// Returns errors per input index.
pub fn cross_layer_checks(
    versions: &[&LoadedVersion],
    values: &[Option<&Value>],
) -> Vec<Vec<ConstraintError>> {
    let mut errors: Vec<Vec<ConstraintError>> = versions.iter().map(|_| Vec::new()).collect();
    for (index, version) in versions.iter().enumerate() {
        for dependency in &version.pack.pack_json.constraints.dependencies {
            let present = versions
                .iter()
                .find(|v| v.pack.name.as_str() == dependency.pack_name);
            let kind = dependency.kind.as_deref().unwrap_or("optional");
            let bounds = |found: &LoadedVersion| {
                within(
                    found.pack.version.as_str(),
                    dependency.min_version.as_deref(),
                    dependency.max_version.as_deref(),
                )
            };
            let range = || {
                let min = dependency
                    .min_version
                    .as_deref()
                    .filter(|m| !m.is_empty())
                    .unwrap_or("any");
                let max = dependency
                    .max_version
                    .as_deref()
                    .filter(|m| !m.is_empty())
                    .unwrap_or("any");
                format!("{min} to {max}")
            };
            match (kind, present) {
                ("required", None) => errors[index].push(error(
                    "DependencyMissing",
                    format!(
                        "{} requires pack {} in the profile",
                        version.pack.name, dependency.pack_name
                    ),
                )),
                ("notSupported", Some(found)) => errors[index].push(error(
                    "DependencyNotSupported",
                    format!(
                        "{} cannot be used with {}",
                        version.pack.name, found.pack.name
                    ),
                )),
                ("required" | "optional", Some(found)) if !bounds(found) => {
                    errors[index].push(error(
                        "DependencyVersion",
                        format!(
                            "{} supports {} {}, not {}",
                            version.pack.name,
                            dependency.pack_name,
                            range(),
                            found.pack.version
                        ),
                    ))
                }
                _ => {}
            }
        }
        let layer = version.pack.layer;
        if layer != Layer::Addon {
            let others: Vec<&str> = versions
                .iter()
                .enumerate()
                .filter(|(other, v)| *other != index && v.pack.layer == layer)
                .map(|(_, v)| v.pack.name.as_str())
                .collect();
            if !others.is_empty() {
                errors[index].push(error(
                    "LayerConflict",
                    format!(
                        "a profile has one {layer} layer; {} is also one ({})",
                        version.pack.name,
                        others.join(", ")
                    ),
                ));
            }
        }
    }
    check_pod_cidr(versions, values, &mut errors);
    errors
}

/// The pod CIDR a pack declares (through its annotation): the value's name and the value.
fn pod_cidr<'v>(version: &LoadedVersion, values: Option<&'v Value>) -> Option<(String, &'v str)> {
    let path = version
        .pack
        .pack_json
        .annotations
        .get(POD_CIDR_ANNOTATION)?;
    let value = get_path(values?, path)?.as_str()?;
    let leaf = path.rsplit('.').next().unwrap_or(path).to_owned();
    Some((leaf, value))
}

fn check_pod_cidr(
    versions: &[&LoadedVersion],
    values: &[Option<&Value>],
    errors: &mut [Vec<ConstraintError>],
) {
    let find = |layer: Layer| {
        versions
            .iter()
            .enumerate()
            .filter(|(_, v)| v.pack.layer == layer)
            .find_map(|(i, v)| pod_cidr(v, values[i]).map(|found| (i, found)))
    };
    let (Some((_, (k8s_name, k8s_cidr))), Some((cni_index, (cni_name, cni_cidr)))) =
        (find(Layer::K8s), find(Layer::Cni))
    else {
        return;
    };
    if k8s_cidr != cni_cidr {
        errors[cni_index].push(error(
            "PodCIDRMismatch",
            format!(
                "{} {cni_name} {cni_cidr} differs from the Kubernetes layer's {k8s_name} {k8s_cidr}; pods would get addresses outside the cluster's pod network",
                versions[cni_index].pack.name
            ),
        ));
    }
}

/// Renders every layer of a profile in layer order into one document list. The error names the
/// layer (`name@version`) it came from.
pub fn render_all(
    renderer: &Renderer,
    layers: &[Layered<'_>],
    context: &MacroContext,
    facts: &Facts,
    strict: bool,
    budget: &Budget,
) -> Result<Vec<super::output::Document>, (String, RenderError)> {
    let resolved = resolve_all(renderer, layers, context, budget);
    let order = layer_order(
        &layers
            .iter()
            .map(|l| l.version.pack.layer)
            .collect::<Vec<_>>(),
    );
    let mut documents = Vec::new();
    for index in order {
        let version = layers[index].version;
        let label = format!("{}@{}", version.pack.name, version.pack.version);
        let values = resolved[index]
            .as_ref()
            .map_err(|e| (label.clone(), e.clone()))?;
        let (rendered, _) = renderer
            .render_for(version, values, strict, facts, budget)
            .map_err(|e| (label, e))?;
        documents.extend(rendered.iter().cloned());
    }
    Ok(documents)
}

/// Palette-style codes for a render error.
pub fn constraint_errors(failure: &RenderError) -> Vec<ConstraintError> {
    match failure {
        RenderError::CloudUnsupported { .. } => {
            vec![error("CloudTypeNotSupported", failure.to_string())]
        }
        RenderError::Invalid(violations) => violations
            .iter()
            .map(|v| error("InvalidValues", format!("{} {}", v.path, v.message)))
            .collect(),
        RenderError::Values(_) | RenderError::Macro(_) => {
            vec![error("InvalidValues", failure.to_string())]
        }
        RenderError::TemplateInvalid(_) => vec![error("TemplateInvalid", failure.to_string())],
        RenderError::Failed { .. }
        | RenderError::Template { .. }
        | RenderError::Chart { .. }
        | RenderError::Output(_)
        | RenderError::Limit(_) => vec![error("RenderFailed", failure.to_string())],
    }
}

/// Every problem of every layer, none fatal, per input index: values, renders and the cross-layer
/// checks. Only a spent budget stops the validation.
pub fn validate_all(
    renderer: &Renderer,
    layers: &[Layered<'_>],
    context: &MacroContext,
    facts: &Facts,
    budget: &Budget,
) -> Result<Vec<Vec<ConstraintError>>, Limit> {
    let resolved = resolve_all(renderer, layers, context, budget);
    let mut errors: Vec<Vec<ConstraintError>> = layers.iter().map(|_| Vec::new()).collect();
    for (index, result) in resolved.iter().enumerate() {
        errors[index] = match result {
            Ok(values) => {
                match renderer.render_for(layers[index].version, values, false, facts, budget) {
                    Ok(_) => Vec::new(),
                    Err(RenderError::Limit(limit)) => return Err(limit),
                    Err(e) => constraint_errors(&e),
                }
            }
            Err(RenderError::Limit(limit)) => return Err(*limit),
            Err(e) => constraint_errors(e),
        };
    }
    let versions: Vec<&LoadedVersion> = layers.iter().map(|l| l.version).collect();
    let values: Vec<Option<&Value>> = resolved.iter().map(|r| r.as_ref().ok()).collect();
    for (index, found) in cross_layer_checks(&versions, &values)
        .into_iter()
        .enumerate()
    {
        errors[index].extend(found);
    }
    Ok(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_bounds_compare_only_the_parts_given() {
        assert!(within("1.24.10", Some("1.22.0"), Some("1.24")));
        assert!(!within("1.25.0", Some("1.22.0"), Some("1.24")));
        assert!(!within("1.21.9", Some("1.22.0"), Some("1.24")));
        assert!(within("1.30.1", None, Some("")));
        assert!(within("v1.23.0", Some("1.23"), None));
    }

    #[test]
    fn layers_sort_in_profile_order() {
        let layers = [
            Layer::Addon,
            Layer::Cni,
            Layer::Os,
            Layer::K8s,
            Layer::Addon,
        ];
        assert_eq!(layer_order(&layers), vec![2, 3, 1, 0, 4]);
    }
}
