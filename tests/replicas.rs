//! Two `packyard serve` processes on one PostgreSQL database and one S3 bucket behave as one
//! registry: writes through one are visible through the other at once, cached tag resolutions
//! move, concurrent publishes of one version have exactly one winner, a killed replica leaves
//! nothing half-visible, and `gc` running beside publishing replicas never takes a blob from an
//! acknowledged publish. Always on PostgreSQL (the suite's own, or the one ./test starts when the
//! suite runs on SQLite).

mod common;

use common::packs::TestPack;
use common::process::ServerProcess;
use common::{ADMIN_TOKEN, digest_of, postgres_database_url, remote};

const ENV: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "packyard-test"),
    ("AWS_SECRET_ACCESS_KEY", "packyard-test"),
    ("AWS_REGION", "us-east-1"),
];

/// One fresh PostgreSQL database and one fresh bucket (on moto's server), as replicas share them.
struct SharedStorage {
    dir: tempfile::TempDir,
    database_url: String,
    #[cfg_attr(not(feature = "fault-injection"), allow(dead_code))] // Used by the gc test.
    bucket: String,
    location: String,
    endpoint: String,
}

impl SharedStorage {
    async fn new() -> SharedStorage {
        let database_url = postgres_database_url().await;
        let s3 = common::s3::server().await;
        let bucket = s3.bucket().await;
        SharedStorage {
            dir: tempfile::tempdir().unwrap(),
            database_url,
            location: format!("s3://{bucket}/registry"),
            bucket,
            endpoint: s3.endpoint.clone(),
        }
    }

    /// The storage flags every command takes.
    fn storage_args(&self) -> [&str; 4] {
        [
            "--blob-store",
            &self.location,
            "--s3-endpoint",
            &self.endpoint,
        ]
    }

    /// A replica named `name` (its own staging directory and log).
    async fn start(&self, name: &str) -> ServerProcess {
        self.start_with(name, &[]).await
    }

    async fn start_with(&self, name: &str, extra_args: &[&str]) -> ServerProcess {
        let mut args = vec![
            "--admin-token",
            ADMIN_TOKEN,
            "--registry-uid",
            "shared-registry",
        ];
        args.extend(self.storage_args());
        args.extend(extra_args);
        let data = self.dir.path().join(name);
        let log = self.dir.path().join(format!("{name}.log"));
        ServerProcess::start_with_env(&data, Some(&self.database_url), &args, &log, &ENV).await
    }

    /// Runs `packyard <command> ...` against the shared storage, as an operator's CronJob would.
    async fn admin(&self, command: &[&str]) -> std::process::Output {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_packyard"))
            .args(command)
            .arg("--data-dir")
            .arg(self.dir.path().join("admin"))
            .args(["--database-url", &self.database_url])
            .args(self.storage_args())
            .envs(ENV)
            .output()
            .await
            .unwrap()
    }

    #[cfg_attr(not(feature = "fault-injection"), allow(dead_code))] // Used by the gc test.
    /// Whether the object holding `content` is in the bucket, asked of the S3 server directly (no
    /// replica, no cache in between).
    async fn holds_object(&self, content: &[u8]) -> bool {
        let hex = common::sha256_hex(content);
        let key = object_store::path::Path::from(format!("registry/sha256/{}/{hex}", &hex[..2]));
        let store = common::s3::server().await.store(&self.bucket);
        match object_store::ObjectStoreExt::head(&store, &key).await {
            Ok(_) => true,
            Err(object_store::Error::NotFound { .. }) => false,
            Err(error) => panic!("HEAD {key}: {error}"),
        }
    }

    /// `packyard verify` passes.
    async fn assert_verified(&self) {
        let verified = self.admin(&["verify"]).await;
        assert!(
            verified.status.success(),
            "{}{}",
            String::from_utf8_lossy(&verified.stdout),
            String::from_utf8_lossy(&verified.stderr)
        );
    }
}

struct Replicas {
    _storage: SharedStorage,
    a: ServerProcess,
    b: ServerProcess,
}

async fn replicas() -> Replicas {
    let storage = SharedStorage::new().await;
    let a = storage.start("a").await;
    let b = storage.start("b").await;
    Replicas {
        _storage: storage,
        a,
        b,
    }
}

