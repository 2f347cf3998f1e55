//! Finished render responses, by a digest of everything that determines them (version uid, cloud,
//! values, presets, variables, strictness, format), with their gzip form made once on demand. A
//! version uid names immutable content, so an entry is never stale; tag movement is handled before
//! the lookup (the tag resolves to a uid first).

use std::io::Write;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use quick_cache::Weighter;
use quick_cache::sync::Cache;
use sha2::{Digest as _, Sha256};

/// One finished render: its body, its strong ETag and its object count.
#[derive(Debug)]
pub struct RenderedBody {
    pub body: Bytes,
    pub etag: String,
    pub objects: usize,
    gzip: OnceLock<Bytes>,
}

impl RenderedBody {
    pub fn new(body: Bytes, etag: String, objects: usize) -> RenderedBody {
        RenderedBody {
            body,
            etag,
            objects,
            gzip: OnceLock::new(),
        }
    }

    /// The body gzip-compressed (computed on first use, then kept).
    pub fn gzip(&self) -> &Bytes {
        self.gzip.get_or_init(|| {
            // Compressed once and served many times: zlib's default level makes a chart pack's
            // megabytes of YAML about a third smaller than the fastest level, and every warm
            // answer copies fewer bytes.
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            // Writing into a Vec cannot fail.
            let _ = encoder.write_all(&self.body);
            Bytes::from(encoder.finish().unwrap_or_default())
        })
    }
}

#[derive(Clone)]
struct BodyWeight;

impl Weighter<[u8; 32], Arc<RenderedBody>> for BodyWeight {
    fn weight(&self, _key: &[u8; 32], value: &Arc<RenderedBody>) -> u64 {
        // The gzip form, made later, is at most the body's size: count it up front.
        value.body.len() as u64 * 2 + 64
    }
}

pub struct RenderCache {
    cache: Option<Cache<[u8; 32], Arc<RenderedBody>, BodyWeight>>,
}

impl std::fmt::Debug for RenderCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RenderCache")
    }
}

impl RenderCache {
    /// `max_bytes` 0 disables the cache.
    pub fn new(max_bytes: u64) -> RenderCache {
        let cache = (max_bytes > 0).then(|| {
            let items = usize::try_from(max_bytes / 64_000).unwrap_or(1024).max(16);
            Cache::with_weighter(items, max_bytes, BodyWeight)
        });
        RenderCache { cache }
    }

    pub fn get(&self, key: &[u8; 32]) -> Option<Arc<RenderedBody>> {
        self.cache.as_ref()?.get(key)
    }

    pub fn bytes(&self) -> u64 {
        self.cache.as_ref().map_or(0, Cache::weight)
    }

    pub fn insert(&self, key: [u8; 32], body: Arc<RenderedBody>) {
        if let Some(cache) = &self.cache {
            cache.insert(key, body);
        }
    }
}

/// A digest of request parts: each is length-prefixed so that no two sequences collide.
pub fn request_key<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hasher.finalize().into()
}
