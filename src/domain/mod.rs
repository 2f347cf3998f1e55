//! Pure, validated value types. Nothing here does I/O: a value that exists is valid.

/// `Display` as the text itself and `Debug` as the quoted text, for the string newtypes (a macro
/// because their one field is private to each type's module).
macro_rules! text_display {
    ($($type:ty),*) => {
        $(
            impl std::fmt::Display for $type {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str(&self.0)
                }
            }

            impl std::fmt::Debug for $type {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    std::fmt::Debug::fmt(&self.0, f)
                }
            }
        )*
    };
}

mod digest;
mod event;
mod layer;
mod media_type;
mod oci;
mod oci_access;
pub mod oci_manifest;
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
pub use oci::{OciNameError, Reference, RepositoryName, Tag};
pub use oci_access::{OciAccess, OciAction};
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

/// OpenAPI schemas for the text types: the pattern and length their parsers enforce (a unit test
/// beside each parser holds the two together), so the API document states what the server checks.
macro_rules! text_schema {
    ($($type:ty => $description:expr),* $(,)?) => {
        $(
            impl utoipa::PartialSchema for $type {
                fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                    utoipa::openapi::ObjectBuilder::new()
                        .schema_type(utoipa::openapi::schema::Type::String)
                        .pattern(Some(<$type>::PATTERN))
                        .min_length(Some(1))
                        .max_length(Some(<$type>::MAX_LEN))
                        .description(Some($description))
                        .into()
                }
            }

            impl utoipa::ToSchema for $type {}
        )*
    };
}

text_schema!(
    PackName => "A pack name: lowercase letters and digits separated by '.', '_', '__' or runs of '-'",
    Digest => "A sha256 content digest: 'sha256:' and 64 lowercase hex characters",
    Version => "A version: numeric parts separated by dots, optionally a leading v, a -pre-release and a +build",
);
