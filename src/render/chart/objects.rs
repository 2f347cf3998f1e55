//! The Go objects a chart's templates see besides values: `.Files` (`pkg/engine/files.go`),
//! `.Capabilities` with its `KubeVersion`, `APIVersions` and `HelmVersion`, and `.Chart` as
//! Helm 4 builds it (Chart.yaml's fields under their Go names, plus `IsRoot`).

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use base64::Engine;

use crate::pack::chart::{ChartFile, Metadata};
use crate::render::gotemplate::Budget;
use crate::render::gotemplate::funcs::{FuncError, error};
use crate::render::gotemplate::value::{ListKind, MapKind, Object, Signature, Str, Ty, Value};

/// `.Files`: the chart's other files, by name.
pub struct Files {
    files: BTreeMap<String, Arc<[u8]>>,
}

impl Files {
    pub fn new(files: &[ChartFile]) -> Files {
        Files {
            files: files
                .iter()
                .map(|f| (f.name.clone(), f.data.clone()))
                .collect(),
        }
    }

    fn text(data: &[u8]) -> Value {
        // Go's string(bytes) keeps any bytes; a file that is not UTF-8 stays bytes.
        match std::str::from_utf8(data) {
            Ok(text) => Value::str(text),
            Err(_) => Value::Bytes(Rc::from(data)),
        }
    }

    fn get(&self, name: &str) -> Value {
        self.files
            .get(name)
            .map_or_else(|| Value::str(""), |d| Files::text(d))
    }

    /// `path.Base`
    fn base(name: &str) -> &str {
        name.rsplit('/').next().unwrap_or(name)
    }

    fn as_config(&self) -> String {
        let mut map = serde_json::Map::new();
        for (name, data) in &self.files {
            map.insert(
                Files::base(name).to_owned(),
                serde_json::Value::String(String::from_utf8_lossy(data).into_owned()),
            );
        }
        if map.is_empty() {
            return String::new();
        }
        crate::render::yaml_out::to_yaml(&serde_json::Value::Object(map))
    }

    fn as_secrets(&self) -> String {
        let mut map = serde_json::Map::new();
        for (name, data) in &self.files {
            map.insert(
                Files::base(name).to_owned(),
                serde_json::Value::String(base64::engine::general_purpose::STANDARD.encode(data)),
            );
        }
        if map.is_empty() {
            return String::new();
        }
        crate::render::yaml_out::to_yaml(&serde_json::Value::Object(map))
    }
}

/// gobwas/glob with `/` as the separator (what `.Files.Glob` compiles): `**` crosses folders,
/// `*` and `?` do not, `{a,b}` alternatives, `[...]` and `[!...]` classes.
pub fn files_glob_match(pattern: &str, name: &str) -> bool {
    let mut re = String::from("^");
    let mut chars = pattern.chars().peekable();
    let mut in_alternatives = false;
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                re.push_str(".*");
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            '{' => {
                in_alternatives = true;
                re.push_str("(?:");
            }
            '}' if in_alternatives => {
                in_alternatives = false;
                re.push(')');
            }
            ',' if in_alternatives => re.push('|'),
            '[' => {
                re.push('[');
                if chars.peek() == Some(&'!') {
                    chars.next();
                    re.push('^');
                }
                for inner in chars.by_ref() {
                    if inner == ']' {
                        break;
                    }
                    if inner == '\\' || inner == '[' || inner == '^' {
                        re.push('\\');
                    }
                    re.push(inner);
                }
                re.push(']');
            }
            '\\' => {
                if let Some(next) = chars.next() {
                    re.push_str(&regex::escape(&next.to_string()));
                }
            }
            other => re.push_str(&regex::escape(&other.to_string())),
        }
    }
    re.push('$');
    regex::Regex::new(&re).is_ok_and(|r| r.is_match(name))
}

