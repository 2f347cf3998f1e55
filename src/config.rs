//! Settings from flags and environment variables: one struct per command, parsed by clap.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use sha2::{Digest as _, Sha256};

use crate::store::db::sqlite_url;

/// Default largest blob an upload may store: 16 GiB.
pub const DEFAULT_MAX_BLOB_SIZE: u64 = 16 << 30;
/// Default size of the catalog response cache: 128 MiB.
pub const DEFAULT_CATALOG_CACHE_BYTES: u64 = 128 << 20;
/// Default size of the render output cache: 256 MiB.
pub const DEFAULT_RENDER_CACHE_BYTES: u64 = 256 << 20;
/// Default largest pack archive a publish may upload: 128 MiB.
pub const DEFAULT_MAX_PACK_SIZE: u64 = 128 << 20;
/// Default budget of one render, in bytes: 32 MiB.
pub const DEFAULT_RENDER_MAX_OUTPUT_BYTES: u64 = 32 << 20;
/// An OCI upload session expires a day after its last request.
pub const DEFAULT_UPLOAD_SESSION_TTL_SECS: u64 = 24 * 3600;
/// Open OCI upload sessions one credential may hold by default.
pub const DEFAULT_MAX_UPLOAD_SESSIONS: u64 = 100;
/// Bytes open OCI upload sessions may hold in all by default.
pub const DEFAULT_MAX_STAGED_BYTES: u64 = 64 << 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where the registry keeps its data. Shared by every command that opens the registry.
#[derive(Debug, Clone, Args)]
pub struct StorageConfig {
    /// Directory for blobs and the default SQLite database.
    #[arg(
        long,
        env = "PACKYARD_DATA_DIR",
        default_value = "./data",
        global = true
    )]
    pub data_dir: PathBuf,

    /// Database URL: `sqlite:<path>` or `postgres://user:password@host/db`.
    /// Default: SQLite at `<data-dir>/packyard.db`.
    #[arg(
        long,
        env = "PACKYARD_DATABASE_URL",
        hide_env_values = true,
        global = true
    )]
    pub database_url: Option<String>,

    /// Where blobs live: `file://<dir>` (default: `<data-dir>/blobs`) or `s3://<bucket>/<prefix>`
    /// for any S3-compatible service, configured by the standard `AWS_*` variables.
    #[arg(long, env = "PACKYARD_BLOB_STORE", global = true)]
    pub blob_store: Option<String>,

    /// Endpoint of a non-AWS S3-compatible service (`http://127.0.0.1:9000`, ...).
    #[arg(long, env = "PACKYARD_S3_ENDPOINT", global = true)]
    pub s3_endpoint: Option<String>,
}

impl StorageConfig {
    pub fn for_data_dir(data_dir: impl Into<PathBuf>) -> StorageConfig {
        StorageConfig {
            data_dir: data_dir.into(),
            database_url: None,
            blob_store: None,
            s3_endpoint: None,
        }
    }

    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => sqlite_url(&self.data_dir.join("packyard.db")),
        }
    }

    pub fn blobs_dir(&self) -> PathBuf {
        self.data_dir.join("blobs")
    }
}

