//! `packyard render NAME TAG --cloud C`: the resolved manifests of a pack, from a running server or
//! straight from a local registry (`--data-dir`); `packyard render ./my-pack --cloud C`: a pack
//! folder or archive rendered from disk, with no server and no data directory.

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
    /// The pack, such as cni-calico; or, without a tag, a pack folder or archive on disk.
    pub name: String,
    /// A version, a parent tag such as 3.24.x, or latest (omit it to render a pack from disk).
    pub tag: Option<String>,

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

    /// The Kubernetes version charts see as .Capabilities.KubeVersion (default: Helm's, 1.36.0).
    #[arg(long)]
    pub kube_version: Option<String>,

    /// The cluster's name (`.spectro.system.cluster.name`, `.Spectro.cluster`).
    #[arg(long)]
    pub cluster_name: Option<String>,

    /// The cluster's API server address (`.Spectro.apiServer` in manifests).
    #[arg(long)]
    pub api_server: Option<String>,

    /// Makes random and time functions (randAlphaNum, genCA, uuidv4, now) repeatable.
    #[arg(long)]
    pub seed: Option<u64>,

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
    let output = match (&args.tag, &args.data_dir) {
        (None, _) => render_from_disk(&args, values, variables)?,
        (Some(_), Some(data_dir)) => {
            let storage = StorageConfig {
                database_url: args.database_url.clone(),
                ..StorageConfig::for_data_dir(data_dir.clone())
            };
            render_local(&storage, &args, values, variables).await?
        }
        (Some(_), None) => render_remote(&args, values, variables).await?,
    };
    print!("{output}");
    Ok(())
}

fn inputs(
    args: &RenderArgs,
    values: Option<String>,
    variables: BTreeMap<String, String>,
) -> crate::registry::rendering::RenderInputs {
    crate::registry::rendering::RenderInputs {
        cloud: args.cloud.clone(),
        values,
        presets: args.presets.clone(),
        variables,
        cluster_name: args.cluster_name.clone(),
        kubernetes_version: args.kube_version.clone(),
        api_server: args.api_server.clone(),
        seed: args.seed,
        ..crate::registry::rendering::RenderInputs::default()
    }
}

fn pretty(
    format: crate::registry::rendering::Format,
    body: &[u8],
) -> Result<String, RenderCommandError> {
    let failed = |e: &dyn std::fmt::Display| RenderCommandError::Failed(e.to_string());
    let mut text = String::from_utf8_lossy(body).into_owned();
    if format == crate::registry::rendering::Format::Json {
        // Pretty, for people reading a terminal.
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| failed(&e))?;
        text = serde_json::to_string_pretty(&value).map_err(|e| failed(&e))?;
        text.push('\n');
    }
    Ok(text)
}

fn format_of(args: &RenderArgs) -> crate::registry::rendering::Format {
    match args.output {
        OutputFormat::Yaml => crate::registry::rendering::Format::Yaml,
        OutputFormat::Json => crate::registry::rendering::Format::Json,
    }
}

/// A pack folder or archive rendered straight from disk.
fn render_from_disk(
    args: &RenderArgs,
    values: Option<String>,
    variables: BTreeMap<String, String>,
) -> Result<String, RenderCommandError> {
    let path = std::path::Path::new(&args.name);
    if !path.exists() {
        return Err(RenderCommandError::Failed(format!(
            "{} is neither a pack folder nor an archive; to render a published pack, give its tag too (packyard render {} latest --cloud {})",
            args.name, args.name, args.cloud
        )));
    }
    let format = format_of(args);
    let body = crate::registry::offline::render(
        path,
        inputs(args, values, variables),
        args.strict,
        format,
    )
    .map_err(|e| RenderCommandError::Failed(e.to_string()))?;
    pretty(format, &body)
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
        args.tag.as_deref().unwrap_or("latest")
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
        "kubernetesVersion": args.kube_version,
        "clusterName": args.cluster_name,
        "apiServer": args.api_server,
        "seed": args.seed,
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
    use crate::registry::{Registry, RegistryConfig};

    let failed = |e: &dyn std::fmt::Display| RenderCommandError::Failed(e.to_string());
    let (db, blobs) = crate::app::open_storage(storage)
        .await
        .map_err(|e| failed(&e))?;
    let registry = Registry::new(db, blobs, RegistryConfig::local());
    let pack = args.name.parse().map_err(|e| failed(&e))?;
    let inputs = inputs(args, values, variables);
    let format = format_of(args);
    let rendered = registry
        .render_pack(
            &pack,
            args.tag.as_deref().unwrap_or("latest"),
            inputs,
            args.strict,
            format,
        )
        .await;
    registry.close().await;
    let body = rendered.map_err(|e| failed(&e))?.body;
    pretty(format, &body.body)
}
