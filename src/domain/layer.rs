use std::fmt;
use std::str::FromStr;

/// A cluster profile layer, in the order layers are applied.
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
pub enum Layer {
    Kernel,
    Os,
    K8s,
    Cni,
    Csi,
    Addon,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown layer {0:?}: expected kernel, os, k8s, cni, csi or addon")]
pub struct LayerError(pub String);

impl Layer {
    pub const ALL: [Layer; 6] = [
        Layer::Kernel,
        Layer::Os,
        Layer::K8s,
        Layer::Cni,
        Layer::Csi,
        Layer::Addon,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Kernel => "kernel",
            Layer::Os => "os",
            Layer::K8s => "k8s",
            Layer::Cni => "cni",
            Layer::Csi => "csi",
            Layer::Addon => "addon",
        }
    }
}

impl FromStr for Layer {
    type Err = LayerError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Layer::ALL
            .into_iter()
            .find(|layer| layer.as_str() == s)
            .ok_or_else(|| LayerError(s.to_owned()))
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
