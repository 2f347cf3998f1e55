//! Publishing pack folders from disk (`serve --packs-dir`), through the same path as uploads.

use std::path::{Path, PathBuf};

use crate::domain::Version;
use crate::pack::content_digest::content_digest;
use crate::pack::files::{Limits, PackFiles};
use crate::pack::metadata;
use crate::store::blobs::BlobStore;
use crate::store::db::Db;
use crate::store::versions;

use super::ADMIN_ACTOR;
use super::publish::{self, Archive, PublishError, PublishStatus, Published};

/// What happened to one folder.
#[derive(Debug)]
pub struct FolderOutcome {
    pub folder: PathBuf,
    pub result: Result<Published, PublishError>,
}

/// The pack folders directly inside `dir` (those holding a pack.json), in name order.
pub fn pack_folders(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut folders: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.join(metadata::FILE).is_file())
        .collect();
    folders.sort();
    Ok(folders)
}

/// Publishes one folder. When the same content is already published this only reads the files
/// and compares digests, so a restart with unchanged packs stays fast.
pub async fn publish_folder(
    db: &Db,
    blobs: &BlobStore,
    folder: &Path,
) -> Result<Published, PublishError> {
    let path = folder.to_path_buf();
    let files = tokio::task::spawn_blocking(move || PackFiles::from_dir(&path, &Limits::default()))
        .await
        .map_err(|e| PublishError::Database(format!("folder reader task failed: {e}")))?
        .map_err(|e| PublishError::Pack(e.into()))?;
    if let Some(unchanged) = already_published(db, &files).await? {
        return Ok(unchanged);
    }
    let folder_name = folder
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pack".to_owned());
    let (pack, assets) = publish::read_pack(files.clone()).await?;
    let archive = tokio::task::spawn_blocking(move || files.to_archive(&folder_name))
        .await
        .map_err(|e| PublishError::Database(format!("archive task failed: {e}")))??;
    publish::publish(
        db,
        blobs,
        pack,
        assets,
        Archive::Generated(archive),
        None,
        ADMIN_ACTOR,
    )
    .await
}

async fn already_published(db: &Db, files: &PackFiles) -> Result<Option<Published>, PublishError> {
    let mut ignored = Vec::new();
    let Some(Ok(bytes)) = files.get(metadata::FILE).map(|entry| entry.bytes()) else {
        return Ok(None);
    };
    let Ok(pack_json) = metadata::PackJson::parse(&bytes, &mut ignored) else {
        return Ok(None);
    };
    let (Some(name), Some(version)) = (pack_json.name, pack_json.version) else {
        return Ok(None);
    };
    let Some(row) = versions::find_by_version(db.reader(), &name, &version).await? else {
        return Ok(None);
    };
    let digest = content_digest(files);
    if row.digest != digest || Version::parse(&version).is_err() {
        return Ok(None);
    }
    let warnings = versions::load_document(db.reader(), &row.uid)
        .await?
        .map(|pack| pack.findings)
        .unwrap_or_default();
    Ok(Some(Published {
        status: PublishStatus::Unchanged,
        uid: row.uid,
        name,
        version,
        digest,
        warnings,
    }))
}

/// Publishes every pack folder in `dir`; one folder's failure does not stop the others.
pub async fn publish_dir(
    db: &Db,
    blobs: &BlobStore,
    dir: &Path,
) -> std::io::Result<Vec<FolderOutcome>> {
    let mut outcomes = Vec::new();
    for folder in pack_folders(dir)? {
        let result = publish_folder(db, blobs, &folder).await;
        outcomes.push(FolderOutcome { folder, result });
    }
    Ok(outcomes)
}
