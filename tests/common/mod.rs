//! Shared test harness: a registry on a fresh data directory and a fresh database (SQLite by default;
//! a new PostgreSQL database per test when `PACKYARD_TEST_DATABASE_URL` names a PostgreSQL server),
//! driven through the real router or a real server process on 127.0.0.1.
#![allow(dead_code)] // Each test binary uses a different part of the harness.

pub mod browser;
pub mod calico;
pub mod charts;
pub mod packs;
pub mod palette;
pub mod process;
pub mod reference;
pub mod remote;
pub mod s3;
pub mod source;
pub mod tls;

use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use bytes::Bytes;
use http_body_util::BodyExt;
use packyard::config::ServeConfig;
use packyard::http::AppState;
use sha2::{Digest as _, Sha256};
use sqlx::Connection;
use tempfile::TempDir;
use tower::ServiceExt;

pub const ADMIN_TOKEN: &str = "test-admin-token-5f2a";

/// A test that cannot run here because `what` is missing says so and returns; under `CI=true`
/// (CI sets it, and installs every tool and data set the tests need) a missing tool is a failure.
pub fn skip(what: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true, and the test cannot run: {what}");
    }
    eprintln!("skipped: {what}");
}

/// A database URL for one test: `None` means the default (SQLite in the data directory).
pub async fn fresh_database_url() -> Option<String> {
    let server = std::env::var("PACKYARD_TEST_DATABASE_URL").ok()?;
    Some(fresh_database_on(&server).await)
}

/// A fresh PostgreSQL database for tests that need one whatever the suite runs on (replicas):
/// on `PACKYARD_TEST_DATABASE_URL`, else on `PACKYARD_REPLICA_DATABASE_URL` (which ./test starts).
pub async fn postgres_database_url() -> String {
    let server = std::env::var("PACKYARD_TEST_DATABASE_URL")
        .or_else(|_| std::env::var("PACKYARD_REPLICA_DATABASE_URL"))
        .expect("these tests need PostgreSQL: run them with ./test (it starts one)");
    fresh_database_on(&server).await
}

/// Creates a uniquely named database on the PostgreSQL `server` and returns its URL.
pub async fn fresh_database_on(server: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = format!(
        "packyard_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let mut admin = sqlx::PgConnection::connect(server)
        .await
        .expect("connect to the test PostgreSQL server");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create a test database");
    let (without_query, query) = match server.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (server, String::new()),
    };
    let (prefix, _) = without_query
        .rsplit_once('/')
        .expect("the PostgreSQL URL has a database path");
    format!("{prefix}/{name}{query}")
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(bytes))
}

/// A registry on its own data directory and database, served through the real router.
pub struct TestRegistry {
    pub dir: TempDir,
    pub config: ServeConfig,
    pub state: AppState,
    pub router: Router,
    /// The registry's database and blob store, for tests that look past the API.
    pub db: packyard::store::db::Db,
    pub blobs: packyard::store::blobs::BlobStore,
}

impl TestRegistry {
    pub async fn new() -> TestRegistry {
        Self::with_config(|_| {}).await
    }

    /// A test registry whose configuration `adjust` may change before it opens.
    pub async fn with_config(adjust: impl FnOnce(&mut ServeConfig)) -> TestRegistry {
        // Server logs (including the hidden detail of a 500) show in a failing test's output.
        let _ = tracing_subscriber::fmt().with_test_writer().try_init();
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = ServeConfig::for_data_dir(dir.path().join("data"));
        config.storage.database_url = fresh_database_url().await;
        config.admin_token = Some(ADMIN_TOKEN.to_owned());
        adjust(&mut config);
        let (db, blobs) = packyard::app::open_storage(&config.storage)
            .await
            .expect("open storage");
        let state =
            packyard::app::open_on(&config, db.clone(), blobs.clone()).expect("open registry");
        let router = packyard::http::router(state.clone());
        TestRegistry {
            dir,
            config,
            state,
            router,
            db,
            blobs,
        }
    }

    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("read body")
            .to_bytes();
        TestResponse {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, uri: &str) -> TestResponse {
        self.send(request(Method::GET, uri).body(Body::empty()).unwrap())
            .await
    }

