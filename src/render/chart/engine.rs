//! The chart render itself: the checks `helm template` makes, values, one template set for the
//! chart and its enabled subcharts (parsed in Helm's order: deeper paths first, so a define in a
//! parent chart wins over a subchart's), each template executed with its chart's context, and the
//! output sorted.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use serde_json::Value as Json;

use super::objects::{Files, capabilities, chart_map};
use super::output::{ChartOutput, Document, sort_manifests};
use super::values::{Node, coalesce_values, process_dependencies};
use super::{ChartError, ChartRequest, schema};
use crate::pack::chart::Chart;
use crate::render::functions;
use crate::render::gotemplate::ast::Tree;
use crate::render::gotemplate::value::{MapKind, Numbers, Str, Value, from_json};
use crate::render::gotemplate::{Budget, ExecError, MissingKey, Options, TemplateSet, parse};

/// Parsed templates of one chart, by full template name, kept across renders: parsing is the
/// costliest step of a chart render and depends only on the chart.
#[derive(Default)]
pub struct ParseCache {
    trees: Mutex<HashMap<String, ParsedFile>>,
}

type ParsedFile = Arc<Result<Vec<Arc<Tree>>, String>>;

impl std::fmt::Debug for ParseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ParseCache")
    }
}

impl ParseCache {
    fn get_or_parse(&self, name: &str, text: &[u8]) -> ParsedFile {
        if let Some(found) = self.trees.lock().ok().and_then(|t| t.get(name).cloned()) {
            return found;
        }
        let funcs = functions::manifest_funcs();
        let text = String::from_utf8_lossy(text);
        let parsed = Arc::new(
            parse::parse(name, &text, &|f| funcs.contains(f))
                .map(|p| p.trees.into_iter().map(Arc::new).collect())
                .map_err(|e| crate::render::sprig::helm::helm_parse_error(&e.to_string())),
        );
        if let Ok(mut trees) = self.trees.lock() {
            trees.insert(name.to_owned(), parsed.clone());
        }
        parsed
    }
}

/// Renders `chart` as `helm template` would.
pub fn render(
    chart: &Chart,
    request: &ChartRequest<'_>,
    budget: &Budget,
) -> Result<ChartOutput, ChartError> {
    render_cached(chart, request, &ParseCache::default(), budget)
}

/// Like [`render`], parsing each template at most once per `cache`.
pub fn render_cached(
    chart: &Chart,
    request: &ChartRequest<'_>,
    cache: &ParseCache,
    budget: &Budget,
) -> Result<ChartOutput, ChartError> {
    let chart_type = &chart.metadata.chart_type;
    if !chart_type.is_empty() && !chart_type.eq_ignore_ascii_case("application") {
        return Err(ChartError::NotInstallable(chart_type.clone()));
    }
    let missing: Vec<String> = chart
        .metadata
        .dependencies
        .iter()
        .filter(|d| !chart.dependencies.iter().any(|c| c.name() == d.name))
        .map(|d| d.name.clone())
        .collect();
    if !missing.is_empty() {
        return Err(ChartError::MissingDependencies(missing));
    }
    let (root, files) = render_files_cached(chart, request, cache, budget)?;
    let (manifests, hooks) = sort_manifests(&files).map_err(ChartError::Template)?;
    let mut output = ChartOutput {
        crds: Vec::new(),
        manifests,
        hooks,
    };
    if request.include_crds {
        collect_crds(&root, &root.meta.name, &mut output.crds);
    }
    Ok(output)
}

/// What Helm's `engine.Render` returns: every template's output by its full name (partials and
/// `NOTES.txt` left out), before documents are split and sorted. The kubeVersion constraint,
/// dependencies, values and their schema are checked first, as `helm template` checks them.
pub fn render_files(
    chart: &Chart,
    request: &ChartRequest<'_>,
    budget: &Budget,
) -> Result<BTreeMap<String, String>, ChartError> {
    render_files_cached(chart, request, &ParseCache::default(), budget).map(|(_, files)| files)
}

