//! The requests many tests make of a real server process over HTTP (reqwest).

use super::ADMIN_TOKEN;

/// `POST {base}/v1/packs?{query}` with the admin token: publishes a pack archive.
pub async fn publish(
    base: &str,
    query: &str,
    archive: Vec<u8>,
) -> reqwest::Result<reqwest::Response> {
    let url = if query.is_empty() {
        format!("{base}/v1/packs")
    } else {
        format!("{base}/v1/packs?{query}")
    };
    reqwest::Client::new()
        .post(url)
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/gzip")
        .body(archive)
        .send()
        .await
}

/// `GET url`, whose body must be JSON.
pub async fn get_json(url: &str) -> serde_json::Value {
    let response = reqwest::get(url).await.unwrap();
    assert!(
        response.status().is_success(),
        "GET {url}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

/// `len` bytes that gzip cannot shrink, different for every `seed` (xorshift64).
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 32) as u8
        })
        .collect()
}
