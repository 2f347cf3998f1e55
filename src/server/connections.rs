//! The connections one server holds, across its workers: at most `--max-connections`, each
//! closed when it has had no request in flight for the idle time (HTTP/2 as HTTP/1.1), and at the
//! cap the one idle longest makes room for a new one.
//!
//! A connection is busy from the moment a request reaches the router until its response body has
//! been sent or dropped ([`Activity`]); otherwise it is idle since the last such moment.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use tokio::sync::Notify;

use crate::http::metrics::{Metrics, ReasonLabels};

/// The default cap: three quarters of the open-file limit (the rest is for database connections,
/// blob files and sockets to S3), at most this many.
const MOST_CONNECTIONS_BY_DEFAULT: u64 = 16_384;

/// One connection's state, shared by its task and the requests on it.
#[derive(Debug)]
pub struct Conn {
    in_flight: AtomicUsize,
    /// Milliseconds since the table's start when the connection last became idle.
    idle_since: AtomicU64,
    /// Set when the table closed it to make room: the connection's task drops it at once.
    evicted: AtomicBool,
    wake: Notify,
}

impl Conn {
    pub fn evicted(&self) -> bool {
        self.evicted.load(Ordering::Acquire)
    }

    /// Completes when the table evicts this connection.
    pub async fn eviction(&self) {
        loop {
            let notified = self.wake.notified();
            if self.evicted() {
                return;
            }
            notified.await;
        }
    }
}

/// Why the server closed a connection, as `/metrics` counts it.
#[derive(Debug, Clone, Copy)]
pub enum Closed {
    /// It had no request in flight for the idle time.
    Idle,
    /// It was the idle one closed to make room at the cap.
    Evicted,
    /// It arrived at the cap with no idle connection to close.
    Refused,
}

impl Closed {
    fn label(self) -> &'static str {
        match self {
            Closed::Idle => "idle",
            Closed::Evicted => "evicted",
            Closed::Refused => "refused",
        }
    }
}

/// Every connection of one server.
#[derive(Debug)]
pub struct Connections {
    limit: usize,
    idle_after: Duration,
    started: Instant,
    next_id: AtomicU64,
    table: Mutex<HashMap<u64, Arc<Conn>>>,
    open: Gauge,
    closed: Family<ReasonLabels, Counter>,
}

/// A connection's place in the table, given back when its task ends.
#[derive(Debug)]
pub struct Admitted {
    table: Arc<Connections>,
    id: u64,
    pub conn: Arc<Conn>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        if let Ok(mut table) = self.table.table.lock()
            && table.remove(&self.id).is_some()
        {
            self.table.open.dec();
        }
    }
}

impl Connections {
    pub fn new(limit: usize, idle_after: Duration, metrics: &Metrics) -> Arc<Connections> {
        Arc::new(Connections {
            limit: limit.max(1),
            idle_after,
            started: Instant::now(),
            next_id: AtomicU64::new(0),
            table: Mutex::new(HashMap::new()),
            open: metrics.http_connections.clone(),
            closed: metrics.http_connections_closed.clone(),
        })
    }

