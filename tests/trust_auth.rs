//! Authentication and authorisation over the real router: API tokens by scope, the admin token,
//! htpasswd users, private registries, revocation; and the limits that answer 503 or 413.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use base64::Engine;
use common::packs::TestPack;
use common::{ADMIN_TOKEN, TestRegistry, TestResponse, digest_of, request};
use packyard::auth::{Scope, generate_token, token_hash};

/// Creates a token with `scope` in the registry's database, the way `packyard token create` does.
async fn token(registry: &TestRegistry, name: &str, scope: Scope) -> String {
    let token = generate_token().unwrap();
    assert!(
        packyard::store::tokens::create(
            registry.db.writer(),
            name,
            &token_hash(&token),
            scope,
            &packyard::domain::PackPatterns::all()
        )
        .await
        .unwrap()
    );
    token
}

fn basic(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

async fn send_as(
    registry: &TestRegistry,
    method: Method,
    uri: &str,
    authorization: Option<&str>,
    body: Vec<u8>,
) -> TestResponse {
    let mut builder = request(method, uri);
    if let Some(value) = authorization {
        builder = builder.header("authorization", value);
    }
    if uri.starts_with("/v1/packs") && !body.is_empty() {
        let kind = if body.starts_with(b"{") {
            "application/json"
        } else {
            "application/gzip"
        };
        builder = builder.header("content-type", kind);
    }
    registry.send(builder.body(Body::from(body)).unwrap()).await
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn each_scope_allows_exactly_its_operations() {
    let registry = TestRegistry::new().await;
    let read = bearer(&token(&registry, "reader", Scope::Read).await);
    let write = bearer(&token(&registry, "writer", Scope::Write).await);
    let admin = bearer(&token(&registry, "operator", Scope::Admin).await);
    let content = b"scoped blob".to_vec();
    let blob_uri = format!("/v1/demo/blobs/{}", digest_of(&content));

    // Upload: no credentials 401 (with a challenge), read 403, write 201.
    let anonymous = send_as(&registry, Method::PUT, &blob_uri, None, content.clone()).await;
    assert_eq!(
        anonymous.error_code(StatusCode::UNAUTHORIZED),
        "UNAUTHORIZED"
    );
    assert_eq!(
        anonymous.header("www-authenticate"),
        Some("Bearer realm=\"packyard\"")
    );
    let reader = send_as(
        &registry,
        Method::PUT,
        &blob_uri,
        Some(&read),
        content.clone(),
    )
    .await;
    assert_eq!(reader.error_code(StatusCode::FORBIDDEN), "DENIED");
    assert!(String::from_utf8_lossy(&reader.body).contains("needs write"));
    assert!(registry.stored_digests().await.is_empty());
    let writer = send_as(
        &registry,
        Method::PUT,
        &blob_uri,
        Some(&write),
        content.clone(),
    )
    .await;
    assert_eq!(writer.status, StatusCode::CREATED);

    // Publish: read 403, write 201; the audit actor is the token's name.
    let pack = TestPack::new("demo", "1.0.0");
    let refused = send_as(
        &registry,
        Method::POST,
        "/v1/packs",
        Some(&read),
        pack.archive(),
    )
    .await;
    assert_eq!(refused.error_code(StatusCode::FORBIDDEN), "DENIED");
    assert!(registry.version_rows("demo").await.is_empty());
    let published = send_as(
        &registry,
        Method::POST,
        "/v1/packs",
        Some(&write),
        pack.archive(),
    )
    .await;
    assert_eq!(
        published.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&published.body)
    );

    // A forced replace and a lifecycle change need admin.
    let changed = TestPack::new("demo", "1.0.0").file("README.md", "# demo\n\nChanged.\n");
    let forced = send_as(
        &registry,
        Method::POST,
        "/v1/packs?force=true&message=fix",
        Some(&write),
        changed.archive(),
    )
    .await;
    assert_eq!(forced.error_code(StatusCode::FORBIDDEN), "DENIED");
    let patch = br#"{"state": "deprecated"}"#.to_vec();
    let uri = "/v1/packs/demo/tags/1.0.0";
    let by_writer = send_as(&registry, Method::PATCH, uri, Some(&write), patch.clone()).await;
    assert_eq!(by_writer.error_code(StatusCode::FORBIDDEN), "DENIED");
    assert_eq!(
        registry.version_rows("demo").await[0].state.as_str(),
        "active"
    );
    let by_admin = send_as(&registry, Method::PATCH, uri, Some(&admin), patch.clone()).await;
    assert_eq!(
        by_admin.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&by_admin.body)
    );
    assert_eq!(
        registry.version_rows("demo").await[0].state.as_str(),
        "deprecated"
    );
    let forced = send_as(
        &registry,
        Method::POST,
        "/v1/packs?force=true&message=fix",
        Some(&admin),
        changed.archive(),
    )
    .await;
    assert!(
        forced.status.is_success(),
        "{}",
        String::from_utf8_lossy(&forced.body)
    );

    // The audit trail names who did what.
    let actors: Vec<String> = packyard::store::versions::list_events(
        registry.db.reader(),
        &"demo".parse().unwrap(),
        &"1.0.0".parse().unwrap(),
    )
    .await
    .unwrap()
    .into_iter()
    .map(|event| event.actor)
    .collect();
    assert_eq!(actors, ["writer", "operator", "operator"]);
}

