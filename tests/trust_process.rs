//! Trust through the real binary on 127.0.0.1: the token commands, secrets kept out of logs, slow
//! clients cut off, SIGKILL in the middle of publishes and uploads, `verify` and `gc`.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use base64::Engine;
use common::packs::TestPack;
use common::process::{Setup, run_packyard};
use common::{ADMIN_TOKEN, TestRegistry, digest_of, files_under, remote};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn upload_dir_entries(data_dir: &Path) -> usize {
    std::fs::read_dir(data_dir.join("blobs").join("_uploads"))
        .map(|entries| entries.count())
        .unwrap_or(0)
}

#[tokio::test]
async fn token_commands_print_a_token_once_and_keep_only_its_hash() {
    let setup = Setup::new().await;
    // The database exists once a server has started on it.
    let server = setup.start("first.log", &[]).await;
    let created = setup.command(&["token", "create", "--name", "ci", "--scope", "write"]);
    assert!(created.status.success(), "{}", text(&created.stderr));
    let token = text(&created.stdout).trim().to_owned();
    assert!(token.starts_with("pky_") && token.len() > 40, "{token}");

    let duplicate = setup.command(&["token", "create", "--name", "ci", "--scope", "read"]);
    assert!(!duplicate.status.success());
    assert!(text(&duplicate.stderr).contains("already exists"));
    let bad_scope = setup.command(&["token", "create", "--name", "x", "--scope", "root"]);
    assert!(!bad_scope.status.success());

    let listed = setup.command(&["token", "list"]);
    assert!(listed.status.success());
    let listing = text(&listed.stdout);
    assert!(
        listing.contains("ci\twrite") && listing.contains("active"),
        "{listing}"
    );
    assert!(!listing.contains(&token));
    if setup.database_url.is_none() {
        // Neither the database file nor its write-ahead log holds the token in clear.
        for file in files_under(&setup.data_dir()) {
            let bytes = std::fs::read(&file).unwrap();
            assert!(
                !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
                "{} contains the token",
                file.display()
            );
        }
    }

    // The token works against the server, then stops working once revoked.
    let client = reqwest::Client::new();
    let content = b"uploaded with a CLI token".to_vec();
    let put = |content: Vec<u8>| {
        client
            .put(server.url(&format!("/v1/demo/blobs/{}", digest_of(&content))))
            .bearer_auth(&token)
            .body(content)
            .send()
    };
    assert_eq!(put(content).await.unwrap().status(), 201);
    let revoked = setup.command(&["token", "revoke", "--name", "ci"]);
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    assert!(text(&setup.command(&["token", "list"]).stdout).contains("revoked"));
    assert!(
        !setup
            .command(&["token", "revoke", "--name", "ci"])
            .status
            .success()
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(put(b"after revoke".to_vec()).await.unwrap().status(), 401);
}

#[tokio::test]
async fn secrets_never_reach_the_log() {
    let setup = Setup::new().await;
    let dir = setup.dir.path();
    let password = "hunter2-palette";
    let hash = bcrypt::hash(password, 4).unwrap();
    std::fs::write(dir.join("htpasswd"), format!("sync:{hash}\n")).unwrap();
    let htpasswd = dir.join("htpasswd").to_string_lossy().into_owned();
    let server = setup.start("server.log", &["--htpasswd", &htpasswd]).await;
    let created = setup.command(&["token", "create", "--name", "logs", "--scope", "admin"]);
    let token = text(&created.stdout).trim().to_owned();
    assert!(!text(&created.stderr).contains(&token));

    let client = reqwest::Client::new();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("sync:{password}"));
    let wrong_basic = base64::engine::general_purpose::STANDARD.encode("sync:wrong-password-9");
    let mut statuses = Vec::new();
    for authorization in [
        format!("Bearer {token}"),
        format!("Bearer {ADMIN_TOKEN}"),
        "Bearer pky_wrong-token-value-77".to_owned(),
        format!("Basic {basic}"),
        format!("Basic {wrong_basic}"),
    ] {
        let content = format!("logged request {authorization}").into_bytes();
        let response = client
            .put(server.url(&format!("/v1/demo/blobs/{}", digest_of(&content))))
            .header("authorization", &authorization)
            .body(content)
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [201, 201, 401, 201, 401]);
    let log = server.log_containing("/v1/{pack}/blobs/{*digest}").await;
    assert!(
        log.contains("/v1/{pack}/blobs/{*digest}"),
        "the requests are logged: {log}"
    );
    for secret in [
        token.as_str(),
        ADMIN_TOKEN,
        "pky_wrong-token-value-77",
        password,
        "wrong-password-9",
        basic.as_str(),
        wrong_basic.as_str(),
        hash.as_str(),
    ] {
        assert!(
            !log.contains(secret),
            "the log contains a secret ({secret})"
        );
    }
    assert!(!log.to_lowercase().contains("authorization:"));
}

