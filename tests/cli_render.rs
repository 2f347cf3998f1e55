//! `packyard render` against a real server, and straight from a local data directory.

mod common;

use std::process::Output;
use std::time::Duration;

use common::process::ServerProcess;

async fn packyard(args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_packyard"))
        .args(args)
        .env_remove("PACKYARD_SERVER")
        .env_remove("PACKYARD_DATABASE_URL")
        .output()
        .await
        .expect("run packyard")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn render_from_a_server_and_from_a_data_directory_agree() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let database_url = common::fresh_database_url().await;
    let packs = concat!(env!("CARGO_MANIFEST_DIR"), "/packs");
    let mut server = ServerProcess::start(
        &data,
        database_url.as_deref(),
        &["--packs-dir", packs],
        &dir.path().join("server.log"),
    )
    .await;

    let remote = packyard(&[
        "render",
        "cni-calico",
        "3.24.x",
        "--cloud",
        "azure",
        "--server",
        &server.base_url,
    ])
    .await;
    assert!(
        remote.status.success(),
        "{}",
        String::from_utf8_lossy(&remote.stderr)
    );
    let yaml = stdout(&remote);
    assert!(
        yaml.contains("- name: CALICO_IPV4POOL_VXLAN\n              value: \"Always\""),
        "VXLAN on Azure"
    );
    assert_eq!(yaml.matches("# Source: cni-calico@3.24.6/").count(), 27);

    let json = packyard(&[
        "render",
        "cni-calico",
        "3.24.6",
        "--cloud",
        "aws",
        "-o",
        "json",
        "--server",
        &server.base_url,
    ])
    .await;
    let list: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"].as_array().unwrap().len(), 27);

    let values = dir.path().join("values.yaml");
    std::fs::write(
        &values,
        "manifests:\n  calico:\n    encapsulationType: CALICO_IPV4POOL_IPIP\n",
    )
    .unwrap();
    let refused = packyard(&[
        "render",
        "cni-calico",
        "3.24.6",
        "--cloud",
        "azure",
        "--values",
        values.to_str().unwrap(),
        "--server",
        &server.base_url,
    ])
    .await;
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("422 RENDER_FAILED") && stderr.contains("IP-in-IP"),
        "{stderr}"
    );

    let preset = packyard(&[
        "render",
        "cni-calico",
        "3.24.6",
        "--cloud",
        "aws",
        "--preset",
        "Encapsulation:vxlan-crosssubnet",
        "--server",
        &server.base_url,
    ])
    .await;
    assert!(stdout(&preset).contains("calico_backend: \"vxlan\""));
    server.terminate();
    server.wait(Duration::from_secs(30)).await;

    let mut local_args = vec![
        "render",
        "cni-calico",
        "3.24.x",
        "--cloud",
        "azure",
        "--data-dir",
        data.to_str().unwrap(),
    ];
    if let Some(url) = &database_url {
        local_args.extend(["--database-url", url.as_str()]);
    }
    let local = packyard(&local_args).await;
    assert!(
        local.status.success(),
        "{}",
        String::from_utf8_lossy(&local.stderr)
    );
    assert_eq!(stdout(&local), yaml, "the local render equals the server's");

    let missing_tag = packyard(&[
        "render",
        "cni-calico",
        "9.x",
        "--cloud",
        "aws",
        "--data-dir",
        data.to_str().unwrap(),
    ])
    .await;
    assert_eq!(missing_tag.status.code(), Some(1));
    let bad_var = packyard(&[
        "render",
        "cni-calico",
        "3.24.6",
        "--cloud",
        "aws",
        "--var",
        "novalue",
    ])
    .await;
    assert_eq!(bad_var.status.code(), Some(2));
}

