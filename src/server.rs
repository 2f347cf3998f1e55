//! The HTTP server: listening socket (TCP_NODELAY on every connection), graceful shutdown.

use std::future::Future;

use axum::Router;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;

use crate::app::{self, StartupError};
use crate::config::ServeConfig;

/// `packyard serve`: open the registry, listen, and serve until SIGTERM or SIGINT.
pub async fn run(config: ServeConfig) -> Result<(), StartupError> {
    let state = app::open(&config).await?;
    app::load_packs_dir(&state, &config.packs_dir).await;
    let db = state.db.clone();
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartupError::Bind {
            addr: config.listen,
            source,
        })?;
    let local_addr = listener.local_addr().map_err(|source| StartupError::Bind {
        addr: config.listen,
        source,
    })?;
    tracing::info!(
        listen = %local_addr,
        data_dir = %config.storage.data_dir.display(),
        backend = ?db.backend(),
        writes_enabled = config.admin_token.is_some(),
        "packyard is serving"
    );
    let result = serve(listener, crate::http::router(state), shutdown_signal()).await;
    db.close().await;
    tracing::info!("packyard stopped");
    result.map_err(StartupError::Serve)
}

/// Serves `app` on `listener` until `shutdown` completes; in-flight requests finish first.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Without TCP_NODELAY, small responses can wait ~40 ms on Nagle plus delayed ACKs.
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received, finishing in-flight requests"),
        () = terminate => tracing::info!("SIGTERM received, finishing in-flight requests"),
    }
}