/// [`render_files`], with the chart as dependency processing left it (its enabled subcharts).
fn render_files_cached<'c>(
    chart: &'c Chart,
    request: &ChartRequest<'_>,
    cache: &ParseCache,
    budget: &Budget,
) -> Result<(Node<'c>, BTreeMap<String, String>), ChartError> {
    let constraint = &chart.metadata.kube_version;
    let compatible = constraint.is_empty()
        || functions::semver_matches(constraint, &request.kube_version.version).unwrap_or(false);
    let incompatible = || ChartError::KubeVersion {
        constraint: constraint.clone(),
        version: request.kube_version.version.clone(),
    };
    let mut root = Node::new(chart);
    let prepared = (|| {
        process_dependencies(&mut root, request.values).map_err(ChartError::Values)?;
        let values = coalesce_values(&root, request.values).map_err(ChartError::Values)?;
        let mut violations = Vec::new();
        schema::validate(&root, &values, &mut violations);
        if !violations.is_empty() {
            return Err(ChartError::ValuesInvalid(violations));
        }
        Ok(values)
    })();
    let values = match prepared {
        Err(_) if !compatible => return Err(incompatible()),
        Err(e) => return Err(e),
        Ok(_) if !compatible => return Err(incompatible()),
        Ok(values) => values,
    };
    let files = execute(&root, &values, request, cache, budget)?;
    Ok((root, files))
}

fn collect_crds(node: &Node<'_>, full_path: &str, out: &mut Vec<Document>) {
    for file in node.chart.crd_files() {
        out.push(Document {
            source: format!("{full_path}/{}", file.name),
            text: String::from_utf8_lossy(&file.data).into_owned(),
            kind: "CustomResourceDefinition".to_owned(),
        });
    }
    for sub in &node.deps {
        collect_crds(sub, &format!("{full_path}/charts/{}", sub.name()), out);
    }
}

/// A template to parse and run: its full name, its text, and its chart's shared context.
struct Renderable<'c> {
    name: String,
    text: &'c [u8],
    context: Value,
}

fn map_of(entries: Vec<(&str, Value)>) -> Value {
    Value::map(
        entries
            .into_iter()
            .map(|(k, v)| (Str::from(k), v))
            .collect(),
    )
}

/// Helm's `recAllTpls`: every template with the context of its chart; returns the chart's
/// context (what its parent's `.Subcharts` holds).
fn collect<'c>(
    node: &Node<'c>,
    full_path: &str,
    values: Value,
    common: &(Value, Value),
    out: &mut Vec<Renderable<'c>>,
) -> Value {
    let subcharts = Value::empty_map();
    let context = map_of(vec![
        ("Chart", chart_map(&node.meta, full_path == node.meta.name)),
        (
            "Files",
            Value::Object(Rc::new(Files::new(&node.chart.files))),
        ),
        ("Release", common.0.clone()),
        ("Capabilities", common.1.clone()),
        ("Values", values.clone()),
        ("Subcharts", subcharts.clone()),
    ]);
    for sub in &node.deps {
        let sub_values = match values.get(sub.name()) {
            v @ Value::Map(_) => v,
            _ => Value::typed_map(MapKind::Values, BTreeMap::new()),
        };
        let sub_path = format!("{full_path}/charts/{}", sub.name());
        let sub_context = collect(sub, &sub_path, sub_values, common, out);
        if let Value::Map(map) = &subcharts {
            map.entries
                .borrow_mut()
                .insert(Str::from(sub.name()), sub_context);
        }
    }
    let library = node.meta.is_library();
    for template in &node.chart.templates {
        let base = template.name.rsplit('/').next().unwrap_or(&template.name);
        if library && !base.starts_with('_') {
            continue;
        }
        out.push(Renderable {
            name: format!("{full_path}/{}", template.name),
            text: &template.data,
            context: context.clone(),
        });
    }
    context
}

