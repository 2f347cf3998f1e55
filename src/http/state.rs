use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::auth::{AdminToken, Htpasswd};
use crate::registry::loader::{PackRowsCache, VersionCache};
use crate::render::pipeline::Renderer;
use crate::store::blob_cache::BlobCache;
use crate::store::blobs::BlobStore;
use crate::store::db::Db;

/// Fixed settings the handlers need.
#[derive(Debug)]
pub struct Settings {
    pub registry_uid: String,
    pub registry_name: String,
    pub admin_token: Option<AdminToken>,
    /// HTTP Basic users (scope write).
    pub htpasswd: Option<Arc<Htpasswd>>,
    /// The packs each HTTP Basic user may write.
    pub user_packs: crate::auth::UserPacks,
    /// Reads need the read scope.
    pub private: bool,
    pub max_blob_size: u64,
    pub max_pack_size: u64,
    /// Renders are strict (missing keys are errors) unless a request says otherwise.
    pub strict_by_default: bool,
    pub limits: super::limits::Limits,
}

impl AppState {
    /// Forgets cached facts about `pack` after a write through this process changed it (other
    /// replicas' writes are caught by the generation checks in the caches).
    pub fn pack_written(&self, pack: &str) {
        self.pack_rows.invalidate(pack);
        self.catalog.invalidate();
    }
}

/// Everything a handler can reach. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub blobs: BlobStore,
    pub blob_cache: Arc<BlobCache>,
    pub settings: Arc<Settings>,
    /// Recently checked credentials.
    pub credentials: Arc<super::auth::CredentialCache>,
    pub renderer: Arc<Renderer>,
    pub versions: Arc<VersionCache>,
    /// Finished catalog responses; invalidated on every write.
    pub catalog: Arc<super::catalog_cache::CatalogCache>,
    /// Finished render responses.
    pub render_responses: Arc<super::render_cache::RenderResponseCache>,
    /// Version rows by pack name; invalidated on every write.
    pub pack_rows: Arc<PackRowsCache>,
    /// Bounds how many renders run at once on the blocking pool.
    pub render_permits: Arc<Semaphore>,
    /// Counters and histograms for `/metrics`.
    pub metrics: Arc<super::metrics::Metrics>,
    /// Bounds how many requests are in flight.
    pub request_permits: Arc<Semaphore>,
    /// Bounds how many publishes run at once (each unpacks an archive).
    pub publish_permits: Arc<Semaphore>,
}
