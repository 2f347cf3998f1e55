//! What `helm template --include-crds` prints around the engine (`pkg/action` and
//! `pkg/release/v1/util`): NOTES.txt dropped, documents split, hooks separated, manifests sorted
//! in `InstallOrder` (ties in file order), CRDs first, and `---\n# Source: <path>` before each
//! document.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde_json::Value as Json;

/// Helm's `InstallOrder`.
const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

const HOOK_EVENTS: &[&str] = &[
    "pre-install",
    "post-install",
    "pre-delete",
    "post-delete",
    "pre-upgrade",
    "post-upgrade",
    "pre-rollback",
    "post-rollback",
    "test",
    "test-success",
];

/// One output document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// `<chart>/<path>`, as `# Source:` shows it.
    pub source: String,
    /// The document's text (without the separator and source line).
    pub text: String,
    pub kind: String,
}

/// A chart's output, in Helm's three groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChartOutput {
    pub crds: Vec<Document>,
    pub manifests: Vec<Document>,
    pub hooks: Vec<Document>,
}

impl ChartOutput {
    /// Every document in output order.
    pub fn documents(&self) -> impl Iterator<Item = &Document> {
        self.crds.iter().chain(&self.manifests).chain(&self.hooks)
    }

    /// The documents as packyard's output documents, cut so that `to_yaml_stream` of them is
    /// this stream (Helm trims the end of the manifests before it prints the hooks).
    pub fn into_documents(self) -> Vec<crate::render::output::Document> {
        let convert = |d: Document| crate::render::output::Document {
            source: d.source,
            text: d.text,
        };
        let mut documents: Vec<_> = self
            .crds
            .into_iter()
            .chain(self.manifests)
            .map(convert)
            .collect();
        if let Some(last) = documents.last_mut() {
            last.text = crate::render::golang::trim_space(&last.text).to_owned();
        }
        documents.extend(self.hooks.into_iter().map(convert));
        documents
    }

    /// The stream `helm template --include-crds` prints.
    pub fn stream(&self) -> String {
        let written = |docs: &[Document]| {
            let converted: Vec<_> = docs
                .iter()
                .map(|d| crate::render::output::Document {
                    source: d.source.clone(),
                    text: d.text.clone(),
                })
                .collect();
            crate::render::output::to_yaml_stream(&converted)
        };
        let mut body = written(&[self.crds.as_slice(), self.manifests.as_slice()].concat());
        body = crate::render::golang::trim_space(&body).to_owned();
        body.push('\n');
        body.push_str(&written(&self.hooks));
        body
    }
}

static SEPARATOR: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"(?:^|[\t\n\x0c\r ]*\n)---[\t\n\x0c\r ]*").expect("a valid pattern")
});

/// `SplitManifests`: the documents of a rendered file, blank ones dropped.
pub fn split_manifests(text: &str) -> Vec<&str> {
    SEPARATOR
        .split(crate::render::golang::trim_left_space(text))
        .filter(|d| !crate::render::golang::trim_space(d).is_empty())
        .map(crate::render::golang::trim_left_space)
        .collect()
}

fn kind_rank(kind: &str) -> (usize, &str) {
    match INSTALL_ORDER.iter().position(|k| *k == kind) {
        Some(i) => (i, ""),
        None => (INSTALL_ORDER.len(), kind),
    }
}

/// A scalar as Go's YAML reads it into a string field.
fn go_string(value: &Json) -> Option<String> {
    match value {
        Json::String(s) => Some(s.clone()),
        Json::Bool(b) => Some(b.to_string()),
        Json::Number(n) => Some(n.to_string()),
        Json::Null => Some(String::new()),
        _ => None,
    }
}

/// Helm's `SimpleHead`: only what sorting needs is built; the rest of the document is parsed
/// (a document that is not YAML fails as in Helm) but skipped.
#[derive(serde::Deserialize)]
struct SimpleHead {
    kind: Option<Json>,
    metadata: Option<HeadMetadata>,
}

#[derive(serde::Deserialize)]
struct HeadMetadata {
    annotations: Option<std::collections::BTreeMap<String, Json>>,
}

