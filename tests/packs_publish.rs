//! Publishing packs through the real router: round trip, idempotence, conflicts and forced
//! replaces, archive attacks, and the lint findings returned on publish.

mod common;

use axum::http::StatusCode;
use common::packs::{RawEntry, TestPack, gzip, raw_tar_gz};
use common::{TestRegistry, request};

#[tokio::test]
async fn publish_round_trip() {
    let registry = TestRegistry::new().await;
    let pack = TestPack::new("demo-app", "1.2.0");
    let body = registry.publish_ok(&pack).await;
    assert_eq!(body["name"], "demo-app");
    assert_eq!(body["version"], "1.2.0");
    assert_eq!(body["status"], "created");
    let digest = body["digest"].as_str().unwrap().to_owned();
    assert!(digest.starts_with("sha256:") && digest.len() == 71);
    let uid = body["uid"].as_str().unwrap().to_owned();
    assert_eq!(uid.len(), 24);
    assert_eq!(
        body["warnings"],
        serde_json::json!([]),
        "a clean pack has no findings"
    );

    let entity = registry.tag_entity("demo-app", "").await;
    assert_eq!(entity.status, StatusCode::OK);
    let entity = entity.json();
    assert_eq!(entity["tags"][0]["tag"], "1.2.0");
    assert_eq!(entity["tags"][0]["packUid"], uid.as_str());
    assert_eq!(entity["packValues"][0]["packUid"], uid.as_str());
    assert!(
        entity["packValues"][0]["values"]
            .as_str()
            .unwrap()
            .contains("replicas: 2")
    );
    assert_eq!(
        entity["packValues"][0]["schema"][0]["name"],
        "manifests.app.replicas"
    );
    assert_eq!(entity["packValues"][0]["presets"][0]["name"], "big");
    assert!(
        entity["packValues"][0]["readme"]
            .as_str()
            .unwrap()
            .contains("A test pack")
    );

    // The logo URL serves the logo, and the archive itself is a blob of the pack.
    let logo_url = entity["logoUrl"].as_str().unwrap();
    assert!(
        logo_url.starts_with("/v1/demo-app/blobs/sha256:") && logo_url.ends_with("?type=image/png")
    );
    let logo = registry.get(logo_url).await;
    assert_eq!(logo.status, StatusCode::OK);
    assert_eq!(logo.header("content-type"), Some("image/png"));
    assert_eq!(&logo.body[..], common::packs::TINY_PNG);
    let rows = registry.version_rows("demo-app").await;
    let archive = registry
        .get(&format!("/v1/demo-app/blobs/{}", rows[0].archive_digest))
        .await;
    assert_eq!(archive.status, StatusCode::OK);
    assert_eq!(archive.header("content-type"), Some("application/gzip"));

    let tags = registry.get("/v1/demo-app/tags/list").await.json();
    assert_eq!(
        tags,
        serde_json::json!({"name": "demo-app", "tags": ["1.2.0"]})
    );
    let catalog = registry.get("/v1/_catalog").await.json();
    assert_eq!(catalog["repositories"], serde_json::json!(["demo-app"]));
}

#[tokio::test]
async fn same_content_again_is_200_with_the_same_digest_whatever_the_archive_order() {
    let registry = TestRegistry::new().await;
    let pack = TestPack::new("demo-app", "1.0.0");
    let first = registry.publish_ok(&pack).await;

    let again = registry.publish(pack.archive()).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["digest"], first["digest"]);
    assert_eq!(again.json()["status"], "unchanged");

    // The same files in another order, at the archive root, with other modes: same content.
    let files = pack.files();
    let mut entries: Vec<RawEntry> = files
        .iter()
        .map(|(path, entry)| RawEntry::file(&format!("./{path}"), entry.bytes().unwrap()))
        .collect();
    entries.reverse();
    let reordered = registry.publish(raw_tar_gz(&entries)).await;
    assert_eq!(
        reordered.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reordered.body)
    );
    assert_eq!(reordered.json()["digest"], first["digest"]);
    assert_eq!(registry.version_rows("demo-app").await.len(), 1);
}

