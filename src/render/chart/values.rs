//! Helm's values for a chart and its subcharts: dependency processing (`condition`, `tags`,
//! `alias`, `import-values`: `pkg/chart/v2/util/dependencies.go`) and coalescing
//! (`pkg/chart/common/util/coalesce.go`): user values over chart defaults, a user `null`
//! deleting a default, maps merged and everything else replaced, `global` copied down.

use serde_json::{Map, Value as Json};

use crate::pack::chart::{Chart, Dependency, Metadata};

pub type JMap = Map<String, Json>;

/// A chart as one render sees it: dependency processing renames aliased subcharts, drops
/// disabled ones and rewrites values with imports, without touching the loaded chart.
#[derive(Debug, Clone)]
pub struct Node<'c> {
    pub chart: &'c Chart,
    pub meta: Metadata,
    pub values: JMap,
    pub deps: Vec<Node<'c>>,
}

impl<'c> Node<'c> {
    pub fn new(chart: &'c Chart) -> Node<'c> {
        Node {
            chart,
            meta: chart.metadata.clone(),
            values: chart.values.clone(),
            deps: chart.dependencies.iter().map(Node::new).collect(),
        }
    }

    pub fn name(&self) -> &str {
        &self.meta.name
    }
}

fn concat_prefix(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_owned()
    } else {
        format!("{a}.{b}")
    }
}

/// `CoalesceValues`: the user's values over the chart's, for the chart and its subcharts.
pub fn coalesce_values(node: &Node<'_>, vals: &JMap) -> Result<JMap, String> {
    let mut dest = vals.clone();
    coalesce(node, &mut dest, "", false)?;
    Ok(dest)
}

/// `MergeValues`: like coalescing, but nulls are kept.
fn merge_values(node: &Node<'_>, vals: &JMap) -> Result<JMap, String> {
    let mut dest = vals.clone();
    coalesce(node, &mut dest, "", true)?;
    Ok(dest)
}

fn coalesce(node: &Node<'_>, dest: &mut JMap, prefix: &str, merge: bool) -> Result<(), String> {
    coalesce_own(node, dest, prefix, merge);
    coalesce_deps(node, dest, prefix, merge)
}

fn coalesce_deps(
    node: &Node<'_>,
    dest: &mut JMap,
    prefix: &str,
    merge: bool,
) -> Result<(), String> {
    for sub in &node.deps {
        let name = sub.name().to_owned();
        match dest.get(&name) {
            None => {
                dest.insert(name.clone(), Json::Object(JMap::new()));
            }
            Some(Json::Object(_)) => {}
            Some(other) => {
                return Err(format!(
                    "type mismatch on {name}: %!t({})",
                    go_type_name(other)
                ));
            }
        }
        let sub_prefix = concat_prefix(prefix, node.name());
        let mut dv = match dest.remove(&name) {
            Some(Json::Object(map)) => map,
            _ => JMap::new(),
        };
        coalesce_globals(&mut dv, dest, &sub_prefix);
        coalesce(sub, &mut dv, &sub_prefix, merge)?;
        dest.insert(name, Json::Object(dv));
    }
    Ok(())
}

fn go_type_name(value: &Json) -> &'static str {
    match value {
        Json::Null => "<nil>",
        Json::Bool(_) => "bool",
        Json::Number(_) => "float64",
        Json::String(_) => "string",
        Json::Array(_) => "[]interface {}",
        Json::Object(_) => "map[string]interface {}",
    }
}

/// `coalesceGlobals`: the parent's `global` merged into the subchart's, the parent winning.
fn coalesce_globals(dest: &mut JMap, src: &JMap, prefix: &str) {
    let mut dg = match dest.get("global") {
        None => JMap::new(),
        Some(Json::Object(map)) => map.clone(),
        Some(_) => return,
    };
    let sg = match src.get("global") {
        None => JMap::new(),
        Some(Json::Object(map)) => map.clone(),
        Some(_) => return,
    };
    for (key, val) in sg {
        if let Json::Object(table) = &val {
            let mut vv = table.clone();
            match dg.get(&key) {
                None => {
                    dg.insert(key, Json::Object(vv));
                }
                Some(Json::Object(destv)) => {
                    let destv = destv.clone();
                    coalesce_tables(&mut vv, &destv, &concat_prefix(prefix, &key), true);
                    dg.insert(key, Json::Object(vv));
                }
                Some(_) => {}
            }
        } else if matches!(dg.get(&key), Some(Json::Object(_))) {
            // A table is never replaced by a scalar.
        } else {
            dg.insert(key, val);
        }
    }
    dest.insert("global".to_owned(), Json::Object(dg));
}

fn is_child_chart(node: &Node<'_>, key: &str) -> bool {
    node.deps.iter().any(|d| d.name() == key)
}

