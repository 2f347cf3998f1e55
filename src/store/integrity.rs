//! Queries for verification and garbage collection: references that point nowhere, and blobs
//! nothing references.

use sqlx::{Any, Executor, Row};

/// Each check: a description and a query returning one text column per problem found.
const REFERENCE_CHECKS: &[(&str, &str)] = &[
    (
        "a version references a blob with no blob row",
        "SELECT vb.version_uid || ' ' || vb.path || ' -> ' || vb.digest FROM pack_version_blobs vb \
         LEFT JOIN blobs b ON b.digest = vb.digest WHERE b.digest IS NULL",
    ),
    (
        "a version blob row belongs to no version",
        "SELECT vb.version_uid || ' ' || vb.path FROM pack_version_blobs vb \
         LEFT JOIN pack_versions v ON v.uid = vb.version_uid WHERE v.uid IS NULL",
    ),
    (
        "a pack references a blob with no blob row",
        "SELECT pb.pack_name || ' -> ' || pb.digest FROM pack_blobs pb \
         LEFT JOIN blobs b ON b.digest = pb.digest WHERE b.digest IS NULL",
    ),
    (
        "a pack blob row belongs to no pack",
        "SELECT pb.pack_name || ' -> ' || pb.digest FROM pack_blobs pb \
         LEFT JOIN packs p ON p.name = pb.pack_name WHERE p.name IS NULL",
    ),
    (
        "a version's archive has no blob row",
        "SELECT v.pack_name || '@' || v.version FROM pack_versions v \
         LEFT JOIN blobs b ON b.digest = v.archive_digest WHERE b.digest IS NULL",
    ),
    (
        "a version's logo has no blob row",
        "SELECT v.pack_name || '@' || v.version FROM pack_versions v \
         LEFT JOIN blobs b ON b.digest = v.logo_digest WHERE v.logo_digest IS NOT NULL AND b.digest IS NULL",
    ),
    (
        "a version belongs to no pack",
        "SELECT v.pack_name || '@' || v.version FROM pack_versions v \
         LEFT JOIN packs p ON p.name = v.pack_name WHERE p.name IS NULL",
    ),
    (
        "a version cloud row belongs to no version",
        "SELECT c.version_uid || ' ' || c.cloud_type FROM pack_version_clouds c \
         LEFT JOIN pack_versions v ON v.uid = c.version_uid WHERE v.uid IS NULL",
    ),
    (
        "an OCI tag points at no manifest",
        "SELECT t.repository || ':' || t.tag || ' -> ' || t.digest FROM oci_tags t \
         LEFT JOIN oci_manifests m ON m.repository = t.repository AND m.digest = t.digest WHERE m.digest IS NULL",
    ),
    (
        "an OCI repository serves a blob with no blob row",
        "SELECT rb.repository || ' -> ' || rb.digest FROM oci_repository_blobs rb \
         LEFT JOIN blobs b ON b.digest = rb.digest WHERE b.digest IS NULL",
    ),
    (
        "an OCI manifest references a blob with no blob row",
        "SELECT r.repository || '@' || r.manifest_digest || ' -> ' || r.child_digest FROM oci_manifest_references r \
         LEFT JOIN blobs b ON b.digest = r.child_digest WHERE r.kind = 'blob' AND b.digest IS NULL",
    ),
    (
        "a pack's latest version does not exist",
        "SELECT p.name || ' -> ' || p.latest_uid FROM packs p \
         LEFT JOIN pack_versions v ON v.uid = p.latest_uid WHERE p.latest_uid IS NOT NULL AND v.uid IS NULL",
    ),
];

/// Every reference that points nowhere, as "description: detail".
pub async fn broken_references<'e, E>(executor: E) -> Result<Vec<String>, sqlx::Error>
where
    E: Executor<'e, Database = Any> + Copy,
{
    let mut problems = Vec::new();
    for (description, sql) in REFERENCE_CHECKS {
        for row in sqlx::query(*sql).fetch_all(executor).await? {
            let detail: String = row.try_get(0)?;
            problems.push(format!("{description}: {detail}"));
        }
    }
    Ok(problems)
}

