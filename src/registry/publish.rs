//! Publishing a pack version: read and validate, store its blobs, then one transaction.

use std::path::Path;

use crate::domain::{Digest, MediaType};
use crate::pack::files::PackFiles;
use crate::pack::lint::Finding;
use crate::pack::{self, AssetRole, Pack, PackError};
use crate::store::blob_records::{self, ReferenceKind};
use crate::store::blobs::{BlobStore, Staged, Stored};
use crate::store::db::{Db, DbError};
use crate::store::packs;
use crate::store::versions::{self, Event, NewVersion, VersionRow};

use super::{record_pack_change, version_uid};

pub const ARCHIVE_MEDIA_TYPE: &str = "application/gzip";

/// The pack archive: uploaded (already staged in the blob store) or generated from a folder.
pub enum Archive {
    Staged(Staged),
    Generated(Vec<u8>),
}

/// A forced replace of a different version with the same `name@version`.
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

#[derive(Debug, Clone)]
pub struct Published {
    pub status: PublishStatus,
    pub uid: String,
    pub name: String,
    pub version: String,
    pub digest: Digest,
    pub warnings: Vec<Finding>,
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Pack(#[from] PackError),
    #[error(
        "{name}@{version} is already published with digest {existing}; this content has digest {offered} (replace it with force and a message)"
    )]
    Conflict {
        name: String,
        version: String,
        existing: Digest,
        offered: Digest,
    },
    #[error("database: {0}")]
    Database(String),
    #[error("blob store: {0}")]
    Storage(#[from] std::io::Error),
}

impl From<sqlx::Error> for PublishError {
    fn from(error: sqlx::Error) -> Self {
        PublishError::Database(error.to_string())
    }
}

impl From<DbError> for PublishError {
    fn from(error: DbError) -> Self {
        PublishError::Database(error.to_string())
    }
}

/// Reads the files of a pack off the async threads (template checks are CPU work).
pub async fn read_pack(files: PackFiles) -> Result<(Pack, Vec<pack::Asset>), PublishError> {
    tokio::task::spawn_blocking(move || pack::read(&files))
        .await
        .map_err(|e| PublishError::Database(format!("pack reader task failed: {e}")))?
        .map_err(PublishError::from)
}

async fn stored_findings(db: &Db, row: &VersionRow) -> Result<Vec<Finding>, PublishError> {
    Ok(versions::load_document(db.reader(), &row.uid)
        .await?
        .map(|pack| pack.findings)
        .unwrap_or_default())
}

fn published(
    status: PublishStatus,
    row_uid: &str,
    pack: &Pack,
    warnings: Vec<Finding>,
) -> Published {
    Published {
        status,
        uid: row_uid.to_owned(),
        name: pack.name.to_string(),
        version: pack.version.to_string(),
        digest: pack.digest,
        warnings,
    }
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
) -> Result<Existing, PublishError> {
    match existing {
        None => Ok(Existing::None),
        Some(row) if row.digest == pack.digest => Ok(Existing::Same(row)),
        Some(row) if force.is_some() => Ok(Existing::Replace(row)),
        Some(row) => Err(PublishError::Conflict {
            name: row.pack_name,
            version: row.version,
            existing: row.digest,
            offered: pack.digest,
        }),
    }
}

/// Publishes `pack` (already read) with its archive and assets.
pub async fn publish(
    db: &Db,
    blobs: &BlobStore,
    pack: Pack,
    assets: Vec<pack::Asset>,
    archive: Archive,
    force: Option<&Force>,
    actor: &str,
) -> Result<Published, PublishError> {
    let existing =
        versions::find_by_version(db.reader(), pack.name.as_str(), pack.version.as_str()).await?;
    if let Existing::Same(row) = compare(existing, &pack, force)? {
        let warnings = stored_findings(db, &row).await?;
        return Ok(published(
            PublishStatus::Unchanged,
            &row.uid,
            &pack,
            warnings,
        ));
    }

    // Blobs first: a crash after this point leaves only unreferenced blobs, which gc collects.
    let archive_blob = match archive {
        Archive::Staged(staged) => reserve_and_commit(db, blobs, staged).await?,
        Archive::Generated(bytes) => store_bytes(db, blobs, &bytes).await?,
    };
    let mut stored_assets: Vec<(pack::Asset, Stored)> = Vec::with_capacity(assets.len());
    for asset in assets {
        let stored = store_entry(db, blobs, &asset.entry).await?;
        stored_assets.push((asset, stored));
    }

    super::faults::publish_pause().await;
    match commit_version(db, &pack, &archive_blob, &stored_assets, force, actor).await {
        Ok(status) => {
            let uid = version_uid(pack.name.as_str(), pack.version.as_str(), &pack.digest);
            let warnings = pack.findings.clone();
            Ok(published(status, &uid, &pack, warnings))
        }
        Err(error) => {
            // A concurrent publish of the same name@version may have won the race: answer as if it
            // had committed first.
            match compare(
                versions::find_by_version(db.reader(), pack.name.as_str(), pack.version.as_str())
                    .await?,
                &pack,
                None,
            ) {
                Ok(Existing::Same(row)) => {
                    let warnings = stored_findings(db, &row).await?;
                    Ok(published(
                        PublishStatus::Unchanged,
                        &row.uid,
                        &pack,
                        warnings,
                    ))
                }
                Err(conflict @ PublishError::Conflict { .. }) if force.is_none() => Err(conflict),
                _ => Err(error),
            }
        }
    }
}

