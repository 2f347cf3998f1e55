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
use futures_util::{Stream, StreamExt};
use object_store::ObjectStore;
use object_store::path::Path as ObjectPath;

use super::blob_backends::{BlobBackend, FileBackend, ObjectBackend};
use sha2::{Digest as _, Sha256};
use tokio::fs::File;
use tokio::io::{AsyncWriteExt, BufWriter};

use crate::domain::Digest;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const UPLOADS_DIR: &str = "_uploads";
/// Upload sessions of the OCI API: kept across restarts (a client may resume), removed by gc once
/// expired.
const SESSIONS_DIR: &str = "_sessions";
const UPLOAD_SUFFIX: &str = ".part";
const WRITE_BUFFER: usize = 1 << 20;

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

impl Expectation {
    /// Whether finished content of `digest` and `size` is what was claimed.
    fn check(&self, digest: Digest, size: u64) -> Result<(), PutError> {
        if let Some(expected) = self.size
            && expected != size
        {
            return Err(PutError::SizeMismatch {
                expected,
                actual: size,
            });
        }
        if let Some(expected) = self.digest
            && expected != digest
        {
            return Err(PutError::DigestMismatch {
                expected,
                actual: digest,
            });
        }
        Ok(())
    }
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

/// A stream of a blob's bytes (a span of it).
pub type BlobStream = BoxStream<'static, io::Result<Bytes>>;

#[derive(Debug, Clone)]
pub struct BlobStore {
    /// Local directory: the blobs themselves for the file backend, and the staging area always.
    root: PathBuf,
    /// Where verified blobs live.
    backend: Arc<dyn BlobBackend>,
}

impl BlobStore {
    /// Opens (creating if needed) the store under `root`.
    pub async fn open(root: impl Into<PathBuf>) -> io::Result<BlobStore> {
        let root = root.into();
        tokio::fs::create_dir_all(root.join("sha256")).await?;
        let store = BlobStore {
            backend: Arc::new(FileBackend { root: root.clone() }),
            root,
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
            backend: Arc::new(ObjectBackend {
                store,
                prefix: ObjectPath::from(prefix.trim_matches('/')),
            }),
        };
        blobs.prepare().await?;
        Ok(blobs)
    }

    /// Creates the directories.
    async fn prepare(&self) -> io::Result<()> {
        tokio::fs::create_dir_all(self.uploads_dir()).await?;
        tokio::fs::create_dir_all(self.sessions_dir()).await?;
        Ok(())
    }

    /// Removes uploads a crash left behind: for a server starting, never for a command (`gc`,
    /// `verify`) that may run beside a server whose uploads are in flight.
    pub async fn clear_stale_uploads(&self) -> io::Result<()> {
        let removed = self.remove_stale_uploads().await?;
        if removed > 0 {
            tracing::info!(removed, "removed unfinished uploads left by an earlier run");
        }
        Ok(())
    }

    fn uploads_dir(&self) -> PathBuf {
        self.root.join(UPLOADS_DIR)
    }

    fn sessions_dir(&self) -> PathBuf {
        self.root.join(SESSIONS_DIR)
    }

