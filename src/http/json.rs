//! `Json<T>` whose rejections are answered in our error shape.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use super::ApiError;

#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(match rejection {
                JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
                    "expected a JSON body with Content-Type: application/json",
                ),
                JsonRejection::JsonDataError(e) => ApiError::InvalidBody(e.body_text()),
                JsonRejection::JsonSyntaxError(e) => ApiError::InvalidBody(e.body_text()),
                other if other.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                    ApiError::BodyTooLarge(other.body_text())
                }
                JsonRejection::BytesRejection(e) => ApiError::from_body_error(&e),
                other => ApiError::InvalidBody(other.body_text()),
            }),
        }
    }
}