fn clean_nils(map: &mut JMap) {
    map.retain(|_, v| !v.is_null());
    for value in map.values_mut() {
        if let Json::Object(inner) = value {
            clean_nils(inner);
        }
    }
}

/// `coalesceValues`: the chart's own defaults under the values in `v`. Null defaults are dropped at
/// every level, the top chart's too, as Helm 4.2 does (a later Helm, helm#32530, keeps the top
/// chart's); a user's null deletes the default beneath it.
fn coalesce_own(node: &Node<'_>, v: &mut JMap, prefix: &str, merge: bool) {
    let sub_prefix = concat_prefix(prefix, node.name());
    for (key, val) in node.values.clone() {
        match v.get_mut(&key) {
            Some(Json::Null) if !merge => {
                v.remove(&key);
            }
            Some(Json::Object(dest)) => {
                if let Json::Object(mut src) = val {
                    let merge = is_child_chart(node, &key) || merge;
                    if !merge {
                        clean_nils(&mut src);
                    }
                    coalesce_tables(dest, &src, &concat_prefix(&sub_prefix, &key), merge);
                }
            }
            Some(_) => {}
            None => {
                let mut val = val;
                if !merge {
                    if val.is_null() {
                        continue;
                    }
                    if let Json::Object(sub) = &mut val {
                        clean_nils(sub);
                    }
                }
                v.insert(key, val);
            }
        }
    }
}

/// `coalesceTablesFullKey`: `src` merged under `dst` (dst wins).
pub fn coalesce_tables(dst: &mut JMap, src: &JMap, prefix: &str, merge: bool) {
    let mut src = src.clone();
    let original_non_nil: std::collections::BTreeSet<String> = src
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, _)| k.clone())
        .collect();
    for (key, val) in dst.iter() {
        if val.is_null() {
            src.insert(key.clone(), Json::Null);
        }
    }
    for (key, val) in src {
        let full_key = concat_prefix(prefix, &key);
        match dst.get_mut(&key) {
            Some(Json::Null) if !merge && original_non_nil.contains(&key) => {
                dst.remove(&key);
            }
            None => {
                dst.insert(key, val);
            }
            Some(dv) => {
                if let Json::Object(src_table) = &val
                    && let Json::Object(dst_table) = dv
                {
                    coalesce_tables(dst_table, src_table, &full_key, merge);
                }
            }
        }
    }
}

/// `Values.Table(path)`: the table at a dotted path.
fn table<'v>(values: &'v JMap, path: &str) -> Option<&'v JMap> {
    let mut current = values;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        match current.get(part) {
            Some(Json::Object(next)) => current = next,
            _ => return None,
        }
    }
    Some(current)
}

/// `Values.PathValue(path)`: a non-table value at a dotted path.
fn path_value<'v>(values: &'v JMap, path: &str) -> Option<&'v Json> {
    let (parent, key) = match path.rsplit_once('.') {
        Some((parent, key)) => (table(values, parent)?, key),
        None => (values, path),
    };
    parent.get(key).filter(|v| !v.is_object())
}

/// `IsCompatibleRange`: whether a dependency's version constraint admits a chart version.
fn compatible(constraint: &str, version: &str) -> bool {
    crate::render::functions::semver_matches(constraint, version).unwrap_or(false)
}

/// `ProcessDependencies`: enabled subcharts, aliases and imported values.
pub fn process_dependencies(root: &mut Node<'_>, user: &JMap) -> Result<(), String> {
    process_enabled(root, user, "")?;
    process_import_values_tree(root)
}

fn process_enabled(node: &mut Node<'_>, v: &JMap, path: &str) -> Result<(), String> {
    if node.meta.dependencies.is_empty() {
        return Ok(());
    }
    let existing = std::mem::take(&mut node.deps);
    let requests = node.meta.dependencies.clone();
    let mut kept: Vec<Node<'_>> = existing
        .iter()
        .filter(|sub| {
            !requests
                .iter()
                .any(|r| sub.name() == r.name && compatible(&r.version, &sub.meta.version))
        })
        .cloned()
        .collect();
    for request in &mut node.meta.dependencies {
        if let Some(found) = existing.iter().find(|sub| {
            sub.name() == request.name && compatible(&request.version, &sub.meta.version)
        }) {
            let mut aliased = found.clone();
            if !request.alias.is_empty() {
                aliased.meta.name = request.alias.clone();
            }
            kept.push(aliased);
        }
        if !request.alias.is_empty() {
            request.name = request.alias.clone();
        }
        request.enabled = true;
    }
    node.deps = kept;
    let cvals = coalesce_values(node, v)?;
    process_tags(&mut node.meta.dependencies, &cvals);
    process_conditions(&mut node.meta.dependencies, &cvals, path);
    let disabled: Vec<String> = node
        .meta
        .dependencies
        .iter()
        .filter(|d| !d.enabled)
        .map(|d| d.name.clone())
        .collect();
    node.deps.retain(|d| !disabled.contains(&d.meta.name));
    node.meta
        .dependencies
        .retain(|d| !disabled.contains(&d.name));
    for sub in &mut node.deps {
        let sub_path = format!("{path}{}.", sub.meta.name);
        process_enabled(sub, &cvals, &sub_path)?;
    }
    Ok(())
}

