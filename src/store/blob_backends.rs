//! Where verified blobs live: one trait, two implementations (the local file system and an
//! S3-compatible object store). Staging, hashing and verification happen before, in `BlobStore`,
//! the same for both; a backend only makes a verified staging file visible under its digest and
//! reads, lists and deletes what is visible.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::{StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, WriteMultipart};
use sha2::{Digest as _, Sha256};

use tokio::fs::File;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::blobs::{BlobStream, Span};
use crate::domain::Digest;

/// Reads of local files and staging files go in pieces this large.
const READ_BUFFER: usize = 1 << 20;
/// Part size of multipart uploads to an object store (S3 needs at least 5 MiB per part).
const MULTIPART_CHUNK: usize = 8 << 20;
/// Parts of one upload in flight at once.
const MULTIPART_CONCURRENCY: usize = 4;

/// What a blob backend does with verified content. `publish` makes the verified staging file
/// visible under its digest, never replacing an existing blob (false when it already existed).
pub trait BlobBackend: Send + Sync + std::fmt::Debug {
    fn publish<'a>(
        &'a self,
        upload: &'a Path,
        digest: &'a Digest,
    ) -> BoxFuture<'a, io::Result<bool>>;
    /// The stored size, `None` when absent.
    fn size_of<'a>(&'a self, digest: &'a Digest) -> BoxFuture<'a, io::Result<Option<u64>>>;
    /// A span as a stream (NotFound when absent).
    fn read<'a>(
        &'a self,
        digest: &'a Digest,
        span: Span,
        chunk: usize,
    ) -> BoxFuture<'a, io::Result<BlobStream>>;
    /// A (small) span in memory.
    fn read_whole<'a>(&'a self, digest: &'a Digest, span: Span)
    -> BoxFuture<'a, io::Result<Bytes>>;
    /// The digest and size of what is stored, `None` when absent.
    fn rehash<'a>(&'a self, digest: &'a Digest)
    -> BoxFuture<'a, io::Result<Option<(Digest, u64)>>>;
    /// Every stored blob with its modification time.
    fn list(&self) -> BoxFuture<'_, io::Result<Vec<(Digest, std::time::SystemTime)>>>;
    /// Deletes a blob; false when it was not there.
    fn remove<'a>(&'a self, digest: &'a Digest) -> BoxFuture<'a, io::Result<bool>>;
}

/// Blobs as files: `<root>/sha256/<first two hex>/<hex>`.
#[derive(Debug, Clone)]
pub struct FileBackend {
    pub root: PathBuf,
}

impl FileBackend {
    fn path_of(&self, digest: &Digest) -> PathBuf {
        let hex = digest.hex();
        self.root.join("sha256").join(&hex[..2]).join(hex)
    }
}

impl BlobBackend for FileBackend {
    fn publish<'a>(
        &'a self,
        upload: &'a Path,
        digest: &'a Digest,
    ) -> BoxFuture<'a, io::Result<bool>> {
        Box::pin(async move {
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
                super::blobs::sync_dir(parent).await?;
            }
            Ok(newly_written)
        })
    }

    fn size_of<'a>(&'a self, digest: &'a Digest) -> BoxFuture<'a, io::Result<Option<u64>>> {
        Box::pin(async move {
            match tokio::fs::metadata(self.path_of(digest)).await {
                Ok(meta) => Ok(Some(meta.len())),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            }
        })
    }

    fn read<'a>(
        &'a self,
        digest: &'a Digest,
        span: Span,
        chunk: usize,
    ) -> BoxFuture<'a, io::Result<BlobStream>> {
        Box::pin(async move {
            let mut file = File::open(self.path_of(digest)).await?;
            if span.start > 0 {
                file.seek(io::SeekFrom::Start(span.start)).await?;
            }
            Ok(tokio_util::io::ReaderStream::with_capacity(file.take(span.len), chunk).boxed())
        })
    }

    fn read_whole<'a>(
        &'a self,
        digest: &'a Digest,
        span: Span,
    ) -> BoxFuture<'a, io::Result<Bytes>> {
        Box::pin(async move {
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
        })
    }

    fn rehash<'a>(
        &'a self,
        digest: &'a Digest,
    ) -> BoxFuture<'a, io::Result<Option<(Digest, u64)>>> {
        Box::pin(async move {
            match super::blobs::hash_file(self.path_of(digest)).await {
                Ok(found) => Ok(Some(found)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            }
        })
    }

    fn list(&self) -> BoxFuture<'_, io::Result<Vec<(Digest, std::time::SystemTime)>>> {
        Box::pin(async move {
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
                        let Ok(digest) = Digest::from_hex(&file.file_name().to_string_lossy())
                        else {
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
        })
    }

    fn remove<'a>(&'a self, digest: &'a Digest) -> BoxFuture<'a, io::Result<bool>> {
        Box::pin(async move {
            match tokio::fs::remove_file(self.path_of(digest)).await {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
                Err(e) => Err(e),
            }
        })
    }
}