/// Makes a staged blob visible after claiming its row (see `blob_records::reserve`), so a
/// concurrent `gc` cannot remove it before this publish references it.
async fn reserve_and_commit(
    db: &Db,
    blobs: &BlobStore,
    staged: Staged,
) -> Result<Stored, PublishError> {
    blob_records::reserve(db, &staged.digest, staged.size).await?;
    Ok(blobs.commit(staged).await?)
}

/// Stores a pack file (a logo or chart) from memory or from its spill file, claimed like uploads.
async fn store_entry(
    db: &Db,
    blobs: &BlobStore,
    entry: &pack::files::Entry,
) -> Result<Stored, PublishError> {
    match &entry.content {
        pack::files::Content::Memory(bytes) => store_bytes(db, blobs, bytes).await,
        pack::files::Content::File(_) => {
            let path = entry
                .content
                .path()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            let digest = Digest::from_bytes(entry.sha256);
            let staged =
                blobs
                    .stage_file(&path, digest, entry.size)
                    .await
                    .map_err(|e| match e {
                        crate::store::blobs::PutError::Io(e) => PublishError::Storage(e),
                        other => PublishError::Storage(std::io::Error::other(other.to_string())),
                    })?;
            reserve_and_commit(db, blobs, staged).await
        }
    }
}

/// Stores bytes already in memory (logos, charts, generated archives), claimed like uploads.
async fn store_bytes(db: &Db, blobs: &BlobStore, bytes: &[u8]) -> Result<Stored, PublishError> {
    let staged = blobs.stage_bytes(bytes).await?;
    reserve_and_commit(db, blobs, staged).await
}

async fn commit_version(
    db: &Db,
    pack: &Pack,
    archive_blob: &Stored,
    assets: &[(pack::Asset, Stored)],
    force: Option<&Force>,
    actor: &str,
) -> Result<PublishStatus, PublishError> {
    let name = pack.name.as_str();
    let version = pack.version.as_str();
    let uid = version_uid(name, version, &pack.digest);
    let mut transaction = db.begin().await?;
    let existing = versions::find_by_version(&mut *transaction, name, version).await?;
    let (status, replaced) = match compare(existing, pack, force)? {
        Existing::Same(_) => return Ok(PublishStatus::Unchanged),
        Existing::None => (PublishStatus::Created, None),
        Existing::Replace(row) => (PublishStatus::Replaced, Some(row)),
    };
    packs::ensure_pack(&mut *transaction, &pack.name).await?;

    let archive_type: MediaType = ARCHIVE_MEDIA_TYPE
        .parse()
        .map_err(|_| PublishError::Database("media type".into()))?;
    let mut references: Vec<(&str, &str, &Stored, &MediaType)> =
        vec![("archive", "archive", archive_blob, &archive_type)];
    let logo_types: Vec<MediaType> = assets
        .iter()
        .map(|(asset, _)| MediaType::of_image(&asset.entry.head(4096).unwrap_or_default()))
        .collect();
    for ((asset, stored), logo_type) in assets.iter().zip(&logo_types) {
        let role = match asset.role {
            AssetRole::Logo => "logo",
            AssetRole::Chart => "chart",
        };
        let media = if asset.role == AssetRole::Logo {
            logo_type
        } else {
            &archive_type
        };
        references.push((asset.path.as_str(), role, stored, media));
    }
    for (_, _, stored, media) in &references {
        blob_records::insert_blob(&mut *transaction, &stored.digest, stored.size, Some(media))
            .await?;
        blob_records::insert_pack_blob(
            &mut transaction,
            &pack.name,
            &stored.digest,
            ReferenceKind::Version,
        )
        .await?;
    }

    let state = match &replaced {
        // A replace keeps the lifecycle state operators gave the version.
        Some(row) => row.state,
        None => pack.initial_state,
    };
    if let Some(row) = &replaced {
        versions::delete_version(&mut *transaction, &row.uid).await?;
        versions::insert_event(
            &mut *transaction,
            &Event {
                pack: name,
                version,
                action: "replace",
                actor,
                message: force.map(|f| f.message.as_str()),
                old_digest: Some(row.digest.to_string()),
                new_digest: Some(pack.digest.to_string()),
                old_state: None,
                new_state: None,
            },
        )
        .await?;
    }
    let logo_digest = assets
        .iter()
        .find(|(asset, _)| asset.role == AssetRole::Logo)
        .map(|(_, stored)| &stored.digest);
    versions::insert_version(
        &mut transaction,
        &NewVersion {
            uid: &uid,
            pack,
            state,
            archive_digest: &archive_blob.digest,
            logo_digest,
        },
    )
    .await?;
    for (path, role, stored, _) in &references {
        versions::insert_version_blob(&mut *transaction, &uid, path, role, &stored.digest).await?;
    }
    if replaced.is_none() {
        versions::insert_event(
            &mut *transaction,
            &Event {
                pack: name,
                version,
                action: "publish",
                actor,
                message: None,
                old_digest: None,
                new_digest: Some(pack.digest.to_string()),
                old_state: None,
                new_state: Some(state.as_str()),
            },
        )
        .await?;
    }
    record_pack_change(&mut transaction, name).await?;
    transaction.commit().await?;
    Ok(status)
}
