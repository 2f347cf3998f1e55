//! Charts a pack references in this registry's OCI store: `pack.json` may list
//! `oci://<repository>:<tag>` (or `@<digest>`) among its `charts`, naming a chart pushed with
//! `helm push`. Publishing resolves each to the chart archive (the manifest's Helm chart layer),
//! which the pack then carries like a chart of its own, under that reference.

use super::{OciBlob, OciError};
use crate::domain::{Reference, RepositoryName};
use crate::pack::files::PackFiles;
use crate::registry::{Registry, RegistryError};
use crate::store::blobs::Span;

/// The layer `helm push` stores a chart archive as.
pub const HELM_CHART_LAYER: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
const PREFIX: &str = "oci://";

/// The repository and reference of `oci://<repository>:<tag>` or `oci://<repository>@<digest>`.
fn parse(text: &str) -> Option<(RepositoryName, Reference)> {
    let rest = text.strip_prefix(PREFIX)?;
    let (repository, reference) = match rest.split_once('@') {
        Some((repository, digest)) => (repository, digest),
        None => rest.rsplit_once(':')?,
    };
    Some((repository.parse().ok()?, reference.parse().ok()?))
}

impl Registry {
    /// `files` with every `oci://` chart of its `pack.json` added under that reference, read from
    /// this registry. A reference that names nothing here is left out: the pack's checks then
    /// report the chart missing.
    pub(crate) async fn with_oci_charts(
        &self,
        files: PackFiles,
    ) -> Result<PackFiles, RegistryError> {
        let references: Vec<String> = match files.text("pack.json") {
            Some(Ok(text)) => serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|json| json.get("charts").cloned())
                .and_then(|charts| serde_json::from_value::<Vec<String>>(charts).ok())
                .unwrap_or_default()
                .into_iter()
                .filter(|chart| chart.starts_with(PREFIX))
                .collect(),
            _ => return Ok(files),
        };
        let mut files = files;
        for reference in references {
            if let Some(chart) = self.oci_chart(&reference).await? {
                files = files.with_entry(reference, chart);
            }
        }
        Ok(files)
    }

    /// The chart archive `oci://...` names, if this registry has it.
    async fn oci_chart(&self, text: &str) -> Result<Option<Vec<u8>>, RegistryError> {
        let Some((repository, reference)) = parse(text) else {
            return Ok(None);
        };
        let manifest = match self.oci_manifest(&repository, &reference).await {
            Ok(manifest) => manifest,
            Err(RegistryError::Oci(error)) if matches!(*error, OciError::ManifestUnknown(..)) => {
                return Ok(None);
            }
            Err(other) => return Err(other),
        };
        let layer = serde_json::from_slice::<serde_json::Value>(&manifest.content)
            .ok()
            .and_then(|json| {
                json["layers"].as_array()?.iter().find_map(|layer| {
                    (layer["mediaType"] == HELM_CHART_LAYER)
                        .then(|| layer["digest"].as_str()?.parse().ok())
                        .flatten()
                })
            });
        let Some(digest) = layer else {
            return Ok(None);
        };
        let blob = match self.oci_blob(&repository, &digest).await {
            Ok(OciBlob::Stored(blob)) => blob,
            Ok(OciBlob::Inline(bytes)) => return Ok(Some(bytes.to_vec())),
            Err(_) => return Ok(None),
        };
        if blob.size > self.inner.max_pack_size {
            return Err(RegistryError::ArchiveTooLarge {
                limit: self.inner.max_pack_size,
            });
        }
        let span = Span {
            start: 0,
            len: blob.size,
        };
        Ok(Some(self.read_blob(&blob, span).await?.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_by_tag_and_by_digest() {
        let (repository, reference) = parse("oci://charts/team/hello:0.3.1").unwrap();
        assert_eq!(repository.as_str(), "charts/team/hello");
        assert_eq!(reference.to_string(), "0.3.1");
        let digest = format!("sha256:{}", "ab".repeat(32));
        let (_, reference) = parse(&format!("oci://charts/hello@{digest}")).unwrap();
        assert_eq!(reference.to_string(), digest);
        assert!(parse("charts/hello-1.0.0.tgz").is_none());
        assert!(parse("oci://Upper:1").is_none());
    }
}
