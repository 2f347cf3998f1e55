//! The blob endpoints through the real router: upload, download, ranges, conditional requests,
//! malformed input and what stays stored afterwards.

mod common;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use common::{ADMIN_TOKEN, TestRegistry, digest_of, request, sha256_hex};

fn sample(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[tokio::test]
async fn uploaded_blob_downloads_with_every_header() {
    let registry = TestRegistry::new().await;
    let content = sample(10_000);
    let digest = digest_of(&content);

    let put = registry
        .send(
            request(Method::PUT, &format!("/v1/cni-calico/blobs/{digest}"))
                .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
                .header("content-type", "image/png")
                .body(Body::from(content.clone()))
                .unwrap(),
        )
        .await;
    assert_eq!(put.status, StatusCode::CREATED);
    assert_eq!(
        put.header("location"),
        Some(format!("/v1/cni-calico/blobs/{digest}").as_str())
    );
    assert_eq!(put.header("docker-content-digest"), Some(digest.as_str()));
    assert_eq!(put.json()["size"], 10_000);

    let get = registry
        .get(&format!("/v1/cni-calico/blobs/{digest}"))
        .await;
    assert_eq!(get.status, StatusCode::OK);
    assert_eq!(&get.body[..], &content[..]);
    assert_eq!(get.header("content-length"), Some("10000"));
    assert_eq!(get.header("content-type"), Some("image/png"));
    assert_eq!(get.header("etag"), Some(format!("\"{digest}\"").as_str()));
    assert_eq!(get.header("docker-content-digest"), Some(digest.as_str()));
    assert_eq!(
        get.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(get.header("accept-ranges"), Some("bytes"));
}

#[tokio::test]
async fn type_parameter_sets_the_content_type_only_when_valid() {
    let registry = TestRegistry::new().await;
    let content = b"logo bytes".to_vec();
    let digest = digest_of(&content);
    assert_eq!(
        registry.put_blob("cni-calico", &content).await.status,
        StatusCode::CREATED
    );
    let uri = format!("/v1/cni-calico/blobs/{digest}");

    let plain = registry.get(&uri).await;
    assert_eq!(
        plain.header("content-type"),
        Some("application/octet-stream")
    );
    let png = registry.get(&format!("{uri}?type=image/png")).await;
    assert_eq!(png.header("content-type"), Some("image/png"));
    let with_params = registry
        .get(&format!("{uri}?type=text/plain;%20charset=utf-8"))
        .await;
    assert_eq!(
        with_params.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    for invalid in ["png", "image/", "text/html%0D%0AX-Injected:%201", ""] {
        let response = registry.get(&format!("{uri}?type={invalid}")).await;
        assert_eq!(response.status, StatusCode::OK, "type={invalid}");
        assert_eq!(
            response.header("content-type"),
            Some("application/octet-stream"),
            "type={invalid}"
        );
        assert!(response.header("x-injected").is_none());
    }
}

#[tokio::test]
async fn single_range_gets_206_and_unsatisfiable_range_gets_416() {
    let registry = TestRegistry::new().await;
    let content = sample(1000);
    let digest = digest_of(&content);
    registry.put_blob("cni-calico", &content).await;
    let uri = format!("/v1/cni-calico/blobs/{digest}");
    let ranged = |range: &'static str| {
        request(Method::GET, &uri)
            .header("range", range)
            .body(Body::empty())
            .unwrap()
    };

    let middle = registry.send(ranged("bytes=100-199")).await;
    assert_eq!(middle.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(&middle.body[..], &content[100..200]);
    assert_eq!(middle.header("content-range"), Some("bytes 100-199/1000"));
    assert_eq!(middle.header("content-length"), Some("100"));

    let suffix = registry.send(ranged("bytes=-10")).await;
    assert_eq!(suffix.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(&suffix.body[..], &content[990..]);
    assert_eq!(suffix.header("content-range"), Some("bytes 990-999/1000"));

    let open_ended = registry.send(ranged("bytes=995-")).await;
    assert_eq!(&open_ended.body[..], &content[995..]);

    let beyond = registry.send(ranged("bytes=1000-1010")).await;
    assert_eq!(
        beyond.error_code(StatusCode::RANGE_NOT_SATISFIABLE),
        "RANGE_NOT_SATISFIABLE"
    );
    assert_eq!(beyond.header("content-range"), Some("bytes */1000"));

    // Several ranges are answered with the whole blob.
    let several = registry.send(ranged("bytes=0-1,5-6")).await;
    assert_eq!(several.status, StatusCode::OK);
    assert_eq!(several.body.len(), 1000);
}

#[tokio::test]
async fn matching_if_none_match_gets_304_without_body() {
    let registry = TestRegistry::new().await;
    let content = sample(500);
    let digest = digest_of(&content);
    registry.put_blob("cni-calico", &content).await;
    let uri = format!("/v1/cni-calico/blobs/{digest}");

    let cached = registry
        .send(
            request(Method::GET, &uri)
                .header("if-none-match", format!("\"{digest}\""))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
    assert!(cached.body.is_empty());
    assert_eq!(
        cached.header("etag"),
        Some(format!("\"{digest}\"").as_str())
    );

    let stale = registry
        .send(
            request(Method::GET, &uri)
                .header("if-none-match", "\"sha256:0000\"")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(stale.status, StatusCode::OK);
    assert_eq!(stale.body.len(), 500);
}

#[tokio::test]
async fn head_sends_headers_without_a_body() {
    let registry = TestRegistry::new().await;
    let content = sample(4096);
    let digest = digest_of(&content);
    registry.put_blob("cni-calico", &content).await;

    let head = registry
        .send(
            request(
                Method::HEAD,
                &format!("/v1/cni-calico/blobs/{digest}?type=image/png"),
            )
            .body(Body::empty())
            .unwrap(),
        )
        .await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-length"), Some("4096"));
    assert_eq!(head.header("content-type"), Some("image/png"));
    assert_eq!(head.header("docker-content-digest"), Some(digest.as_str()));

    let missing = registry
        .send(
            request(
                Method::HEAD,
                &format!("/v1/cni-calico/blobs/{}", digest_of(b"other")),
            )
            .body(Body::empty())
            .unwrap(),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn blob_of_another_pack_is_not_found() {
    let registry = TestRegistry::new().await;
    let content = sample(64);
    let digest = digest_of(&content);
    registry.put_blob("cni-calico", &content).await;

    let other = registry
        .get(&format!("/v1/kubernetes/blobs/{digest}"))
        .await;
    assert_eq!(other.error_code(StatusCode::NOT_FOUND), "BLOB_UNKNOWN");
    let unknown = registry
        .get(&format!(
            "/v1/cni-calico/blobs/{}",
            digest_of(b"never uploaded")
        ))
        .await;
    assert_eq!(unknown.error_code(StatusCode::NOT_FOUND), "BLOB_UNKNOWN");
}

/// Digest forms that must be refused with 400 before any file-system access.
fn malformed_digests() -> Vec<String> {
    let hex = sha256_hex(b"x");
    vec![
        hex.clone(),
        format!("sha256:{}", hex.to_uppercase()),
        format!("sha512:{hex}"),
        format!("md5:{}", &hex[..32]),
        format!("sha256:{}", &hex[..63]),
        format!("sha256:{hex}00"),
        "sha256:..".to_owned(),
        "sha256:%2e%2e".to_owned(),
        "sha256:%2E%2E%2Fetc%2Fpasswd".to_owned(),
        "..".to_owned(),
        "%2e%2e".to_owned(),
        format!("sha256:{}/../{}", &hex[..10], &hex[10..]),
        "sha256:../../../../etc/passwd".to_owned(),
        format!("sha256:{}g", &hex[..63]),
        format!("sha256:{hex}/"),
        format!("SHA256:{hex}"),
        "sha256:".to_owned(),
    ]
}

#[tokio::test]
async fn every_malformed_digest_is_refused_with_400() {
    let registry = TestRegistry::new().await;
    for digest in malformed_digests() {
        let uri = format!("/v1/cni-calico/blobs/{digest}");
        for method in [Method::GET, Method::HEAD] {
            let response = registry
                .send(request(method.clone(), &uri).body(Body::empty()).unwrap())
                .await;
            assert_eq!(response.status, StatusCode::BAD_REQUEST, "{method} {uri}");
        }
        let put = registry
            .send(
                request(Method::PUT, &uri)
                    .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
                    .body(Body::from("payload"))
                    .unwrap(),
            )
            .await;
        assert_eq!(
            put.error_code(StatusCode::BAD_REQUEST),
            "DIGEST_INVALID",
            "PUT {uri}"
        );
    }
    assert!(registry.stored_digests().await.is_empty());
    assert!(
        registry.blob_files().is_empty(),
        "{:?}",
        registry.blob_files()
    );
}

#[tokio::test]
async fn malformed_pack_names_are_refused_with_400() {
    let registry = TestRegistry::new().await;
    let digest = digest_of(b"x");
    for name in [
        "CNI-Calico",
        "..",
        "%2e%2e",
        "cni%2Fcalico",
        "-calico",
        "cni..calico",
        "_catalog2",
        "a%20b",
    ] {
        let uri = format!("/v1/{name}/blobs/{digest}");
        let get = registry.get(&uri).await;
        assert_eq!(
            get.error_code(StatusCode::BAD_REQUEST),
            "NAME_INVALID",
            "{uri}"
        );
        let put = registry
            .send(
                request(Method::PUT, &uri)
                    .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
                    .body(Body::from("x"))
                    .unwrap(),
            )
            .await;
        assert_eq!(put.status, StatusCode::BAD_REQUEST, "{uri}");
    }
    assert!(registry.stored_digests().await.is_empty());
}

#[tokio::test]
async fn digest_mismatch_is_refused_and_nothing_is_stored() {
    let registry = TestRegistry::new().await;
    let claimed = digest_of(b"what the client claims");
    let response = registry
        .send(
            request(Method::PUT, &format!("/v1/cni-calico/blobs/{claimed}"))
                .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
                .body(Body::from("something else entirely"))
                .unwrap(),
        )
        .await;
    assert_eq!(
        response.error_code(StatusCode::BAD_REQUEST),
        "DIGEST_INVALID"
    );
    let message = response.json()["message"].as_str().unwrap().to_owned();
    assert!(message.contains(&claimed), "{message}");
    assert!(
        message.contains(&digest_of(b"something else entirely")),
        "{message}"
    );

    assert!(registry.stored_digests().await.is_empty());
    assert!(
        registry.blob_files().is_empty(),
        "{:?}",
        registry.blob_files()
    );
    assert_eq!(registry.blobs.pending_uploads().await.unwrap(), 0);
    let catalog = registry.get("/v1/_catalog").await.json();
    assert_eq!(catalog["repositories"], serde_json::json!([]));
}

#[tokio::test]
async fn identical_reupload_answers_200_and_keeps_one_file() {
    let registry = TestRegistry::new().await;
    let content = sample(2048);
    assert_eq!(
        registry.put_blob("cni-calico", &content).await.status,
        StatusCode::CREATED
    );
    let again = registry.put_blob("cni-calico", &content).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(
        again.header("docker-content-digest"),
        Some(digest_of(&content).as_str())
    );
    // The same bytes for another pack are a new reference to the same file.
    assert_eq!(
        registry.put_blob("kubernetes", &content).await.status,
        StatusCode::CREATED
    );
    assert_eq!(registry.blob_files().len(), 1);
    assert_eq!(registry.stored_digests().await, vec![digest_of(&content)]);
}

#[tokio::test]
async fn concurrent_uploads_of_the_same_blob_leave_one_file() {
    let registry = TestRegistry::new().await;
    let content = sample(300_000);
    let uploads = (0..8).map(|_| registry.put_blob("cni-calico", &content));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(uploads)
        .await
        .into_iter()
        .map(|response| response.status)
        .collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert!(statuses.iter().all(|s| s.is_success()), "{statuses:?}");
    assert_eq!(
        registry.blob_files().len(),
        1,
        "{:?}",
        registry.blob_files()
    );
    let download = registry
        .get(&format!("/v1/cni-calico/blobs/{}", digest_of(&content)))
        .await;
    assert_eq!(&download.body[..], &content[..]);
}

#[tokio::test]
async fn writes_need_the_admin_token() {
    let registry = TestRegistry::new().await;
    let content = b"guarded".to_vec();
    let uri = format!("/v1/cni-calico/blobs/{}", digest_of(&content));
    for authorization in [
        None,
        Some("Bearer wrong-token"),
        Some("Basic dXNlcjpwYXNz"),
        Some("wrong-bare-token"),
    ] {
        let mut builder = request(Method::PUT, &uri);
        if let Some(value) = authorization {
            builder = builder.header("authorization", value);
        }
        let response = registry
            .send(builder.body(Body::from(content.clone())).unwrap())
            .await;
        assert_eq!(
            response.error_code(StatusCode::UNAUTHORIZED),
            "UNAUTHORIZED"
        );
        assert_eq!(
            response.header("www-authenticate"),
            Some("Bearer realm=\"packyard\"")
        );
    }
    assert!(registry.stored_digests().await.is_empty());
    // The scheme is case-insensitive.
    let ok = registry
        .send(
            request(Method::PUT, &uri)
                .header("authorization", format!("bearer {ADMIN_TOKEN}"))
                .body(Body::from(content.clone()))
                .unwrap(),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED);
    // A bare token (as Palette's clients send session tokens) is a bearer token.
    let other = b"guarded too".to_vec();
    let bare = registry
        .send(
            request(
                Method::PUT,
                &format!("/v1/cni-calico/blobs/{}", digest_of(&other)),
            )
            .header("authorization", ADMIN_TOKEN)
            .body(Body::from(other))
            .unwrap(),
        )
        .await;
    assert_eq!(bare.status, StatusCode::CREATED);
}

#[tokio::test]
async fn without_an_admin_token_the_admin_token_is_not_accepted() {
    let registry = TestRegistry::with_config(|config| config.admin_token = None).await;
    let content = b"no writes".to_vec();
    let response = registry.put_blob("cni-calico", &content).await;
    assert_eq!(
        response.error_code(StatusCode::UNAUTHORIZED),
        "UNAUTHORIZED"
    );
    assert!(registry.stored_digests().await.is_empty());
}

#[tokio::test]
async fn oversized_uploads_are_refused_with_nothing_stored() {
    let registry = TestRegistry::with_config(|config| config.max_blob_size = 1000).await;
    let content = sample(1001);
    // Declared too large: refused before reading.
    let declared = registry.put_blob("cni-calico", &content).await;
    assert_eq!(
        declared.error_code(StatusCode::PAYLOAD_TOO_LARGE),
        "BLOB_TOO_LARGE"
    );
    // Streamed without a length: cut off at the limit.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        content.chunks(100).map(|c| Ok(c.to_vec())).collect();
    let streamed = registry
        .send(
            request(
                Method::PUT,
                &format!("/v1/cni-calico/blobs/{}", digest_of(&content)),
            )
            .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
            .body(Body::from_stream(futures_util::stream::iter(chunks)))
            .unwrap(),
        )
        .await;
    assert_eq!(
        streamed.error_code(StatusCode::PAYLOAD_TOO_LARGE),
        "BLOB_TOO_LARGE"
    );
    assert!(registry.stored_digests().await.is_empty());
    assert!(registry.blob_files().is_empty());
    // At the limit is fine.
    assert_eq!(
        registry.put_blob("cni-calico", &sample(1000)).await.status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn empty_blob_round_trips() {
    let registry = TestRegistry::new().await;
    assert_eq!(
        registry.put_blob("cni-calico", b"").await.status,
        StatusCode::CREATED
    );
    let get = registry
        .get(&format!("/v1/cni-calico/blobs/{}", digest_of(b"")))
        .await;
    assert_eq!(get.status, StatusCode::OK);
    assert_eq!(get.header("content-length"), Some("0"));
    assert!(get.body.is_empty());
}

#[tokio::test]
async fn a_failing_upload_stream_leaves_no_temporary_file() {
    let registry = TestRegistry::new().await;
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![
        Ok(vec![1u8; 5000]),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "client went away",
        )),
    ];
    let response = registry
        .send(
            request(
                Method::PUT,
                &format!("/v1/cni-calico/blobs/{}", digest_of(b"whole")),
            )
            .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
            .body(Body::from_stream(futures_util::stream::iter(chunks)))
            .unwrap(),
        )
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(registry.blobs.pending_uploads().await.unwrap(), 0);
    assert!(registry.blob_files().is_empty());
    assert!(registry.stored_digests().await.is_empty());
}

#[tokio::test]
async fn unfinished_uploads_are_removed_when_a_server_starts_never_by_commands() {
    let registry = TestRegistry::new().await;
    let uploads = registry.config.storage.blobs_dir().join("_uploads");
    std::fs::write(uploads.join("1234-5-6.part"), b"half an upload").unwrap();
    // What `gc` and `verify` open: a server beside them may have this upload in flight.
    let reopened = packyard::store::blobs::BlobStore::open(registry.config.storage.blobs_dir())
        .await
        .unwrap();
    assert_eq!(reopened.pending_uploads().await.unwrap(), 1);
    // A server starting on the store takes it for a crash's leftover.
    packyard::app::open(&registry.config).await.unwrap();
    assert_eq!(reopened.pending_uploads().await.unwrap(), 0);
}