/// The kind of a document written plainly (a top-level `kind: X` line, no hook annotation, no
/// flow, anchors or tags at the top level), read without a YAML parser; `None` when the document
/// needs one. Parsing every rendered document dominated a chart render.
fn plain_head(doc: &str) -> Option<String> {
    if doc.contains("helm.sh/hook") {
        return None;
    }
    let mut kind = String::new();
    for line in doc.lines() {
        let first = line.chars().next();
        match first {
            None | Some(' ' | '\t' | '#' | '-') => continue,
            Some('{' | '[' | '%' | '&' | '*' | '!' | '?' | '"' | '\'') => return None,
            _ => {}
        }
        let Some(rest) = line.strip_prefix("kind") else {
            continue;
        };
        let value = rest.strip_prefix(':')?;
        let value = match value.find(" #") {
            Some(i) => &value[..i],
            None => value,
        }
        .trim();
        if value.starts_with(['{', '[', '&', '*', '!', '|', '>', '"', '\'']) || value.contains(": ")
        {
            return None;
        }
        value.clone_into(&mut kind);
    }
    Some(kind)
}

/// A document's kind and whether it is a hook (None: an unknown hook, dropped).
fn head(path: &str, doc: &str) -> Result<(String, Option<bool>), String> {
    if let Some(kind) = plain_head(doc) {
        return Ok((kind, Some(false)));
    }
    let parsed: Option<SimpleHead> = crate::pack::yaml::parse_as(doc, path)
        .map_err(|e| format!("YAML parse error on {path}: {}", e.message))?;
    let Some(head) = parsed else {
        return Ok((String::new(), Some(false)));
    };
    let kind = head.kind.as_ref().and_then(go_string).unwrap_or_default();
    let hook = head
        .metadata
        .and_then(|m| m.annotations)
        .and_then(|a| a.get("helm.sh/hook").and_then(go_string));
    let Some(hook) = hook else {
        return Ok((kind, Some(false)));
    };
    let known = hook
        .split(',')
        .map(|e| e.trim().to_lowercase())
        .all(|e| HOOK_EVENTS.contains(&e.as_str()));
    Ok((kind, known.then_some(true)))
}

/// Sorts rendered files (path → text, NOTES.txt already removed) into manifests and hooks.
pub fn sort_manifests(
    files: &BTreeMap<String, String>,
) -> Result<(Vec<Document>, Vec<Document>), String> {
    let mut manifests = Vec::new();
    let mut hooks = Vec::new();
    for (path, content) in files {
        if path.rsplit('/').next().is_some_and(|b| b.starts_with('_')) {
            continue;
        }
        if crate::render::golang::trim_space(content).is_empty() {
            continue;
        }
        for doc in split_manifests(content) {
            let (kind, hook) = head(path, doc)?;
            let document = Document {
                source: path.clone(),
                text: doc.to_owned(),
                kind,
            };
            match hook {
                Some(false) => manifests.push(document),
                Some(true) => hooks.push(document),
                None => {}
            }
        }
    }
    manifests.sort_by(|a, b| kind_rank(&a.kind).cmp(&kind_rank(&b.kind)));
    hooks.sort_by(|a, b| kind_rank(&a.kind).cmp(&kind_rank(&b.kind)));
    Ok((manifests, hooks))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_split_and_sort_like_helm() {
        // The separator swallows the blank line after it, so a second `---` stays in the text,
        // as in Go's (and Helm's) split.
        assert_eq!(
            split_manifests("\n---\na: 1\n---\n\n---\nb: 2\n"),
            vec!["a: 1", "---\nb: 2\n"]
        );
        assert_eq!(split_manifests("a: 1\n---\nb: 2"), vec!["a: 1", "b: 2"]);
        let files = BTreeMap::from([
            ("c/templates/a.yaml".to_owned(), "kind: Deployment\n---\nkind: ServiceAccount\n".to_owned()),
            ("c/templates/b.yaml".to_owned(), "kind: Foo\n---\nkind: Job\nmetadata:\n  annotations:\n    helm.sh/hook: pre-install\n---\nkind: Job\nmetadata:\n  annotations:\n    helm.sh/hook: nonsense\n".to_owned()),
        ]);
        let (manifests, hooks) = sort_manifests(&files).unwrap();
        assert_eq!(
            plain_head("a: 1\nkind: Service # svc\nmetadata:\n  kind: x\n"),
            Some("Service".to_owned())
        );
        assert_eq!(plain_head("kind: 'Quoted'\n"), None);
        assert_eq!(
            plain_head("metadata:\n  annotations:\n    helm.sh/hook: test\n"),
            None
        );
        let kinds: Vec<&str> = manifests.iter().map(|d| d.kind.as_str()).collect();
        assert_eq!(kinds, vec!["ServiceAccount", "Deployment", "Foo"]);
        assert_eq!(hooks.len(), 1);
    }
}
