//! The real `packyard serve` binary on 127.0.0.1: restarts, graceful shutdown, request logs,
//! aborted uploads and memory use while streaming a large blob.

mod common;

use std::io::Write;
use std::time::Duration;

use bytes::Bytes;
use common::process::{ServerProcess, Setup};
use common::{ADMIN_TOKEN, digest_of};
use futures_util::StreamExt;

async fn upload(server: &ServerProcess, pack: &str, content: Vec<u8>) -> reqwest::Response {
    reqwest::Client::new()
        .put(server.url(&format!("/v1/{pack}/blobs/{}", digest_of(&content))))
        .bearer_auth(ADMIN_TOKEN)
        .body(content)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn data_survives_a_restart() {
    let setup = Setup::new().await;
    let content = b"kept across restarts".to_vec();
    let digest = digest_of(&content);
    let mut first = setup.start("first.log", &[]).await;
    assert_eq!(
        upload(&first, "cni-calico", content.clone()).await.status(),
        201
    );
    first.terminate();
    assert!(first.wait(Duration::from_secs(30)).await.success());

    let second = setup.start("second.log", &[]).await;
    let response = reqwest::get(second.url(&format!("/v1/cni-calico/blobs/{digest}")))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.bytes().await.unwrap(), Bytes::from(content));
    let catalog: serde_json::Value = reqwest::get(second.url("/v1/_catalog"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(catalog["repositories"], serde_json::json!(["cni-calico"]));
}

#[tokio::test]
async fn sigterm_lets_an_in_flight_upload_finish() {
    let setup = Setup::new().await;
    let mut server = setup.start("server.log", &[]).await;
    let content: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    let digest = digest_of(&content);

    // A slow upload: ten chunks, 100 ms apart; SIGTERM arrives after the first.
    let chunks: Vec<Bytes> = content.chunks(20_000).map(Bytes::copy_from_slice).collect();
    let body = futures_util::stream::iter(chunks).then(|chunk| async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        Ok::<_, std::io::Error>(chunk)
    });
    let url = server.url(&format!("/v1/cni-calico/blobs/{digest}"));
    let upload = tokio::spawn(async move {
        reqwest::Client::new()
            .put(url)
            .bearer_auth(ADMIN_TOKEN)
            .body(reqwest::Body::wrap_stream(body))
            .send()
            .await
            .map(|response| response.status().as_u16())
    });
    tokio::time::sleep(Duration::from_millis(250)).await;
    server.terminate();
    assert_eq!(upload.await.unwrap().unwrap(), 201);
    assert!(server.wait(Duration::from_secs(30)).await.success());
    assert!(server.log().contains("SIGTERM received"));

    let restarted = setup.start("restarted.log", &[]).await;
    let stored = reqwest::get(restarted.url(&format!("/v1/cni-calico/blobs/{digest}")))
        .await
        .unwrap();
    assert_eq!(stored.bytes().await.unwrap().len(), content.len());
}

#[tokio::test]
async fn each_request_is_logged_once_without_secrets() {
    let setup = Setup::new().await;
    let mut server = setup.start("server.log", &[]).await;
    let content = b"logged".to_vec();
    assert_eq!(
        upload(&server, "cni-calico", content.clone())
            .await
            .status(),
        201
    );
    let denied = reqwest::Client::new()
        .put(server.url(&format!("/v1/cni-calico/blobs/{}", digest_of(b"x"))))
        .bearer_auth("a-wrong-secret-token")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 401);
    server.terminate();
    server.wait(Duration::from_secs(30)).await;

    let log = server.log();
    assert!(
        !log.contains(ADMIN_TOKEN),
        "the admin token reached the log"
    );
    assert!(
        !log.contains("a-wrong-secret-token"),
        "a presented token reached the log"
    );
    let requests: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|event| event["target"] == "packyard::http")
        .collect();
    // Method, route and request id are the request span's; status and latency the event's.
    let puts: Vec<&serde_json::Value> = requests
        .iter()
        .filter(|event| event["span"]["method"] == "PUT")
        .collect();
    assert_eq!(puts.len(), 2, "{requests:?}");
    assert_eq!(puts[0]["span"]["route"], "/v1/{pack}/blobs/{*digest}");
    assert_eq!(puts[0]["status"], 201);
    assert!(puts[0]["latency_ms"].as_f64().is_some());
    assert_eq!(puts[1]["status"], 401);
    let ids: std::collections::HashSet<&str> = requests
        .iter()
        .filter_map(|event| event["span"]["request_id"].as_str())
        .collect();
    assert_eq!(
        ids.len(),
        requests.len(),
        "one request id per request: {requests:?}"
    );
}

