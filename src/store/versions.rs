//! Database rows about pack versions: the version itself, its clouds, its blobs, its history, and
//! the pack's latest version.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::{Any, Executor, FromRow, Row};

use super::now_millis;
use crate::domain::{Digest, EventAction, Layer, PackName, PackState, PackType, Version};

/// The columns every version query selects (decoded by name into [`VersionRow`]).
pub const VERSION_COLUMNS: &str = "v.uid, v.pack_name, v.version, v.tag, v.group_name, v.state, v.digest, \
     v.display_name, v.layer, v.pack_type, v.addon_type, v.addon_sub_type, v.cloud_types, \
     v.annotations, v.logo_digest, v.archive_digest, v.created_at, v.updated_at, v.version_key";

/// A JSON-encoded column (a list or map stored as text).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JsonText<T>(pub T);

impl<T: DeserializeOwned> TryFrom<String> for JsonText<T> {
    type Error = serde_json::Error;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        serde_json::from_str(&text).map(JsonText)
    }
}

impl<T> std::ops::Deref for JsonText<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// An optional digest column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OptionalDigest(pub Option<Digest>);

impl TryFrom<Option<String>> for OptionalDigest {
    type Error = crate::domain::DigestError;

    fn try_from(text: Option<String>) -> Result<Self, Self::Error> {
        text.map(|t| t.parse()).transpose().map(OptionalDigest)
    }
}

/// A pack version as listings need it (no document). A row that decodes is valid: every field has
/// its domain type.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct VersionRow {
    pub uid: String,
    #[sqlx(try_from = "String")]
    pub pack_name: PackName,
    #[sqlx(try_from = "String")]
    pub version: Version,
    pub tag: String,
    #[sqlx(rename = "group_name")]
    pub group: Option<String>,
    #[sqlx(try_from = "String")]
    pub state: PackState,
    #[sqlx(try_from = "String")]
    pub digest: Digest,
    pub display_name: String,
    #[sqlx(try_from = "String")]
    pub layer: Layer,
    #[sqlx(try_from = "String")]
    pub pack_type: PackType,
    pub addon_type: Option<String>,
    pub addon_sub_type: Option<String>,
    #[sqlx(try_from = "String")]
    pub cloud_types: JsonText<Vec<String>>,
    #[sqlx(try_from = "String")]
    pub annotations: JsonText<BTreeMap<String, String>>,
    #[sqlx(try_from = "Option<String>")]
    pub logo_digest: OptionalDigest,
    #[sqlx(try_from = "String")]
    pub archive_digest: Digest,
    pub created_at: i64,
    pub updated_at: i64,
    pub version_key: String,
}

fn decode_error(what: &str, e: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(format!("{what}: {e}").into())
}

pub async fn find_by_version<'e>(
    executor: impl Executor<'e, Database = Any>,
    pack: &PackName,
    version: &Version,
) -> Result<Option<VersionRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM pack_versions v WHERE v.pack_name = $1 AND v.version = $2"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(pack.as_str())
        .bind(version.as_str())
        .fetch_optional(executor)
        .await
}

pub async fn find_by_uid<'e>(
    executor: impl Executor<'e, Database = Any>,
    uid: &str,
) -> Result<Option<VersionRow>, sqlx::Error> {
    let sql = format!("SELECT {VERSION_COLUMNS} FROM pack_versions v WHERE v.uid = $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(uid)
        .fetch_optional(executor)
        .await
}

/// Every version of `pack`, oldest first.
pub async fn list_for_pack<'e>(
    executor: impl Executor<'e, Database = Any>,
    pack: &PackName,
) -> Result<Vec<VersionRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM pack_versions v WHERE v.pack_name = $1 ORDER BY v.version_key"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(pack.as_str())
        .fetch_all(executor)
        .await
}