/// Sends `head` and then the body one byte a second; returns what the server answered and when.
fn trickle(address: &str, head: &str, body_bytes: usize) -> (String, Duration) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = Vec::new();
    for _ in 0..body_bytes {
        if stream.write_all(b"x").is_err() {
            break;
        }
        let mut buffer = [0u8; 4096];
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                answer.extend_from_slice(&buffer[..n]);
                break;
            }
            Err(_) => {}
        }
        std::thread::sleep(Duration::from_millis(800));
        if started.elapsed() > Duration::from_secs(20) {
            break;
        }
    }
    (text(&answer), started.elapsed())
}

#[tokio::test]
async fn slow_clients_are_cut_off() {
    let setup = Setup::new().await;
    let server = setup
        .start(
            "server.log",
            &[
                "--min-body-rate",
                "1024",
                "--slow-body-grace-secs",
                "2",
                "--header-timeout-secs",
                "2",
            ],
        )
        .await;
    let address = server.base_url.trim_start_matches("http://").to_owned();

    // A body at one byte a second: refused with 408 after the grace period, nothing stored.
    let digest = digest_of(&[b'x'; 100]);
    let head = format!(
        "PUT /v1/demo/blobs/{digest} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\nContent-Length: 100\r\n\r\n"
    );
    let (answer, took) = tokio::task::spawn_blocking({
        let address = address.clone();
        move || trickle(&address, &head, 100)
    })
    .await
    .unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 408"),
        "{answer:?} after {took:?}"
    );
    assert!(answer.contains("REQUEST_TIMEOUT"));
    assert!(took < Duration::from_secs(10), "{took:?}");
    let status = reqwest::get(server.url(&format!("/v1/demo/blobs/{digest}")))
        .await
        .unwrap()
        .status();
    assert_eq!(status, 404);

    // Headers that never finish: the connection is closed after the header timeout.
    let (answer, took) = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let mut stream = TcpStream::connect(&address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(15)))
            .unwrap();
        stream
            .write_all(b"GET /v1/_catalog HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        (text(&answer), started.elapsed())
    })
    .await
    .unwrap();
    assert!(
        took < Duration::from_secs(8),
        "still open after {took:?}: {answer:?}"
    );
    assert!(!answer.contains("200 OK"), "{answer:?}");

    // An idle keep-alive connection is closed after the same time.
    let address = server.base_url.trim_start_matches("http://").to_owned();
    let (first, idle) = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(&address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(15)))
            .unwrap();
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut buffer = [0u8; 4096];
        let n = stream.read(&mut buffer).unwrap();
        let started = Instant::now();
        let closed = stream.read(&mut buffer).map(|n| n == 0).unwrap_or(false);
        assert!(closed, "the idle connection was not closed");
        (text(&buffer[..n]), started.elapsed())
    })
    .await
    .unwrap();
    assert!(first.starts_with("HTTP/1.1 200"), "{first:?}");
    assert!(
        idle < Duration::from_secs(8),
        "idle connection open for {idle:?}"
    );
}

