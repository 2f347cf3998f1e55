//! Finished catalog responses (tag entities, pack lists, searches), keyed by request. Any write to
//! the catalog bumps a generation and every older entry stops counting, so a response is never
//! served after the write that changed it. Writes are rare next to reads; this keeps the hot queries
//! (and their COUNTs) off the database.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use quick_cache::Weighter;
use quick_cache::sync::Cache;
use serde::Serialize;

use super::ApiError;

struct Entry {
    generation: u64,
    body: Bytes,
}

#[derive(Clone)]
struct EntryWeight;

impl Weighter<[u8; 32], Arc<Entry>> for EntryWeight {
    fn weight(&self, _key: &[u8; 32], entry: &Arc<Entry>) -> u64 {
        entry.body.len() as u64 + 64
    }
}

pub struct CatalogCache {
    generation: AtomicU64,
    cache: Option<Cache<[u8; 32], Arc<Entry>, EntryWeight>>,
}

impl std::fmt::Debug for CatalogCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CatalogCache")
    }
}

/// A response being computed: remembers the generation it started in.
pub struct Pending {
    key: [u8; 32],
    generation: u64,
}

impl CatalogCache {
    /// `max_bytes` 0 disables the cache.
    pub fn new(max_bytes: u64) -> CatalogCache {
        let cache = (max_bytes > 0).then(|| {
            let items = usize::try_from(max_bytes / 4096).unwrap_or(4096).max(64);
            Cache::with_weighter(items, max_bytes, EntryWeight)
        });
        CatalogCache {
            generation: AtomicU64::new(0),
            cache,
        }
    }

    /// Every cached response is stale from now on.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The cached response for `key`, or a ticket to store the one about to be computed. The
    /// generation is read before computing, so a write during the computation makes it stale.
    pub fn lookup(&self, key: [u8; 32]) -> Result<Response, Pending> {
        let generation = self.generation.load(Ordering::SeqCst);
        if let Some(entry) = self.cache.as_ref().and_then(|c| c.get(&key))
            && entry.generation == generation
        {
            return Ok(json_response(entry.body.clone()));
        }
        Err(Pending { key, generation })
    }

    /// Serialises `value`, stores it under the ticket, and answers with it.
    pub fn store<T: Serialize>(&self, pending: Pending, value: &T) -> Result<Response, ApiError> {
        let body = Bytes::from(serde_json::to_vec(value).map_err(ApiError::internal)?);
        if let Some(cache) = &self.cache {
            cache.insert(
                pending.key,
                Arc::new(Entry {
                    generation: pending.generation,
                    body: body.clone(),
                }),
            );
        }
        Ok(json_response(body))
    }
}

fn json_response(body: Bytes) -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
}