    /// The file of session `id`. Ids are made by the registry (hex and dashes); anything else is
    /// refused here too, so no id can name a path outside the sessions directory.
    fn session_path(&self, id: &str) -> io::Result<PathBuf> {
        let valid = !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
        if !valid {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "invalid session id",
            ));
        }
        Ok(self.sessions_dir().join(id))
    }

    /// Starts an empty session file.
    pub async fn create_session(&self, id: &str) -> io::Result<()> {
        tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(self.session_path(id)?)
            .await?;
        Ok(())
    }

    /// How many bytes session `id` holds; `None` when it has no file.
    pub async fn session_size(&self, id: &str) -> io::Result<Option<u64>> {
        match tokio::fs::metadata(self.session_path(id)?).await {
            Ok(metadata) => Ok(Some(metadata.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Appends `body` to session `id`, which must hold exactly `offset` bytes (the caller checked
    /// the client's range against it), keeping the session within `max_size`; a chunk whose
    /// length was stated (`length`) must have exactly that many bytes. On any failure the session
    /// is cut back to `offset`, so a broken chunk can be sent again. Returns the new size.
    pub async fn append_session<S, E>(
        &self,
        id: &str,
        offset: u64,
        length: Option<u64>,
        body: S,
        max_size: u64,
    ) -> Result<u64, PutError>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: Into<BoxError>,
    {
        let path = self.session_path(id)?;
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .await?;
        if file.metadata().await?.len() != offset {
            return Err(PutError::Io(io::Error::other("session size changed")));
        }
        let mut writer = BufWriter::with_capacity(WRITE_BUFFER, file);
        let written = async {
            use tokio::io::AsyncSeekExt;
            writer.seek(io::SeekFrom::Start(offset)).await?;
            let mut size = offset;
            let mut body = std::pin::pin!(body);
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| PutError::Body(e.into()))?;
                size += chunk.len() as u64;
                if let Some(expected) = length
                    && size - offset > expected
                {
                    return Err(PutError::SizeMismatch {
                        expected,
                        actual: size - offset,
                    });
                }
                if size > max_size {
                    return Err(PutError::TooLarge { limit: max_size });
                }
                writer.write_all(&chunk).await?;
            }
            if let Some(expected) = length
                && size - offset != expected
            {
                return Err(PutError::SizeMismatch {
                    expected,
                    actual: size - offset,
                });
            }
            writer.flush().await?;
            writer.get_ref().sync_data().await?;
            Ok(size)
        }
        .await;
        if written.is_err() {
            writer.get_ref().set_len(offset).await?;
        }
        written
    }

    /// Closes session `id`: its file becomes a staged upload, hashed and checked against
    /// `expect` (the session file is gone afterwards, whatever the outcome).
    pub async fn stage_session(&self, id: &str, expect: Expectation) -> Result<Staged, PutError> {
        let mut upload = TempUpload::create(&self.uploads_dir()).await?;
        drop(upload.take_file()?);
        tokio::fs::rename(self.session_path(id)?, &upload.path).await?;
        let (digest, size) = hash_file(upload.path.clone()).await?;
        if size > expect.max_size {
            return Err(PutError::TooLarge {
                limit: expect.max_size,
            });
        }
        expect.check(digest, size)?;
        Ok(Staged {
            upload,
            digest,
            size,
        })
    }

    /// Removes session `id`'s file; false when it had none.
    pub async fn remove_session(&self, id: &str) -> io::Result<bool> {
        match tokio::fs::remove_file(self.session_path(id)?).await {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Every session file: its id and when it was last written.
    pub async fn session_files(&self) -> io::Result<Vec<(String, std::time::SystemTime)>> {
        let mut files = Vec::new();
        let mut entries = tokio::fs::read_dir(self.sessions_dir()).await?;
        while let Some(entry) = entries.next_entry().await? {
            // Only names that are session ids: anything else was not put there by a session.
            if let Some(name) = entry.file_name().to_str()
                && self.session_path(name).is_ok()
            {
                match entry.metadata().await.and_then(|m| m.modified()) {
                    Ok(modified) => files.push((name.to_owned(), modified)),
                    // Closed or abandoned since the listing.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(files)
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
        expect.check(digest, size)?;
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
    /// made visible. On any failure the temporary file is removed. The registry's writers stage,
    /// claim the blob in the database (`blob_records::reserve`) and then commit instead; this is
    /// for callers without a database (the blob-store tests).
    pub async fn put<S, E>(&self, body: S, expect: Expectation) -> Result<Stored, PutError>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: Into<BoxError>,
    {
        let staged = self.stage(body, expect).await?;
        Ok(self.commit(staged).await?)
    }

    /// Stages bytes already in memory (a pack's logo or chart, a generated archive).
    pub async fn stage_bytes(&self, bytes: &[u8]) -> io::Result<Staged> {
        let chunk = Bytes::copy_from_slice(bytes);
        let expect = Expectation {
            digest: None,
            size: Some(bytes.len() as u64),
            max_size: u64::MAX,
        };
        self.stage(
            futures_util::stream::iter([Ok::<_, io::Error>(chunk)]),
            expect,
        )
        .await
        .map_err(|e| match e {
            PutError::Io(e) => e,
            other => io::Error::other(other.to_string()),
        })
    }

    /// Stages a file on local disk (a pack entry spilled while its archive was read), streamed and
    /// checked against the digest and size it had when it was read.
    pub async fn stage_file(
        &self,
        path: &Path,
        digest: Digest,
        size: u64,
    ) -> Result<Staged, PutError> {
        let file = File::open(path).await?;
        let chunks = tokio_util::io::ReaderStream::with_capacity(file, 1 << 20);
        self.stage(
            chunks,
            Expectation {
                digest: Some(digest),
                size: Some(size),
                max_size: u64::MAX,
            },
        )
        .await
    }

    /// The local directory uploads are staged in (also where pack entries spill while an
    /// archive is read: files there are removed at start-up and by `gc`).
    pub fn staging_dir(&self) -> PathBuf {
        self.uploads_dir()
    }

    /// Makes a verified upload visible under its digest without ever replacing an existing blob.
    async fn publish(&self, upload: &Path, digest: &Digest) -> io::Result<bool> {
        self.backend.publish(upload, digest).await
    }

    /// The size of the stored blob, or `None` if it is not stored. Reads no content.
    pub async fn size_of(&self, digest: &Digest) -> io::Result<Option<u64>> {
        self.backend.size_of(digest).await
    }

    /// The bytes of `span` as a stream (`chunk` bytes at a time from files; ranged GETs from an
    /// object store).
    pub async fn read(&self, digest: &Digest, span: Span, chunk: usize) -> io::Result<BlobStream> {
        self.backend.read(digest, span, chunk).await
    }

    /// Reads a span of a blob into memory in one blocking call (for small spans only).
    pub async fn read_whole(&self, digest: &Digest, span: Span) -> io::Result<Bytes> {
        self.backend.read_whole(digest, span).await
    }

    /// Re-hashes a stored blob (for verification). `None` when it is not stored.
    pub async fn rehash(&self, digest: &Digest) -> io::Result<Option<(Digest, u64)>> {
        self.backend.rehash(digest).await
    }

    /// Every stored blob file: its digest (from the name) and when it was last modified. Files whose
    /// names are not digests are skipped.
    pub async fn list(&self) -> io::Result<Vec<(Digest, std::time::SystemTime)>> {
        self.backend.list().await
    }

    /// Deletes a stored blob's file; false when it was not there.
    pub async fn remove(&self, digest: &Digest) -> io::Result<bool> {
        self.backend.remove(digest).await
    }

    /// Deletes upload files older than `cutoff` (left by a crash; a running upload is newer).
    pub async fn remove_uploads_older_than(
        &self,
        cutoff: std::time::SystemTime,
    ) -> io::Result<usize> {
        let mut removed = 0;
        let mut entries = tokio::fs::read_dir(self.uploads_dir()).await?;
        while let Some(entry) = entries.next_entry().await? {
            // An upload that finished (or was dropped) since the listing is simply gone.
            let modified = match entry.metadata().await.and_then(|m| m.modified()) {
                Ok(modified) => modified,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            if modified < cutoff {
                match tokio::fs::remove_file(entry.path()).await {
                    Ok(()) => removed += 1,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
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

/// The sha256 and length of a file, read in 1 MiB pieces on the blocking pool (staged sessions and
/// stored blobs alike).
pub(super) async fn hash_file(path: PathBuf) -> io::Result<(Digest, u64)> {
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut file = std::fs::File::open(path)?;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; WRITE_BUFFER];
        let mut size = 0u64;
        loop {
            let read = file.read(&mut buffer)?;
            if read == 0 {
                break;
            }
            hasher.update(&buffer[..read]);
            size += read as u64;
        }
        Ok((Digest::from_bytes(hasher.finalize().into()), size))
    })
    .await
    .map_err(io::Error::other)?
}

pub(super) async fn sync_dir(dir: PathBuf) -> io::Result<()> {
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
