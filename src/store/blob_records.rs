//! Database rows about blobs: which blobs exist (digest, size, media type) and which packs
//! reference them.

use sqlx::{Any, Executor, Row};

use super::db::{Backend, Db};
use super::now_millis;
use crate::domain::{Digest, MediaType, PackName};

/// What the database knows about a stored blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRecord {
    pub digest: Digest,
    pub size: u64,
    pub media_type: Option<MediaType>,
}

fn size_to_db(size: u64) -> i64 {
    i64::try_from(size).unwrap_or(i64::MAX)
}

/// Serialises writers and `gc` on one digest until the transaction ends. PostgreSQL needs an
/// advisory lock (several servers write at once); SQLite write transactions (`BEGIN IMMEDIATE`) are
/// already serialised, so there it is a no-op.
pub async fn lock_digest(
    transaction: &mut sqlx::Transaction<'_, Any>,
    backend: Backend,
    digest: &str,
) -> Result<(), sqlx::Error> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT 1 FROM (SELECT pg_advisory_xact_lock(hashtext($1))) AS locked")
            .bind(digest)
            .execute(&mut **transaction)
            .await?;
    }
    Ok(())
}

/// Claims a blob before its content becomes visible: the row exists (created without a media type
/// if new) and is touched now, under the digest lock. `gc` re-checks rows under the same lock and
/// spares anything touched within its grace period, so it can neither remove a blob between this
/// claim and the publish that references it, nor remove the content of a blob claimed after gc
/// checked it: either gc finished first (and the writer then uploads the content again) or the
/// claim did (and gc keeps the blob).
pub async fn reserve(db: &Db, digest: &Digest, size: u64) -> Result<(), sqlx::Error> {
    let mut transaction = db.begin().await?;
    let key = digest.to_string();
    lock_digest(&mut transaction, db.backend(), &key).await?;
    insert_blob(&mut *transaction, digest, size, None).await?;
    transaction.commit().await
}

/// Records a blob (first writer's media type wins; the bytes are identical anyway).
pub async fn insert_blob<'e>(
    executor: impl Executor<'e, Database = Any>,
    digest: &Digest,
    size: u64,
    media_type: Option<&MediaType>,
) -> Result<(), sqlx::Error> {
    // An existing blob is touched, so that gc's grace period counts from this write.
    let now = now_millis();
    sqlx::query(
        "INSERT INTO blobs (digest, size, media_type, created_at, touched_at) VALUES ($1, $2, $3, $4, $4) \
         ON CONFLICT (digest) DO UPDATE SET touched_at = $4, \
         media_type = COALESCE(blobs.media_type, EXCLUDED.media_type)",
    )
    .bind(digest.to_string())
    .bind(size_to_db(size))
    .bind(media_type.map(|m| m.as_str().to_owned()))
    .bind(now)
    .execute(executor)
    .await?;
    Ok(())
}

/// Why a pack references a blob: uploaded directly (kept) or through a version (collectable once
/// no version references it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceKind {
    Upload,
    Version,
}

impl ReferenceKind {
    fn as_str(self) -> &'static str {
        match self {
            ReferenceKind::Upload => "upload",
            ReferenceKind::Version => "version",
        }
    }
}

/// Records that `pack` references `digest`. Returns true when the reference is new. An upload
/// turns an existing version reference into an upload reference.
pub async fn insert_pack_blob(
    transaction: &mut sqlx::Transaction<'_, Any>,
    pack: &PackName,
    digest: &Digest,
    kind: ReferenceKind,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "INSERT INTO pack_blobs (pack_name, digest, created_at, kind) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (pack_name, digest) DO NOTHING",
    )
    .bind(pack.as_str())
    .bind(digest.to_string())
    .bind(now_millis())
    .bind(kind.as_str())
    .execute(&mut **transaction)
    .await?;
    if kind == ReferenceKind::Upload {
        sqlx::query("UPDATE pack_blobs SET kind = 'upload' WHERE pack_name = $1 AND digest = $2 AND kind <> 'upload'")
            .bind(pack.as_str())
            .bind(digest.to_string())
            .execute(&mut **transaction)
            .await?;
    }
    Ok(result.rows_affected() == 1)
}

/// The blob `digest` if `pack` references it.
pub async fn find_pack_blob<'e>(
    executor: impl Executor<'e, Database = Any>,
    pack: &PackName,
    digest: &Digest,
) -> Result<Option<BlobRecord>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT b.size, b.media_type FROM pack_blobs pb JOIN blobs b ON b.digest = pb.digest \
         WHERE pb.pack_name = $1 AND pb.digest = $2",
    )
    .bind(pack.as_str())
    .bind(digest.to_string())
    .fetch_optional(executor)
    .await?;
    row.map(|row| {
        let size: i64 = row.try_get(0)?;
        let media_type: Option<String> = row.try_get(1)?;
        Ok(BlobRecord {
            digest: *digest,
            size: u64::try_from(size).unwrap_or(0),
            // A stored media type was validated on the way in; an unparsable one is treated as absent.
            media_type: media_type.and_then(|m| m.parse().ok()),
        })
    })
    .transpose()
}

/// Every blob the database knows, in digest order (for verification and garbage collection).
pub async fn all_blobs<'e>(
    executor: impl Executor<'e, Database = Any>,
) -> Result<Vec<BlobRecord>, sqlx::Error> {
    let rows = sqlx::query("SELECT digest, size, media_type FROM blobs ORDER BY digest")
        .fetch_all(executor)
        .await?;
    rows.into_iter()
        .map(|row| {
            let digest: String = row.try_get(0)?;
            let size: i64 = row.try_get(1)?;
            let media_type: Option<String> = row.try_get(2)?;
            let digest = digest
                .parse()
                .map_err(|e: crate::domain::DigestError| sqlx::Error::Decode(Box::new(e)))?;
            Ok(BlobRecord {
                digest,
                size: u64::try_from(size).unwrap_or(0),
                media_type: media_type.and_then(|m| m.parse().ok()),
            })
        })
        .collect()
}
