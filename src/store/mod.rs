//! Persistence: the database (pool, migrations and queries as free functions over an executor) and
//! the content-addressed blob store. Nothing here knows about HTTP.

pub mod blob_backends;
pub mod blob_records;
pub mod blobs;
pub mod catalog;
pub mod db;
pub mod generations;
pub mod integrity;
pub mod oci;
pub mod packs;
pub mod secrets;
pub mod tokens;
pub mod versions;

/// Milliseconds since the Unix epoch: the one timestamp form stored in both databases.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
