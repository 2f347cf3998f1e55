//! The registry: the one door between the front ends (`http`, the command line, the OCI API to
//! come) and what lies below (`store`, `render`, `pack`). Tag resolution, version loading, listing
//! and search, rendering and validation, publishing, lifecycle changes, blobs and credentials are
//! [`Registry`] methods returning [`RegistryError`]; every write invalidates the caches it touches
//! (`cache`) before it returns.

pub mod access;
pub mod blobs;
pub mod cache;
pub mod catalog;
pub mod charts;
pub mod error;
#[cfg(feature = "fault-injection")]
pub mod faults;
pub mod folders;
pub mod lifecycle;
pub mod oci;
pub mod offline;
pub mod publish;
pub mod rendering;
pub mod tags;

use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest as _, Sha256};
use tokio::sync::Semaphore;

pub use access::{AccessConfig, Caller, Credentials};
pub use cache::CacheBounds;
pub use error::RegistryError;

/// Types the front ends read, defined below the registry and passed through it.
pub use crate::pack::Pack;
pub use crate::pack::lint::Finding;
pub use crate::pack::metadata::Dependency;
pub use crate::pack::presets::Preset;
pub use crate::pack::schema::SchemaField;
pub use crate::render::pipeline::LoadedVersion;
pub use crate::store::blob_records::BlobRecord;
pub use crate::store::versions::{StoredEvent, VersionBlob, VersionRow};

use crate::domain::{Digest, PackName, TagRef, Version};
use crate::render::gotemplate::Limits as RenderLimits;
use crate::render::pipeline::{LoadedChart, Renderer};
use crate::store::blobs::BlobStore;
use crate::store::db::{Backend, Db};
use crate::store::generations;
use crate::store::versions;

/// Who made a change, for the audit trail.
pub const ADMIN_ACTOR: &str = "admin";

/// What a registry is, fixed at start-up.
#[derive(Debug)]
pub struct RegistryConfig {
    /// This registry's uid (Palette's `registryUid`).
    pub uid: String,
    pub name: String,
    pub access: AccessConfig,
    pub caches: CacheBounds,
    /// Every render's budget.
    pub render_limits: RenderLimits,
    /// Renders run at most this many at once.
    pub render_permits: usize,
    /// The longest wait for a render slot.
    pub render_queue_timeout: Duration,
    /// Publishes run at most this many at once (each unpacks an archive).
    pub publish_permits: usize,
    pub max_blob_size: u64,
    pub max_pack_size: u64,
    pub oci: oci::OciConfig,
}

impl RegistryConfig {
    /// A configuration with the defaults a local tool needs (no credentials, small caches).
    pub fn local() -> RegistryConfig {
        RegistryConfig {
            uid: String::new(),
            name: "local".to_owned(),
            access: AccessConfig::default(),
            caches: CacheBounds {
                catalog_bytes: 0,
                render_bytes: 0,
            },
            render_limits: RenderLimits::default(),
            render_permits: 1,
            render_queue_timeout: Duration::from_secs(60),
            publish_permits: 1,
            max_blob_size: u64::MAX,
            max_pack_size: u64::MAX,
            oci: oci::OciConfig::default(),
        }
    }
}

struct Inner {
    db: Db,
    blobs: BlobStore,
    renderer: Renderer,
    caches: cache::Caches,
    access: AccessConfig,
    uid: String,
    name: String,
    render_permits: Arc<Semaphore>,
    render_queue_timeout: Duration,
    publish_permits: Arc<Semaphore>,
    max_blob_size: u64,
    max_pack_size: u64,
    oci_config: oci::OciConfig,
    oci: oci::OciState,
    /// The key that signs the token flow's bearer tokens (loaded from the database once).
    token_key: tokio::sync::OnceCell<Vec<u8>>,
    /// The runtime the registry was opened on, whose blocking pool runs its CPU-bound work.
    blocking: Option<tokio::runtime::Handle>,
}

/// The registry service. Cheap to clone.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("uid", &self.inner.uid)
            .finish_non_exhaustive()
    }
}

