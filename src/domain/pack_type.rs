use std::fmt;
use std::str::FromStr;

/// Palette's `v1PackType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PackType {
    Spectro,
    Helm,
    Manifest,
    Oci,
}

impl PackType {
    pub fn as_str(self) -> &'static str {
        match self {
            PackType::Spectro => "spectro",
            PackType::Helm => "helm",
            PackType::Manifest => "manifest",
            PackType::Oci => "oci",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown pack type {0:?}: expected spectro, helm, manifest or oci")]
pub struct PackTypeError(pub String);

impl FromStr for PackType {
    type Err = PackTypeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            PackType::Spectro,
            PackType::Helm,
            PackType::Manifest,
            PackType::Oci,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
        .ok_or_else(|| PackTypeError(s.to_owned()))
    }
}

impl fmt::Display for PackType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