/// What a client was told succeeded before the crash.
#[derive(Debug, Clone)]
enum Acknowledged {
    Publish { name: String, archive: Vec<u8> },
    Blob { content: Vec<u8> },
}

async fn publish_until_killed(
    base: String,
    round: usize,
    worker: usize,
    acked: Arc<Mutex<Vec<Acknowledged>>>,
) {
    for n in 0.. {
        let name = format!("crash-{round}-{worker}-{n}");
        // A few hundred KB each, so a kill often lands mid-publish.
        let archive = TestPack::new(&name, "1.0.0")
            .file("files/data.bin", remote::noise(n, 300_000))
            .archive();
        let sent = remote::publish(&base, "", archive.clone()).await;
        match sent {
            Ok(response) if response.status().is_success() => {
                acked
                    .lock()
                    .unwrap()
                    .push(Acknowledged::Publish { name, archive });
            }
            _ => return,
        }
    }
}

async fn upload_until_killed(
    base: String,
    round: usize,
    worker: usize,
    acked: Arc<Mutex<Vec<Acknowledged>>>,
) {
    let client = reqwest::Client::new();
    for n in 0u32.. {
        let content: Vec<u8> = format!("blob {round} {worker} {n} ")
            .into_bytes()
            .into_iter()
            .cycle()
            .take(1_000_000)
            .collect();
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
            content.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
        // Streamed in pieces with pauses, so a kill lands mid-upload.
        let body =
            futures_util::StreamExt::then(futures_util::stream::iter(chunks), |chunk| async move {
                tokio::time::sleep(Duration::from_millis(5)).await;
                chunk
            });
        let sent = client
            .put(format!(
                "{base}/v1/crash-blobs/blobs/{}",
                digest_of(&content)
            ))
            .bearer_auth(ADMIN_TOKEN)
            .body(reqwest::Body::wrap_stream(body))
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => {
                acked.lock().unwrap().push(Acknowledged::Blob { content });
            }
            _ => return,
        }
    }
}

