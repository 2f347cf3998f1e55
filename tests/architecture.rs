//! The module map of `../shared/DESIGN.md`, checked: dependencies point down, and the front ends
//! (`http`, `client`, `cli`) reach storage, rendering and pack formats only through `registry`.
//! Unit tests (`#[cfg(test)]` and below in a file) may reach anywhere and are not scanned.

use std::collections::{BTreeMap, BTreeSet};
mod common;

use std::path::{Path, PathBuf};

use common::source::rust_files;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The file's text up to its unit tests.
fn production_code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    match text.find("#[cfg(test)]") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// The top-level module a file belongs to (`src/http/packs.rs` → `http`, `src/app.rs` → `app`).
fn module_of(path: &Path) -> String {
    let relative = path.strip_prefix(src()).unwrap();
    let first = relative.components().next().unwrap().as_os_str();
    first.to_string_lossy().trim_end_matches(".rs").to_owned()
}

/// Every `crate::<module>` a file names.
fn crate_modules(text: &str) -> BTreeSet<String> {
    text.match_indices("crate::")
        .filter(|(at, _)| {
            // Not `$crate::` or another crate's path ending in `crate::`.
            !text[..*at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '$')
        })
        .map(|(at, marker)| {
            text[at + marker.len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .filter(|m| !m.is_empty())
        .collect()
}

/// module → the modules it names, over all of its files.
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let files = rust_files(&src());
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let module = module_of(&file);
        let used = crate_modules(&production_code(&file));
        let entry = graph.entry(module.clone()).or_default();
        entry.extend(used.into_iter().filter(|m| *m != module));
    }
    graph
}

/// What each module may name; a module missing here may name nothing.
const ALLOWED: &[(&str, &[&str])] = &[
    ("domain", &[]),
    ("auth", &["domain"]),
    ("pack", &["domain"]),
    ("render", &["domain", "pack"]),
    ("store", &["domain", "pack", "auth"]),
    ("registry", &["domain", "pack", "render", "store", "auth"]),
    ("config", &["domain", "render", "store", "registry", "auth"]),
    // The composition root: opens storage, builds the registry and the HTTP state.
    (
        "app",
        &[
            "domain", "registry", "config", "store", "auth", "http", "tls",
        ],
    ),
    (
        "admin",
        &["domain", "registry", "config", "store", "auth", "app"],
    ),
    // The front ends: the registry, the value types, their configuration.
    ("http", &["domain", "registry", "config", "auth"]),
    ("client", &["domain", "registry", "config", "auth", "app"]),
    ("cli", &["domain", "config", "client", "admin"]),
    (
        "server",
        &["domain", "registry", "config", "app", "http", "auth", "tls"],
    ),
    // TLS for `serve`: certificates and their reloading; names nothing of packyard's.
    ("tls", &[]),
    ("telemetry", &["config"]),
    ("lib", &[]),
    ("main", &[]),
];

#[test]
fn every_module_names_only_what_the_map_allows() {
    let graph = dependencies();
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut wrong = Vec::new();
    for (module, used) in &graph {
        let Some(permitted) = allowed.get(module.as_str()) else {
            wrong.push(format!(
                "{module} is not on the map in tests/architecture.rs"
            ));
            continue;
        };
        for dependency in used {
            if !permitted.contains(&dependency.as_str()) {
                wrong.push(format!("{module} -> {dependency}"));
            }
        }
    }
    assert!(wrong.is_empty(), "dependencies off the map: {wrong:#?}");
    // The scan sees real edges, or it proves nothing.
    assert!(graph["http"].contains("registry"), "{graph:?}");
    assert!(graph["registry"].contains("store"), "{graph:?}");
}

#[test]
fn the_module_graph_has_no_cycles() {
    let graph = dependencies();
    // Depth-first search for a back edge.
    fn visit<'a>(
        node: &'a str,
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| *n == node) {
            let mut cycle: Vec<String> = path[at..].iter().map(|s| s.to_string()).collect();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node);
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node);
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        let cycle = visit(node, &graph, &mut Vec::new(), &mut done);
        assert!(cycle.is_none(), "a dependency cycle: {cycle:?}");
    }
}

/// The http modules that hold handlers (route functions); the others are shared helpers.
const HANDLER_MODULES: &[&str] = &[
    "blobs",
    "catalog",
    "listing",
    "metrics",
    "oci",
    "ops",
    "overview",
    "packs",
    "profiles",
    "publish",
    "registries",
    "render",
    "ui",
];

#[test]
fn no_handler_module_imports_another() {
    let mut wrong = Vec::new();
    for handler in HANDLER_MODULES {
        let path = src().join("http").join(format!("{handler}.rs"));
        let text = production_code(&path);
        for other in HANDLER_MODULES.iter().filter(|o| *o != handler) {
            for form in [format!("super::{other}::"), format!("http::{other}::")] {
                if text.contains(&form) {
                    wrong.push(format!("http::{handler} uses {form}"));
                }
            }
            if text.contains(&format!("super::{{{other}")) || text.contains(&format!(" {other}, "))
            {
                // `use super::{packs, ...}` forms.
                let uses_group = text
                    .lines()
                    .filter(|l| l.trim_start().starts_with("use super::{"))
                    .any(|l| {
                        l.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                            .any(|w| w == *other)
                    });
                if uses_group {
                    wrong.push(format!("http::{handler} imports super::{other}"));
                }
            }
        }
        if text.contains("super::openapi") {
            wrong.push(format!("http::{handler} imports the OpenAPI assembly"));
        }
    }
    assert!(
        wrong.is_empty(),
        "handler modules importing handlers: {wrong:#?}"
    );
}
