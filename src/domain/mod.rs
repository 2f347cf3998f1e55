//! Pure, validated value types. Nothing here does I/O: a value that exists is valid.

mod digest;
mod media_type;
mod pack_name;

pub use digest::{Digest, DigestError};
pub use media_type::MediaType;
pub use pack_name::{PackName, PackNameError};
