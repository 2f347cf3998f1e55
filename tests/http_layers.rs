//! The middleware around every route (tower-http): request ids, compression, panics caught as
//! 500s, and cross-origin reads with `--cors-origins`.

mod common;

use std::io::Read;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use common::packs::TestPack;
use common::{TestRegistry, request};

#[tokio::test]
async fn every_response_has_a_request_id_and_a_client_id_is_kept() {
    let registry = TestRegistry::new().await;
    let first = registry.get("/v1/_catalog").await;
    let second = registry.get("/v1/_catalog").await;
    let (a, b) = (first.header("x-request-id"), second.header("x-request-id"));
    assert!(a.is_some() && b.is_some() && a != b, "{a:?} {b:?}");
    let mine = registry
        .send(
            request(Method::GET, "/v1/nothing-here/tags/list")
                .header("x-request-id", "client-chosen-42")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(mine.status, StatusCode::NOT_FOUND);
    assert_eq!(mine.header("x-request-id"), Some("client-chosen-42"));
}

async fn get_encoded(registry: &TestRegistry, uri: &str, accept: &str) -> common::TestResponse {
    registry
        .send(
            request(Method::GET, uri)
                .header("accept-encoding", accept)
                .body(Body::empty())
                .unwrap(),
        )
        .await
}

#[tokio::test]
async fn json_is_compressed_with_gzip_or_zstd_and_blobs_never_are() {
    let registry = TestRegistry::new().await;
    for index in 0..8 {
        registry
            .publish_ok(&TestPack::new(&format!("app-{index}"), "1.0.0"))
            .await;
    }
    let plain = registry.get("/v1/packs").await;
    assert_eq!(plain.header("content-encoding"), None);
    assert!(plain.body.len() > 4096, "{}", plain.body.len());

    let zstd = get_encoded(&registry, "/v1/packs", "zstd").await;
    assert_eq!(zstd.header("content-encoding"), Some("zstd"));
    assert!(zstd.body.len() < plain.body.len() / 2);
    assert_eq!(zstd::decode_all(&zstd.body[..]).unwrap(), plain.body);

    let gzip = get_encoded(&registry, "/v1/packs", "gzip").await;
    assert_eq!(gzip.header("content-encoding"), Some("gzip"));
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&gzip.body[..])
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(decoded, plain.body);

    // A blob is served as stored, even as JSON to a client that takes zstd.
    let content = serde_json::to_vec(&serde_json::json!({"big": "x".repeat(10_000)})).unwrap();
    assert_eq!(
        registry.put_blob("app-0", &content).await.status,
        StatusCode::CREATED
    );
    let uri = format!(
        "/v1/app-0/blobs/{}?type=application/json",
        common::digest_of(&content)
    );
    let blob = get_encoded(&registry, &uri, "zstd, gzip").await;
    assert_eq!(blob.status, StatusCode::OK);
    assert_eq!(blob.header("content-type"), Some("application/json"));
    assert_eq!(blob.header("content-encoding"), None);
    assert_eq!(blob.body, content);
}

#[tokio::test]
async fn a_panicking_handler_is_a_500_in_the_error_shape() {
    let routes = axum::Router::new().route(
        "/boom",
        axum::routing::get(|| async {
            panic!("the secret detail");
            #[allow(unreachable_code)]
            ""
        }),
    );
    let metrics = std::sync::Arc::new(packyard::http::metrics::Metrics::default());
    let app = packyard::http::layers::around(routes, metrics);
    let response = tower::ServiceExt::oneshot(
        app,
        request(Method::GET, "/boom").body(Body::empty()).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(response.headers().contains_key("x-request-id"));
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["code"], "INTERNAL_ERROR");
    assert!(!body.to_string().contains("secret"), "{body}");
}

async fn preflight(
    registry: &TestRegistry,
    uri: &str,
    origin: &str,
    method: &str,
) -> common::TestResponse {
    registry
        .send(
            request(Method::OPTIONS, uri)
                .header("origin", origin)
                .header("access-control-request-method", method)
                .header("access-control-request-headers", "content-type")
                .body(Body::empty())
                .unwrap(),
        )
        .await
}

#[tokio::test]
async fn cors_origins_may_read_the_catalog_but_not_write() {
    let tools = "https://tools.example.com";
    let registry = TestRegistry::with_config(|config| {
        config.cors_origins = vec![tools.to_owned()];
    })
    .await;
    registry.publish_ok(&TestPack::new("demo", "1.0.0")).await;
    let read = registry
        .send(
            request(Method::GET, "/v1/packs")
                .header("origin", tools)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.header("access-control-allow-origin"), Some(tools));
    let search = preflight(&registry, "/v1/packs/search", tools, "POST").await;
    assert!(search.status.is_success(), "{}", search.status);
    assert_eq!(search.header("access-control-allow-origin"), Some(tools));
    let methods = search
        .header("access-control-allow-methods")
        .unwrap_or_default();
    assert!(
        methods.contains("POST") && !methods.contains("PUT"),
        "{methods}"
    );
    // Writes need Authorization, which is not an allowed header: a browser never sends it.
    let write = registry
        .send(
            request(Method::OPTIONS, "/v1/packs")
                .header("origin", tools)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "authorization")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let allowed = write
        .header("access-control-allow-headers")
        .unwrap_or_default();
    assert!(
        !allowed.to_ascii_lowercase().contains("authorization"),
        "{allowed}"
    );
    // Another origin is not told anything.
    let other = preflight(
        &registry,
        "/v1/packs/search",
        "https://evil.example",
        "POST",
    )
    .await;
    assert_eq!(other.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn without_cors_origins_there_are_no_cors_headers() {
    let registry = TestRegistry::new().await;
    let read = registry
        .send(
            request(Method::GET, "/v1/_catalog")
                .header("origin", "https://tools.example.com")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.header("access-control-allow-origin"), None);
}
