//! Database rows of the OCI distribution API: which repository may serve which blob, manifests
//! (stored byte for byte) with their tags and references, and upload sessions.

use bytes::Bytes;
use sqlx::{Any, Executor, Row};

use super::blob_records::BlobRecord;
use super::now_millis;
use crate::domain::Digest;

/// A manifest as stored: its bytes and what the API needs without parsing them again.
#[derive(Debug, Clone)]
pub struct ManifestRow {
    pub digest: Digest,
    pub media_type: String,
    pub artifact_type: Option<String>,
    pub subject: Option<Digest>,
    /// The manifest's annotations as a JSON object.
    pub annotations: Option<String>,
    pub content: Bytes,
}

/// What a manifest references.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildKind {
    /// A config or layer.
    Blob,
    /// A manifest of an index.
    Manifest,
}

impl ChildKind {
    fn as_str(self) -> &'static str {
        match self {
            ChildKind::Blob => "blob",
            ChildKind::Manifest => "manifest",
        }
    }
}

/// A manifest whose `subject` is some digest, as the referrers API lists it.
#[derive(Debug, Clone)]
pub struct Referrer {
    pub digest: Digest,
    pub media_type: String,
    pub size: u64,
    pub artifact_type: Option<String>,
    pub annotations: Option<String>,
}

fn parse_digest(text: &str) -> Result<Digest, sqlx::Error> {
    text.parse()
        .map_err(|e: crate::domain::DigestError| sqlx::Error::Decode(Box::new(e)))
}

/// Rows of `(repository, digest)`.
fn repository_digests(rows: &[sqlx::any::AnyRow]) -> Result<Vec<(String, Digest)>, sqlx::Error> {
    rows.iter()
        .map(|row| {
            let repository: String = row.try_get(0)?;
            Ok((repository, parse_digest(&row.try_get::<String, _>(1)?)?))
        })
        .collect()
}

fn size_of(row: &sqlx::any::AnyRow, index: usize) -> Result<u64, sqlx::Error> {
    let size: i64 = row.try_get(index)?;
    Ok(u64::try_from(size).unwrap_or(0))
}

/// Under the blob's digest lock (`blob_records::lock_digest`): marks the blob as just used (gc's
/// grace period starts again) and lets `repository` serve it, so a gc running beside a manifest
/// push can take neither the link nor the blob from under it. False when the blob has no row
/// (gc removed it first).
pub async fn claim_for_manifest(
    transaction: &mut sqlx::Transaction<'_, Any>,
    repository: &str,
    digest: &Digest,
) -> Result<bool, sqlx::Error> {
    let touched = sqlx::query("UPDATE blobs SET touched_at = $2 WHERE digest = $1")
        .bind(digest.to_string())
        .bind(now_millis())
        .execute(&mut **transaction)
        .await?;
    if touched.rows_affected() == 0 {
        return Ok(false);
    }
    link_blob(&mut **transaction, repository, digest).await?;
    Ok(true)
}

/// Lets `repository` serve the blob (its row in `blobs` must exist).
pub async fn link_blob<'e>(
    executor: impl Executor<'e, Database = Any>,
    repository: &str,
    digest: &Digest,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO oci_repository_blobs (repository, digest, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (repository, digest) DO NOTHING",
    )
    .bind(repository)
    .bind(digest.to_string())
    .bind(now_millis())
    .execute(executor)
    .await?;
    Ok(())
}

/// Stops `repository` serving the blob; false when it did not.
pub async fn unlink_blob<'e>(
    executor: impl Executor<'e, Database = Any>,
    repository: &str,
    digest: &Digest,
) -> Result<bool, sqlx::Error> {
    let result =
        sqlx::query("DELETE FROM oci_repository_blobs WHERE repository = $1 AND digest = $2")
            .bind(repository)
            .bind(digest.to_string())
            .execute(executor)
            .await?;
    Ok(result.rows_affected() > 0)
}

/// The blob if `repository` may serve it.
pub async fn find_blob<'e>(
    executor: impl Executor<'e, Database = Any>,
    repository: &str,
    digest: &Digest,
) -> Result<Option<BlobRecord>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT b.size FROM oci_repository_blobs rb JOIN blobs b ON b.digest = rb.digest \
         WHERE rb.repository = $1 AND rb.digest = $2",
    )
    .bind(repository)
    .bind(digest.to_string())
    .fetch_optional(executor)
    .await?;
    row.map(|row| {
        Ok(BlobRecord {
            digest: *digest,
            size: size_of(&row, 0)?,
            media_type: None,
        })
    })
    .transpose()
}

