//! The hostile-client findings of the hardening issue, each replayed against the real binary with
//! its default budgets: memory through /proc/<pid>/status (VmRSS, VmHWM), CPU after an answer
//! through /proc/<pid>/stat, stalled readers through raw sockets that never read.

mod common;

use std::io::Write;
use std::time::Duration;

use common::packs::{RawEntry, TINY_PNG, TestPack, raw_tar_gz};
use common::process::{ServerProcess, Setup};
use common::remote::{noise, publish};
use common::{ADMIN_TOKEN, digest_of};
use serde_json::{Value, json};

fn packs_dir() -> String {
    format!("{}/packs", env!("CARGO_MANIFEST_DIR"))
}

/// A server with the shipped packs loaded.
async fn shipped(setup: &Setup, log: &str, extra: &[&str]) -> ServerProcess {
    let packs = packs_dir();
    let mut args = vec!["--packs-dir", packs.as_str()];
    args.extend_from_slice(extra);
    setup.start(log, &args).await
}

/// CPU seconds the process has used (user + system, every thread).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces) are space-separated.
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

/// `POST .../render` of Calico 3.24.6 for aws with `values`.
async fn render_calico(server: &ServerProcess, values: &str) -> (u16, Value) {
    let response = client()
        .post(server.url("/v1/packs/cni-calico/tags/3.24.6/render"))
        .header("accept", "application/json")
        .json(&json!({"cloudType": "aws", "values": values}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// A values document that puts `macro` in the etcd endpoints (a string the macro step renders).
fn macro_values(macro_text: &str) -> String {
    format!(
        "manifests:\n  calico:\n    etcd:\n      endpoints: '{}'\n",
        macro_text.replace('\'', "''")
    )
}

fn assert_render_limit(status: u16, body: &Value, limit: &str) {
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "RENDER_LIMIT", "{body}");
    assert_eq!(body["limit"], limit, "{body}");
}

#[tokio::test]
async fn one_request_cannot_make_the_server_allocate_without_bound() {
    let setup = Setup::new().await;
    let server = shipped(&setup, "server.log", &[]).await;
    // Warm up (normal renders, each on its own connection, so every HTTP worker thread has served
    // one and set up its allocator heap), then measure the peak from here.
    for _ in 0..8 {
        assert_eq!(render_calico(&server, "").await.0, 200);
    }
    let (idle, _) = server.memory_kib();
    server.reset_peak_memory();
    for attack in [
        // The report's reproductions: a 1 TB indent, a 200 MB indent, 300 MiB from a 190-byte loop.
        "{{ .spectro.system.cloud.type | indent 1000000000000 }}",
        "{{ .spectro.system.cloud.type | indent 200000000 }}",
        "{{ $a := repeat 1048576 \"x\" }}{{ range 300 }}{{ $a }}{{ end }}{{ .spectro.system.cloud.type }}",
        "{{ .spectro.system.cloud.type }}{{ printf \"%999999d\" 1 | repeat 100 }}",
    ] {
        let (status, body) = render_calico(&server, &macro_values(attack)).await;
        assert_render_limit(status, &body, "render-max-output-bytes");
    }
    let (_, peak) = server.memory_kib();
    let grew = peak.saturating_sub(idle) / 1024;
    assert!(
        grew <= 64,
        "peak RSS grew by {grew} MiB (idle {idle} KiB, peak {peak} KiB)"
    );
    // The server is whole: a normal render still works.
    assert_eq!(render_calico(&server, "").await.0, 200);
}

#[tokio::test]
async fn no_cpu_outlives_the_answer() {
    let setup = Setup::new().await;
    let server = shipped(&setup, "server.log", &["--render-timeout-secs", "2"]).await;
    let spin = macro_values("{{ range 100000000000 }}{{ end }}{{ .spectro.system.cloud.type }}");

    // The render's own deadline: 422 naming the limit, and the work has stopped.
    let (status, body) = render_calico(&server, &spin).await;
    assert_render_limit(status, &body, "render-timeout-secs");
    let before = cpu_seconds(server.pid());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = cpu_seconds(server.pid());
    assert!(
        after - before < 0.3,
        "{:.2} CPU seconds after the answer",
        after - before
    );

    // A client that gives up: its render stops too.
    let abandoned = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap()
        .post(server.url("/v1/packs/cni-calico/tags/3.24.6/render"))
        .json(&json!({"cloudType": "aws", "values": spin}))
        .send()
        .await;
    assert!(
        abandoned.is_err(),
        "the spinning render answered within 300 ms"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = cpu_seconds(server.pid());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = cpu_seconds(server.pid());
    assert!(
        after - before < 0.3,
        "{:.2} CPU seconds after the client left",
        after - before
    );

    // Four expensive-looking regex loops at once: each pattern compiles once, all answer.
    let regex = macro_values(
        "{{ range 250 }}{{ regexMatch \"\\\\w{1,200}\" \"x\" }}{{ end }}{{ .spectro.system.cloud.type }}",
    );
    let renders = (0..4).map(|_| render_calico(&server, &regex));
    for (status, body) in futures_util::future::join_all(renders).await {
        assert_eq!(status, 200, "{body}");
    }
}

#[tokio::test]
async fn a_request_time_limit_stops_the_render_behind_it() {
    let setup = Setup::new().await;
    let server = shipped(
        &setup,
        "server.log",
        &["--request-timeout-secs", "1", "--render-timeout-secs", "60"],
    )
    .await;
    let spin = macro_values("{{ range 100000000000 }}{{ end }}{{ .spectro.system.cloud.type }}");
    let (status, body) = render_calico(&server, &spin).await;
    assert_eq!(status, 503, "{body}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = cpu_seconds(server.pid());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = cpu_seconds(server.pid());
    assert!(
        after - before < 0.3,
        "{:.2} CPU seconds after the 503",
        after - before
    );
}

#[tokio::test]
async fn refused_macros_leave_no_memory_behind() {
    let setup = Setup::new().await;
    let server = shipped(&setup, "server.log", &[]).await;
    assert_eq!(render_calico(&server, "").await.0, 200);
    let (idle, _) = server.memory_kib();
    // 60 distinct 1 MB macros, each refused (the result is not an IPv4 CIDR).
    for i in 0..60 {
        let padding = format!("{i:04}").repeat(250_000);
        let values = format!(
            "manifests:\n  calico:\n    calicoNetworkCIDR: '{{{{ .spectro.system.cloud.type }}}}{padding}'\n"
        );
        let (status, body) = render_calico(&server, &values).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["code"], "VALUES_INVALID", "{body}");
    }
    let (now, _) = server.memory_kib();
    let grew = now.saturating_sub(idle) / 1024;
    assert!(grew <= 64, "RSS grew by {grew} MiB");
    let metrics = reqwest::get(server.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let macros = metrics
        .lines()
        .find(|l| l.starts_with("packyard_cache_bytes{cache=\"macros\"}"))
        .expect("a macros cache gauge");
    let bytes: u64 = macros.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(bytes <= 8 << 20, "{macros}");
}

#[tokio::test]
async fn blobs_are_never_pages() {
    let setup = Setup::new().await;
    let server = setup.start("server.log", &[]).await;
    let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
    let pack = TestPack::new("svg-logo", "1.0.0").file("logo.png", svg);
    let published: Value = publish(&server.base_url, "", pack.archive())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let uid = published["uid"].as_str().unwrap().to_owned();

    // A blob uploaded as a page.
    let html = b"<html><script>alert(document.cookie)</script></html>".to_vec();
    let digest = digest_of(&html);
    let uploaded = client()
        .put(server.url(&format!("/v1/svg-logo/blobs/{digest}")))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "text/html")
        .body(html)
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), 201);
    let blob = server.url(&format!("/v1/svg-logo/blobs/{digest}"));
    let get = |url: String, dest: Option<&'static str>| async move {
        let mut request = client().get(url);
        if let Some(dest) = dest {
            request = request.header("sec-fetch-dest", dest);
        }
        request.send().await.unwrap()
    };
    for requested in [
        None,
        Some("text/html"),
        Some("image/svg+xml"),
        Some("application/javascript"),
        Some("text/xml"),
        Some("application/xhtml+xml"),
        Some("text/html; charset=utf-8"),
    ] {
        let url = match requested {
            Some(t) => format!(
                "{blob}?type={}",
                t.replace(' ', "%20")
                    .replace(';', "%3B")
                    .replace('+', "%2B")
            ),
            None => blob.clone(),
        };
        let response = get(url, None).await;
        let headers = response.headers();
        assert_eq!(
            headers["content-type"], "application/octet-stream",
            "{requested:?}"
        );
        assert_eq!(
            headers["content-disposition"], "attachment",
            "{requested:?}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(
            headers["content-security-policy"],
            "sandbox; default-src 'none'"
        );
    }
    for passive in [
        "image/png",
        "application/json",
        "text/plain",
        "application/vnd.oci.image.manifest.v1+json",
    ] {
        let response = get(format!("{blob}?type={}", passive.replace('+', "%2B")), None).await;
        assert_eq!(response.headers()["content-type"], passive);
        assert!(response.headers().get("content-disposition").is_none());
        assert_eq!(
            response.headers()["content-security-policy"],
            "sandbox; default-src 'none'"
        );
    }
    // The SVG logo: an image to <img>, a download to anything else.
    let logo = server.url(&format!("/v1/packs/{uid}/logo"));
    let as_image = get(logo.clone(), Some("image")).await;
    assert_eq!(as_image.headers()["content-type"], "image/svg+xml");
    assert_eq!(
        as_image.headers()["content-security-policy"],
        "sandbox; default-src 'none'"
    );
    for dest in [None, Some("document"), Some("iframe")] {
        let response = get(logo.clone(), dest).await;
        assert_eq!(
            response.headers()["content-type"],
            "application/octet-stream",
            "{dest:?}"
        );
        assert_eq!(response.headers()["content-disposition"], "attachment");
    }
}

