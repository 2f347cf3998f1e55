//! Database rows about pack versions: the version itself, its clouds, its blobs, its history, and
//! the pack's latest version.

use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

use super::now_millis;
use crate::domain::{Digest, PackState};
use crate::pack::{Manifest, Pack};

/// The columns every version query selects, in [`VersionRow::from_row`] order.
pub const VERSION_COLUMNS: &str = "v.uid, v.pack_name, v.version, v.tag, v.group_name, v.state, v.digest, \
     v.display_name, v.layer, v.pack_type, v.addon_type, v.addon_sub_type, v.cloud_types, \
     v.annotations, v.logo_digest, v.archive_digest, v.created_at, v.updated_at, v.version_key";

/// A pack version as listings need it (no document).
#[derive(Debug, Clone, PartialEq)]
pub struct VersionRow {
    pub uid: String,
    pub pack_name: String,
    pub version: String,
    pub tag: String,
    pub group: Option<String>,
    pub state: PackState,
    pub digest: Digest,
    pub display_name: String,
    pub layer: String,
    pub pack_type: String,
    pub addon_type: Option<String>,
    pub addon_sub_type: Option<String>,
    pub cloud_types: Vec<String>,
    pub annotations: std::collections::BTreeMap<String, String>,
    pub logo_digest: Option<Digest>,
    pub archive_digest: Digest,
    pub created_at: i64,
    pub updated_at: i64,
    pub version_key: String,
}

fn decode_error(what: &str, e: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(format!("{what}: {e}").into())
}

fn digest_column(row: &AnyRow, index: usize) -> Result<Digest, sqlx::Error> {
    let text: String = row.try_get(index)?;
    text.parse().map_err(|e| decode_error("digest", e))
}

impl VersionRow {
    pub fn from_row(row: &AnyRow) -> Result<VersionRow, sqlx::Error> {
        let state: String = row.try_get(5)?;
        let cloud_types: String = row.try_get(12)?;
        let annotations: String = row.try_get(13)?;
        let logo: Option<String> = row.try_get(14)?;
        Ok(VersionRow {
            uid: row.try_get(0)?,
            pack_name: row.try_get(1)?,
            version: row.try_get(2)?,
            tag: row.try_get(3)?,
            group: row.try_get(4)?,
            state: state.parse().map_err(|e| decode_error("state", e))?,
            digest: digest_column(row, 6)?,
            display_name: row.try_get(7)?,
            layer: row.try_get(8)?,
            pack_type: row.try_get(9)?,
            addon_type: row.try_get(10)?,
            addon_sub_type: row.try_get(11)?,
            cloud_types: serde_json::from_str(&cloud_types)
                .map_err(|e| decode_error("cloud_types", e))?,
            annotations: serde_json::from_str(&annotations)
                .map_err(|e| decode_error("annotations", e))?,
            logo_digest: logo
                .map(|text| text.parse().map_err(|e| decode_error("logo_digest", e)))
                .transpose()?,
            archive_digest: digest_column(row, 15)?,
            created_at: row.try_get(16)?,
            updated_at: row.try_get(17)?,
            version_key: row.try_get(18)?,
        })
    }
}

pub async fn find_by_version<'e>(
    executor: impl Executor<'e, Database = Any>,
    pack: &str,
    version: &str,
) -> Result<Option<VersionRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM pack_versions v WHERE v.pack_name = $1 AND v.version = $2"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(pack)
        .bind(version)
        .fetch_optional(executor)
        .await?;
    row.as_ref().map(VersionRow::from_row).transpose()
}

pub async fn find_by_uid<'e>(
    executor: impl Executor<'e, Database = Any>,
    uid: &str,
) -> Result<Option<VersionRow>, sqlx::Error> {
    let sql = format!("SELECT {VERSION_COLUMNS} FROM pack_versions v WHERE v.uid = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(uid)
        .fetch_optional(executor)
        .await?;
    row.as_ref().map(VersionRow::from_row).transpose()
}

/// Every version of `pack`, oldest first.
pub async fn list_for_pack<'e>(
    executor: impl Executor<'e, Database = Any>,
    pack: &str,
) -> Result<Vec<VersionRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM pack_versions v WHERE v.pack_name = $1 ORDER BY v.version_key"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(pack)
        .fetch_all(executor)
        .await?;
    rows.iter().map(VersionRow::from_row).collect()
}