impl Object for Files {
    fn type_name(&self) -> &str {
        "engine.files"
    }
    fn kind_name(&self) -> &'static str {
        "map"
    }
    fn field(&self, _: &str) -> Option<Value> {
        None
    }
    fn method(&self, name: &str) -> Option<Signature> {
        const ONE: &[Ty] = &[Ty::String];
        const NONE: &[Ty] = &[];
        let params = match name {
            "Get" | "GetBytes" | "Glob" | "Lines" => ONE,
            "AsConfig" | "AsSecrets" => NONE,
            _ => return None,
        };
        Some(Signature {
            params,
            variadic: None,
            unusable: None,
        })
    }
    fn call(&self, name: &str, args: Vec<Value>, budget: &Budget) -> Result<Value, FuncError> {
        let arg = args.first().and_then(Value::as_str).unwrap_or_default();
        match name {
            "Get" => Ok(self.get(arg)),
            "GetBytes" => Ok(self.files.get(arg).map_or_else(
                || Value::Bytes(Rc::from(&[][..])),
                |d| Value::Bytes(Rc::from(&d[..])),
            )),
            "Lines" => {
                let Some(data) = self.files.get(arg) else {
                    return Ok(Value::typed_list(ListKind::String, Vec::new()));
                };
                let text = String::from_utf8_lossy(data);
                let text = text.strip_suffix('\n').unwrap_or(&text);
                budget.charge(text.len() as u64 * 2)?;
                Ok(Value::typed_list(
                    ListKind::String,
                    text.split('\n').map(Value::str).collect(),
                ))
            }
            "Glob" => Ok(Value::Object(Rc::new(Files {
                files: self
                    .files
                    .iter()
                    .filter(|(n, _)| files_glob_match(arg, n))
                    .map(|(n, d)| (n.clone(), d.clone()))
                    .collect(),
            }))),
            "AsConfig" => {
                let text = self.as_config();
                budget.charge(text.len() as u64)?;
                Ok(Value::string(text))
            }
            "AsSecrets" => {
                let text = self.as_secrets();
                budget.charge(text.len() as u64)?;
                Ok(Value::string(text))
            }
            _ => Err(error(format!("no method {name}"))),
        }
    }
    fn format(&self, out: &mut String) {
        out.push_str("map[");
        for (i, (name, data)) in self.files.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(name);
            out.push_str(":[");
            let bytes: Vec<String> = data.iter().map(u8::to_string).collect();
            out.push_str(&bytes.join(" "));
            out.push(']');
        }
        out.push(']');
    }
    fn data(&self) -> Option<Value> {
        Some(Value::map(
            self.files
                .iter()
                .map(|(n, d)| (Str::from(n.as_str()), Value::Bytes(Rc::from(&d[..]))))
                .collect(),
        ))
    }
    fn entries(&self) -> Option<Vec<(Value, Value)>> {
        Some(
            self.files
                .iter()
                .map(|(n, d)| (Value::str(n), Value::Bytes(Rc::from(&d[..]))))
                .collect(),
        )
    }
}

/// The group/versions Helm's `DefaultVersionSet` lists (client-go's scheme): group/versions only,
/// so `Has "policy/v1"` is true and `Has "policy/v1/PodDisruptionBudget"` is false, as in
/// `helm template`.
pub const DEFAULT_API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "admissionregistration.k8s.io/v1alpha1",
    "admissionregistration.k8s.io/v1beta1",
    "internal.apiserver.k8s.io/v1alpha1",
    "apps/v1",
    "apps/v1beta1",
    "apps/v1beta2",
    "authentication.k8s.io/v1",
    "authentication.k8s.io/v1alpha1",
    "authentication.k8s.io/v1beta1",
    "authorization.k8s.io/v1",
    "authorization.k8s.io/v1beta1",
    "autoscaling/v1",
    "autoscaling/v2",
    "batch/v1",
    "batch/v1beta1",
    "certificates.k8s.io/v1",
    "certificates.k8s.io/v1beta1",
    "certificates.k8s.io/v1alpha1",
    "coordination.k8s.io/v1alpha2",
    "coordination.k8s.io/v1beta1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "discovery.k8s.io/v1beta1",
    "events.k8s.io/v1",
    "events.k8s.io/v1beta1",
    "extensions/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1beta2",
    "flowcontrol.apiserver.k8s.io/v1beta3",
    "networking.k8s.io/v1",
    "networking.k8s.io/v1beta1",
    "node.k8s.io/v1",
    "node.k8s.io/v1alpha1",
    "node.k8s.io/v1beta1",
    "policy/v1",
    "policy/v1beta1",
    "rbac.authorization.k8s.io/v1",
    "rbac.authorization.k8s.io/v1beta1",
    "rbac.authorization.k8s.io/v1alpha1",
    "resource.k8s.io/v1",
    "resource.k8s.io/v1beta2",
    "resource.k8s.io/v1beta1",
    "resource.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1alpha2",
    "scheduling.k8s.io/v1beta1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1beta1",
    "storage.k8s.io/v1",
    "storage.k8s.io/v1alpha1",
    "storagemigration.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1",
];

