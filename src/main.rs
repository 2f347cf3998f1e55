use std::process::ExitCode;

use clap::Parser;
use packyard::cli::{Cli, Command};

/// See Cargo.toml: measured on the catalog miss path (bench/catalog).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let log_guard = packyard::telemetry::init(cli.log_format);
    let outcome: Result<(), Box<dyn std::error::Error>> = match cli.command {
        Command::Serve(config) => packyard::server::run(*config).await.map_err(Into::into),
        Command::Migrate(storage) => packyard::app::migrate(&storage).await.map_err(Into::into),
        Command::Push(args) => packyard::client::push::run(args).await.map_err(Into::into),
        Command::Render(args) => packyard::client::render::run(args)
            .await
            .map_err(Into::into),
        Command::Token(args) => packyard::admin::token(args).await.map_err(Into::into),
        Command::Verify(args) => packyard::admin::verify(args).await.map_err(Into::into),
        Command::Gc(args) => packyard::admin::gc(args).await.map_err(Into::into),
    };
    // Pending log lines come out before the final error line, not after it.
    drop(log_guard);
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("packyard: {error}");
            ExitCode::FAILURE
        }
    }
}
