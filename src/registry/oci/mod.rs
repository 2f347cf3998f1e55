//! The OCI distribution API's registry side: repositories of blobs and manifests in the same
//! content-addressed store and database as packs. Blobs (`blobs`), upload sessions (`uploads`)
//! and manifests, tags and referrers (`manifests`).

mod blobs;
mod charts;
mod manifests;
mod palette;
mod uploads;

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use super::{BlobRecord, Caller, Registry, RegistryError};
use crate::domain::{Digest, RepositoryName};

pub use crate::store::oci::{ManifestRow, Referrer};
pub use manifests::PushedManifest;
pub use palette::pack_manifest;
pub use uploads::{ChunkRange, UploadSession};

/// Settings of the OCI API, fixed at start-up.
#[derive(Debug, Clone)]
pub struct OciConfig {
    /// How long an upload session lives after its last request.
    pub upload_session_ttl: Duration,
    /// Where packs live in Palette's layout: `<prefix>/spectro-packs/archive/<name>` (empty: no
    /// prefix).
    pub pack_prefix: String,
    /// Open upload sessions one credential may hold.
    pub max_upload_sessions: u64,
    /// Bytes open upload sessions may hold in all.
    pub max_staged_bytes: u64,
}

impl Default for OciConfig {
    fn default() -> OciConfig {
        OciConfig {
            upload_session_ttl: Duration::from_secs(24 * 3600),
            pack_prefix: String::new(),
            // As `serve`'s flags default.
            max_upload_sessions: 100,
            max_staged_bytes: 64 << 30,
        }
    }
}

/// A blob a repository serves: from the blob store, or (a pack repository's empty config) from
/// memory.
#[derive(Debug, Clone)]
pub enum OciBlob {
    Stored(BlobRecord),
    Inline(bytes::Bytes),
}

/// State the OCI API keeps in memory.
#[derive(Debug, Default)]
pub(super) struct OciState {
    /// Upload sessions with a request in progress: one request per session at a time.
    busy_sessions: Mutex<HashSet<String>>,
    /// Bytes appended to sessions by requests still in progress (the database records a
    /// session's size when its request ends).
    staging: std::sync::atomic::AtomicU64,
}

/// What went wrong in OCI terms; the HTTP front end answers each with the spec's code.
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    #[error("blob {0} is not in repository {1}")]
    BlobUnknown(Digest, RepositoryName),
    #[error("upload session {0} is unknown or has expired")]
    UploadUnknown(String),
    #[error("{0}")]
    UploadInvalid(String),
    /// A chunk that does not start where the session ends.
    #[error("the chunk must start at byte {size} of the upload")]
    RangeInvalid { size: u64 },
    #[error("manifest {0} is not in repository {1}")]
    ManifestUnknown(String, RepositoryName),
    #[error("{0}")]
    ManifestInvalid(String),
    #[error("the manifest references {0}, which repository {1} does not have")]
    ManifestBlobUnknown(Digest, RepositoryName),
    #[error("{0}")]
    ManifestTooLarge(String),
    #[error("{0}")]
    NameInvalid(String),
    #[error("{0}")]
    DigestInvalid(String),
    #[error("repository {0} is not known")]
    NameUnknown(RepositoryName),
    #[error("{0}")]
    Unsupported(String),
    /// A bound on upload sessions (`--max-upload-sessions`, `--max-staged-bytes`).
    #[error("{0}")]
    TooManyRequests(String),
}

impl From<OciError> for RegistryError {
    fn from(error: OciError) -> RegistryError {
        RegistryError::Oci(Box::new(error))
    }
}

impl Registry {
    /// Refuses a write to `repository` the caller's credentials do not cover: their pack patterns
    /// apply to the pack of a repository in Palette's layout, and to the whole name of any other.
    pub fn may_push(
        &self,
        caller: &Caller,
        repository: &RepositoryName,
    ) -> Result<(), RegistryError> {
        if let Some(pack) = self.palette_pack(repository) {
            return caller.may_write(&pack);
        }
        if caller.packs.allows(repository.as_str()) {
            return Ok(());
        }
        Err(RegistryError::Denied(format!(
            "{} may write only repositories matching {}, not {repository}",
            caller.name, caller.packs
        )))
    }
}
