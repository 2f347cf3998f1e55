//! Version rows by pack, and versions loaded for rendering by uid. A uid names immutable content (a
//! forced replace gets a new uid), so loaded versions never go stale; a pack's rows change with
//! every write to it, so they are validated (see [`PackRowsCache`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use quick_cache::Weighter;
use quick_cache::sync::Cache;

use super::super::RegistryError;
use crate::domain::PackName;
use crate::render::pipeline::LoadedVersion;
use crate::store::db::{Backend, Db};
use crate::store::generations;
use crate::store::versions::{self, VersionRow};

/// The loaded-version cache's bound.
pub const VERSION_CACHE_BYTES: u64 = 64 << 20;
/// The pack-rows cache's bound.
pub const PACK_ROWS_CACHE_BYTES: u64 = 32 << 20;

#[derive(Clone)]
struct VersionWeight;

impl Weighter<String, Arc<LoadedVersion>> for VersionWeight {
    fn weight(&self, key: &String, version: &Arc<LoadedVersion>) -> u64 {
        // Text held twice over (the manifests, values as text and parsed), plus the rest.
        let manifests: usize = version.manifests.iter().map(|m| m.text.len() * 2).sum();
        let pack = &version.pack;
        let text = pack.values_text.len() * 4
            + pack.readme.as_ref().map_or(0, String::len)
            + pack.findings.len() * 256
            + pack.schema.len() * 256;
        (key.len() + manifests + text + 4096) as u64 + version.charts_weight()
    }
}

pub struct VersionCache {
    cache: Cache<String, Arc<LoadedVersion>, VersionWeight>,
}

impl std::fmt::Debug for VersionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VersionCache")
    }
}

fn missing(row: &VersionRow) -> RegistryError {
    RegistryError::Corrupt(format!("version {} has no stored document", row.uid))
}

impl VersionCache {
    /// A cache bounded by `max_bytes` (estimated from the versions' text).
    pub fn new(max_bytes: u64) -> VersionCache {
        let items = usize::try_from(max_bytes / 200_000).unwrap_or(512).max(16);
        VersionCache {
            cache: Cache::with_weighter(items, max_bytes.max(1), VersionWeight),
        }
    }

    pub fn bytes(&self) -> u64 {
        self.cache.weight()
    }

    /// Replaces a cached version (one whose charts were loaded since).
    pub fn replace(&self, uid: String, version: Arc<LoadedVersion>) {
        self.cache.insert(uid, version);
    }

    /// The version with its manifests, from the cache or the database.
    pub async fn load(
        &self,
        db: &Db,
        row: &VersionRow,
    ) -> Result<Arc<LoadedVersion>, RegistryError> {
        if let Some(found) = self.cache.get(&row.uid) {
            return Ok(found);
        }
        let pack = versions::load_document(db.reader(), &row.uid)
            .await?
            .ok_or_else(|| missing(row))?;
        let manifests = versions::load_manifests(db.reader(), &row.uid)
            .await?
            .ok_or_else(|| missing(row))?;
        let loaded = Arc::new(LoadedVersion {
            uid: row.uid.clone(),
            pack,
            manifests,
            charts: Vec::new(),
        });
        self.cache.insert(row.uid.clone(), loaded.clone());
        Ok(loaded)
    }
}

/// Every version row of a pack, by pack name. Rows change (publishes, state changes). Every write
/// through this process calls [`PackRowsCache::invalidate`]. On PostgreSQL, where other replicas
/// write too, an entry also records the registry's generation it was last confirmed under and the
/// pack's own: while the registry's is unchanged (one coalesced read per request) no write has
/// happened anywhere; when it has moved, the pack's generation says whether this pack was written.
pub struct PackRowsCache {
    cache: Cache<PackName, CachedRows, RowsWeight>,
    /// Bumped by every invalidation: rows read before a bump are not cached after it.
    local_generation: AtomicU64,
}

