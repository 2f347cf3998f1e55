//! Change counters that let every replica validate its caches against the shared database. Each
//! write that changes a pack's versions (publish, forced replace, state change) bumps the pack's
//! generation and the registry's inside its own transaction, so the counters move exactly when the
//! rows do. PostgreSQL serialises the increments on their rows, so a counter read after a write's
//! acknowledgement is never older than that write: a cache entry tagged with the counter it was
//! read under is current exactly when the counter still has that value.

use sqlx::{Any, Executor, Row};

/// Bumps `pack`'s generation and the registry's (call inside the write's transaction).
pub async fn bump(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    pack: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE packs SET generation = generation + 1 WHERE name = $1")
        .bind(pack)
        .execute(&mut **transaction)
        .await?;
    sqlx::query("UPDATE registry_generation SET generation = generation + 1 WHERE id = 1")
        .execute(&mut **transaction)
        .await?;
    Ok(())
}

/// `pack`'s generation, or `None` when the pack has no row.
pub async fn of_pack<'e>(
    executor: impl Executor<'e, Database = Any>,
    pack: &str,
) -> Result<Option<i64>, sqlx::Error> {
    let row = sqlx::query("SELECT generation FROM packs WHERE name = $1")
        .bind(pack)
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
