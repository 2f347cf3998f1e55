//! The content-addressed blob store: on the local file system, or in an S3-compatible object store.
//!
//! Layout: `<root>/sha256/<first two hex>/<hex>` for blobs (`<prefix>/sha256/...` as object keys)
//! and `<root>/_uploads/` for uploads in progress. Every upload streams through sha256 into a local
//! staging file first, so the digest is verified before the blob becomes visible under its final
//! name: a hard link on the file system (atomic, never replacing), a multipart upload to the object
//! store (content-addressed, so a concurrent identical upload writes identical bytes). This module is
//! the only place that turns a digest into a path or key.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, WriteMultipart};
use sha2::{Digest as _, Sha256};
use tokio::fs::File;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufWriter};

use crate::domain::Digest;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const UPLOADS_DIR: &str = "_uploads";
const UPLOAD_SUFFIX: &str = ".part";
const WRITE_BUFFER: usize = 1 << 20;
/// Part size of multipart uploads to an object store (S3 needs at least 5 MiB per part).
const MULTIPART_CHUNK: usize = 8 << 20;
/// Parts of one upload in flight at once.
const MULTIPART_CONCURRENCY: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum PutError {
    #[error("content has digest {actual}, not the claimed {expected}")]
    DigestMismatch { expected: Digest, actual: Digest },
    #[error("content is {actual} bytes, not the claimed {expected}")]
    SizeMismatch { expected: u64, actual: u64 },
    #[error("content exceeds the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("reading the upload failed: {0}")]
    Body(BoxError),
    #[error("blob store I/O failed: {0}")]
    Io(#[from] io::Error),
}

/// What an upload must match. Each check runs while the bytes stream in, so a too-large upload is
/// cut off at the limit rather than after it has filled the disk.
#[derive(Debug, Clone, Copy)]
pub struct Expectation {
    pub digest: Option<Digest>,
    pub size: Option<u64>,
    pub max_size: u64,
}

/// The result of a successful upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    pub digest: Digest,
    pub size: u64,
    /// False when an identical blob was already stored (the existing file is kept untouched).
    pub newly_written: bool,
}

/// An upload hashed and fsynced into a temporary file, not yet visible under its digest.
#[derive(Debug)]
pub struct Staged {
    upload: TempUpload,
    pub digest: Digest,
    pub size: u64,
}

impl Staged {
    /// Opens the staged bytes for reading (for example to unpack an uploaded archive).
    pub fn open(&self) -> io::Result<std::fs::File> {
        std::fs::File::open(&self.upload.path)
    }
}

/// A byte range `[start, start + len)` of a blob, already checked against its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: u64,
    pub len: u64,
}

/// Where blobs live once verified.
#[derive(Debug, Clone)]
enum Backend {
    File,
    Object {
        store: Arc<dyn ObjectStore>,
        prefix: ObjectPath,
    },
}

/// A stream of a blob's bytes (a span of it).
pub type BlobStream = BoxStream<'static, io::Result<Bytes>>;

#[derive(Debug, Clone)]
pub struct BlobStore {
    /// Local directory: the blobs themselves for the file backend, and the staging area always.
    root: PathBuf,
    backend: Backend,
}

fn object_error(error: object_store::Error) -> io::Error {
    match error {
        object_store::Error::NotFound { .. } => io::Error::new(io::ErrorKind::NotFound, error),
        other => io::Error::other(other),
    }
}

impl BlobStore {
    /// Opens (creating if needed) the store under `root` and removes uploads a crash left behind.
    pub async fn open(root: impl Into<PathBuf>) -> io::Result<BlobStore> {
        let store = BlobStore {
            root: root.into(),
            backend: Backend::File,
        };
        store.prepare().await?;
        Ok(store)
    }

    /// A store whose blobs live in `store` under `prefix`; uploads are staged under `staging`.
    pub async fn open_object_store(
        staging: impl Into<PathBuf>,
        store: Arc<dyn ObjectStore>,
        prefix: &str,
    ) -> io::Result<BlobStore> {
        let blobs = BlobStore {
            root: staging.into(),
            backend: Backend::Object {
                store,
                prefix: ObjectPath::from(prefix.trim_matches('/')),
            },
        };
        blobs.prepare().await?;
        Ok(blobs)
    }

    /// Creates the directories and removes uploads a crash left behind.
    async fn prepare(&self) -> io::Result<()> {
        if matches!(self.backend, Backend::File) {
            tokio::fs::create_dir_all(self.root.join("sha256")).await?;
        }
        tokio::fs::create_dir_all(self.uploads_dir()).await?;
        let removed = self.remove_stale_uploads().await?;
        if removed > 0 {
            tracing::info!(removed, "removed unfinished uploads left by an earlier run");
        }
        Ok(())
    }

