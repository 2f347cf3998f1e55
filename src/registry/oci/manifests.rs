//! Manifests of a repository: pushed (every reference checked), pulled by tag or digest, deleted;
//! tags, referrers and the repository list.

use bytes::Bytes;
use sha2::{Digest as _, Sha256};

use super::OciError;
use crate::domain::oci_manifest::{self, ManifestError};
use crate::domain::{Digest, Reference, RepositoryName};
use crate::registry::{Caller, Registry, RegistryError};
use crate::store::oci::{self, ChildKind, ManifestRow, Referrer};

/// A stored push: the manifest's digest and its subject (for `OCI-Subject`).
#[derive(Debug, Clone)]
pub struct PushedManifest {
    pub digest: Digest,
    pub subject: Option<Digest>,
}

fn refused(error: ManifestError) -> RegistryError {
    match error {
        ManifestError::TooLarge => OciError::ManifestTooLarge(error.to_string()).into(),
        other => OciError::ManifestInvalid(other.to_string()).into(),
    }
}

impl Registry {
    /// A manifest by tag or digest.
    pub async fn oci_manifest(
        &self,
        repository: &RepositoryName,
        reference: &Reference,
    ) -> Result<ManifestRow, RegistryError> {
        let reader = self.inner.db.reader();
        let found = match reference {
            Reference::Tag(tag) => {
                oci::find_tagged(reader, repository.as_str(), tag.as_str()).await?
            }
            Reference::Digest(digest) => {
                oci::find_manifest(reader, repository.as_str(), digest).await?
            }
        };
        found.ok_or_else(|| {
            OciError::ManifestUnknown(reference.to_string(), repository.clone()).into()
        })
    }

    /// Stores a manifest under `reference` (a tag is set to it; a digest must be its own), once
    /// every blob and manifest it references is in the repository.
    pub async fn put_oci_manifest(
        &self,
        repository: &RepositoryName,
        reference: &Reference,
        content_type: Option<&str>,
        content: Bytes,
        caller: &Caller,
    ) -> Result<PushedManifest, RegistryError> {
        self.may_push(caller, repository)?;
        let info = oci_manifest::parse(content_type, &content).map_err(refused)?;
        let digest = Digest::from_bytes(Sha256::digest(&content).into());
        if let Reference::Digest(claimed) = reference
            && *claimed != digest
        {
            return Err(crate::registry::error::PutError::DigestMismatch {
                expected: *claimed,
                actual: digest,
            }
            .into());
        }
        let name = repository.as_str();
        let mut transaction = self.inner.db.begin().await?;
        let missing = oci::missing(&mut transaction, name, ChildKind::Blob, &info.blobs).await?;
        let missing_children =
            oci::missing(&mut transaction, name, ChildKind::Manifest, &info.manifests).await?;
        if let Some(first) = missing.first().or(missing_children.first()) {
            return Err(OciError::ManifestBlobUnknown(*first, repository.clone()).into());
        }
        let children: Vec<(Digest, ChildKind)> = info
            .blobs
            .iter()
            .map(|d| (*d, ChildKind::Blob))
            .chain(info.manifests.iter().map(|d| (*d, ChildKind::Manifest)))
            .collect();
        let row = ManifestRow {
            digest,
            media_type: info.media_type,
            artifact_type: info.artifact_type,
            subject: info.subject,
            annotations: info.annotations,
            content,
        };
        oci::insert_manifest(&mut transaction, name, &row, &children).await?;
        if let Reference::Tag(tag) = reference {
            oci::set_tag(&mut *transaction, name, tag.as_str(), &digest).await?;
        }
        transaction.commit().await?;
        Ok(PushedManifest {
            digest,
            subject: info.subject,
        })
    }

    /// Deletes a tag (the manifest stays) or a manifest with all its tags.
    pub async fn delete_oci_manifest(
        &self,
        repository: &RepositoryName,
        reference: &Reference,
        caller: &Caller,
    ) -> Result<(), RegistryError> {
        self.may_push(caller, repository)?;
        let name = repository.as_str();
        let deleted = match reference {
            Reference::Tag(tag) => {
                oci::delete_tag(self.inner.db.writer(), name, tag.as_str()).await?
            }
            Reference::Digest(digest) => {
                let mut transaction = self.inner.db.begin().await?;
                let deleted = oci::delete_manifest(&mut transaction, name, digest).await?;
                transaction.commit().await?;
                deleted
            }
        };
        match deleted {
            true => Ok(()),
            false => {
                Err(OciError::ManifestUnknown(reference.to_string(), repository.clone()).into())
            }
        }
    }

    /// The repository's tags in lexical order after `last`, at most `limit`.
    pub async fn oci_tags(
        &self,
        repository: &RepositoryName,
        last: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, RegistryError> {
        let reader = self.inner.db.reader();
        let tags = oci::list_tags(reader, repository.as_str(), last, limit).await?;
        if tags.is_empty() && !oci::repository_exists(reader, repository.as_str()).await? {
            return Err(OciError::NameUnknown(repository.clone()).into());
        }
        Ok(tags)
    }

    /// Manifests of the repository whose subject is `digest` (of `artifact_type` when given).
    pub async fn oci_referrers(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Referrer>, RegistryError> {
        Ok(oci::referrers(
            self.inner.db.reader(),
            repository.as_str(),
            digest,
            artifact_type,
        )
        .await?)
    }

    /// Repositories with manifests, in lexical order after `last`, at most `limit`.
    pub async fn oci_repositories(
        &self,
        last: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, RegistryError> {
        Ok(oci::list_repositories(self.inner.db.reader(), last, limit).await?)
    }
}
