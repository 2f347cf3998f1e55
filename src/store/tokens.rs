//! API tokens in the database: name, sha256, scope, revocation.

use sqlx::{Any, Executor, Row};

use super::now_millis;
use crate::auth::Scope;
use crate::domain::PackPatterns;

/// A token as listed (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenRecord {
    pub name: String,
    pub scope: Scope,
    /// The packs it may write (comma-separated globs).
    pub packs: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

fn scope_of(text: &str) -> Result<Scope, sqlx::Error> {
    text.parse()
        .map_err(|e: crate::auth::ScopeError| sqlx::Error::Decode(e.into()))
}

fn packs_of(text: &str) -> Result<PackPatterns, sqlx::Error> {
    text.parse()
        .map_err(|e: crate::domain::PackPatternsError| sqlx::Error::Decode(e.into()))
}

/// Stores a token's hash; false when the name is taken.
pub async fn create<'e>(
    executor: impl Executor<'e, Database = Any>,
    name: &str,
    hash: &str,
    scope: Scope,
    packs: &PackPatterns,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "INSERT INTO api_tokens (name, hash, scope, created_at, packs) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(hash)
    .bind(scope.as_str())
    .bind(now_millis())
    .bind(packs.to_string())
    .execute(executor)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// The name, scope and packs of the active token with this hash.
pub async fn find_active<'e>(
    executor: impl Executor<'e, Database = Any>,
    hash: &str,
) -> Result<Option<(String, Scope, PackPatterns)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT name, scope, packs FROM api_tokens WHERE hash = $1 AND revoked_at IS NULL",
    )
    .bind(hash)
    .fetch_optional(executor)
    .await?;
    row.map(|row| {
        let scope: String = row.try_get(1)?;
        let packs: String = row.try_get(2)?;
        Ok((row.try_get(0)?, scope_of(&scope)?, packs_of(&packs)?))
    })
    .transpose()
}

pub async fn list<'e>(
    executor: impl Executor<'e, Database = Any>,
) -> Result<Vec<TokenRecord>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT name, scope, created_at, revoked_at, packs FROM api_tokens ORDER BY name",
    )
    .fetch_all(executor)
    .await?;
    rows.iter()
        .map(|row| {
            let scope: String = row.try_get(1)?;
            Ok(TokenRecord {
                name: row.try_get(0)?,
                scope: scope_of(&scope)?,
                packs: row.try_get(4)?,
                created_at: row.try_get(2)?,
                revoked_at: row.try_get(3)?,
            })
        })
        .collect()
}

/// Revokes the named token; false when there is no active token of that name.
pub async fn revoke<'e>(
    executor: impl Executor<'e, Database = Any>,
    name: &str,
) -> Result<bool, sqlx::Error> {
    let result =
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL")
            .bind(now_millis())
            .bind(name)
            .execute(executor)
            .await?;
    Ok(result.rows_affected() == 1)
}
