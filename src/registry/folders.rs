//! Publishing pack folders from disk (`serve --packs-dir`), through the same path as uploads.

use std::path::{Path, PathBuf};

use super::publish::Published;
use super::{Registry, RegistryError};
use crate::pack::metadata;

/// What happened to one folder.
#[derive(Debug)]
pub struct FolderOutcome {
    pub folder: PathBuf,
    pub result: Result<Published, RegistryError>,
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

impl Registry {
    /// Publishes every pack folder in `dir`; one folder's failure does not stop the others.
    pub async fn publish_dir(&self, dir: &Path) -> std::io::Result<Vec<FolderOutcome>> {
        let mut outcomes = Vec::new();
        for folder in pack_folders(dir)? {
            let result = self.publish_folder(&folder).await;
            outcomes.push(FolderOutcome { folder, result });
        }
        Ok(outcomes)
    }
}