/// A pack archive with `size` extra zero bytes: tiny compressed, huge unpacked.
fn zero_bomb_pack(name: &str, size: usize) -> Vec<u8> {
    let base = TestPack::new(name, "1.0.0").files();
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut builder = tar::Builder::new(encoder);
    for (path, entry) in base.iter() {
        let bytes = entry.bytes().unwrap().into_owned();
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, format!("{name}/{path}"), bytes.as_slice())
            .unwrap();
    }
    // Two files: one may be at most 256 MiB.
    for half in ["a", "b"] {
        let mut header = tar::Header::new_gnu();
        header.set_size((size / 2) as u64);
        header.set_mode(0o644);
        header.set_cksum();
        let zeros = std::io::Read::take(std::io::repeat(0), (size / 2) as u64);
        builder
            .append_data(&mut header, format!("{name}/files/zeros-{half}.bin"), zeros)
            .unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

#[tokio::test]
async fn archives_unpack_to_disk_not_memory() {
    let setup = Setup::new().await;
    let server = setup
        .start("server.log", &["--max-concurrent-publishes", "1"])
        .await;
    let archive = zero_bomb_pack("zeros", 500 << 20);
    assert!(archive.len() < 4 << 20, "{} bytes", archive.len());
    let (idle, _) = server.memory_kib();
    server.reset_peak_memory();
    let response = publish(&server.base_url, "", archive).await.unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let (_, peak) = server.memory_kib();
    let grew = peak.saturating_sub(idle) / 1024;
    assert!(
        grew <= 64,
        "publishing 500 MiB unpacked grew the peak RSS by {grew} MiB"
    );
    // No spill file is left behind.
    let staging = setup.data_dir().join("blobs/_uploads");
    let left: Vec<_> = std::fs::read_dir(&staging).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");

    // Beyond --max-concurrent-publishes: 503 with Retry-After while another publish runs.
    let address = server.base_url.trim_start_matches("http://").to_owned();
    let mut slow = std::net::TcpStream::connect(&address).unwrap();
    write!(
        slow,
        "POST /v1/packs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\nContent-Type: application/gzip\r\nContent-Length: 1000000\r\n\r\n"
    )
    .unwrap();
    slow.write_all(&[0x1f; 1000]).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = publish(
        &server.base_url,
        "",
        TestPack::new("other", "1.0.0").archive(),
    )
    .await
    .unwrap();
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "1");
    drop(slow);
}

