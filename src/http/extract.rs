//! Extractors that validate as they parse and fail with our own error shape.

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::ApiError;
use crate::domain::{Digest, PackName};

/// `/v1/{pack}/blobs/{*digest}`: both parts validated before anything touches storage.
#[derive(Debug)]
pub struct BlobPath {
    pub pack: PackName,
    pub digest: Digest,
}

impl<S: Send + Sync> FromRequestParts<S> for BlobPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path((pack, digest)) = Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| ApiError::InvalidParameter {
                name: "path",
                reason: rejection.body_text(),
            })?;
        Ok(BlobPath {
            pack: pack.parse()?,
            digest: digest.parse()?,
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