fn process_tags(requests: &mut [Dependency], cvals: &JMap) {
    let Some(Json::Object(tags)) = cvals.get("tags") else {
        return;
    };
    for request in requests {
        let (mut has_true, mut has_false) = (false, false);
        for tag in &request.tags {
            match tags.get(tag) {
                Some(Json::Bool(true)) => has_true = true,
                Some(Json::Bool(false)) => has_false = true,
                _ => {}
            }
        }
        if !has_true && has_false {
            request.enabled = false;
        } else if has_true || !has_false {
            request.enabled = true;
        }
    }
}

fn process_conditions(requests: &mut [Dependency], cvals: &JMap, path: &str) {
    for request in requests {
        for condition in request.condition.trim().split(',') {
            if condition.is_empty() {
                continue;
            }
            if let Some(Json::Bool(enabled)) = path_value(cvals, &format!("{path}{condition}")) {
                request.enabled = *enabled;
                break;
            }
        }
    }
}

fn process_import_values_tree(node: &mut Node<'_>) -> Result<(), String> {
    for sub in &mut node.deps {
        process_import_values_tree(sub)?;
    }
    process_import_values(node)
}

/// A nested map holding `data` at a dotted path.
fn path_to_map(path: &str, data: JMap) -> JMap {
    if path == "." {
        return data;
    }
    let mut current = data;
    for part in path.split('.').rev() {
        let mut wrapper = JMap::new();
        wrapper.insert(part.to_owned(), Json::Object(current));
        current = wrapper;
    }
    current
}

fn process_import_values(node: &mut Node<'_>) -> Result<(), String> {
    if node.meta.dependencies.is_empty() {
        return Ok(());
    }
    let cvals = merge_values(node, &JMap::new())?;
    let mut imported = JMap::new();
    for request in &mut node.meta.dependencies {
        let mut rewritten = Vec::new();
        for import in &request.import_values {
            let (child, parent) = match import {
                Json::Object(map) => (go_sprint(map.get("child")), go_sprint(map.get("parent"))),
                Json::String(name) => (format!("exports.{name}"), ".".to_owned()),
                _ => continue,
            };
            let mut entry = JMap::new();
            entry.insert("child".to_owned(), Json::String(child.clone()));
            entry.insert("parent".to_owned(), Json::String(parent.clone()));
            rewritten.push(Json::Object(entry));
            let Some(found) = table(&cvals, &format!("{}.{child}", request.name)) else {
                continue;
            };
            let addition = path_to_map(&parent, found.clone());
            coalesce_tables(&mut imported, &addition, "", true);
        }
        request.import_values = rewritten;
    }
    let mut values = cvals;
    coalesce_tables(&mut values, &imported, "", true);
    node.values = values;
    Ok(())
}

/// `fmt.Sprintf("%v", v)` of an import-values field.
fn go_sprint(value: Option<&Json>) -> String {
    match value {
        None | Some(Json::Null) => "<nil>".to_owned(),
        Some(Json::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Json) -> JMap {
        match value {
            Json::Object(map) => map,
            _ => unreachable!(),
        }
    }

    #[test]
    fn tables_coalesce_like_helm() {
        // dst wins; a user null removes a default; nested maps merge.
        let mut dst = map(json!({"a": 1, "b": null, "c": {"x": 1}}));
        coalesce_tables(
            &mut dst,
            &map(json!({"a": 2, "b": 3, "c": {"y": 2}, "d": 4})),
            "",
            false,
        );
        assert_eq!(
            Json::Object(dst),
            json!({"a": 1, "c": {"x": 1, "y": 2}, "d": 4})
        );
        // Merging keeps the null.
        let mut dst = map(json!({"b": null}));
        coalesce_tables(&mut dst, &map(json!({"b": 3})), "", true);
        assert_eq!(Json::Object(dst), json!({"b": null}));
    }

    #[test]
    fn import_paths_nest() {
        assert_eq!(
            Json::Object(path_to_map("a.b", map(json!({"x": 1})))),
            json!({"a": {"b": {"x": 1}}})
        );
        let values = map(json!({"a": {"b": true, "t": {"k": 1}}}));
        assert_eq!(path_value(&values, "a.b"), Some(&json!(true)));
        assert_eq!(path_value(&values, "a.t"), None);
    }
}
