//! Log output set-up: human-readable text or one JSON object per line, on stderr.
//!
//! Lines are appended to an in-memory batch that a background thread writes out every 50 ms (or as
//! soon as it holds 256 KiB): a request never waits on a write to stderr, and a busy server makes
//! one `write` per batch instead of waking a writer thread for every line. Nothing is dropped:
//! past 8 MiB of unwritten lines a logging thread writes the batch itself.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::LogFormat;

/// How long a line may wait in the batch.
const FLUSH_EVERY: Duration = Duration::from_millis(50);
/// A batch this large is written at once.
const FLUSH_AT: usize = 256 << 10;
/// Beyond this, the logging thread writes the batch itself (memory stays bounded).
const MAX_PENDING: usize = 8 << 20;

struct Batch {
    lines: Vec<u8>,
    closed: bool,
}

struct Shared {
    batch: Mutex<Batch>,
    wake: Condvar,
    /// Serialises writes to stderr (the background thread's and overflow writes).
    out: Mutex<std::io::Stderr>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Batch> {
        // A panic while holding the lock leaves plain bytes behind: keep using them.
        self.batch.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn write_out(&self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        // Nowhere to report a failing stderr.
        let _ = out.write_all(bytes);
        let _ = out.flush();
    }

    /// Takes the pending lines and writes them.
    fn drain(&self) {
        let lines = std::mem::take(&mut self.lock().lines);
        self.write_out(&lines);
    }
}

/// Writes the last lines when dropped; keep it alive until exit.
pub struct LogGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.shared.drain();
    }
}

/// The `MakeWriter` the subscriber formats each event into: one event, one `write_all`.
#[derive(Clone)]
struct BatchWriter {
    shared: Arc<Shared>,
}

impl Write for BatchWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut batch = self.shared.lock();
        batch.lines.extend_from_slice(bytes);
        let pending = batch.lines.len();
        if pending >= MAX_PENDING {
            let lines = std::mem::take(&mut batch.lines);
            drop(batch);
            self.shared.write_out(&lines);
        } else if pending >= FLUSH_AT {
            drop(batch);
            self.shared.wake.notify_one();
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchWriter {
    type Writer = BatchWriter;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn background(shared: Arc<Shared>) {
    loop {
        let mut batch = shared.lock();
        if batch.lines.len() < FLUSH_AT && !batch.closed {
            batch = shared
                .wake
                .wait_timeout(batch, FLUSH_EVERY)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        let closed = batch.closed;
        let lines = std::mem::take(&mut batch.lines);
        drop(batch);
        shared.write_out(&lines);
        if closed {
            return;
        }
    }
}

/// Installs the global subscriber. `RUST_LOG` overrides the default level (`info`).
pub fn init(format: LogFormat) -> LogGuard {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let shared = Arc::new(Shared {
        batch: Mutex::new(Batch {
            lines: Vec::with_capacity(FLUSH_AT),
            closed: false,
        }),
        wake: Condvar::new(),
        out: Mutex::new(std::io::stderr()),
    });
    let thread = {
        let shared = shared.clone();
        std::thread::Builder::new()
            .name("packyard-log".to_owned())
            .spawn(move || background(shared))
            .ok()
    };
    let writer = BatchWriter {
        shared: shared.clone(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(std::io::stderr().is_terminal());
    // try_init: a second call keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    LogGuard { shared, thread }
}