/// The stored pack document (manifests not included).
pub async fn load_document<'e>(
    executor: impl Executor<'e, Database = Any>,
    uid: &str,
) -> Result<Option<Pack>, sqlx::Error> {
    let row = sqlx::query("SELECT document FROM pack_versions WHERE uid = $1")
        .bind(uid)
        .fetch_optional(executor)
        .await?;
    row.map(|row| {
        let text: String = row.try_get(0)?;
        serde_json::from_str(&text).map_err(|e| decode_error("document", e))
    })
    .transpose()
}

/// The stored documents of every version of a pack, by uid, in one query.
pub async fn load_documents_for_pack<'e>(
    executor: impl Executor<'e, Database = Any>,
    pack: &str,
) -> Result<std::collections::HashMap<String, Pack>, sqlx::Error> {
    let rows = sqlx::query("SELECT uid, document FROM pack_versions WHERE pack_name = $1")
        .bind(pack)
        .fetch_all(executor)
        .await?;
    rows.iter()
        .map(|row| {
            let uid: String = row.try_get(0)?;
            let text: String = row.try_get(1)?;
            let pack = serde_json::from_str(&text).map_err(|e| decode_error("document", e))?;
            Ok((uid, pack))
        })
        .collect()
}

/// The manifest files of a version, for rendering.
pub async fn load_manifests<'e>(
    executor: impl Executor<'e, Database = Any>,
    uid: &str,
) -> Result<Option<Vec<Manifest>>, sqlx::Error> {
    let row = sqlx::query("SELECT manifests FROM pack_versions WHERE uid = $1")
        .bind(uid)
        .fetch_optional(executor)
        .await?;
    row.map(|row| {
        let text: String = row.try_get(0)?;
        serde_json::from_str(&text).map_err(|e| decode_error("manifests", e))
    })
    .transpose()
}

/// Everything needed to insert a version.
pub struct NewVersion<'a> {
    pub uid: &'a str,
    pub pack: &'a Pack,
    pub state: PackState,
    pub archive_digest: &'a Digest,
    pub logo_digest: Option<&'a Digest>,
}

fn document_json(pack: &Pack) -> Result<(String, String), sqlx::Error> {
    let manifests =
        serde_json::to_string(&pack.manifests).map_err(|e| sqlx::Error::Encode(e.into()))?;
    let mut without_manifests = pack.clone();
    without_manifests.manifests.clear();
    let document =
        serde_json::to_string(&without_manifests).map_err(|e| sqlx::Error::Encode(e.into()))?;
    Ok((document, manifests))
}

pub async fn insert_version(
    transaction: &mut sqlx::Transaction<'_, Any>,
    new: &NewVersion<'_>,
) -> Result<(), sqlx::Error> {
    let pack = new.pack;
    let (document, manifests) = document_json(pack)?;
    let annotations = serde_json::to_string(&pack.pack_json.annotations)
        .map_err(|e| sqlx::Error::Encode(e.into()))?;
    let cloud_types =
        serde_json::to_string(&pack.cloud_types).map_err(|e| sqlx::Error::Encode(e.into()))?;
    let now = now_millis();
    sqlx::query(
        "INSERT INTO pack_versions (uid, pack_name, version, version_key, tag, display_name, layer, \
         pack_type, addon_type, addon_sub_type, group_name, cloud_types, annotations, source, is_fips, \
         state, digest, archive_digest, logo_digest, document, manifests, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)",
    )
    .bind(new.uid)
    .bind(pack.name.as_str())
    .bind(pack.version.as_str())
    .bind(pack.version.sort_key())
    .bind(pack.tag())
    .bind(pack.display_name.as_str())
    .bind(pack.layer.as_str())
    .bind(pack.pack_type.as_str())
    .bind(pack.pack_json.addon_type.as_deref())
    .bind(pack.pack_json.addon_sub_type.as_deref())
    .bind(pack.pack_json.group.as_deref())
    .bind(cloud_types)
    .bind(annotations)
    .bind(pack.pack_json.annotations.get("source").map(String::as_str))
    .bind(i64::from(is_fips(pack)))
    .bind(new.state.as_str())
    .bind(pack.digest.to_string())
    .bind(new.archive_digest.to_string())
    .bind(new.logo_digest.map(Digest::to_string))
    .bind(document)
    .bind(manifests)
    .bind(now)
    .bind(now)
    .execute(&mut **transaction)
    .await?;
    for cloud in &pack.cloud_types {
        sqlx::query(
            "INSERT INTO pack_version_clouds (version_uid, cloud_type) VALUES ($1, $2) \
             ON CONFLICT (version_uid, cloud_type) DO NOTHING",
        )
        .bind(new.uid)
        .bind(cloud.as_str())
        .execute(&mut **transaction)
        .await?;
    }
    Ok(())
}

