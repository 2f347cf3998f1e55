use std::sync::Arc;

use crate::auth::AdminToken;
use crate::store::blobs::BlobStore;
use crate::store::db::Db;

/// Fixed settings the handlers need.
#[derive(Debug)]
pub struct Settings {
    pub registry_uid: String,
    pub registry_name: String,
    pub admin_token: Option<AdminToken>,
    pub max_blob_size: u64,
    pub max_pack_size: u64,
}

/// Everything a handler can reach. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub blobs: BlobStore,
    pub settings: Arc<Settings>,
}
