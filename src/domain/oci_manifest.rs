//! OCI and Docker manifests as a registry needs them: which kind a document is, what it
//! references (blobs and child manifests), its subject, artifact type and annotations. The bytes
//! themselves are stored and served as they came; this only reads them.

use serde::Deserialize;

use super::Digest;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// The empty JSON config of artifacts (`{}`).
pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";

/// The manifest media types a push may use.
pub const MANIFEST_TYPES: [&str; 4] = [
    OCI_MANIFEST,
    OCI_INDEX,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
];

/// The largest manifest a push may send (the spec's suggested minimum a registry accepts).
pub const MAX_MANIFEST_BYTES: usize = 4 << 20;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("the manifest has no media type: send Content-Type or a mediaType field")]
    NoMediaType,
    #[error("media type {0} is not a manifest type this registry stores ({types})", types = MANIFEST_TYPES.join(", "))]
    UnsupportedType(String),
    #[error("the manifest says mediaType {body} but was sent as {header}")]
    TypeMismatch { header: String, body: String },
    #[error("the manifest is not valid JSON for {media_type}: {reason}")]
    Invalid { media_type: String, reason: String },
    #[error("manifests larger than {MAX_MANIFEST_BYTES} bytes are refused")]
    TooLarge,
}

/// A descriptor: what every reference in a manifest is.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    media_type: Option<String>,
    digest: String,
    #[allow(dead_code)]
    size: i64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    schema_version: Option<i64>,
    media_type: Option<String>,
    artifact_type: Option<String>,
    config: Option<Descriptor>,
    layers: Option<Vec<Descriptor>>,
    manifests: Option<Vec<Descriptor>>,
    subject: Option<Descriptor>,
    annotations: Option<serde_json::Map<String, serde_json::Value>>,
}

/// What a registry reads from a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestInfo {
    /// The type it is stored and served as.
    pub media_type: String,
    /// Config and layers.
    pub blobs: Vec<Digest>,
    /// The manifests an index lists.
    pub manifests: Vec<Digest>,
    pub subject: Option<Digest>,
    /// `artifactType`, or the config's media type of an image manifest without one (as the
    /// referrers API reports it).
    pub artifact_type: Option<String>,
    /// The annotations as a JSON object.
    pub annotations: Option<String>,
}

impl ManifestInfo {
    pub fn is_index(&self) -> bool {
        matches!(self.media_type.as_str(), OCI_INDEX | DOCKER_MANIFEST_LIST)
    }
}

