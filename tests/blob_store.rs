//! One test suite for both blob backends: the local file system and an S3-compatible object store
//! (moto_server on 127.0.0.1). The same guarantees on both: uploads stream and are verified before
//! they become visible, ranges read exactly, identical blobs are stored once, removal and listing.

mod common;

use std::sync::Arc;

use bytes::Bytes;
use object_store::ObjectStoreExt;
use packyard::domain::Digest;
use packyard::store::blobs::{BlobStore, Expectation, PutError, Span};
use sha2::Digest as _;

/// A store of each kind, with its staging directory.
async fn stores() -> Vec<(&'static str, BlobStore, tempfile::TempDir)> {
    let file_dir = tempfile::tempdir().unwrap();
    let file = BlobStore::open(file_dir.path().join("blobs"))
        .await
        .unwrap();
    let s3 = common::s3::server().await;
    let bucket = s3.bucket().await;
    let staging = tempfile::tempdir().unwrap();
    let object = BlobStore::open_object_store(
        staging.path().join("blobs"),
        s3.store(&bucket),
        "registry/blobs",
    )
    .await
    .unwrap();
    vec![("file", file, file_dir), ("s3", object, staging)]
}

fn digest_of(bytes: &[u8]) -> Digest {
    Digest::from_bytes(sha2::Sha256::digest(bytes).into())
}

/// `bytes` as a stream of `chunk`-sized pieces, the way request bodies arrive.
fn chunked(
    bytes: &[u8],
    chunk: usize,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + use<> {
    let pieces: Vec<Result<Bytes, std::io::Error>> = bytes
        .chunks(chunk)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    futures_util::stream::iter(pieces)
}

async fn read_all(store: &BlobStore, digest: &Digest, span: Span) -> Vec<u8> {
    use futures_util::TryStreamExt;
    let chunks: Vec<Bytes> = store
        .read(digest, span, 64 * 1024)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    chunks.concat()
}

fn expect(digest: Digest, size: u64) -> Expectation {
    Expectation {
        digest: Some(digest),
        size: Some(size),
        max_size: u64::MAX,
    }
}

#[tokio::test]
async fn a_blob_round_trips_with_ranges_size_listing_and_removal() {
    for (kind, store, _dir) in stores().await {
        let bytes = common::remote::noise(7, 300_000);
        let digest = digest_of(&bytes);
        let stored = store
            .put(chunked(&bytes, 10_000), expect(digest, bytes.len() as u64))
            .await
            .unwrap();
        assert_eq!(
            (stored.digest, stored.size, stored.newly_written),
            (digest, 300_000, true),
            "{kind}"
        );
        assert_eq!(
            store.size_of(&digest).await.unwrap(),
            Some(300_000),
            "{kind}"
        );
        let whole = Span {
            start: 0,
            len: 300_000,
        };
        assert_eq!(read_all(&store, &digest, whole).await, bytes, "{kind}");
        let middle = Span {
            start: 123_456,
            len: 1_000,
        };
        assert_eq!(
            read_all(&store, &digest, middle).await,
            &bytes[123_456..124_456],
            "{kind}"
        );
        assert_eq!(
            store.read_whole(&digest, middle).await.unwrap(),
            &bytes[123_456..124_456],
            "{kind}"
        );
        let last = Span {
            start: 299_999,
            len: 1,
        };
        assert_eq!(
            read_all(&store, &digest, last).await,
            &bytes[299_999..],
            "{kind}"
        );
        assert_eq!(
            store.rehash(&digest).await.unwrap(),
            Some((digest, 300_000)),
            "{kind}"
        );
        let listed: Vec<Digest> = store
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|(d, _)| d)
            .collect();
        assert_eq!(listed, [digest], "{kind}");
        assert!(store.remove(&digest).await.unwrap(), "{kind}");
        assert!(!store.remove(&digest).await.unwrap(), "{kind}");
        assert_eq!(store.size_of(&digest).await.unwrap(), None, "{kind}");
        assert_eq!(store.rehash(&digest).await.unwrap(), None, "{kind}");
        let missing = store
            .read(&digest, whole, 1024)
            .await
            .err()
            .map(|e| e.kind());
        assert_eq!(missing, Some(std::io::ErrorKind::NotFound), "{kind}");
        assert_eq!(store.pending_uploads().await.unwrap(), 0, "{kind}");
    }
}

