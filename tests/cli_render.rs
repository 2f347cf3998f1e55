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