/// Some repository that serves the blob (for a mount without `from`).
pub async fn any_repository_with_blob<'e>(
    executor: impl Executor<'e, Database = Any>,
    digest: &Digest,
) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT repository FROM oci_repository_blobs WHERE digest = $1 ORDER BY repository LIMIT 1",
    )
    .bind(digest.to_string())
    .fetch_optional(executor)
    .await?;
    row.map(|row| row.try_get(0)).transpose()
}

/// Of `digests`, those `repository` does not serve (`ChildKind::Blob`) or has no manifest of
/// (`ChildKind::Manifest`).
pub async fn missing<'e, E>(
    executor: E,
    repository: &str,
    kind: ChildKind,
    digests: &[Digest],
) -> Result<Vec<Digest>, sqlx::Error>
where
    E: Executor<'e, Database = Any> + Copy,
{
    let sql = match kind {
        ChildKind::Blob => {
            "SELECT 1 FROM oci_repository_blobs WHERE repository = $1 AND digest = $2"
        }
        ChildKind::Manifest => "SELECT 1 FROM oci_manifests WHERE repository = $1 AND digest = $2",
    };
    let mut missing = Vec::new();
    for digest in digests {
        let found = sqlx::query(sql)
            .bind(repository)
            .bind(digest.to_string())
            .fetch_optional(executor)
            .await?;
        if found.is_none() {
            missing.push(*digest);
        }
    }
    Ok(missing)
}

/// Stores a manifest and what it references (an identical manifest already stored stays).
pub async fn insert_manifest(
    transaction: &mut sqlx::Transaction<'_, Any>,
    repository: &str,
    manifest: &ManifestRow,
    children: &[(Digest, ChildKind)],
) -> Result<(), sqlx::Error> {
    let digest = manifest.digest.to_string();
    sqlx::query(
        "INSERT INTO oci_manifests (repository, digest, media_type, artifact_type, subject, \
         annotations, content, size, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (repository, digest) DO NOTHING",
    )
    .bind(repository)
    .bind(&digest)
    .bind(&manifest.media_type)
    .bind(manifest.artifact_type.as_deref())
    .bind(manifest.subject.map(|s| s.to_string()))
    .bind(manifest.annotations.as_deref())
    .bind(manifest.content.to_vec())
    .bind(i64::try_from(manifest.content.len()).unwrap_or(i64::MAX))
    .bind(now_millis())
    .execute(&mut **transaction)
    .await?;
    for (child, kind) in children {
        sqlx::query(
            "INSERT INTO oci_manifest_references (repository, manifest_digest, child_digest, kind) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (repository, manifest_digest, child_digest) DO NOTHING",
        )
        .bind(repository)
        .bind(&digest)
        .bind(child.to_string())
        .bind(kind.as_str())
        .execute(&mut **transaction)
        .await?;
    }
    Ok(())
}

/// Points `tag` at a manifest of the repository.
pub async fn set_tag<'e>(
    executor: impl Executor<'e, Database = Any>,
    repository: &str,
    tag: &str,
    digest: &Digest,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO oci_tags (repository, tag, digest, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (repository, tag) DO UPDATE SET digest = EXCLUDED.digest, updated_at = EXCLUDED.updated_at",
    )
    .bind(repository)
    .bind(tag)
    .bind(digest.to_string())
    .bind(now_millis())
    .execute(executor)
    .await?;
    Ok(())
}

/// Decodes the columns `digest, media_type, artifact_type, subject, annotations, content`.
fn manifest_from(row: &sqlx::any::AnyRow) -> Result<ManifestRow, sqlx::Error> {
    let digest: String = row.try_get(0)?;
    let subject: Option<String> = row.try_get(3)?;
    let content: Vec<u8> = row.try_get(5)?;
    Ok(ManifestRow {
        digest: parse_digest(&digest)?,
        media_type: row.try_get(1)?,
        artifact_type: row.try_get(2)?,
        subject: subject.as_deref().map(parse_digest).transpose()?,
        annotations: row.try_get(4)?,
        content: Bytes::from(content),
    })
}

