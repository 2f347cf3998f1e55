use std::fmt;
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

    pub fn octet_stream() -> Self {
        MediaType("application/octet-stream".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
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

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

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
