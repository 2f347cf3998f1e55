//! `GET /v1/_catalog`: pack (repository) names, with docker distribution's `?n=&last=` paging.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::extract::ApiQuery;
use super::{ApiError, AppState};
use crate::domain::PackName;

const DEFAULT_PAGE: u32 = 100;
const MAX_PAGE: u32 = 1000;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogQuery {
    /// Page size (default 100).
    #[param(minimum = 0, maximum = 1000)]
    n: Option<u32>,
    /// The last name of the previous page.
    #[param(value_type = Option<PackName>)]
    last: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct Catalog {
    repositories: Vec<String>,
}

#[utoipa::path(get, path = "/v1/_catalog", tag = "registry protocol", params(CatalogQuery), responses((status = 200, description = "Pack names, paged with n/last and a Link header", body = Catalog)))]
pub async fn list_repositories(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<CatalogQuery>,
) -> Result<Response, ApiError> {
    let page = query.n.unwrap_or(DEFAULT_PAGE);
    if page > MAX_PAGE {
        return Err(ApiError::InvalidParameter {
            name: "n",
            reason: format!("at most {MAX_PAGE} entries per page"),
        });
    }
    let last: Option<PackName> = query.last.as_deref().map(str::parse).transpose()?;
    if page == 0 {
        return Ok(Json(Catalog {
            repositories: Vec::new(),
        })
        .into_response());
    }
    let mut names = state.registry.pack_names(last.as_ref(), page + 1).await?;
    let mut headers = HeaderMap::new();
    if names.len() > page as usize {
        names.truncate(page as usize);
        if let Some(last_name) = names.last() {
            let link = format!("</v1/_catalog?n={page}&last={last_name}>; rel=\"next\"");
            headers.insert(
                header::LINK,
                HeaderValue::from_str(&link).map_err(ApiError::internal)?,
            );
        }
    }
    Ok((
        headers,
        Json(Catalog {
            repositories: names,
        }),
    )
        .into_response())
}
