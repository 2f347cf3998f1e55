//! The registry's one error type: what went wrong, in domain terms. Front ends map it to their own
//! answers (`http::error` to statuses and codes) in one place each.

use crate::domain::{Digest, PackName, PackNameError, Version};

/// The errors a registry error may carry, for front ends to tell apart.
pub use crate::pack::PackError;
pub use crate::pack::files::FilesError;
pub use crate::render::gotemplate::Limit;
pub use crate::render::output::OutputError;
pub use crate::render::pipeline::RenderError;
pub use crate::render::validate::Violation;
pub use crate::store::blobs::PutError;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("invalid pack name: {0}")]
    InvalidName(#[from] PackNameError),
    #[error("pack {0} is not published")]
    PackUnknown(PackName),
    #[error("tag {tag} of pack {pack} resolves to no version")]
    TagUnknown { pack: PackName, tag: String },
    #[error("{0} is not published")]
    VersionUnknown(String),
    #[error("no pack version has uid {0}")]
    UidUnknown(String),
    #[error("no version of pack {0} matches the requested cloud type, layer and states")]
    NoneVisible(PackName),
    #[error("pack version {0} has no logo")]
    LogoUnknown(String),
    #[error("registry {asked} is not this registry (uid {ours})")]
    RegistryUnknown { asked: String, ours: String },
    #[error("blob {digest} is not part of pack {pack}")]
    BlobUnknown { pack: PackName, digest: Digest },
    /// A blob the database records but the blob store lacks (removed by gc, or lost).
    #[error("blob {0} is recorded in the database but missing from the blob store")]
    BlobMissing(Digest),
    #[error(transparent)]
    Conflict(Box<Conflict>),
    /// The pack's files are refused (archive shape, sizes, pack.json, values, templates).
    #[error(transparent)]
    Pack(#[from] PackError),
    #[error("pack archives larger than {limit} bytes are refused")]
    ArchiveTooLarge { limit: u64 },
    /// An upload that does not match what it claimed, or could not be read.
    #[error(transparent)]
    Upload(#[from] PutError),
    #[error(transparent)]
    Render(#[from] RenderError),
    /// A render error of one pack of a profile, named.
    #[error("{pack}: {error}")]
    RenderOf { pack: String, error: RenderError },
    /// An OCI distribution API error (boxed: it is rare and the type is large).
    #[error(transparent)]
    Oci(Box<super::oci::OciError>),
    #[error("{0}")]
    Denied(String),
    /// A bounded resource is in use; the caller should retry shortly.
    #[error("{0}")]
    Busy(&'static str),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("blob store: {0}")]
    Storage(#[from] std::io::Error),
    /// Stored data that contradicts itself (a version row without its document).
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("a background task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// A publish of different content under a published `name@version`.
#[derive(Debug, thiserror::Error)]
#[error(
    "{name}@{version} is already published with digest {existing}; this content has digest {offered} (replace it with force and a message)"
)]
pub struct Conflict {
    pub name: PackName,
    pub version: Version,
    pub existing: Digest,
    pub offered: Digest,
}

impl From<Limit> for RegistryError {
    fn from(limit: Limit) -> Self {
        RegistryError::Render(RenderError::Limit(limit))
    }
}

impl From<crate::pack::files::FilesError> for RegistryError {
    fn from(error: crate::pack::files::FilesError) -> Self {
        RegistryError::Pack(error.into())
    }
}

impl RegistryError {
    /// Names the pack a render error came from (profile renders).
    pub fn of_pack(pack: String, error: RenderError) -> RegistryError {
        match error {
            // The message names the pack already.
            error @ RenderError::CloudUnsupported { .. } => RegistryError::Render(error),
            error => RegistryError::RenderOf { pack, error },
        }
    }

    /// The render error inside, if this is one.
    pub fn render_error(&self) -> Option<&RenderError> {
        match self {
            RegistryError::Render(error) | RegistryError::RenderOf { error, .. } => Some(error),
            _ => None,
        }
    }
}