/// Versions whose stored document does not parse.
pub async fn unreadable_documents<'e>(
    executor: impl Executor<'e, Database = Any>,
) -> Result<Vec<String>, sqlx::Error> {
    let rows =
        sqlx::query("SELECT pack_name || '@' || version, document, manifests FROM pack_versions")
            .fetch_all(executor)
            .await?;
    let mut problems = Vec::new();
    for row in rows {
        let name: String = row.try_get(0)?;
        let document: String = row.try_get(1)?;
        let manifests: String = row.try_get(2)?;
        if serde_json::from_str::<crate::pack::Pack>(&document).is_err()
            || serde_json::from_str::<Vec<crate::pack::Manifest>>(&manifests).is_err()
        {
            problems.push(format!("the stored document of {name} does not parse"));
        }
    }
    Ok(problems)
}

/// Whether any pack or version references the blob.
pub async fn is_referenced<'e>(
    executor: impl Executor<'e, Database = Any>,
    digest: &str,
) -> Result<bool, sqlx::Error> {
    let row = sqlx::query(
        "SELECT 1 FROM blobs b WHERE b.digest = $1 AND (\
         EXISTS (SELECT 1 FROM pack_version_blobs vb WHERE vb.digest = b.digest) \
         OR EXISTS (SELECT 1 FROM pack_blobs pb WHERE pb.digest = b.digest) \
         OR EXISTS (SELECT 1 FROM oci_repository_blobs rb WHERE rb.digest = b.digest) \
         OR EXISTS (SELECT 1 FROM oci_manifest_references r WHERE r.child_digest = b.digest))",
    )
    .bind(digest)
    .fetch_optional(executor)
    .await?;
    Ok(row.is_some())
}

/// Whether the blob has a row (claimed or stored), whatever references it.
pub async fn is_recorded<'e>(
    executor: impl Executor<'e, Database = Any>,
    digest: &str,
) -> Result<bool, sqlx::Error> {
    let row = sqlx::query("SELECT 1 FROM blobs WHERE digest = $1")
        .bind(digest)
        .fetch_optional(executor)
        .await?;
    Ok(row.is_some())
}

/// Blobs no version references, nobody uploaded directly, no OCI repository serves and no OCI
/// manifest references, untouched since `cutoff` (epoch ms).
pub async fn collectable_blobs<'e>(
    executor: impl Executor<'e, Database = Any>,
    cutoff: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT b.digest FROM blobs b WHERE b.touched_at < $1 \
         AND NOT EXISTS (SELECT 1 FROM pack_version_blobs vb WHERE vb.digest = b.digest) \
         AND NOT EXISTS (SELECT 1 FROM pack_blobs pb WHERE pb.digest = b.digest AND pb.kind = 'upload') \
         AND NOT EXISTS (SELECT 1 FROM oci_repository_blobs rb WHERE rb.digest = b.digest) \
         AND NOT EXISTS (SELECT 1 FROM oci_manifest_references r WHERE r.child_digest = b.digest) \
         ORDER BY b.digest",
    )
    .bind(cutoff)
    .fetch_all(executor)
    .await?;
    rows.iter().map(|row| row.try_get(0)).collect()
}

/// Deletes one blob's rows if it is still collectable (re-checked inside the caller's transaction).
/// True when it was deleted.
pub async fn delete_if_collectable(
    transaction: &mut sqlx::Transaction<'_, Any>,
    digest: &str,
    cutoff: i64,
) -> Result<bool, sqlx::Error> {
    let still = sqlx::query(
        "SELECT 1 FROM blobs b WHERE b.digest = $1 AND b.touched_at < $2 \
         AND NOT EXISTS (SELECT 1 FROM pack_version_blobs vb WHERE vb.digest = b.digest) \
         AND NOT EXISTS (SELECT 1 FROM pack_blobs pb WHERE pb.digest = b.digest AND pb.kind = 'upload') \
         AND NOT EXISTS (SELECT 1 FROM oci_repository_blobs rb WHERE rb.digest = b.digest) \
         AND NOT EXISTS (SELECT 1 FROM oci_manifest_references r WHERE r.child_digest = b.digest)",
    )
    .bind(digest)
    .bind(cutoff)
    .fetch_optional(&mut **transaction)
    .await?;
    if still.is_none() {
        return Ok(false);
    }
    sqlx::query("DELETE FROM pack_blobs WHERE digest = $1")
        .bind(digest)
        .execute(&mut **transaction)
        .await?;
    sqlx::query("DELETE FROM blobs WHERE digest = $1")
        .bind(digest)
        .execute(&mut **transaction)
        .await?;
    Ok(true)
}
