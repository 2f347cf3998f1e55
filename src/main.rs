use std::process::ExitCode;

use clap::Parser;
use packyard::cli::{Cli, Command};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    packyard::telemetry::init(cli.log_format);
    let outcome = match cli.command {
        Command::Serve(config) => packyard::server::run(config).await,
        Command::Migrate(storage) => packyard::app::migrate(&storage).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = %error, "packyard failed");
            eprintln!("packyard: {error}");
            ExitCode::FAILURE
        }
    }
}
