//! The browser catalog: the files of `static/`, compiled into the binary so it serves them from any
//! working directory, with ETags and revalidation. `/` and `/packs/{name}` are the same page; the
//! page's script routes on the URL.

use std::sync::LazyLock;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest as _, Sha256};

use super::ApiError;
use super::extract::ApiPath;
use super::ranges;

struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
    etag: String,
}

macro_rules! asset {
    ($name:literal, $content_type:literal) => {
        (
            $name,
            $content_type,
            include_bytes!(concat!("../../static/", $name)).as_slice(),
        )
    };
}

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    [
        asset!("index.html", "text/html; charset=utf-8"),
        asset!("app.js", "text/javascript; charset=utf-8"),
        asset!("api.js", "text/javascript; charset=utf-8"),
        asset!("catalog.js", "text/javascript; charset=utf-8"),
        asset!("pack.js", "text/javascript; charset=utf-8"),
        asset!("render.js", "text/javascript; charset=utf-8"),
        asset!("dom.js", "text/javascript; charset=utf-8"),
        asset!("style.css", "text/css; charset=utf-8"),
        asset!("favicon.svg", "image/svg+xml"),
    ]
    .into_iter()
    .map(|(name, content_type, bytes)| Asset {
        name,
        content_type,
        bytes,
        etag: format!("\"{}\"", hex::encode(&Sha256::digest(bytes)[..16])),
    })
    .collect()
});

/// No script but ours runs, whatever a pack's README holds.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; script-src 'self'; \
     style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

fn serve(name: &str, request: &HeaderMap) -> Result<Response, ApiError> {
    let asset = ASSETS
        .iter()
        .find(|a| a.name == name)
        .ok_or_else(|| ApiError::NotFound(format!("no file {name}")))?;
    let mut headers = HeaderMap::new();
    headers.insert(
        header::ETAG,
        HeaderValue::from_str(&asset.etag).map_err(ApiError::internal)?,
    );
    // Files keep their names across releases: revalidate (cheaply, by ETag) on every use.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    if asset.name == "index.html" {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
        headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    }
    if ranges::none_match(request, &asset.etag) {
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    Ok((StatusCode::OK, headers, asset.bytes).into_response())
}

/// `GET /` and `GET /packs/{name}`: the page.
#[utoipa::path(get, path = "/", tag = "catalog page", description = "The browser catalog (HTML). `/packs/{name}` serves the same page.", responses((status = 200, description = "HTML page", content_type = "text/html"), (status = 304, description = "Not modified (ETag)")))]
pub async fn page(request: HeaderMap) -> Result<Response, ApiError> {
    serve("index.html", &request)
}

/// `GET /packs/{name}`: the same page, deep-linked to a pack (the page's script reads the path).
#[utoipa::path(get, path = "/packs/{name}", tag = "catalog page", params(("name" = String, Path, description = "Pack name")), responses((status = 200, description = "HTML page", content_type = "text/html"), (status = 304, description = "Not modified (ETag)")))]
pub async fn pack_page(request: HeaderMap) -> Result<Response, ApiError> {
    page(request).await
}

/// `GET /static/{file}`.
#[utoipa::path(get, path = "/static/{file}", tag = "catalog page", params(("file" = String, Path, description = "A file of the catalog page")), responses((status = 200, description = "CSS, JavaScript or image", content_type = "*/*"), (status = 304, description = "Not modified (ETag)")))]
pub async fn static_file(
    ApiPath(file): ApiPath<String>,
    request: HeaderMap,
) -> Result<Response, ApiError> {
    serve(&file, &request)
}

/// Total bytes of the page's scripts and styles (the catalog keeps them under 100 KB).
pub fn script_and_style_bytes() -> usize {
    ASSETS
        .iter()
        .filter(|a| a.name.ends_with(".js") || a.name.ends_with(".css"))
        .map(|a| a.bytes.len())
        .sum()
}
