//! The shipped Calico packs: they publish cleanly, their templates differ from Project Calico's
//! manifests only in templated lines, and a plain `serve` loads them.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::TestRegistry;
use common::process::ServerProcess;
use packyard::pack::lint::Severity;
use serde_json::Value;

const VERSIONS: [&str; 4] = ["3.24.6", "3.24.5", "3.23.5", "3.22.5"];

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

#[tokio::test]
async fn every_calico_pack_publishes_without_findings() {
    let registry = TestRegistry::new().await;
    let outcomes = registry
        .state
        .registry
        .publish_dir(&repo("packs"))
        .await
        .unwrap();
    let calico: Vec<_> = outcomes
        .iter()
        .filter(|o| {
            o.folder
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("cni-calico-")
        })
        .collect();
    assert_eq!(calico.len(), 4);
    for outcome in calico {
        let published = outcome
            .result
            .as_ref()
            .unwrap_or_else(|e| panic!("{}: {e}", outcome.folder.display()));
        let errors: Vec<_> = published
            .warnings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();
        assert!(
            errors.is_empty(),
            "{}: {errors:?}",
            outcome.folder.display()
        );
        assert!(
            published.warnings.is_empty(),
            "{}: {:?}",
            outcome.folder.display(),
            published.warnings
        );
    }
    let rows = registry.version_rows("cni-calico").await;
    assert_eq!(rows.len(), 4);
    let deprecated: Vec<&str> = rows
        .iter()
        .filter(|r| r.state == packyard::domain::PackState::Deprecated)
        .map(|r| r.version.as_str())
        .collect();
    assert_eq!(deprecated, ["3.22.5"]);
    for row in &rows {
        assert_eq!(row.display_name, "Calico");
        assert_eq!(row.layer.as_str(), "cni");
        assert_eq!(row.annotations["categories"], "network,amd64,fips");
        assert!(row.logo_digest.0.is_some());
    }
}

/// The two branches of a Calico template, with the if/else/end lines removed.
fn branches(template: &str) -> (Vec<&str>, Vec<&str>) {
    let lines: Vec<&str> = template.lines().collect();
    let start = lines
        .iter()
        .position(|l| *l == "{{- if eq .Values.datastore \"etcd\" }}")
        .unwrap();
    let middle = lines.iter().position(|l| *l == "{{- else }}").unwrap();
    let end = lines.iter().rposition(|l| *l == "{{- end }}").unwrap();
    (
        lines[start + 1..middle].to_vec(),
        lines[middle + 1..end].to_vec(),
    )
}

/// Pairs of (template line, upstream line) that differ; both must have the same line count
/// (trailing blank lines aside, which the template does not keep).
fn differing<'a>(ours: &[&'a str], upstream: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut theirs: Vec<&str> = upstream.lines().collect();
    while theirs.last() == Some(&"") {
        theirs.pop();
    }
    assert_eq!(
        ours.len(),
        theirs.len(),
        "the template adds or removes lines"
    );
    ours.iter()
        .zip(theirs)
        .filter(|(a, b)| a != &b)
        .map(|(a, b)| (*a, b))
        .collect()
}

#[test]
fn templates_change_only_templated_lines_of_upstream() {
    let Some(upstream_dir) = common::reference::calico_upstream() else {
        return;
    };
    for version in VERSIONS {
        let template = std::fs::read_to_string(repo(&format!(
            "packs/cni-calico-{version}/manifests/calico.yaml"
        )))
        .unwrap();
        let (etcd, kubernetes) = branches(&template);
        let upstream = |file: &str| {
            std::fs::read_to_string(upstream_dir.join(format!("v{version}/{file}"))).unwrap()
        };
        let etcd_upstream = upstream("calico-etcd.yaml");
        let kubernetes_upstream = upstream("calico.yaml");
        for (name, changed) in [
            ("calico-etcd.yaml", differing(&etcd, &etcd_upstream)),
            ("calico.yaml", differing(&kubernetes, &kubernetes_upstream)),
        ] {
            assert!(!changed.is_empty(), "{version} {name}: nothing templated");
            for (ours, theirs) in &changed {
                let templated = ours.contains("{{");
                // The pool CIDR is uncommented (its name line has no action of its own).
                let uncommented = theirs.trim_start().strip_prefix("# ") == Some(ours.trim_start());
                assert!(
                    templated || uncommented,
                    "{version} {name}: {theirs:?} became {ours:?}"
                );
            }
        }
    }
}