/// Settings of `packyard serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on.
    #[arg(long, env = "PACKYARD_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    #[command(flatten)]
    pub storage: StorageConfig,

    /// Bearer token allowed to write. Without one, every write is refused.
    #[arg(long, env = "PACKYARD_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,

    /// The uid this registry reports in Palette-shaped responses.
    /// Default: derived from the data directory's absolute path (stable across restarts).
    #[arg(long, env = "PACKYARD_REGISTRY_UID")]
    pub registry_uid: Option<String>,

    /// The name this registry reports in Palette-shaped responses.
    #[arg(long, env = "PACKYARD_REGISTRY_NAME", default_value = "packyard")]
    pub registry_name: String,

    /// Largest blob an upload may store, in bytes.
    #[arg(long, env = "PACKYARD_MAX_BLOB_SIZE", default_value_t = DEFAULT_MAX_BLOB_SIZE)]
    pub max_blob_size: u64,

    /// Largest pack archive (`POST /v1/packs`) an upload may send, in bytes.
    #[arg(long, env = "PACKYARD_MAX_PACK_SIZE", default_value_t = DEFAULT_MAX_PACK_SIZE)]
    pub max_pack_size: u64,

    /// Seconds an OCI upload session lives after its last request; `gc` removes expired ones.
    #[arg(long, env = "PACKYARD_UPLOAD_SESSION_TTL_SECS", default_value_t = DEFAULT_UPLOAD_SESSION_TTL_SECS)]
    pub upload_session_ttl_secs: u64,

    /// OCI upload sessions one credential may hold open at once; beyond it, 429 TOOMANYREQUESTS.
    #[arg(long, env = "PACKYARD_MAX_UPLOAD_SESSIONS", default_value_t = DEFAULT_MAX_UPLOAD_SESSIONS)]
    pub max_upload_sessions: u64,

    /// Bytes all open OCI upload sessions may hold together (staged, not yet a blob); a chunk that
    /// would go beyond is refused with 429 TOOMANYREQUESTS.
    #[arg(long, env = "PACKYARD_MAX_STAGED_BYTES", default_value_t = DEFAULT_MAX_STAGED_BYTES)]
    pub max_staged_bytes: u64,

    /// A PEM certificate (chain) to serve HTTPS with (HTTP/2 and HTTP/1.1 by ALPN); with
    /// --tls-key. Both files are re-read when they change, so certificates rotate without a
    /// restart.
    #[arg(long, env = "PACKYARD_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The PEM private key of --tls-cert.
    #[arg(long, env = "PACKYARD_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Where packs live in Palette's OCI layout: `<prefix>/spectro-packs/archive/<name>:<version>`
    /// (empty: `spectro-packs/archive/<name>`), as Palette's OCI pack registries' base path.
    #[arg(long, env = "PACKYARD_OCI_PACK_PREFIX", default_value = "")]
    pub oci_pack_prefix: String,

    /// Publishes every pack folder in this directory at start-up (idempotently). A missing
    /// directory is skipped.
    #[arg(long, env = "PACKYARD_PACKS_DIR", default_value = "./packs")]
    pub packs_dir: PathBuf,

    /// Bytes of rendered output kept for identical render requests; 0 disables the cache.
    #[arg(long, env = "PACKYARD_RENDER_CACHE_BYTES", default_value_t = DEFAULT_RENDER_CACHE_BYTES)]
    pub render_cache_bytes: u64,

    /// Bytes of finished catalog responses (tag entities, lists, searches) kept between writes;
    /// 0 disables the cache.
    #[arg(long, env = "PACKYARD_CATALOG_CACHE_BYTES", default_value_t = DEFAULT_CATALOG_CACHE_BYTES)]
    pub catalog_cache_bytes: u64,

    /// Renders at most this many at once (0: twice the number of cores); others wait.
    #[arg(long, env = "PACKYARD_RENDER_CONCURRENCY", default_value_t = 0)]
    pub render_concurrency: usize,

    /// Render strictly by default: any missing key is an error (`?strict=false` to relax).
    #[arg(long, env = "PACKYARD_STRICT")]
    pub strict: bool,

    /// An htpasswd file (bcrypt) of HTTP Basic users; they get the write scope.
    #[arg(long, env = "PACKYARD_HTPASSWD")]
    pub htpasswd: Option<PathBuf>,

    /// The packs each htpasswd user may write: lines `user: cni-*,team-*` (comma-separated
    /// globs). Users without a line may write every pack.
    #[arg(long, env = "PACKYARD_HTPASSWD_PACKS")]
    pub htpasswd_packs: Option<PathBuf>,

    /// Reads need credentials with the read scope (every route but /health).
    #[arg(long, env = "PACKYARD_PRIVATE")]
    pub private: bool,

    /// Publishes (`POST /v1/packs`) running at once at most; beyond it, 503 with Retry-After.
    #[arg(long, env = "PACKYARD_MAX_CONCURRENT_PUBLISHES", default_value_t = 2)]
    pub max_concurrent_publishes: usize,

    /// Requests in flight at most; beyond it, 503 with Retry-After.
    #[arg(long, env = "PACKYARD_MAX_CONCURRENT_REQUESTS", default_value_t = 1024)]
    pub max_concurrent_requests: usize,

    /// Threads that serve HTTP connections, each an event loop with its own listening socket on the
    /// address (SO_REUSEPORT). Default: one per core.
    #[arg(long, env = "PACKYARD_HTTP_WORKERS", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub http_workers: Option<u16>,

    /// Seconds a client has to send complete request headers; a connection with no request in
    /// flight (HTTP/1.1 keep-alive or HTTP/2) is closed after the same time.
    #[arg(long, env = "PACKYARD_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,

    /// Connections the server holds open at most (HTTP/1.1 and HTTP/2, plain and TLS). At the cap
    /// a new connection closes the one idle longest, or is refused when none is idle. Default:
    /// three quarters of the open-file limit, at most 16384.
    #[arg(long, env = "PACKYARD_MAX_CONNECTIONS", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: Option<u32>,

    /// Seconds a response may make no progress (the client reads nothing) before the connection is
    /// dropped and its request slot released.
    #[arg(long, env = "PACKYARD_SEND_TIMEOUT_SECS", default_value_t = 30)]
    pub send_timeout_secs: u64,

    /// Seconds a request may take, uploads excepted (they are bounded by --min-body-rate).
    #[arg(long, env = "PACKYARD_REQUEST_TIMEOUT_SECS", default_value_t = 60)]
    pub request_timeout_secs: u64,

    /// Bytes per second an upload must average after --slow-body-grace-secs, or it is cut off.
    #[arg(long, env = "PACKYARD_MIN_BODY_RATE", default_value_t = 1024)]
    pub min_body_rate: u64,

    /// Seconds before the upload rate is enforced (and the longest pause between body chunks).
    #[arg(long, env = "PACKYARD_SLOW_BODY_GRACE_SECS", default_value_t = 10)]
    pub slow_body_grace_secs: u64,

    /// Seconds a render waits for a slot before 503.
    #[arg(long, env = "PACKYARD_RENDER_QUEUE_TIMEOUT_SECS", default_value_t = 10)]
    pub render_queue_timeout_secs: u64,

    /// Bytes one render may produce: its output and every value its functions build (each
    /// charged before it is allocated). Beyond it, 422 RENDER_LIMIT.
    #[arg(long, env = "PACKYARD_RENDER_MAX_OUTPUT_BYTES", default_value_t = DEFAULT_RENDER_MAX_OUTPUT_BYTES)]
    pub render_max_output_bytes: u64,

    /// Seconds one render may run (checked inside execution); beyond it, 422 RENDER_LIMIT and the
    /// work stops.
    #[arg(long, env = "PACKYARD_RENDER_TIMEOUT_SECS", default_value_t = 10)]
    pub render_timeout_secs: u64,

    /// Origins whose browser pages may read the catalog API (read-only routes), comma-separated,
    /// such as https://tools.example.com; `*` allows any origin. Default: none (same origin only).
    #[arg(long, env = "PACKYARD_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// Fault injection for tests: every publish pauses this long between storing its blobs and
    /// recording its version (the window a concurrent gc must respect). 0: off.
    #[cfg(feature = "fault-injection")]
    #[arg(long, hide = true, default_value_t = 0)]
    pub fault_publish_pause_ms: u64,
}