impl Registry {
    pub fn new(db: Db, blobs: BlobStore, config: RegistryConfig) -> Registry {
        // The render cache budget is split between rendered documents and finished responses.
        let render_half = config.caches.render_bytes / 2;
        Registry {
            inner: Arc::new(Inner {
                db,
                blobs,
                renderer: Renderer::with_limits(render_half, config.render_limits),
                caches: cache::Caches::new(CacheBounds {
                    catalog_bytes: config.caches.catalog_bytes,
                    render_bytes: render_half,
                }),
                access: config.access,
                uid: config.uid,
                name: config.name,
                render_permits: Arc::new(Semaphore::new(config.render_permits.max(1))),
                render_queue_timeout: config.render_queue_timeout,
                publish_permits: Arc::new(Semaphore::new(config.publish_permits.max(1))),
                max_blob_size: config.max_blob_size,
                max_pack_size: config.max_pack_size,
                oci_config: config.oci,
                oci: oci::OciState::default(),
                token_key: tokio::sync::OnceCell::new(),
                blocking: tokio::runtime::Handle::try_current().ok(),
            }),
        }
    }

    /// Runs blocking work (renders, archive reads, password checks) on the blocking pool of the
    /// runtime the registry was opened on, whichever HTTP worker thread asks: one pool whose threads
    /// (and their allocator heaps) are shared, instead of one pool per worker.
    pub(crate) fn spawn_blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> tokio::task::JoinHandle<T> {
        match &self.inner.blocking {
            Some(runtime) => runtime.spawn_blocking(work),
            None => tokio::task::spawn_blocking(work),
        }
    }