#[tokio::test]
async fn findings_are_bounded() {
    let setup = Setup::new().await;
    let server = setup.start("server.log", &[]).await;
    let mut values =
        String::from("manifests:\n  app:\n    replicas: 2\n    image: nginx\nnotes: |\n");
    for _ in 0..1_000_000 {
        values.push_str("  - y\n");
    }
    let pack = TestPack::new("noisy", "1.0.0").file("values.yaml", &values);
    let archive = pack.archive();
    assert!(archive.len() < 64 << 10, "{} bytes", archive.len());
    let response = publish(&server.base_url, "", archive).await.unwrap();
    assert_eq!(response.status(), 201);
    let body = response.bytes().await.unwrap();
    assert!(body.len() <= 64 << 10, "{} bytes of response", body.len());
    let json: Value = serde_json::from_slice(&body).unwrap();
    let warnings = json["warnings"].as_array().unwrap();
    let booleans = warnings
        .iter()
        .filter(|w| w["code"] == "yaml11-boolean")
        .count();
    assert_eq!(booleans, 20);
    let omitted = warnings
        .iter()
        .find(|w| w["code"] == "findings-omitted")
        .expect("a count of what was left out");
    assert!(
        omitted["message"]
            .as_str()
            .unwrap()
            .starts_with("999980 more"),
        "{omitted}"
    );
    // Reading the version back is as small.
    let uid = json["uid"].as_str().unwrap();
    let entity = reqwest::get(server.url(&format!("/v1/packs/{uid}")))
        .await
        .unwrap();
    assert_eq!(entity.status(), 200);
}

#[tokio::test]
async fn stalled_readers_release_their_slots() {
    let setup = Setup::new().await;
    let server = setup
        .start(
            "server.log",
            &["--max-concurrent-requests", "6", "--send-timeout-secs", "2"],
        )
        .await;
    let content = noise(7, 32 << 20);
    let digest = digest_of(&content);
    let uploaded = client()
        .put(server.url(&format!("/v1/stall/blobs/{digest}")))
        .bearer_auth(ADMIN_TOKEN)
        .body(content)
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), 201);
    let address = server.base_url.trim_start_matches("http://").to_owned();
    // Six readers that ask for 32 MiB and never read a byte.
    let stalled: Vec<std::net::TcpStream> = (0..6)
        .map(|_| {
            let mut socket = std::net::TcpStream::connect(&address).unwrap();
            write!(
                socket,
                "GET /v1/stall/blobs/{digest} HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            .unwrap();
            socket
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Every slot is taken: other routes get 503, but /health and /metrics still answer.
    assert_eq!(
        reqwest::get(server.url("/v1/_catalog"))
            .await
            .unwrap()
            .status(),
        503
    );
    assert_eq!(
        reqwest::get(server.url("/health")).await.unwrap().status(),
        200
    );
    assert_eq!(
        reqwest::get(server.url("/metrics")).await.unwrap().status(),
        200
    );
    // After the send timeout the stalled responses are dropped and their slots come back, while
    // the sockets are still open.
    let mut released = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if reqwest::get(server.url("/v1/_catalog"))
            .await
            .unwrap()
            .status()
            == 200
        {
            released = true;
            break;
        }
    }
    assert!(released, "slots were never released");
    drop(stalled);
}

/// A newline, a document separator and a cluster-admin binding.
const PAYLOAD: &str = "x\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: injected\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: cluster-admin\nsubjects:\n- kind: User\n  name: attacker\n";

/// Every leaf path of a YAML mapping.
fn leaves(value: &Value, prefix: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                leaves(child, &path, out);
            }
        }
        _ => out.push(prefix.to_owned()),
    }
}

fn set_path(value: &mut Value, path: &str, new: Value) {
    let mut current = value;
    let parts: Vec<&str> = path.split('.').collect();
    for part in &parts[..parts.len() - 1] {
        current = current
            .as_object_mut()
            .unwrap()
            .entry(part.to_string())
            .or_insert_with(|| json!({}));
    }
    current[parts[parts.len() - 1]] = new;
}