#[tokio::test]
async fn a_wrong_digest_or_size_leaves_nothing_visible() {
    for (kind, store, _dir) in stores().await {
        let bytes = common::remote::noise(11, 50_000);
        let claimed = digest_of(b"something else");
        let wrong_digest = store
            .put(chunked(&bytes, 4096), expect(claimed, 50_000))
            .await;
        assert!(
            matches!(wrong_digest, Err(PutError::DigestMismatch { .. })),
            "{kind}"
        );
        let actual = digest_of(&bytes);
        let wrong_size = store
            .put(chunked(&bytes, 4096), expect(actual, 49_999))
            .await;
        assert!(
            matches!(wrong_size, Err(PutError::SizeMismatch { .. })),
            "{kind}"
        );
        let limited = Expectation {
            digest: None,
            size: None,
            max_size: 10_000,
        };
        let too_large = store.put(chunked(&bytes, 4096), limited).await;
        assert!(
            matches!(too_large, Err(PutError::TooLarge { .. })),
            "{kind}"
        );
        assert_eq!(store.size_of(&actual).await.unwrap(), None, "{kind}");
        assert_eq!(store.size_of(&claimed).await.unwrap(), None, "{kind}");
        assert!(store.list().await.unwrap().is_empty(), "{kind}");
        assert_eq!(
            store.pending_uploads().await.unwrap(),
            0,
            "{kind}: staging files left"
        );
    }
}

#[tokio::test]
async fn identical_blobs_are_stored_once_even_concurrently() {
    for (kind, store, _dir) in stores().await {
        let store = Arc::new(store);
        let bytes = common::remote::noise(13, 200_000);
        let digest = digest_of(&bytes);
        let uploads: Vec<_> = (0..4)
            .map(|_| {
                let (store, bytes) = (store.clone(), bytes.clone());
                tokio::spawn(async move {
                    store
                        .put(chunked(&bytes, 8192), expect(digest, 200_000))
                        .await
                })
            })
            .collect();
        let mut written = 0;
        for upload in uploads {
            let stored = upload.await.unwrap().unwrap();
            assert_eq!(stored.digest, digest, "{kind}");
            written += usize::from(stored.newly_written);
        }
        assert!(written >= 1, "{kind}");
        let again = store
            .put(chunked(&bytes, 8192), expect(digest, 200_000))
            .await
            .unwrap();
        assert!(
            !again.newly_written,
            "{kind}: a stored blob is not written again"
        );
        assert_eq!(store.list().await.unwrap().len(), 1, "{kind}");
        assert_eq!(
            read_all(
                &store,
                &digest,
                Span {
                    start: 0,
                    len: 200_000
                }
            )
            .await,
            bytes,
            "{kind}"
        );
    }
}

#[tokio::test]
async fn a_large_blob_streams_in_parts() {
    // 21 MiB: three parts of a multipart upload on S3; streamed in 64 KiB request-sized pieces.
    for (kind, store, _dir) in stores().await {
        let bytes = common::remote::noise(17, 21 << 20);
        let digest = digest_of(&bytes);
        store
            .put(
                chunked(&bytes, 64 * 1024),
                expect(digest, bytes.len() as u64),
            )
            .await
            .unwrap();
        assert_eq!(
            store.size_of(&digest).await.unwrap(),
            Some(21 << 20),
            "{kind}"
        );
        // A range across the first part boundary (8 MiB).
        let start = (8 << 20) - 1000;
        let span = Span { start, len: 5000 };
        assert_eq!(
            read_all(&store, &digest, span).await,
            &bytes[start as usize..start as usize + 5000],
            "{kind}"
        );
        assert_eq!(
            store.rehash(&digest).await.unwrap(),
            Some((digest, 21 << 20)),
            "{kind}"
        );
    }
}