/// Blobs as objects `<prefix>/sha256/<first two hex>/<hex>` in an S3-compatible store.
#[derive(Debug, Clone)]
pub struct ObjectBackend {
    pub store: Arc<dyn ObjectStore>,
    pub prefix: ObjectPath,
}

impl ObjectBackend {
    fn key_of(&self, digest: &Digest) -> ObjectPath {
        let hex = digest.hex();
        let mut key = self.prefix.clone();
        for part in ["sha256", &hex[..2], &hex] {
            key = key.clone().join(part);
        }
        key
    }
}

impl BlobBackend for ObjectBackend {
    fn publish<'a>(
        &'a self,
        upload: &'a Path,
        digest: &'a Digest,
    ) -> BoxFuture<'a, io::Result<bool>> {
        Box::pin(
            async move { upload_object(self.store.as_ref(), &self.key_of(digest), upload).await },
        )
    }

    fn size_of<'a>(&'a self, digest: &'a Digest) -> BoxFuture<'a, io::Result<Option<u64>>> {
        Box::pin(async move {
            match self.store.head(&self.key_of(digest)).await {
                Ok(meta) => Ok(Some(meta.size)),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(object_error(e)),
            }
        })
    }

    fn read<'a>(
        &'a self,
        digest: &'a Digest,
        span: Span,
        // Ranged GETs arrive in the HTTP client's own pieces.
        _chunk: usize,
    ) -> BoxFuture<'a, io::Result<BlobStream>> {
        Box::pin(async move {
            if span.len == 0 {
                return Ok(futures_util::stream::empty().boxed());
            }
            let options = GetOptions {
                range: Some(GetRange::Bounded(span.start..span.start + span.len)),
                ..GetOptions::default()
            };
            let result = self
                .store
                .get_opts(&self.key_of(digest), options)
                .await
                .map_err(object_error)?;
            Ok(result.into_stream().map_err(object_error).boxed())
        })
    }

    fn read_whole<'a>(
        &'a self,
        digest: &'a Digest,
        span: Span,
    ) -> BoxFuture<'a, io::Result<Bytes>> {
        Box::pin(async move {
            if span.len == 0 {
                return Ok(Bytes::new());
            }
            self.store
                .get_range(&self.key_of(digest), span.start..span.start + span.len)
                .await
                .map_err(object_error)
        })
    }

    fn rehash<'a>(
        &'a self,
        digest: &'a Digest,
    ) -> BoxFuture<'a, io::Result<Option<(Digest, u64)>>> {
        Box::pin(async move {
            let result = match self.store.get(&self.key_of(digest)).await {
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
            Ok(Some((Digest::from_bytes(hasher.finalize().into()), size)))
        })
    }

    fn list(&self) -> BoxFuture<'_, io::Result<Vec<(Digest, std::time::SystemTime)>>> {
        Box::pin(async move {
            let under = self.prefix.clone().join("sha256");
            let mut found = Vec::new();
            let mut objects = self.store.list(Some(&under));
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
            Ok(found)
        })
    }

    fn remove<'a>(&'a self, digest: &'a Digest) -> BoxFuture<'a, io::Result<bool>> {
        Box::pin(async move {
            let key = self.key_of(digest);
            match self.store.head(&key).await {
                Ok(_) => self
                    .store
                    .delete(&key)
                    .await
                    .map(|()| true)
                    .map_err(object_error),
                Err(object_store::Error::NotFound { .. }) => Ok(false),
                Err(e) => Err(object_error(e)),
            }
        })
    }
}

fn object_error(error: object_store::Error) -> io::Error {
    match error {
        object_store::Error::NotFound { .. } => io::Error::new(io::ErrorKind::NotFound, error),
        other => io::Error::other(other),
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
    let mut buffer = vec![0u8; READ_BUFFER];
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
