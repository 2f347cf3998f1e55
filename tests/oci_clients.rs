//! Real OCI clients against a live `packyard serve`: ORAS's Python SDK (PyPI `oras`, installed by
//! `.ci/tools`, driven by `tests/clients/oras_pack.py`) pushes a pack archive in Palette's OCI
//! layout, which is then published and renders, and pulls pack versions however they were
//! published, byte for byte. Every client runs with credentials (an API token as the password,
//! as Palette logs in) and, without them, is refused with the 401 challenge. Skipped, saying so,
//! when `$PACKYARD_CLIENTS_PYTHON` is not set (`eval "$(.ci/tools)"` sets it).

mod common;

use std::path::Path;
use std::process::Command;

use common::packs::TestPack;
use common::packs::chart_archive;
use common::process::{ServerProcess, Setup, client_report, run_client};
use common::{ADMIN_TOKEN, remote};
use serde_json::Value;

const PREFIX: &str = "palette/base";

fn clients_python() -> Option<std::ffi::OsString> {
    let python = std::env::var_os("PACKYARD_CLIENTS_PYTHON");
    if python.is_none() {
        common::skip(
            "PACKYARD_CLIENTS_PYTHON is not set (eval \"$(.ci/tools)\" installs the OCI clients and sets it)",
        );
    }
    python
}

/// Runs `oras_pack.py` with its own `$HOME` (where ORAS keeps logins) and returns its report.
fn oras(python: &std::ffi::OsStr, home: &Path, args: &[&str]) -> Value {
    client_report(python, "oras_pack.py", args, &[("HOME", home)])
}

fn host_of(server: &ServerProcess) -> String {
    server.base_url.trim_start_matches("http://").to_owned()
}

#[tokio::test]
async fn oras_pushes_and_pulls_packs_in_palettes_layout() {
    let Some(python) = clients_python() else {
        return;
    };
    let setup = Setup::new().await;
    let server = setup
        .start("server.log", &["--oci-pack-prefix", PREFIX])
        .await;
    let host = host_of(&server);
    let work = tempfile::tempdir().unwrap();
    let login = ["--user", "palette", "--password", ADMIN_TOKEN];

    // `oras push <registry>/<prefix>/spectro-packs/archive/<name>:<version> <name>-<version>.tar.gz`
    let pack = TestPack::new("oras-demo", "1.2.3");
    let file = work.path().join("oras-demo-1.2.3.tar.gz");
    std::fs::write(&file, pack.archive()).unwrap();
    let target = format!("{PREFIX}/spectro-packs/archive/oras-demo:1.2.3");
    let anonymous_home = tempfile::tempdir().unwrap();
    let refused = oras(
        &python,
        anonymous_home.path(),
        &["push", &host, &target, file.to_str().unwrap()],
    );
    assert_eq!(refused["ok"], false, "{refused}");
    let missing = reqwest::get(server.url("/v1/packs/oras-demo/tags/1.2.3"))
        .await
        .unwrap();
    assert_eq!(
        missing.status(),
        404,
        "nothing was published without credentials"
    );

    let home = tempfile::tempdir().unwrap();
    let mut push = vec!["push", &host, &target, file.to_str().unwrap()];
    push.extend_from_slice(&login);
    let pushed = oras(&python, home.path(), &push);
    assert_eq!(pushed["ok"], true, "{pushed}");
    let version = remote::get_json(&server.url("/v1/packs/oras-demo/tags/1.2.3")).await;
    assert_eq!(version["name"], "oras-demo");
    let rendered = reqwest::get(server.url("/v1/packs/oras-demo/tags/1.2.3/render?cloudType=aws"))
        .await
        .unwrap();
    assert_eq!(rendered.status(), 200);
    assert!(rendered.text().await.unwrap().contains("kind:"));

    // Pulled back: the file it pushed, byte for byte, under its own name.
    let out = work.path().join("pulled");
    let mut pull = vec!["pull", &host, &target, out.to_str().unwrap()];
    pull.extend_from_slice(&login);
    let pulled = oras(&python, home.path(), &pull);
    assert_eq!(pulled["ok"], true, "{pulled}");
    assert_eq!(
        std::fs::read(out.join("oras-demo-1.2.3.tar.gz")).unwrap(),
        pack.archive()
    );

    // A version published through the API is pullable too: its stored archive, named
    // <name>-<version>.tar.gz.
    let published = TestPack::new("api-published", "0.9.0");
    let answer = remote::publish(&server.base_url, "", published.archive())
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
    let out = work.path().join("published");
    let target = format!("{PREFIX}/spectro-packs/archive/api-published:0.9.0");
    let mut pull = vec!["pull", &host, &target, out.to_str().unwrap()];
    pull.extend_from_slice(&login);
    let pulled = oras(&python, home.path(), &pull);
    assert_eq!(pulled["ok"], true, "{pulled}");
    assert_eq!(
        std::fs::read(out.join("api-published-0.9.0.tar.gz")).unwrap(),
        published.archive()
    );
    drop(server);

    // A private registry refuses an anonymous pull and serves a logged-in one.
    let private = setup
        .start("private.log", &["--oci-pack-prefix", PREFIX, "--private"])
        .await;
    let host = host_of(&private);
    let out = work.path().join("private");
    let refused = oras(
        &python,
        anonymous_home.path(),
        &["pull", &host, &target, out.to_str().unwrap()],
    );
    assert_eq!(refused["ok"], false, "{refused}");
    let mut pull = vec!["pull", &host, &target, out.to_str().unwrap()];
    pull.extend_from_slice(&login);
    let pulled = oras(&python, home.path(), &pull);
    assert_eq!(pulled["ok"], true, "{pulled}");
}

