//! deploy/kubernetes: schema-valid manifests (kubernetes-validate --strict, offline) that run
//! several replicas on external PostgreSQL and S3, configured through a ConfigMap and a Secret with
//! the variable names `packyard serve` reads.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn validator() -> PathBuf {
    std::env::var("PACKYARD_KUBERNETES_VALIDATE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("/var/tmp/packyard-tools/venv/bin/kubernetes-validate"))
}

fn manifest(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy/kubernetes")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

const MANIFESTS: [&str; 5] = [
    "configmap.yaml",
    "secret.yaml",
    "deployment.yaml",
    "service.yaml",
    "pdb.yaml",
];

#[test]
fn the_manifests_pass_kubernetes_schema_validation() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes");
    for kubernetes in ["1.24.0", "1.28.0"] {
        let output = Command::new(validator())
            .args(["--strict", "-k", kubernetes])
            .args(MANIFESTS.iter().map(|m| dir.join(m)))
            .output()
            .expect("run kubernetes-validate (./test installs it)");
        let report = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "Kubernetes {kubernetes}:\n{report}"
        );
        assert_eq!(
            report.lines().filter(|l| l.contains(" passed ")).count(),
            MANIFESTS.len(),
            "{report}"
        );
    }
    let kustomization = manifest("kustomization.yaml");
    let listed: Vec<&str> = kustomization["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert_eq!(listed, MANIFESTS);
}

#[test]
fn the_deployment_runs_several_ready_replicas_on_shared_storage() {
    let deployment = manifest("deployment.yaml");
    let spec = &deployment["spec"];
    assert!(spec["replicas"].as_u64().unwrap() >= 2);
    let labels = &spec["template"]["metadata"]["labels"];
    assert_eq!(&spec["selector"]["matchLabels"], labels);
    let container = &spec["template"]["spec"]["containers"][0];
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/health");
    let sources: Vec<(&str, &str)> = container["envFrom"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|source| source.as_object().unwrap().iter())
        .map(|(kind, reference)| (kind.as_str(), reference["name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        sources,
        [("configMapRef", "packyard"), ("secretRef", "packyard")]
    );
    // The graceful shutdown (30 s) fits in the termination grace period.
    assert!(
        spec["template"]["spec"]["terminationGracePeriodSeconds"]
            .as_u64()
            .unwrap()
            > 30
    );

    let config = manifest("configmap.yaml");
    let data = config["data"].as_object().unwrap();
    assert!(
        data["PACKYARD_BLOB_STORE"]
            .as_str()
            .unwrap()
            .starts_with("s3://")
    );
    for key in [
        "PACKYARD_LISTEN",
        "PACKYARD_REGISTRY_UID",
        "PACKYARD_S3_ENDPOINT",
        "AWS_REGION",
    ] {
        assert!(data.contains_key(key), "{key}");
    }
    let secret = manifest("secret.yaml");
    let secrets = secret["stringData"].as_object().unwrap();
    assert!(
        secrets["PACKYARD_DATABASE_URL"]
            .as_str()
            .unwrap()
            .starts_with("postgres://")
    );
    for key in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
        assert!(secrets.contains_key(key), "{key}");
    }
    // Every variable the manifests set is one the server reads (flags' env names, or AWS_*).
    let help = Command::new(env!("CARGO_BIN_EXE_packyard"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for key in data
        .keys()
        .chain(secrets.keys())
        .filter(|k| k.starts_with("PACKYARD_"))
    {
        assert!(
            help.contains(&format!("[env: {key}")),
            "packyard serve does not read {key}"
        );
    }

    for (name, selector) in [
        (
            "service.yaml",
            &manifest("service.yaml")["spec"]["selector"],
        ),
        (
            "pdb.yaml",
            &manifest("pdb.yaml")["spec"]["selector"]["matchLabels"],
        ),
    ] {
        assert_eq!(selector, labels, "{name} selects the deployment's pods");
    }
}