/// FIPS compliance, as annotated: `fips: "true"` or `fips` among the comma-separated `categories`.
pub fn is_fips(pack: &Pack) -> bool {
    let annotations = &pack.pack_json.annotations;
    annotations
        .get("fips")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        || annotations.get("categories").is_some_and(|c| {
            c.split(',')
                .any(|part| part.trim().eq_ignore_ascii_case("fips"))
        })
}

pub async fn insert_version_blob<'e>(
    executor: impl Executor<'e, Database = Any>,
    uid: &str,
    path: &str,
    role: &str,
    digest: &Digest,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO pack_version_blobs (version_uid, path, role, digest) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (version_uid, path) DO NOTHING",
    )
    .bind(uid)
    .bind(path)
    .bind(role)
    .bind(digest.to_string())
    .execute(executor)
    .await?;
    Ok(())
}

/// A blob a version references, for listing its downloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionBlob {
    pub path: String,
    pub role: String,
    pub digest: Digest,
    pub size: u64,
}

pub async fn list_version_blobs<'e>(
    executor: impl Executor<'e, Database = Any>,
    uid: &str,
) -> Result<Vec<VersionBlob>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT vb.path, vb.role, vb.digest, b.size FROM pack_version_blobs vb \
         JOIN blobs b ON b.digest = vb.digest WHERE vb.version_uid = $1 ORDER BY vb.path",
    )
    .bind(uid)
    .fetch_all(executor)
    .await?;
    rows.iter()
        .map(|row| {
            let size: i64 = row.try_get(3)?;
            Ok(VersionBlob {
                path: row.try_get(0)?,
                role: row.try_get(1)?,
                digest: digest_column(row, 2)?,
                size: u64::try_from(size).unwrap_or(0),
            })
        })
        .collect()
}

pub async fn delete_version<'e>(
    executor: impl Executor<'e, Database = Any>,
    uid: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM pack_versions WHERE uid = $1")
        .bind(uid)
        .execute(executor)
        .await?;
    Ok(())
}

pub async fn set_state<'e>(
    executor: impl Executor<'e, Database = Any>,
    uid: &str,
    state: PackState,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE pack_versions SET state = $1, updated_at = $2 WHERE uid = $3")
        .bind(state.as_str())
        .bind(now_millis())
        .bind(uid)
        .execute(executor)
        .await?;
    Ok(())
}

pub async fn set_latest<'e>(
    executor: impl Executor<'e, Database = Any>,
    pack: &str,
    latest_uid: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE packs SET latest_uid = $1 WHERE name = $2")
        .bind(latest_uid)
        .bind(pack)
        .execute(executor)
        .await?;
    Ok(())
}

/// One entry of a version's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event<'a> {
    pub pack: &'a str,
    pub version: &'a str,
    pub action: &'a str,
    pub actor: &'a str,
    pub message: Option<&'a str>,
    pub old_digest: Option<String>,
    pub new_digest: Option<String>,
    pub old_state: Option<&'a str>,
    pub new_state: Option<&'a str>,
}

pub async fn insert_event<'e>(
    executor: impl Executor<'e, Database = Any>,
    event: &Event<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO pack_events (pack_name, version, action, actor, message, old_digest, new_digest, \
         old_state, new_state, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(event.pack)
    .bind(event.version)
    .bind(event.action)
    .bind(event.actor)
    .bind(event.message)
    .bind(event.old_digest.as_deref())
    .bind(event.new_digest.as_deref())
    .bind(event.old_state)
    .bind(event.new_state)
    .bind(now_millis())
    .execute(executor)
    .await?;
    Ok(())
}

/// A stored history entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredEvent {
    pub action: String,
    pub actor: String,
    pub message: Option<String>,
    pub old_digest: Option<String>,
    pub new_digest: Option<String>,
    pub old_state: Option<String>,
    pub new_state: Option<String>,
    pub at: i64,
}

pub async fn list_events<'e>(
    executor: impl Executor<'e, Database = Any>,
    pack: &str,
    version: &str,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT action, actor, message, old_digest, new_digest, old_state, new_state, at \
         FROM pack_events WHERE pack_name = $1 AND version = $2 ORDER BY id",
    )
    .bind(pack)
    .bind(version)
    .fetch_all(executor)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(StoredEvent {
                action: row.try_get(0)?,
                actor: row.try_get(1)?,
                message: row.try_get(2)?,
                old_digest: row.try_get(3)?,
                new_digest: row.try_get(4)?,
                old_state: row.try_get(5)?,
                new_state: row.try_get(6)?,
                at: row.try_get(7)?,
            })
        })
        .collect()
}