/// A manifest of the repository by digest.
pub async fn find_manifest<'e>(
    executor: impl Executor<'e, Database = Any>,
    repository: &str,
    digest: &Digest,
) -> Result<Option<ManifestRow>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT m.digest, m.media_type, m.artifact_type, m.subject, m.annotations, m.content \
         FROM oci_manifests m WHERE m.repository = $1 AND m.digest = $2",
    )
    .bind(repository)
    .bind(digest.to_string())
    .fetch_optional(executor)
    .await?;
    row.as_ref().map(manifest_from).transpose()
}

/// The manifest a tag points at.
pub async fn find_tagged<'e>(
    executor: impl Executor<'e, Database = Any>,
    repository: &str,
    tag: &str,
) -> Result<Option<ManifestRow>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT m.digest, m.media_type, m.artifact_type, m.subject, m.annotations, m.content \
         FROM oci_tags t JOIN oci_manifests m ON m.repository = t.repository AND m.digest = t.digest \
         WHERE t.repository = $1 AND t.tag = $2",
    )
        .bind(repository)
        .bind(tag)
        .fetch_optional(executor)
        .await?;
    row.as_ref().map(manifest_from).transpose()
}

/// Deletes a manifest with its tags and references; false when it did not exist.
pub async fn delete_manifest(
    transaction: &mut sqlx::Transaction<'_, Any>,
    repository: &str,
    digest: &Digest,
) -> Result<bool, sqlx::Error> {
    let digest = digest.to_string();
    // Explicit rather than by cascade: SQLite connections may run without foreign keys.
    for sql in [
        "DELETE FROM oci_tags WHERE repository = $1 AND digest = $2",
        "DELETE FROM oci_manifest_references WHERE repository = $1 AND manifest_digest = $2",
    ] {
        sqlx::query(sql)
            .bind(repository)
            .bind(&digest)
            .execute(&mut **transaction)
            .await?;
    }
    let result = sqlx::query("DELETE FROM oci_manifests WHERE repository = $1 AND digest = $2")
        .bind(repository)
        .bind(&digest)
        .execute(&mut **transaction)
        .await?;
    Ok(result.rows_affected() > 0)
}

/// Deletes a tag (not its manifest); false when it did not exist.
pub async fn delete_tag<'e>(
    executor: impl Executor<'e, Database = Any>,
    repository: &str,
    tag: &str,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("DELETE FROM oci_tags WHERE repository = $1 AND tag = $2")
        .bind(repository)
        .bind(tag)
        .execute(executor)
        .await?;
    Ok(result.rows_affected() > 0)
}

/// Manifests of the repository that list `digest` in an index (a manifest so referenced cannot
/// be deleted on its own).
pub async fn parents_of<'e>(
    executor: impl Executor<'e, Database = Any>,
    repository: &str,
    digest: &Digest,
) -> Result<Vec<Digest>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT manifest_digest FROM oci_manifest_references \
         WHERE repository = $1 AND child_digest = $2 AND kind = 'manifest' ORDER BY manifest_digest",
    )
    .bind(repository)
    .bind(digest.to_string())
    .fetch_all(executor)
    .await?;
    rows.iter()
        .map(|row| parse_digest(&row.try_get::<String, _>(0)?))
        .collect()
}

/// The repository's tags in byte order after `last`, at most `limit`.
pub async fn list_tags<'e>(
    executor: impl Executor<'e, Database = Any>,
    repository: &str,
    last: Option<&str>,
    limit: u32,
) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT tag FROM oci_tags WHERE repository = $1 AND tag > $2 ORDER BY tag LIMIT $3",
    )
    .bind(repository)
    .bind(last.unwrap_or(""))
    .bind(i64::from(limit))
    .fetch_all(executor)
    .await?;
    rows.iter().map(|row| row.try_get(0)).collect()
}