#[tokio::test]
async fn reads_are_public_but_presented_credentials_must_be_valid() {
    let registry = TestRegistry::new().await;
    assert_eq!(registry.get("/v1/_catalog").await.status, StatusCode::OK);
    // An unknown token, an unknown scheme, a scheme without credentials.
    for authorization in ["Bearer pky_not-a-token", "Digest abc", "Bearer"] {
        let refused = send_as(
            &registry,
            Method::GET,
            "/v1/_catalog",
            Some(authorization),
            vec![],
        )
        .await;
        assert_eq!(
            refused.error_code(StatusCode::UNAUTHORIZED),
            "UNAUTHORIZED",
            "{authorization}"
        );
    }
}

#[tokio::test]
async fn a_private_registry_needs_the_read_scope_except_for_health() {
    let registry = TestRegistry::with_config(|config| config.private = true).await;
    let read = bearer(&token(&registry, "reader", Scope::Read).await);
    for uri in ["/v1/_catalog", "/v1/packs", "/", "/v1/registries/metadata"] {
        let anonymous = registry.get(uri).await;
        assert_eq!(
            anonymous.error_code(StatusCode::UNAUTHORIZED),
            "UNAUTHORIZED",
            "{uri}"
        );
        assert!(anonymous.header("www-authenticate").is_some(), "{uri}");
        let allowed = send_as(&registry, Method::GET, uri, Some(&read), vec![]).await;
        assert_eq!(allowed.status, StatusCode::OK, "{uri}");
    }
    assert_eq!(registry.get("/health").await.status, StatusCode::OK);
}

#[tokio::test]
async fn htpasswd_users_authenticate_with_basic() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("htpasswd");
    // Cost 4 keeps the test fast; the format is the one `htpasswd -B` writes.
    let hash = bcrypt::hash("palette-sync", 4).unwrap();
    std::fs::write(&file, format!("# Palette sync user\nsync:{hash}\n")).unwrap();
    let registry = TestRegistry::with_config(|config| {
        config.htpasswd = Some(file.clone());
        config.private = true;
    })
    .await;
    let anonymous = registry.get("/v1/_catalog").await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let challenges: Vec<&str> = anonymous
        .headers
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(
        challenges,
        ["Bearer realm=\"packyard\"", "Basic realm=\"packyard\""]
    );

    let good = basic("sync", "palette-sync");
    assert_eq!(
        send_as(&registry, Method::GET, "/v1/_catalog", Some(&good), vec![])
            .await
            .status,
        StatusCode::OK
    );
    for bad in [
        basic("sync", "wrong"),
        basic("nobody", "palette-sync"),
        "Basic !!!".to_owned(),
    ] {
        let response = send_as(&registry, Method::GET, "/v1/_catalog", Some(&bad), vec![]).await;
        assert_eq!(
            response.error_code(StatusCode::UNAUTHORIZED),
            "UNAUTHORIZED",
            "{bad}"
        );
    }
    // htpasswd users write (Palette-style sync) but cannot change lifecycles.
    let content = b"synced".to_vec();
    let uri = format!("/v1/demo/blobs/{}", digest_of(&content));
    let uploaded = send_as(&registry, Method::PUT, &uri, Some(&good), content).await;
    assert_eq!(uploaded.status, StatusCode::CREATED);
    registry.publish_ok(&TestPack::new("demo", "1.0.0")).await;
    let patch = send_as(
        &registry,
        Method::PATCH,
        "/v1/packs/demo/tags/1.0.0",
        Some(&good),
        br#"{"state": "deprecated"}"#.to_vec(),
    )
    .await;
    assert_eq!(patch.error_code(StatusCode::FORBIDDEN), "DENIED");
}