async fn publish(server: &ServerProcess, pack: &TestPack) -> u16 {
    remote::publish(&server.base_url, "", pack.archive())
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
    // Keep the storage (and so the replicas' staging areas) alive to the end.
    let Replicas {
        _storage: _keep,
        a,
        b,
    } = replicas().await;
    let client = reqwest::Client::new();

    // B caches a resolution of 1.x, then A publishes a newer 1.x: B answers with it at once.
    assert_eq!(publish(&a, &TestPack::new("demo", "1.0.0")).await, 201);
    assert_eq!(resolved(&b, "1.x").await, "1.0.0");
    assert_eq!(resolved(&b, "1.x").await, "1.0.0");
    let entity_url = "/v1/packs/demo/registries/shared-registry";
    let before: serde_json::Value = remote::get_json(&b.url(entity_url)).await;
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
    let after: serde_json::Value = remote::get_json(&b.url(entity_url)).await;
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
    for round in 0..10u32 {
        let (writer, reader) = if round.is_multiple_of(2) {
            (&a, &b)
        } else {
            (&b, &a)
        };
        let (state, listed) = if round.is_multiple_of(2) {
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
        let entity: serde_json::Value = remote::get_json(&reader.url(entity_url)).await;
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
    let storage = SharedStorage::new().await;
    // Both start at once on an empty database.
    let (a, mut b) = tokio::join!(storage.start("a"), storage.start("b"));

    // B publishes in a loop; it is killed mid-stream.
    let base = b.base_url.clone();
    let first_acknowledged = std::sync::Arc::new(tokio::sync::Notify::new());
    let signal = first_acknowledged.clone();
    let publisher = tokio::spawn(async move {
        let mut acknowledged = Vec::new();
        for n in 0.. {
            let version = format!("1.0.{n}");
            let archive = TestPack::new("crashy", &version)
                .file("files/data.bin", remote::noise(n, 200_000))
                .archive();
            let sent = remote::publish(&base, "", archive).await;
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
    let entity: serde_json::Value =
        remote::get_json(&a.url("/v1/packs/crashy/registries/shared-registry")).await;
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
    storage.assert_verified().await;
    eprintln!(
        "killed a replica after {} acknowledged publishes; verify clean",
        acknowledged.len()
    );
}

#[cfg_attr(not(feature = "fault-injection"), allow(dead_code))] // Used by the gc test.
/// A churn round's pack and its logo. Each version has its own pair of logos and uses them in turn,
/// so each logo loses its last reference and is wanted again two rounds later; every third round
/// adds a unique README (so a unique archive), which the next replace leaves to gc.
fn churn_pack(version: &str, round: usize) -> (TestPack, Vec<u8>) {
    let mut logo = common::packs::TINY_PNG.to_vec();
    logo.extend(version.as_bytes());
    logo.push(if round.is_multiple_of(2) { b'x' } else { b'y' });
    let pack = TestPack::new("churn", version).file("logo.png", &logo);
    let pack = if round.is_multiple_of(3) {
        pack.file(
            "README.md",
            format!("# churn\n\n{version}, round {round}\n"),
        )
    } else {
        pack
    };
    (pack, logo)
}

/// `packyard gc` (5 s grace) runs over and over while both replicas force-replace versions. Each
/// publish pauses 2 s between storing its blobs and recording its version (a fault-injection
/// flag), and the rounds are timed so that a logo last referenced two rounds ago turns collectable
/// inside that pause: exactly when gc would remove it from under the publish if the publish had not
/// claimed it first. Every acknowledged publish must stay whole: its logo is in the bucket (read
/// from S3 directly, past every cache), it downloads and renders through the other replica. gc
/// must remove garbage meanwhile (the unique archives), and `verify` passes at the end.
#[cfg(feature = "fault-injection")]
#[tokio::test]
async fn gc_is_safe_while_replicas_publish() {
    // The grace leaves 3 s of slack over the pause, for slow machines: a publish that took longer
    // than the grace between claiming a blob and recording its version could lose it by design.
    const GRACE_SECS: &str = "5";
    const PAUSE: &str = "2000";
    // Y's round takes the pause plus a little; two dwells of 0.9 s put X's next claim about 4 s
    // after its logo's last reference, so the logo turns collectable (at 5 s) during the pause.
    const DWELL: std::time::Duration = std::time::Duration::from_millis(900);
    let storage = std::sync::Arc::new(SharedStorage::new().await);
    let pause = ["--fault-publish-pause-ms", PAUSE];
    let (a, b) = tokio::join!(
        storage.start_with("a", &pause),
        storage.start_with("b", &pause)
    );
    let publishing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));

    let collector = {
        let storage = storage.clone();
        let publishing = publishing.clone();
        tokio::spawn(async move {
            let mut removed = 0;
            let mut runs = 0;
            while publishing.load(std::sync::atomic::Ordering::SeqCst) {
                let gc = storage.admin(&["gc", "--grace-secs", GRACE_SECS]).await;
                let stdout = String::from_utf8_lossy(&gc.stdout).into_owned();
                assert!(
                    gc.status.success(),
                    "{stdout}{}",
                    String::from_utf8_lossy(&gc.stderr)
                );
                removed += stdout
                    .lines()
                    .filter(|l| l.starts_with("removed blob"))
                    .count();
                runs += 1;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            (runs, removed)
        })
    };

    // Each replica churns its own version; each checks what it published through the other.
    let churn = |writer: String, reader: String, version: &'static str| {
        let storage = storage.clone();
        async move {
            let client = reqwest::Client::new();
            for round in 0..6 {
                let (pack, logo) = churn_pack(version, round);
                let query = format!("force=true&message=churn%20round%20{round}");
                let published = remote::publish(&writer, &query, pack.archive())
                    .await
                    .unwrap();
                assert_eq!(published.status(), 201, "{version} round {round}");
                assert!(
                    storage.holds_object(&logo).await,
                    "{version} round {round}: an acknowledged publish's logo is not in the bucket"
                );
                let downloaded = client
                    .get(format!("{reader}/v1/churn/blobs/{}", digest_of(&logo)))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(downloaded.status(), 200, "{version} round {round}: logo");
                assert_eq!(downloaded.bytes().await.unwrap(), logo);
                let rendered = client
                    .get(format!(
                        "{reader}/v1/packs/churn/tags/{version}/render?cloudType=aws"
                    ))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(rendered.status(), 200, "{version} round {round}: render");
                tokio::time::sleep(DWELL).await;
            }
        }
    };
    tokio::join!(
        churn(a.base_url.clone(), b.base_url.clone(), "1.0.0"),
        churn(b.base_url.clone(), a.base_url.clone(), "2.0.0"),
    );
    publishing.store(false, std::sync::atomic::Ordering::SeqCst);
    let (runs, removed) = collector.await.unwrap();
    assert!(
        removed >= 1,
        "gc removed nothing in {runs} runs: the test proved nothing"
    );
    storage.assert_verified().await;
    eprintln!(
        "gc ran {runs} times beside the publishes and removed {removed} blob(s); verify clean"
    );
}
