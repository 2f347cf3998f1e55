//! `packyard render NAME TAG --cloud C`: the resolved manifests of a pack, from a running server or
//! straight from a local registry (`--data-dir`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{DEFAULT_SERVER, failure_message};
use crate::config::StorageConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Yaml,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct RenderArgs {
    /// The pack, such as cni-calico.
    pub name: String,
    /// A version, a parent tag such as 3.24.x, or latest.
    pub tag: String,

    /// The cloud to render for (aws, azure, gcp, vsphere, ...).
    #[arg(long)]
    pub cloud: String,

    /// A values file deep-merged over the pack's values.
    #[arg(long)]
    pub values: Option<PathBuf>,

    /// A preset to apply, as Group:name (repeatable).
    #[arg(long = "preset")]
    pub presets: Vec<String>,

    /// A profile variable for `.spectro.var.<name>`, as name=value (repeatable).
    #[arg(long = "var", value_parser = parse_variable)]
    pub variables: Vec<(String, String)>,

    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Yaml)]
    pub output: OutputFormat,

    /// Any missing key is an error.
    #[arg(long)]
    pub strict: bool,

    /// The registry to ask (ignored with --data-dir).
    #[arg(long, env = "PACKYARD_SERVER", default_value = DEFAULT_SERVER)]
    pub server: String,

    /// Render from the local registry in this data directory instead of a server.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,

    /// With --data-dir: the database URL (default: SQLite in the data directory).
    #[arg(
        long,
        env = "PACKYARD_DATABASE_URL",
        hide_env_values = true,
        requires = "data_dir"
    )]
    pub database_url: Option<String>,
}

fn parse_variable(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("{text:?} is not name=value"))
}

#[derive(Debug, thiserror::Error)]
pub enum RenderCommandError {
    #[error("cannot read {path}: {source}")]
    ValuesFile {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Failed(String),
}

/// Renders and prints the manifests.
pub async fn run(args: RenderArgs) -> Result<(), RenderCommandError> {
    let values = match &args.values {
        Some(path) => Some(std::fs::read_to_string(path).map_err(|source| {
            RenderCommandError::ValuesFile {
                path: path.display().to_string(),
                source,
            }
        })?),
        None => None,
    };
    let variables: BTreeMap<String, String> = args.variables.iter().cloned().collect();
    let output = match &args.data_dir {
        Some(data_dir) => {
            let storage = StorageConfig {
                database_url: args.database_url.clone(),
                ..StorageConfig::for_data_dir(data_dir.clone())
            };
            render_local(&storage, &args, values, variables).await?
        }
        None => render_remote(&args, values, variables).await?,
    };
    print!("{output}");
    Ok(())
}

async fn render_remote(
    args: &RenderArgs,
    values: Option<String>,
    variables: BTreeMap<String, String>,
) -> Result<String, RenderCommandError> {
    let url = format!(
        "{}/v1/packs/{}/tags/{}/render",
        args.server.trim_end_matches('/'),
        args.name,
        args.tag
    );
    let accept = match args.output {
        OutputFormat::Yaml => "application/yaml",
        OutputFormat::Json => "application/json",
    };
    let body = serde_json::json!({
        "cloudType": args.cloud,
        "values": values,
        "presets": args.presets,
        "variables": variables,
    });
    let response = reqwest::Client::new()
        .post(&url)
        .query(&[("strict", args.strict.to_string())])
        .header("accept", accept)
        .json(&body)
        .send()
        .await
        .map_err(|e| RenderCommandError::Failed(format!("cannot reach {url}: {e}")))?;
    if !response.status().is_success() {
        return Err(RenderCommandError::Failed(failure_message(response).await));
    }
    response
        .text()
        .await
        .map_err(|e| RenderCommandError::Failed(format!("unreadable response: {e}")))
}

async fn render_local(
    storage: &StorageConfig,
    args: &RenderArgs,
    values: Option<String>,
    variables: BTreeMap<String, String>,
) -> Result<String, RenderCommandError> {
    use crate::registry::rendering::{Format, RenderInputs};
    use crate::registry::{Registry, RegistryConfig};

    let failed = |e: &dyn std::fmt::Display| RenderCommandError::Failed(e.to_string());
    let (db, blobs) = crate::app::open_storage(storage)
        .await
        .map_err(|e| failed(&e))?;
    let registry = Registry::new(db, blobs, RegistryConfig::local());
    let pack = args.name.parse().map_err(|e| failed(&e))?;
    let inputs = RenderInputs {
        cloud: args.cloud.clone(),
        values,
        presets: args.presets.clone(),
        variables,
        ..RenderInputs::default()
    };
    let format = match args.output {
        OutputFormat::Yaml => Format::Yaml,
        OutputFormat::Json => Format::Json,
    };
    let rendered = registry
        .render_pack(&pack, &args.tag, inputs, args.strict, format)
        .await;
    registry.close().await;
    let body = rendered.map_err(|e| failed(&e))?.body;
    let mut text = String::from_utf8_lossy(&body.body).into_owned();
    if format == Format::Json {
        // Pretty, for people reading a terminal.
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| failed(&e))?;
        text = serde_json::to_string_pretty(&value).map_err(|e| failed(&e))?;
        text.push('\n');
    }
    Ok(text)
}