    pub fn idle_after(&self) -> Duration {
        self.idle_after
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub fn count(&self, why: Closed) {
        self.closed
            .get_or_create(&ReasonLabels {
                reason: why.label(),
            })
            .inc();
    }

    /// Takes a place for a new connection: at the cap, the connection idle longest is evicted to
    /// make room; `None` (refused) when every connection has a request in flight.
    pub fn admit(self: &Arc<Self>) -> Option<Admitted> {
        let mut table = self.table.lock().ok()?;
        if table.len() >= self.limit {
            let victim = table
                .iter()
                .filter(|(_, conn)| conn.in_flight.load(Ordering::Acquire) == 0)
                .min_by_key(|(_, conn)| conn.idle_since.load(Ordering::Acquire))
                .map(|(id, _)| *id);
            let Some(victim) = victim else {
                drop(table);
                self.count(Closed::Refused);
                return None;
            };
            if let Some(conn) = table.remove(&victim) {
                self.open.dec();
                conn.evicted.store(true, Ordering::Release);
                conn.wake.notify_one();
                self.count(Closed::Evicted);
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            in_flight: AtomicUsize::new(0),
            idle_since: AtomicU64::new(self.now_ms()),
            evicted: AtomicBool::new(false),
            wake: Notify::new(),
        });
        table.insert(id, conn.clone());
        self.open.inc();
        Some(Admitted {
            table: self.clone(),
            id,
            conn,
        })
    }

    /// How long until `conn` has been idle for the idle time (zero: it has), or `None` while a
    /// request is in flight.
    pub fn idle_left(&self, conn: &Conn) -> Option<Duration> {
        if conn.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        let idle_for = self
            .now_ms()
            .saturating_sub(conn.idle_since.load(Ordering::Acquire));
        Some(
            self.idle_after
                .saturating_sub(Duration::from_millis(idle_for)),
        )
    }

    /// Marks a request in flight on `conn` until the returned value is dropped.
    pub fn activity(self: &Arc<Self>, conn: &Arc<Conn>) -> Activity {
        conn.in_flight.fetch_add(1, Ordering::AcqRel);
        Activity {
            table: self.clone(),
            conn: conn.clone(),
        }
    }
}

/// The cap when `--max-connections` is not given, from the open-file limit (raised to its hard
/// limit first, as Go's runtime does).
pub fn default_limit() -> usize {
    let files = raise_open_file_limit();
    usize::try_from((files / 4 * 3).clamp(64, MOST_CONNECTIONS_BY_DEFAULT)).unwrap_or(1024)
}

/// Raises the soft limit on open files to the hard limit; returns the soft limit after.
#[cfg(unix)]
fn raise_open_file_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write the struct given, nothing else.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit.rlim_cur = limit.rlim_max;
            }
        }
    }
    limit.rlim_cur
}

#[cfg(not(unix))]
fn raise_open_file_limit() -> u64 {
    1024
}

/// A request in flight on a connection; when the last one ends, the connection is idle from then.
#[derive(Debug)]
pub struct Activity {
    table: Arc<Connections>,
    conn: Arc<Conn>,
}

impl Drop for Activity {
    fn drop(&mut self) {
        if self.conn.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.conn
                .idle_since
                .store(self.table.now_ms(), Ordering::Release);
        }
    }
}

/// A response body that keeps its request in flight until it has been sent or dropped.
pub struct TrackedBody {
    inner: Body,
    _activity: Activity,
}

impl TrackedBody {
    pub fn wrap(inner: Body, activity: Activity) -> Body {
        Body::new(TrackedBody {
            inner,
            _activity: activity,
        })
    }
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_cap_the_longest_idle_connection_makes_room() {
        let metrics = Metrics::default();
        let table = Connections::new(2, Duration::from_secs(10), &metrics);
        let first = table.admit().unwrap();
        let second = table.admit().unwrap();
        // The first is busy, the second idle: the second is evicted for a third.
        let busy = table.activity(&first.conn);
        let third = table.admit().unwrap();
        assert!(second.conn.evicted());
        assert!(!first.conn.evicted());
        // Every one busy: a fourth is refused.
        let _also_busy = table.activity(&third.conn);
        assert!(table.admit().is_none());
        drop(busy);
        assert!(table.admit().is_some(), "the first is idle again");
    }

    #[test]
    fn idleness_counts_from_the_end_of_the_last_request() {
        let metrics = Metrics::default();
        let table = Connections::new(4, Duration::from_secs(10), &metrics);
        let admitted = table.admit().unwrap();
        let activity = table.activity(&admitted.conn);
        assert_eq!(table.idle_left(&admitted.conn), None);
        drop(activity);
        let left = table.idle_left(&admitted.conn).unwrap();
        assert!(left > Duration::from_secs(9), "{left:?}");
    }
}
