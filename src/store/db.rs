//! The database handle: SQLite (a single writer connection plus a pool of readers, WAL, foreign keys,
//! busy timeout) or PostgreSQL (one pool), both reached through sqlx's `Any` driver so every query is
//! written once.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Any, AnyPool, ConnectOptions, Executor, Transaction};

use super::generations::RegistryGenerationReads;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// How long a connection waits for SQLite's write lock (held by another process, such as
/// `packyard gc`) before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL scheme (expected sqlite: or postgres:)")]
    UnsupportedUrl,
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// A cheap-to-clone handle on the database. Writes go through [`Db::writer`] (one connection on
/// SQLite, so writers queue instead of failing with "database is locked"); reads through
/// [`Db::reader`].
#[derive(Clone, Debug)]
pub struct Db {
    backend: Backend,
    writer: AnyPool,
    reader: AnyPool,
    /// Coalesced fresh reads of the registry's change counter (see `generations`).
    registry_generation: Arc<RegistryGenerationReads>,
}

/// The SQLite URL for a database file, with the path escaped the way sqlx expects.
pub fn sqlite_url(path: &Path) -> String {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .to_url_lossy()
        .to_string()
}

impl Db {
    /// Connects to `url` (`sqlite:...` or `postgres://...`). Does not run migrations.
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(DbError::UnsupportedUrl);
        };
        let options = AnyConnectOptions::from_str(url)?;
        match backend {
            Backend::Sqlite => {
                let writer = sqlite_pool(1, true).connect_with(options.clone()).await?;
                let reader = sqlite_pool(reader_count(), false)
                    .connect_with(options)
                    .await?;
                Ok(Db {
                    backend,
                    writer,
                    reader,
                    registry_generation: Arc::default(),
                })
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with(options)
                    .await?;
                Ok(Db {
                    backend,
                    writer: pool.clone(),
                    reader: pool,
                    registry_generation: Arc::default(),
                })
            }
        }
    }

    /// Applies pending migrations. On PostgreSQL sqlx holds an advisory lock meanwhile, so replicas
    /// starting together migrate once.
    pub async fn migrate(&self) -> Result<(), DbError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.writer).await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn reader(&self) -> &AnyPool {
        &self.reader
    }

    pub fn writer(&self) -> &AnyPool {
        &self.writer
    }

    /// The registry's change counter, read by a query that started after this call (shared with
    /// concurrent callers): what replicas validate their caches against.
    pub async fn registry_generation(&self) -> Result<i64, sqlx::Error> {
        self.registry_generation.read(self).await
    }

    /// How many queries [`Db::registry_generation`] has run.
    pub fn registry_generation_queries(&self) -> u64 {
        self.registry_generation.queries()
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`), so a
    /// transaction never fails half-way when it upgrades from reading to writing.
    pub async fn begin(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.writer.begin().await,
        }
    }

    /// Answers whether the database responds to a trivial query.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        self.reader.execute("SELECT 1").await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}

fn reader_count() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    u32::try_from(cores.max(2) * 2).unwrap_or(8)
}

fn sqlite_pool(max_connections: u32, is_writer: bool) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max_connections)
        .min_connections(1)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .after_connect(move |connection, _meta| {
            Box::pin(async move {
                // synchronous=FULL: an acknowledged publish survives power loss, not only a crash.
                let busy = format!(
                    "PRAGMA busy_timeout = {}; PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;",
                    SQLITE_BUSY_TIMEOUT.as_millis()
                );
                connection.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(busy))).await?;
                if is_writer {
                    connection.execute("PRAGMA journal_mode = WAL").await?;
                }
                Ok(())
            })
        })
}