#[tokio::test]
async fn sigkill_mid_publish_loses_nothing_acknowledged_and_leaves_nothing_half_done() {
    let setup = Setup::new().await;
    let acked: Arc<Mutex<Vec<Acknowledged>>> = Arc::default();
    let mut leftovers_seen = 0;
    let kill_after_ms = [40u64, 120, 250, 400, 700];
    for (round, delay) in kill_after_ms.iter().enumerate() {
        let mut server = setup.start(&format!("round-{round}.log"), &[]).await;
        let mut workers = Vec::new();
        for worker in 0..3 {
            workers.push(tokio::spawn(publish_until_killed(
                server.base_url.clone(),
                round,
                worker,
                acked.clone(),
            )));
            workers.push(tokio::spawn(upload_until_killed(
                server.base_url.clone(),
                round,
                worker,
                acked.clone(),
            )));
        }
        tokio::time::sleep(Duration::from_millis(*delay)).await;
        server.kill_hard();
        for worker in workers {
            worker.await.unwrap();
        }
        leftovers_seen += upload_dir_entries(&setup.data_dir());
    }

    // Restart: temporary files are gone, every acknowledged write is whole.
    let server = setup.start("after.log", &[]).await;
    assert_eq!(
        upload_dir_entries(&setup.data_dir()),
        0,
        "temporary uploads were not cleaned"
    );
    let acked = acked.lock().unwrap().clone();
    let publishes = acked
        .iter()
        .filter(|a| matches!(a, Acknowledged::Publish { .. }))
        .count();
    let blobs = acked.len() - publishes;
    assert!(
        publishes > 0 && blobs > 0,
        "nothing was acknowledged: {publishes} publishes, {blobs} blobs"
    );
    eprintln!(
        "{} kills survived; {publishes} acknowledged publishes and {blobs} acknowledged uploads checked; \
         {leftovers_seen} temporary upload files found after the kills",
        kill_after_ms.len()
    );
    let client = reqwest::Client::new();
    for entry in &acked {
        match entry {
            Acknowledged::Blob { content } => {
                let url = server.url(&format!("/v1/crash-blobs/blobs/{}", digest_of(content)));
                let body = client.get(url).send().await.unwrap().bytes().await.unwrap();
                assert!(
                    body.as_ref() == content.as_slice(),
                    "an acknowledged blob is not whole"
                );
            }
            Acknowledged::Publish { name, archive } => {
                // The stored archive is the one the client sent.
                let overview: serde_json::Value =
                    remote::get_json(&server.url(&format!("/v1/packs/{name}/tags/1.0.0/overview")))
                        .await;
                let digests: Vec<&str> = overview["blobs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|b| b["digest"].as_str())
                    .collect();
                assert!(
                    digests.contains(&digest_of(archive).as_str()),
                    "{name}: {digests:?}"
                );
                let rendered = client
                    .get(server.url(&format!("/v1/packs/{name}/tags/1.0.0/render?cloudType=aws")))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(
                    rendered.status(),
                    200,
                    "acknowledged {name} does not render"
                );
            }
        }
    }
    // Whatever is visible is complete: every listed pack's version renders and its blobs download.
    let catalog: serde_json::Value = remote::get_json(&server.url("/v1/_catalog?n=1000")).await;
    let mut visible_packs = 0;
    for name in catalog["repositories"].as_array().unwrap() {
        let name = name.as_str().unwrap();
        if !name.starts_with("crash-") || name == "crash-blobs" {
            continue;
        }
        visible_packs += 1;
        let version = client
            .get(server.url(&format!("/v1/packs/{name}/tags/1.0.0/overview")))
            .send()
            .await
            .unwrap();
        assert_eq!(version.status(), 200, "{name} is listed but incomplete");
        let overview: serde_json::Value = version.json().await.unwrap();
        for blob in overview["blobs"].as_array().unwrap() {
            let url = blob["url"].as_str().unwrap();
            let status = client.get(server.url(url)).send().await.unwrap().status();
            assert_eq!(status, 200, "{name}: {url}");
        }
    }
    assert!(visible_packs >= publishes);
    drop(server);
    let verified = setup.command(&["verify"]);
    assert!(
        verified.status.success(),
        "verify after the crashes: {}{}",
        text(&verified.stdout),
        text(&verified.stderr)
    );
}

#[tokio::test]
async fn verify_finds_a_corrupted_blob_and_a_missing_one() {
    let registry = TestRegistry::new().await;
    registry.publish_ok(&TestPack::new("demo", "1.0.0")).await;
    let data_dir = registry.config.storage.data_dir.clone();
    let database_url = registry.config.storage.database_url.clone();
    let verify = || run_packyard(&["verify"], &data_dir, database_url.as_deref());
    let clean = verify();
    assert!(clean.status.success(), "{}", text(&clean.stdout));
    assert!(text(&clean.stdout).contains("no problems"));

    let files = registry.blob_files();
    assert!(files.len() >= 2, "{files:?}");
    // Flip one byte of one blob, delete another.
    let mut corrupted = std::fs::read(&files[0]).unwrap();
    corrupted[0] ^= 0xff;
    std::fs::write(&files[0], corrupted).unwrap();
    std::fs::remove_file(&files[1]).unwrap();
    let broken = verify();
    assert!(!broken.status.success());
    let report = text(&broken.stdout);
    let name_of = |path: &PathBuf| path.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        report
            .lines()
            .any(|l| l.contains("corrupted") && l.contains(&name_of(&files[0]))),
        "{report}"
    );
    assert!(
        report
            .lines()
            .any(|l| l.contains("missing") && l.contains(&name_of(&files[1]))),
        "{report}"
    );
}

