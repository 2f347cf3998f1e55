//! Opening a registry from its configuration: data directory, database (migrated), blob store.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::{AdminToken, Htpasswd, UserPacks};
use crate::config::{ServeConfig, StorageConfig};
use crate::http::{AppState, Settings};
use crate::registry::oci::OciConfig;
use crate::registry::publish::PublishStatus;
use crate::registry::{AccessConfig, CacheBounds, Registry, RegistryConfig};
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
    #[error("{0}")]
    Tls(#[from] crate::tls::TlsError),
    #[error("--oci-pack-prefix {0:?} is not a repository path: {1}")]
    OciPackPrefix(String, crate::domain::OciNameError),
    #[error("the template function library is broken: {0}")]
    Functions(String),
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

/// The registry `serve` (and the local command line) runs on.
pub fn registry_config(config: &ServeConfig) -> Result<RegistryConfig, StartupError> {
    let access = AccessConfig {
        admin_token: config.admin_token.as_deref().map(AdminToken::new),
        htpasswd: match &config.htpasswd {
            Some(path) => Some(Arc::new(
                Htpasswd::load(path).map_err(StartupError::Htpasswd)?,
            )),
            None => None,
        },
        user_packs: match &config.htpasswd_packs {
            Some(path) => UserPacks::load(path).map_err(StartupError::Htpasswd)?,
            None => UserPacks::default(),
        },
    };
    Ok(RegistryConfig {
        uid: config.registry_uid(),
        name: config.registry_name.clone(),
        access,
        caches: CacheBounds {
            catalog_bytes: config.catalog_cache_bytes,
            render_bytes: config.render_cache_bytes,
        },
        render_limits: config.render_limits(),
        render_permits: config.render_permits(),
        render_queue_timeout: Duration::from_secs(config.render_queue_timeout_secs),
        publish_permits: config.max_concurrent_publishes,
        max_blob_size: config.max_blob_size,
        max_pack_size: config.max_pack_size,
        oci: OciConfig {
            upload_session_ttl: Duration::from_secs(config.upload_session_ttl_secs),
            pack_prefix: oci_pack_prefix(&config.oci_pack_prefix)?,
            max_upload_sessions: config.max_upload_sessions,
            max_staged_bytes: config.max_staged_bytes,
        },
    })
}

/// The prefix of packs' repositories: empty, or a repository path itself.
fn oci_pack_prefix(text: &str) -> Result<String, StartupError> {
    let prefix = text.trim_matches('/');
    if !prefix.is_empty() {
        prefix
            .parse::<crate::domain::RepositoryName>()
            .map_err(|e| StartupError::OciPackPrefix(text.to_owned(), e))?;
    }
    Ok(prefix.to_owned())
}

/// Opens everything `serve` needs and returns the state the router runs on.
pub async fn open(config: &ServeConfig) -> Result<AppState, StartupError> {
    let (db, blobs) = open_storage(&config.storage).await?;
    // Only a starting server may take the staging area's files for a crash's leftovers.
    blobs
        .clear_stale_uploads()
        .await
        .map_err(StartupError::BlobStore)?;
    open_on(config, db, blobs)
}

/// The state the router runs on, over storage already open.
pub fn open_on(config: &ServeConfig, db: Db, blobs: BlobStore) -> Result<AppState, StartupError> {
    crate::registry::rendering::check_functions()
        .map_err(|e| StartupError::Functions(e.to_string()))?;
    let registry = Registry::new(db, blobs, registry_config(config)?);
    let settings = Settings {
        private: config.private,
        limits: config.limits(),
        strict_by_default: config.strict,
        cors_origins: config.cors_origins.clone(),
    };
    Ok(AppState::new(
        registry,
        settings,
        config.max_concurrent_requests,
    ))
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
pub async fn load_packs_dir(registry: &Registry, dir: &std::path::Path) {
    if !dir.is_dir() {
        tracing::info!(packs_dir = %dir.display(), "no packs directory; nothing to load");
        return;
    }
    let outcomes = match registry.publish_dir(dir).await {
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
