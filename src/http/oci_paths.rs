//! The paths of the OCI distribution API under `/v2/`: repository names contain slashes, so the
//! endpoint is read from the end of the path.

/// What a path under `/v2/` names.
#[derive(Debug, PartialEq, Eq)]
pub enum Endpoint<'a> {
    Base,
    Catalog,
    /// Docker's token flow: where clients trade credentials for a bearer token.
    Token,
    Tags(&'a str),
    Manifest(&'a str, &'a str),
    Blob(&'a str, &'a str),
    Uploads(&'a str),
    Upload(&'a str, &'a str),
    Referrers(&'a str, &'a str),
}

/// Splits a path after `/v2/` into its repository name and endpoint. The endpoint is read from
/// the end, so a name may contain components such as `blobs` or `manifests`.
pub fn endpoint(rest: &str) -> Option<Endpoint<'_>> {
    if rest.is_empty() {
        return Some(Endpoint::Base);
    }
    if rest == "_catalog" {
        return Some(Endpoint::Catalog);
    }
    if rest == "token" {
        return Some(Endpoint::Token);
    }
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if let Some(name) = rest.strip_suffix("/blobs/uploads") {
        return Some(Endpoint::Uploads(name));
    }
    if let Some(name) = rest.strip_suffix("/tags/list") {
        return Some(Endpoint::Tags(name));
    }
    let (head, last) = rest.rsplit_once('/')?;
    let (name, kind) = head.rsplit_once('/')?;
    match kind {
        "manifests" => Some(Endpoint::Manifest(name, last)),
        "referrers" => Some(Endpoint::Referrers(name, last)),
        "blobs" => Some(Endpoint::Blob(name, last)),
        "uploads" => name
            .strip_suffix("/blobs")
            .map(|name| Endpoint::Upload(name, last)),
        _ => None,
    }
}

impl Endpoint<'_> {
    /// The repository the path names, if any.
    pub fn repository(&self) -> Option<&str> {
        match self {
            Endpoint::Base | Endpoint::Catalog | Endpoint::Token => None,
            Endpoint::Tags(name)
            | Endpoint::Manifest(name, _)
            | Endpoint::Blob(name, _)
            | Endpoint::Uploads(name)
            | Endpoint::Upload(name, _)
            | Endpoint::Referrers(name, _) => Some(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_read_from_the_end() {
        let d = "sha256:abc";
        assert_eq!(endpoint(""), Some(Endpoint::Base));
        assert_eq!(endpoint("_catalog"), Some(Endpoint::Catalog));
        assert_eq!(endpoint("token"), Some(Endpoint::Token));
        assert_eq!(endpoint("a/b/tags/list"), Some(Endpoint::Tags("a/b")));
        assert_eq!(
            endpoint("blobs/manifests/manifests/x"),
            Some(Endpoint::Manifest("blobs/manifests", "x"))
        );
        assert_eq!(
            endpoint(&format!("a/blobs/{d}")),
            Some(Endpoint::Blob("a", d))
        );
        assert_eq!(
            endpoint("a/b/blobs/uploads/"),
            Some(Endpoint::Uploads("a/b"))
        );
        assert_eq!(endpoint("a/blobs/uploads"), Some(Endpoint::Uploads("a")));
        assert_eq!(
            endpoint("a/blobs/uploads/123"),
            Some(Endpoint::Upload("a", "123"))
        );
        assert_eq!(
            endpoint(&format!("a/referrers/{d}")),
            Some(Endpoint::Referrers("a", d))
        );
        assert_eq!(endpoint("a"), None);
        assert_eq!(endpoint("a/other/x"), None);
        assert_eq!(endpoint("uploads/x"), None);
    }
}
