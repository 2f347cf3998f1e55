//! Bounded caches in front of rendering, both bounded in bytes. Both are keyed by immutable inputs
//! (a version uid names fixed content), so they never need invalidation.

use std::sync::Arc;

use quick_cache::Weighter;
use quick_cache::sync::Cache;

use super::engine::{CompiledTemplate, TemplateFailure, compile_named};
use super::output::Document;

/// The parsed-template cache's bound.
pub const TEMPLATE_CACHE_BYTES: u64 = 64 << 20;

type Compiled = Arc<Result<CompiledTemplate, TemplateFailure>>;

#[derive(Clone)]
struct TemplateWeight;

impl Weighter<(String, String, bool), Compiled> for TemplateWeight {
    fn weight(&self, key: &(String, String, bool), value: &Compiled) -> u64 {
        let parsed = match value.as_ref() {
            Ok(template) => template.weight(),
            Err(failure) => failure.to_string().len() as u64,
        };
        (key.0.len() + key.1.len()) as u64 + parsed
    }
}

/// Parsed templates per (version uid, manifest path, strict), bounded by their estimated size.
pub struct TemplateCache {
    cache: Cache<(String, String, bool), Compiled, TemplateWeight>,
}

impl TemplateCache {
    pub fn new(max_bytes: u64) -> TemplateCache {
        let items = usize::try_from(max_bytes / 100_000).unwrap_or(1024).max(16);
        TemplateCache {
            cache: Cache::with_weighter(items, max_bytes.max(1), TemplateWeight),
        }
    }

    /// The compiled template, parsing it on first use.
    pub fn get(&self, uid: &str, path: &str, source: &str, strict: bool) -> Compiled {
        let key = (uid.to_owned(), path.to_owned(), strict);
        if let Some(found) = self.cache.get(&key) {
            return found;
        }
        let compiled = Arc::new(compile_named(path, source, strict));
        self.cache.insert(key, compiled.clone());
        compiled
    }

    pub fn bytes(&self) -> u64 {
        self.cache.weight()
    }
}

#[derive(Clone)]
struct DocumentsWeight;

impl Weighter<[u8; 32], Arc<Vec<Document>>> for DocumentsWeight {
    fn weight(&self, _key: &[u8; 32], documents: &Arc<Vec<Document>>) -> u64 {
        documents
            .iter()
            .map(|d| (d.text.len() + d.source.len()) as u64)
            .sum::<u64>()
            .max(1)
    }
}

/// Rendered documents by a digest of everything that determines them, bounded by total bytes.
/// A capacity of 0 disables it (every render is cold).
pub struct OutputCache {
    cache: Option<Cache<[u8; 32], Arc<Vec<Document>>, DocumentsWeight>>,
}

impl OutputCache {
    pub fn new(max_bytes: u64) -> OutputCache {
        let cache = (max_bytes > 0).then(|| {
            let estimated_items = usize::try_from(max_bytes / 64_000).unwrap_or(1024).max(16);
            Cache::with_weighter(estimated_items, max_bytes, DocumentsWeight)
        });
        OutputCache { cache }
    }

    pub fn get(&self, key: &[u8; 32]) -> Option<Arc<Vec<Document>>> {
        self.cache.as_ref()?.get(key)
    }

    pub fn insert(&self, key: [u8; 32], documents: Arc<Vec<Document>>) {
        if let Some(cache) = &self.cache {
            cache.insert(key, documents);
        }
    }

    pub fn bytes(&self) -> u64 {
        self.cache.as_ref().map_or(0, Cache::weight)
    }
}
