//! Change counters that let every replica validate its caches against the shared database. Each
//! write that changes a pack's versions (publish, forced replace, state change) bumps the pack's
//! generation and the registry's inside its own transaction, so the counters move exactly when the
//! rows do. PostgreSQL serialises the increments on their rows, so a counter read after a write's
//! acknowledgement is never older than that write: a cache entry tagged with the counter it was
//! read under is current exactly when the counter still has that value.

use sqlx::{Any, Executor, Row};

use super::db::Db;
use crate::domain::PackName;

/// Bumps `pack`'s generation (inside the write's transaction; this locks the pack's row until the
/// transaction ends).
pub async fn bump_pack(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    pack: &PackName,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE packs SET generation = generation + 1 WHERE name = $1")
        .bind(pack.as_str())
        .execute(&mut **transaction)
        .await?;
    Ok(())
}

/// Bumps the registry's generation (inside the write's transaction, after `bump_pack`).
pub async fn bump_registry(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE registry_generation SET generation = generation + 1 WHERE id = 1")
        .execute(&mut **transaction)
        .await?;
    Ok(())
}

/// `pack`'s generation, or `None` when the pack has no row.
pub async fn of_pack<'e>(
    executor: impl Executor<'e, Database = Any>,
    pack: &PackName,
) -> Result<Option<i64>, sqlx::Error> {
    let row = sqlx::query("SELECT generation FROM packs WHERE name = $1")
        .bind(pack.as_str())
        .fetch_optional(executor)
        .await?;
    row.map(|row| row.try_get(0)).transpose()
}

/// The registry's generation: bumped by every write to any pack.
pub async fn of_registry<'e>(
    executor: impl Executor<'e, Database = Any>,
) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT generation FROM registry_generation WHERE id = 1")
        .fetch_one(executor)
        .await?
        .try_get(0)
}

/// Fresh reads of the registry's generation, shared between concurrent requests. A request needs a
/// value read by a query that started after the request did (so that it reflects every write
/// acknowledged before): it joins the next query to start, or starts one. Under load one query
/// serves every request that arrived while the previous one ran, the way a group commit serves
/// many writers with one flush. The query runs in its own task, so a request that goes away
/// mid-read never strands the others.
#[derive(Debug)]
pub struct RegistryGenerationReads {
    rounds: std::sync::Mutex<Rounds>,
    outcomes: tokio::sync::watch::Sender<Outcome>,
    /// Queries run so far (for `/metrics` and tests).
    queries: std::sync::atomic::AtomicU64,
}

#[derive(Debug, Default)]
struct Rounds {
    /// The number of the latest query started.
    started: u64,
    /// Whether that query is still running.
    running: bool,
}

#[derive(Debug, Clone)]
struct Outcome {
    /// The number of the query this came from (0: none yet).
    round: u64,
    generation: Result<i64, String>,
}

impl Default for RegistryGenerationReads {
    fn default() -> Self {
        RegistryGenerationReads {
            rounds: std::sync::Mutex::new(Rounds::default()),
            outcomes: tokio::sync::watch::Sender::new(Outcome {
                round: 0,
                generation: Ok(0),
            }),
            queries: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

impl RegistryGenerationReads {
    /// The registry's generation, read by a query that started after this call.
    pub async fn read(self: &std::sync::Arc<Self>, db: &Db) -> Result<i64, sqlx::Error> {
        let mut outcomes = self.outcomes.subscribe();
        let wanted = {
            let mut rounds = self.lock_rounds();
            if rounds.running {
                // The running query may have read before our caller's write: wait for the next.
                rounds.started + 1
            } else {
                self.start(&mut rounds, db)
            }
        };
        loop {
            {
                let outcome = outcomes.borrow_and_update();
                if outcome.round >= wanted {
                    return outcome.generation.clone().map_err(sqlx::Error::Protocol);
                }
            }
            {
                let mut rounds = self.lock_rounds();
                if !rounds.running && rounds.started < wanted {
                    self.start(&mut rounds, db);
                }
            }
            // The sender lives as long as `self`, which the caller holds.
            if outcomes.changed().await.is_err() {
                return Err(sqlx::Error::PoolClosed);
            }
        }
    }

    /// Queries run so far.
    pub fn queries(&self) -> u64 {
        self.queries.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn lock_rounds(&self) -> std::sync::MutexGuard<'_, Rounds> {
        // The lock guards two plain fields updated together; a panic cannot leave them torn.
        self.rounds
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts the next query in its own task; returns its round number.
    fn start(self: &std::sync::Arc<Self>, rounds: &mut Rounds, db: &Db) -> u64 {
        rounds.started += 1;
        rounds.running = true;
        let round = rounds.started;
        self.queries
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let reads = self.clone();
        let db = db.clone();
        tokio::spawn(async move {
            let generation = of_registry(db.reader())
                .await
                .map_err(|error| error.to_string());
            reads.lock_rounds().running = false;
            reads.outcomes.send_replace(Outcome { round, generation });
        });
        round
    }
}