#[tokio::test]
async fn an_aborted_upload_leaves_nothing_behind() {
    let setup = Setup::new().await;
    let server = setup.start("server.log", &[]).await;
    let address = server.base_url.trim_start_matches("http://").to_owned();
    let digest = digest_of(b"never completes");
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "PUT /v1/cni-calico/blobs/{digest} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\nContent-Length: 1000000\r\n\r\n"
    )
    .unwrap();
    stream.write_all(&[7u8; 300_000]).unwrap();
    stream.flush().unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(stream);

    let uploads = setup.dir.path().join("data/blobs/_uploads");
    let mut leftovers = usize::MAX;
    for _ in 0..100 {
        leftovers = std::fs::read_dir(&uploads).unwrap().count();
        if leftovers == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(leftovers, 0, "an aborted upload left a temporary file");
    let status = reqwest::get(server.url(&format!("/v1/cni-calico/blobs/{digest}")))
        .await
        .unwrap()
        .status();
    assert_eq!(status, 404);
}

const GIB: u64 = 1 << 30;
const MEMORY_BUDGET_KIB: u64 = 64 * 1024;

/// A deterministic 1 GiB body, generated chunk by chunk, and its digest.
fn large_body(
    size: u64,
) -> (
    impl futures_util::Stream<Item = Result<Bytes, std::io::Error>>,
    String,
) {
    const CHUNK: u64 = 1 << 20;
    let chunk_bytes = |index: u64| -> Bytes {
        let seed = (index as u8).wrapping_mul(37);
        Bytes::from(vec![seed; CHUNK as usize])
    };
    let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
    for index in 0..size / CHUNK {
        sha2::Digest::update(&mut hasher, chunk_bytes(index));
    }
    let digest = format!("sha256:{}", hex::encode(sha2::Digest::finalize(hasher)));
    let stream =
        futures_util::stream::iter(0..size / CHUNK).map(move |index| Ok(chunk_bytes(index)));
    (stream, digest)
}

#[tokio::test]
async fn a_one_gib_blob_streams_through_in_bounded_memory() {
    let setup = Setup::new().await;
    let server = setup.start("server.log", &[]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (idle_kib, _) = server.memory_kib();
    server.reset_peak_memory();

    let (body, digest) = large_body(GIB);
    let response = reqwest::Client::new()
        .put(server.url(&format!("/v1/big-pack/blobs/{digest}")))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-length", GIB.to_string())
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let (_, peak_upload_kib) = server.memory_kib();

    let download = reqwest::get(server.url(&format!("/v1/big-pack/blobs/{digest}")))
        .await
        .unwrap();
    assert_eq!(download.status(), 200);
    let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
    let mut received = 0u64;
    let mut stream = download.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        received += chunk.len() as u64;
        sha2::Digest::update(&mut hasher, &chunk);
    }
    assert_eq!(received, GIB);
    assert_eq!(
        format!("sha256:{}", hex::encode(sha2::Digest::finalize(hasher))),
        digest
    );
    let (_, peak_kib) = server.memory_kib();

    eprintln!(
        "1 GiB blob: idle RSS {idle_kib} KiB, peak during upload {peak_upload_kib} KiB, peak overall {peak_kib} KiB, {} KiB above idle",
        peak_kib.saturating_sub(idle_kib)
    );
    assert!(
        peak_kib.saturating_sub(idle_kib) < MEMORY_BUDGET_KIB,
        "peak RSS {peak_kib} KiB is more than 64 MiB above idle ({idle_kib} KiB)"
    );
}

/// Connections are served by `--http-workers` event-loop threads, each with its own listening
/// socket on the one port (SO_REUSEPORT); another server started on that port is refused rather
/// than quietly sharing it.
#[tokio::test]
async fn http_workers_share_one_port_that_no_other_server_can_join() {
    let setup = Setup::new().await;
    let mut server = setup.start("server.log", &["--http-workers", "3"]).await;
    let threads: Vec<String> = std::fs::read_dir(format!("/proc/{}/task", server.pid()))
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim().to_owned())
        .collect();
    for worker in ["packyard-http-0", "packyard-http-1", "packyard-http-2"] {
        assert!(threads.iter().any(|t| t == worker), "{threads:?}");
    }
    assert!(
        !threads.iter().any(|t| t == "packyard-http-3"),
        "{threads:?}"
    );
    let log = server.log_containing("\"http_workers\":3").await;
    assert!(log.contains("\"http_workers\":3"), "{log}");

    // Many separate connections at once, wherever the kernel puts them, are all answered.
    let requests = (0..24).map(|_| {
        let url = server.url("/health");
        tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .build()
                .unwrap();
            client.get(url).send().await.map(|r| r.status().as_u16())
        })
    });
    for request in requests.collect::<Vec<_>>() {
        assert_eq!(request.await.unwrap().unwrap(), 200);
    }

    let port = server.base_url.rsplit(':').next().unwrap().to_owned();
    let other = tempfile::tempdir().unwrap();
    let second = tokio::process::Command::new(env!("CARGO_BIN_EXE_packyard"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(other.path().join("data"))
        .arg("--packs-dir")
        .arg(other.path().join("no-packs"))
        .env_remove("PACKYARD_DATABASE_URL")
        .kill_on_drop(true)
        .output();
    let second = tokio::time::timeout(Duration::from_secs(60), second)
        .await
        .expect("a second server on a taken port must exit, not serve")
        .unwrap();
    assert!(!second.status.success());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("cannot listen on"), "{stderr}");

    server.terminate();
    assert!(server.wait(Duration::from_secs(30)).await.success());
}