/// A pack folder with the demo chart and a manifest, written for the offline tests.
fn chart_pack_dir(parent: &std::path::Path) -> std::path::PathBuf {
    common::packs::TestPack::new("demo-app", "1.0.0")
        .file("charts/demo-0.1.0.tgz", common::charts::demo_chart())
        .file(
            "values.yaml",
            "pack:\n  namespace: apps\ncharts:\n  demo:\n    replicas: 3\nmanifests:\n  app:\n    replicas: 2\n    image: nginx\n",
        )
        .pack_json(|j| j["charts"] = serde_json::json!(["charts/demo-0.1.0.tgz"]))
        .write_to(parent)
}

#[tokio::test]
async fn render_and_lint_a_pack_folder_or_archive_from_disk_without_a_server() {
    let dir = tempfile::tempdir().unwrap();
    let pack = chart_pack_dir(dir.path());
    let values = dir.path().join("more.yaml");
    std::fs::write(&values, "charts:\n  demo:\n    replicas: 4\n").unwrap();
    let pack_arg = pack.to_str().unwrap();
    let rendered = packyard(&[
        "render",
        pack_arg,
        "--cloud",
        "aws",
        "--values",
        values.to_str().unwrap(),
        "--kube-version",
        "1.28.3",
    ])
    .await;
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    let yaml = stdout(&rendered);
    assert!(
        yaml.starts_with("---\n# Source: demo/crds/widget.yaml\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains("replicas: 4\n") && yaml.contains("kube: \"v1.28.3\""),
        "{yaml}"
    );
    assert!(
        yaml.contains("# Source: demo-app@1.0.0/manifests/app.yaml"),
        "{yaml}"
    );

    // The same pack as an archive renders the same.
    let archive = dir.path().join("demo-app.tgz");
    std::fs::write(&archive, common::packs::TestPack::new("x", "1").archive()).unwrap();
    let from_archive = packyard(&["render", archive.to_str().unwrap(), "--cloud", "aws"]).await;
    assert!(
        from_archive.status.success(),
        "{}",
        String::from_utf8_lossy(&from_archive.stderr)
    );
    assert!(stdout(&from_archive).contains("# Source: x@1/manifests/app.yaml"));

    // A chart that fails: the exit status says so, with Helm's message.
    std::fs::write(&values, "charts:\n  demo:\n    image: ''\n").unwrap();
    let failing = packyard(&[
        "render",
        pack_arg,
        "--cloud",
        "aws",
        "--values",
        values.to_str().unwrap(),
    ])
    .await;
    assert!(!failing.status.success());
    assert!(
        String::from_utf8_lossy(&failing.stderr)
            .contains("demo/templates/deployment.yaml:15:20): image is required"),
        "{}",
        String::from_utf8_lossy(&failing.stderr)
    );

    // lint: findings, and exit status 1 on errors.
    let clean = packyard(&["lint", pack_arg]).await;
    assert!(clean.status.success(), "{}", stdout(&clean));
    assert!(
        stdout(&clean).ends_with("0 error(s)\n"),
        "{}",
        stdout(&clean)
    );
    std::fs::write(
        pack.join("charts/demo-0.1.0.tgz"),
        common::charts::tgz(
            "demo",
            &[
                ("Chart.yaml", "apiVersion: v2\nname: demo\nversion: 0.1.0\n"),
                ("templates/a.yaml", "{{ end }}\n"),
            ],
        ),
    )
    .unwrap();
    let broken = packyard(&["lint", pack_arg]).await;
    assert_eq!(broken.status.code(), Some(1));
    assert!(
        stdout(&broken).contains("error: charts/demo-0.1.0.tgz:demo/templates/a.yaml:1: "),
        "{}",
        stdout(&broken)
    );
    let missing = packyard(&["render", "no-such-pack", "--cloud", "aws"]).await;
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("neither a pack folder nor an archive")
    );
}

#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    use std::io::Read;
    let packs = concat!(env!("CARGO_MANIFEST_DIR"), "/packs/cni-calico-3.24.6");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_packyard"))
        .args(["render", packs, "--cloud", "aws"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read a little, then close the pipe, as `| head` does.
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "{stderr}"
    );
    assert!(first.starts_with(b"---\n# Source: "));
}
