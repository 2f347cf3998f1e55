//! Finished catalog responses (tag entities, pack lists, searches), keyed by request. Any write to
//! the catalog bumps a generation, which is part of every key, so a response is never served after
//! the write that changed it (older entries age out): this process's writes bump a local counter,
//! and on PostgreSQL every replica's writes bump the registry's generation in the database, read
//! afresh for each request (one query shared by concurrent requests). Concurrent identical
//! requests compute once. Writes are rare next to reads; this keeps the hot queries (and their
//! COUNTs) off the database.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use quick_cache::Weighter;
use quick_cache::sync::Cache;

use crate::store::db::{Backend, Db};

/// The request's digest, the local generation and the shared one (0 on SQLite).
type Key = ([u8; 32], u64, i64);

#[derive(Clone)]
struct BodyWeight;

impl Weighter<Key, Bytes> for BodyWeight {
    fn weight(&self, _key: &Key, body: &Bytes) -> u64 {
        body.len() as u64 + 64
    }
}

pub struct CatalogCache {
    generation: AtomicU64,
    cache: Option<Cache<Key, Bytes, BodyWeight>>,
}

impl std::fmt::Debug for CatalogCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CatalogCache")
    }
}

impl CatalogCache {
    /// `max_bytes` 0 disables the cache.
    pub fn new(max_bytes: u64) -> CatalogCache {
        let cache = (max_bytes > 0).then(|| {
            let items = usize::try_from(max_bytes / 4096).unwrap_or(4096).max(64);
            Cache::with_weighter(items, max_bytes, BodyWeight)
        });
        CatalogCache {
            generation: AtomicU64::new(0),
            cache,
        }
    }

    pub fn bytes(&self) -> u64 {
        self.cache.as_ref().map_or(0, Cache::weight)
    }

    /// Every cached response is stale from now on.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The body for `key`: cached, or computed by `compute` (once for all concurrent callers).
    /// The generations are read before computing, so a write during the computation makes the
    /// result land under an old key that nobody asks for again.
    pub async fn get_or_compute<E: From<sqlx::Error>>(
        &self,
        db: &Db,
        key: [u8; 32],
        compute: impl Future<Output = Result<Bytes, E>>,
    ) -> Result<Bytes, E> {
        let Some(cache) = &self.cache else {
            return compute.await;
        };
        let local = self.generation.load(Ordering::SeqCst);
        let shared = match db.backend() {
            Backend::Sqlite => 0,
            Backend::Postgres => db.registry_generation().await?,
        };
        cache
            .get_or_insert_async(&(key, local, shared), compute)
            .await
    }
}
