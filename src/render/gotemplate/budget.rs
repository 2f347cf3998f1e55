//! What one render may spend: bytes (every byte written to the output and every byte a function
//! allocates for its result, charged before it is allocated) and time (a deadline checked at every
//! action, loop iteration, function call and template call), plus a cancellation flag the caller
//! sets when nobody waits for the answer any more.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Which budget a render exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Limit {
    #[error("the render produced more than {0} bytes (--render-max-output-bytes)")]
    Output(u64),
    #[error("the render took longer than {0} s (--render-timeout-secs)")]
    Time(u64),
    #[error("the render was cancelled")]
    Cancelled,
    #[error("values or templates are nested too deeply")]
    Nesting,
}

/// The limits of one render, fixed by configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_bytes: u64,
    pub timeout: Duration,
}

impl Limits {
    pub const DEFAULT_MAX_BYTES: u64 = 32 << 20;
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_bytes: Limits::DEFAULT_MAX_BYTES,
            timeout: Limits::DEFAULT_TIMEOUT,
        }
    }
}

/// How often (in ticks) the clock is read: reading it costs more than counting.
const CLOCK_EVERY: u32 = 64;

/// The running account of one render (one thread; `Cell`s, no locking).
#[derive(Debug)]
pub struct Budget {
    limits: Limits,
    used: Cell<u64>,
    deadline: Instant,
    ticks: Cell<u32>,
    cancelled: Option<Arc<AtomicBool>>,
}

impl Budget {
    pub fn new(limits: Limits) -> Budget {
        Budget {
            limits,
            used: Cell::new(0),
            deadline: Instant::now() + limits.timeout,
            ticks: Cell::new(0),
            cancelled: None,
        }
    }

    /// A budget that also stops when `flag` is set.
    pub fn with_cancel(limits: Limits, flag: Arc<AtomicBool>) -> Budget {
        Budget {
            cancelled: Some(flag),
            ..Budget::new(limits)
        }
    }

    /// An effectively unlimited budget (tests and tools that render trusted input).
    pub fn unlimited() -> Budget {
        Budget::new(Limits {
            max_bytes: u64::MAX,
            timeout: Duration::from_secs(365 * 24 * 3600),
        })
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Bytes charged so far.
    pub fn used(&self) -> u64 {
        self.used.get()
    }

    /// Charges `bytes` before they are allocated or written.
    pub fn charge(&self, bytes: u64) -> Result<(), Limit> {
        let used = self.used.get().saturating_add(bytes);
        if used > self.limits.max_bytes {
            return Err(Limit::Output(self.limits.max_bytes));
        }
        self.used.set(used);
        Ok(())
    }

    /// Checks the clock and the cancellation flag now and then.
    pub fn tick(&self) -> Result<(), Limit> {
        let ticks = self.ticks.get().wrapping_add(1);
        self.ticks.set(ticks);
        if ticks.is_multiple_of(CLOCK_EVERY) {
            self.check_time()?;
        }
        Ok(())
    }

    /// Checks the clock and the cancellation flag at once (before and after expensive steps).
    pub fn check_time(&self) -> Result<(), Limit> {
        if self
            .cancelled
            .as_ref()
            .is_some_and(|flag| flag.load(Ordering::Relaxed))
        {
            return Err(Limit::Cancelled);
        }
        if Instant::now() >= self.deadline {
            return Err(Limit::Time(self.limits.timeout.as_secs().max(1)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_up_to_the_limit_and_no_further() {
        let budget = Budget::new(Limits {
            max_bytes: 10,
            timeout: Duration::from_secs(5),
        });
        assert!(budget.charge(6).is_ok());
        assert_eq!(budget.charge(5), Err(Limit::Output(10)));
        assert_eq!(budget.used(), 6);
        assert!(budget.charge(4).is_ok());
    }

    #[test]
    fn a_cancelled_budget_stops_at_the_next_check() {
        let flag = Arc::new(AtomicBool::new(false));
        let budget = Budget::with_cancel(Limits::default(), flag.clone());
        assert!(budget.check_time().is_ok());
        flag.store(true, Ordering::Relaxed);
        assert_eq!(budget.check_time(), Err(Limit::Cancelled));
    }

    #[test]
    fn the_deadline_is_checked_by_ticks() {
        let budget = Budget::new(Limits {
            max_bytes: 10,
            timeout: Duration::ZERO,
        });
        let stopped = (0..CLOCK_EVERY).map(|_| budget.tick()).any(|r| r.is_err());
        assert!(stopped);
    }
}
