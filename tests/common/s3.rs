//! A throwaway S3-compatible server for tests: moto_server (PyPI `moto[server]`, installed by
//! .ci/tools) on a free 127.0.0.1 port, one per test binary (stopped when the binary exits), one
//! bucket per test.

use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use tokio::sync::OnceCell;

pub struct S3Server {
    pub endpoint: String,
    _child: ChildGuard,
}

struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn moto_server() -> String {
    std::env::var("PACKYARD_MOTO_SERVER")
        .unwrap_or_else(|_| "/var/tmp/packyard-tools/venv/bin/moto_server".to_owned())
}

static SERVER: OnceCell<S3Server> = OnceCell::const_new();

/// The shared server of this test binary, started on first use.
pub async fn server() -> &'static S3Server {
    SERVER
        .get_or_init(|| async {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("free port")
                .port();
            let port_text = port.to_string();
            let child = super::process::tied_to_this_binary(
                &moto_server(),
                &["-H", "127.0.0.1", "-p", &port_text],
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {} (run .ci/tools): {e}", moto_server()));
            let server = S3Server {
                endpoint: format!("http://127.0.0.1:{port}"),
                _child: ChildGuard(child),
            };
            let deadline = Instant::now() + Duration::from_secs(60);
            while reqwest::get(&server.endpoint).await.is_err() {
                assert!(Instant::now() < deadline, "moto_server did not start");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            server
        })
        .await
}

impl S3Server {
    /// Creates a fresh bucket and returns its name.
    pub async fn bucket(&self) -> String {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let name = format!(
            "packyard-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let response = reqwest::Client::new()
            .put(format!("{}/{name}", self.endpoint))
            .send()
            .await
            .expect("create bucket");
        assert!(
            response.status().is_success(),
            "create bucket: {}",
            response.status()
        );
        name
    }

    /// A client for `bucket` with moto's dummy credentials.
    pub fn store(&self, bucket: &str) -> Arc<dyn ObjectStore> {
        Arc::new(
            AmazonS3Builder::new()
                .with_endpoint(&self.endpoint)
                .with_allow_http(true)
                .with_bucket_name(bucket)
                .with_region("us-east-1")
                .with_access_key_id("packyard-test")
                .with_secret_access_key("packyard-test")
                .build()
                .expect("S3 client"),
        )
    }
}