/// The Helm version templates see (`.Capabilities.HelmVersion`).
pub const HELM_VERSION: &str = "v4.2.3";

/// A parsed Kubernetes version (`.Capabilities.KubeVersion`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeVersion {
    pub version: String,
    pub major: String,
    pub minor: String,
}

impl KubeVersion {
    /// Helm's `ParseKubeVersion`: a semantic version, `v` added.
    pub fn parse(text: &str) -> Option<KubeVersion> {
        let version = crate::render::semver::Version::parse_strict(text).ok()?;
        Some(KubeVersion {
            version: format!("v{version}"),
            major: version.major.to_string(),
            minor: version.minor.to_string(),
        })
    }
}

struct KubeVersionObject(KubeVersion);

impl Object for KubeVersionObject {
    fn type_name(&self) -> &str {
        "common.KubeVersion"
    }
    fn kind_name(&self) -> &'static str {
        "struct"
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Version" => Some(Value::str(&self.0.version)),
            "Major" => Some(Value::str(&self.0.major)),
            "Minor" => Some(Value::str(&self.0.minor)),
            _ => None,
        }
    }
    fn method(&self, name: &str) -> Option<Signature> {
        matches!(name, "String" | "GitVersion").then_some(Signature {
            params: &[],
            variadic: None,
            unusable: None,
        })
    }
    fn call(&self, _: &str, _: Vec<Value>, _: &Budget) -> Result<Value, FuncError> {
        Ok(Value::str(&self.0.version))
    }
    fn format(&self, out: &mut String) {
        out.push_str(&self.0.version);
    }
    fn data(&self) -> Option<Value> {
        Some(Value::map(
            [
                ("Version", &self.0.version),
                ("Major", &self.0.major),
                ("Minor", &self.0.minor),
            ]
            .into_iter()
            .map(|(k, v)| (Str::from(k), Value::str(v)))
            .collect(),
        ))
    }
}

struct ApiVersions(Vec<String>);

impl Object for ApiVersions {
    fn type_name(&self) -> &str {
        "common.VersionSet"
    }
    fn kind_name(&self) -> &'static str {
        "slice"
    }
    fn field(&self, _: &str) -> Option<Value> {
        None
    }
    fn method(&self, name: &str) -> Option<Signature> {
        (name == "Has").then_some(Signature {
            params: &[Ty::String],
            variadic: None,
            unusable: None,
        })
    }
    fn call(&self, _: &str, args: Vec<Value>, _: &Budget) -> Result<Value, FuncError> {
        let wanted = args.first().and_then(Value::as_str).unwrap_or_default();
        Ok(Value::Bool(self.0.iter().any(|v| v == wanted)))
    }
    fn format(&self, out: &mut String) {
        out.push('[');
        out.push_str(&self.0.join(" "));
        out.push(']');
    }
    fn data(&self) -> Option<Value> {
        Some(self.list())
    }
    fn entries(&self) -> Option<Vec<(Value, Value)>> {
        Some(
            self.0
                .iter()
                .enumerate()
                .map(|(i, v)| (Value::Int(i as i64), Value::str(v)))
                .collect(),
        )
    }
}

impl ApiVersions {
    fn list(&self) -> Value {
        Value::typed_list(
            ListKind::String,
            self.0.iter().map(|v| Value::str(v)).collect(),
        )
    }
}

struct Capabilities {
    kube: Value,
    apis: Value,
    helm: Value,
}

impl Object for Capabilities {
    fn type_name(&self) -> &str {
        "*common.Capabilities"
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "KubeVersion" => Some(self.kube.clone()),
            "APIVersions" => Some(self.apis.clone()),
            "HelmVersion" => Some(self.helm.clone()),
            _ => None,
        }
    }
    fn format(&self, out: &mut String) {
        out.push_str("&{");
        for (i, v) in [&self.kube, &self.apis, &self.helm].into_iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            if let Value::Object(o) = v {
                o.format(out);
            } else if let Ok(text) = crate::render::gotemplate::gofmt::to_string(
                v,
                &crate::render::gotemplate::Budget::unlimited(),
            ) {
                out.push_str(&text);
            }
        }
        out.push('}');
    }
    fn data(&self) -> Option<Value> {
        let data = |v: &Value| match v {
            Value::Object(o) => o.data().unwrap_or_default(),
            other => other.clone(),
        };
        Some(Value::map(
            [
                ("KubeVersion", data(&self.kube)),
                ("APIVersions", data(&self.apis)),
                ("HelmVersion", data(&self.helm)),
            ]
            .into_iter()
            .map(|(k, v)| (Str::from(k), v))
            .collect(),
        ))
    }
}