#[tokio::test]
async fn shipped_packs_cannot_be_injected() {
    let setup = Setup::new().await;
    let server = shipped(&setup, "server.log", &[]).await;
    let tls = "TFMwdExTMUNSVWRKVGlCRFJWSlVTVVpKUTBGVVJTMHRMUzB0Q2c9PQ==";
    let mut checked = 0;
    for entry in std::fs::read_dir(packs_dir()).unwrap() {
        let folder = entry.unwrap().path();
        if !folder.join("pack.json").is_file() {
            continue;
        }
        let pack_json: Value =
            serde_json::from_slice(&std::fs::read(folder.join("pack.json")).unwrap()).unwrap();
        let (name, version) = (
            pack_json["name"].as_str().unwrap().to_owned(),
            pack_json["version"].as_str().unwrap().to_owned(),
        );
        let values: Value = serde_json::from_str(
            &serde_json::to_string(
                &serde_saphyr::from_str::<Value>(
                    &std::fs::read_to_string(folder.join("values.yaml")).unwrap(),
                )
                .unwrap(),
            )
            .unwrap(),
        )
        .unwrap();
        // Every template line in use: the etcd datastore with TLS.
        let mut base = json!({});
        if name == "cni-calico" {
            base = json!({"manifests": {"calico": {"datastore": "etcd", "etcd": {
                "endpoints": "https://10.0.0.1:2379", "ca": tls, "cert": tls, "key": tls}}}});
        }
        let render = |values: Value| {
            let url = server.url(&format!("/v1/packs/{name}/tags/{version}/render"));
            async move {
                let response = client()
                    .post(url)
                    .header("accept", "application/json")
                    .json(&json!({"cloudType": "aws", "values": serde_saphyr::to_string(&values).unwrap()}))
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                (status, response.json::<Value>().await.unwrap())
            }
        };
        let (status, baseline) = render(base.clone()).await;
        assert_eq!(status, 200, "{name} {version}: {baseline}");
        let objects = baseline["items"].as_array().map_or(0, Vec::len);
        let mut paths = Vec::new();
        leaves(&values, "", &mut paths);
        for path in paths {
            let mut injected = base.clone();
            set_path(&mut injected, &path, Value::String(PAYLOAD.to_owned()));
            let (status, body) = render(injected).await;
            match status {
                // Refused: the value does not fit the schema.
                422 => {}
                200 => {
                    let items = body["items"].as_array().map_or(0, Vec::len);
                    assert_eq!(
                        items, objects,
                        "{name} {version}: {path} changed the object count"
                    );
                    assert!(
                        !body.to_string().contains(
                            "\"kind\":\"ClusterRoleBinding\",\"metadata\":{\"name\":\"injected\""
                        ),
                        "{name} {version}: {path} injected a document"
                    );
                }
                other => panic!("{name} {version}: {path} answered {other}: {body}"),
            }
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} parameters checked");
}

#[tokio::test]
async fn pack_scoped_tokens_cannot_write_other_packs() {
    let setup = Setup::new().await;
    let htpasswd = setup.dir.path().join("htpasswd");
    let hash = bcrypt::hash("pa55", 4).unwrap();
    std::fs::write(&htpasswd, format!("alice:{hash}\n")).unwrap();
    let user_packs = setup.dir.path().join("htpasswd-packs");
    std::fs::write(&user_packs, "alice: team-*\n").unwrap();
    let server = shipped(
        &setup,
        "server.log",
        &[
            "--htpasswd",
            htpasswd.to_str().unwrap(),
            "--htpasswd-packs",
            user_packs.to_str().unwrap(),
        ],
    )
    .await;
    let created = setup.command(&[
        "token", "create", "--name", "team-ci", "--scope", "admin", "--packs", "team-*",
    ]);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let token = String::from_utf8(created.stdout).unwrap().trim().to_owned();

    // The takeover of the report: a new cni-calico patch would move 3.24.x and latest.
    let takeover = TestPack::new("cni-calico", "3.24.99").archive();
    let refused = client()
        .post(server.url("/v1/packs"))
        .bearer_auth(&token)
        .body(takeover.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "DENIED");
    assert!(
        body["message"].as_str().unwrap().contains("cni-calico"),
        "{body}"
    );
    let basic = client()
        .post(server.url("/v1/packs"))
        .basic_auth("alice", Some("pa55"))
        .body(takeover)
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 403);
    let resolved = reqwest::get(server.url("/v1/packs/cni-calico/tags/3.24.x"))
        .await
        .unwrap();
    assert_eq!(resolved.headers()["x-pack-version"], "3.24.6");
    // Blob uploads and state changes of other packs are refused too.
    let blob = b"not yours".to_vec();
    let put = client()
        .put(server.url(&format!("/v1/cni-calico/blobs/{}", digest_of(&blob))))
        .bearer_auth(&token)
        .body(blob)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 403);
    let patch = client()
        .patch(server.url("/v1/packs/cni-calico/tags/3.24.6"))
        .bearer_auth(&token)
        .json(&json!({"state": "deprecated"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status(), 403);
    // Its own packs it may write, and the audit trail names it.
    let own = client()
        .post(server.url("/v1/packs"))
        .bearer_auth(&token)
        .body(TestPack::new("team-app", "1.0.0").archive())
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 201);
    let storage = packyard::config::StorageConfig {
        database_url: setup.database_url.clone(),
        ..packyard::config::StorageConfig::for_data_dir(setup.data_dir())
    };
    let (db, _) = packyard::app::open_storage(&storage).await.unwrap();
    let events = packyard::store::versions::list_events(
        db.reader(),
        &"team-app".parse().unwrap(),
        &"1.0.0".parse().unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(events[0].actor, "team-ci");
}

#[tokio::test]
async fn files_parse_like_helm_or_the_publish_is_refused() {
    let setup = Setup::new().await;
    let server = setup.start("server.log", &[]).await;
    // Long runs of comments (as in some of Palette's public values files) parse.
    let mut values = String::from("manifests:\n  app:\n");
    for i in 0..300 {
        values.push_str(&format!("    # note {i}\n"));
    }
    values.push_str("    replicas: 3\n    image: nginx\n");
    let pack = TestPack::new("commented", "1.0.0").file("values.yaml", &values);
    let response = publish(&server.base_url, "", pack.archive()).await.unwrap();
    assert_eq!(response.status(), 201);
    let rendered = client()
        .post(server.url("/v1/packs/commented/tags/1.0.0/render"))
        .json(&json!({"cloudType": "aws"}))
        .send()
        .await
        .unwrap();
    assert_eq!(rendered.status(), 200);
    assert!(rendered.text().await.unwrap().contains("replicas: \"3\""));

    // A values file that does not parse is refused, naming the file and line; nothing is stored.
    let broken = TestPack::new("broken", "1.0.0").file("values.yaml", "a: 1\nb: [unclosed\n");
    let response = publish(&server.base_url, "", broken.archive())
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("values.yaml:"),
        "{body}"
    );
    assert_eq!(
        reqwest::get(server.url("/v1/packs/broken/tags/1.0.0"))
            .await
            .unwrap()
            .status(),
        404
    );

    // A chart archived with ./ entries loads as Helm loads it.
    let chart = raw_tar_gz(&[
        RawEntry::file(
            "./Chart.yaml",
            "apiVersion: v2\nname: demo\nversion: 1.0.0\n",
        ),
        RawEntry::file("./values.yaml", "replicas: 1\n"),
        RawEntry::file("./templates/cm.yaml", "kind: ConfigMap\n"),
    ]);
    let pack = TestPack::new("dotted", "1.0.0")
        .file("charts/demo-1.0.0.tgz", chart)
        .file("values.yaml", "charts:\n  demo:\n    replicas: 1\n")
        .file("logo.png", TINY_PNG)
        .pack_json(|json| {
            json["charts"] = json!(["charts/demo-1.0.0.tgz"]);
            json["kubeManifests"] = json!([]);
        })
        .without("manifests/app.yaml")
        .without("schema.yaml");
    let response = publish(&server.base_url, "", pack.archive()).await.unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    let codes: Vec<&str> = body["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    assert!(!codes.contains(&"chart-invalid"), "{codes:?}");
}

// Hardening, round two: shared structures, walks that never ticked, HTTP/2 connections, the clock
// around costly functions, issued tokens and upload sessions.

/// A macro that builds a list sharing itself twice per step, `steps` times (2^steps leaves for a
/// few hundred bytes of template), then evaluates `call` on it (`$l`).
fn doubling(steps: u32, call: &str) -> String {
    macro_values(&format!(
        "{{{{ .spectro.system.cloud.type }}}}{{{{ $l := list 1 }}}}{{{{ range until {steps} }}}}{{{{ $l = list $l $l }}}}{{{{ end }}}}{call}"
    ))
}

/// One value of `/metrics` (`name` with its labels, as exposed), 0 when absent.
async fn metric(server: &ServerProcess, series: &str) -> f64 {
    let text = reqwest::get(server.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |value| value.trim().parse().unwrap())
}

#[tokio::test]
async fn shared_structure_cannot_expand_past_the_budget() {
    let setup = Setup::new().await;
    let server = shipped(&setup, "server.log", &[]).await;
    for _ in 0..8 {
        assert_eq!(render_calico(&server, "").await.0, 200);
    }
    let (idle, _) = server.memory_kib();
    server.reset_peak_memory();
    // 24 doublings: 16 million leaves. Before, toYaml alone took the process past 4 GiB.
    for call in [
        "{{ $y := toYaml $l }}",
        "{{ $y := toJson $l }}",
        "{{ $y := toPrettyJson $l }}",
        "{{ $y := toRawJson $l }}",
        "{{ $y := print $l }}",
        "{{ $y := printf \"%v\" $l }}",
        "{{ $y := toString $l }}",
        "{{ $y := join \",\" $l }}",
        "{{ $y := cat $l $l }}",
        "{{ $y := quote $l }}",
        "{{ $y := deepCopy $l }}",
        "{{ $y := toToml (dict \"a\" $l) }}",
        "{{ $l }}",
    ] {
        let (status, body) = render_calico(&server, &doubling(24, call)).await;
        assert_render_limit(status, &body, "render-max-output-bytes");
        let (_, peak) = server.memory_kib();
        let grew = peak.saturating_sub(idle) / 1024;
        // A render's peak stays within twice its output budget (32 MiB).
        assert!(
            grew <= 64,
            "{call}: peak RSS grew by {grew} MiB (idle {idle} KiB, peak {peak} KiB)"
        );
    }
    assert_eq!(render_calico(&server, "").await.0, 200);
}

#[tokio::test]
async fn walks_and_comparisons_stop_at_the_deadline() {
    let setup = Setup::new().await;
    let server = shipped(&setup, "server.log", &["--render-timeout-secs", "2"]).await;
    // Shared structure compares once per shared pair, as Go's DeepEqual does: a value with itself
    // and two equal values built apart, 2^40 leaves each, answer at once.
    for equal in [
        "{{ if not (deepEqual $l $l) }}{{ fail \"unequal\" }}{{ end }}",
        "{{ $m := list 1 }}{{ range until 40 }}{{ $m = list $m $m }}{{ end }}{{ if not (deepEqual $l $m) }}{{ fail \"unequal\" }}{{ end }}",
        "{{ if not (has $l (list 0 $l)) }}{{ fail \"absent\" }}{{ end }}",
    ] {
        let (status, body) = render_calico(&server, &doubling(40, equal)).await;
        assert_eq!(status, 200, "{equal}: {body}");
    }
    // Quadratic and exponential work inside one function call: stopped by the deadline, with
    // nothing running after the answer.
    let maps = |steps: u32| {
        format!(
            "{{{{ $m := dict \"k\" 1 }}}}{{{{ $n := dict \"k\" 1 }}}}{{{{ range until {steps} }}}}{{{{ $m = dict \"a\" $m \"b\" $m }}}}{{{{ $n = dict \"a\" $n \"b\" $n }}}}{{{{ end }}}}"
        )
    };
    for work in [
        macro_values("{{ .spectro.system.cloud.type }}{{ $y := uniq (until 300000) }}"),
        macro_values(&format!(
            "{{{{ .spectro.system.cloud.type }}}}{}{{{{ $y := mergeOverwrite $n $m }}}}",
            maps(60)
        )),
        macro_values(&format!(
            "{{{{ .spectro.system.cloud.type }}}}{}{{{{ $y := merge $n $m }}}}",
            maps(60)
        )),
        // toToml types every array before it writes (BurntSushi's tomlTypeOfGo), whole.
        doubling(40, "{{ $y := toToml (dict \"a\" $l) }}"),
    ] {
        let (status, body) = render_calico(&server, &work).await;
        assert_render_limit(status, &body, "render-timeout-secs");
        let before = cpu_seconds(server.pid());
        tokio::time::sleep(Duration::from_secs(2)).await;
        let after = cpu_seconds(server.pid());
        assert!(
            after - before < 0.3,
            "{:.2} CPU seconds after the answer",
            after - before
        );
    }
    // Four at once (every render slot on 2 cores): each ends at its deadline, none outlives it.
    let uniq = macro_values("{{ .spectro.system.cloud.type }}{{ $y := uniq (until 300000) }}");
    let renders = (0..4).map(|_| render_calico(&server, &uniq));
    for (status, body) in futures_util::future::join_all(renders).await {
        assert_render_limit(status, &body, "render-timeout-secs");
    }
    // A client that leaves mid-uniq: the walk stops with it.
    let abandoned = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap()
        .post(server.url("/v1/packs/cni-calico/tags/3.24.6/render"))
        .json(&json!({"cloudType": "aws", "values": uniq}))
        .send()
        .await;
    assert!(abandoned.is_err(), "uniq answered within 300 ms");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = cpu_seconds(server.pid());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = cpu_seconds(server.pid());
    assert!(
        after - before < 0.3,
        "{:.2} CPU seconds after the client left",
        after - before
    );
    assert_eq!(render_calico(&server, "").await.0, 200);
}

/// Lets this test process open as many sockets as its hard limit allows (tests of many
/// connections run beside each other).
fn raise_open_files() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write the struct given, nothing else.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// HTTP/2's client preface and an empty SETTINGS frame.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

/// An HTTP/2 connection without TLS (prior knowledge) that says hello and then nothing.
async fn idle_h2c(address: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(H2_PREFACE).await.unwrap();
    stream
}

/// Whether the server closes `stream` within `limit` (whatever it sends before: SETTINGS, GOAWAY).
async fn closed_within(mut stream: impl tokio::io::AsyncRead + Unpin, limit: Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buffer = [0u8; 4096];
    tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn idle_http2_connections_are_closed_as_http1_ones_are() {
    raise_open_files();
    let setup = Setup::new().await;
    let pki_dir = tempfile::tempdir().unwrap();
    let pki = common::tls::Pki::new(pki_dir.path());
    pki.issue("hardening");
    let plain = setup
        .start("plain.log", &["--header-timeout-secs", "2"])
        .await;
    let address = plain.base_url.trim_start_matches("http://").to_owned();
    // Before, h2c connections stayed open however long they idled.
    let idle: Vec<_> = futures_util::future::join_all((0..200).map(|_| idle_h2c(&address))).await;
    let closed = futures_util::future::join_all(
        idle.into_iter()
            .map(|stream| closed_within(stream, Duration::from_secs(10))),
    )
    .await;
    assert!(
        closed.iter().all(|c| *c),
        "{} of 200 idle h2c connections still open after 10 s",
        closed.iter().filter(|c| !**c).count()
    );
    assert!(
        metric(
            &plain,
            "packyard_http_connections_closed_total{reason=\"idle\"}"
        )
        .await
            >= 200.0
    );

    // HTTP/2 over TLS: the same.
    let tls = setup
        .start(
            "tls.log",
            &[
                "--header-timeout-secs",
                "2",
                "--tls-cert",
                &pki.path("server.crt"),
                "--tls-key",
                &pki.path("server.key"),
            ],
        )
        .await;
    let address = tls.base_url.trim_start_matches("https://").to_owned();
    let mut stream = common::tls::connect(&address, &pki.dir.join("ca.crt"), &[b"h2"]).await;
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    tokio::io::AsyncWriteExt::write_all(&mut stream, H2_PREFACE)
        .await
        .unwrap();
    assert!(
        closed_within(stream, Duration::from_secs(10)).await,
        "an idle h2 connection over TLS stayed open"
    );
}

#[tokio::test]
async fn connections_are_capped_and_idle_ones_make_room() {
    let setup = Setup::new().await;
    let server = setup
        .start(
            "server.log",
            &[
                "--max-connections",
                "8",
                "--header-timeout-secs",
                "60",
                "--slow-body-grace-secs",
                "60",
            ],
        )
        .await;
    let address = server.base_url.trim_start_matches("http://").to_owned();
    // Eight idle connections fill the cap; a new client still gets in, as the longest idle one
    // is closed for it.
    let idle: Vec<_> = futures_util::future::join_all((0..8).map(|_| idle_h2c(&address))).await;
    let fresh = || {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap()
    };
    let health = fresh().get(server.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let closed = futures_util::future::join_all(
        idle.into_iter()
            .map(|stream| closed_within(stream, Duration::from_secs(3))),
    )
    .await;
    assert!(closed.iter().any(|c| *c), "no idle connection made room");
    // Eight connections with a request in flight (uploads that trickle): nothing is idle, and a
    // ninth connection is refused at once.
    let digest = digest_of(b"never finished");
    let mut busy = Vec::new();
    for _ in 0..8 {
        let mut socket = std::net::TcpStream::connect(&address).unwrap();
        write!(
            socket,
            "PUT /v1/busy/blobs/{digest} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\nContent-Length: 1000000\r\n\r\n"
        )
        .unwrap();
        socket.write_all(&[0u8; 100]).unwrap();
        busy.push(socket);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = tokio::net::TcpStream::connect(&address).await.unwrap();
    assert!(
        closed_within(refused, Duration::from_secs(2)).await,
        "a connection beyond the cap was kept"
    );
    drop(busy);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        metric(
            &server,
            "packyard_http_connections_closed_total{reason=\"refused\"}"
        )
        .await
            >= 1.0
    );
    assert!(
        metric(
            &server,
            "packyard_http_connections_closed_total{reason=\"evicted\"}"
        )
        .await
            >= 1.0
    );
}

#[tokio::test]
async fn a_low_file_limit_still_leaves_room_for_health() {
    raise_open_files();
    let setup = Setup::new().await;
    // 256 descriptors: the default cap is three quarters of them.
    let server = setup
        .start_with_open_files("server.log", &["--header-timeout-secs", "60"], 256)
        .await;
    let address = server.base_url.trim_start_matches("http://").to_owned();
    let mut idle = Vec::new();
    for _ in 0..400 {
        idle.push(idle_h2c(&address).await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let health = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
        .get(server.url("/health"))
        .send()
        .await
        .expect("/health answers beside 400 idle connections");
    assert_eq!(health.status(), 200);
    assert!(metric(&server, "packyard_http_connections").await <= 192.0);
    drop(idle);
}

#[tokio::test]
async fn costly_functions_are_timed_one_by_one() {
    let setup = Setup::new().await;
    let server = shipped(&setup, "server.log", &["--render-timeout-secs", "2"]).await;
    // Before, the clock was read once per 64 steps: 10,000 RSA keys answered after 49 s of a
    // 10 s budget. Now the render overruns by one key at most.
    let keys = macro_values(
        "{{ .spectro.system.cloud.type }}{{ range until 10000 }}{{ $k := genPrivateKey \"rsa\" }}{{ end }}",
    );
    let response = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
        .post(server.url("/v1/packs/cni-calico/tags/3.24.6/render"))
        .header("accept", "application/json")
        .json(&json!({"cloudType": "aws", "values": keys}))
        .send()
        .await
        .expect("the render answered near its deadline");
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_render_limit(status, &body, "render-timeout-secs");
    for work in [
        "{{ range until 10000 }}{{ $h := htpasswd \"u\" \"p\" }}{{ end }}",
        "{{ range until 10000 }}{{ $c := genCA \"x\" 3 }}{{ end }}",
    ] {
        let (status, body) = render_calico(
            &server,
            &macro_values(&format!("{{{{ .spectro.system.cloud.type }}}}{work}")),
        )
        .await;
        assert_render_limit(status, &body, "render-timeout-secs");
    }
}

/// A pack whose one manifest shows `expression`'s value.
async fn show(server: &ServerProcess, name: &str, expression: &str) -> (u16, Value) {
    let manifest = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shown\ndata:\n  value: {{{{ {expression} | quote }}}}\n"
    );
    let pack = TestPack::new(name, "1.0.0").file("manifests/app.yaml", manifest);
    let published = publish(&server.base_url, "", pack.archive()).await.unwrap();
    assert_eq!(
        published.status(),
        201,
        "{}",
        published.text().await.unwrap()
    );
    let response = client()
        .post(server.url(&format!("/v1/packs/{name}/tags/1.0.0/render")))
        .header("accept", "application/json")
        .json(&json!({"cloudType": "aws"}))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn derive_password_fits_the_budget_and_dates_overflow_as_in_go() {
    let setup = Setup::new().await;
    let server = setup.start("server.log", &[]).await;
    let (idle, _) = server.memory_kib();
    server.reset_peak_memory();
    // Sprig's documented example; scrypt's 32 MiB table is a working set within the budget.
    let (status, body) = show(
        &server,
        "derived",
        "derivePassword 1 \"long\" \"password\" \"user\" \"example.com\"",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"][0]["data"]["value"], "ZedaFaxcZaso9*");
    let (_, peak) = server.memory_kib();
    assert!(peak.saturating_sub(idle) / 1024 <= 64);
    // A duration that overflows Go's int64 nanoseconds does not parse, so the date stays.
    let (status, body) = show(
        &server,
        "dated",
        "dateModify \"-99999999999h\" (toDate \"2006-01-02\" \"2020-01-01\") | date \"2006-01-02\"",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"][0]["data"]["value"], "2020-01-01");
    // The longest duration Go holds moves it back 292 years.
    let (status, body) = show(
        &server,
        "far-dated",
        "dateModify \"-2562047h\" (toDate \"2006-01-02\" \"2020-01-01\") | date \"2006-01-02\"",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"][0]["data"]["value"], "1727-09-22");
}

/// `/v2/token` for `scopes`, with `token` as a Basic password.
async fn issued_token(server: &ServerProcess, token: &str, scopes: &[&str]) -> String {
    let query: Vec<(&str, &str)> = scopes.iter().map(|s| ("scope", *s)).collect();
    let response = client()
        .get(server.url("/v2/token"))
        .query(&query)
        .basic_auth("ci", Some(token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

/// `POST /v2/<name>/blobs/uploads/?digest=` with `content`.
async fn push_blob(
    server: &ServerProcess,
    bearer: &str,
    name: &str,
    content: &[u8],
) -> (u16, Value) {
    let response = client()
        .post(server.url(&format!(
            "/v2/{name}/blobs/uploads/?digest={}",
            digest_of(content)
        )))
        .bearer_auth(bearer)
        .header("content-type", "application/octet-stream")
        .body(content.to_vec())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn issued_tokens_reach_only_their_repositories() {
    let setup = Setup::new().await;
    let server = setup.start("server.log", &[]).await;
    let created = setup.command(&[
        "token", "create", "--name", "teams", "--scope", "write", "--packs", "team-*",
    ]);
    assert!(created.status.success());
    let api_token = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    let token = issued_token(&server, &api_token, &["repository:team-a:pull,push"]).await;
    // Before, this token pushed to team-b too (201): the API token's patterns allow both.
    let (status, body) = push_blob(&server, &token, "team-b", b"for b").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["errors"][0]["code"], "DENIED");
    let (status, body) = push_blob(&server, &token, "team-a", b"for a").await;
    assert_eq!(status, 201, "{body}");
    // Pulls outside it too, even where pulls need no credentials at all.
    let (status, _) = push_blob(&server, &api_token, "team-b", b"for b").await;
    assert_eq!(status, 201);
    let pull = |name: &str| {
        client()
            .head(server.url(&format!("/v2/{name}/blobs/{}", digest_of(b"for b"))))
            .bearer_auth(&token)
            .send()
    };
    assert_eq!(pull("team-b").await.unwrap().status(), 403);
    // A mount from a repository the token may not pull from is no mount: a session instead.
    let mount = client()
        .post(server.url(&format!(
            "/v2/team-a/blobs/uploads/?mount={}&from=team-b",
            digest_of(b"for b")
        )))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(mount.status(), 202);
    // The catalog needs registry:catalog:*, and the token is for the OCI API alone.
    let catalog = client()
        .get(server.url("/v2/_catalog"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(catalog.status(), 403);
    let listing = issued_token(&server, &api_token, &["registry:catalog:*"]).await;
    let catalog = client()
        .get(server.url("/v2/_catalog"))
        .bearer_auth(&listing)
        .send()
        .await
        .unwrap();
    assert_eq!(catalog.status(), 200);
    let publish = client()
        .post(server.url("/v1/packs"))
        .bearer_auth(&token)
        .body(TestPack::new("team-a", "1.0.0").archive())
        .send()
        .await
        .unwrap();
    assert_eq!(publish.status(), 403);
    // A read-only credential gets no push in its token, whatever it asks for.
    let created = setup.command(&["token", "create", "--name", "reader", "--scope", "read"]);
    let reader = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    let token = issued_token(&server, &reader, &["repository:team-a:pull,push"]).await;
    let (status, _) = push_blob(&server, &token, "team-a", b"from a reader").await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn upload_sessions_are_capped_per_credential_and_in_bytes() {
    let setup = Setup::new().await;
    let server = setup
        .start(
            "server.log",
            &[
                "--max-upload-sessions",
                "3",
                "--max-staged-bytes",
                "1048576",
            ],
        )
        .await;
    let created = setup.command(&["token", "create", "--name", "ci", "--scope", "write"]);
    let token = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    let start = |bearer: String| {
        client()
            .post(server.url("/v2/capped/blobs/uploads/"))
            .bearer_auth(bearer)
            .send()
    };
    let mut sessions = Vec::new();
    for _ in 0..3 {
        let started = start(token.clone()).await.unwrap();
        assert_eq!(started.status(), 202);
        sessions.push(started.headers()["location"].to_str().unwrap().to_owned());
    }
    // Before, 3,000 sessions opened in 2 s and stayed for a day.
    let refused = start(token.clone()).await.unwrap();
    assert_eq!(refused.status(), 429);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "TOOMANYREQUESTS");
    // Another credential has sessions of its own.
    assert_eq!(start(ADMIN_TOKEN.to_owned()).await.unwrap().status(), 202);

    // Staged bytes in all: 600 KiB fit, 600 KiB more do not, and the refused chunk is not kept.
    let patch = |location: &str, content: Vec<u8>| {
        client()
            .patch(server.url(location))
            .bearer_auth(&token)
            .header("content-type", "application/octet-stream")
            .body(content)
            .send()
    };
    let chunk = noise(3, 600 << 10);
    assert_eq!(
        patch(&sessions[0], chunk.clone()).await.unwrap().status(),
        202
    );
    let over = patch(&sessions[1], chunk.clone()).await.unwrap();
    assert_eq!(over.status(), 429);
    let body: Value = over.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "TOOMANYREQUESTS");
    let status = client()
        .get(server.url(&sessions[1]))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(status.status(), 204);
    assert_eq!(status.headers()["range"], "0-0");
    // Cancelling the first session frees its bytes and its place.
    let cancelled = client()
        .delete(server.url(&sessions[0]))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), 204);
    assert_eq!(
        patch(&sessions[1], chunk.clone()).await.unwrap().status(),
        202
    );
    let finished = client()
        .put(server.url(&format!("{}?digest={}", sessions[1], digest_of(&chunk))))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(finished.status(), 201);
    assert_eq!(start(token.clone()).await.unwrap().status(), 202);
}