#[tokio::test]
async fn gc_removes_only_what_nothing_references() {
    let registry = TestRegistry::new().await;
    // Incompressible filler: the archives are larger than the in-memory content cache takes, so
    // a removed one can only be served from disk.
    let filler = remote::noise(1, 1_200_000);
    let first = TestPack::new("demo", "1.0.0").file("files/big.bin", &filler);
    registry.publish_ok(&first).await;
    let first_archive = format!("/v1/demo/blobs/{}", digest_of(&first.archive()));
    let uploaded = b"uploaded on its own, referenced by its pack".to_vec();
    assert_eq!(
        registry.put_blob("demo", &uploaded).await.status,
        StatusCode::CREATED
    );
    let before = registry.stored_digests().await;
    // A forced replace leaves the first archive unreferenced.
    let replaced = registry
        .publish_with(
            "force=true&message=fix+the+readme",
            TestPack::new("demo", "1.0.0")
                .file("files/big.bin", &filler)
                .file("README.md", "# demo\n\nFixed.\n")
                .archive(),
        )
        .await;
    assert!(replaced.status.is_success(), "{}", text(&replaced.body));
    let after_replace = registry.stored_digests().await;
    assert!(
        before.iter().all(|d| after_replace.contains(d)),
        "blobs stay until gc"
    );

    let data_dir = registry.config.storage.data_dir.clone();
    let database_url = registry.config.storage.database_url.clone();
    let gc = |grace: &str| {
        run_packyard(
            &["gc", "--grace-secs", grace],
            &data_dir,
            database_url.as_deref(),
        )
    };
    // Within the grace period nothing goes, so an in-flight publish never loses a blob.
    let kept = gc("3600");
    assert!(kept.status.success(), "{}", text(&kept.stderr));
    assert_eq!(registry.stored_digests().await, after_replace);

    // The server has the old archive's record cached when gc removes it.
    assert_eq!(registry.get(&first_archive).await.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let collected = gc("0");
    assert!(collected.status.success(), "{}", text(&collected.stderr));
    let remaining = registry.stored_digests().await;
    let removed: Vec<&String> = after_replace
        .iter()
        .filter(|d| !remaining.contains(d))
        .collect();
    assert_eq!(
        removed.len(),
        1,
        "exactly the replaced archive goes: {}",
        text(&collected.stdout)
    );
    assert!(text(&collected.stdout).contains(removed[0].as_str()));
    assert_eq!(first_archive, format!("/v1/demo/blobs/{}", removed[0]));
    // The removed blob is a plain 404 (not a 500 from a stale cache), twice in a row.
    for _ in 0..2 {
        let gone = registry.get(&first_archive).await;
        assert_eq!(gone.error_code(StatusCode::NOT_FOUND), "BLOB_UNKNOWN");
    }
    // Everything the current version and the pack reference still downloads.
    assert!(remaining.contains(&digest_of(&uploaded)));
    for digest in &remaining {
        let response = registry.get(&format!("/v1/demo/blobs/{digest}")).await;
        assert_eq!(response.status, StatusCode::OK, "{digest}");
    }
    let rendered = registry
        .get("/v1/packs/demo/tags/1.0.0/render?cloudType=aws")
        .await;
    assert_eq!(rendered.status, StatusCode::OK);
    let verified = run_packyard(&["verify"], &data_dir, database_url.as_deref());
    assert!(verified.status.success(), "{}", text(&verified.stdout));

    // Publishing the collected content again claims and stores it anew: it downloads whole.
    let restored = registry
        .publish_with("force=true&message=back+to+the+first", first.archive())
        .await;
    assert!(restored.status.is_success(), "{}", text(&restored.body));
    let again = registry.get(&first_archive).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.body.as_ref() == first.archive().as_slice());
    let verified = run_packyard(&["verify"], &data_dir, database_url.as_deref());
    assert!(verified.status.success(), "{}", text(&verified.stdout));
}