#[tokio::test]
async fn different_content_conflicts_unless_forced_with_a_message() {
    let registry = TestRegistry::new().await;
    let original = TestPack::new("demo-app", "1.0.0");
    let first = registry.publish_ok(&original).await;
    let changed = original.clone().file("README.md", "# changed\n");

    let conflict = registry.publish(changed.archive()).await;
    assert_eq!(conflict.error_code(StatusCode::CONFLICT), "VERSION_EXISTS");
    assert!(
        conflict.json()["message"]
            .as_str()
            .unwrap()
            .contains(first["digest"].as_str().unwrap())
    );

    let no_message = registry.publish_with("force=true", changed.archive()).await;
    assert_eq!(
        no_message.error_code(StatusCode::BAD_REQUEST),
        "PARAMETER_INVALID"
    );
    let rows = registry.version_rows("demo-app").await;
    assert_eq!(
        rows[0].digest.to_string(),
        first["digest"].as_str().unwrap()
    );

    // Deprecate it first: a replace keeps the operator's state.
    assert_eq!(
        registry
            .set_state("demo-app", "1.0.0", "deprecated")
            .await
            .status,
        StatusCode::OK
    );
    let replaced = registry
        .publish_with("force=true&message=fix%20the%20readme", changed.archive())
        .await;
    assert_eq!(replaced.status, StatusCode::CREATED);
    let replaced = replaced.json();
    assert_eq!(replaced["status"], "replaced");
    assert_ne!(replaced["digest"], first["digest"]);
    assert_ne!(replaced["uid"], first["uid"]);

    let rows = registry.version_rows("demo-app").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].digest.to_string(),
        replaced["digest"].as_str().unwrap()
    );
    assert_eq!(rows[0].state, packyard::domain::PackState::Deprecated);
    let events = packyard::store::versions::list_events(
        registry.db.reader(),
        &"demo-app".parse().unwrap(),
        &"1.0.0".parse().unwrap(),
    )
    .await
    .unwrap();
    let replace = events
        .iter()
        .find(|e| e.action.as_str() == "replace")
        .expect("a replace event");
    assert_eq!(replace.message.as_deref(), Some("fix the readme"));
    assert_eq!(replace.actor, "admin");
    let old_digest = replace.old_digest.0.map(|d| d.to_string());
    assert_eq!(old_digest.as_deref(), first["digest"].as_str());
    assert!(replace.at > 0);
    // The old uid is gone, the new one answers.
    let old = registry
        .get(&format!("/v1/packs/{}", first["uid"].as_str().unwrap()))
        .await;
    assert_eq!(old.status, StatusCode::NOT_FOUND);
    let new = registry
        .get(&format!("/v1/packs/{}", replaced["uid"].as_str().unwrap()))
        .await;
    assert_eq!(new.status, StatusCode::OK);
}

/// Asserts that a refused publish stored nothing at all.
async fn assert_nothing_stored(registry: &TestRegistry) {
    assert!(
        registry.stored_digests().await.is_empty(),
        "blob rows were stored"
    );
    assert!(
        registry.blob_files().is_empty(),
        "files were left: {:?}",
        registry.blob_files()
    );
    assert_eq!(registry.blobs.pending_uploads().await.unwrap(), 0);
    let catalog = registry.get("/v1/_catalog").await.json();
    assert_eq!(catalog["repositories"], serde_json::json!([]));
}

