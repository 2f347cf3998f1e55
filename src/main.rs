use std::process::ExitCode;

use clap::Parser;
use packyard::cli::{Cli, Command};

/// See Cargo.toml: measured on the catalog miss path (bench/catalog).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (mimalloc.h).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

#[tokio::main]
async fn main() -> ExitCode {
    // Freed memory goes back to the OS at once instead of after 10 ms: a render refused at its
    // output budget must not stay resident while the next request grows on another thread (the
    // hardening render attack peaks ~35 MiB above idle instead of ~65; blob GETs measure the same).
    // SAFETY: sets a documented allocator option; takes effect for later frees on every thread.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve(_)) {
        // A command line tool ends quietly when its reader goes away (`packyard render ... |
        // head`), as Unix tools do, instead of panicking on a broken pipe. The server keeps
        // Rust's default (SIGPIPE ignored): a client that leaves must never stop it.
        // SAFETY: restores the default disposition of one signal before any thread writes.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    }
    let log_guard = packyard::telemetry::init(cli.log_format);
    let outcome: Result<(), Box<dyn std::error::Error>> = match cli.command {
        Command::Serve(config) => packyard::server::run(*config).await.map_err(Into::into),
        Command::Migrate(storage) => packyard::app::migrate(&storage).await.map_err(Into::into),
        Command::Push(args) => packyard::client::push::run(args).await.map_err(Into::into),
        Command::Render(args) => packyard::client::render::run(args)
            .await
            .map_err(Into::into),
        Command::Lint(args) => packyard::client::lint::run(args).map_err(Into::into),
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
