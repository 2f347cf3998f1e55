//! packyard over TLS (`--tls-cert`/`--tls-key`, rustls) with a throwaway CA: HTTP/2 by ALPN, the
//! registry's own URLs in https, the real OCI clients over HTTPS trusting only that CA (ORAS and
//! Helm given the CA file, skopeo a certificate directory), and a certificate rotated on disk
//! served to new connections without a restart.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::ADMIN_TOKEN;
use common::packs::chart_archive;
use common::process::{ServerProcess, Setup, run_client};
use common::tls::{self, Pki};

/// Connects with rustls trusting only the CA, offering h2 and http/1.1; returns the protocol
/// ALPN chose and the certificate the server presented.
async fn handshake(address: &str, ca: &Path) -> (Option<Vec<u8>>, Vec<u8>) {
    let stream = tls::connect(address, ca, &[b"h2", b"http/1.1"]).await;
    let (_, session) = stream.get_ref();
    (
        session.alpn_protocol().map(<[u8]>::to_vec),
        session.peer_certificates().unwrap()[0].to_vec(),
    )
}

#[tokio::test]
async fn oci_clients_speak_https_and_certificates_rotate() {
    let setup = Setup::new().await;
    let pki_dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(pki_dir.path());
    let first = pki.issue("first");
    let server: ServerProcess = setup
        .start(
            "server.log",
            &[
                "--tls-cert",
                &pki.path("server.crt"),
                "--tls-key",
                &pki.path("server.key"),
            ],
        )
        .await;
    assert!(server.base_url.starts_with("https://"));
    let address = server.base_url.trim_start_matches("https://").to_owned();
    let ca = pki.dir.join("ca.crt");

    // HTTP/2 by ALPN, with the certificate the CA signed.
    let (alpn, presented) = handshake(&address, &ca).await;
    assert_eq!(alpn.as_deref(), Some(&b"h2"[..]));
    assert_eq!(presented, first);
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&std::fs::read(&ca).unwrap()).unwrap())
        .build()
        .unwrap();
    let answer = client
        .get(format!("{}/v2/", server.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.version(), reqwest::Version::HTTP_2);
    assert_eq!(answer.status(), 401);
    // The token flow's realm names https, as the client connected.
    let bearer = answer
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("Bearer"))
        .unwrap();
    assert!(
        bearer.contains(&format!("realm=\"https://{address}/v2/token\"")),
        "{bearer}"
    );
    // Plain HTTP on the TLS port gets no answer a client could mistake for one.
    assert!(
        reqwest::get(format!("http://{address}/health"))
            .await
            .is_err()
    );

    let work = tempfile::tempdir().unwrap();
    let python = std::env::var_os("PACKYARD_CLIENTS_PYTHON");
    if let Some(python) = &python {
        // ORAS, given the CA file: push a pack in Palette's layout, pull it back.
        let pack = common::packs::TestPack::new("tls-demo", "1.0.0");
        let file = work.path().join("tls-demo-1.0.0.tar.gz");
        std::fs::write(&file, pack.archive()).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/oras_pack.py");
        let target = "spectro-packs/archive/tls-demo:1.0.0";
        let login = [
            "--user",
            "palette",
            "--password",
            ADMIN_TOKEN,
            "--ca",
            ca.to_str().unwrap(),
        ];
        for (action, path) in [("push", file.clone()), ("pull", work.path().join("pulled"))] {
            let (ok, said) = run_client(
                Command::new(python)
                    .arg(&script)
                    .args([action, &address, target, path.to_str().unwrap()])
                    .args(login)
                    .env("HOME", work.path()),
            );
            assert!(ok && said.contains("\"ok\": true"), "{action}: {said}");
        }
        assert_eq!(
            std::fs::read(work.path().join("pulled/tls-demo-1.0.0.tar.gz")).unwrap(),
            pack.archive()
        );
        // Helm, trusting the CA through SSL_CERT_FILE (Go reads it at start).
        let chart_dir = work.path().join("chart");
        std::fs::create_dir_all(&chart_dir).unwrap();
        let chart = chart_dir.join("tls-chart-0.1.0.tgz");
        std::fs::write(&chart, chart_archive("tls-chart", "0.1.0")).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/helm_chart.py");
        let (ok, said) = run_client(
            Command::new(python)
                .arg(&script)
                .args([
                    &address,
                    "charts",
                    chart.to_str().unwrap(),
                    work.path().join("helm").to_str().unwrap(),
                ])
                .args([
                    "--user",
                    "ci",
                    "--password",
                    ADMIN_TOKEN,
                    "--ca",
                    ca.to_str().unwrap(),
                ])
                .env("SSL_CERT_FILE", &ca),
        );
        assert!(ok && !said.contains("\"error\""), "{said}");
        assert!(said.contains("\"tags\": [\"0.1.0\"]"), "{said}");
    } else {
        common::skip("ORAS and Helm over TLS: PACKYARD_CLIENTS_PYTHON is not set");
    }
    if Command::new("skopeo").arg("--version").output().is_ok() {
        // skopeo, given a certificate directory with the CA.
        let certs = work.path().join("certs");
        std::fs::create_dir_all(&certs).unwrap();
        std::fs::copy(&ca, certs.join("ca.crt")).unwrap();
        let creds = format!("palette:{ADMIN_TOKEN}");
        let (ok, said) = run_client(
            Command::new("skopeo")
                .args(["--insecure-policy", "inspect", "--raw", "--creds", &creds])
                .arg(format!("--cert-dir={}", certs.display()))
                .arg(format!(
                    "docker://{address}/spectro-packs/archive/tls-demo:1.0.0"
                ))
                .env("HOME", work.path()),
        );
        if python.is_some() {
            assert!(
                ok && said.contains("application/vnd.oci.image.manifest.v1+json"),
                "{said}"
            );
        }
        // Without the CA, the certificate is refused.
        let (ok, said) = run_client(
            Command::new("skopeo")
                .args(["--insecure-policy", "inspect", "--raw", "--creds", &creds])
                .arg(format!(
                    "docker://{address}/spectro-packs/archive/tls-demo:1.0.0"
                ))
                .env("HOME", work.path()),
        );
        assert!(!ok && said.contains("certificate"), "{said}");
    } else {
        common::skip("skopeo over TLS: skopeo is not installed");
    }

    // A new certificate written over the files is served to new connections within seconds.
    let second = pki.issue("second");
    assert_ne!(first, second);
    let mut presented = Vec::new();
    for _ in 0..50 {
        presented = handshake(&address, &ca).await.1;
        if presented == second {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        presented, second,
        "the rotated certificate was not picked up"
    );
    // A broken pair on disk keeps the last good one in use.
    std::fs::write(pki.dir.join("server.crt"), "not a certificate").unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(handshake(&address, &ca).await.1, second);
    assert!(server.log().contains("TLS certificate not reloaded"));
}
