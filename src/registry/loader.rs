//! Loading versions for rendering, cached by uid: a uid names immutable content (a forced replace
//! gets a new uid), so cached entries never go stale.

use std::sync::Arc;

use quick_cache::sync::Cache;

use crate::render::pipeline::LoadedVersion;
use crate::store::db::Db;
use crate::store::versions::{self, VersionRow};

pub struct VersionCache {
    cache: Cache<String, Arc<LoadedVersion>>,
}

impl std::fmt::Debug for VersionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VersionCache")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("version {0} has no stored document")]
    Missing(String),
}

impl VersionCache {
    pub fn new(capacity: usize) -> VersionCache {
        VersionCache {
            cache: Cache::new(capacity.max(1)),
        }
    }

    /// The version with its manifests, from the cache or the database.
    pub async fn load(&self, db: &Db, row: &VersionRow) -> Result<Arc<LoadedVersion>, LoadError> {
        if let Some(found) = self.cache.get(&row.uid) {
            return Ok(found);
        }
        let pack = versions::load_document(db.reader(), &row.uid)
            .await?
            .ok_or_else(|| LoadError::Missing(row.uid.clone()))?;
        let manifests = versions::load_manifests(db.reader(), &row.uid)
            .await?
            .ok_or_else(|| LoadError::Missing(row.uid.clone()))?;
        let loaded = Arc::new(LoadedVersion {
            uid: row.uid.clone(),
            pack,
            manifests,
        });
        self.cache.insert(row.uid.clone(), loaded.clone());
        Ok(loaded)
    }
}

/// Every version row of a pack, by pack name. Rows change (publishes, state changes): every write
/// through this process calls [`PackRowsCache::invalidate`]; other processes' writes arrive through
/// the same call from the change listener.
pub struct PackRowsCache {
    cache: Cache<String, Arc<Vec<VersionRow>>>,
    /// Bumped by every invalidation: rows read before a bump are not cached after it.
    generation: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for PackRowsCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PackRowsCache")
    }
}

impl PackRowsCache {
    pub fn new(capacity: usize) -> PackRowsCache {
        PackRowsCache {
            cache: Cache::new(capacity.max(1)),
            generation: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The pack's versions, oldest first (empty when the pack is not published).
    pub async fn get(&self, db: &Db, pack: &str) -> Result<Arc<Vec<VersionRow>>, sqlx::Error> {
        if let Some(found) = self.cache.get(pack) {
            return Ok(found);
        }
        use std::sync::atomic::Ordering;
        let generation = self.generation.load(Ordering::SeqCst);
        let rows = Arc::new(versions::list_for_pack(db.reader(), pack).await?);
        // A change announced while the query ran may not be in these rows: do not keep them.
        if !rows.is_empty() && self.generation.load(Ordering::SeqCst) == generation {
            self.cache.insert(pack.to_owned(), rows.clone());
            // An invalidation between the check and the insert: take the rows back out.
            if self.generation.load(Ordering::SeqCst) != generation {
                self.cache.remove(pack);
            }
        }
        Ok(rows)
    }

    /// Forgets a pack whose versions changed.
    pub fn invalidate(&self, pack: &str) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.cache.remove(pack);
    }

    /// Forgets everything (when changes may have been missed).
    pub fn clear(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.cache.clear();
    }
}