    /// This registry's uid (Palette's `registryUid`).
    pub fn uid(&self) -> &str {
        &self.inner.uid
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Refuses a registry uid that is not this registry's.
    pub fn check_uid(&self, asked: &str) -> Result<(), RegistryError> {
        if asked == self.inner.uid {
            return Ok(());
        }
        Err(RegistryError::RegistryUnknown {
            asked: asked.to_owned(),
            ours: self.inner.uid.clone(),
        })
    }

    pub fn max_blob_size(&self) -> u64 {
        self.inner.max_blob_size
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), RegistryError> {
        Ok(self.inner.db.ping().await?)
    }

    /// Bytes each cache holds now, by name.
    pub fn cache_sizes(&self) -> Vec<(&'static str, u64)> {
        self.inner.caches.sizes(&self.inner.renderer)
    }

    /// The database pools' sizes and idle counts, by pool name, and how many generation queries
    /// validated caches (for `/metrics`).
    pub fn pool_stats(&self) -> PoolStats {
        let db = &self.inner.db;
        let reader = db.reader();
        let pools = match db.backend() {
            // One shared pool.
            Backend::Postgres => vec![("postgres", reader.size(), reader.num_idle())],
            Backend::Sqlite => {
                let writer = db.writer();
                vec![
                    ("sqlite_reader", reader.size(), reader.num_idle()),
                    ("sqlite_writer", writer.size(), writer.num_idle()),
                ]
            }
        };
        PoolStats {
            pools,
            generation_queries: db.registry_generation_queries(),
        }
    }

    /// Closes the database pools (a local tool's last step).
    pub async fn close(&self) {
        self.inner.db.close().await;
    }

    /// Every version of `pack`, oldest first; unknown packs are an error.
    pub async fn versions(&self, pack: &PackName) -> Result<Arc<Vec<VersionRow>>, RegistryError> {
        let rows = self
            .inner
            .caches
            .pack_rows
            .get(&self.inner.db, pack)
            .await?;
        if rows.is_empty() {
            return Err(RegistryError::PackUnknown(pack.clone()));
        }
        Ok(rows)
    }

    /// The version `tag` of `pack` resolves to.
    pub async fn resolve(&self, pack: &PackName, tag: &str) -> Result<VersionRow, RegistryError> {
        let rows = self.versions(pack).await?;
        Ok(tags::resolve(pack, &rows, tag)?.clone())
    }

    /// The version `tag` resolves to, loaded for rendering.
    pub async fn load(
        &self,
        pack: &PackName,
        tag: &str,
    ) -> Result<(VersionRow, Arc<LoadedVersion>), RegistryError> {
        let row = self.resolve(pack, tag).await?;
        let loaded = self
            .inner
            .caches
            .versions
            .load(&self.inner.db, &row)
            .await?;
        if loaded.charts_loaded() {
            return Ok((row, loaded));
        }
        let loaded = self.with_charts(&row, loaded).await?;
        Ok((row, loaded))
    }

    /// The version with its chart archives read from the blob store and loaded (on the blocking
    /// pool: unpacking is CPU work), cached with it.
    async fn with_charts(
        &self,
        row: &VersionRow,
        loaded: Arc<LoadedVersion>,
    ) -> Result<Arc<LoadedVersion>, RegistryError> {
        let blobs = versions::list_version_blobs(self.inner.db.reader(), &row.uid).await?;
        let mut archives = Vec::with_capacity(loaded.pack.charts.len());
        for info in &loaded.pack.charts {
            let blob = blobs
                .iter()
                .find(|b| b.role == "chart" && b.path == info.path);
            let bytes = match blob {
                Some(blob) => Some(
                    self.inner
                        .blobs
                        .read_whole(
                            &blob.digest,
                            crate::store::blobs::Span {
                                start: 0,
                                len: blob.size,
                            },
                        )
                        .await
                        .map_err(|e| RegistryError::Corrupt(format!("chart {}: {e}", info.path)))?,
                ),
                None => None,
            };
            archives.push((info.clone(), bytes));
        }
        let mut version = (*loaded).clone();
        let version = self
            .spawn_blocking(move || {
                version.charts = archives
                    .into_iter()
                    .map(|(info, bytes)| match bytes {
                        Some(bytes) => LoadedChart::from_archive(info, &bytes),
                        None => LoadedChart::missing(info),
                    })
                    .collect();
                Arc::new(version)
            })
            .await
            .map_err(|e| RegistryError::Corrupt(format!("loading charts: {e}")))?;
        self.inner
            .caches
            .versions
            .replace(row.uid.clone(), version.clone());
        Ok(version)
    }

    /// A version by uid (deleted versions are not found).
    pub async fn version_by_uid(&self, uid: &str) -> Result<VersionRow, RegistryError> {
        versions::find_by_uid(self.inner.db.reader(), uid)
            .await?
            .filter(|row| row.state != crate::domain::PackState::Deleted)
            .ok_or_else(|| RegistryError::UidUnknown(uid.to_owned()))
    }

    /// A version's stored document.
    pub async fn document(&self, row: &VersionRow) -> Result<Pack, RegistryError> {
        versions::load_document(self.inner.db.reader(), &row.uid)
            .await?
            .ok_or_else(|| RegistryError::Corrupt(format!("version {} has no document", row.uid)))
    }

    /// The blobs a version references (archive, logo, charts), with their sizes.
    pub async fn version_blobs(&self, row: &VersionRow) -> Result<Vec<VersionBlob>, RegistryError> {
        Ok(versions::list_version_blobs(self.inner.db.reader(), &row.uid).await?)
    }

    /// A version's history, oldest first.
    pub async fn events(
        &self,
        pack: &PackName,
        version: &Version,
    ) -> Result<Vec<StoredEvent>, RegistryError> {
        Ok(versions::list_events(self.inner.db.reader(), pack, version).await?)
    }

    fn written(&self, pack: &PackName) {
        self.inner.caches.pack_written(pack);
    }
}

/// Database pool figures for `/metrics`.
#[derive(Debug, Clone)]
pub struct PoolStats {
    /// (pool, size, idle).
    pub pools: Vec<(&'static str, u32, usize)>,
    pub generation_queries: u64,
}

/// A version's uid: 24 hex characters (the shape of Palette's uids) derived from its identity and
/// content, so the same content always has the same uid and a forced replace gets a new one.
pub fn version_uid(name: &PackName, version: &Version, digest: &Digest) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"packyard-pack-version\0");
    hasher.update(name.as_str().as_bytes());
    hasher.update(b"\0");
    hasher.update(version.as_str().as_bytes());
    hasher.update(b"\0");
    hasher.update(digest.to_string().as_bytes());
    hex::encode(&hasher.finalize()[..12])
}

/// Ends every write that changes a pack's versions or their states, inside its transaction:
/// recomputes `packs.latest_uid` from the listed versions and bumps the change counters that
/// replicas validate their caches against.
pub(crate) async fn record_pack_change(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    pack: &PackName,
) -> Result<(), sqlx::Error> {
    // Bumping the pack's counter first takes its row lock, which serialises concurrent writers of
    // this pack on PostgreSQL (SQLite has one writer anyway). Under READ COMMITTED the listing
    // below then sees what an earlier writer committed. Listed before the lock, a write could
    // compute `latest` from versions another writer was replacing, and leave it dangling.
    generations::bump_pack(transaction, pack).await?;
    let rows = versions::list_for_pack(&mut **transaction, pack).await?;
    let listed: Vec<&VersionRow> = rows.iter().filter(|row| row.state.is_listed()).collect();
    let latest = TagRef::Latest
        .resolve(listed.iter().map(|row| &row.version))
        .and_then(|newest| listed.iter().find(|row| &row.version == newest))
        .map(|row| row.uid.as_str());
    versions::set_latest(&mut **transaction, pack, latest).await?;
    // Last, so the registry-wide row is locked for as short a time as possible.
    generations::bump_registry(transaction).await
}