/// Bounds on every request, fixed at start-up.
#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    pub request_timeout: std::time::Duration,
    /// Below this average rate (bytes/s) after `slow_body_grace`, an upload is cut off.
    pub min_body_rate: u64,
    pub slow_body_grace: std::time::Duration,
}

impl ServeConfig {
    /// A configuration with every default, for the given data directory (used by tests and tools).
    pub fn for_data_dir(data_dir: impl Into<PathBuf>) -> ServeConfig {
        ServeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            storage: StorageConfig::for_data_dir(data_dir),
            admin_token: None,
            registry_uid: None,
            registry_name: "packyard".to_owned(),
            max_blob_size: DEFAULT_MAX_BLOB_SIZE,
            max_pack_size: DEFAULT_MAX_PACK_SIZE,
            upload_session_ttl_secs: DEFAULT_UPLOAD_SESSION_TTL_SECS,
            max_upload_sessions: DEFAULT_MAX_UPLOAD_SESSIONS,
            max_staged_bytes: DEFAULT_MAX_STAGED_BYTES,
            oci_pack_prefix: String::new(),
            tls_cert: None,
            tls_key: None,
            packs_dir: PathBuf::from("./packs"),
            render_cache_bytes: DEFAULT_RENDER_CACHE_BYTES,
            catalog_cache_bytes: DEFAULT_CATALOG_CACHE_BYTES,
            render_concurrency: 0,
            strict: false,
            htpasswd: None,
            htpasswd_packs: None,
            private: false,
            max_concurrent_requests: 1024,
            max_concurrent_publishes: 2,
            http_workers: None,
            header_timeout_secs: 10,
            max_connections: None,
            send_timeout_secs: 30,
            request_timeout_secs: 60,
            min_body_rate: 1024,
            slow_body_grace_secs: 10,
            render_queue_timeout_secs: 10,
            render_max_output_bytes: DEFAULT_RENDER_MAX_OUTPUT_BYTES,
            render_timeout_secs: 10,
            cors_origins: Vec::new(),
            #[cfg(feature = "fault-injection")]
            fault_publish_pause_ms: 0,
        }
    }

    /// The request limits, from the flags.
    pub fn limits(&self) -> RequestLimits {
        use std::time::Duration;
        RequestLimits {
            request_timeout: Duration::from_secs(self.request_timeout_secs.max(1)),
            min_body_rate: self.min_body_rate,
            slow_body_grace: Duration::from_secs(self.slow_body_grace_secs.max(1)),
        }
    }

    /// The budget of one render.
    pub fn render_limits(&self) -> crate::render::gotemplate::Limits {
        crate::render::gotemplate::Limits {
            max_bytes: self.render_max_output_bytes.max(1),
            timeout: std::time::Duration::from_secs(self.render_timeout_secs.max(1)),
        }
    }

    /// How many renders may run at once.
    pub fn render_permits(&self) -> usize {
        if self.render_concurrency > 0 {
            return self.render_concurrency;
        }
        std::thread::available_parallelism().map_or(2, |n| n.get()) * 2
    }

    pub fn registry_uid(&self) -> String {
        match &self.registry_uid {
            Some(uid) => uid.clone(),
            None => derived_registry_uid(&self.storage.data_dir),
        }
    }
}

/// 24 hex characters (the shape of Palette's uids) derived from the data directory's absolute path.
fn derived_registry_uid(data_dir: &Path) -> String {
    let absolute = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    let hash = Sha256::digest(absolute.as_os_str().as_encoded_bytes());
    hex::encode(&hash[..12])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_registry_uid_is_stable_and_palette_shaped() {
        let a = derived_registry_uid(Path::new("/srv/packyard"));
        assert_eq!(a, derived_registry_uid(Path::new("/srv/packyard")));
        assert_ne!(a, derived_registry_uid(Path::new("/srv/other")));
        assert_eq!(a.len(), 24);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn default_database_is_sqlite_in_the_data_dir() {
        let url = StorageConfig::for_data_dir("/srv/my data").database_url();
        assert!(url.starts_with("sqlite://"), "{url}");
        assert!(url.contains("packyard.db"), "{url}");
    }
}
