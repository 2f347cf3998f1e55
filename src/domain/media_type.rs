use std::str::FromStr;

/// A syntactically valid media type (`type/subtype` with optional `; name=value` parameters),
/// as defined by RFC 9110 section 8.3.1. Only such values are ever echoed into a `Content-Type`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MediaType(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid media type (expected type/subtype)")]
pub struct MediaTypeError;

impl MediaType {
    pub const MAX_LEN: usize = 255;

    /// What a blob of unknown or unsafe type is served as.
    pub const OCTET_STREAM: &'static str = "application/octet-stream";

    /// `application/gzip`: pack archives and chart archives.
    pub fn gzip() -> Self {
        MediaType("application/gzip".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The type without parameters, lower-cased: `text/plain`.
    pub fn essence(&self) -> String {
        self.0
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    }

    /// Whether a browser treats content of this type as passive data (never a document that runs
    /// script): raster images, archives, JSON, YAML, plain text and the OCI, Docker and Helm
    /// artifact types. Only these are ever served under their own type.
    pub fn is_passive(&self) -> bool {
        let essence = self.essence();
        matches!(
            essence.as_str(),
            "image/png"
                | "image/jpeg"
                | "image/gif"
                | "image/webp"
                | "image/bmp"
                | "image/avif"
                | "image/x-icon"
                | "image/vnd.microsoft.icon"
                | "application/octet-stream"
                | "application/gzip"
                | "application/x-gzip"
                | "application/x-tar"
                | "application/json"
                | "application/yaml"
                | "application/x-yaml"
                | "text/plain"
        ) || (essence.starts_with("application/vnd.oci.")
            || essence.starts_with("application/vnd.docker.")
            || essence.starts_with("application/vnd.cncf.helm."))
            && !essence.contains("html")
            && !essence.contains("svg")
    }

    /// SVG images can carry script: served as images only to `<img>` loads.
    pub fn is_svg(&self) -> bool {
        self.essence() == "image/svg+xml"
    }

    /// The type of an image's bytes, from their signature (what publish records for a logo).
    pub fn of_image(bytes: &[u8]) -> MediaType {
        let essence = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            "image/png"
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            "image/jpeg"
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            "image/gif"
        } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
            "image/webp"
        } else if looks_like_svg(bytes) {
            "image/svg+xml"
        } else {
            "application/octet-stream"
        };
        MediaType(essence.to_owned())
    }
}

fn looks_like_svg(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    (text.starts_with("<?xml") || text.starts_with("<svg") || text.starts_with("<!--"))
        && text.contains("<svg")
}

/// RFC 9110 `tchar`.
fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_char)
}

fn is_quoted_string(s: &str) -> bool {
    let Some(inner) = s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) else {
        return false;
    };
    let mut escaped = false;
    for b in inner.bytes() {
        if escaped {
            escaped = false;
        } else if b == b'\\' {
            escaped = true;
        } else if b == b'"' || (b < 0x20 && b != b'\t') || b == 0x7f {
            return false;
        }
    }
    !escaped
}

fn is_parameter(param: &str) -> bool {
    let Some((name, value)) = param.trim().split_once('=') else {
        return false;
    };
    is_token(name) && (is_token(value) || is_quoted_string(value))
}

impl FromStr for MediaType {
    type Err = MediaTypeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() > Self::MAX_LEN || !s.is_ascii() {
            return Err(MediaTypeError);
        }
        let mut parts = s.split(';');
        let essence = parts.next().unwrap_or_default();
        let Some((kind, subtype)) = essence.split_once('/') else {
            return Err(MediaTypeError);
        };
        if !is_token(kind) || !is_token(subtype) || !parts.all(is_parameter) {
            return Err(MediaTypeError);
        }
        Ok(MediaType(s.to_owned()))
    }
}

text_display!(MediaType);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_media_types() {
        for good in [
            "image/png",
            "application/octet-stream",
            "application/vnd.oci.image.layer.v1.tar+gzip",
            "text/plain; charset=utf-8",
            "text/plain;charset=\"utf-8\"",
        ] {
            assert!(good.parse::<MediaType>().is_ok(), "{good:?} was refused");
        }
    }

    #[test]
    fn only_passive_types_are_passive() {
        for passive in [
            "image/png",
            "text/plain; charset=utf-8",
            "application/json",
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
        ] {
            assert!(
                passive.parse::<MediaType>().unwrap().is_passive(),
                "{passive}"
            );
        }
        for active in [
            "text/html",
            "image/svg+xml",
            "application/javascript",
            "text/xml",
            "application/xhtml+xml",
            "application/pdf",
            "application/vnd.oci.evil+html",
        ] {
            assert!(
                !active.parse::<MediaType>().unwrap().is_passive(),
                "{active}"
            );
        }
    }

    #[test]
    fn image_types_come_from_signatures() {
        assert_eq!(
            MediaType::of_image(b"\x89PNG\r\n\x1a\nrest").as_str(),
            "image/png"
        );
        assert_eq!(
            MediaType::of_image(b"<?xml version=\"1.0\"?><svg/>").as_str(),
            "image/svg+xml"
        );
        assert_eq!(
            MediaType::of_image(b"<html>").as_str(),
            "application/octet-stream"
        );
    }

    #[test]
    fn refuses_invalid_media_types() {
        for bad in [
            "",
            "png",
            "image/",
            "/png",
            "image/png\r\nX-Evil: 1",
            "image png/x",
            "text/html; charset",
            "text/plain; a=\"unterminated",
            "imáge/png",
        ] {
            assert!(bad.parse::<MediaType>().is_err(), "{bad:?} was accepted");
        }
    }
}
