//! Publishing a pack version: read and check the files (templates included), store the blobs, then
//! one transaction; the pack's cached rows and every catalog body are invalidated before the
//! publish returns.

use std::path::Path;

use bytes::Bytes;
use futures_util::Stream;

use super::error::Conflict;
use super::{Caller, Finding, Pack, Registry, RegistryError, VersionRow, record_pack_change};
use crate::auth::Scope;
use crate::domain::{Digest, EventAction, MediaType, PackName, Version};
use crate::pack::files::Content;
// Front ends read pack folders and archives through the registry (`packyard push`).
pub use crate::pack::files::{Limits, PackFiles};
use crate::pack::{self, AssetRole};
use crate::store::blob_records::{self, ReferenceKind};
use crate::store::blobs::{Expectation, PutError, Staged, Stored};
use crate::store::packs;
use crate::store::versions::{self, Event, NewVersion};

pub const ARCHIVE_MEDIA_TYPE: &str = "application/gzip";

/// A forced replace of a different version with the same `name@version`, and why.
#[derive(Debug, Clone)]
pub struct Force {
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishStatus {
    /// A new version.
    Created,
    /// The same content was already published: nothing changed.
    Unchanged,
    /// Different content replaced the version (forced).
    Replaced,
}

impl PublishStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PublishStatus::Created => "created",
            PublishStatus::Replaced => "replaced",
            PublishStatus::Unchanged => "unchanged",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Published {
    pub status: PublishStatus,
    pub uid: String,
    pub name: PackName,
    pub version: Version,
    pub digest: Digest,
    pub warnings: Vec<Finding>,
}

/// The pack archive: uploaded (already staged in the blob store) or generated from a folder.
enum Archive {
    Staged(Staged),
    Generated(Vec<u8>),
}

/// What an existing version with the same name and version means for this publish.
enum Existing {
    None,
    Same(VersionRow),
    Replace(VersionRow),
}

fn compare(
    existing: Option<VersionRow>,
    pack: &Pack,
    force: Option<&Force>,
) -> Result<Existing, RegistryError> {
    match existing {
        None => Ok(Existing::None),
        Some(row) if row.digest == pack.digest => Ok(Existing::Same(row)),
        Some(row) if force.is_some() => Ok(Existing::Replace(row)),
        Some(row) => Err(RegistryError::Conflict(Box::new(Conflict {
            name: row.pack_name,
            version: row.version,
            existing: row.digest,
            offered: pack.digest,
        }))),
    }
}

/// Reads a pack's files and checks its templates and charts (CPU work, off the async threads).
pub async fn read_pack(files: PackFiles) -> Result<(Pack, Vec<pack::Asset>), RegistryError> {
    tokio::task::spawn_blocking(move || {
        let (mut pack, assets) = pack::read(&files)?;
        crate::render::lint::check(&mut pack, &assets);
        Ok((pack, assets))
    })
    .await?
}

impl Registry {
    /// Publishes an uploaded pack archive (a `tar.gz` of a pack folder) for `caller`, who must be
    /// allowed to write the pack (and to force, if `force` is given).
    pub async fn publish_upload<S, E>(
        &self,
        body: S,
        force: Option<Force>,
        caller: &Caller,
    ) -> Result<Published, RegistryError>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        self.publish_upload_checked(body, force, caller, |_| Ok(()))
            .await
    }

