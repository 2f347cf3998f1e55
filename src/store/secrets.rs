//! Secrets a registry's replicas share, created once by whichever asks first.

use sqlx::Row;

use super::db::Db;
use super::now_millis;

/// The secret `name`; `fresh` is stored if there is none yet (a concurrent creator may win, and
/// then its value is the one every replica reads).
pub async fn get_or_create(db: &Db, name: &str, fresh: &str) -> Result<String, sqlx::Error> {
    sqlx::query(
        "INSERT INTO registry_secrets (name, value, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(fresh)
    .bind(now_millis())
    .execute(db.writer())
    .await?;
    let row = sqlx::query("SELECT value FROM registry_secrets WHERE name = $1")
        .bind(name)
        .fetch_one(db.writer())
        .await?;
    row.try_get(0)
}
