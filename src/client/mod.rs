//! Command-line commands that talk to a running packyard server over HTTP.

pub mod lint;
pub mod push;
pub mod render;

/// The server a command talks to when none is given.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// Our error shape, as a server sends it.
#[derive(Debug, serde::Deserialize)]
pub struct ServerError {
    pub code: String,
    pub message: String,
}

/// A readable message for a failed response: the server's own message when it sent one.
pub async fn failure_message(response: reqwest::Response) -> String {
    let status = response.status();
    match response.json::<ServerError>().await {
        Ok(error) => format!("{} {}: {}", status.as_u16(), error.code, error.message),
        Err(_) => format!("{status}"),
    }
}
