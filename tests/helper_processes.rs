//! Helper processes a test starts end with its test binary: the suite leaves nothing running.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

const CHILD: &str = "PACKYARD_HELPER_PROCESSES_CHILD";

/// Run as a child test binary: starts the shared moto_server, says where, and exits.
#[tokio::test]
async fn moto_server_ends_with_its_test_binary() {
    if std::env::var_os(CHILD).is_some() {
        let server = common::s3::server().await;
        println!("endpoint={}", server.endpoint);
        return;
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "moto_server_ends_with_its_test_binary",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "child test binary: {stdout}");
    let endpoint = stdout
        .lines()
        .find_map(|l| l.strip_prefix("endpoint="))
        .unwrap_or_else(|| panic!("the child started no server: {stdout}"))
        .to_owned();
    // The child binary has exited; its server must follow within a few seconds.
    let deadline = Instant::now() + Duration::from_secs(15);
    while reqwest::get(&endpoint).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "moto_server at {endpoint} outlived the test binary that started it"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