    /// Like [`Registry::publish_upload`], with `check` run on the pack once it is read and before
    /// anything is stored (the OCI API checks the name and version it was pushed as).
    pub(super) async fn publish_upload_checked<S, E>(
        &self,
        body: S,
        force: Option<Force>,
        caller: &Caller,
        check: impl FnOnce(&Pack) -> Result<(), RegistryError>,
    ) -> Result<Published, RegistryError>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        if force.is_some() {
            caller.needs(Scope::Admin, "a forced replace")?;
        }
        let Ok(_publishing) = self.inner.publish_permits.clone().try_acquire_owned() else {
            return Err(RegistryError::Busy(
                "the registry is at its limit of concurrent publishes (--max-concurrent-publishes); retry shortly",
            ));
        };
        let limit = self.inner.max_pack_size;
        let expect = Expectation {
            digest: None,
            size: None,
            max_size: limit,
        };
        let staged = match self.inner.blobs.stage(body, expect).await {
            Err(PutError::TooLarge { limit }) => {
                return Err(RegistryError::ArchiveTooLarge { limit });
            }
            other => other?,
        };
        let file = staged.open()?;
        let spill = self.inner.blobs.staging_dir();
        let files = self
            .spawn_blocking(move || PackFiles::from_archive(file, &Limits::default(), &spill))
            .await??;
        let files = self.with_oci_charts(files).await?;
        let (pack, assets) = read_pack(files).await?;
        check(&pack)?;
        caller.may_write(&pack.name)?;
        self.publish(
            pack,
            assets,
            Archive::Staged(staged),
            force.as_ref(),
            &caller.name,
        )
        .await
    }

    /// Publishes a pack folder from disk (as an admin).
    pub async fn publish_folder(&self, folder: &Path) -> Result<Published, RegistryError> {
        let path = folder.to_path_buf();
        let files = self
            .spawn_blocking(move || PackFiles::from_dir(&path, &Limits::default()))
            .await??;
        let folder_name = folder
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "pack".to_owned());
        self.publish_files(files, folder_name, super::ADMIN_ACTOR)
            .await
    }

    /// Publishes a pack's files (its archive is generated, as the folder `folder_name`). When the
    /// same content is already published this only reads the files and compares digests, so a
    /// restart with unchanged packs stays fast.
    pub async fn publish_files(
        &self,
        files: PackFiles,
        folder_name: String,
        actor: &str,
    ) -> Result<Published, RegistryError> {
        // Charts referenced in this registry are part of the version, not of its archive.
        let resolved = self.with_oci_charts(files.clone()).await?;
        if let Some(unchanged) = self.already_published(&resolved).await? {
            return Ok(unchanged);
        }
        let (pack, assets) = read_pack(resolved).await?;
        let archive = self
            .spawn_blocking(move || files.to_archive(&folder_name))
            .await??;
        self.publish(pack, assets, Archive::Generated(archive), None, actor)
            .await
    }

    async fn already_published(
        &self,
        files: &PackFiles,
    ) -> Result<Option<Published>, RegistryError> {
        let Some(found) = pack::identify(files) else {
            return Ok(None);
        };
        let (name, version) = found;
        let reader = self.inner.db.reader();
        let Some(row) = versions::find_by_version(reader, &name, &version).await? else {
            return Ok(None);
        };
        let digest = pack::content_digest::content_digest(files);
        if row.digest != digest {
            return Ok(None);
        }
        let warnings = self.stored_findings(&row).await?;
        Ok(Some(Published {
            status: PublishStatus::Unchanged,
            uid: row.uid,
            name,
            version,
            digest,
            warnings,
        }))
    }

    async fn stored_findings(&self, row: &VersionRow) -> Result<Vec<Finding>, RegistryError> {
        Ok(self.document(row).await?.findings)
    }

    /// Publishes `pack` (already read) with its archive and assets.
    async fn publish(
        &self,
        pack: Pack,
        assets: Vec<pack::Asset>,
        archive: Archive,
        force: Option<&Force>,
        actor: &str,
    ) -> Result<Published, RegistryError> {
        let reader = self.inner.db.reader();
        let existing = versions::find_by_version(reader, &pack.name, &pack.version).await?;
        if let Existing::Same(row) = compare(existing, &pack, force)? {
            let warnings = self.stored_findings(&row).await?;
            return Ok(published(
                PublishStatus::Unchanged,
                row.uid,
                &pack,
                warnings,
            ));
        }

        // Blobs first: a crash after this point leaves only unreferenced blobs, which gc collects.
        let archive_blob = match archive {
            Archive::Staged(staged) => self.reserve_and_commit(staged).await?,
            Archive::Generated(bytes) => self.store_bytes(&bytes).await?,
        };
        let mut stored_assets: Vec<(pack::Asset, Stored)> = Vec::with_capacity(assets.len());
        for asset in assets {
            let stored = self.store_entry(&asset.entry).await?;
            stored_assets.push((asset, stored));
        }

        #[cfg(feature = "fault-injection")]
        super::faults::publish_pause().await;
        let committed = self
            .commit_version(&pack, &archive_blob, &stored_assets, force, actor)
            .await;
        match committed {
            Ok(status) => {
                if status != PublishStatus::Unchanged {
                    self.written(&pack.name);
                }
                let uid = super::version_uid(&pack.name, &pack.version, &pack.digest);
                let warnings = pack.findings.clone();
                Ok(published(status, uid, &pack, warnings))
            }
            // A concurrent publish of the same name@version may have won the race: answer as if
            // it had committed first.
            Err(error) => {
                let reader = self.inner.db.reader();
                let now = versions::find_by_version(reader, &pack.name, &pack.version).await?;
                match compare(now, &pack, None) {
                    Ok(Existing::Same(row)) => {
                        let warnings = self.stored_findings(&row).await?;
                        Ok(published(
                            PublishStatus::Unchanged,
                            row.uid,
                            &pack,
                            warnings,
                        ))
                    }
                    Err(conflict @ RegistryError::Conflict(_)) if force.is_none() => Err(conflict),
                    _ => Err(error),
                }
            }
        }
    }

    /// Makes a staged blob visible after claiming its row (see `blob_records::reserve`), so a
    /// concurrent `gc` cannot remove it before this publish references it.
    pub(super) async fn reserve_and_commit(&self, staged: Staged) -> Result<Stored, RegistryError> {
        blob_records::reserve(&self.inner.db, &staged.digest, staged.size).await?;
        Ok(self.inner.blobs.commit(staged).await?)
    }

    /// Stores a pack file (a logo or chart) from memory or from its spill file, claimed like
    /// uploads.
    async fn store_entry(&self, entry: &pack::files::Entry) -> Result<Stored, RegistryError> {
        match &entry.content {
            Content::Memory(bytes) => self.store_bytes(bytes).await,
            Content::File(spill) => {
                let digest = Digest::from_bytes(entry.sha256);
                let staged = self
                    .inner
                    .blobs
                    .stage_file(spill.path(), digest, entry.size)
                    .await?;
                self.reserve_and_commit(staged).await
            }
        }
    }

    /// Stores bytes already in memory (logos, charts, generated archives), claimed like uploads.
    async fn store_bytes(&self, bytes: &[u8]) -> Result<Stored, RegistryError> {
        let staged = self.inner.blobs.stage_bytes(bytes).await?;
        self.reserve_and_commit(staged).await
    }

    async fn commit_version(
        &self,
        pack: &Pack,
        archive_blob: &Stored,
        assets: &[(pack::Asset, Stored)],
        force: Option<&Force>,
        actor: &str,
    ) -> Result<PublishStatus, RegistryError> {
        let uid = super::version_uid(&pack.name, &pack.version, &pack.digest);
        let mut transaction = self.inner.db.begin().await?;
        let existing =
            versions::find_by_version(&mut *transaction, &pack.name, &pack.version).await?;
        let (status, replaced) = match compare(existing, pack, force)? {
            Existing::Same(_) => return Ok(PublishStatus::Unchanged),
            Existing::None => (PublishStatus::Created, None),
            Existing::Replace(row) => (PublishStatus::Replaced, Some(row)),
        };
        packs::ensure_pack(&mut *transaction, &pack.name).await?;
        let references = blob_references(archive_blob, assets);
        for reference in &references {
            let stored = reference.stored;
            blob_records::insert_blob(
                &mut *transaction,
                &stored.digest,
                stored.size,
                Some(&reference.media),
            )
            .await?;
            blob_records::insert_pack_blob(
                &mut transaction,
                &pack.name,
                &stored.digest,
                ReferenceKind::Version,
            )
            .await?;
        }
        // A replace keeps the lifecycle state operators gave the version.
        let state = replaced
            .as_ref()
            .map_or(pack.initial_state, |row| row.state);
        let event = |action, message, old_digest, new_state| Event {
            pack: &pack.name,
            version: &pack.version,
            action,
            actor,
            message,
            old_digest,
            new_digest: Some(pack.digest),
            old_state: None,
            new_state,
        };
        if let Some(row) = &replaced {
            versions::delete_version(&mut *transaction, &row.uid).await?;
            let message = force.map(|f| f.message.as_str());
            versions::insert_event(
                &mut *transaction,
                &event(EventAction::Replace, message, Some(row.digest), None),
            )
            .await?;
        }
        let logo_digest = assets
            .iter()
            .find(|(asset, _)| asset.role == AssetRole::Logo)
            .map(|(_, stored)| &stored.digest);
        let manifests = &pack.manifests;
        let mut document = pack.clone();
        document.manifests.clear();
        let tag = pack.tag();
        let new = NewVersion {
            uid: &uid,
            name: &pack.name,
            version: &pack.version,
            tag: &tag,
            display_name: &pack.display_name,
            layer: pack.layer,
            pack_type: pack.pack_type,
            addon_type: pack.pack_json.addon_type.as_deref(),
            addon_sub_type: pack.pack_json.addon_sub_type.as_deref(),
            group: pack.pack_json.group.as_deref(),
            cloud_types: &pack.cloud_types,
            annotations: &pack.pack_json.annotations,
            state,
            digest: &pack.digest,
            archive_digest: &archive_blob.digest,
            logo_digest,
            document: &document,
            manifests,
        };
        versions::insert_version(&mut transaction, &new).await?;
        for reference in &references {
            versions::insert_version_blob(
                &mut *transaction,
                &uid,
                &reference.path,
                reference.role,
                &reference.stored.digest,
            )
            .await?;
        }
        if replaced.is_none() {
            versions::insert_event(
                &mut *transaction,
                &event(EventAction::Publish, None, None, Some(state)),
            )
            .await?;
        }
        record_pack_change(&mut transaction, &pack.name).await?;
        transaction.commit().await?;
        Ok(status)
    }
}

/// A blob a version references: where it is in the pack, its role and its media type.
struct BlobReference<'a> {
    path: String,
    role: &'static str,
    stored: &'a Stored,
    media: MediaType,
}

fn blob_references<'a>(
    archive: &'a Stored,
    assets: &'a [(pack::Asset, Stored)],
) -> Vec<BlobReference<'a>> {
    let gzip = MediaType::gzip();
    let mut references = vec![BlobReference {
        path: "archive".to_owned(),
        role: "archive",
        stored: archive,
        media: gzip.clone(),
    }];
    for (asset, stored) in assets {
        let (role, media) = match asset.role {
            AssetRole::Logo => (
                "logo",
                MediaType::of_image(&asset.entry.head(4096).unwrap_or_default()),
            ),
            AssetRole::Chart => ("chart", gzip.clone()),
        };
        references.push(BlobReference {
            path: asset.path.clone(),
            role,
            stored,
            media,
        });
    }
    references
}

fn published(status: PublishStatus, uid: String, pack: &Pack, warnings: Vec<Finding>) -> Published {
    Published {
        status,
        uid,
        name: pack.name.clone(),
        version: pack.version.clone(),
        digest: pack.digest,
        warnings,
    }
}
