//! Every cache of the registry, its bound, and its invalidation rule, in one place. The registry's
//! write functions call [`Caches::pack_written`] themselves; nothing else invalidates.
//!
//! | cache | holds | bound | stays true because |
//! |---|---|---|---|
//! | `pack_rows` | version rows by pack | [`versions::PACK_ROWS_CACHE_BYTES`] | writes here invalidate; other replicas' writes move the generations it checks |
//! | `versions` | loaded versions by uid | [`versions::VERSION_CACHE_BYTES`] | a uid names immutable content |
//! | `catalog` | finished catalog bodies by request | `--catalog-cache-bytes` | every write moves the generation in its keys |
//! | `renders` | finished render bodies by inputs | half of `--render-cache-bytes` | keyed by version uid and every input |
//! | `blobs` | blob records and small blob contents | [`blobs::RECORD_CACHE_BYTES`], [`blobs::CONTENT_CACHE_BYTES`] | content never changes; records expire after 30 s (gc runs elsewhere) |
//! | `credentials` | checked credentials | [`credentials::CREDENTIAL_CACHE_BYTES`] | tokens re-checked after 2 s, passwords after 60 s |
//!
//! The renderer's own caches (parsed templates, rendered output, parsed macros, compiled regexes)
//! are keyed by immutable content and never need invalidation; they are listed by
//! [`Caches::sizes`] with the rest.

pub mod blobs;
pub mod catalog;
pub mod credentials;
pub mod renders;
pub mod versions;

use crate::domain::PackName;
use crate::render::pipeline::Renderer;

/// The bounds that are configurable (the rest are constants of their modules).
#[derive(Debug, Clone, Copy)]
pub struct CacheBounds {
    pub catalog_bytes: u64,
    pub render_bytes: u64,
}

pub struct Caches {
    pub(crate) pack_rows: versions::PackRowsCache,
    pub(crate) versions: versions::VersionCache,
    pub(crate) catalog: catalog::CatalogCache,
    pub(crate) renders: renders::RenderCache,
    pub(crate) blobs: blobs::BlobCache,
    pub(crate) credentials: credentials::CredentialCache,
}

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Caches")
    }
}

impl Caches {
    pub fn new(bounds: CacheBounds) -> Caches {
        Caches {
            pack_rows: versions::PackRowsCache::new(versions::PACK_ROWS_CACHE_BYTES),
            versions: versions::VersionCache::new(versions::VERSION_CACHE_BYTES),
            catalog: catalog::CatalogCache::new(bounds.catalog_bytes),
            renders: renders::RenderCache::new(bounds.render_bytes),
            blobs: blobs::BlobCache::new(),
            credentials: credentials::CredentialCache::default(),
        }
    }

    /// After a write through this process changed `pack`'s versions or their states: its rows and
    /// every catalog body are stale (other replicas' writes are caught by the generation checks).
    pub(crate) fn pack_written(&self, pack: &PackName) {
        self.pack_rows.invalidate(pack);
        self.catalog.invalidate();
    }

    /// Bytes each cache holds now, by name (the `cache` label of `packyard_cache_bytes`).
    pub fn sizes(&self, renderer: &Renderer) -> Vec<(&'static str, u64)> {
        let (records, contents) = self.blobs.bytes();
        let mut sizes = vec![
            ("catalog", self.catalog.bytes()),
            ("render_responses", self.renders.bytes()),
            ("versions", self.versions.bytes()),
            ("pack_rows", self.pack_rows.bytes()),
            ("blob_records", records),
            ("blob_contents", contents),
            ("credentials", self.credentials.bytes()),
        ];
        sizes.extend(renderer.cache_sizes());
        sizes
    }
}