#[tokio::test]
async fn every_archive_attack_is_refused_with_nothing_stored() {
    let registry = TestRegistry::new().await;
    let pack_json = br#"{"name":"evil","version":"1.0.0","layer":"addon"}"#.to_vec();
    let with = |extra: RawEntry| raw_tar_gz(&[RawEntry::file("pack.json", &pack_json), extra]);
    let zeros = vec![0u8; 600 << 20];
    let cases: Vec<(&str, Vec<u8>, StatusCode)> = vec![
        (
            "absolute path",
            with(RawEntry::file("/etc/cron.d/evil", "x")),
            StatusCode::BAD_REQUEST,
        ),
        (
            "parent directory",
            with(RawEntry::file("../../evil", "x")),
            StatusCode::BAD_REQUEST,
        ),
        (
            "nested parent",
            with(RawEntry::file("manifests/../../evil", "x")),
            StatusCode::BAD_REQUEST,
        ),
        (
            "symlink",
            with(RawEntry::special(
                "manifests/link.yaml",
                tar::EntryType::Symlink,
                Some("/etc/passwd"),
            )),
            StatusCode::BAD_REQUEST,
        ),
        (
            "hard link",
            with(RawEntry::special(
                "manifests/hard.yaml",
                tar::EntryType::Link,
                Some("pack.json"),
            )),
            StatusCode::BAD_REQUEST,
        ),
        (
            "char device",
            with(RawEntry::special("dev", tar::EntryType::Char, None)),
            StatusCode::BAD_REQUEST,
        ),
        (
            "block device",
            with(RawEntry::special("blk", tar::EntryType::Block, None)),
            StatusCode::BAD_REQUEST,
        ),
        (
            "fifo",
            with(RawEntry::special("pipe", tar::EntryType::Fifo, None)),
            StatusCode::BAD_REQUEST,
        ),
        (
            "duplicate entry",
            raw_tar_gz(&[
                RawEntry::file("pack.json", &pack_json),
                RawEntry::file("pack.json", &pack_json),
            ]),
            StatusCode::BAD_REQUEST,
        ),
        (
            "too many entries",
            raw_tar_gz(
                &(0..10_001)
                    .map(|i| RawEntry::file(&format!("f/{i}"), ""))
                    .collect::<Vec<_>>(),
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "gzip bomb",
            raw_tar_gz(&[
                RawEntry::file("pack.json", &pack_json),
                RawEntry::file("bomb", &zeros),
            ]),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "not gzip",
            b"this is not an archive".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "gzip but not tar",
            gzip(b"plain text, not a tar stream at all, but long enough to matter"),
            StatusCode::BAD_REQUEST,
        ),
        ("empty body", Vec::new(), StatusCode::BAD_REQUEST),
        (
            "no pack.json",
            raw_tar_gz(&[RawEntry::file("values.yaml", "a: 1")]),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "pack.json not JSON",
            raw_tar_gz(&[RawEntry::file("pack.json", "{nope")]),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "no name",
            raw_tar_gz(&[RawEntry::file("pack.json", r#"{"version":"1.0.0"}"#)]),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "no version",
            raw_tar_gz(&[RawEntry::file("pack.json", r#"{"name":"a"}"#)]),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "name not a path segment",
            raw_tar_gz(&[RawEntry::file(
                "pack.json",
                r#"{"name":"../x","version":"1.0.0"}"#,
            )]),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "uppercase name",
            raw_tar_gz(&[RawEntry::file(
                "pack.json",
                r#"{"name":"Calico","version":"1.0.0"}"#,
            )]),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "version that is a tag",
            raw_tar_gz(&[RawEntry::file(
                "pack.json",
                r#"{"name":"a","version":"latest"}"#,
            )]),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "field of the wrong type",
            raw_tar_gz(&[RawEntry::file(
                "pack.json",
                r#"{"name":"a","version":"1.0.0","cloudTypes":"aws"}"#,
            )]),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (case, archive, status) in cases {
        let response = registry.publish(archive).await;
        assert_eq!(
            response.status,
            status,
            "{case}: {}",
            String::from_utf8_lossy(&response.body)
        );
        let body = response.json();
        assert!(!body["message"].as_str().unwrap().is_empty(), "{case}");
        assert_nothing_stored(&registry).await;
    }
}

#[tokio::test]
async fn refusal_messages_name_the_file_field_and_reason() {
    let registry = TestRegistry::new().await;
    let wrong_type = raw_tar_gz(&[RawEntry::file(
        "pack.json",
        r#"{"name":"a","version":"1.0.0","cloudTypes":"aws"}"#,
    )]);
    let message = registry.publish(wrong_type).await.json()["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("pack.json") && message.contains("cloudTypes"),
        "{message}"
    );
    let escape = raw_tar_gz(&[
        RawEntry::file("pack.json", "{}"),
        RawEntry::file("../x", ""),
    ]);
    let message = registry.publish(escape).await.json()["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("../x") && message.contains(".."),
        "{message}"
    );
}

#[tokio::test]
async fn an_upload_above_the_pack_size_limit_is_refused() {
    let registry = TestRegistry::with_config(|config| config.max_pack_size = 2048).await;
    let big = TestPack::new("demo-app", "1.0.0").file("README.md", vec![b'x'; 100_000]);
    let archive = big.archive();
    assert!(archive.len() < 2048, "the README compresses well");
    let noisy: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let response = registry
        .publish(
            TestPack::new("demo-app", "1.0.0")
                .file("README.md", noisy)
                .archive(),
        )
        .await;
    assert_eq!(
        response.error_code(StatusCode::PAYLOAD_TOO_LARGE),
        "ARCHIVE_TOO_LARGE"
    );
    assert_nothing_stored(&registry).await;
}

#[tokio::test]
async fn publishing_needs_the_admin_token() {
    let registry = TestRegistry::new().await;
    let response = registry
        .send(
            request(axum::http::Method::POST, "/v1/packs")
                .body(axum::body::Body::from(
                    TestPack::new("demo-app", "1.0.0").archive(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(
        response.error_code(StatusCode::UNAUTHORIZED),
        "UNAUTHORIZED"
    );
    assert_nothing_stored(&registry).await;
}

fn codes(body: &serde_json::Value) -> Vec<String> {
    body["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap().to_owned())
        .collect()
}

fn finding<'a>(body: &'a serde_json::Value, code: &str) -> &'a serde_json::Value {
    body["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == code)
        .unwrap_or_else(|| panic!("no {code} finding in {body}"))
}

#[tokio::test]
async fn what_palette_lets_through_is_published_with_findings() {
    let registry = TestRegistry::new().await;
    let pack = TestPack::new("sloppy", "1.5")
        .without("README.md")
        .file(
            "values.yaml",
            "manifests:\n  app:\n    replicas: 2\n    enabled: yes\n  aap:\n    replicas: 3\n  app:\n    replicas: 4\n",
        )
        .file(
            "manifests/app.yaml",
            "kind: ConfigMap\n{{ if .Values.enabled }}\ndata:\n  a: {{ .Values.replicas | toYml }}\n",
        )
        .file("schema.yaml", "manifests.app.replicas:\n  schema: '{{ format \"${colour}\" }}'\n")
        .pack_json(|json| {
            json["cloudTypes"] = serde_json::json!(["aws", "mars"]);
            json["futureField"] = serde_json::json!({"kept": true});
        });
    let body = registry.publish_ok(&pack).await;
    let found = codes(&body);
    for expected in [
        "version-not-semver",
        "readme-missing",
        "duplicate-key",
        "yaml11-boolean",
        "values-key-without-manifest",
        "template-invalid",
        "schema-unknown",
        "cloud-type-unknown",
    ] {
        assert!(
            found.iter().any(|c| c == expected),
            "missing {expected} in {found:?}"
        );
    }
    let duplicate = finding(&body, "duplicate-key");
    assert_eq!(duplicate["file"], "values.yaml");
    assert_eq!(duplicate["line"], 7);
    let templates: Vec<&serde_json::Value> = body["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["code"] == "template-invalid")
        .collect();
    assert_eq!(templates[0]["file"], "manifests/app.yaml");
    assert_eq!(templates[0]["line"], 2);
    assert!(
        templates[0]["message"]
            .as_str()
            .unwrap()
            .contains("never closed")
    );
    let mismatch = finding(&body, "values-key-without-manifest");
    assert_eq!(mismatch["field"], "manifests.aap");

    // Findings are stored with the version and returned again on an identical publish.
    let again = registry.publish(pack.archive()).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["warnings"], body["warnings"]);
    // Unknown pack.json fields are kept.
    let rows = registry.version_rows("sloppy").await;
    let stored: packyard::pack::Pack =
        packyard::store::versions::load_document(registry.db.reader(), &rows[0].uid)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(stored.pack_json.document["futureField"]["kept"], true);
    assert_eq!(stored.version.as_str(), "1.5");
}

#[tokio::test]
async fn unknown_functions_are_reported_with_their_line() {
    let registry = TestRegistry::new().await;
    let pack = TestPack::new("typo", "1.0.0").file(
        "manifests/app.yaml",
        "kind: ConfigMap\ndata:\n  a: {{ .Values.replicas | toYml }}\n",
    );
    let body = registry.publish_ok(&pack).await;
    let template = finding(&body, "template-invalid");
    assert_eq!(template["line"], 3);
    assert_eq!(template["severity"], "error");
    assert!(template["message"].as_str().unwrap().contains("toYml"));
}

#[tokio::test]
async fn lenient_versions_are_kept_as_published_and_ordered() {
    let registry = TestRegistry::new().await;
    for version in ["v1.1.0", "1.5", "26.04.4", "1.10.0", "1.9.0"] {
        registry.publish_ok(&TestPack::new("odd", version)).await;
    }
    let tags = registry.get("/v1/odd/tags/list").await.json();
    assert_eq!(
        tags["tags"],
        serde_json::json!(["v1.1.0", "1.5", "1.9.0", "1.10.0", "26.04.4"])
    );
    let entity = registry.tag_entity("odd", "").await.json();
    let parent = |tag: &str| {
        entity["tags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["tag"] == tag)
            .map(|t| t["version"].as_str().unwrap().to_owned())
    };
    assert_eq!(parent("1.x").as_deref(), Some("1.10.0"));
    assert_eq!(parent("26.4.x").as_deref(), Some("26.04.4"));
    assert_eq!(parent("1.1.x").as_deref(), Some("v1.1.0"));
}

/// A Helm chart archive holding `<name>/Chart.yaml`.
fn chart(name: &str, version: &str) -> Vec<u8> {
    raw_tar_gz(&[
        RawEntry::file(
            &format!("{name}/Chart.yaml"),
            format!("apiVersion: v2\nname: {name}\nversion: {version}\n"),
        ),
        RawEntry::file(&format!("{name}/values.yaml"), "replicas: 1\n"),
    ])
}

#[tokio::test]
async fn charts_are_stored_as_blobs_and_checked_against_values() {
    let registry = TestRegistry::new().await;
    let chart_bytes = chart("argo-cd", "5.1.0");
    let pack = TestPack::new("argo", "5.1.0")
        .without("manifests/app.yaml")
        .without("schema.yaml")
        .without("presets.yaml")
        .file("charts/argo-cd-5.1.0.tgz", &chart_bytes)
        .file("values.yaml", "charts:\n  argocd:\n    replicas: 2\n")
        .pack_json(|json| {
            json["kubeManifests"] = serde_json::json!([]);
            json["charts"] = serde_json::json!(["charts/argo-cd-5.1.0.tgz"]);
        });
    let body = registry.publish_ok(&pack).await;
    let found = codes(&body);
    assert!(
        found.contains(&"chart-values-key-mismatch".to_owned()),
        "{found:?}"
    );
    assert!(
        found.contains(&"values-key-without-chart".to_owned()),
        "{found:?}"
    );
    assert!(
        finding(&body, "chart-values-key-mismatch")["message"]
            .as_str()
            .unwrap()
            .contains("argo-cd")
    );
    let digest = common::digest_of(&chart_bytes);
    let download = registry.get(&format!("/v1/argo/blobs/{digest}")).await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(&download.body[..], &chart_bytes[..]);
    let rows = registry.version_rows("argo").await;
    assert_eq!(rows[0].pack_type.as_str(), "helm");
    let blobs = packyard::store::versions::list_version_blobs(registry.db.reader(), &rows[0].uid)
        .await
        .unwrap();
    let roles: Vec<(&str, &str)> = blobs
        .iter()
        .map(|b| (b.path.as_str(), b.role.as_str()))
        .collect();
    assert_eq!(
        roles,
        [
            ("archive", "archive"),
            ("charts/argo-cd-5.1.0.tgz", "chart"),
            ("logo.png", "logo")
        ]
    );
}

#[tokio::test]
async fn concurrent_publishes_of_one_version_have_exactly_one_winner() {
    // All six at once (beyond the default two publishes at a time, which would answer 503).
    let registry = TestRegistry::with_config(|config| config.max_concurrent_publishes = 8).await;
    let variants: Vec<Vec<u8>> = (0..6)
        .map(|i| {
            TestPack::new("racer", "1.0.0")
                .file("README.md", format!("# variant {i}\n"))
                .archive()
        })
        .collect();
    let results =
        futures_util::future::join_all(variants.into_iter().map(|a| registry.publish(a))).await;
    let statuses: Vec<StatusCode> = results.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(registry.version_rows("racer").await.len(), 1);

    let same = TestPack::new("twin", "1.0.0").archive();
    let results =
        futures_util::future::join_all((0..6).map(|_| registry.publish(same.clone()))).await;
    let statuses: Vec<StatusCode> = results.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        5,
        "{statuses:?}"
    );
}

/// Concurrent forced replaces of two versions of one pack leave the pack's latest version pointing at
/// the newest version that exists. On PostgreSQL (the second `.ci/run` pass) the two writes run on
/// separate connections at once; a latest computed from a snapshot taken before the other writer
/// committed used to leave it pointing at a version that writer had just replaced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_to_one_pack_keep_its_latest_version_current() {
    let registry = TestRegistry::new().await;
    registry.publish_ok(&TestPack::new("race", "1.0.0")).await;
    registry.publish_ok(&TestPack::new("race", "2.0.0")).await;
    for round in 0..30 {
        // Nothing shared between the two (no common blob to queue on), so they stay in step.
        let version = |v: &str| {
            let mut logo = common::packs::TINY_PNG.to_vec();
            logo.extend(v.as_bytes());
            TestPack::new("race", v)
                .file("README.md", format!("# race\n\n{v}, round {round}\n"))
                .file("logo.png", logo)
        };
        // Two tasks, so the two publishes run in parallel on the two worker threads.
        let publish = |v: &str| {
            let router = registry.router.clone();
            let request = request(
                axum::http::Method::POST,
                "/v1/packs?force=true&message=race",
            )
            .header("authorization", format!("Bearer {}", common::ADMIN_TOKEN))
            .header("content-type", "application/gzip")
            .body(axum::body::Body::from(version(v).archive()))
            .unwrap();
            tokio::spawn(async move {
                use tower::ServiceExt;
                router.oneshot(request).await.unwrap().status()
            })
        };
        let (older, newer) = (publish("1.0.0"), publish("2.0.0"));
        assert_eq!(older.await.unwrap(), StatusCode::CREATED, "round {round}");
        assert_eq!(newer.await.unwrap(), StatusCode::CREATED, "round {round}");
        let rows = registry.version_rows("race").await;
        let newest = rows
            .iter()
            .find(|row| row.version.as_str() == "2.0.0")
            .unwrap();
        let latest: Option<String> =
            sqlx::query_scalar("SELECT latest_uid FROM packs WHERE name = 'race'")
                .fetch_one(registry.db.reader())
                .await
                .unwrap();
        assert_eq!(
            latest.as_deref(),
            Some(newest.uid.as_str()),
            "round {round}"
        );
    }
    let broken = packyard::store::integrity::broken_references(registry.db.reader())
        .await
        .unwrap();
    assert!(broken.is_empty(), "{broken:?}");
}
