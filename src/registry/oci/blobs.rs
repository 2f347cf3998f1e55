//! Blobs of a repository: finding, uploading in one request, mounting and deleting them.

use bytes::Bytes;
use futures_util::Stream;

use super::{OciBlob, OciError};
use crate::domain::{Digest, RepositoryName};
use crate::registry::{BlobRecord, Caller, Registry, RegistryError};
use crate::store::blob_records;
use crate::store::blobs::{Expectation, Staged};
use crate::store::oci;

impl Registry {
    /// The blob if `repository` serves it (a pack's repository also serves its versions'
    /// archives and the empty config).
    pub async fn oci_blob(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<OciBlob, RegistryError> {
        let storage = self.storage_name(repository);
        if let Some(blob) = oci::find_blob(self.inner.db.reader(), &storage, digest).await? {
            return Ok(OciBlob::Stored(blob));
        }
        if let Some(pack) = self.palette_pack(repository)
            && let Some(blob) = self.version_blob(&pack, digest).await?
        {
            return Ok(blob);
        }
        Err(OciError::BlobUnknown(*digest, repository.clone()).into())
    }

    /// Stores one whole blob sent in a single request (`POST ...?digest=`), checked against its
    /// digest and length.
    pub async fn put_oci_blob<S, E>(
        &self,
        repository: &RepositoryName,
        digest: Digest,
        size: Option<u64>,
        body: S,
        caller: &Caller,
    ) -> Result<BlobRecord, RegistryError>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        self.may_push(caller, repository)?;
        let expect = Expectation {
            digest: Some(digest),
            size,
            max_size: self.inner.max_blob_size,
        };
        let staged = self.inner.blobs.stage(body, expect).await?;
        self.link_staged(repository, staged).await
    }

    /// Makes a verified upload visible and lets `repository` serve it.
    pub(super) async fn link_staged(
        &self,
        repository: &RepositoryName,
        staged: Staged,
    ) -> Result<BlobRecord, RegistryError> {
        // Recorded and linked under the digest lock before the content becomes visible: a
        // concurrent gc either finished with this digest first (and the row and file are made
        // again here) or finds it linked and keeps it.
        let mut transaction = self.inner.db.begin().await?;
        let key = staged.digest.to_string();
        blob_records::lock_digest(&mut transaction, self.inner.db.backend(), &key).await?;
        blob_records::insert_blob(&mut *transaction, &staged.digest, staged.size, None).await?;
        let storage = self.storage_name(repository);
        oci::link_blob(&mut *transaction, &storage, &staged.digest).await?;
        transaction.commit().await?;
        let stored = self.inner.blobs.commit(staged).await?;
        Ok(BlobRecord {
            digest: stored.digest,
            size: stored.size,
            media_type: None,
        })
    }

    /// Lets `repository` serve a blob another repository has (`from`; any repository when
    /// `None`, the automatic mount). `None` when there is nothing to mount: the caller then
    /// starts an ordinary upload.
    pub async fn mount_oci_blob(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
        from: Option<&RepositoryName>,
        caller: &Caller,
    ) -> Result<Option<BlobRecord>, RegistryError> {
        self.may_push(caller, repository)?;
        let reader = self.inner.db.reader();
        let source = match from {
            Some(from) => Some(self.storage_name(from)),
            None => oci::any_repository_with_blob(reader, digest).await?,
        };
        let Some(source) = source else {
            return Ok(None);
        };
        let Some(blob) = oci::find_blob(reader, &source, digest).await? else {
            return Ok(None);
        };
        // Touched under the digest lock like any write, so gc cannot take it meanwhile.
        blob_records::reserve(&self.inner.db, digest, blob.size).await?;
        if self.inner.blobs.size_of(digest).await?.is_none() {
            return Ok(None);
        }
        let storage = self.storage_name(repository);
        oci::link_blob(self.inner.db.writer(), &storage, digest).await?;
        Ok(Some(blob))
    }

    /// Stops `repository` serving a blob (the content stays while anything else references it;
    /// gc removes it after). Manifests that reference it stay too, as in other registries.
    pub async fn delete_oci_blob(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
        caller: &Caller,
    ) -> Result<(), RegistryError> {
        self.may_push(caller, repository)?;
        let storage = self.storage_name(repository);
        match oci::unlink_blob(self.inner.db.writer(), &storage, digest).await? {
            true => Ok(()),
            false => Err(OciError::BlobUnknown(*digest, repository.clone()).into()),
        }
    }
}
