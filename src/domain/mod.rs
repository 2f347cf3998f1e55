//! Pure, validated value types. Nothing here does I/O: a value that exists is valid.

mod digest;
mod event;
mod layer;
mod media_type;
mod pack_name;
mod pack_patterns;
mod pack_state;
mod pack_type;
mod scope;
pub mod time;
mod version;

pub use digest::{Digest, DigestError};
pub use event::{EventAction, EventActionError};
pub use layer::{Layer, LayerError};
pub use media_type::MediaType;
pub use pack_name::{PackName, PackNameError};
pub use pack_patterns::{PackPatterns, PackPatternsError};
pub use pack_state::{PackState, PackStateError};
pub use pack_type::{PackType, PackTypeError};
pub use scope::{Scope, ScopeError};
pub use version::{Leniency, TagRef, Version, VersionError};

impl std::str::FromStr for Version {
    type Err = VersionError;

    fn from_str(text: &str) -> Result<Version, VersionError> {
        Version::parse(text)
    }
}

/// Stored text back into a validated type (database rows decode through these).
macro_rules! from_stored_text {
    ($($type:ty),*) => {
        $(
            impl TryFrom<String> for $type {
                type Error = <$type as std::str::FromStr>::Err;

                fn try_from(text: String) -> Result<Self, Self::Error> {
                    text.parse()
                }
            }
        )*
    };
}

from_stored_text!(
    Digest,
    EventAction,
    Layer,
    PackName,
    PackPatterns,
    PackState,
    PackType,
    Scope,
    Version
);
