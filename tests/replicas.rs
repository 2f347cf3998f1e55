//! Two `packyard serve` processes on one PostgreSQL database and one S3 bucket behave as one
//! registry: writes through one are visible through the other at once, cached tag resolutions
//! move, and concurrent publishes of one version have exactly one winner. Always on PostgreSQL
//! (the suite's own, or the one ./test starts when the suite runs on SQLite).

mod common;

use common::packs::TestPack;
use common::process::ServerProcess;
use common::{ADMIN_TOKEN, digest_of, postgres_database_url};

struct Replicas {
    _dir: tempfile::TempDir,
    a: ServerProcess,
    b: ServerProcess,
}

const ENV: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "packyard-test"),
    ("AWS_SECRET_ACCESS_KEY", "packyard-test"),
    ("AWS_REGION", "us-east-1"),
];

async fn replicas(database_url: &str) -> Replicas {
    let s3 = common::s3::server().await;
    let bucket = s3.bucket().await;
    let location = format!("s3://{bucket}/registry");
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--admin-token",
        ADMIN_TOKEN,
        "--registry-uid",
        "shared-registry",
        "--blob-store",
        location.as_str(),
        "--s3-endpoint",
        s3.endpoint.as_str(),
    ];
    let start = |name: &'static str| {
        let data = dir.path().join(name);
        let log = dir.path().join(format!("{name}.log"));
        async move { ServerProcess::start_with_env(&data, Some(database_url), &args, &log, &ENV).await }
    };
    let a = start("a").await;
    let b = start("b").await;
    Replicas { _dir: dir, a, b }
}