/// The stored document of a version (manifests not included).
pub async fn load_document<'e, T: DeserializeOwned>(
    executor: impl Executor<'e, Database = Any>,
    uid: &str,
) -> Result<Option<T>, sqlx::Error> {
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
pub async fn load_documents_for_pack<'e, T: DeserializeOwned>(
    executor: impl Executor<'e, Database = Any>,
    pack: &PackName,
) -> Result<std::collections::HashMap<String, T>, sqlx::Error> {
    let rows = sqlx::query("SELECT uid, document FROM pack_versions WHERE pack_name = $1")
        .bind(pack.as_str())
        .fetch_all(executor)
        .await?;
    documents_by_uid(&rows)
}

/// `(uid, document)` rows decoded, by uid.
fn documents_by_uid<T: DeserializeOwned>(
    rows: &[sqlx::any::AnyRow],
) -> Result<std::collections::HashMap<String, T>, sqlx::Error> {
    rows.iter()
        .map(|row| {
            let uid: String = row.try_get(0)?;
            let text: String = row.try_get(1)?;
            let pack = serde_json::from_str(&text).map_err(|e| decode_error("document", e))?;
            Ok((uid, pack))
        })
        .collect()
}

/// The documents of the versions `uids`, by uid.
pub async fn load_documents<'e, T: DeserializeOwned>(
    executor: impl Executor<'e, Database = Any>,
    uids: &[&str],
) -> Result<std::collections::HashMap<String, T>, sqlx::Error> {
    if uids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let placeholders: Vec<String> = (1..=uids.len()).map(|n| format!("${n}")).collect();
    let text = format!(
        "SELECT uid, document FROM pack_versions WHERE uid IN ({})",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(text));
    for uid in uids {
        query = query.bind(*uid);
    }
    let rows = query.fetch_all(executor).await?;
    documents_by_uid(&rows)
}

/// The manifest files of a version, for rendering.
pub async fn load_manifests<'e, T: DeserializeOwned>(
    executor: impl Executor<'e, Database = Any>,
    uid: &str,
) -> Result<Option<T>, sqlx::Error> {
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

/// Everything needed to insert a version: its listed fields, and its document and manifests as
/// they are kept (serialised by the caller's types).
pub struct NewVersion<'a, D: Serialize, M: Serialize> {
    pub uid: &'a str,
    pub name: &'a PackName,
    pub version: &'a Version,
    pub tag: &'a str,
    pub display_name: &'a str,
    pub layer: Layer,
    pub pack_type: PackType,
    pub addon_type: Option<&'a str>,
    pub addon_sub_type: Option<&'a str>,
    pub group: Option<&'a str>,
    pub cloud_types: &'a [String],
    pub annotations: &'a BTreeMap<String, String>,
    pub state: PackState,
    pub digest: &'a Digest,
    pub archive_digest: &'a Digest,
    pub logo_digest: Option<&'a Digest>,
    pub document: &'a D,
    pub manifests: &'a M,
}

fn encode<T: Serialize + ?Sized>(value: &T) -> Result<String, sqlx::Error> {
    serde_json::to_string(value).map_err(|e| sqlx::Error::Encode(e.into()))
}

