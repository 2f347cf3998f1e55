//! Pure, validated value types. Nothing here does I/O: a value that exists is valid.

mod digest;
mod layer;
mod media_type;
mod pack_name;
mod pack_patterns;
mod pack_state;
mod version;

pub use digest::{Digest, DigestError};
pub use layer::{Layer, LayerError};
pub use media_type::MediaType;
pub use pack_name::{PackName, PackNameError};
pub use pack_patterns::{PackPatterns, PackPatternsError};
pub use pack_state::{PackState, PackStateError};
pub use version::{Leniency, TagRef, Version, VersionError};
