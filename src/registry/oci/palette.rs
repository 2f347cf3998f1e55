//! Packs in Palette's OCI layout: the repository `<prefix>/spectro-packs/archive/<name>` holds
//! every version of pack `<name>` as the tag `<version>`, whose manifest has one layer, the pack's
//! archive. Versions published any way are pullable there (their manifest is built from the
//! version, the same bytes every time, so a digest never changes); a pack archive pushed there
//! with ORAS (or anything whose manifest has one pack layer) is published as a pack version.
//! What is pushed there is stored under `_palette/<name>` (not a valid OCI name, so no other
//! repository can collide with it, and `--oci-pack-prefix` can change without losing it).

use bytes::Bytes;

use super::{OciBlob, OciError};
use crate::domain::oci_manifest::{ManifestInfo, OCI_MANIFEST};
use crate::domain::{Digest, PackName, PackState, RepositoryName, Tag};
use crate::registry::publish::{Force, Published};
use crate::registry::{BlobRecord, Caller, Registry, RegistryError, VersionRow};
use crate::store::blobs::Span;
use crate::store::oci::ManifestRow;

/// ORAS 1.0's config: the two bytes `{}` under an "unknown" media type.
pub const EMPTY_CONFIG: &[u8] = b"{}";
const CONFIG_TYPE: &str = "application/vnd.unknown.config.v1+json";
/// The layer type ORAS 1.0 gives a file it pushes.
const LAYER_TYPE: &str = "application/vnd.oci.image.layer.v1.tar";
const TITLE: &str = "org.opencontainers.image.title";
/// Where pushed content of a pack's repository is stored.
const STORAGE_PREFIX: &str = "_palette/";

fn empty_config_digest() -> Digest {
    use sha2::Digest as _;
    Digest::from_bytes(sha2::Sha256::digest(EMPTY_CONFIG).into())
}

/// The manifest of a pack version in Palette's layout: ORAS 1.0's, written the same way every
/// time (fixed key order, no timestamps), so its digest depends on the archive alone.
pub fn pack_manifest(pack: &PackName, version: &str, archive: &BlobRecord) -> Bytes {
    let manifest = format!(
        concat!(
            r#"{{"schemaVersion":2,"mediaType":"{manifest}","#,
            r#""config":{{"mediaType":"{config}","digest":"{config_digest}","size":{config_size}}},"#,
            r#""layers":[{{"mediaType":"{layer}","digest":"{digest}","size":{size},"#,
            r#""annotations":{{"{title}":"{pack}-{version}.tar.gz"}}}}]}}"#
        ),
        manifest = OCI_MANIFEST,
        config = CONFIG_TYPE,
        config_digest = empty_config_digest(),
        config_size = EMPTY_CONFIG.len(),
        layer = LAYER_TYPE,
        digest = archive.digest,
        size = archive.size,
        title = TITLE,
        pack = pack,
        version = version,
    );
    Bytes::from(manifest)
}

fn manifest_row(content: Bytes) -> ManifestRow {
    use sha2::Digest as _;
    ManifestRow {
        digest: Digest::from_bytes(sha2::Sha256::digest(&content).into()),
        media_type: OCI_MANIFEST.to_owned(),
        artifact_type: Some(CONFIG_TYPE.to_owned()),
        subject: None,
        annotations: None,
        content,
    }
}

impl Registry {
    /// The pack a repository holds in Palette's layout, if it is one.
    pub(super) fn palette_pack(&self, repository: &RepositoryName) -> Option<PackName> {
        repository.palette_pack(&self.inner.oci_config.pack_prefix)
    }

    /// The repository name rows are stored under.
    pub(super) fn storage_name(&self, repository: &RepositoryName) -> String {
        match self.palette_pack(repository) {
            Some(pack) => format!("{STORAGE_PREFIX}{pack}"),
            None => repository.as_str().to_owned(),
        }
    }

    /// Whether a stored repository name is a pack's (listed through the packs instead).
    pub(super) fn is_pack_storage(name: &str) -> bool {
        name.starts_with(STORAGE_PREFIX)
    }

    /// The pack's repository in Palette's layout under this registry's prefix.
    pub fn palette_repository(&self, pack: &PackName) -> RepositoryName {
        RepositoryName::of_palette_pack(&self.inner.oci_config.pack_prefix, pack)
    }

    /// The versions of `pack` a client may pull (every one not deleted), oldest first.
    pub(super) async fn pullable_versions(
        &self,
        pack: &PackName,
    ) -> Result<Vec<VersionRow>, RegistryError> {
        match self.versions(pack).await {
            Ok(rows) => Ok(rows
                .iter()
                .filter(|row| row.state != PackState::Deleted)
                .cloned()
                .collect()),
            Err(RegistryError::PackUnknown(_)) => Ok(Vec::new()),
            Err(other) => Err(other),
        }
    }

    /// A version's manifest in Palette's layout.
    async fn version_manifest(&self, row: &VersionRow) -> Result<ManifestRow, RegistryError> {
        let archive = self.blob(&row.pack_name, &row.archive_digest).await?;
        let content = pack_manifest(&row.pack_name, row.version.as_str(), &archive);
        Ok(manifest_row(content))
    }