    /// The object key of a blob (object backend only).
    fn key_of(prefix: &ObjectPath, digest: &Digest) -> ObjectPath {
        let hex = digest.hex();
        let mut key = prefix.clone();
        for part in ["sha256", &hex[..2], &hex] {
            key = key.clone().join(part);
        }
        key
    }

    fn uploads_dir(&self) -> PathBuf {
        self.root.join(UPLOADS_DIR)
    }

    fn path_of(&self, digest: &Digest) -> PathBuf {
        let hex = digest.hex();
        self.root.join("sha256").join(&hex[..2]).join(hex)
    }

    /// Removes every file in the uploads directory. Only safe at start-up, before uploads begin.
    async fn remove_stale_uploads(&self) -> io::Result<usize> {
        let mut removed = 0;
        let mut entries = tokio::fs::read_dir(self.uploads_dir()).await?;
        while let Some(entry) = entries.next_entry().await? {
            if entry.file_type().await?.is_file() {
                tokio::fs::remove_file(entry.path()).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Streams `body` into a temporary file, hashing it on the way and enforcing the size limits.
    /// Nothing is held whole in memory; dropping the result (or this future) removes the file.
    pub async fn stage<S, E>(&self, body: S, expect: Expectation) -> Result<Staged, PutError>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: Into<BoxError>,
    {
        let mut upload = TempUpload::create(&self.uploads_dir()).await?;
        let mut writer =
            BufWriter::with_capacity(WRITE_BUFFER, File::from_std(upload.take_file()?));
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let size_limit = expect.size.unwrap_or(expect.max_size).min(expect.max_size);
        let mut body = std::pin::pin!(body);
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| PutError::Body(e.into()))?;
            size += chunk.len() as u64;
            if size > size_limit {
                return Err(match expect.size {
                    Some(expected) if expected < expect.max_size => PutError::SizeMismatch {
                        expected,
                        actual: size,
                    },
                    _ => PutError::TooLarge {
                        limit: expect.max_size,
                    },
                });
            }
            hasher.update(&chunk);
            writer.write_all(&chunk).await?;
        }
        writer.flush().await?;
        let file = writer.into_inner();
        file.sync_all().await?;
        drop(file);

        let digest = Digest::from_bytes(hasher.finalize().into());
        if let Some(expected) = expect.size
            && expected != size
        {
            return Err(PutError::SizeMismatch {
                expected,
                actual: size,
            });
        }
        if let Some(expected) = expect.digest
            && expected != digest
        {
            return Err(PutError::DigestMismatch {
                expected,
                actual: digest,
            });
        }
        Ok(Staged {
            upload,
            digest,
            size,
        })
    }

    /// Makes a staged upload visible under its digest (never replacing an existing blob).
    pub async fn commit(&self, staged: Staged) -> io::Result<Stored> {
        let newly_written = self.publish(&staged.upload.path, &staged.digest).await?;
        Ok(Stored {
            digest: staged.digest,
            size: staged.size,
            newly_written,
        })
    }

    /// Streams `body` into the store: staged (hashed, fsynced, checked against `expect`), then
    /// linked into place. On any failure the temporary file is removed.
    pub async fn put<S, E>(&self, body: S, expect: Expectation) -> Result<Stored, PutError>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: Into<BoxError>,
    {
        let staged = self.stage(body, expect).await?;
        Ok(self.commit(staged).await?)
    }

    /// Stores bytes already in memory (a pack's logo or chart, a generated archive).
    pub async fn put_bytes(&self, bytes: &[u8]) -> io::Result<Stored> {
        let chunk = Bytes::copy_from_slice(bytes);
        let expect = Expectation {
            digest: None,
            size: Some(bytes.len() as u64),
            max_size: u64::MAX,
        };
        self.put(
            futures_util::stream::iter([Ok::<_, io::Error>(chunk)]),
            expect,
        )
        .await
        .map_err(|e| match e {
            PutError::Io(e) => e,
            other => io::Error::other(other.to_string()),
        })
    }

    /// Makes a verified upload visible under its digest without ever replacing an existing blob.
    async fn publish(&self, upload: &Path, digest: &Digest) -> io::Result<bool> {
        if let Backend::Object { store, prefix } = &self.backend {
            return upload_object(store.as_ref(), &Self::key_of(prefix, digest), upload).await;
        }
        let target = self.path_of(digest);
        let parent = target
            .parent()
            .ok_or_else(|| io::Error::other("blob path has no parent"))?
            .to_path_buf();
        tokio::fs::create_dir_all(&parent).await?;
        // A hard link fails if the target exists, so concurrent identical uploads leave one file.
        let newly_written = match tokio::fs::hard_link(upload, &target).await {
            Ok(()) => true,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
            Err(e) => return Err(e),
        };
        if newly_written {
            sync_dir(parent).await?;
        }
        Ok(newly_written)
    }

    /// The size of the stored blob, or `None` if it is not stored. Reads no content.
    pub async fn size_of(&self, digest: &Digest) -> io::Result<Option<u64>> {
        if let Backend::Object { store, prefix } = &self.backend {
            return match store.head(&Self::key_of(prefix, digest)).await {
                Ok(meta) => Ok(Some(meta.size)),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(object_error(e)),
            };
        }
        match tokio::fs::metadata(self.path_of(digest)).await {
            Ok(meta) => Ok(Some(meta.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The bytes of `span` as a stream (`chunk` bytes at a time from files; ranged GETs from an
    /// object store).
    pub async fn read(&self, digest: &Digest, span: Span, chunk: usize) -> io::Result<BlobStream> {
        if let Backend::Object { store, prefix } = &self.backend {
            if span.len == 0 {
                return Ok(futures_util::stream::empty().boxed());
            }
            let options = GetOptions {
                range: Some(GetRange::Bounded(span.start..span.start + span.len)),
                ..GetOptions::default()
            };
            let result = store
                .get_opts(&Self::key_of(prefix, digest), options)
                .await
                .map_err(object_error)?;
            return Ok(result.into_stream().map_err(object_error).boxed());
        }
        let mut file = File::open(self.path_of(digest)).await?;
        if span.start > 0 {
            file.seek(io::SeekFrom::Start(span.start)).await?;
        }
        Ok(tokio_util::io::ReaderStream::with_capacity(file.take(span.len), chunk).boxed())
    }

    /// Reads a span of a blob into memory in one blocking call (for small spans only).
    pub async fn read_whole(&self, digest: &Digest, span: Span) -> io::Result<Bytes> {
        if let Backend::Object { store, prefix } = &self.backend {
            if span.len == 0 {
                return Ok(Bytes::new());
            }
            return store
                .get_range(
                    &Self::key_of(prefix, digest),
                    span.start..span.start + span.len,
                )
                .await
                .map_err(object_error);
        }
        let path = self.path_of(digest);
        tokio::task::spawn_blocking(move || {
            use std::io::{Read, Seek};
            let mut file = std::fs::File::open(path)?;
            if span.start > 0 {
                file.seek(io::SeekFrom::Start(span.start))?;
            }
            let mut buffer = Vec::with_capacity(usize::try_from(span.len).unwrap_or(0));
            file.take(span.len).read_to_end(&mut buffer)?;
            Ok(Bytes::from(buffer))
        })
        .await
        .map_err(io::Error::other)?
    }

    /// Re-hashes a stored blob (for verification). `None` when it is not stored.
    pub async fn rehash(&self, digest: &Digest) -> io::Result<Option<(Digest, u64)>> {
        if let Backend::Object { store, prefix } = &self.backend {
            let result = match store.get(&Self::key_of(prefix, digest)).await {
                Ok(result) => result,
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(object_error(e)),
            };
            let mut hasher = Sha256::new();
            let mut size = 0u64;
            let mut stream = result.into_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(object_error)?;
                size += chunk.len() as u64;
                hasher.update(&chunk);
            }
            return Ok(Some((Digest::from_bytes(hasher.finalize().into()), size)));
        }
        let mut file = match File::open(self.path_of(digest)).await {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; WRITE_BUFFER];
        let mut size = 0u64;
        loop {
            let n = file.read(&mut buffer).await?;
            if n == 0 {
                break;
            }
            size += n as u64;
            hasher.update(&buffer[..n]);
        }
        Ok(Some((Digest::from_bytes(hasher.finalize().into()), size)))
    }

    /// Every stored blob file: its digest (from the name) and when it was last modified. Files whose
    /// names are not digests are skipped.
    pub async fn list(&self) -> io::Result<Vec<(Digest, std::time::SystemTime)>> {
        if let Backend::Object { store, prefix } = &self.backend {
            let under = prefix.clone().join("sha256");
            let mut found = Vec::new();
            let mut objects = store.list(Some(&under));
            while let Some(meta) = objects.next().await {
                let meta = meta.map_err(object_error)?;
                let Some(name) = meta.location.filename() else {
                    continue;
                };
                if let Ok(digest) = Digest::from_hex(name) {
                    found.push((digest, std::time::SystemTime::from(meta.last_modified)));
                }
            }
            found.sort();
            return Ok(found);
        }
        let root = self.root.join("sha256");
        tokio::task::spawn_blocking(move || {
            let mut found = Vec::new();
            for shard in std::fs::read_dir(&root)? {
                let shard = shard?;
                if !shard.file_type()?.is_dir() {
                    continue;
                }
                for file in std::fs::read_dir(shard.path())? {
                    let file = file?;
                    let Ok(digest) = Digest::from_hex(&file.file_name().to_string_lossy()) else {
                        continue;
                    };
                    found.push((digest, file.metadata()?.modified()?));
                }
            }
            found.sort();
            Ok(found)
        })
        .await
        .map_err(io::Error::other)?
    }

    /// Deletes a stored blob's file; false when it was not there.
    pub async fn remove(&self, digest: &Digest) -> io::Result<bool> {
        if let Backend::Object { store, prefix } = &self.backend {
            let key = Self::key_of(prefix, digest);
            return match store.head(&key).await {
                Ok(_) => store
                    .delete(&key)
                    .await
                    .map(|()| true)
                    .map_err(object_error),
                Err(object_store::Error::NotFound { .. }) => Ok(false),
                Err(e) => Err(object_error(e)),
            };
        }
        match tokio::fs::remove_file(self.path_of(digest)).await {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Deletes upload files older than `cutoff` (left by a crash; a running upload is newer).
    pub async fn remove_uploads_older_than(
        &self,
        cutoff: std::time::SystemTime,
    ) -> io::Result<usize> {
        let mut removed = 0;
        let mut entries = tokio::fs::read_dir(self.uploads_dir()).await?;
        while let Some(entry) = entries.next_entry().await? {
            if entry.metadata().await?.modified()? < cutoff {
                tokio::fs::remove_file(entry.path()).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Number of uploads in progress (or left behind), for tests and diagnostics.
    pub async fn pending_uploads(&self) -> io::Result<usize> {
        let mut count = 0;
        let mut entries = tokio::fs::read_dir(self.uploads_dir()).await?;
        while entries.next_entry().await?.is_some() {
            count += 1;
        }
        Ok(count)
    }
}

/// Uploads a verified staging file to `key` in parts (nothing held whole in memory); false when
/// the object already existed (identical content, by its key).
async fn upload_object(
    store: &dyn ObjectStore,
    key: &ObjectPath,
    upload: &Path,
) -> io::Result<bool> {
    match store.head(key).await {
        Ok(_) => return Ok(false),
        Err(object_store::Error::NotFound { .. }) => {}
        Err(e) => return Err(object_error(e)),
    }
    let mut file = File::open(upload).await?;
    // Below one part, a single PUT (bounded memory; S3 refuses multipart uploads of zero parts).
    if file.metadata().await?.len() < MULTIPART_CHUNK as u64 {
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).await?;
        store
            .put(key, Bytes::from(bytes).into())
            .await
            .map_err(object_error)?;
        return Ok(true);
    }
    let multipart = store.put_multipart(key).await.map_err(object_error)?;
    let mut writer = WriteMultipart::new_with_chunk_size(multipart, MULTIPART_CHUNK);
    let mut buffer = vec![0u8; WRITE_BUFFER];
    let written: io::Result<()> = async {
        loop {
            let n = file.read(&mut buffer).await?;
            if n == 0 {
                return Ok(());
            }
            writer
                .wait_for_capacity(MULTIPART_CONCURRENCY)
                .await
                .map_err(object_error)?;
            writer.write(&buffer[..n]);
        }
    }
    .await;
    match written {
        Ok(()) => writer.finish().await.map(|_| true).map_err(object_error),
        Err(e) => {
            // Leave no parts behind on the object store.
            let _ = writer.abort().await;
            Err(e)
        }
    }
}

async fn sync_dir(dir: PathBuf) -> io::Result<()> {
    tokio::task::spawn_blocking(move || std::fs::File::open(dir)?.sync_all())
        .await
        .map_err(io::Error::other)?
}

/// A temporary upload file that deletes itself unless the upload completes; the link into place is
/// a second name, so deleting the temporary one is always right.
#[derive(Debug)]
struct TempUpload {
    path: PathBuf,
    file: Option<std::fs::File>,
}

static UPLOAD_COUNTER: AtomicU64 = AtomicU64::new(0);

impl TempUpload {
    async fn create(dir: &Path) -> io::Result<TempUpload> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "{}-{}-{}{UPLOAD_SUFFIX}",
            std::process::id(),
            nanos,
            UPLOAD_COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let path = dir.join(name);
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await?
            .into_std()
            .await;
        Ok(TempUpload {
            path,
            file: Some(file),
        })
    }

    fn take_file(&mut self) -> io::Result<std::fs::File> {
        self.file
            .take()
            .ok_or_else(|| io::Error::other("upload file already taken"))
    }
}

impl Drop for TempUpload {
    fn drop(&mut self) {
        // Synchronous on purpose: this also runs when an upload future is dropped mid-stream.
        if let Err(e) = std::fs::remove_file(&self.path)
            && e.kind() != io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.path.display(), error = %e, "could not remove an upload file");
        }
    }
}