#[tokio::test]
async fn an_empty_blob_is_a_blob() {
    for (kind, store, _dir) in stores().await {
        let digest = digest_of(b"");
        store.put(chunked(b"", 1), expect(digest, 0)).await.unwrap();
        assert_eq!(store.size_of(&digest).await.unwrap(), Some(0), "{kind}");
        assert!(
            read_all(&store, &digest, Span { start: 0, len: 0 })
                .await
                .is_empty(),
            "{kind}"
        );
        assert_eq!(
            store.rehash(&digest).await.unwrap(),
            Some((digest, 0)),
            "{kind}"
        );
    }
}

/// The real server with `--blob-store s3://...`: uploads, publishes, downloads (whole and ranged),
/// renders, and `verify` and `gc` work against the object store.
#[tokio::test]
async fn the_server_keeps_its_blobs_in_s3() {
    use common::process::ServerProcess;
    use common::{ADMIN_TOKEN, fresh_database_url};

    let s3 = common::s3::server().await;
    let bucket = s3.bucket().await;
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let database_url = fresh_database_url().await;
    let location = format!("s3://{bucket}/packyard");
    let storage_args = [
        "--blob-store",
        location.as_str(),
        "--s3-endpoint",
        s3.endpoint.as_str(),
    ];
    let env = [
        ("AWS_ACCESS_KEY_ID", "packyard-test"),
        ("AWS_SECRET_ACCESS_KEY", "packyard-test"),
        ("AWS_REGION", "us-east-1"),
    ];
    let mut args = vec!["--admin-token", ADMIN_TOKEN];
    args.extend_from_slice(&storage_args);
    let server = ServerProcess::start_with_env(
        &data_dir,
        database_url.as_deref(),
        &args,
        &dir.path().join("server.log"),
        &env,
    )
    .await;
    let client = reqwest::Client::new();

    let bytes = common::remote::noise(23, 3 << 20);
    let digest = digest_of(&bytes);
    let url = server.url(&format!("/v1/demo/blobs/{digest}"));
    let put = client
        .put(&url)
        .bearer_auth(ADMIN_TOKEN)
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201, "{}", put.text().await.unwrap());
    let got = client.get(&url).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap(), bytes);
    let ranged = client
        .get(&url)
        .header("range", "bytes=1000-1999")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status(), 206);
    assert_eq!(ranged.bytes().await.unwrap(), &bytes[1000..2000]);

    let pack = common::packs::TestPack::new("demo", "1.0.0");
    let published = common::remote::publish(&server.base_url, "", pack.archive())
        .await
        .unwrap();
    assert_eq!(published.status(), 201);
    let rendered = client
        .get(server.url("/v1/packs/demo/tags/1.0.0/render?cloudType=aws"))
        .send()
        .await
        .unwrap();
    assert_eq!(rendered.status(), 200);
    let archive = client
        .get(server.url(&format!(
            "/v1/demo/blobs/{}",
            common::digest_of(&pack.archive())
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(archive.bytes().await.unwrap(), pack.archive());
    drop(server);

    // The objects are in the bucket under the prefix, and nothing was kept on local disk.
    let objects =
        BlobStore::open_object_store(dir.path().join("check"), s3.store(&bucket), "packyard")
            .await
            .unwrap()
            .list()
            .await
            .unwrap();
    assert!(objects.iter().any(|(d, _)| *d == digest), "{objects:?}");
    assert!(!data_dir.join("blobs").join("sha256").exists());

    let run = |command: &str| {
        let mut process = std::process::Command::new(env!("CARGO_BIN_EXE_packyard"));
        process
            .arg(command)
            .arg("--data-dir")
            .arg(&data_dir)
            .args(storage_args)
            .envs(env);
        process.env_remove("PACKYARD_DATABASE_URL");
        if let Some(url) = &database_url {
            process.arg("--database-url").arg(url);
        }
        process.output().unwrap()
    };
    let verified = run("verify");
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
    // Corrupt the uploaded blob in the bucket: verify notices.
    s3.store(&bucket)
        .put(
            &object_store::path::Path::from(format!(
                "packyard/sha256/{}/{}",
                &digest.hex()[..2],
                digest.hex()
            )),
            Bytes::from_static(b"tampered").into(),
        )
        .await
        .unwrap();
    let broken = run("verify");
    assert!(!broken.status.success());
    assert!(String::from_utf8_lossy(&broken.stdout).contains("corrupted"));
}