    /// The manifest of a version of `pack` by its tag (the version) or digest.
    pub(super) async fn version_manifest_by(
        &self,
        pack: &PackName,
        tag: Option<&Tag>,
        digest: Option<&Digest>,
    ) -> Result<Option<ManifestRow>, RegistryError> {
        for row in self.pullable_versions(pack).await? {
            if tag.is_some_and(|tag| tag.as_str() != row.version.as_str()) {
                continue;
            }
            let manifest = self.version_manifest(&row).await?;
            if digest.is_none_or(|digest| *digest == manifest.digest) {
                return Ok(Some(manifest));
            }
        }
        Ok(None)
    }

    /// A blob of a pack's repository that is not stored there: the empty config, or the archive
    /// of one of its versions.
    pub(super) async fn version_blob(
        &self,
        pack: &PackName,
        digest: &Digest,
    ) -> Result<Option<OciBlob>, RegistryError> {
        if *digest == empty_config_digest() {
            return Ok(Some(OciBlob::Inline(Bytes::from_static(EMPTY_CONFIG))));
        }
        let versions = self.pullable_versions(pack).await?;
        if versions.iter().any(|row| row.archive_digest == *digest) {
            return Ok(Some(OciBlob::Stored(
                (*self.blob(pack, digest).await?).clone(),
            )));
        }
        Ok(None)
    }

    /// Stores in the pack's repository those of `digests` it serves without having them.
    pub(super) async fn adopt_version_blobs(
        &self,
        repository: &RepositoryName,
        pack: &PackName,
        digests: &[Digest],
    ) -> Result<(), RegistryError> {
        for digest in digests {
            match self.version_blob(pack, digest).await? {
                Some(OciBlob::Inline(content)) => {
                    let staged = self.inner.blobs.stage_bytes(&content).await?;
                    self.link_staged(repository, staged).await?;
                }
                Some(OciBlob::Stored(blob)) => {
                    let storage = self.storage_name(repository);
                    crate::store::oci::link_blob(self.inner.db.writer(), &storage, &blob.digest)
                        .await?;
                }
                None => {}
            }
        }
        Ok(())
    }

    /// The tags of a pack's repository: its versions.
    pub(super) async fn version_tags(&self, pack: &PackName) -> Result<Vec<String>, RegistryError> {
        Ok(self
            .pullable_versions(pack)
            .await?
            .into_iter()
            .map(|row| row.version.as_str().to_owned())
            .collect())
    }

    /// Publishes the pack layer of a manifest pushed to `pack`'s repository as version `tag`:
    /// through the normal publish path (its checks, findings and lifecycle), refused when the
    /// archive says another name or version; different content under a published version
    /// replaces it only for admin credentials.
    pub(super) async fn publish_pushed_pack(
        &self,
        storage: &str,
        pack: &PackName,
        tag: &Tag,
        info: &ManifestInfo,
        caller: &Caller,
    ) -> Result<Published, RegistryError> {
        let config = empty_config_digest();
        let layers: Vec<&Digest> = info
            .blobs
            .iter()
            .skip(1)
            .filter(|d| **d != config)
            .collect();
        let [layer] = layers.as_slice() else {
            return Err(OciError::ManifestInvalid(format!(
                "a pack pushed to {} has exactly one layer, its tar.gz; this manifest has {}",
                self.palette_repository(pack),
                layers.len()
            ))
            .into());
        };
        let blob = crate::store::oci::find_blob(self.inner.db.reader(), storage, layer)
            .await?
            .ok_or_else(|| OciError::ManifestBlobUnknown(**layer, self.palette_repository(pack)))?;
        let body = self
            .inner
            .blobs
            .read(
                &blob.digest,
                Span {
                    start: 0,
                    len: blob.size,
                },
                1 << 20,
            )
            .await?;
        let force = (caller.scope >= crate::auth::Scope::Admin).then(|| Force {
            message: format!("pushed through the OCI API by {}", caller.name),
        });
        let expected = (pack.clone(), tag.as_str().to_owned());
        self.publish_upload_checked(body, force, caller, move |found| {
            if found.name != expected.0 || found.version.as_str() != expected.1 {
                return Err(OciError::ManifestInvalid(format!(
                    "the archive holds {}@{}, but was pushed as {}:{}",
                    found.name, found.version, expected.0, expected.1
                ))
                .into());
            }
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pinned byte for byte: a change here changes the digest of every pack version's manifest,
    /// which Palette and ORAS clients may have recorded.
    #[test]
    fn a_versions_manifest_never_changes() {
        let archive = BlobRecord {
            digest: format!("sha256:{}", "ab".repeat(32)).parse().unwrap(),
            size: 1234,
            media_type: None,
        };
        let manifest = pack_manifest(&"cni-calico".parse().unwrap(), "3.24.5", &archive);
        let expected = concat!(
            r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","#,
            r#""config":{"mediaType":"application/vnd.unknown.config.v1+json","#,
            r#""digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"#,
            r#""layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","#,
            r#""digest":"sha256:abababababababababababababababababababababababababababababababab","size":1234,"#,
            r#""annotations":{"org.opencontainers.image.title":"cni-calico-3.24.5.tar.gz"}}]}"#
        );
        assert_eq!(std::str::from_utf8(&manifest).unwrap(), expected);
        let parsed = crate::domain::oci_manifest::parse(None, &manifest).unwrap();
        assert_eq!(parsed.blobs.len(), 2);
    }
}