#[derive(Clone)]
struct CachedRows {
    /// (registry generation, pack generation) in the shared database; `None` on SQLite, which
    /// has one server.
    shared: Option<(i64, i64)>,
    rows: Arc<Vec<VersionRow>>,
}

#[derive(Clone)]
struct RowsWeight;

impl Weighter<PackName, CachedRows> for RowsWeight {
    fn weight(&self, key: &PackName, entry: &CachedRows) -> u64 {
        let rows: usize = entry
            .rows
            .iter()
            .map(|row| {
                512 + row.display_name.len()
                    + row
                        .annotations
                        .iter()
                        .map(|(k, v)| k.len() + v.len() + 48)
                        .sum::<usize>()
                    + row.cloud_types.iter().map(|c| c.len() + 24).sum::<usize>()
            })
            .sum();
        (key.as_str().len() + rows + 64) as u64
    }
}

impl std::fmt::Debug for PackRowsCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PackRowsCache")
    }
}

impl PackRowsCache {
    /// A cache bounded by `max_bytes` (estimated from the rows).
    pub fn new(max_bytes: u64) -> PackRowsCache {
        let items = usize::try_from(max_bytes / 4096).unwrap_or(4096).max(16);
        PackRowsCache {
            cache: Cache::with_weighter(items, max_bytes.max(1), RowsWeight),
            local_generation: AtomicU64::new(0),
        }
    }

    pub fn bytes(&self) -> u64 {
        self.cache.weight()
    }

    /// The pack's versions, oldest first (empty when the pack is not published).
    pub async fn get(&self, db: &Db, pack: &PackName) -> Result<Arc<Vec<VersionRow>>, sqlx::Error> {
        // Rows read after this point may be kept only if no local write comes in between.
        let local_generation = self.local_generation.load(Ordering::SeqCst);
        let cached = self.cache.get(pack);
        let shared = match db.backend() {
            Backend::Sqlite => match cached {
                Some(found) => return Ok(found.rows),
                None => None,
            },
            Backend::Postgres => {
                // Read in this order: rows confirmed by a pack generation read after the registry's
                // reflect every write counted in that registry generation.
                let registry = db.registry_generation().await?;
                if let Some(found) = &cached
                    && found.shared.is_some_and(|(seen, _)| seen == registry)
                {
                    return Ok(found.rows.clone());
                }
                let Some(pack_generation) = generations::of_pack(db.reader(), pack).await? else {
                    return Ok(Arc::new(Vec::new()));
                };
                if let Some(found) = &cached
                    && found
                        .shared
                        .is_some_and(|(_, seen)| seen == pack_generation)
                {
                    // Other packs were written, not this one: confirm the rows under the new value.
                    let confirmed = CachedRows {
                        shared: Some((registry, pack_generation)),
                        rows: found.rows.clone(),
                    };
                    self.keep(pack, confirmed, local_generation);
                    return Ok(found.rows.clone());
                }
                Some((registry, pack_generation))
            }
        };
        // Read after the generations: the rows are at least as new as they say (maybe newer, which
        // only costs a reload once the next write is seen).
        let rows = Arc::new(versions::list_for_pack(db.reader(), pack).await?);
        if !rows.is_empty() {
            let entry = CachedRows {
                shared,
                rows: rows.clone(),
            };
            self.keep(pack, entry, local_generation);
        }
        Ok(rows)
    }

    /// Caches `entry` unless a local write happened since `local_generation` was read (its rows
    /// may predate that write).
    fn keep(&self, pack: &PackName, entry: CachedRows, local_generation: u64) {
        if self.local_generation.load(Ordering::SeqCst) != local_generation {
            return;
        }
        self.cache.insert(pack.clone(), entry);
        // An invalidation between the check and the insert: take the rows back out.
        if self.local_generation.load(Ordering::SeqCst) != local_generation {
            self.cache.remove(pack);
        }
    }

    /// Forgets a pack whose versions changed through this process.
    pub fn invalidate(&self, pack: &PackName) {
        self.local_generation.fetch_add(1, Ordering::SeqCst);
        self.cache.remove(pack);
    }
}