async fn publish(server: &ServerProcess, pack: &TestPack) -> u16 {
    reqwest::Client::new()
        .post(server.url("/v1/packs"))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/gzip")
        .body(pack.archive())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn resolved(server: &ServerProcess, tag: &str) -> String {
    let response = reqwest::get(server.url(&format!("/v1/packs/demo/tags/{tag}")))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.headers()["x-pack-version"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn two_replicas_are_one_registry() {
    let database_url = postgres_database_url().await;
    // Keep the directory (and so the replicas' staging areas) alive to the end.
    let Replicas { _dir: _keep, a, b } = replicas(&database_url).await;
    let client = reqwest::Client::new();

    // B caches a resolution of 1.x, then A publishes a newer 1.x: B answers with it at once.
    assert_eq!(publish(&a, &TestPack::new("demo", "1.0.0")).await, 201);
    assert_eq!(resolved(&b, "1.x").await, "1.0.0");
    assert_eq!(resolved(&b, "1.x").await, "1.0.0");
    let entity_url = "/v1/packs/demo/registries/shared-registry";
    let before: serde_json::Value = client
        .get(b.url(entity_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(before["packValues"].as_array().unwrap().len(), 1);
    for round in 1..=5 {
        let version = format!("1.{round}.0");
        assert_eq!(publish(&a, &TestPack::new("demo", &version)).await, 201);
        assert_eq!(
            resolved(&b, "1.x").await,
            version,
            "round {round}: B served a superseded resolution"
        );
        let render = client
            .get(b.url("/v1/packs/demo/tags/1.x/render?cloudType=aws"))
            .send()
            .await
            .unwrap();
        assert_eq!(render.headers()["x-pack-version"], version.as_str());
    }
    let after: serde_json::Value = client
        .get(b.url(entity_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(after["packValues"].as_array().unwrap().len(), 6);

    // A lifecycle change through B is seen by A (which rendered 1.5.0 before, so has it cached).
    let warm = client
        .get(a.url("/v1/packs/demo/tags/1.5.0/render?cloudType=aws"))
        .send()
        .await
        .unwrap();
    assert!(warm.headers().get("warning").is_none());
    let deprecated = client
        .patch(b.url("/v1/packs/demo/tags/1.5.0"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&serde_json::json!({"state": "deprecated"}))
        .send()
        .await
        .unwrap();
    assert_eq!(deprecated.status(), 200);
    // A had 1.5.0 cached as active; its render now carries the deprecation warning.
    let on_a = client
        .get(a.url("/v1/packs/demo/tags/1.5.0/render?cloudType=aws"))
        .send()
        .await
        .unwrap();
    assert_eq!(on_a.status(), 200);
    let warning = on_a
        .headers()
        .get("warning")
        .map(|v| v.to_str().unwrap().to_owned());
    assert!(
        warning.as_deref().is_some_and(|w| w.contains("deprecated")),
        "{warning:?}"
    );
    // Whatever the tag rules make of a deprecated newest version, both replicas give the same answer.
    assert_eq!(resolved(&a, "1.x").await, resolved(&b, "1.x").await);

    // Back and forth between the replicas, each write read at once through the other: the entity
    // (a cached catalog response) and the tag resolution (cached version rows) follow every time.
    for round in 0..10 {
        let (writer, reader) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let (state, listed) = if round % 2 == 0 {
            ("disabled", 5)
        } else {
            ("active", 6)
        };
        let changed = client
            .patch(writer.url("/v1/packs/demo/tags/1.5.0"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&serde_json::json!({ "state": state }))
            .send()
            .await
            .unwrap();
        assert_eq!(changed.status(), 200, "round {round}");
        let entity: serde_json::Value = client
            .get(reader.url(entity_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            entity["packValues"].as_array().unwrap().len(),
            listed,
            "round {round}: a stale catalog response after {state}"
        );
        let expected = if state == "disabled" {
            "1.4.0"
        } else {
            "1.5.0"
        };
        assert_eq!(resolved(reader, "1.x").await, expected, "round {round}");
    }

    // A blob uploaded through A downloads through B.
    let content = b"shared through the bucket".to_vec();
    let path = format!("/v1/demo/blobs/{}", digest_of(&content));
    let put = client
        .put(a.url(&path))
        .bearer_auth(ADMIN_TOKEN)
        .body(content.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201);
    assert_eq!(
        client
            .get(b.url(&path))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
        content
    );

    // The same name@version with different content through both at once: one wins, one conflicts.
    for round in 0..3 {
        let version = format!("2.{round}.0");
        let first = TestPack::new("demo", &version).file("README.md", "# one\n");
        let second = TestPack::new("demo", &version).file("README.md", "# two\n");
        let (x, y) = tokio::join!(publish(&a, &first), publish(&b, &second));
        let mut statuses = [x, y];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 409], "round {round}");
    }
}

/// Replicas started together on a fresh database migrate it once (an advisory lock) and both
/// serve; a replica killed in the middle of publishes leaves nothing half-visible through the
/// other, and `verify` passes on the shared storage.
#[tokio::test]
async fn replicas_start_together_and_survive_a_killed_peer() {
    let database_url = postgres_database_url().await;
    let s3 = common::s3::server().await;
    let bucket = s3.bucket().await;
    let location = format!("s3://{bucket}/registry");
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--admin-token",
        ADMIN_TOKEN,
        "--registry-uid",
        "shared-registry",
        "--blob-store",
        location.as_str(),
        "--s3-endpoint",
        s3.endpoint.as_str(),
    ];
    let (data_a, data_b) = (dir.path().join("a"), dir.path().join("b"));
    let (log_a, log_b) = (dir.path().join("a.log"), dir.path().join("b.log"));
    // Both start at once on an empty database.
    let (a, mut b) = tokio::join!(
        ServerProcess::start_with_env(&data_a, Some(&database_url), &args, &log_a, &ENV),
        ServerProcess::start_with_env(&data_b, Some(&database_url), &args, &log_b, &ENV),
    );

    // B publishes in a loop; it is killed mid-stream.
    let base = b.base_url.clone();
    let first_acknowledged = std::sync::Arc::new(tokio::sync::Notify::new());
    let signal = first_acknowledged.clone();
    let publisher = tokio::spawn(async move {
        let client = reqwest::Client::new();
        let mut acknowledged = Vec::new();
        for n in 0.. {
            let version = format!("1.0.{n}");
            let filler: Vec<u8> = (0..200_000u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> (n % 5 + 20)) as u8)
                .collect();
            let archive = TestPack::new("crashy", &version)
                .file("files/data.bin", filler)
                .archive();
            let sent = client
                .post(format!("{base}/v1/packs"))
                .bearer_auth(ADMIN_TOKEN)
                .header("content-type", "application/gzip")
                .body(archive)
                .send()
                .await;
            match sent {
                Ok(response) if response.status() == 201 => {
                    acknowledged.push(version);
                    signal.notify_one();
                }
                _ => return acknowledged,
            }
        }
        acknowledged
    });
    // Kill once publishing is under way (however slow the machine), in the middle of a later one.
    tokio::time::timeout(
        std::time::Duration::from_secs(60),
        first_acknowledged.notified(),
    )
    .await
    .expect("no publish was acknowledged within 60 s");
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    b.kill_hard();
    let acknowledged = publisher.await.unwrap();
    assert!(
        !acknowledged.is_empty(),
        "nothing was published before the kill"
    );

    // Through A: every acknowledged version is there and renders; every visible one is whole.
    let client = reqwest::Client::new();
    let entity: serde_json::Value = client
        .get(a.url("/v1/packs/crashy/registries/shared-registry"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let visible: Vec<String> = entity["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(entity["packValues"].as_array().into_iter().flatten())
        .filter_map(|v| v["version"].as_str().map(str::to_owned))
        .collect();
    for version in &acknowledged {
        assert!(
            visible.contains(version),
            "acknowledged {version} is missing: {visible:?}"
        );
    }
    for version in visible.iter().filter(|v| v.starts_with("1.0.")) {
        let rendered = client
            .get(a.url(&format!(
                "/v1/packs/crashy/tags/{version}/render?cloudType=aws"
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(
            rendered.status(),
            200,
            "{version} is visible but incomplete"
        );
    }
    drop(a);
    let verified = std::process::Command::new(env!("CARGO_BIN_EXE_packyard"))
        .args(["verify", "--data-dir"])
        .arg(&data_a)
        .args(["--database-url", &database_url])
        .args(["--blob-store", &location, "--s3-endpoint", &s3.endpoint])
        .envs(ENV)
        .output()
        .unwrap();
    assert!(
        verified.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verified.stdout),
        String::from_utf8_lossy(&verified.stderr)
    );
    eprintln!(
        "killed a replica after {} acknowledged publishes; verify clean",
        acknowledged.len()
    );
}