/// `.Capabilities` for a Kubernetes version and extra API versions.
pub fn capabilities(kube: &KubeVersion, extra_apis: &[String]) -> Value {
    let mut apis: Vec<String> = DEFAULT_API_VERSIONS
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    apis.extend(extra_apis.iter().cloned());
    let helm = Value::map(
        [
            ("Version", HELM_VERSION),
            ("GitCommit", ""),
            ("GitTreeState", ""),
            ("GoVersion", ""),
        ]
        .into_iter()
        .map(|(k, v)| (Str::from(k), Value::str(v)))
        .collect(),
    );
    Value::Object(Rc::new(Capabilities {
        kube: Value::Object(Rc::new(KubeVersionObject(kube.clone()))),
        apis: Value::Object(Rc::new(ApiVersions(apis))),
        helm,
    }))
}

fn strings(items: &[String]) -> Value {
    Value::list(items.iter().map(|s| Value::str(s)).collect())
}

/// `.Chart`: Chart.yaml's fields under Go's names, as Helm 4's `MetadataAsMap` gives them.
pub fn chart_map(meta: &Metadata, is_root: bool) -> Value {
    let s = |v: &str| Value::str(v);
    let maintainers = Value::list(
        meta.maintainers
            .iter()
            .map(|(name, email, url)| {
                Value::map(
                    [("Name", name), ("Email", email), ("URL", url)]
                        .into_iter()
                        .map(|(k, v)| (Str::from(k), Value::str(v)))
                        .collect(),
                )
            })
            .collect(),
    );
    let annotations = match &meta.annotations {
        Some(pairs) => Value::typed_map(
            MapKind::String,
            pairs
                .iter()
                .map(|(k, v)| (Str::from(k.as_str()), Value::str(v)))
                .collect(),
        ),
        None => Value::Nil,
    };
    let dependencies = Value::list(
        meta.dependencies
            .iter()
            .map(|d| {
                Value::map(
                    [
                        ("Name", s(&d.name)),
                        ("Version", s(&d.version)),
                        ("Repository", s(&d.repository)),
                        ("Condition", s(&d.condition)),
                        ("Tags", strings(&d.tags)),
                        ("Enabled", Value::Bool(d.enabled)),
                        (
                            "ImportValues",
                            Value::list(
                                d.import_values
                                    .iter()
                                    .map(|v| {
                                        crate::render::gotemplate::value::from_json(
                                            v,
                                            crate::render::gotemplate::Numbers::Float64,
                                        )
                                    })
                                    .collect(),
                            ),
                        ),
                        ("Alias", s(&d.alias)),
                    ]
                    .into_iter()
                    .map(|(k, v)| (Str::from(k), v))
                    .collect(),
                )
            })
            .collect(),
    );
    Value::map(
        [
            ("Name", s(&meta.name)),
            ("Home", s(&meta.home)),
            ("Sources", strings(&meta.sources)),
            ("Version", s(&meta.version)),
            ("Description", s(&meta.description)),
            ("Keywords", strings(&meta.keywords)),
            ("Maintainers", maintainers),
            ("Icon", s(&meta.icon)),
            ("APIVersion", s(&meta.api_version)),
            ("Condition", s(&meta.condition)),
            ("Tags", s(&meta.tags)),
            ("AppVersion", s(&meta.app_version)),
            ("Deprecated", Value::Bool(meta.deprecated)),
            ("Annotations", annotations),
            ("KubeVersion", s(&meta.kube_version)),
            ("Dependencies", dependencies),
            ("Type", s(&meta.chart_type)),
            ("IsRoot", Value::Bool(is_root)),
        ]
        .into_iter()
        .map(|(k, v)| (Str::from(k), v))
        .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_globs_cross_folders_only_with_double_stars() {
        assert!(files_glob_match("files/*.json", "files/a.json"));
        assert!(!files_glob_match("files/*.json", "files/x/a.json"));
        assert!(files_glob_match("files/**.json", "files/x/a.json"));
        assert!(files_glob_match("{a,b}/*", "b/c"));
        assert_eq!(
            KubeVersion::parse("1.30.0").map(|k| (k.version, k.minor)),
            Some(("v1.30.0".to_owned(), "30".to_owned()))
        );
    }
}