    /// Uploads `content` as a blob of `pack` with the admin token.
    pub async fn put_blob(&self, pack: &str, content: &[u8]) -> TestResponse {
        let uri = format!("/v1/{pack}/blobs/{}", digest_of(content));
        self.send(
            request(Method::PUT, &uri)
                .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
                .body(Body::from(content.to_vec()))
                .unwrap(),
        )
        .await
    }

    /// Publishes a pack archive with the admin token (`query` like `force=true&message=x`).
    pub async fn publish_with(&self, query: &str, archive: Vec<u8>) -> TestResponse {
        let uri = if query.is_empty() {
            "/v1/packs".to_owned()
        } else {
            format!("/v1/packs?{query}")
        };
        self.send(
            request(Method::POST, &uri)
                .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
                .header("content-type", "application/gzip")
                .body(Body::from(archive))
                .unwrap(),
        )
        .await
    }

    pub async fn publish(&self, archive: Vec<u8>) -> TestResponse {
        self.publish_with("", archive).await
    }

    /// Publishes and asserts 201.
    pub async fn publish_ok(&self, pack: &packs::TestPack) -> serde_json::Value {
        let response = self.publish(pack.archive()).await;
        assert_eq!(
            response.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&response.body)
        );
        response.json()
    }

    /// `PATCH /v1/packs/{name}/tags/{version}` with the admin token.
    pub async fn set_state(&self, name: &str, version: &str, state: &str) -> TestResponse {
        self.send(
            request(Method::PATCH, &format!("/v1/packs/{name}/tags/{version}"))
                .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
                .header("content-type", "application/json")
                .body(Body::from(
                    serde_json::json!({ "state": state }).to_string(),
                ))
                .unwrap(),
        )
        .await
    }

    /// `POST` a JSON body.
    pub async fn post_json(&self, uri: &str, body: serde_json::Value) -> TestResponse {
        self.send(
            request(Method::POST, uri)
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    pub fn registry_uid(&self) -> String {
        self.state.registry.uid().to_owned()
    }

    /// `GET /v1/packs/{name}/registries/{uid}{query}`.
    pub async fn tag_entity(&self, name: &str, query: &str) -> TestResponse {
        self.get(&format!(
            "/v1/packs/{name}/registries/{}{query}",
            self.registry_uid()
        ))
        .await
    }

    /// Every version row of a pack in the database.
    pub async fn version_rows(&self, name: &str) -> Vec<packyard::store::versions::VersionRow> {
        let name = name.parse().expect("a pack name");
        packyard::store::versions::list_for_pack(self.db.reader(), &name)
            .await
            .unwrap()
    }

    /// Every blob row in the database, as digest strings.
    pub async fn stored_digests(&self) -> Vec<String> {
        packyard::store::blob_records::all_blobs(self.db.reader())
            .await
            .expect("list blobs")
            .into_iter()
            .map(|record| record.digest.to_string())
            .collect()
    }

    /// Every regular file under the blob store's directory (blobs and uploads alike).
    pub fn blob_files(&self) -> Vec<std::path::PathBuf> {
        files_under(&self.config.storage.blobs_dir())
    }
}

pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

pub fn request(method: Method, uri: &str) -> axum::http::request::Builder {
    Request::builder().method(method).uri(uri)
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl TestResponse {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status and an error shape, and returns packyard's precise error code: the
    /// `code` of packyard's own routes, or the `details.code` that Palette's routes carry under
    /// Palette's own `code` (`tests/palette_clients.rs` checks that shape itself).
    pub fn error_code(&self, status: StatusCode) -> String {
        assert_eq!(
            self.status,
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        let body = self.json();
        let message = body["message"].as_str().expect("error has a message");
        assert!(!message.is_empty());
        let precise = body["details"]["code"].as_str().or(body["code"].as_str());
        precise.expect("error has a code").to_owned()
    }
}
