//! `packyard push DIR...`: publish pack folders to a server, one result line per pack.

use std::path::PathBuf;

use clap::Args;
use serde::Deserialize;

use super::{DEFAULT_SERVER, failure_message};
use crate::registry::publish::{Limits, PackFiles};

#[derive(Debug, Clone, Args)]
pub struct PushArgs {
    /// Pack folders (each holds a pack.json).
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,

    /// The registry to publish to.
    #[arg(long, env = "PACKYARD_SERVER", default_value = DEFAULT_SERVER)]
    pub server: String,

    /// Bearer token with write access.
    #[arg(long, env = "PACKYARD_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// Replace a published version whose content differs (needs --message).
    #[arg(long, requires = "message")]
    pub force: bool,

    /// Why the version is replaced (recorded with the replace).
    #[arg(long, short = 'm')]
    pub message: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Warning {
    file: String,
    line: Option<u64>,
    message: String,
}

#[derive(Debug, Deserialize)]
struct Published {
    name: String,
    version: String,
    digest: String,
    status: String,
    warnings: Vec<Warning>,
}

#[derive(Debug, thiserror::Error)]
#[error("{failed} of {total} packs were not published")]
pub struct PushFailed {
    pub failed: usize,
    pub total: usize,
}

/// Publishes each folder and prints one line per pack; fails when any pack failed.
pub async fn run(args: PushArgs) -> Result<(), PushFailed> {
    let client = reqwest::Client::new();
    let url = format!("{}/v1/packs", args.server.trim_end_matches('/'));
    let mut failed = 0;
    for dir in &args.dirs {
        match push_one(&client, &url, &args, dir).await {
            Ok(line) => println!("{line}"),
            Err(message) => {
                failed += 1;
                println!("{}: failed: {message}", dir.display());
            }
        }
    }
    if failed > 0 {
        return Err(PushFailed {
            failed,
            total: args.dirs.len(),
        });
    }
    Ok(())
}

async fn push_one(
    client: &reqwest::Client,
    url: &str,
    args: &PushArgs,
    dir: &std::path::Path,
) -> Result<String, String> {
    let folder = dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "pack".to_owned());
    let path = dir.to_path_buf();
    let archive = tokio::task::spawn_blocking(move || {
        let files = PackFiles::from_dir(&path, &Limits::default()).map_err(|e| e.to_string())?;
        files.to_archive(&folder).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())??;
    let mut request = client
        .post(url)
        .header("content-type", "application/gzip")
        .body(archive);
    if args.force {
        request = request.query(&[
            ("force", "true"),
            ("message", args.message.as_deref().unwrap_or_default()),
        ]);
    }
    if let Some(token) = &args.token {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .map_err(|e| format!("cannot reach {url}: {e}"))?;
    if !response.status().is_success() {
        return Err(failure_message(response).await);
    }
    let published: Published = response
        .json()
        .await
        .map_err(|e| format!("unexpected response: {e}"))?;
    let mut line = format!(
        "{}@{} {} {}",
        published.name, published.version, published.status, published.digest
    );
    if !published.warnings.is_empty() {
        line.push_str(&format!(" ({} warnings)", published.warnings.len()));
        for warning in &published.warnings {
            let location = match warning.line {
                Some(l) => format!("{}:{l}", warning.file),
                None => warning.file.clone(),
            };
            line.push_str(&format!("\n  warning: {location}: {}", warning.message));
        }
    }
    Ok(line)
}
