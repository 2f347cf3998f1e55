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
use common::process::{ServerProcess, Setup};
use common::{ADMIN_TOKEN, remote};
use serde_json::Value;

const PREFIX: &str = "palette/base";

fn clients_python() -> Option<std::ffi::OsString> {
    let python = std::env::var_os("PACKYARD_CLIENTS_PYTHON");
    if python.is_none() {
        eprintln!(
            "skipped: PACKYARD_CLIENTS_PYTHON is not set (eval \"$(.ci/tools)\" installs the OCI clients and sets it)"
        );
    }
    python
}

/// Runs `oras_pack.py` with its own `$HOME` (where ORAS keeps logins) and returns its report.
fn oras(python: &std::ffi::OsStr, home: &Path, args: &[&str]) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/oras_pack.py");
    let output = Command::new(python)
        .arg(script)
        .args(args)
        .env("HOME", home)
        .output()
        .expect("run the ORAS client");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "ORAS client report ({e}): {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
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