/// A gzip'd tar with one file, as an image layer.
fn layer(name: &str, content: &[u8]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(content.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, name, content).unwrap();
    common::packs::gzip(&tar.into_inner().unwrap())
}

fn descriptor(media_type: &str, content: &[u8]) -> Value {
    serde_json::json!({"mediaType": media_type, "digest": common::digest_of(content), "size": content.len()})
}

/// An OCI image layout with a two-platform image tagged `1.0`, archived as `oci-archive:` reads
/// it. Returns the archive's path and every blob (the index first).
fn multi_arch_archive(dir: &Path) -> (std::path::PathBuf, Vec<Vec<u8>>) {
    let mut blobs = Vec::new();
    let mut manifests = Vec::new();
    for (architecture, greeting) in [("amd64", "hello from amd64"), ("arm64", "hello from arm64")] {
        let layer = layer("greeting.txt", greeting.as_bytes());
        let diff_id = common::digest_of(&flate2_decompress(&layer));
        let config = serde_json::to_vec(&serde_json::json!({
            "architecture": architecture, "os": "linux",
            "config": {"Cmd": ["cat", "/greeting.txt"]},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        }))
        .unwrap();
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": descriptor("application/vnd.oci.image.config.v1+json", &config),
            "layers": [descriptor("application/vnd.oci.image.layer.v1.tar+gzip", &layer)],
        }))
        .unwrap();
        let mut entry = descriptor("application/vnd.oci.image.manifest.v1+json", &manifest);
        entry["platform"] = serde_json::json!({"architecture": architecture, "os": "linux"});
        manifests.push(entry);
        blobs.extend([manifest, config, layer]);
    }
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests,
    }))
    .unwrap();
    blobs.insert(0, index.clone());
    let mut top = descriptor("application/vnd.oci.image.index.v1+json", &index);
    top["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": "1.0"});
    let layout_index =
        serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "manifests": [top]})).unwrap();
    let path = dir.join("image.tar");
    let mut tar = tar::Builder::new(std::fs::File::create(&path).unwrap());
    let mut add = |name: &str, content: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, name, content).unwrap();
    };
    add("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#);
    add("index.json", &layout_index);
    for blob in &blobs {
        add(&format!("blobs/sha256/{}", common::sha256_hex(blob)), blob);
    }
    tar.into_inner().unwrap();
    (path, blobs)
}

