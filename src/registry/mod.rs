//! The registry's operations, shared by the HTTP API and the command line: publishing, lifecycle
//! changes, and tag resolution. Each write is one database transaction after its blobs are stored.

pub mod faults;
pub mod folders;
pub mod lifecycle;
pub mod loader;
pub mod publish;
pub mod tags;

use sha2::{Digest as _, Sha256};

use crate::domain::{Digest, TagRef, Version};
use crate::store::generations;
use crate::store::versions::{self, VersionRow};

/// Who made a change, for the audit trail.
pub const ADMIN_ACTOR: &str = "admin";

/// A version's uid: 24 hex characters (the shape of Palette's uids) derived from its identity and
/// content, so the same content always has the same uid and a forced replace gets a new one.
pub fn version_uid(name: &str, version: &str, digest: &Digest) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"packyard-pack-version\0");
    hasher.update(name.as_bytes());
    hasher.update(b"\0");
    hasher.update(version.as_bytes());
    hasher.update(b"\0");
    hasher.update(digest.to_string().as_bytes());
    hex::encode(&hasher.finalize()[..12])
}

/// Parses a stored row's version (stored versions always parse; a row that does not is skipped).
fn parsed(row: &VersionRow) -> Option<Version> {
    Version::parse(&row.version).ok()
}

/// Ends every write that changes a pack's versions or their states, inside its transaction:
/// recomputes `packs.latest_uid` from the listed versions and bumps the change counters that
/// replicas validate their caches against.
pub(crate) async fn record_pack_change(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    pack: &str,
) -> Result<(), sqlx::Error> {
    // Bumping the pack's counter first takes its row lock, which serialises concurrent writers of
    // this pack on PostgreSQL (SQLite has one writer anyway). Under READ COMMITTED the listing
    // below then sees what an earlier writer committed. Listed before the lock, a write could
    // compute `latest` from versions another writer was replacing, and leave it dangling.
    generations::bump_pack(transaction, pack).await?;
    let rows = versions::list_for_pack(&mut **transaction, pack).await?;
    let listed: Vec<(Version, &VersionRow)> = rows
        .iter()
        .filter(|row| row.state.is_listed())
        .filter_map(|row| parsed(row).map(|v| (v, row)))
        .collect();
    let latest = TagRef::Latest
        .resolve(listed.iter().map(|(v, _)| v))
        .and_then(|newest| listed.iter().find(|(v, _)| v == newest))
        .map(|(_, row)| row.uid.as_str());
    versions::set_latest(&mut **transaction, pack, latest).await?;
    // Last, so the registry-wide row is locked for as short a time as possible.
    generations::bump_registry(transaction).await
}
