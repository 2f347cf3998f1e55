//! The renderer's caches, each bounded in bytes: parsed templates, rendered output, parsed values
//! macros and compiled schema regexes. All are keyed by immutable inputs (a version uid names fixed
//! content; a macro or a pattern is its own key), so they never need invalidation.

use std::sync::Arc;

use quick_cache::Weighter;
use quick_cache::sync::Cache;

use super::engine::{CompiledTemplate, TemplateFailure, compile_named};
use super::gotemplate::{Budget, Value};
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

/// Macros longer than this are parsed for each use rather than cached.
const MAX_CACHED_MACRO: usize = 64 << 10;
/// The parsed-macro cache's bound.
pub const MACRO_CACHE_BYTES: u64 = 8 << 20;

#[derive(Clone)]
struct MacroWeight;

impl Weighter<String, Arc<CompiledTemplate>> for MacroWeight {
    fn weight(&self, key: &String, value: &Arc<CompiledTemplate>) -> u64 {
        key.len() as u64 + value.weight()
    }
}

/// Parsed values macros by their text: packs repeat the same few macros in every request.
pub struct MacroCache {
    cache: Cache<String, Arc<CompiledTemplate>, MacroWeight>,
}

impl Default for MacroCache {
    fn default() -> Self {
        MacroCache {
            cache: Cache::with_weighter(1024, MACRO_CACHE_BYTES, MacroWeight),
        }
    }
}

impl MacroCache {
    /// Renders a one-off template (a values macro) leniently, charging `budget`: missing fields of
    /// missing values are empty rather than errors, so an undefined macro resolves to "" unless it
    /// has a `default`.
    pub fn render(
        &self,
        source: &str,
        data: &Value,
        budget: &Budget,
    ) -> Result<String, TemplateFailure> {
        let template = match self.cache.get(source) {
            Some(template) => template,
            None => {
                let mut template = compile_named("macro", source, false)?;
                template.lenient = true;
                let template = Arc::new(template);
                if source.len() <= MAX_CACHED_MACRO {
                    self.cache.insert(source.to_owned(), template.clone());
                }
                template
            }
        };
        template.execute_with(data, budget)
    }

    pub fn bytes(&self) -> u64 {
        self.cache.weight()
    }
}

/// The schema-regex cache's bound.
pub const REGEX_CACHE_BYTES: u64 = 4 << 20;
/// A regex's compiled-size limit, so a hostile schema pattern is refused rather than built.
const MAX_COMPILED_REGEX: usize = 2 << 20;

#[derive(Clone)]
struct PatternWeight;

impl Weighter<String, Arc<regex::Regex>> for PatternWeight {
    fn weight(&self, key: &String, _value: &Arc<regex::Regex>) -> u64 {
        key.len() as u64 * 64 + 4096
    }
}

/// Schema regexes by pattern: the same in every request, so each is compiled once.
pub struct RegexCache {
    cache: Cache<String, Arc<regex::Regex>, PatternWeight>,
}

impl Default for RegexCache {
    fn default() -> Self {
        RegexCache {
            cache: Cache::with_weighter(1024, REGEX_CACHE_BYTES, PatternWeight),
        }
    }
}

impl RegexCache {
    /// The compiled pattern, or `None` when it is not a valid (or affordable) regex.
    pub fn get(&self, pattern: &str) -> Option<Arc<regex::Regex>> {
        if let Some(found) = self.cache.get(pattern) {
            return Some(found);
        }
        let regex = regex::RegexBuilder::new(pattern)
            .size_limit(MAX_COMPILED_REGEX)
            .dfa_size_limit(MAX_COMPILED_REGEX)
            .build()
            .ok()?;
        let regex = Arc::new(regex);
        self.cache.insert(pattern.to_owned(), regex.clone());
        Some(regex)
    }

    pub fn bytes(&self) -> u64 {
        self.cache.weight()
    }
}
