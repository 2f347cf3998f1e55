//! `packyard push` against a real server process.

mod common;

use std::process::Output;

use common::packs::TestPack;
use common::process::ServerProcess;
use common::{ADMIN_TOKEN, fresh_database_url};

async fn push(args: &[&str], token: Option<&str>) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_packyard"));
    command
        .arg("push")
        .args(args)
        .env_remove("PACKYARD_TOKEN")
        .env_remove("PACKYARD_SERVER");
    if let Some(token) = token {
        command.env("PACKYARD_TOKEN", token);
    }
    command.output().await.expect("run packyard push")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn push_publishes_folders_and_reports_one_line_per_pack() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(
        &dir.path().join("data"),
        fresh_database_url().await.as_deref(),
        &["--admin-token", ADMIN_TOKEN],
        &dir.path().join("server.log"),
    )
    .await;
    let work = dir.path().join("work");
    let first = TestPack::new("demo-app", "1.0.0").write_to(&work);
    let second = TestPack::new("demo-app", "1.1.0")
        .without("README.md")
        .write_to(&work);
    let (first, second) = (
        first.to_str().unwrap().to_owned(),
        second.to_str().unwrap().to_owned(),
    );

    let output = push(
        &[&first, &second, "--server", &server.base_url],
        Some(ADMIN_TOKEN),
    )
    .await;
    assert!(
        output.status.success(),
        "{}{}",
        stdout(&output),
        String::from_utf8_lossy(&output.stderr)
    );
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with("  ")).collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with("demo-app@1.0.0 created sha256:"),
        "{text}"
    );
    assert!(
        lines[1].starts_with("demo-app@1.1.0 created sha256:") && lines[1].contains("(1 warnings)"),
        "{text}"
    );
    assert!(
        text.contains("warning: README.md: the pack has no README.md"),
        "{text}"
    );

    let again = push(&[&first, "--server", &server.base_url], Some(ADMIN_TOKEN)).await;
    assert!(again.status.success());
    assert!(
        stdout(&again).starts_with("demo-app@1.0.0 unchanged sha256:"),
        "{}",
        stdout(&again)
    );

    // Changed content: refused without force, replaced with it.
    std::fs::write(
        std::path::Path::new(&first).join("README.md"),
        "# changed\n",
    )
    .unwrap();
    let conflict = push(&[&first, "--server", &server.base_url], Some(ADMIN_TOKEN)).await;
    assert_eq!(conflict.status.code(), Some(1));
    assert!(
        stdout(&conflict).contains("failed: 409 VERSION_EXISTS"),
        "{}",
        stdout(&conflict)
    );
    let no_message = push(
        &[&first, "--server", &server.base_url, "--force"],
        Some(ADMIN_TOKEN),
    )
    .await;
    assert_eq!(
        no_message.status.code(),
        Some(2),
        "clap refuses --force without --message"
    );
    let forced = push(
        &[
            &first,
            "--server",
            &server.base_url,
            "--force",
            "--message",
            "fix readme",
        ],
        Some(ADMIN_TOKEN),
    )
    .await;
    assert!(forced.status.success(), "{}", stdout(&forced));
    assert!(
        stdout(&forced).starts_with("demo-app@1.0.0 replaced sha256:"),
        "{}",
        stdout(&forced)
    );

    // Without a token, or to a server that is not there: a clear failure line.
    let denied = push(&[&first, "--server", &server.base_url], None).await;
    assert_eq!(denied.status.code(), Some(1));
    assert!(
        stdout(&denied).contains("401 UNAUTHORIZED"),
        "{}",
        stdout(&denied)
    );
    let unreachable = push(
        &[&first, "--server", "http://127.0.0.1:9"],
        Some(ADMIN_TOKEN),
    )
    .await;
    assert_eq!(unreachable.status.code(), Some(1));
    assert!(
        stdout(&unreachable).contains("cannot reach"),
        "{}",
        stdout(&unreachable)
    );
    let missing = push(
        &[
            dir.path().join("nope").to_str().unwrap(),
            "--server",
            &server.base_url,
        ],
        Some(ADMIN_TOKEN),
    )
    .await;
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stdout(&missing).contains("failed: cannot read"),
        "{}",
        stdout(&missing)
    );

    let tags: serde_json::Value = reqwest::get(server.url("/v1/demo-app/tags/list"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tags["tags"], serde_json::json!(["1.0.0", "1.1.0"]));
}