pub async fn insert_version<D: Serialize, M: Serialize>(
    transaction: &mut sqlx::Transaction<'_, Any>,
    new: &NewVersion<'_, D, M>,
) -> Result<(), sqlx::Error> {
    let now = now_millis();
    sqlx::query(
        "INSERT INTO pack_versions (uid, pack_name, version, version_key, tag, display_name, layer, \
         pack_type, addon_type, addon_sub_type, group_name, cloud_types, annotations, source, is_fips, \
         state, digest, archive_digest, logo_digest, document, manifests, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)",
    )
    .bind(new.uid)
    .bind(new.name.as_str())
    .bind(new.version.as_str())
    .bind(new.version.sort_key())
    .bind(new.tag)
    .bind(new.display_name)
    .bind(new.layer.as_str())
    .bind(new.pack_type.as_str())
    .bind(new.addon_type)
    .bind(new.addon_sub_type)
    .bind(new.group)
    .bind(encode(new.cloud_types)?)
    .bind(encode(new.annotations)?)
    .bind(new.annotations.get("source").map(String::as_str))
    .bind(i64::from(is_fips(new.annotations)))
    .bind(new.state.as_str())
    .bind(new.digest.to_string())
    .bind(new.archive_digest.to_string())
    .bind(new.logo_digest.map(Digest::to_string))
    .bind(encode(new.document)?)
    .bind(encode(new.manifests)?)
    .bind(now)
    .bind(now)
    .execute(&mut **transaction)
    .await?;
    for cloud in new.cloud_types {
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
pub fn is_fips(annotations: &BTreeMap<String, String>) -> bool {
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
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct VersionBlob {
    pub path: String,
    pub role: String,
    #[sqlx(try_from = "String")]
    pub digest: Digest,
    #[sqlx(try_from = "i64")]
    pub size: u64,
}

pub async fn list_version_blobs<'e>(
    executor: impl Executor<'e, Database = Any>,
    uid: &str,
) -> Result<Vec<VersionBlob>, sqlx::Error> {
    sqlx::query_as(
        "SELECT vb.path, vb.role, vb.digest, b.size FROM pack_version_blobs vb \
         JOIN blobs b ON b.digest = vb.digest WHERE vb.version_uid = $1 ORDER BY vb.path",
    )
    .bind(uid)
    .fetch_all(executor)
    .await
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
    pack: &PackName,
    latest_uid: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE packs SET latest_uid = $1 WHERE name = $2")
        .bind(latest_uid)
        .bind(pack.as_str())
        .execute(executor)
        .await?;
    Ok(())
}

/// One entry of a version's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event<'a> {
    pub pack: &'a PackName,
    pub version: &'a Version,
    pub action: EventAction,
    pub actor: &'a str,
    pub message: Option<&'a str>,
    pub old_digest: Option<Digest>,
    pub new_digest: Option<Digest>,
    pub old_state: Option<PackState>,
    pub new_state: Option<PackState>,
}

pub async fn insert_event<'e>(
    executor: impl Executor<'e, Database = Any>,
    event: &Event<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO pack_events (pack_name, version, action, actor, message, old_digest, new_digest, \
         old_state, new_state, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(event.pack.as_str())
    .bind(event.version.as_str())
    .bind(event.action.as_str())
    .bind(event.actor)
    .bind(event.message)
    .bind(event.old_digest.map(|d| d.to_string()))
    .bind(event.new_digest.map(|d| d.to_string()))
    .bind(event.old_state.map(PackState::as_str))
    .bind(event.new_state.map(PackState::as_str))
    .bind(now_millis())
    .execute(executor)
    .await?;
    Ok(())
}

/// An optional state column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OptionalState(pub Option<PackState>);

impl TryFrom<Option<String>> for OptionalState {
    type Error = crate::domain::PackStateError;

    fn try_from(text: Option<String>) -> Result<Self, Self::Error> {
        text.map(|t| t.parse()).transpose().map(OptionalState)
    }
}

/// A stored history entry.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct StoredEvent {
    #[sqlx(try_from = "String")]
    pub action: EventAction,
    pub actor: String,
    pub message: Option<String>,
    #[sqlx(try_from = "Option<String>")]
    pub old_digest: OptionalDigest,
    #[sqlx(try_from = "Option<String>")]
    pub new_digest: OptionalDigest,
    #[sqlx(try_from = "Option<String>")]
    pub old_state: OptionalState,
    #[sqlx(try_from = "Option<String>")]
    pub new_state: OptionalState,
    pub at: i64,
}

pub async fn list_events<'e>(
    executor: impl Executor<'e, Database = Any>,
    pack: &PackName,
    version: &Version,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    sqlx::query_as(
        "SELECT action, actor, message, old_digest, new_digest, old_state, new_state, at \
         FROM pack_events WHERE pack_name = $1 AND version = $2 ORDER BY id",
    )
    .bind(pack.as_str())
    .bind(version.as_str())
    .fetch_all(executor)
    .await
}
