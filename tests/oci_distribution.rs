//! The OCI distribution API (distribution-spec v1.1) through a live `packyard serve` on 127.0.0.1:
//! every endpoint, the requests the official conformance suite (v1.1.1, `conformance/0*_test.go`)
//! makes with the answers it expects, and the spec's MUSTs beyond them: errors in the spec's shape
//! and codes, bad input that stores nothing, credentials. On the suite's backend (SQLite, or
//! PostgreSQL in its PostgreSQL phase) with file blobs, and once on PostgreSQL + S3 (moto).

mod common;

use std::time::Duration;

use common::process::{ServerProcess, Setup};
use common::{ADMIN_TOKEN, digest_of};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// A client of one server, with the admin token unless told otherwise.
struct Oci {
    base: String,
    http: reqwest::Client,
    auth: Option<String>,
}

struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: bytes::Bytes,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// Asserts the status and the spec's error shape, and returns the first error's code.
    fn oci_error(&self, status: StatusCode) -> String {
        assert_eq!(
            self.status,
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        let body = self.json();
        let errors = body["errors"].as_array().expect("an errors list");
        assert!(!errors.is_empty());
        assert!(errors[0]["message"].as_str().is_some_and(|m| !m.is_empty()));
        errors[0]["code"].as_str().expect("a code").to_owned()
    }

    /// A relative `Location` (the spec allows absolute ones; packyard sends paths).
    fn location(&self) -> String {
        let location = self.header("location").expect("a Location");
        assert!(location.starts_with("/v2/"), "{location}");
        location.to_owned()
    }
}

impl Oci {
    fn new(server: &ServerProcess) -> Oci {
        Oci {
            base: server.base_url.clone(),
            http: reqwest::Client::new(),
            auth: Some(format!("Bearer {ADMIN_TOKEN}")),
        }
    }

    fn anonymous(&self) -> Oci {
        Oci {
            base: self.base.clone(),
            http: self.http.clone(),
            auth: None,
        }
    }