#[test]
fn values_list_every_image_of_the_manifests() {
    let Some(upstream_dir) = common::reference::calico_upstream() else {
        return;
    };
    for version in VERSIONS {
        let values =
            std::fs::read_to_string(repo(&format!("packs/cni-calico-{version}/values.yaml")))
                .unwrap();
        let upstream =
            std::fs::read_to_string(upstream_dir.join(format!("v{version}/calico.yaml"))).unwrap();
        for line in upstream
            .lines()
            .filter(|l| l.trim_start().starts_with("image: "))
        {
            let image = line
                .trim_start()
                .trim_start_matches("image: ")
                .trim_matches('"');
            assert!(
                values.contains(&format!("- image: {image}")),
                "{version}: {image} missing"
            );
        }
    }
}

fn tag_version(entity: &Value, tag: &str) -> Option<String> {
    entity["tags"]
        .as_array()?
        .iter()
        .find(|t| t["tag"] == tag)
        .map(|t| t["version"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn a_plain_serve_loads_the_calico_packs_once() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = common::fresh_database_url().await;
    let packs_dir = repo("packs");
    let packs_dir = packs_dir.to_str().unwrap();
    let uid = "5f0c2d9a1b3e4f5a6b7c8d9e";
    let args = ["--packs-dir", packs_dir, "--registry-uid", uid];
    let mut first = ServerProcess::start(
        &dir.path().join("data"),
        database_url.as_deref(),
        &args,
        &dir.path().join("first.log"),
    )
    .await;
    let entity: Value = reqwest::get(first.url(&format!("/v1/packs/cni-calico/registries/{uid}")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    common::palette::assert_valid("v1PackTagEntity", &entity);
    let concrete: Vec<&str> = entity["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tag"].as_str().unwrap())
        .filter(|t| !t.ends_with(".x"))
        .collect();
    assert_eq!(concrete, ["3.22.5", "3.23.5", "3.24.5", "3.24.6"]);
    assert_eq!(tag_version(&entity, "3.24.x").as_deref(), Some("3.24.6"));
    assert_eq!(tag_version(&entity, "3.23.x").as_deref(), Some("3.23.5"));
    let deprecated: Vec<&Value> = entity["packValues"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["annotations"]["system_state"] == "deprecated")
        .collect();
    assert_eq!(deprecated.len(), 1);
    let deprecated_uid = deprecated[0]["packUid"].as_str().unwrap();
    let deprecated_tag = entity["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["packUid"] == deprecated_uid && t["tag"] == "3.22.5");
    assert!(deprecated_tag.is_some());
    // The logo loads from its blob URL.
    let logo = reqwest::get(first.url(entity["logoUrl"].as_str().unwrap()))
        .await
        .unwrap();
    assert_eq!(logo.headers()["content-type"], "image/png");
    assert!(logo.bytes().await.unwrap().starts_with(b"\x89PNG"));
    first.terminate();
    first.wait(Duration::from_secs(30)).await;
    // The four Calico versions and the kubernetes pack.
    assert_eq!(
        first.log().matches("\"status\":\"published\"").count(),
        5,
        "{}",
        first.log()
    );

    // A restart finds them unchanged.
    let second = ServerProcess::start(
        &dir.path().join("data"),
        database_url.as_deref(),
        &args,
        &dir.path().join("second.log"),
    )
    .await;
    assert_eq!(
        second.log().matches("\"status\":\"unchanged\"").count(),
        5,
        "{}",
        second.log()
    );
    let tags: Value = reqwest::get(second.url("/v1/cni-calico/tags/list"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        tags["tags"],
        serde_json::json!(["3.22.5", "3.23.5", "3.24.5", "3.24.6"])
    );
}