/// Whether the repository holds anything (a manifest or a blob).
pub async fn repository_exists<'e>(
    executor: impl Executor<'e, Database = Any>,
    repository: &str,
) -> Result<bool, sqlx::Error> {
    let row = sqlx::query(
        "SELECT 1 WHERE EXISTS (SELECT 1 FROM oci_manifests WHERE repository = $1) \
         OR EXISTS (SELECT 1 FROM oci_repository_blobs WHERE repository = $1)",
    )
    .bind(repository)
    .fetch_optional(executor)
    .await?;
    Ok(row.is_some())
}

/// Repositories with at least one manifest, in byte order after `last`, at most `limit`.
pub async fn list_repositories<'e>(
    executor: impl Executor<'e, Database = Any>,
    last: Option<&str>,
    limit: u32,
) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT DISTINCT repository FROM oci_manifests WHERE repository > $1 \
         ORDER BY repository LIMIT $2",
    )
    .bind(last.unwrap_or(""))
    .bind(i64::from(limit))
    .fetch_all(executor)
    .await?;
    rows.iter().map(|row| row.try_get(0)).collect()
}

/// Manifests of the repository whose subject is `digest`, optionally of one artifact type.
pub async fn referrers<'e>(
    executor: impl Executor<'e, Database = Any>,
    repository: &str,
    subject: &Digest,
    artifact_type: Option<&str>,
) -> Result<Vec<Referrer>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT digest, media_type, size, artifact_type, annotations FROM oci_manifests \
         WHERE repository = $1 AND subject = $2 AND ($3 = '' OR artifact_type = $3) ORDER BY digest",
    )
    .bind(repository)
    .bind(subject.to_string())
    .bind(artifact_type.unwrap_or(""))
    .fetch_all(executor)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Referrer {
                digest: parse_digest(&row.try_get::<String, _>(0)?)?,
                media_type: row.try_get(1)?,
                size: size_of(row, 2)?,
                artifact_type: row.try_get(3)?,
                annotations: row.try_get(4)?,
            })
        })
        .collect()
}

/// Records a new upload session.
pub async fn insert_upload<'e>(
    executor: impl Executor<'e, Database = Any>,
    id: &str,
    repository: &str,
    owner: &str,
) -> Result<(), sqlx::Error> {
    let now = now_millis();
    sqlx::query(
        "INSERT INTO oci_uploads (id, repository, created_at, touched_at, owner, size) \
         VALUES ($1, $2, $3, $3, $4, 0)",
    )
    .bind(id)
    .bind(repository)
    .bind(now)
    .bind(owner)
    .execute(executor)
    .await?;
    Ok(())
}

/// Sessions `owner` holds that were touched at or after `cutoff` (epoch ms).
pub async fn open_uploads_of<'e>(
    executor: impl Executor<'e, Database = Any>,
    owner: &str,
    cutoff: i64,
) -> Result<i64, sqlx::Error> {
    let row = sqlx::query("SELECT COUNT(*) FROM oci_uploads WHERE owner = $1 AND touched_at >= $2")
        .bind(owner)
        .bind(cutoff)
        .fetch_one(executor)
        .await?;
    row.try_get(0)
}

/// Bytes the sessions touched at or after `cutoff` (epoch ms) hold together.
pub async fn staged_bytes<'e>(
    executor: impl Executor<'e, Database = Any>,
    cutoff: i64,
) -> Result<i64, sqlx::Error> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM oci_uploads WHERE touched_at >= $1",
    )
    .bind(cutoff)
    .fetch_one(executor)
    .await?;
    row.try_get(0)
}

/// The repository of a session touched at or after `cutoff` (epoch ms).
pub async fn find_upload<'e>(
    executor: impl Executor<'e, Database = Any>,
    id: &str,
    cutoff: i64,
) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query("SELECT repository FROM oci_uploads WHERE id = $1 AND touched_at >= $2")
        .bind(id)
        .bind(cutoff)
        .fetch_optional(executor)
        .await?;
    row.map(|row| row.try_get(0)).transpose()
}

/// Marks a session as used now (its time to live starts again) and records its size.
pub async fn touch_upload<'e>(
    executor: impl Executor<'e, Database = Any>,
    id: &str,
    size: u64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE oci_uploads SET touched_at = $2, size = $3 WHERE id = $1")
        .bind(id)
        .bind(now_millis())
        .bind(i64::try_from(size).unwrap_or(i64::MAX))
        .execute(executor)
        .await?;
    Ok(())
}