/// A message of at most 4 KiB: deep recursion makes Go's chain of "error calling include"
/// messages quadratic; the start names the template and line, the end the reason.
fn shorten(message: String) -> String {
    const KEEP: usize = 2000;
    if message.len() <= 2 * KEEP + 64 {
        return message;
    }
    let mut head = KEEP;
    while !message.is_char_boundary(head) {
        head -= 1;
    }
    let mut tail = message.len() - KEEP;
    while !message.is_char_boundary(tail) {
        tail += 1;
    }
    format!(
        "{} [... {} bytes ...] {}",
        &message[..head],
        tail - head,
        &message[tail..]
    )
}

/// Helm's `sortTemplates`: deeper paths first, then names in reverse order.
fn helm_order(a: &str, b: &str) -> std::cmp::Ordering {
    let depth = |s: &str| s.matches('/').count();
    depth(b).cmp(&depth(a)).then_with(|| b.cmp(a))
}

fn execute(
    root: &Node<'_>,
    values: &serde_json::Map<String, Json>,
    request: &ChartRequest<'_>,
    cache: &ParseCache,
    budget: &Budget,
) -> Result<BTreeMap<String, String>, ChartError> {
    let root_values = match from_json(&Json::Object(values.clone()), Numbers::Float64) {
        Value::Map(map) => Value::typed_map(MapKind::Values, map.entries.take()),
        other => other,
    };
    let release = map_of(vec![
        ("Name", Value::str(request.release)),
        ("Namespace", Value::str(request.namespace)),
        ("IsUpgrade", Value::Bool(false)),
        ("IsInstall", Value::Bool(true)),
        ("Revision", Value::Int(1)),
        ("Service", Value::str("Helm")),
    ]);
    let caps = capabilities(request.kube_version, request.api_versions);
    let mut templates = Vec::new();
    collect(
        root,
        &root.meta.name,
        root_values,
        &(release, caps),
        &mut templates,
    );
    templates.sort_by(|a, b| helm_order(&a.name, &b.name));

    let mut set = TemplateSet::new(functions::manifest_funcs());
    for template in &templates {
        budget.tick()?;
        let parsed = cache.get_or_parse(&template.name, template.text);
        let trees = parsed
            .as_ref()
            .as_ref()
            .map_err(|e| ChartError::Template(e.clone()))?;
        for tree in trees {
            set.add_tree(tree.clone());
        }
    }
    let options = Options {
        missing_key: MissingKey::Zero,
        numbers: Numbers::Float64,
    };
    let mut rendered = BTreeMap::new();
    for template in &templates {
        let base = template.name.rsplit('/').next().unwrap_or(&template.name);
        if base.starts_with('_') {
            continue;
        }
        if let Value::Map(map) = &template.context {
            let base_path = template
                .name
                .split_once("/templates/")
                .map_or_else(String::new, |(chart, _)| format!("{chart}/templates"));
            map.entries.borrow_mut().insert(
                Str::from("Template"),
                map_of(vec![
                    ("Name", Value::str(&template.name)),
                    ("BasePath", Value::string(base_path)),
                ]),
            );
        }
        let output = set
            .execute(&template.name, template.context.clone(), options, budget)
            .map_err(|e| match e {
                ExecError::Limit(limit) => ChartError::Limit(limit),
                ExecError::Fail { location, message } => {
                    ChartError::Template(format!("execution error at ({location}): {message}"))
                }
                ExecError::Template(error) => ChartError::Template(shorten(error.helm_message())),
            })?;
        if template.name.ends_with("NOTES.txt") {
            continue;
        }
        let output = if output.contains("<no value>") {
            output.replace("<no value>", "")
        } else {
            output
        };
        rendered.insert(template.name.clone(), output);
    }
    Ok(rendered)
}