/// Reads a manifest pushed with `content_type` (the request's `Content-Type`, without
/// parameters).
pub fn parse(content_type: Option<&str>, bytes: &[u8]) -> Result<ManifestInfo, ManifestError> {
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(ManifestError::TooLarge);
    }
    let header = content_type
        .map(|t| {
            t.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|t| !t.is_empty() && t != "application/octet-stream");
    let invalid = |media_type: &str, reason: String| ManifestError::Invalid {
        media_type: media_type.to_owned(),
        reason,
    };
    let document: Document = serde_json::from_slice(bytes)
        .map_err(|e| invalid(header.as_deref().unwrap_or("a manifest"), e.to_string()))?;
    let media_type = match (&header, &document.media_type) {
        (Some(header), Some(body)) if header != body => {
            return Err(ManifestError::TypeMismatch {
                header: header.clone(),
                body: body.clone(),
            });
        }
        (Some(header), _) => header.clone(),
        (None, Some(body)) => body.clone(),
        (None, None) => return Err(ManifestError::NoMediaType),
    };
    if !MANIFEST_TYPES.contains(&media_type.as_str()) {
        return Err(ManifestError::UnsupportedType(media_type));
    }
    if document.schema_version != Some(2) {
        return Err(invalid(&media_type, "schemaVersion must be 2".to_owned()));
    }
    let digest_of = |descriptor: &Descriptor| {
        descriptor.digest.parse::<Digest>().map_err(|e| {
            invalid(
                &media_type,
                format!("descriptor digest {:?}: {e}", descriptor.digest),
            )
        })
    };
    let is_index = matches!(media_type.as_str(), OCI_INDEX | DOCKER_MANIFEST_LIST);
    let mut blobs = Vec::new();
    let mut manifests = Vec::new();
    if is_index {
        let listed = document
            .manifests
            .as_ref()
            .ok_or_else(|| invalid(&media_type, "an index needs a manifests list".to_owned()))?;
        for descriptor in listed {
            manifests.push(digest_of(descriptor)?);
        }
    } else {
        let config = document
            .config
            .as_ref()
            .ok_or_else(|| invalid(&media_type, "an image manifest needs a config".to_owned()))?;
        blobs.push(digest_of(config)?);
        for descriptor in document.layers.as_deref().unwrap_or_default() {
            blobs.push(digest_of(descriptor)?);
        }
    }
    let subject = document.subject.as_ref().map(digest_of).transpose()?;
    let artifact_type = document.artifact_type.clone().or_else(|| {
        (!is_index)
            .then(|| document.config.as_ref().and_then(|c| c.media_type.clone()))
            .flatten()
    });
    let annotations = document
        .annotations
        .as_ref()
        .filter(|map| !map.is_empty())
        .map(|map| serde_json::Value::Object(map.clone()).to_string());
    blobs.dedup();
    manifests.dedup();
    Ok(ManifestInfo {
        media_type,
        blobs,
        manifests,
        subject,
        artifact_type,
        annotations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(byte: char) -> String {
        format!("sha256:{}", byte.to_string().repeat(64))
    }

    #[test]
    fn an_image_manifest_names_its_config_and_layers() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"application/vnd.unknown.config.v1+json","digest":"{}","size":2}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{}","size":5}}],"subject":{{"mediaType":"{OCI_MANIFEST}","digest":"{}","size":9}},"annotations":{{"k":"v"}}}}"#,
            digest('a'),
            digest('b'),
            digest('c')
        );
        let info = parse(Some(OCI_MANIFEST), body.as_bytes()).unwrap();
        assert_eq!(info.blobs.len(), 2);
        assert_eq!(info.subject.unwrap().to_string(), digest('c'));
        assert_eq!(
            info.artifact_type.as_deref(),
            Some("application/vnd.unknown.config.v1+json")
        );
        assert_eq!(info.annotations.as_deref(), Some(r#"{"k":"v"}"#));
        // The type may come from the body alone.
        assert_eq!(
            parse(None, body.as_bytes()).unwrap().media_type,
            OCI_MANIFEST
        );
    }

    #[test]
    fn an_index_names_its_manifests() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{DOCKER_MANIFEST_LIST}","manifests":[{{"mediaType":"{DOCKER_MANIFEST}","digest":"{}","size":7}}]}}"#,
            digest('d')
        );
        let info = parse(Some(DOCKER_MANIFEST_LIST), body.as_bytes()).unwrap();
        assert!(info.is_index());
        assert_eq!(info.manifests.len(), 1);
        assert!(info.blobs.is_empty());
    }

    #[test]
    fn bad_manifests_are_named() {
        let good = format!(
            r#"{{"schemaVersion":2,"config":{{"mediaType":"x/y","digest":"{}","size":2}},"layers":[]}}"#,
            digest('a')
        );
        assert_eq!(
            parse(None, good.as_bytes()),
            Err(ManifestError::NoMediaType)
        );
        assert!(matches!(
            parse(
                Some("application/vnd.oci.artifact.manifest.v1+json"),
                good.as_bytes()
            ),
            Err(ManifestError::UnsupportedType(_))
        ));
        let mismatched = good.replacen('{', &format!(r#"{{"mediaType":"{OCI_INDEX}","#), 1);
        assert!(matches!(
            parse(Some(OCI_MANIFEST), mismatched.as_bytes()),
            Err(ManifestError::TypeMismatch { .. })
        ));
        for bad in [
            "not json".to_owned(),
            good.replace("\"schemaVersion\":2", "\"schemaVersion\":1"),
            good.replace(&digest('a'), "sha256:short"),
            r#"{"schemaVersion":2,"layers":[]}"#.to_owned(),
        ] {
            assert!(
                matches!(
                    parse(Some(OCI_MANIFEST), bad.as_bytes()),
                    Err(ManifestError::Invalid { .. })
                ),
                "{bad}"
            );
        }
        let huge = vec![b' '; MAX_MANIFEST_BYTES + 1];
        assert_eq!(
            parse(Some(OCI_MANIFEST), &huge),
            Err(ManifestError::TooLarge)
        );
    }
}