    fn with_auth(&self, auth: &str) -> Oci {
        Oci {
            base: self.base.clone(),
            http: self.http.clone(),
            auth: Some(auth.to_owned()),
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Answer {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(auth) = &self.auth {
            request = request.header("authorization", auth);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.body(body).send().await.expect("request");
        Answer {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.bytes().await.expect("body"),
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, &[], Vec::new()).await
    }

    async fn head(&self, path: &str) -> Answer {
        self.send(Method::HEAD, path, &[], Vec::new()).await
    }

    async fn delete(&self, path: &str) -> Answer {
        self.send(Method::DELETE, path, &[], Vec::new()).await
    }

    /// `POST /v2/<name>/blobs/uploads/` and the session's location.
    async fn start_session(&self, name: &str) -> String {
        let answer = self
            .send(
                Method::POST,
                &format!("/v2/{name}/blobs/uploads/"),
                &[],
                Vec::new(),
            )
            .await;
        assert_eq!(answer.status, StatusCode::ACCEPTED);
        answer.location()
    }

    /// Pushes a blob as most clients do: a session, then one `PUT ?digest=` with the bytes.
    async fn push_blob(&self, name: &str, content: &[u8]) -> String {
        let location = self.start_session(name).await;
        let digest = digest_of(content);
        let answer = self
            .send(
                Method::PUT,
                &format!("{location}?digest={digest}"),
                &[("content-type", "application/octet-stream")],
                content.to_vec(),
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        assert_eq!(answer.location(), format!("/v2/{name}/blobs/{digest}"));
        digest
    }

    async fn put_manifest(
        &self,
        name: &str,
        reference: &str,
        media_type: &str,
        content: &[u8],
    ) -> Answer {
        self.send(
            Method::PUT,
            &format!("/v2/{name}/manifests/{reference}"),
            &[("content-type", media_type)],
            content.to_vec(),
        )
        .await
    }
}

/// Writes `head` on a fresh connection and returns what the server answers first.
async fn raw_request(server: &ServerProcess, head: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = server.base_url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("an answer before the body")
        .unwrap();
    String::from_utf8_lossy(&answer[..read]).into_owned()
}

async fn start(setup: &Setup, extra: &[&str]) -> ServerProcess {
    setup.start("server.log", extra).await
}

fn descriptor(media_type: &str, content: &[u8]) -> Value {
    json!({"mediaType": media_type, "digest": digest_of(content), "size": content.len()})
}

/// An image manifest over a config and layers, as bytes.
fn image_manifest(config: &[u8], layers: &[&[u8]], extra: Value) -> Vec<u8> {
    let mut manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor("application/vnd.oci.image.config.v1+json", config),
        "layers": layers.iter().map(|l| descriptor("application/vnd.oci.image.layer.v1.tar+gzip", l)).collect::<Vec<_>>(),
    });
    if let (Some(target), Some(extra)) = (manifest.as_object_mut(), extra.as_object()) {
        target.extend(extra.clone());
    }
    serde_json::to_vec(&manifest).unwrap()
}

/// A repository with a config, a layer and a manifest tagged `tag`; returns the manifest bytes.
async fn populate(oci: &Oci, name: &str, seed: &str, tag: &str) -> Vec<u8> {
    let config = format!("{{\"architecture\":\"amd64\",\"seed\":\"{seed}\"}}").into_bytes();
    let layer = format!("layer of {seed}").into_bytes();
    oci.push_blob(name, &config).await;
    oci.push_blob(name, &layer).await;
    let manifest = image_manifest(&config, &[&layer], json!({}));
    let answer = oci.put_manifest(name, tag, OCI_MANIFEST, &manifest).await;
    assert_eq!(
        answer.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    manifest
}

/// The conformance suite's pull, push, discovery and management requests, in its order, with
/// its expectations (and the stricter ones packyard meets: 201 for a monolithic POST, automatic
/// cross-mount, 202 deletes).
async fn conformance(oci: &Oci) {
    let name = "conformance/test-repo";
    let crossmount = "conformance/other-repo";
    let dummy = digest_of(b"never pushed");

    // Pull: blobs and manifests by digest and tag.
    let config0 =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let layer = b"a layer's bytes, the same in every test".repeat(100);
    oci.push_blob(name, config0).await;
    oci.push_blob(name, &layer).await;
    let manifest0 = image_manifest(config0, &[&layer], json!({}));
    let answer = oci
        .put_manifest(name, "tagtest0", OCI_MANIFEST, &manifest0)
        .await;
    assert_eq!(answer.status, StatusCode::CREATED);
    assert_eq!(
        answer.header("docker-content-digest"),
        Some(digest_of(&manifest0).as_str())
    );
    assert_eq!(
        answer.location(),
        format!("/v2/{name}/manifests/{}", digest_of(&manifest0))
    );
    assert_eq!(
        oci.head(&format!("/v2/{name}/blobs/{dummy}")).await.status,
        StatusCode::NOT_FOUND
    );
    let head = oci
        .head(&format!("/v2/{name}/blobs/{}", digest_of(config0)))
        .await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(
        head.header("docker-content-digest"),
        Some(digest_of(config0).as_str())
    );
    assert_eq!(
        head.header("content-length"),
        Some(config0.len().to_string().as_str())
    );
    assert_eq!(
        oci.get(&format!("/v2/{name}/blobs/{dummy}"))
            .await
            .oci_error(StatusCode::NOT_FOUND),
        "BLOB_UNKNOWN"
    );
    let blob = oci
        .get(&format!("/v2/{name}/blobs/{}", digest_of(&layer)))
        .await;
    assert_eq!((blob.status, &blob.body[..]), (StatusCode::OK, &layer[..]));
    let ranged = oci
        .send(
            Method::GET,
            &format!("/v2/{name}/blobs/{}", digest_of(&layer)),
            &[("range", "bytes=10-19")],
            Vec::new(),
        )
        .await;
    assert_eq!(
        (ranged.status, &ranged.body[..]),
        (StatusCode::PARTIAL_CONTENT, &layer[10..20])
    );
    for reference in [digest_of(&manifest0), "tagtest0".to_owned()] {
        let path = format!("/v2/{name}/manifests/{reference}");
        let head = oci
            .send(Method::HEAD, &path, &[("accept", OCI_MANIFEST)], Vec::new())
            .await;
        assert_eq!(head.status, StatusCode::OK);
        assert_eq!(
            head.header("docker-content-digest"),
            Some(digest_of(&manifest0).as_str())
        );
        assert_eq!(
            head.header("content-length"),
            Some(manifest0.len().to_string().as_str())
        );
        let got = oci
            .send(Method::GET, &path, &[("accept", OCI_MANIFEST)], Vec::new())
            .await;
        assert_eq!(
            (got.status, &got.body[..]),
            (StatusCode::OK, &manifest0[..])
        );
        assert_eq!(got.header("content-type"), Some(OCI_MANIFEST));
    }
    let missing = oci.get(&format!("/v2/{name}/manifests/nonexistent")).await;
    assert_eq!(missing.oci_error(StatusCode::NOT_FOUND), "MANIFEST_UNKNOWN");
    assert_eq!(
        oci.head(&format!("/v2/{name}/manifests/nonexistent"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // The conformance suite's nonexistent manifest is not a well-formed tag: unknown all the same.
    let invalid = oci
        .get(&format!("/v2/{name}/manifests/.INVALID_MANIFEST_NAME"))
        .await;
    assert_eq!(invalid.oci_error(StatusCode::NOT_FOUND), "MANIFEST_UNKNOWN");
    assert_eq!(
        oci.head(&format!("/v2/{name}/manifests/.INVALID_MANIFEST_NAME"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let wrong = oci
        .get(&format!("/v2/{name}/manifests/sha256:totallywrong"))
        .await;
    assert_eq!(wrong.oci_error(StatusCode::BAD_REQUEST), "DIGEST_INVALID");

    // Push: a streamed upload (one PATCH without a range), closed by PUT with the digest.
    let blob_a = b"test blob A, streamed".to_vec();
    let location = oci.start_session(name).await;
    let patched = oci
        .send(
            Method::PATCH,
            &location,
            &[("content-type", "application/octet-stream")],
            blob_a.clone(),
        )
        .await;
    assert_eq!(patched.status, StatusCode::ACCEPTED);
    assert_eq!(
        patched.header("range"),
        Some(format!("0-{}", blob_a.len() - 1).as_str())
    );
    let closed = oci
        .send(
            Method::PUT,
            &format!("{}?digest={}", patched.location(), digest_of(&blob_a)),
            &[("content-length", "0")],
            Vec::new(),
        )
        .await;
    assert_eq!(closed.status, StatusCode::CREATED);
    assert_eq!(
        closed.header("docker-content-digest"),
        Some(digest_of(&blob_a).as_str())
    );

    // Monolithic: POST with the digest and the bytes.
    let config1 = br#"{"architecture":"arm64","os":"linux"}"#;
    let posted = oci
        .send(
            Method::POST,
            &format!("/v2/{name}/blobs/uploads/?digest={}", digest_of(config1)),
            &[("content-type", "application/octet-stream")],
            config1.to_vec(),
        )
        .await;
    assert_eq!(posted.status, StatusCode::CREATED);
    assert_eq!(
        posted.location(),
        format!("/v2/{name}/blobs/{}", digest_of(config1))
    );
    assert_eq!(oci.get(&posted.location()).await.status, StatusCode::OK);

    // Chunked: out of order is 416; in order 202 with the range; a retried chunk 416; the
    // session's status 204; the last chunk then the digest.
    let blob_b: Vec<u8> = (0..=255u8).cycle().take(9000).collect();
    let (chunk1, chunk2) = blob_b.split_at(5000);
    let range1 = format!("0-{}", chunk1.len() - 1);
    let range2 = format!("{}-{}", chunk1.len(), blob_b.len() - 1);
    let location = oci.start_session(name).await;
    let early = oci
        .send(
            Method::PATCH,
            &location,
            &[
                ("content-range", &range2),
                ("content-type", "application/octet-stream"),
            ],
            chunk2.to_vec(),
        )
        .await;
    assert_eq!(
        early.oci_error(StatusCode::RANGE_NOT_SATISFIABLE),
        "BLOB_UPLOAD_INVALID"
    );
    let location = oci.start_session(name).await;
    let first = oci
        .send(
            Method::PATCH,
            &location,
            &[
                ("content-range", &range1),
                ("content-type", "application/octet-stream"),
            ],
            chunk1.to_vec(),
        )
        .await;
    assert_eq!(first.status, StatusCode::ACCEPTED);
    assert_eq!(first.header("range"), Some(range1.as_str()));
    let again = oci
        .send(
            Method::PATCH,
            &location,
            &[("content-range", &range1)],
            chunk1.to_vec(),
        )
        .await;
    assert_eq!(again.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(again.header("range"), Some(range1.as_str()));
    let status = oci.get(&location).await;
    assert_eq!(status.status, StatusCode::NO_CONTENT);
    assert_eq!(status.header("range"), Some(range1.as_str()));
    let second = oci
        .send(
            Method::PATCH,
            &status.location(),
            &[("content-range", &range2)],
            chunk2.to_vec(),
        )
        .await;
    assert_eq!(second.status, StatusCode::ACCEPTED);
    let closed = oci
        .send(
            Method::PUT,
            &format!("{}?digest={}", second.location(), digest_of(&blob_b)),
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(closed.status, StatusCode::CREATED);
    assert_eq!(&oci.get(&closed.location()).await.body[..], &blob_b[..]);

    // Cross-repository mount: unknown without `from` gives a session; with `from` 201; without
    // `from` (automatic) 201 as well once some repository has it.
    let unknown = oci
        .send(
            Method::POST,
            &format!("/v2/{crossmount}/blobs/uploads/?mount={dummy}"),
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::ACCEPTED);
    assert!(
        unknown
            .location()
            .starts_with(&format!("/v2/{crossmount}/blobs/uploads/"))
    );
    let mounted = oci
        .send(
            Method::POST,
            &format!(
                "/v2/{crossmount}/blobs/uploads/?mount={}&from={name}",
                digest_of(&blob_a)
            ),
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(mounted.status, StatusCode::CREATED);
    assert_eq!(
        mounted.location(),
        format!("/v2/{crossmount}/blobs/{}", digest_of(&blob_a))
    );
    assert_eq!(&oci.get(&mounted.location()).await.body[..], &blob_a[..]);
    let automatic = oci
        .send(
            Method::POST,
            &format!(
                "/v2/{crossmount}/blobs/uploads/?mount={}",
                digest_of(&blob_b)
            ),
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(automatic.status, StatusCode::CREATED);

    // Manifest upload: four tags; a manifest without layers; GET by digest.
    let manifest1 = image_manifest(config1, &[&layer], json!({}));
    for i in 0..4 {
        let answer = oci
            .put_manifest(name, &format!("test{i}"), OCI_MANIFEST, &manifest1)
            .await;
        assert_eq!(answer.status, StatusCode::CREATED);
        assert!(answer.header("location").is_some());
    }
    let empty_layers = image_manifest(config1, &[], json!({}));
    assert_eq!(
        oci.put_manifest(name, "emptylayer", OCI_MANIFEST, &empty_layers)
            .await
            .status,
        StatusCode::CREATED
    );
    let by_digest = oci
        .get(&format!("/v2/{name}/manifests/{}", digest_of(&manifest1)))
        .await;
    assert_eq!(by_digest.status, StatusCode::OK);

    // Discovery: tags in lexical order, limited by n, started after last.
    let all = oci.get(&format!("/v2/{name}/tags/list")).await.json();
    assert_eq!(all["name"], name);
    let tags: Vec<String> = serde_json::from_value(all["tags"].clone()).unwrap();
    assert_eq!(
        tags,
        ["emptylayer", "tagtest0", "test0", "test1", "test2", "test3"]
    );
    let half = oci.get(&format!("/v2/{name}/tags/list?n=3")).await;
    assert_eq!(
        half.json()["tags"],
        json!(["emptylayer", "tagtest0", "test0"])
    );
    assert_eq!(
        half.header("link"),
        Some(format!("</v2/{name}/tags/list?n=3&last=test0>; rel=\"next\"").as_str())
    );
    let rest = oci
        .get(&format!("/v2/{name}/tags/list?n=3&last=test0"))
        .await;
    assert_eq!(rest.json()["tags"], json!(["test1", "test2", "test3"]));
    assert_eq!(rest.header("link"), None);

    // Referrers: by config media type and by artifactType; one to a subject never pushed.
    let subject = descriptor(OCI_MANIFEST, &manifest0);
    let empty = b"{}";
    oci.push_blob(name, empty).await;
    let ref_blob = b"a signature".to_vec();
    oci.push_blob(name, &ref_blob).await;
    let mut config_typed = json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": descriptor("application/vnd.example.sbom", empty),
        "layers": [descriptor("application/octet-stream", &ref_blob)],
        "subject": subject, "annotations": {"org.example.kind": "sbom"},
    });
    let sbom = serde_json::to_vec(&config_typed).unwrap();
    config_typed["config"] = descriptor("application/vnd.oci.empty.v1+json", empty);
    config_typed["artifactType"] = json!("application/vnd.example.signature");
    config_typed["annotations"] = json!({"org.example.kind": "signature"});
    let signature = serde_json::to_vec(&config_typed).unwrap();
    config_typed["subject"] = descriptor(OCI_MANIFEST, b"a manifest never pushed");
    let orphan = serde_json::to_vec(&config_typed).unwrap();
    for (content, expected_subject) in [
        (&sbom, digest_of(&manifest0)),
        (&signature, digest_of(&manifest0)),
        (&orphan, digest_of(b"a manifest never pushed")),
    ] {
        let answer = oci
            .put_manifest(name, &digest_of(content), OCI_MANIFEST, content)
            .await;
        assert_eq!(
            answer.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        assert_eq!(
            answer.header("oci-subject"),
            Some(expected_subject.as_str())
        );
    }
    let referrers = oci
        .get(&format!("/v2/{name}/referrers/{}", digest_of(&manifest0)))
        .await;
    assert_eq!(referrers.status, StatusCode::OK);
    assert_eq!(referrers.header("content-type"), Some(OCI_INDEX));
    let index = referrers.json();
    assert_eq!(index["schemaVersion"], 2);
    assert_eq!(index["mediaType"], OCI_INDEX);
    let listed = index["manifests"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    for entry in listed {
        let (kind, artifact_type) = match entry["digest"].as_str() {
            Some(d) if d == digest_of(&sbom) => ("sbom", "application/vnd.example.sbom"),
            Some(d) if d == digest_of(&signature) => {
                ("signature", "application/vnd.example.signature")
            }
            other => panic!("unexpected referrer {other:?}"),
        };
        assert_eq!(entry["annotations"], json!({"org.example.kind": kind}));
        assert_eq!(entry["artifactType"], artifact_type);
        assert_eq!(entry["mediaType"], OCI_MANIFEST);
        assert!(entry["size"].as_u64().is_some());
    }
    let filtered = oci
        .get(&format!(
            "/v2/{name}/referrers/{}?artifactType=application/vnd.example.signature",
            digest_of(&manifest0)
        ))
        .await;
    assert_eq!(filtered.header("oci-filters-applied"), Some("artifactType"));
    assert_eq!(
        filtered.json()["manifests"][0]["digest"],
        digest_of(&signature)
    );
    assert_eq!(filtered.json()["manifests"].as_array().unwrap().len(), 1);
    let to_missing = oci
        .get(&format!(
            "/v2/{name}/referrers/{}",
            digest_of(b"a manifest never pushed")
        ))
        .await;
    assert_eq!(
        to_missing.json()["manifests"][0]["digest"],
        digest_of(&orphan)
    );
    let none = oci.get(&format!("/v2/{name}/referrers/{dummy}")).await;
    assert_eq!(none.status, StatusCode::OK);
    assert_eq!(none.json()["manifests"], json!([]));

    // Management: a tag delete keeps the manifest; a manifest delete takes its tags; blobs.
    let manifest3 = populate(oci, name, "management", "tagtest-delete").await;
    let before = oci.get(&format!("/v2/{name}/tags/list")).await.json()["tags"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(
        oci.delete(&format!("/v2/{name}/manifests/tagtest-delete"))
            .await
            .status,
        StatusCode::ACCEPTED
    );
    let after = oci.get(&format!("/v2/{name}/tags/list")).await.json()["tags"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(after, before - 1);
    assert_eq!(
        oci.get(&format!("/v2/{name}/manifests/{}", digest_of(&manifest3)))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        oci.delete(&format!("/v2/{name}/manifests/{}", digest_of(&manifest3)))
            .await
            .status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        oci.get(&format!("/v2/{name}/manifests/{}", digest_of(&manifest3)))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        oci.delete(&format!("/v2/{name}/manifests/{}", digest_of(&manifest3)))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        oci.delete(&format!("/v2/{name}/manifests/{}", digest_of(&manifest1)))
            .await
            .status,
        StatusCode::ACCEPTED
    );
    let tags = oci.get(&format!("/v2/{name}/tags/list")).await.json()["tags"].clone();
    assert_eq!(
        tags,
        json!(["emptylayer", "tagtest0"]),
        "test0..3 went with their manifest"
    );
    assert_eq!(
        oci.delete(&format!("/v2/{name}/blobs/{}", digest_of(config1)))
            .await
            .status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        oci.get(&format!("/v2/{name}/blobs/{}", digest_of(config1)))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        oci.delete(&format!("/v2/{name}/blobs/{}", digest_of(config1)))
            .await
            .oci_error(StatusCode::NOT_FOUND),
        "BLOB_UNKNOWN"
    );
    // The mounted copy in the other repository is untouched.
    assert_eq!(
        oci.get(&format!("/v2/{crossmount}/blobs/{}", digest_of(&blob_a)))
            .await
            .status,
        StatusCode::OK
    );

    // The catalog lists repositories with manifests.
    let catalog = oci.get("/v2/_catalog").await.json();
    assert!(
        catalog["repositories"]
            .as_array()
            .unwrap()
            .contains(&json!(name))
    );
}

#[tokio::test]
async fn the_conformance_suites_requests_get_its_answers() {
    let setup = Setup::new().await;
    let server = start(&setup, &[]).await;
    conformance(&Oci::new(&server)).await;
}

#[tokio::test]
async fn the_conformance_suites_requests_on_postgresql_and_s3() {
    let database_url = common::postgres_database_url().await;
    let s3 = common::s3::server().await;
    let bucket = s3.bucket().await;
    let dir = tempfile::tempdir().unwrap();
    let location = format!("s3://{bucket}/registry");
    let server = ServerProcess::start_with_env(
        &dir.path().join("data"),
        Some(&database_url),
        &[
            "--admin-token",
            ADMIN_TOKEN,
            "--blob-store",
            &location,
            "--s3-endpoint",
            &s3.endpoint,
        ],
        &dir.path().join("server.log"),
        &[
            ("AWS_ACCESS_KEY_ID", "packyard-test"),
            ("AWS_SECRET_ACCESS_KEY", "packyard-test"),
            ("AWS_REGION", "us-east-1"),
        ],
    )
    .await;
    conformance(&Oci::new(&server)).await;
}

#[tokio::test]
async fn credentials_are_challenged_as_oci_clients_expect() {
    let setup = Setup::new().await;
    let server = start(&setup, &[]).await;
    let oci = Oci::new(&server);
    let anonymous = oci.anonymous();
    let base = anonymous.get("/v2/").await;
    assert_eq!(base.oci_error(StatusCode::UNAUTHORIZED), "UNAUTHORIZED");
    let challenges: Vec<&str> = base
        .headers
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    // Basic first (what Palette, ORAS, Helm and skopeo answer), then the token flow's.
    let host = server.base_url.trim_start_matches("http://");
    let bearer = format!("Bearer realm=\"http://{host}/v2/token\",service=\"{host}\"");
    assert_eq!(challenges, ["Basic realm=\"packyard\"", bearer.as_str()]);
    let admitted = oci.get("/v2/").await;
    assert_eq!(admitted.status, StatusCode::OK);
    assert_eq!(
        admitted.header("docker-distribution-api-version"),
        Some("registry/2.0")
    );
    // An API token is a password for any user name (how ORAS, Helm and Palette log in).
    let basic = |user: &str, password: &str| {
        use base64::Engine;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        )
    };
    assert_eq!(
        oci.with_auth(&basic("palette", ADMIN_TOKEN))
            .get("/v2/")
            .await
            .status,
        StatusCode::OK
    );
    let wrong = oci
        .with_auth(&basic("palette", "not-the-token"))
        .get("/v2/")
        .await;
    assert_eq!(wrong.oci_error(StatusCode::UNAUTHORIZED), "UNAUTHORIZED");
    assert_eq!(
        wrong.header("www-authenticate"),
        Some("Basic realm=\"packyard\"")
    );

    // Pushes and deletes need credentials; pulls of a public registry do not.
    let manifest = populate(&oci, "public/app", "creds", "v1").await;
    let push = anonymous
        .send(
            Method::POST,
            "/v2/public/app/blobs/uploads/",
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(push.oci_error(StatusCode::UNAUTHORIZED), "UNAUTHORIZED");
    assert_eq!(
        push.header("www-authenticate"),
        Some("Basic realm=\"packyard\"")
    );
    let scoped = push
        .headers
        .get_all("www-authenticate")
        .iter()
        .nth(1)
        .unwrap();
    assert!(
        scoped
            .to_str()
            .unwrap()
            .ends_with(",scope=\"repository:public/app:pull,push\""),
        "{scoped:?}"
    );
    let delete = anonymous
        .delete(&format!(
            "/v2/public/app/manifests/{}",
            digest_of(&manifest)
        ))
        .await;
    assert_eq!(delete.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        anonymous.get("/v2/public/app/manifests/v1").await.status,
        StatusCode::OK
    );

    // A read token may not push; a write token only to repositories its patterns cover.
    let token = |scope: &str, packs: &str| {
        let output = setup.command(&[
            "token",
            "create",
            "--name",
            &format!("{scope}-token"),
            "--scope",
            scope,
            "--packs",
            packs,
        ]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };
    let reader = oci.with_auth(&format!("Bearer {}", token("read", "*")));
    let denied = reader
        .send(
            Method::POST,
            "/v2/public/app/blobs/uploads/",
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(denied.oci_error(StatusCode::FORBIDDEN), "DENIED");
    let team = oci.with_auth(&basic("ci", &token("write", "team/*")));
    assert_eq!(
        team.send(Method::POST, "/v2/team/app/blobs/uploads/", &[], Vec::new())
            .await
            .status,
        StatusCode::ACCEPTED
    );
    let elsewhere = team
        .send(
            Method::POST,
            "/v2/public/app/blobs/uploads/",
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(elsewhere.oci_error(StatusCode::FORBIDDEN), "DENIED");
    assert_eq!(
        team.delete(&format!(
            "/v2/public/app/manifests/{}",
            digest_of(&manifest)
        ))
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        oci.get("/v2/public/app/manifests/v1").await.status,
        StatusCode::OK,
        "nothing was deleted"
    );
    drop(server);

    // A private registry challenges pulls too.
    let private = start(&setup, &["--private"]).await;
    let oci = Oci::new(&private);
    let pull = oci.anonymous().get("/v2/public/app/manifests/v1").await;
    assert_eq!(pull.oci_error(StatusCode::UNAUTHORIZED), "UNAUTHORIZED");
    assert_eq!(
        pull.header("www-authenticate"),
        Some("Basic realm=\"packyard\"")
    );
    let pulled = oci
        .with_auth(&basic("palette", ADMIN_TOKEN))
        .get("/v2/public/app/manifests/v1")
        .await;
    assert_eq!(
        (pulled.status, &pulled.body[..]),
        (StatusCode::OK, &manifest[..])
    );
}

#[tokio::test]
async fn bad_uploads_get_the_specs_errors_and_store_nothing() {
    let setup = Setup::new().await;
    let server = start(&setup, &["--max-blob-size", "65536"]).await;
    let oci = Oci::new(&server);
    let name = "bad/input";
    let content = b"the real content".to_vec();
    let claimed = digest_of(b"something else");
    let blob_path = |digest: &str| format!("/v2/{name}/blobs/{digest}");

    // A monolithic upload with the wrong digest.
    let wrong = oci
        .send(
            Method::POST,
            &format!("/v2/{name}/blobs/uploads/?digest={claimed}"),
            &[],
            content.clone(),
        )
        .await;
    assert_eq!(wrong.oci_error(StatusCode::BAD_REQUEST), "DIGEST_INVALID");
    assert_eq!(
        oci.head(&blob_path(&digest_of(&content))).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        oci.head(&blob_path(&claimed)).await.status,
        StatusCode::NOT_FOUND
    );

    // A session closed with the wrong digest: nothing stored, and the session is gone.
    let location = oci.start_session(name).await;
    let closed = oci
        .send(
            Method::PUT,
            &format!("{location}?digest={claimed}"),
            &[],
            content.clone(),
        )
        .await;
    assert_eq!(closed.oci_error(StatusCode::BAD_REQUEST), "DIGEST_INVALID");
    assert_eq!(
        oci.get(&location).await.oci_error(StatusCode::NOT_FOUND),
        "BLOB_UPLOAD_UNKNOWN"
    );
    assert_eq!(
        oci.head(&blob_path(&digest_of(&content))).await.status,
        StatusCode::NOT_FOUND
    );

    // A close without a digest, an invalid digest, an unknown session, a session of another repository.
    let location = oci.start_session(name).await;
    assert_eq!(
        oci.send(Method::PUT, &location, &[], Vec::new())
            .await
            .oci_error(StatusCode::BAD_REQUEST),
        "DIGEST_INVALID"
    );
    assert_eq!(
        oci.send(
            Method::PUT,
            &format!("{location}?digest=sha256:nothex"),
            &[],
            Vec::new()
        )
        .await
        .oci_error(StatusCode::BAD_REQUEST),
        "DIGEST_INVALID"
    );
    let unknown = format!("/v2/{name}/blobs/uploads/00000000-0000-4000-8000-000000000000");
    assert_eq!(
        oci.get(&unknown).await.oci_error(StatusCode::NOT_FOUND),
        "BLOB_UPLOAD_UNKNOWN"
    );
    assert_eq!(
        oci.get(&format!("/v2/{name}/blobs/uploads/..%2F..%2Fetc"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let foreign = location.replace("bad/input", "other/repo");
    assert_eq!(
        oci.get(&foreign).await.oci_error(StatusCode::NOT_FOUND),
        "BLOB_UPLOAD_UNKNOWN"
    );

    // A chunk shorter than its Content-Range: refused, and the session is where it was.
    let first = oci
        .send(
            Method::PATCH,
            &location,
            &[("content-range", "0-99")],
            vec![7u8; 60],
        )
        .await;
    assert_eq!(
        first.oci_error(StatusCode::BAD_REQUEST),
        "BLOB_UPLOAD_INVALID"
    );
    let status = oci.get(&location).await;
    assert_eq!(
        (status.status, status.header("range")),
        (StatusCode::NO_CONTENT, Some("0-0"))
    );
    let malformed = oci
        .send(
            Method::PATCH,
            &location,
            &[("content-range", "ten-twenty")],
            vec![1],
        )
        .await;
    assert_eq!(
        malformed.oci_error(StatusCode::BAD_REQUEST),
        "BLOB_UPLOAD_INVALID"
    );
    // Beyond --max-blob-size.
    let huge = oci
        .send(Method::PATCH, &location, &[], vec![0u8; 70_000])
        .await;
    assert_eq!(
        huge.oci_error(StatusCode::PAYLOAD_TOO_LARGE),
        "SIZE_INVALID"
    );
    assert_eq!(oci.get(&location).await.header("range"), Some("0-0"));
    // Cancelled: gone.
    assert_eq!(oci.delete(&location).await.status, StatusCode::NO_CONTENT);
    assert_eq!(oci.get(&location).await.status, StatusCode::NOT_FOUND);

    // Invalid names, tags and references.
    assert_eq!(
        oci.get("/v2/Upper/Case/tags/list")
            .await
            .oci_error(StatusCode::BAD_REQUEST),
        "NAME_INVALID"
    );
    assert_eq!(
        oci.get("/v2/a//b/tags/list")
            .await
            .oci_error(StatusCode::BAD_REQUEST),
        "NAME_INVALID"
    );
    assert_eq!(
        oci.get("/v2/never/pushed/tags/list")
            .await
            .oci_error(StatusCode::NOT_FOUND),
        "NAME_UNKNOWN"
    );
    // A reference that is no tag names nothing: reading it is a 404, as the conformance suite asks.
    assert_eq!(
        oci.get(&format!("/v2/{name}/manifests/.bad"))
            .await
            .oci_error(StatusCode::NOT_FOUND),
        "MANIFEST_UNKNOWN"
    );
    assert_eq!(
        oci.get(&format!("/v2/{name}/tags/list?n=-1"))
            .await
            .oci_error(StatusCode::BAD_REQUEST),
        "UNSUPPORTED"
    );
    assert_eq!(
        oci.get("/v2/nothing-here")
            .await
            .oci_error(StatusCode::NOT_FOUND),
        "NAME_UNKNOWN"
    );
    let method = oci
        .send(
            Method::POST,
            &format!("/v2/{name}/tags/list"),
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(
        method.oci_error(StatusCode::METHOD_NOT_ALLOWED),
        "UNSUPPORTED"
    );

    // Nothing of all that was stored: no blob rows, no session files.
    let data = setup.data_dir();
    assert!(common::files_under(&data.join("blobs").join("sha256")).is_empty());
    let sessions = common::files_under(&data.join("blobs").join("_sessions"));
    assert!(sessions.is_empty(), "{sessions:?}");
}

#[tokio::test]
async fn manifests_are_checked_and_stored_byte_for_byte() {
    let setup = Setup::new().await;
    let server = start(&setup, &[]).await;
    let oci = Oci::new(&server);
    let name = "images/app";
    let config = br#"{"architecture":"amd64","os":"linux"}"#;
    let layer = b"layer".to_vec();
    oci.push_blob(name, config).await;

    // A manifest naming a blob the repository lacks: MANIFEST_BLOB_UNKNOWN, nothing stored.
    let manifest = image_manifest(config, &[&layer], json!({}));
    let missing = oci.put_manifest(name, "v1", OCI_MANIFEST, &manifest).await;
    assert_eq!(
        missing.oci_error(StatusCode::BAD_REQUEST),
        "MANIFEST_BLOB_UNKNOWN"
    );
    assert_eq!(
        oci.get(&format!("/v2/{name}/manifests/v1")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        oci.get(&format!("/v2/{name}/tags/list")).await.json()["tags"],
        json!([])
    );
    // A blob of another repository does not count.
    oci.push_blob("images/other", &layer).await;
    assert_eq!(
        oci.put_manifest(name, "v1", OCI_MANIFEST, &manifest)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    oci.push_blob(name, &layer).await;

    // Docker schema 2 with its own spacing: served back exactly, with its own type.
    let docker = format!(
        "{{\n   \"schemaVersion\": 2,\n   \"mediaType\": \"{DOCKER_MANIFEST}\",\n   \"config\": {{\"mediaType\": \"application/vnd.docker.container.image.v1+json\", \"size\": {}, \"digest\": \"{}\"}},\n   \"layers\": [{{\"mediaType\": \"application/vnd.docker.image.rootfs.diff.tar.gzip\", \"size\": {}, \"digest\": \"{}\"}}]\n}}",
        config.len(),
        digest_of(config),
        layer.len(),
        digest_of(&layer)
    )
    .into_bytes();
    assert_eq!(
        oci.put_manifest(name, "docker", DOCKER_MANIFEST, &docker)
            .await
            .status,
        StatusCode::CREATED
    );
    let got = oci.get(&format!("/v2/{name}/manifests/docker")).await;
    assert_eq!(&got.body[..], &docker[..]);
    assert_eq!(got.header("content-type"), Some(DOCKER_MANIFEST));
    assert_eq!(
        got.header("docker-content-digest"),
        Some(digest_of(&docker).as_str())
    );

    // A manifest list over it, and one over a manifest the repository lacks.
    let list = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": DOCKER_LIST,
        "manifests": [{"mediaType": DOCKER_MANIFEST, "digest": digest_of(&docker), "size": docker.len(), "platform": {"architecture": "amd64", "os": "linux"}}],
    }))
    .unwrap();
    assert_eq!(
        oci.put_manifest(name, "multi", DOCKER_LIST, &list)
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(
        &oci.get(&format!("/v2/{name}/manifests/multi")).await.body[..],
        &list[..]
    );
    let dangling = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": digest_of(b"no such manifest"), "size": 16}],
    }))
    .unwrap();
    assert_eq!(
        oci.put_manifest(name, "dangling", OCI_INDEX, &dangling)
            .await
            .oci_error(StatusCode::BAD_REQUEST),
        "MANIFEST_BLOB_UNKNOWN"
    );

    // A digest reference must be the manifest's own digest.
    let other = digest_of(b"not this manifest");
    assert_eq!(
        oci.put_manifest(name, &other, OCI_MANIFEST, &manifest)
            .await
            .oci_error(StatusCode::BAD_REQUEST),
        "DIGEST_INVALID"
    );
    // Invalid JSON, a type it does not say, an unsupported type, no type at all, a bad tag.
    for (media_type, body) in [
        (OCI_MANIFEST, b"{not json".to_vec()),
        (OCI_INDEX, manifest.clone()),
        (
            "application/vnd.docker.distribution.manifest.v1+prettyjws",
            manifest.clone(),
        ),
        (
            "",
            serde_json::to_vec(
                &json!({"schemaVersion": 2, "config": descriptor("x/y", config), "layers": []}),
            )
            .unwrap(),
        ),
    ] {
        let answer = oci.put_manifest(name, "refused", media_type, &body).await;
        assert_eq!(
            answer.oci_error(StatusCode::BAD_REQUEST),
            "MANIFEST_INVALID",
            "{media_type}"
        );
    }
    assert_eq!(
        oci.put_manifest(name, "-bad-tag", OCI_MANIFEST, &manifest)
            .await
            .oci_error(StatusCode::BAD_REQUEST),
        "MANIFEST_INVALID"
    );
    // Over 4 MiB: 413 from the declared length alone, before any byte of the body is read.
    let declared = raw_request(
        &server,
        &format!("PUT /v2/{name}/manifests/huge HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\nContent-Type: {OCI_MANIFEST}\r\nContent-Length: {}\r\n\r\n", (4 << 20) + 1),
    )
    .await;
    assert!(declared.starts_with("HTTP/1.1 413"), "{declared}");
    assert!(declared.contains("MANIFEST_INVALID"), "{declared}");
    // Without a length (chunked), the limit is counted as the body arrives: four 1 MiB chunks
    // and one byte more (the server reads that last byte to know, so the whole body is sent and
    // the answer always arrives).
    let chunks = futures_util::stream::iter(
        (0..4)
            .map(|_| vec![b' '; 1 << 20])
            .chain(std::iter::once(vec![b' ']))
            .map(|chunk| Ok::<_, std::io::Error>(bytes::Bytes::from(chunk))),
    );
    // (Its own client: the server closes this connection after refusing it.)
    let streamed = reqwest::Client::new()
        .put(format!("{}/v2/{name}/manifests/huge", oci.base))
        .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
        .header("content-type", OCI_MANIFEST)
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .expect("the refusal arrives");
    assert_eq!(streamed.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = streamed.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "MANIFEST_INVALID");
    let tags = oci.get(&format!("/v2/{name}/tags/list")).await.json()["tags"].clone();
    assert_eq!(
        tags,
        json!(["docker", "multi"]),
        "no refused push left a tag"
    );

    // A tag moves to the manifest pushed last.
    let manifest2 = image_manifest(config, &[], json!({}));
    assert_eq!(
        oci.put_manifest(name, "docker", OCI_MANIFEST, &manifest2)
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(
        &oci.get(&format!("/v2/{name}/manifests/docker")).await.body[..],
        &manifest2[..]
    );
    assert_eq!(
        oci.get(&format!("/v2/{name}/manifests/{}", digest_of(&docker)))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn lists_page_with_n_last_and_link() {
    let setup = Setup::new().await;
    let server = start(&setup, &[]).await;
    let oci = Oci::new(&server);
    for repository in ["a/one", "a/two", "b", "c/d/e"] {
        populate(&oci, repository, repository, "latest").await;
    }
    let page = oci.get("/v2/_catalog?n=2").await;
    assert_eq!(page.json()["repositories"], json!(["a/one", "a/two"]));
    assert_eq!(
        page.header("link"),
        Some("</v2/_catalog?n=2&last=a/two>; rel=\"next\"")
    );
    let next = oci.get("/v2/_catalog?n=2&last=a/two").await;
    assert_eq!(next.json()["repositories"], json!(["b", "c/d/e"]));
    assert_eq!(next.header("link"), None);
    assert_eq!(
        oci.get("/v2/_catalog").await.json()["repositories"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    let manifest = populate(&oci, "b", "b", "latest").await;
    for tag in ["1.0", "1.1", "2.0", "A", "_z"] {
        assert_eq!(
            oci.put_manifest("b", tag, OCI_MANIFEST, &manifest)
                .await
                .status,
            StatusCode::CREATED
        );
    }
    // Byte order: upper case before '_' before lower case.
    let all = oci.get("/v2/b/tags/list").await.json()["tags"].clone();
    assert_eq!(all, json!(["1.0", "1.1", "2.0", "A", "_z", "latest"]));
    assert_eq!(
        oci.get("/v2/b/tags/list?n=0").await.json()["tags"],
        json!([])
    );
    let mut seen = Vec::new();
    let mut path = "/v2/b/tags/list?n=4".to_owned();
    loop {
        let page = oci.get(&path).await;
        seen.extend(
            page.json()["tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_owned()),
        );
        match page.header("link") {
            Some(link) => {
                path = link
                    .trim_start_matches('<')
                    .split('>')
                    .next()
                    .unwrap()
                    .to_owned()
            }
            None => break,
        }
    }
    assert_eq!(json!(seen), all);
}

#[tokio::test]
async fn upload_sessions_resume_across_a_restart_and_expire() {
    let setup = Setup::new().await;
    let server = start(&setup, &["--upload-session-ttl-secs", "3"]).await;
    let oci = Oci::new(&server);
    let name = "resume/me";
    let content: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    let location = oci.start_session(name).await;
    let answer = oci
        .send(
            Method::PATCH,
            &location,
            &[("content-range", "0-9999")],
            content[..10_000].to_vec(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED);
    let stale = oci.start_session(name).await;
    drop(server);

    let server = start(&setup, &["--upload-session-ttl-secs", "3"]).await;
    let oci = Oci::new(&server);
    let status = oci.get(&location).await;
    assert_eq!(status.header("range"), Some("0-9999"));
    let answer = oci
        .send(
            Method::PUT,
            &format!("{location}?digest={}", digest_of(&content)),
            &[("content-range", "10000-19999")],
            content[10_000..].to_vec(),
        )
        .await;
    assert_eq!(
        answer.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(&oci.get(&answer.location()).await.body[..], &content[..]);
    // The other session was left alone for longer than its time to live.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert_eq!(
        oci.get(&stale).await.oci_error(StatusCode::NOT_FOUND),
        "BLOB_UPLOAD_UNKNOWN"
    );
}

#[tokio::test]
async fn gc_collects_oci_garbage_and_keeps_what_is_referenced() {
    let setup = Setup::new().await;
    let server = start(&setup, &[]).await;
    let oci = Oci::new(&server);
    let kept = populate(&oci, "gc/app", "kept", "v1").await;
    let orphan = b"a blob no manifest names".to_vec();
    oci.push_blob("gc/app", &orphan).await;
    // An untagged manifest (pushed by digest) over its own blobs.
    let untagged_config = b"{\"untagged\":true}".to_vec();
    oci.push_blob("gc/app", &untagged_config).await;
    let untagged = image_manifest(&untagged_config, &[], json!({}));
    assert_eq!(
        oci.put_manifest("gc/app", &digest_of(&untagged), OCI_MANIFEST, &untagged)
            .await
            .status,
        StatusCode::CREATED
    );
    let session = oci.start_session("gc/app").await;
    let gc = |extra: &[&str]| {
        let mut args = vec!["gc"];
        args.extend_from_slice(extra);
        let output = setup.command(&args);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stderr).into_owned()
    };

    // Within the grace period nothing goes, and sessions live out their time.
    gc(&[]);
    assert_eq!(
        oci.get(&format!("/v2/gc/app/blobs/{}", digest_of(&orphan)))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(oci.get(&session).await.status, StatusCode::NO_CONTENT);

    // Without --delete-untagged, untagged manifests stay; unreferenced blobs and expired sessions go.
    let report = gc(&["--grace-secs", "0", "--upload-session-ttl-secs", "0"]);
    assert!(
        report.contains("1 expired OCI upload session(s)"),
        "{report}"
    );
    assert_eq!(
        oci.get(&format!("/v2/gc/app/blobs/{}", digest_of(&orphan)))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(oci.get(&session).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        oci.get(&format!("/v2/gc/app/manifests/{}", digest_of(&untagged)))
            .await
            .status,
        StatusCode::OK
    );
    let report = gc(&["--grace-secs", "0", "--delete-untagged"]);
    assert!(report.contains("1 untagged OCI manifest(s)"), "{report}");
    assert_eq!(
        oci.get(&format!("/v2/gc/app/manifests/{}", digest_of(&untagged)))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        oci.get(&format!("/v2/gc/app/blobs/{}", digest_of(&untagged_config)))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // The tagged image pulls whole: manifest, config and layer.
    assert_eq!(
        &oci.get("/v2/gc/app/manifests/v1").await.body[..],
        &kept[..]
    );
    let manifest: Value = serde_json::from_slice(&kept).unwrap();
    for digest in [
        &manifest["config"]["digest"],
        &manifest["layers"][0]["digest"],
    ] {
        let blob = oci
            .get(&format!("/v2/gc/app/blobs/{}", digest.as_str().unwrap()))
            .await;
        assert_eq!(blob.status, StatusCode::OK);
        assert_eq!(digest_of(&blob.body), digest.as_str().unwrap());
    }
    let files = common::files_under(&setup.data_dir().join("blobs").join("sha256"));
    assert_eq!(
        files.len(),
        2,
        "only the config and the layer remain: {files:?}"
    );
    let verify = setup.command(&["verify"]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

/// Pushes `archive` as ORAS 1.0 does (`oras push <repo>:<tag> <file>`): the `{}` config, the
/// file as one layer with its title, then the manifest by tag.
async fn oras_push(
    oci: &Oci,
    repository: &str,
    tag: &str,
    archive: &[u8],
    file_name: &str,
) -> (Answer, Vec<u8>) {
    oci.push_blob(repository, b"{}").await;
    oci.push_blob(repository, archive).await;
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor("application/vnd.unknown.config.v1+json", b"{}"),
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": digest_of(archive),
            "size": archive.len(),
            "annotations": {"org.opencontainers.image.title": file_name},
        }],
        "annotations": {"org.opencontainers.image.created": "2026-12-06T12:00:00Z"},
    }))
    .unwrap();
    (
        oci.put_manifest(repository, tag, OCI_MANIFEST, &manifest)
            .await,
        manifest,
    )
}

#[tokio::test]
async fn packs_live_in_palettes_oci_layout() {
    use common::packs::TestPack;
    let setup = Setup::new().await;
    let packs = tempfile::tempdir().unwrap();
    TestPack::new("shipped", "1.0.0").write_to(packs.path());
    let packs_dir = packs.path().to_str().unwrap();
    let server = start(
        &setup,
        &["--oci-pack-prefix", "team/packs", "--packs-dir", packs_dir],
    )
    .await;
    let oci = Oci::new(&server);
    let shipped = "team/packs/spectro-packs/archive/shipped";

    // A version published from a folder is pullable: one tag per version, ORAS 1.0's manifest,
    // the same bytes on every request and after a restart.
    assert_eq!(
        oci.get(&format!("/v2/{shipped}/tags/list")).await.json()["tags"],
        json!(["1.0.0"])
    );
    let manifest = oci.get(&format!("/v2/{shipped}/manifests/1.0.0")).await;
    assert_eq!(
        manifest.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&manifest.body)
    );
    assert_eq!(manifest.header("content-type"), Some(OCI_MANIFEST));
    let parsed = manifest.json();
    assert_eq!(
        parsed["config"]["mediaType"],
        "application/vnd.unknown.config.v1+json"
    );
    assert_eq!(parsed["layers"].as_array().unwrap().len(), 1);
    assert_eq!(
        parsed["layers"][0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar"
    );
    assert_eq!(
        parsed["layers"][0]["annotations"]["org.opencontainers.image.title"],
        "shipped-1.0.0.tar.gz"
    );
    let config = oci
        .get(&format!(
            "/v2/{shipped}/blobs/{}",
            parsed["config"]["digest"].as_str().unwrap()
        ))
        .await;
    assert_eq!(&config.body[..], b"{}");
    let layer = oci
        .get(&format!(
            "/v2/{shipped}/blobs/{}",
            parsed["layers"][0]["digest"].as_str().unwrap()
        ))
        .await;
    assert_eq!(layer.status, StatusCode::OK);
    assert_eq!(
        digest_of(&layer.body),
        parsed["layers"][0]["digest"].as_str().unwrap()
    );
    assert_eq!(
        layer.body.len() as u64,
        parsed["layers"][0]["size"].as_u64().unwrap()
    );
    let archive = packyard::pack::files::PackFiles::from_archive(
        std::io::Cursor::new(layer.body.to_vec()),
        &packyard::pack::files::Limits::default(),
        setup.dir.path(),
    )
    .expect("the layer is the pack's archive");
    assert_eq!(
        packyard::pack::identify(&archive).map(|(n, v)| (n.to_string(), v.to_string())),
        Some(("shipped".into(), "1.0.0".into()))
    );
    let digest = digest_of(&manifest.body);
    assert_eq!(
        oci.get(&format!("/v2/{shipped}/manifests/{digest}"))
            .await
            .status,
        StatusCode::OK
    );
    drop(server);
    let server = start(
        &setup,
        &["--oci-pack-prefix", "team/packs", "--packs-dir", packs_dir],
    )
    .await;
    let oci = Oci::new(&server);
    assert_eq!(
        digest_of(
            &oci.get(&format!("/v2/{shipped}/manifests/1.0.0"))
                .await
                .body
        ),
        digest
    );

    // A pack pushed with ORAS 1.0's layout is published: the catalog, the Palette API and renders
    // see it, and the tag serves what was pushed.
    let pushed = TestPack::new("pushed", "2.1.0");
    let repository = "team/packs/spectro-packs/archive/pushed";
    let (answer, manifest) = oras_push(
        &oci,
        repository,
        "2.1.0",
        &pushed.archive(),
        "pushed-2.1.0.tar.gz",
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let version = common::remote::get_json(&server.url("/v1/packs/pushed/tags/2.1.0")).await;
    assert_eq!(version["name"], "pushed");
    assert_eq!(version["tags"][0]["version"], "2.1.0", "{version}");
    let rendered = oci
        .get("/v1/packs/pushed/tags/2.1.0/render?cloudType=aws")
        .await;
    assert_eq!(
        rendered.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&rendered.body)
    );
    assert_eq!(
        &oci.get(&format!("/v2/{repository}/manifests/2.1.0"))
            .await
            .body[..],
        &manifest[..]
    );
    let catalog = oci.get("/v2/_catalog").await.json();
    assert_eq!(catalog["repositories"], json!([repository, shipped]));

    // Pushed again unchanged: fine. Another version's archive under this tag, or another pack's:
    // refused, nothing published.
    assert_eq!(
        oras_push(
            &oci,
            repository,
            "2.1.0",
            &pushed.archive(),
            "pushed-2.1.0.tar.gz"
        )
        .await
        .0
        .status,
        StatusCode::CREATED
    );
    let other_version = TestPack::new("pushed", "2.2.0").archive();
    let refused = oras_push(&oci, repository, "2.1.0", &other_version, "x.tar.gz")
        .await
        .0;
    assert_eq!(
        refused.oci_error(StatusCode::BAD_REQUEST),
        "MANIFEST_INVALID"
    );
    assert_eq!(
        oci.get("/v1/packs/pushed/tags/2.2.0").await.status,
        StatusCode::NOT_FOUND
    );
    let not_a_pack = oras_push(&oci, repository, "2.3.0", b"not a tar.gz", "x.tar.gz")
        .await
        .0;
    assert_eq!(
        not_a_pack.oci_error(StatusCode::BAD_REQUEST),
        "MANIFEST_INVALID"
    );
    // Two layers are not a pack.
    oci.push_blob(repository, b"second layer").await;
    let two = image_manifest(b"{}", &[&pushed.archive(), b"second layer"], json!({}));
    assert_eq!(
        oci.put_manifest(repository, "2.1.0", OCI_MANIFEST, &two)
            .await
            .oci_error(StatusCode::BAD_REQUEST),
        "MANIFEST_INVALID"
    );

    // Different content under a published version: 409 for a writer, a replace for an admin.
    let token = {
        let output = setup.command(&[
            "token", "create", "--name", "ci", "--scope", "write", "--packs", "pushed",
        ]);
        assert!(output.status.success());
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };
    let writer = oci.with_auth(&format!("Bearer {token}"));
    let changed = pushed.clone().file("README.md", "changed");
    let conflict = oras_push(
        &writer,
        repository,
        "2.1.0",
        &changed.archive(),
        "pushed-2.1.0.tar.gz",
    )
    .await
    .0;
    assert_eq!(conflict.oci_error(StatusCode::CONFLICT), "DENIED");
    let replaced = oras_push(
        &oci,
        repository,
        "2.1.0",
        &changed.archive(),
        "pushed-2.1.0.tar.gz",
    )
    .await
    .0;
    assert_eq!(replaced.status, StatusCode::CREATED);
    let replaced = oci.get("/v1/packs/pushed/tags/2.1.0").await.json();
    assert_eq!(replaced["packValues"][0]["readme"], "changed");
    // Pack patterns apply to the pack: this token may not push `shipped`.
    let denied = writer
        .send(
            Method::POST,
            &format!("/v2/{shipped}/blobs/uploads/"),
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(denied.oci_error(StatusCode::FORBIDDEN), "DENIED");
    // Versions are not deleted through their tags.
    assert_eq!(
        oci.delete(&format!("/v2/{shipped}/manifests/1.0.0"))
            .await
            .oci_error(StatusCode::BAD_REQUEST),
        "UNSUPPORTED"
    );
    assert_eq!(
        oci.get(&format!("/v2/{shipped}/manifests/1.0.0"))
            .await
            .status,
        StatusCode::OK
    );
    // Outside the prefix, the same path is an ordinary (empty) repository.
    assert_eq!(
        oci.get("/v2/spectro-packs/archive/shipped/tags/list")
            .await
            .oci_error(StatusCode::NOT_FOUND),
        "NAME_UNKNOWN"
    );
}

fn basic_auth(user: &str, password: &str) -> String {
    use base64::Engine;
    let pair = format!("{user}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// The realm, service and scope of an answer's Bearer challenge.
fn bearer_challenge(answer: &Answer) -> (String, String, String) {
    let bearer = answer
        .headers
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with("Bearer "))
        .expect("a Bearer challenge")
        .to_owned();
    let field = |name: &str| {
        let start = bearer.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        bearer[start..].split('"').next().unwrap().to_owned()
    };
    (field("realm"), field("service"), field("scope"))
}

/// `GET url` (a token request) with `auth`; its status and JSON body.
async fn fetch_token(http: &reqwest::Client, auth: Option<&str>, url: &str) -> (StatusCode, Value) {
    let mut request = http.get(url);
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The token flow as Docker's client runs it: a 401 names the realm, service and scope; the
/// client fetches a token there with its credentials and retries with it.
#[tokio::test]
async fn the_docker_token_flow_issues_scoped_short_lived_tokens() {
    let setup = Setup::new().await;
    let server = start(&setup, &[]).await;
    let oci = Oci::new(&server);
    let http = oci.http.clone();
    let admin = basic_auth("ci", ADMIN_TOKEN);

    // A push without credentials names where to get a token for it.
    let refused = oci
        .anonymous()
        .send(Method::POST, "/v2/flow/app/blobs/uploads/", &[], Vec::new())
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let (realm, service, scope) = bearer_challenge(&refused);
    assert_eq!(realm, format!("{}/v2/token", server.base_url));
    assert_eq!(scope, "repository:flow/app:pull,push");
    let url = format!("{realm}?service={service}&scope={scope}");
    let (status, body) = fetch_token(&http, Some(&admin), &url).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["token"].as_str().unwrap().to_owned();
    assert_eq!(body["access_token"], body["token"]);
    assert_eq!(body["expires_in"], 300);
    assert!(body["issued_at"].as_str().is_some());
    let with_token = oci.with_auth(&format!("Bearer {token}"));
    populate(&with_token, "flow/app", "flow", "v1").await;
    assert_eq!(with_token.get("/v2/").await.status, StatusCode::OK);

    // Anonymous tokens of a public registry pull and never push; asking for pull only gives a
    // read token whatever the credentials.
    let (status, body) = fetch_token(&http, None, &url).await;
    assert_eq!(status, StatusCode::OK);
    let reader = oci.with_auth(&format!("Bearer {}", body["token"].as_str().unwrap()));
    assert_eq!(
        reader.get("/v2/flow/app/manifests/v1").await.status,
        StatusCode::OK
    );
    let denied = reader
        .send(Method::POST, "/v2/flow/app/blobs/uploads/", &[], Vec::new())
        .await;
    assert_eq!(denied.oci_error(StatusCode::FORBIDDEN), "DENIED");
    let pull_only = format!("{realm}?service={service}&scope=repository:flow/app:pull");
    let (_, body) = fetch_token(&http, Some(&admin), &pull_only).await;
    let narrowed = oci.with_auth(&format!("Bearer {}", body["token"].as_str().unwrap()));
    let push = narrowed
        .send(Method::POST, "/v2/flow/app/blobs/uploads/", &[], Vec::new())
        .await;
    assert_eq!(push.status, StatusCode::FORBIDDEN);

    // Wrong credentials get no token; a token altered by one character is refused.
    let (status, _) = fetch_token(&http, Some(&basic_auth("ci", "wrong")), &url).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let mut forged = token.clone().into_bytes();
    let at = forged.len() - 3;
    forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
    let forged = oci.with_auth(&format!("Bearer {}", String::from_utf8(forged).unwrap()));
    assert_eq!(
        forged.get("/v2/").await.oci_error(StatusCode::UNAUTHORIZED),
        "UNAUTHORIZED"
    );
    drop(server);

    // The signing key is kept in the database: tokens stay valid after a restart (and on every
    // replica). A private registry gives anonymous clients none.
    let server = start(&setup, &["--private"]).await;
    let oci = Oci::new(&server);
    let restarted = oci.with_auth(&format!("Bearer {token}"));
    assert_eq!(
        restarted.get("/v2/flow/app/manifests/v1").await.status,
        StatusCode::OK
    );
    let anonymous_url = format!(
        "{}/v2/token?service=x&scope=repository:flow/app:pull",
        server.base_url
    );
    let (status, _) = fetch_token(&http, None, &anonymous_url).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// gc beside concurrent pushes: with a three-second grace period (longer than any request here
/// takes, as the hour by default is), gc runs again and again while images are pushed, some with
/// their manifest up to three seconds after their blobs, just as gc may take them; such a push
/// may be refused (its blobs were collected first, and it pushes them again), but every manifest
/// the registry acknowledged pulls whole afterwards.
#[tokio::test]
async fn gc_beside_concurrent_pushes_never_breaks_an_acknowledged_manifest() {
    let setup = Setup::new().await;
    let server = start(&setup, &[]).await;
    let oci = Oci::new(&server);
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let collector = {
        let done = done.clone();
        let data_dir = setup.data_dir();
        let database_url = setup.database_url.clone();
        std::thread::spawn(move || {
            let mut runs = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let output = common::process::run_packyard(
                    &["gc", "--grace-secs", "3", "--upload-session-ttl-secs", "3"],
                    &data_dir,
                    database_url.as_deref(),
                );
                assert!(
                    output.status.success(),
                    "{}",
                    String::from_utf8_lossy(&output.stderr)
                );
                runs += 1;
            }
            runs
        })
    };
    let mut acknowledged = Vec::new();
    for i in 0..8u64 {
        let config = format!("{{\"race\":{i}}}").into_bytes();
        let layer = format!("layer {i} ").repeat(500).into_bytes();
        let manifest = image_manifest(&config, &[&layer], json!({}));
        for _attempt in 0..10 {
            for blob in [&config, &layer] {
                let answer = oci
                    .send(
                        Method::POST,
                        &format!("/v2/race/app/blobs/uploads/?digest={}", digest_of(blob)),
                        &[],
                        blob.to_vec(),
                    )
                    .await;
                assert_eq!(answer.status, StatusCode::CREATED);
            }
            // Around the grace period: the manifest comes as gc may take its blobs.
            tokio::time::sleep(Duration::from_millis((i % 4) * 1000)).await;
            let answer = oci
                .put_manifest("race/app", &format!("v{i}"), OCI_MANIFEST, &manifest)
                .await;
            if answer.status == StatusCode::CREATED {
                acknowledged.push((i, config.clone(), layer.clone(), manifest.clone()));
                break;
            }
            assert_eq!(
                answer.oci_error(StatusCode::BAD_REQUEST),
                "MANIFEST_BLOB_UNKNOWN"
            );
        }
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let runs = collector.join().unwrap();
    assert!(runs > 0);
    assert!(!acknowledged.is_empty(), "no push got through");
    // One more gc with nothing in flight: the tagged images keep everything they reference.
    let output = setup.command(&["gc", "--grace-secs", "0"]);
    assert!(output.status.success());
    for (i, config, layer, manifest) in &acknowledged {
        let got = oci.get(&format!("/v2/race/app/manifests/v{i}")).await;
        assert_eq!(&got.body[..], &manifest[..]);
        for blob in [config, layer] {
            let pulled = oci
                .get(&format!("/v2/race/app/blobs/{}", digest_of(blob)))
                .await;
            assert_eq!(
                pulled.status,
                StatusCode::OK,
                "image v{i}: a blob was collected"
            );
            assert_eq!(&pulled.body[..], &blob[..]);
        }
    }
    let verify = setup.command(&["verify"]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}
