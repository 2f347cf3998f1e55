//! Manifests of a repository: pushed (every reference checked), pulled by tag or digest, deleted;
//! tags, referrers and the repository list.

use bytes::Bytes;
use sha2::{Digest as _, Sha256};

use super::OciError;
use crate::domain::oci_manifest::{self, ManifestError};
use crate::domain::{Digest, Reference, RepositoryName};
use crate::registry::{Caller, Registry, RegistryError};
use crate::store::blob_records;
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
    /// A manifest by tag or digest (in a pack's repository, a version's manifest too).
    pub async fn oci_manifest(
        &self,
        repository: &RepositoryName,
        reference: &Reference,
    ) -> Result<ManifestRow, RegistryError> {
        let reader = self.inner.db.reader();
        let storage = self.storage_name(repository);
        let found = match reference {
            Reference::Tag(tag) => oci::find_tagged(reader, &storage, tag.as_str()).await?,
            Reference::Digest(digest) => oci::find_manifest(reader, &storage, digest).await?,
        };
        let found = match (found, self.palette_pack(repository)) {
            (None, Some(pack)) => match reference {
                Reference::Tag(tag) => self.version_manifest_by(&pack, Some(tag), None).await?,
                Reference::Digest(digest) => {
                    self.version_manifest_by(&pack, None, Some(digest)).await?
                }
            },
            (found, _) => found,
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
        let storage = self.storage_name(repository);
        let name = storage.as_str();
        let reader = self.inner.db.reader();
        let mut missing = oci::missing(reader, name, ChildKind::Blob, &info.blobs).await?;
        // A pack's repository serves its versions' archives and the empty config without having
        // them stored (clients see them and skip their upload): they become its own now.
        if !missing.is_empty()
            && let Some(pack) = self.palette_pack(repository)
        {
            self.adopt_version_blobs(repository, &pack, &missing)
                .await?;
            missing = oci::missing(reader, name, ChildKind::Blob, &info.blobs).await?;
        }
        let missing_children =
            oci::missing(reader, name, ChildKind::Manifest, &info.manifests).await?;
        if let Some(first) = missing.first().or(missing_children.first()) {
            return Err(OciError::ManifestBlobUnknown(*first, repository.clone()).into());
        }
        // A pack archive pushed as a version of a pack's repository is published first: if the
        // publish refuses it, nothing of the push is kept.
        if let (Some(pack), Reference::Tag(tag)) = (self.palette_pack(repository), reference) {
            self.publish_pushed_pack(name, &pack, tag, &info, caller)
                .await?;
        }
        let mut transaction = self.inner.db.begin().await?;
        // Checked above without a lock; now every blob is claimed under its digest lock, in digest
        // order (two pushes never wait on each other in a cycle): a concurrent gc either finished
        // first (and the blob is then missing) or sees the claim.
        let mut claimed = info.blobs.clone();
        claimed.sort();
        claimed.dedup();
        for digest in &claimed {
            let key = digest.to_string();
            blob_records::lock_digest(&mut transaction, self.inner.db.backend(), &key).await?;
            if !oci::claim_for_manifest(&mut transaction, name, digest).await? {
                return Err(OciError::ManifestBlobUnknown(*digest, repository.clone()).into());
            }
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
        if let (Some(_), Reference::Tag(_)) = (self.palette_pack(repository), reference) {
            return Err(OciError::Unsupported(
                "a pack version's tag is not deleted through the OCI API: change the version's state (PATCH /v1/packs/{name}/tags/{version})".to_owned(),
            )
            .into());
        }
        let storage = self.storage_name(repository);
        let name = storage.as_str();
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

    /// The repository's tags in lexical order after `last`, at most `limit` (a pack's
    /// repository: its versions as well).
    pub async fn oci_tags(
        &self,
        repository: &RepositoryName,
        last: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, RegistryError> {
        let reader = self.inner.db.reader();
        let storage = self.storage_name(repository);
        let mut tags = oci::list_tags(reader, &storage, last, limit).await?;
        let mut exists = !tags.is_empty() || oci::repository_exists(reader, &storage).await?;
        if let Some(pack) = self.palette_pack(repository) {
            let versions = self.version_tags(&pack).await?;
            exists |= !versions.is_empty();
            let after = |tag: &String| last.is_none_or(|last| tag.as_str() > last);
            tags.extend(versions.into_iter().filter(after));
            tags.sort();
            tags.dedup();
            tags.truncate(limit as usize);
        }
        if !exists {
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
        let storage = self.storage_name(repository);
        let reader = self.inner.db.reader();
        Ok(oci::referrers(reader, &storage, digest, artifact_type).await?)
    }

    /// Repositories with manifests (every pack's repository among them), in lexical order after
    /// `last`, at most `limit`.
    pub async fn oci_repositories(
        &self,
        last: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, RegistryError> {
        let reader = self.inner.db.reader();
        let mut names: Vec<String> = oci::list_repositories(reader, last, limit)
            .await?
            .into_iter()
            .filter(|name| !Self::is_pack_storage(name))
            .collect();
        // Pack repositories sort by their full name; packs are few enough to map them all.
        let mut after: Option<crate::domain::PackName> = None;
        loop {
            let page = self.pack_names(after.as_ref(), 1000).await?;
            let Some(final_name) = page.last() else {
                break;
            };
            after = final_name.parse().ok();
            for name in &page {
                let Ok(pack) = name.parse() else { continue };
                if self.pullable_versions(&pack).await?.is_empty() {
                    continue;
                }
                let repository = self.palette_repository(&pack).as_str().to_owned();
                if last.is_none_or(|last| repository.as_str() > last) {
                    names.push(repository);
                }
            }
            if page.len() < 1000 || after.is_none() {
                break;
            }
        }
        names.sort();
        names.dedup();
        names.truncate(limit as usize);
        Ok(names)
    }
}
