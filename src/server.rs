//! The HTTP server: an accept loop on hyper (HTTP/1.1 and HTTP/2), TCP_NODELAY on every connection,
//! a time limit on reading request headers (which also closes idle keep-alive connections), and a
//! graceful shutdown that lets in-flight requests finish.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use crate::app::{self, StartupError};
use crate::config::ServeConfig;

/// How long in-flight requests get after a shutdown signal before the process exits anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// `packyard serve`: open the registry, listen, and serve until SIGTERM or SIGINT.
pub async fn run(config: ServeConfig) -> Result<(), StartupError> {
    crate::registry::faults::set_publish_pause(Duration::from_millis(
        config.fault_publish_pause_ms,
    ));
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
        private = config.private,
        "packyard is serving"
    );
    let header_timeout = Duration::from_secs(config.header_timeout_secs.max(1));
    let result = serve(
        listener,
        crate::http::router(state),
        shutdown_signal(),
        header_timeout,
    )
    .await;
    db.close().await;
    tracing::info!("packyard stopped");
    result.map_err(StartupError::Serve)
}

/// Serves `app` on `listener` until `shutdown` completes; in-flight requests finish first (for at
/// most 30 s).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    header_timeout: Duration,
) -> std::io::Result<()> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    builder.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Without TCP_NODELAY, small responses can wait ~40 ms on Nagle plus delayed ACKs.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
        let service = TowerToHyperService::new(app.clone());
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => tracing::warn!("in-flight requests did not finish within 30 s"),
    }
    Ok(())
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
