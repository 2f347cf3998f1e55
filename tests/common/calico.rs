//! The Calico packs and their upstream manifests, and the edits CALICO.md specifies, applied to
//! parsed upstream objects (not text) so the expectation is independent of the pack's template.

use std::collections::BTreeMap;
use std::path::Path;

use packyard::pack::files::{Limits, PackFiles};
use packyard::render::pipeline::LoadedVersion;
use serde_json::{Value, json};

pub const VERSIONS: [&str; 4] = ["3.24.6", "3.24.5", "3.23.5", "3.22.5"];
pub const IPIP: &str = "CALICO_IPV4POOL_IPIP";
pub const VXLAN: &str = "CALICO_IPV4POOL_VXLAN";

fn repo(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// A shipped pack read straight from `packs/`.
pub fn load(name_version: &str) -> LoadedVersion {
    let files =
        PackFiles::from_dir(&repo(&format!("packs/{name_version}")), &Limits::default()).unwrap();
    let (pack, assets) = packyard::pack::read(&files).unwrap();
    LoadedVersion::from_read(&format!("test-{name_version}"), pack, &assets)
}

/// An upstream manifest, or `None` (after saying so) when the reference data is absent.
pub fn upstream_text(version: &str, file: &str) -> Option<String> {
    let dir = super::reference::calico_upstream()?;
    Some(std::fs::read_to_string(dir.join(format!("v{version}/{file}"))).unwrap())
}

/// (apiVersion, kind, namespace, name) of an object.
pub type ObjectKey = (String, String, String, String);

pub fn key(object: &Value) -> ObjectKey {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    (
        text(&object["apiVersion"]),
        text(&object["kind"]),
        text(&object["metadata"]["namespace"]),
        text(&object["metadata"]["name"]),
    )
}

/// Parses a YAML stream into objects keyed by identity.
pub fn objects(stream: &str) -> BTreeMap<ObjectKey, Value> {
    let documents = packyard::render::output::split_documents("x", stream);
    let parsed = packyard::render::output::objects(&documents).unwrap();
    let mut by_key = BTreeMap::new();
    for object in parsed {
        let previous = by_key.insert(key(&object), object);
        assert!(previous.is_none(), "two objects with one identity");
    }
    by_key
}

/// The settings a render was asked for.
#[derive(Clone, Debug)]
pub struct Settings {
    pub encapsulation_type: &'static str,
    pub mode: &'static str,
    pub cidr: &'static str,
    pub etcd: Option<Etcd>,
}

#[derive(Clone, Debug)]
pub struct Etcd {
    pub endpoints: &'static str,
    pub tls: bool,
}

pub const TLS_KEY: &str = "a2V5";
pub const TLS_CERT: &str = "Y2VydA==";
pub const TLS_CA: &str = "Y2E=";

impl Settings {
    pub fn values_yaml(&self) -> String {
        let mut yaml = format!(
            "manifests:\n  calico:\n    encapsulationType: {}\n    encapsulationMode: {}\n    calicoNetworkCIDR: {}\n",
            self.encapsulation_type, self.mode, self.cidr
        );
        if let Some(etcd) = &self.etcd {
            yaml.push_str(&format!(
                "    datastore: etcd\n    etcd:\n      endpoints: {}\n",
                etcd.endpoints
            ));
            if etcd.tls {
                yaml.push_str(&format!(
                    "      key: {TLS_KEY}\n      cert: {TLS_CERT}\n      ca: {TLS_CA}\n"
                ));
            }
        }
        yaml
    }

    fn vxlan(&self) -> bool {
        self.encapsulation_type == VXLAN && self.mode != "Never"
    }

    fn ipip(&self) -> bool {
        self.encapsulation_type == IPIP && self.mode != "Never"
    }
}

fn set_env(env: &mut [Value], name: &str, value: &str) -> bool {
    match env.iter_mut().find(|e| e["name"] == name) {
        Some(entry) => {
            entry["value"] = json!(value);
            true
        }
        None => false,
    }
}

/// Upstream objects with exactly the edits of CALICO.md for `settings` (`None` without the
/// reference data).
pub fn expected(version: &str, settings: &Settings) -> Option<BTreeMap<ObjectKey, Value>> {
    let file = if settings.etcd.is_some() {
        "calico-etcd.yaml"
    } else {
        "calico.yaml"
    };
    let mut objects = objects(&upstream_text(version, file)?);
    for object in objects.values_mut() {
        match (object["kind"].as_str(), object["metadata"]["name"].as_str()) {
            (Some("ConfigMap"), Some("calico-config")) => {
                object["data"]["calico_backend"] =
                    json!(if settings.vxlan() { "vxlan" } else { "bird" });
                if let Some(etcd) = &settings.etcd {
                    object["data"]["etcd_endpoints"] = json!(etcd.endpoints);
                    for (key, path) in [
                        ("etcd_ca", "etcd-ca"),
                        ("etcd_cert", "etcd-cert"),
                        ("etcd_key", "etcd-key"),
                    ] {
                        object["data"][key] = json!(if etcd.tls {
                            format!("/calico-secrets/{path}")
                        } else {
                            String::new()
                        });
                    }
                }
            }
            (Some("Secret"), Some("calico-etcd-secrets"))
                if settings.etcd.as_ref().is_some_and(|e| e.tls) =>
            {
                object["data"] =
                    json!({"etcd-key": TLS_KEY, "etcd-cert": TLS_CERT, "etcd-ca": TLS_CA});
            }
            (Some("DaemonSet"), Some("calico-node")) => {
                let containers = object["spec"]["template"]["spec"]["containers"]
                    .as_array_mut()
                    .unwrap();
                let node = containers
                    .iter_mut()
                    .find(|c| c["name"] == "calico-node")
                    .unwrap();
                let env = node["env"].as_array_mut().unwrap();
                let ipip = if settings.ipip() {
                    settings.mode
                } else {
                    "Never"
                };
                let vxlan = if settings.vxlan() {
                    settings.mode
                } else {
                    "Never"
                };
                assert!(set_env(env, IPIP, ipip));
                assert!(set_env(env, VXLAN, vxlan));
                let has_v6 = set_env(env, "CALICO_IPV6POOL_VXLAN", vxlan);
                assert_eq!(has_v6, !version.starts_with("3.22"), "IPv6 VXLAN from 3.23");
                let at = env
                    .iter()
                    .position(|e| e["name"] == "CALICO_DISABLE_FILE_LOGGING")
                    .unwrap();
                env.insert(
                    at,
                    json!({"name": "CALICO_IPV4POOL_CIDR", "value": settings.cidr}),
                );
                if settings.vxlan() {
                    for (probe, flag) in [
                        ("livenessProbe", "-bird-live"),
                        ("readinessProbe", "-bird-ready"),
                    ] {
                        let command = node[probe]["exec"]["command"].as_array_mut().unwrap();
                        let before = command.len();
                        command.retain(|arg| arg != flag);
                        assert_eq!(command.len(), before - 1);
                    }
                }
            }
            _ => {}
        }
    }
    Some(objects)
}

/// Asserts two object sets are equal object by object, naming the first difference.
pub fn assert_same_objects(
    actual: &BTreeMap<ObjectKey, Value>,
    expected: &BTreeMap<ObjectKey, Value>,
    context: &str,
) {
    let actual_keys: Vec<&ObjectKey> = actual.keys().collect();
    let expected_keys: Vec<&ObjectKey> = expected.keys().collect();
    assert_eq!(actual_keys, expected_keys, "{context}: different objects");
    for (key, want) in expected {
        let got = &actual[key];
        if got != want {
            let got = serde_json::to_string_pretty(got).unwrap();
            let want = serde_json::to_string_pretty(want).unwrap();
            let first = got
                .lines()
                .zip(want.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            panic!(
                "{context}: {key:?} differs near line {first}:\n  got:  {:?}\n  want: {:?}",
                got.lines().nth(first),
                want.lines().nth(first)
            );
        }
    }
}
