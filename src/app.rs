//! Opening a registry from its configuration: data directory, database (migrated), blob store.

use std::sync::Arc;

use crate::auth::{AdminToken, Htpasswd};
use crate::config::{ServeConfig, StorageConfig};
use crate::http::{AppState, Settings};
use crate::registry::loader::VersionCache;
use crate::render::pipeline::Renderer;
use crate::store::blobs::BlobStore;
use crate::store::db::{Db, DbError};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot open the database: {0}")]
    Database(#[from] DbError),
    #[error("cannot open the blob store: {0}")]
    BlobStore(std::io::Error),
    #[error("--blob-store {0:?}: expected file://<dir> or s3://<bucket>/<prefix>")]
    BlobStoreLocation(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("server failed: {0}")]
    Serve(std::io::Error),
    #[error("{0}")]
    Htpasswd(crate::auth::HtpasswdError),
}

/// Opens the data directory, the database (migrated) and the blob store.
pub async fn open_storage(storage: &StorageConfig) -> Result<(Db, BlobStore), StartupError> {
    tokio::fs::create_dir_all(&storage.data_dir)
        .await
        .map_err(|source| StartupError::DataDir {
            path: storage.data_dir.display().to_string(),
            source,
        })?;
    let db = Db::connect(&storage.database_url()).await?;
    db.migrate().await?;
    let blobs = open_blob_store(storage).await?;
    Ok((db, blobs))
}

/// The blob store `--blob-store` names. Uploads are staged under `<data-dir>/blobs` either way.
pub async fn open_blob_store(storage: &StorageConfig) -> Result<BlobStore, StartupError> {
    let location = storage.blob_store.as_deref().unwrap_or_default().trim();
    if location.is_empty() {
        return BlobStore::open(storage.blobs_dir())
            .await
            .map_err(StartupError::BlobStore);
    }
    if let Some(dir) = location.strip_prefix("file://") {
        return BlobStore::open(dir).await.map_err(StartupError::BlobStore);
    }
    let Some(rest) = location.strip_prefix("s3://") else {
        return Err(StartupError::BlobStoreLocation(location.to_owned()));
    };
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(StartupError::BlobStoreLocation(location.to_owned()));
    }
    let mut builder = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
    // An empty value (a ConfigMap's placeholder) means AWS itself.
    if let Some(endpoint) = storage
        .s3_endpoint
        .as_deref()
        .filter(|e| !e.trim().is_empty())
    {
        builder = builder
            .with_endpoint(endpoint)
            .with_allow_http(endpoint.starts_with("http://"));
    }
    let store = builder
        .build()
        .map_err(|e| StartupError::BlobStore(std::io::Error::other(e)))?;
    BlobStore::open_object_store(storage.blobs_dir(), Arc::new(store), prefix)
        .await
        .map_err(StartupError::BlobStore)
}

/// Opens everything `serve` needs and returns the state the router runs on.
pub async fn open(config: &ServeConfig) -> Result<AppState, StartupError> {
    let (db, blobs) = open_storage(&config.storage).await?;
    let settings = Settings {
        registry_uid: config.registry_uid(),
        registry_name: config.registry_name.clone(),
        admin_token: config.admin_token.as_deref().map(AdminToken::new),
        htpasswd: match &config.htpasswd {
            Some(path) => Some(Arc::new(
                Htpasswd::load(path).map_err(StartupError::Htpasswd)?,
            )),
            None => None,
        },
        user_packs: match &config.htpasswd_packs {
            Some(path) => crate::auth::UserPacks::load(path).map_err(StartupError::Htpasswd)?,
            None => crate::auth::UserPacks::default(),
        },
        private: config.private,
        limits: config.limits(),
        max_blob_size: config.max_blob_size,
        max_pack_size: config.max_pack_size,
        strict_by_default: config.strict,
    };
    Ok(AppState {
        db,
        blobs,
        blob_cache: Arc::new(crate::store::blob_cache::BlobCache::new()),
        settings: Arc::new(settings),
        // The cache budget is split between rendered documents and finished responses.
        renderer: Arc::new(Renderer::with_limits(
            config.render_cache_bytes / 2,
            config.render_limits(),
        )),
        catalog: Arc::new(crate::http::catalog_cache::CatalogCache::new(
            config.catalog_cache_bytes,
        )),
        render_responses: Arc::new(crate::http::render_cache::RenderResponseCache::new(
            config.render_cache_bytes / 2,
        )),
        versions: Arc::new(VersionCache::new(
            crate::registry::loader::VERSION_CACHE_BYTES,
        )),
        pack_rows: Arc::new(crate::registry::loader::PackRowsCache::new(
            crate::registry::loader::PACK_ROWS_CACHE_BYTES,
        )),
        render_permits: Arc::new(tokio::sync::Semaphore::new(config.render_permits())),
        request_permits: Arc::new(tokio::sync::Semaphore::new(
            config.max_concurrent_requests.max(1),
        )),
        publish_permits: Arc::new(tokio::sync::Semaphore::new(
            config.max_concurrent_publishes.max(1),
        )),
        credentials: Arc::new(crate::http::auth::CredentialCache::default()),
        metrics: Arc::new(crate::http::metrics::Metrics::default()),
    })
}

/// `packyard migrate`: apply migrations and exit.
pub async fn migrate(storage: &StorageConfig) -> Result<(), StartupError> {
    let (db, _) = open_storage(storage).await?;
    db.close().await;
    tracing::info!("database is up to date");
    Ok(())
}

/// Publishes the pack folders of `dir` at start-up and logs one line per pack. A missing directory
/// is skipped; a pack that fails is logged and the others still load.
pub async fn load_packs_dir(state: &AppState, dir: &std::path::Path) {
    use crate::registry::folders;
    use crate::registry::publish::PublishStatus;

    if !dir.is_dir() {
        tracing::info!(packs_dir = %dir.display(), "no packs directory; nothing to load");
        return;
    }
    let outcomes = match folders::publish_dir(&state.db, &state.blobs, dir).await {
        Ok(outcomes) => outcomes,
        Err(error) => {
            tracing::error!(packs_dir = %dir.display(), %error, "cannot read the packs directory");
            return;
        }
    };
    for outcome in outcomes {
        let folder = outcome.folder.display().to_string();
        match outcome.result {
            Ok(published) => {
                state.pack_written(&published.name);
                let status = match published.status {
                    PublishStatus::Created => "published",
                    PublishStatus::Replaced => "replaced",
                    PublishStatus::Unchanged => "unchanged",
                };
                tracing::info!(%folder, pack = %published.name, version = %published.version, status, warnings = published.warnings.len(), "pack loaded");
            }
            Err(error) => tracing::error!(%folder, %error, "pack not loaded"),
        }
    }
}
