//! The command line: `packyard <command>`.

use clap::{Parser, Subcommand};

use crate::client::push::PushArgs;
use crate::client::render::RenderArgs;
use crate::config::{LogFormat, ServeConfig, StorageConfig};

#[derive(Debug, Parser)]
#[command(name = "packyard", version, about = "A Palette-style pack registry")]
pub struct Cli {
    /// Log output format.
    #[arg(long, global = true, env = "PACKYARD_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the registry's HTTP server.
    Serve(Box<ServeConfig>),
    /// Apply database migrations and exit (serve also does this at start).
    Migrate(StorageConfig),
    /// Publish pack folders to a running registry.
    Push(PushArgs),
    /// Render a pack's manifests and charts for a cloud (from a server, a local data directory,
    /// or a pack folder or archive on disk).
    Render(RenderArgs),
    /// Print the findings a publish would return for a pack folder or archive; exit status 1
    /// on errors.
    Lint(crate::client::lint::LintArgs),
    /// Create, list or revoke API tokens.
    Token(crate::admin::TokenArgs),
    /// Re-hash every blob and check every reference; exit status 1 when anything is wrong.
    Verify(crate::admin::VerifyArgs),
    /// Remove blobs nothing references, after a grace period.
    Gc(crate::admin::GcArgs),
}
