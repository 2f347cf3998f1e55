//! The HTTP server: an accept loop on hyper (HTTP/1.1 and HTTP/2), TCP_NODELAY on every connection,
//! a time limit on reading request headers, connections closed when they have had no request in
//! flight for that time (HTTP/2 as HTTP/1.1) and capped in number (`connections`), and a graceful
//! shutdown that lets in-flight requests finish.
//!
//! Connections are served as nginx serves them: by `--http-workers` threads (default: one per
//! core), each a single-threaded event loop with its own listening socket on the same address
//! (`SO_REUSEPORT`: the kernel spreads connections over them). A connection stays on its thread, so
//! a request never costs a cross-thread wake-up; on 2 cores this serves ~25% more small blob GETs
//! than one work-stealing runtime. Blocking work still leaves the loop (`spawn_blocking`, the render
//! pool), and the rest of the process (database pools, background tasks) runs on the main runtime.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use std::sync::Arc;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{mpsc, watch};
use tokio::time::Sleep;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

use crate::app::{self, StartupError};
use crate::config::ServeConfig;

pub mod connections;

use connections::{Admitted, Closed, Connections, TrackedBody};

/// How long in-flight requests get after a shutdown signal before the process exits anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// `packyard serve`: open the registry, listen, and serve until SIGTERM or SIGINT.
pub async fn run(config: ServeConfig) -> Result<(), StartupError> {
    #[cfg(feature = "fault-injection")]
    crate::registry::faults::set_publish_pause(Duration::from_millis(
        config.fault_publish_pause_ms,
    ));
    let state = app::open(&config).await?;
    app::load_packs_dir(&state.registry, &config.packs_dir).await;
    let registry = state.registry.clone();
    let workers = config.http_workers.map_or_else(
        || std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
        usize::from,
    );
    let listeners = bind(config.listen, workers.max(1)).map_err(|source| StartupError::Bind {
        addr: config.listen,
        source,
    })?;
    let local_addr = listeners[0]
        .local_addr()
        .map_err(|source| StartupError::Bind {
            addr: config.listen,
            source,
        })?;
    tracing::info!(
        listen = %local_addr,
        data_dir = %config.storage.data_dir.display(),
        private = config.private,
        http_workers = listeners.len(),
        tls = config.tls_cert.is_some(),
        "packyard is serving"
    );
    let timeouts = Timeouts {
        header: Duration::from_secs(config.header_timeout_secs.max(1)),
        send: Duration::from_secs(config.send_timeout_secs.max(1)),
    };
    let limit = config
        .max_connections
        .map_or_else(connections::default_limit, |n| n as usize);
    tracing::info!(max_connections = limit, "connections are capped");
    let connections = Connections::new(limit, timeouts.header, &state.metrics);
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => {
            let cert = crate::tls::ReloadingCert::open(cert, key)?;
            cert.watch();
            Some(crate::tls::acceptor(cert))
        }
        _ => None,
    };
    let result = serve_on_workers(
        listeners,
        crate::http::router(state),
        timeouts,
        tls,
        connections,
    )
    .await;
    registry.close().await;
    tracing::info!("packyard stopped");
    result.map_err(StartupError::Serve)
}

/// How long a connection may stall.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// To send complete request headers (and to stay idle between requests).
    pub header: Duration,
    /// For a response to make progress: a client that reads nothing for this long is dropped and
    /// its request slot released.
    pub send: Duration,
}

/// A connection whose writes fail when the peer accepts no data for `limit`: hyper then drops the
/// connection and, with it, the response and everything it holds.
struct SendTimeout<T> {
    inner: T,
    limit: Duration,
    stalled: Option<Pin<Box<Sleep>>>,
}

impl<T> SendTimeout<T> {
    fn new(inner: T, limit: Duration) -> SendTimeout<T> {
        SendTimeout {
            inner,
            limit,
            stalled: None,
        }
    }

    /// On `Pending`, arms (or polls) the stall timer; on progress, disarms it.
    fn watch<R>(
        &mut self,
        cx: &mut Context<'_>,
        poll: Poll<std::io::Result<R>>,
    ) -> Poll<std::io::Result<R>> {
        match poll {
            Poll::Pending => {
                let limit = self.limit;
                let timer = self
                    .stalled
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the client read nothing within the send timeout",
                    ))),
                    Poll::Pending => Poll::Pending,
                }
            }
            ready => {
                self.stalled = None;
                ready
            }
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for SendTimeout<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for SendTimeout<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// After a graceful close (HTTP/2's GOAWAY), how long an idle connection has to go before it is
/// dropped: a peer that never answers the GOAWAY's ping would otherwise keep it.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Serves `app` on `listener` until `shutdown` completes; in-flight requests finish first (for at
/// most 30 s). Connections take their places in `connections`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    timeouts: Timeouts,
    tls: Option<TlsAcceptor>,
    connections: Arc<Connections>,
) -> std::io::Result<()> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header);
    builder.http2().timer(TokioTimer::new());
    // Every connection task holds a sender: when all are dropped, the last connection is gone.
    let (live, mut all_closed) = mpsc::channel::<()>(1);
    let (stop, stopping) = watch::channel(false);
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
        let Some(admitted) = connections.admit() else {
            tracing::debug!("connection refused: at --max-connections and none idle");
            continue;
        };
        // Without TCP_NODELAY, small responses can wait ~40 ms on Nagle plus delayed ACKs.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
        let stream = SendTimeout::new(stream, timeouts.send);
        let connection = Connection {
            builder: builder.clone(),
            app: app.clone(),
            admitted,
            table: connections.clone(),
            stopping: stopping.clone(),
            _live: live.clone(),
        };
        let Some(tls) = &tls else {
            tokio::spawn(connection.serve(stream, false));
            continue;
        };
        // The handshake runs in the connection's task, bounded like request headers.
        let handshake = tls.accept(stream);
        let header_timeout = timeouts.header;
        tokio::spawn(async move {
            match tokio::time::timeout(header_timeout, handshake).await {
                Ok(Ok(stream)) => connection.serve(stream, true).await,
                Ok(Err(error)) => tracing::debug!(%error, "TLS handshake failed"),
                Err(_) => tracing::debug!("TLS handshake timed out"),
            }
        });
    }
    drop(listener);
    let _ = stop.send(true);
    drop(live);
    tokio::select! {
        _ = all_closed.recv() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => tracing::warn!("in-flight requests did not finish within 30 s"),
    }
    Ok(())
}