#[tokio::test]
async fn a_revoked_token_stops_working() {
    let registry = TestRegistry::new().await;
    let write = bearer(&token(&registry, "ci", Scope::Write).await);
    let content = b"before revocation".to_vec();
    let uri = format!("/v1/demo/blobs/{}", digest_of(&content));
    assert_eq!(
        send_as(&registry, Method::PUT, &uri, Some(&write), content)
            .await
            .status,
        StatusCode::CREATED
    );
    assert!(
        packyard::store::tokens::revoke(registry.db.writer(), "ci")
            .await
            .unwrap()
    );
    // Lookups are remembered for two seconds at most.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let content = b"after revocation".to_vec();
    let uri = format!("/v1/demo/blobs/{}", digest_of(&content));
    let refused = send_as(&registry, Method::PUT, &uri, Some(&write), content).await;
    assert_eq!(refused.error_code(StatusCode::UNAUTHORIZED), "UNAUTHORIZED");
    assert_eq!(registry.stored_digests().await.len(), 1);
}

#[tokio::test]
async fn beyond_the_request_cap_requests_get_503_with_retry_after() {
    let registry = TestRegistry::with_config(|config| config.max_concurrent_requests = 3).await;
    // Three requests in flight: hold every slot.
    let held = registry
        .state
        .request_permits
        .clone()
        .acquire_many_owned(3)
        .await
        .unwrap();
    let refused = registry.get("/v1/_catalog").await;
    assert_eq!(
        refused.error_code(StatusCode::SERVICE_UNAVAILABLE),
        "OVERLOADED"
    );
    assert_eq!(refused.header("retry-after"), Some("1"));
    drop(held);
    assert_eq!(registry.get("/v1/_catalog").await.status, StatusCode::OK);
}

#[tokio::test]
async fn renders_wait_for_a_slot_and_then_get_503() {
    let registry = TestRegistry::with_config(|config| {
        config.render_concurrency = 1;
        config.render_queue_timeout_secs = 0;
    })
    .await;
    registry.publish_ok(&TestPack::new("demo", "1.0.0")).await;
    let uri = "/v1/packs/demo/tags/1.0.0/render?cloudType=aws";
    let held = registry.state.registry.render_slot().await.unwrap();
    let refused = registry.get(uri).await;
    assert_eq!(
        refused.error_code(StatusCode::SERVICE_UNAVAILABLE),
        "OVERLOADED"
    );
    assert_eq!(refused.header("retry-after"), Some("1"));
    drop(held);
    assert_eq!(registry.get(uri).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_handler_past_the_request_time_limit_gets_503() {
    let registry = TestRegistry::with_config(|config| {
        config.render_concurrency = 1;
        config.render_queue_timeout_secs = 30;
        config.request_timeout_secs = 1;
    })
    .await;
    registry.publish_ok(&TestPack::new("demo", "1.0.0")).await;
    let held = registry.state.registry.render_slot().await.unwrap();
    let started = std::time::Instant::now();
    let refused = registry
        .get("/v1/packs/demo/tags/1.0.0/render?cloudType=aws")
        .await;
    assert_eq!(
        refused.error_code(StatusCode::SERVICE_UNAVAILABLE),
        "OVERLOADED"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    drop(held);
}

#[tokio::test]
async fn json_bodies_are_small_and_archives_large() {
    let registry = TestRegistry::with_config(|config| config.max_pack_size = 2 << 20).await;
    // 64 KiB is the limit of the search body.
    let big = format!(r#"{{"filter": {{"text": "{}"}}}}"#, "x".repeat(70 * 1024));
    let response = registry
        .send(
            request(Method::POST, "/v1/packs/search")
                .header("content-type", "application/json")
                .body(Body::from(big))
                .unwrap(),
        )
        .await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    // A lifecycle change with a 100 KiB body is refused the same way, and changes nothing.
    registry.publish_ok(&TestPack::new("demo", "1.0.0")).await;
    let body = format!(
        r#"{{"state": "deprecated", "message": "{}"}}"#,
        "x".repeat(100 * 1024)
    );
    let response = send_as(
        &registry,
        Method::PATCH,
        "/v1/packs/demo/tags/1.0.0",
        Some(&bearer(ADMIN_TOKEN)),
        body.into_bytes(),
    )
    .await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        registry.version_rows("demo").await[0].state.as_str(),
        "active"
    );
    // A pack archive of 1.5 MiB (a chart, say) is within the archive limit.
    let padding: Vec<u8> = (0..1_500_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let large = TestPack::new("large", "1.0.0").file("files/blob.bin", padding);
    let published = registry.publish(large.archive()).await;
    assert_eq!(
        published.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&published.body)
    );
}
