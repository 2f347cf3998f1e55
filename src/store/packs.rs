//! Database rows about packs (repositories) as a whole.

use sqlx::{Any, Executor, Row};

use super::now_millis;
use crate::domain::PackName;

/// Creates the pack's row if it does not exist yet.
pub async fn ensure_pack<'e>(
    executor: impl Executor<'e, Database = Any>,
    pack: &PackName,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO packs (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(pack.as_str())
    .bind(now_millis())
    .execute(executor)
    .await?;
    Ok(())
}

/// Pack names in byte order, strictly after `after`, at most `limit` of them.
pub async fn list_pack_names<'e>(
    executor: impl Executor<'e, Database = Any>,
    after: Option<&PackName>,
    limit: u32,
) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query("SELECT name FROM packs WHERE name > $1 ORDER BY name LIMIT $2")
        .bind(after.map_or("", PackName::as_str))
        .bind(i64::from(limit))
        .fetch_all(executor)
        .await?;
    rows.into_iter().map(|row| row.try_get(0)).collect()
}