fn flate2_decompress(gzipped: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(gzipped)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Runs skopeo (Debian's) with its own `$HOME`; returns whether it succeeded and what it said.
fn skopeo(home: &Path, args: &[&str]) -> (bool, String) {
    run_client(
        Command::new("skopeo")
            .arg("--insecure-policy")
            .args(args)
            .env("HOME", home),
    )
}

#[tokio::test]
async fn skopeo_copies_a_multi_arch_image_in_and_out_byte_for_byte() {
    if Command::new("skopeo").arg("--version").output().is_err() {
        common::skip("skopeo is not installed (.ci/tools installs Debian's package)");
        return;
    }
    let setup = Setup::new().await;
    let server = setup.start("server.log", &[]).await;
    let host = host_of(&server);
    let work = tempfile::tempdir().unwrap();
    let (archive, blobs) = multi_arch_archive(work.path());
    let source = format!("oci-archive:{}:1.0", archive.display());
    let target = format!("docker://{host}/library/multi-arch:1.0");
    let creds = format!("palette:{ADMIN_TOKEN}");

    // Without credentials: refused at the 401 challenge, nothing stored.
    let (ok, said) = skopeo(
        work.path(),
        &["copy", "--all", "--dest-tls-verify=false", &source, &target],
    );
    assert!(!ok, "{said}");
    assert!(
        said.contains("401") || said.to_lowercase().contains("unauthorized"),
        "{said}"
    );
    let tags = reqwest::get(server.url("/v2/library/multi-arch/tags/list"))
        .await
        .unwrap();
    assert_eq!(tags.status(), 404);

    // oci-archive: → docker:// (packyard) → dir:, every manifest and blob unchanged.
    let (ok, said) = skopeo(
        work.path(),
        &[
            "copy",
            "--all",
            "--preserve-digests",
            "--dest-tls-verify=false",
            "--dest-creds",
            &creds,
            &source,
            &target,
        ],
    );
    assert!(ok, "{said}");
    let out = work.path().join("out");
    let destination = format!("dir:{}", out.display());
    let (ok, said) = skopeo(
        work.path(),
        &[
            "copy",
            "--all",
            "--preserve-digests",
            "--src-tls-verify=false",
            "--src-creds",
            &creds,
            &target,
            &destination,
        ],
    );
    assert!(ok, "{said}");
    assert_eq!(
        std::fs::read(out.join("manifest.json")).unwrap(),
        blobs[0],
        "the index"
    );
    for blob in &blobs[1..] {
        let hex = common::sha256_hex(blob);
        let stored = std::fs::read(out.join(&hex))
            .or_else(|_| std::fs::read(out.join(format!("{hex}.manifest.json"))))
            .unwrap_or_else(|e| panic!("{hex} was not copied out: {e}"));
        assert_eq!(&stored, blob);
    }
    // Inspected through the registry, the image is the two platforms it was.
    let (ok, said) = skopeo(
        work.path(),
        &[
            "inspect",
            "--raw",
            "--tls-verify=false",
            "--creds",
            &creds,
            &target,
        ],
    );
    assert!(ok, "{said}");
    assert_eq!(said.as_bytes(), &blobs[0][..]);
}

fn helm(python: &std::ffi::OsStr, args: &[&str]) -> Value {
    client_report(python, "helm_chart.py", args, &[])
}

#[tokio::test]
async fn helm_pushes_and_pulls_a_chart_with_basic_login() {
    let Some(python) = clients_python() else {
        return;
    };
    let setup = Setup::new().await;
    let server = setup.start("server.log", &[]).await;
    let host = host_of(&server);
    let work = tempfile::tempdir().unwrap();
    let chart = chart_archive("hello-chart", "0.3.1");
    let file = work.path().join("hello-chart-0.3.1.tgz");
    std::fs::write(&file, &chart).unwrap();
    let file = file.to_str().unwrap();

    // Without a login, the push stops at the Basic challenge (Helm asks for "basic credential")
    // and nothing is stored.
    let anonymous = work.path().join("anonymous");
    let refused = helm(
        &python,
        &[&host, "charts", file, anonymous.to_str().unwrap()],
    );
    assert!(
        refused["error"]
            .as_str()
            .is_some_and(|e| e.contains("basic credential not found")),
        "{refused}"
    );
    let tags = reqwest::get(server.url("/v2/charts/hello-chart/tags/list"))
        .await
        .unwrap();
    assert_eq!(tags.status(), 404);

    // `helm registry login` with an API token as the password, push, tags, pull.
    let out = work.path().join("out");
    let report = helm(
        &python,
        &[
            &host,
            "charts",
            file,
            out.to_str().unwrap(),
            "--user",
            "ci",
            "--password",
            ADMIN_TOKEN,
        ],
    );
    assert!(report["error"].is_null(), "{report}");
    assert_eq!(report["tags"], serde_json::json!(["0.3.1"]));
    assert_eq!(
        std::fs::read(out.join("hello-chart-0.3.1.tgz")).unwrap(),
        chart
    );

    // Stored as Helm stores charts: its config media type, the archive as the one layer.
    let manifest: Value = reqwest::get(server.url("/v2/charts/hello-chart/manifests/0.3.1"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.cncf.helm.config.v1+json"
    );
    assert_eq!(
        manifest["layers"][0]["mediaType"],
        "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
    );
    assert_eq!(manifest["layers"][0]["digest"], common::digest_of(&chart));

    // A pack references the pushed chart by its OCI reference: publishing resolves it, and the
    // pack renders the chart with the pack's values for it.
    let pack = TestPack::new("uses-chart", "1.0.0")
        .pack_json(|json| json["charts"] = serde_json::json!(["oci://charts/hello-chart:0.3.1"]))
        .file(
            "values.yaml",
            "pack:\n  namespace: demo\nmanifests:\n  app:\n    replicas: 2\n    image: nginx\ncharts:\n  hello-chart:\n    replicas: 7\n",
        );
    let published = remote::publish(&server.base_url, "", pack.archive())
        .await
        .unwrap();
    assert_eq!(published.status(), 201);
    let rendered = reqwest::get(server.url("/v1/packs/uses-chart/tags/1.0.0/render?cloudType=aws"))
        .await
        .unwrap();
    assert_eq!(rendered.status(), 200);
    let rendered = rendered.text().await.unwrap();
    assert!(rendered.contains("replicas: \"7\""), "{rendered}");
    // A reference to a chart this registry does not have is reported, not rendered.
    let missing = TestPack::new("missing-chart", "1.0.0")
        .pack_json(|json| json["charts"] = serde_json::json!(["oci://charts/no-such-chart:1.0.0"]));
    let published = remote::publish(&server.base_url, "", missing.archive())
        .await
        .unwrap();
    let body: Value = published.json().await.unwrap();
    assert!(body.to_string().contains("chart-missing"), "{body}");
}