/// One accepted connection, before it is served.
struct Connection {
    builder: Builder<TokioExecutor>,
    app: Router,
    admitted: Admitted,
    table: Arc<Connections>,
    stopping: watch::Receiver<bool>,
    /// Dropped when the connection ends (see `serve`).
    _live: mpsc::Sender<()>,
}

impl Connection {
    /// Serves HTTP/1.1 or HTTP/2 on `io` until the peer closes, the connection has been idle for
    /// the idle time, it is evicted, or the server stops.
    async fn serve<I>(self, io: I, over_tls: bool)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Connection {
            builder,
            app,
            admitted,
            table,
            mut stopping,
            _live,
        } = self;
        let conn = admitted.conn.clone();
        let tracked = table.clone();
        // Each request is in flight on this connection until its response body is done; requests
        // over TLS are marked so (the registry's own URLs then say https).
        let service = tower::service_fn(move |mut request: axum::http::Request<Incoming>| {
            if over_tls {
                request.headers_mut().insert(
                    "x-forwarded-proto",
                    axum::http::HeaderValue::from_static("https"),
                );
            }
            let activity = tracked.activity(&conn);
            let response = app.clone().oneshot(request);
            async move {
                let response = response.await?;
                Ok::<_, std::convert::Infallible>(
                    response.map(|body| TrackedBody::wrap(body, activity)),
                )
            }
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(service));
        let mut connection = std::pin::pin!(connection);
        let conn = admitted.conn.clone();
        let mut closing = false;
        loop {
            // Idle connections are checked when their idle time could be up.
            let check_in = table.idle_left(&conn).unwrap_or(table.idle_after());
            let wait = if closing {
                CLOSE_GRACE
            } else {
                check_in.max(Duration::from_millis(10))
            };
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%error, "connection ended with an error");
                    }
                    return;
                }
                () = conn.eviction() => return,
                changed = stopping.changed(), if !closing => {
                    if changed.is_err() || *stopping.borrow() {
                        // Shutdown: in-flight requests finish (the server waits up to 30 s).
                        connection.as_mut().graceful_shutdown();
                        closing = true;
                    }
                }
                () = tokio::time::sleep(wait) => {
                    match table.idle_left(&conn) {
                        Some(left) if left.is_zero() && closing => return,
                        Some(left) if left.is_zero() => {
                            table.count(Closed::Idle);
                            connection.as_mut().graceful_shutdown();
                            closing = true;
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}

/// `count` listening sockets on `addr`. A plain bind first: with `SO_REUSEPORT` alone, a second
/// server started on the same port would share it silently instead of failing (it also picks the
/// port when `addr` asks for any).
fn bind(addr: SocketAddr, count: usize) -> std::io::Result<Vec<std::net::TcpListener>> {
    let at = std::net::TcpListener::bind(addr)?.local_addr()?;
    let mut listeners: Vec<std::net::TcpListener> = Vec::with_capacity(count);
    for _ in 0..count {
        let socket = if at.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        #[cfg(unix)]
        socket.set_reuseport(true)?;
        socket.bind(at)?;
        // Registered with no runtime until its worker takes it.
        listeners.push(socket.listen(1024)?.into_std()?);
        if cfg!(not(unix)) {
            break;
        }
    }
    Ok(listeners)
}

/// One thread per listener, each a single-threaded runtime serving `app` on it, until SIGTERM or
/// SIGINT; then every worker lets its in-flight requests finish.
async fn serve_on_workers(
    listeners: Vec<std::net::TcpListener>,
    app: Router,
    timeouts: Timeouts,
    tls: Option<TlsAcceptor>,
    connections: Arc<Connections>,
) -> std::io::Result<()> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut workers = Vec::with_capacity(listeners.len());
    for (index, listener) in listeners.into_iter().enumerate() {
        let app = app.clone();
        let tls = tls.clone();
        let connections = connections.clone();
        let mut stopped = stopped.clone();
        let worker = std::thread::Builder::new()
            .name(format!("packyard-http-{index}"))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                let served = runtime.block_on(async move {
                    let listener = TcpListener::from_std(listener)?;
                    let shutdown = async move {
                        // A dropped sender means the server is going away too.
                        let _ = stopped.wait_for(|stop| *stop).await;
                    };
                    serve(listener, app, shutdown, timeouts, tls, connections).await
                });
                if let Err(error) = &served {
                    // Said at once: the other workers go on serving until shutdown.
                    tracing::error!(%error, worker = index, "an HTTP worker stopped");
                }
                served
            })?;
        workers.push(worker);
    }
    shutdown_signal().await;
    let _ = stop.send(true);
    let mut result = Ok(());
    for worker in workers {
        let joined = tokio::task::spawn_blocking(move || worker.join())
            .await
            .map_err(std::io::Error::other)?;
        match joined {
            Ok(Ok(())) => {}
            Ok(Err(error)) => result = Err(error),
            Err(_) => result = Err(std::io::Error::other("an HTTP worker panicked")),
        }
    }
    result
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
