//! Blobs by digest within a pack: finding them (records and small contents cached), reading their
//! bytes, uploading new ones, and a version's logo.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::Stream;

use super::{BlobRecord, Caller, Registry, RegistryError};
use crate::domain::{Digest, MediaType, PackName};
use crate::store::blob_records::{self, ReferenceKind};
use crate::store::blobs::{BlobStream, Expectation};
use crate::store::packs;

pub use super::cache::blobs::SMALL_BLOB;
pub use crate::store::blobs::Span;

/// A stored upload: the blob, and whether the pack referenced it already.
#[derive(Debug, Clone)]
pub struct Uploaded {
    pub digest: Digest,
    pub size: u64,
    pub media_type: Option<MediaType>,
    /// False when the pack already had this blob.
    pub newly_referenced: bool,
}

/// An upload as a request declares it.
#[derive(Debug, Clone)]
pub struct Upload {
    pub pack: PackName,
    pub digest: Digest,
    /// `Content-Length`, when given: checked while the bytes stream in.
    pub size: Option<u64>,
    pub media_type: Option<MediaType>,
}

impl Registry {
    /// The blob `digest` if `pack` references it.
    pub async fn blob(
        &self,
        pack: &PackName,
        digest: &Digest,
    ) -> Result<Arc<BlobRecord>, RegistryError> {
        self.inner
            .caches
            .blobs
            .find(&self.inner.db, pack, digest)
            .await?
            .ok_or_else(|| RegistryError::BlobUnknown {
                pack: pack.clone(),
                digest: *digest,
            })
    }

    /// Forgets what is cached about `pack`'s blob `digest` (its file has gone: gc may remove a
    /// blob after this process cached its record).
    pub fn forget_blob(&self, pack: &PackName, digest: &Digest) {
        self.inner.caches.blobs.forget(pack, digest);
    }

    /// Whether the blob's file exists (`BlobMissing` when it does not).
    pub async fn check_blob_file(&self, blob: &BlobRecord) -> Result<(), RegistryError> {
        match self.inner.blobs.size_of(&blob.digest).await? {
            Some(_) => Ok(()),
            None => Err(RegistryError::BlobMissing(blob.digest)),
        }
    }

    /// The whole content of a small blob (at most [`SMALL_BLOB`]), from memory after its first
    /// read.
    pub async fn small_blob(&self, blob: &BlobRecord) -> Result<Bytes, RegistryError> {
        self.inner
            .caches
            .blobs
            .small_content(&self.inner.blobs, blob)
            .await
            .map_err(|e| missing_or(e, blob))
    }

    /// `span` of a blob, read in one call (for spans of a few megabytes).
    pub async fn read_blob(&self, blob: &BlobRecord, span: Span) -> Result<Bytes, RegistryError> {
        self.inner
            .blobs
            .read_whole(&blob.digest, span)
            .await
            .map_err(|e| missing_or(e, blob))
    }

    /// `span` of a blob as a stream of `chunk`-sized pieces.
    pub async fn stream_blob(
        &self,
        blob: &BlobRecord,
        span: Span,
        chunk: usize,
    ) -> Result<BlobStream, RegistryError> {
        self.inner
            .blobs
            .read(&blob.digest, span, chunk)
            .await
            .map_err(|e| missing_or(e, blob))
    }

    /// Streams one blob into the store for `upload.pack`, checked against its digest (and size);
    /// nothing is stored when it does not match.
    pub async fn upload_blob<S, E>(
        &self,
        upload: Upload,
        body: S,
        caller: &Caller,
    ) -> Result<Uploaded, RegistryError>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        caller.may_write(&upload.pack)?;
        let expect = Expectation {
            digest: Some(upload.digest),
            size: upload.size,
            max_size: self.inner.max_blob_size,
        };
        let staged = self.inner.blobs.stage(body, expect).await?;
        // Claimed before it becomes visible, so a concurrent gc cannot take it.
        let stored = self.reserve_and_commit(staged).await?;
        let mut transaction = self.inner.db.begin().await?;
        packs::ensure_pack(&mut *transaction, &upload.pack).await?;
        let media = upload.media_type.as_ref();
        blob_records::insert_blob(&mut *transaction, &stored.digest, stored.size, media).await?;
        let newly_referenced = blob_records::insert_pack_blob(
            &mut transaction,
            &upload.pack,
            &stored.digest,
            ReferenceKind::Upload,
        )
        .await?;
        transaction.commit().await?;
        Ok(Uploaded {
            digest: stored.digest,
            size: stored.size,
            media_type: upload.media_type,
            newly_referenced,
        })
    }

    /// The logo of the version with `uid`, as a blob of its pack.
    pub async fn logo(&self, uid: &str) -> Result<(PackName, Arc<BlobRecord>), RegistryError> {
        let row = self.version_by_uid(uid).await?;
        let digest = row
            .logo_digest
            .0
            .ok_or_else(|| RegistryError::LogoUnknown(uid.to_owned()))?;
        let blob = self.blob(&row.pack_name, &digest).await?;
        Ok((row.pack_name, blob))
    }
}

fn missing_or(error: std::io::Error, blob: &BlobRecord) -> RegistryError {
    if error.kind() == std::io::ErrorKind::NotFound {
        RegistryError::BlobMissing(blob.digest)
    } else {
        RegistryError::Storage(error)
    }
}
