//! The content-addressed blob store on the local file system.
//!
//! Layout: `<root>/sha256/<first two hex>/<hex>` for blobs and `<root>/_uploads/` for uploads in
//! progress (same file system, so publishing an upload is an atomic link). This module is the only
//! place that turns a digest into a path.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sha2::{Digest as _, Sha256};
use tokio::fs::File;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufWriter};

use crate::domain::Digest;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const UPLOADS_DIR: &str = "_uploads";
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

#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    /// Opens (creating if needed) the store under `root` and removes uploads a crash left behind.
    pub async fn open(root: impl Into<PathBuf>) -> io::Result<BlobStore> {
        let store = BlobStore { root: root.into() };
        tokio::fs::create_dir_all(store.root.join("sha256")).await?;
        tokio::fs::create_dir_all(store.uploads_dir()).await?;
        let removed = store.remove_stale_uploads().await?;
        if removed > 0 {
            tracing::info!(removed, "removed unfinished uploads left by an earlier run");
        }
        Ok(store)
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
        match tokio::fs::metadata(self.path_of(digest)).await {
            Ok(meta) => Ok(Some(meta.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Opens the blob positioned at `span.start`, limited to `span.len` bytes.
    pub async fn read(&self, digest: &Digest, span: Span) -> io::Result<tokio::io::Take<File>> {
        let mut file = File::open(self.path_of(digest)).await?;
        if span.start > 0 {
            file.seek(io::SeekFrom::Start(span.start)).await?;
        }
        Ok(file.take(span.len))
    }

    /// Reads a span of a blob into memory in one blocking call (for small spans only).
    pub async fn read_whole(&self, digest: &Digest, span: Span) -> io::Result<Bytes> {
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
