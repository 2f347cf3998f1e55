//! Loading versions for rendering, cached by uid: a uid names immutable content (a forced replace
//! gets a new uid), so cached entries never go stale.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use quick_cache::sync::Cache;

use crate::render::pipeline::LoadedVersion;
use crate::store::db::{Backend, Db};
use crate::store::generations;
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

/// Every version row of a pack, by pack name. Rows change (publishes, state changes). Every write
/// through this process calls [`PackRowsCache::invalidate`]; on PostgreSQL, where other replicas
/// write too, each entry also carries the pack's generation it was read under and is used only
/// while the database still reports that generation (one indexed lookup instead of the rows).
pub struct PackRowsCache {
    cache: Cache<String, CachedRows>,
    /// Bumped by every invalidation: rows read before a bump are not cached after it.
    local_generation: AtomicU64,
}

#[derive(Clone)]
struct CachedRows {
    /// The pack's generation in the shared database (`None` on SQLite, which has one server).
    shared_generation: Option<i64>,
    rows: Arc<Vec<VersionRow>>,
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
            local_generation: AtomicU64::new(0),
        }
    }

    /// The pack's versions, oldest first (empty when the pack is not published).
    pub async fn get(&self, db: &Db, pack: &str) -> Result<Arc<Vec<VersionRow>>, sqlx::Error> {
        let shared_generation = match db.backend() {
            Backend::Sqlite => None,
            Backend::Postgres => match generations::of_pack(db.reader(), pack).await? {
                Some(generation) => Some(generation),
                None => return Ok(Arc::new(Vec::new())),
            },
        };
        if let Some(found) = self.cache.get(pack)
            && found.shared_generation == shared_generation
        {
            return Ok(found.rows);
        }
        let local_generation = self.local_generation.load(Ordering::SeqCst);
        // Read after the generation: the rows are at least as new as it says (maybe newer, which
        // only costs a reload once the next write is seen).
        let rows = Arc::new(versions::list_for_pack(db.reader(), pack).await?);
        // A local write while the query ran may not be in these rows: do not keep them.
        if !rows.is_empty() && self.local_generation.load(Ordering::SeqCst) == local_generation {
            let entry = CachedRows {
                shared_generation,
                rows: rows.clone(),
            };
            self.cache.insert(pack.to_owned(), entry);
            // An invalidation between the check and the insert: take the rows back out.
            if self.local_generation.load(Ordering::SeqCst) != local_generation {
                self.cache.remove(pack);
            }
        }
        Ok(rows)
    }

    /// Forgets a pack whose versions changed through this process.
    pub fn invalidate(&self, pack: &str) {
        self.local_generation.fetch_add(1, Ordering::SeqCst);
        self.cache.remove(pack);
    }
}
