use std::fmt;
use std::str::FromStr;

/// A pack version's lifecycle state. `disabled` versions are hidden from listings but still resolve
/// by exact version (existing profiles keep working); `deleted` ones resolve nowhere.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum PackState {
    Active,
    Deprecated,
    Disabled,
    Deleted,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown state {0:?}: expected active, deprecated, disabled or deleted")]
pub struct PackStateError(pub String);

impl PackState {
    pub const ALL: [PackState; 4] = [
        PackState::Active,
        PackState::Deprecated,
        PackState::Disabled,
        PackState::Deleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PackState::Active => "active",
            PackState::Deprecated => "deprecated",
            PackState::Disabled => "disabled",
            PackState::Deleted => "deleted",
        }
    }

    /// Whether the version counts for `latest` and parent tags and appears in default listings.
    pub fn is_listed(self) -> bool {
        matches!(self, PackState::Active | PackState::Deprecated)
    }
}

impl FromStr for PackState {
    type Err = PackStateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PackState::ALL
            .into_iter()
            .find(|state| state.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| PackStateError(s.to_owned()))
    }
}

impl fmt::Display for PackState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
