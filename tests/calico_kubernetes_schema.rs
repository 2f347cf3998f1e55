//! Every object of every Calico render passes Kubernetes schema validation (kubernetes-validate,
//! strict) for the oldest and newest Kubernetes version each Calico line supports.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::calico::{self, Etcd, IPIP, Settings, VXLAN};
use packyard::render::macros::MacroContext;
use packyard::render::pipeline::{PackRequest, Renderer};
use serde_json::Value;

/// The validator `./test` installs (see .ci/tools).
fn validator() -> PathBuf {
    let configured = std::env::var("PACKYARD_KUBERNETES_VALIDATE")
        .ok()
        .map(PathBuf::from);
    let found = configured.filter(|p| p.is_file()).or_else(|| {
        let default = PathBuf::from("/var/tmp/packyard-tools/venv/bin/kubernetes-validate");
        default.is_file().then_some(default)
    });
    found.unwrap_or_else(|| panic!("kubernetes-validate is not installed: run the suite with ./test (it installs it through .ci/tools)"))
}

/// Kubernetes versions each Calico line supports, oldest and newest.
fn kubernetes_versions(version: &str) -> [&'static str; 2] {
    match version {
        v if v.starts_with("3.24") => ["1.22.0", "1.24.0"],
        _ => ["1.21.0", "1.23.0"],
    }
}

/// The upstream CRDs carry `metadata.creationTimestamp: null`, which Kubernetes accepts but the
/// published JSON schemas (string only) do not: drop exactly that field before validating.
fn without_null_creation_timestamp(mut object: Value) -> Value {
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut)
        && metadata.get("creationTimestamp") == Some(&Value::Null)
    {
        metadata.remove("creationTimestamp");
    }
    object
}

/// One run of the validator: a Calico version's files against one Kubernetes version.
struct Run {
    version: &'static str,
    kubernetes: &'static str,
    files: Vec<PathBuf>,
    objects: usize,
}

#[test]
fn every_calico_render_validates_against_its_kubernetes_versions() {
    let validator = validator();
    let renderer = Renderer::new(0);
    let dir = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    for version in calico::VERSIONS {
        let loaded = calico::load(&format!("cni-calico-{version}"));
        // Most objects (CRDs, RBAC) are the same in every render: validate each distinct one once.
        let mut distinct = std::collections::BTreeSet::new();
        for encapsulation_type in [IPIP, VXLAN] {
            for mode in ["Always", "CrossSubnet", "Never"] {
                for etcd in [
                    None,
                    Some(Etcd {
                        endpoints: "https://10.0.0.5:2379",
                        tls: true,
                    }),
                ] {
                    let settings = Settings {
                        encapsulation_type,
                        mode,
                        cidr: "10.244.0.0/16",
                        etcd,
                    };
                    let request = PackRequest {
                        values: Some(settings.values_yaml()),
                        presets: Vec::new(),
                    };
                    let context = MacroContext {
                        cloud_type: "aws".into(),
                        ..MacroContext::default()
                    };
                    let budget = renderer.budget(None);
                    let values = renderer
                        .resolve_values(&loaded, &request, &context, &budget)
                        .unwrap();
                    let (documents, _) = renderer.render(&loaded, &values, false, &budget).unwrap();
                    for object in packyard::render::output::objects(&documents).unwrap() {
                        distinct.insert(
                            serde_json::to_string(&without_null_creation_timestamp(object))
                                .unwrap(),
                        );
                    }
                }
            }
        }
        let file = dir.path().join(format!("calico-{version}.yaml"));
        let stream: String = distinct.iter().map(|o| format!("---\n{o}\n")).collect();
        std::fs::write(&file, stream).unwrap();
        let (files, objects_total) = (vec![file], distinct.len());
        for kubernetes in kubernetes_versions(version) {
            runs.push(Run {
                version,
                kubernetes,
                files: files.clone(),
                objects: objects_total,
            });
        }
    }
    // The validator is slow (Python): run the versions side by side.
    std::thread::scope(|scope| {
        let handles: Vec<_> = runs
            .iter()
            .map(|run| scope.spawn(|| check(&validator, run)))
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
    });
}

fn check(validator: &PathBuf, run: &Run) {
    let (version, kubernetes) = (run.version, run.kubernetes);
    let output = Command::new(validator)
        .args(["--strict", "-k", kubernetes])
        .args(&run.files)
        .output()
        .expect("run kubernetes-validate");
    let report = String::from_utf8_lossy(&output.stdout);
    let problems: Vec<&str> = report.lines().filter(|l| !l.starts_with("INFO")).collect();
    assert!(
        problems.is_empty(),
        "Calico {version} on Kubernetes {kubernetes}:\n{}",
        problems.join("\n")
    );
    assert!(
        output.status.success(),
        "Calico {version} on Kubernetes {kubernetes}: exit {:?}",
        output.status
    );
    let passed = report
        .lines()
        .filter(|l| l.starts_with("INFO") && l.contains(" passed "))
        .count();
    assert_eq!(
        passed, run.objects,
        "Calico {version} on Kubernetes {kubernetes}: every object validated"
    );
}