/// Forgets a session; false when it was not recorded.
pub async fn delete_upload<'e>(
    executor: impl Executor<'e, Database = Any>,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("DELETE FROM oci_uploads WHERE id = $1")
        .bind(id)
        .execute(executor)
        .await?;
    Ok(result.rows_affected() > 0)
}

/// Sessions untouched since `cutoff` (epoch ms).
pub async fn expired_uploads<'e>(
    executor: impl Executor<'e, Database = Any>,
    cutoff: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query("SELECT id FROM oci_uploads WHERE touched_at < $1 ORDER BY id")
        .bind(cutoff)
        .fetch_all(executor)
        .await?;
    rows.iter().map(|row| row.try_get(0)).collect()
}

/// Every session id recorded (to tell session files that have none).
pub async fn all_uploads<'e>(
    executor: impl Executor<'e, Database = Any>,
) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query("SELECT id FROM oci_uploads")
        .fetch_all(executor)
        .await?;
    rows.iter().map(|row| row.try_get(0)).collect()
}

/// Untagged manifests that no index of their repository lists and that refer to no subject,
/// created before `cutoff` (epoch ms): what `gc --delete-untagged` removes.
pub async fn untagged_manifests<'e>(
    executor: impl Executor<'e, Database = Any>,
    cutoff: i64,
) -> Result<Vec<(String, Digest)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT m.repository, m.digest FROM oci_manifests m WHERE m.created_at < $1 \
         AND m.subject IS NULL \
         AND NOT EXISTS (SELECT 1 FROM oci_tags t WHERE t.repository = m.repository AND t.digest = m.digest) \
         AND NOT EXISTS (SELECT 1 FROM oci_manifest_references r WHERE r.repository = m.repository \
             AND r.child_digest = m.digest AND r.kind = 'manifest') \
         ORDER BY m.repository, m.digest",
    )
    .bind(cutoff)
    .fetch_all(executor)
    .await?;
    repository_digests(&rows)
}

/// Manifests whose stored bytes no longer hash to their digest (for `verify`).
pub async fn corrupt_manifests<'e>(
    executor: impl Executor<'e, Database = Any>,
) -> Result<Vec<String>, sqlx::Error> {
    use sha2::Digest as _;
    let rows = sqlx::query("SELECT repository, digest, content FROM oci_manifests")
        .fetch_all(executor)
        .await?;
    let mut problems = Vec::new();
    for row in rows {
        let repository: String = row.try_get(0)?;
        let digest: String = row.try_get(1)?;
        let content: Vec<u8> = row.try_get(2)?;
        let actual = Digest::from_bytes(sha2::Sha256::digest(&content).into());
        if actual.to_string() != digest {
            problems.push(format!(
                "manifest {repository}@{digest} is corrupted: its content hashes to {actual}"
            ));
        }
    }
    Ok(problems)
}

/// Blobs a repository serves that none of its manifests references, linked before `cutoff`
/// (epoch ms): uploads whose manifest never came, or whose manifests were deleted.
pub async fn unreferenced_links<'e>(
    executor: impl Executor<'e, Database = Any>,
    cutoff: i64,
) -> Result<Vec<(String, Digest)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT rb.repository, rb.digest FROM oci_repository_blobs rb WHERE rb.created_at < $1 \
         AND NOT EXISTS (SELECT 1 FROM oci_manifest_references r WHERE r.repository = rb.repository \
             AND r.child_digest = rb.digest) \
         ORDER BY rb.repository, rb.digest",
    )
    .bind(cutoff)
    .fetch_all(executor)
    .await?;
    repository_digests(&rows)
}

/// Removes one such link if it is still unreferenced (re-checked in the same statement).
pub async fn delete_link_if_unreferenced<'e>(
    executor: impl Executor<'e, Database = Any>,
    repository: &str,
    digest: &Digest,
    cutoff: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "DELETE FROM oci_repository_blobs WHERE repository = $1 AND digest = $2 AND created_at < $3 \
         AND NOT EXISTS (SELECT 1 FROM oci_manifest_references r WHERE r.repository = $1 \
             AND r.child_digest = $2)",
    )
    .bind(repository)
    .bind(digest.to_string())
    .bind(cutoff)
    .execute(executor)
    .await?;
    Ok(result.rows_affected() > 0)
}
