//! Extractors that validate as they parse and fail with our own error shape.

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::ApiError;
use crate::domain::{Digest, PackName, Version};

/// The named segments of the matched route, as text.
async fn segments<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
) -> Result<Vec<(String, String)>, ApiError> {
    let Path(segments) = Path::<Vec<(String, String)>>::from_request_parts(parts, state)
        .await
        .map_err(|rejection| ApiError::InvalidParameter {
            name: "path",
            reason: rejection.body_text(),
        })?;
    Ok(segments)
}

fn segment(segments: &[(String, String)], name: &'static str) -> Result<String, ApiError> {
    segments
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.clone())
        .ok_or_else(|| ApiError::internal(format!("the route has no {{{name}}} segment")))
}

/// `{pack}`: a valid pack name.
#[derive(Debug)]
pub struct PackPath(pub PackName);

impl<S: Send + Sync> FromRequestParts<S> for PackPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let segments = segments(parts, state).await?;
        Ok(PackPath(segment(&segments, "pack")?.parse()?))
    }
}

/// `{pack}/tags/{version}`: a valid pack name and a tag (a version, a parent tag or `latest`).
#[derive(Debug)]
pub struct TagPath {
    pub pack: PackName,
    pub tag: String,
}

impl<S: Send + Sync> FromRequestParts<S> for TagPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let segments = segments(parts, state).await?;
        Ok(TagPath {
            pack: segment(&segments, "pack")?.parse()?,
            tag: segment(&segments, "version")?,
        })
    }
}

/// `{pack}/tags/{version}` where the tag must be an exact version (lifecycle changes).
#[derive(Debug)]
pub struct VersionPath {
    pub pack: PackName,
    pub version: Version,
}

impl<S: Send + Sync> FromRequestParts<S> for VersionPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let TagPath { pack, tag } = TagPath::from_request_parts(parts, state).await?;
        let version = Version::parse(&tag).map_err(|e| ApiError::InvalidParameter {
            name: "version",
            reason: e.to_string(),
        })?;
        Ok(VersionPath { pack, version })
    }
}

/// `/v1/{pack}/blobs/{*digest}`: both parts validated before anything touches storage.
#[derive(Debug)]
pub struct BlobPath {
    pub pack: PackName,
    pub digest: Digest,
}

impl<S: Send + Sync> FromRequestParts<S> for BlobPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let segments = segments(parts, state).await?;
        Ok(BlobPath {
            pack: segment(&segments, "pack")?.parse()?,
            digest: segment(&segments, "digest")?.parse()?,
        })
    }
}

/// `Query<T>` whose rejection is a 400 in our error shape.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(value) =
            Query::<T>::from_request_parts(parts, state)
                .await
                .map_err(|rejection| ApiError::InvalidParameter {
                    name: "query",
                    reason: rejection.body_text(),
                })?;
        Ok(ApiQuery(value))
    }
}

/// `Path<T>` whose rejection is a 400 in our error shape.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(value) =
            Path::<T>::from_request_parts(parts, state)
                .await
                .map_err(|rejection| ApiError::InvalidParameter {
                    name: "path",
                    reason: rejection.body_text(),
                })?;
        Ok(ApiPath(value))
    }
}
