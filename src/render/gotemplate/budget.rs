//! What one render may spend: bytes (every byte written to the output and every byte a function
//! allocates for its result, charged before it is allocated) and time (a deadline checked at every
//! action, loop iteration, function call and template call, and every step of a function that
//! walks values), plus a cancellation flag the caller sets when nobody waits for the answer any
//! more.
//!
//! Values share structure (`list $l $l` holds `$l` twice for the price of two slots), so what a
//! walker produces can be exponentially larger than what built its input: walkers charge what
//! they produce as they produce it ([`Text`] for text), and tick once per node they visit.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
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

/// How much work (in ticks) passes between two readings of the clock: reading it costs more than
/// counting. A tick is one small step (a node visited, a comparison, an action); costly steps read
/// the clock themselves ([`Budget::check_time`]).
const CLOCK_EVERY: u32 = 64;

/// Bytes of charged output that count as one tick of work (text is produced in pieces, each of
/// which is one step whatever its size; long pieces are work in proportion).
const BYTES_PER_TICK: u64 = 4096;

/// The running account of one render (one thread; `Cell`s, no locking).
#[derive(Debug)]
pub struct Budget {
    limits: Limits,
    used: Cell<u64>,
    deadline: Instant,
    ticks: Cell<u32>,
    cancelled: Option<Arc<AtomicBool>>,
    /// Maps the render changed in place (`set`, `merge`): only they can close a reference cycle
    /// (`set $m "self" $m`), which would keep them alive after the render. They are emptied when
    /// the budget is dropped, after every value of the render.
    changed: RefCell<Vec<Weak<super::value::Map>>>,
}

impl Drop for Budget {
    fn drop(&mut self) {
        for map in self.changed.get_mut().drain(..) {
            if let Some(map) = map.upgrade() {
                let entries = std::mem::take(&mut *map.entries.borrow_mut());
                drop(entries);
            }
        }
    }
}

impl Budget {
    pub fn new(limits: Limits) -> Budget {
        Budget {
            limits,
            used: Cell::new(0),
            deadline: Instant::now() + limits.timeout,
            ticks: Cell::new(0),
            cancelled: None,
            changed: RefCell::new(Vec::new()),
        }
    }

    /// A budget that also stops when `flag` is set.
    pub fn with_cancel(limits: Limits, flag: Arc<AtomicBool>) -> Budget {
        let mut budget = Budget::new(limits);
        budget.cancelled = Some(flag);
        budget
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

    /// Records that `map` is being changed in place (once per map, charged), so that a cycle it
    /// closes cannot outlive the render.
    pub fn changed(&self, map: &Rc<super::value::Map>) -> Result<(), Limit> {
        if !map.recorded.get() {
            self.charge(16)?;
            map.recorded.set(true);
            self.changed.borrow_mut().push(Rc::downgrade(map));
        }
        Ok(())
    }

    /// Bytes charged so far.
    pub fn used(&self) -> u64 {
        self.used.get()
    }

    /// Charges `bytes` before they are allocated or written (producing them is work, too).
    pub fn charge(&self, bytes: u64) -> Result<(), Limit> {
        let used = self.used.get().saturating_add(bytes);
        if used > self.limits.max_bytes {
            return Err(Limit::Output(self.limits.max_bytes));
        }
        self.used.set(used);
        self.work(1 + u32::try_from(bytes / BYTES_PER_TICK).unwrap_or(u32::MAX))
    }

    /// Admits a transient working set of `bytes` (freed before the function returns, such as
    /// scrypt's table): it is not charged, but it must fit beside everything charged so far
    /// within twice the byte budget, the most one render may hold at its peak.
    pub fn working_set(&self, bytes: u64) -> Result<(), Limit> {
        let peak = self.used.get().saturating_add(bytes);
        if peak > self.limits.max_bytes.saturating_mul(2) {
            return Err(Limit::Output(self.limits.max_bytes));
        }
        Ok(())
    }

    /// One small step of work; the clock and the cancellation flag are checked now and then.
    pub fn tick(&self) -> Result<(), Limit> {
        self.work(1)
    }

    /// `units` small steps of work.
    pub fn work(&self, units: u32) -> Result<(), Limit> {
        let ticks = self.ticks.get().saturating_add(units);
        if ticks >= CLOCK_EVERY {
            self.ticks.set(0);
            return self.check_time();
        }
        self.ticks.set(ticks);
        Ok(())
    }

    /// Runs a costly step (key generation, bcrypt, scrypt) between two readings of the clock, so
    /// that a render overruns its deadline by at most one such step.
    pub fn timed<T>(&self, step: impl FnOnce() -> T) -> Result<T, Limit> {
        self.check_time()?;
        let value = step();
        self.check_time()?;
        Ok(value)
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

/// Text written under a budget: every piece is charged before it is appended, so a walker that
/// expands shared values stops at the budget, not after building the whole expansion.
pub struct Text<'a> {
    out: &'a mut String,
    budget: &'a Budget,
}

impl<'a> Text<'a> {
    /// Appends to `out`.
    pub fn new(out: &'a mut String, budget: &'a Budget) -> Text<'a> {
        Text { out, budget }
    }

    pub fn budget(&self) -> &'a Budget {
        self.budget
    }

    pub fn put(&mut self, text: &str) -> Result<(), Limit> {
        self.budget.charge(text.len() as u64)?;
        self.out.push_str(text);
        Ok(())
    }

    pub fn put_char(&mut self, c: char) -> Result<(), Limit> {
        self.budget.charge(c.len_utf8() as u64)?;
        self.out.push(c);
        Ok(())
    }

    /// `count` copies of `c`, charged at once.
    pub fn repeat(&mut self, c: char, count: usize) -> Result<(), Limit> {
        self.budget
            .charge((c.len_utf8() as u64).saturating_mul(count as u64))?;
        self.out.extend(std::iter::repeat_n(c, count));
        Ok(())
    }

    /// What has been written so far.
    pub fn as_str(&self) -> &str {
        self.out
    }

    /// Cuts what has been written back to `len` bytes (nothing is refunded).
    pub fn truncate(&mut self, len: usize) {
        self.out.truncate(len);
    }
}

/// Builds a new string under `budget`.
pub fn text(
    budget: &Budget,
    write: impl FnOnce(&mut Text<'_>) -> Result<(), Limit>,
) -> Result<String, Limit> {
    let mut out = String::new();
    write(&mut Text::new(&mut out, budget))?;
    Ok(out)
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
    fn text_is_charged_piece_by_piece() {
        let budget = Budget::new(Limits {
            max_bytes: 10,
            timeout: Duration::from_secs(5),
        });
        let mut out = String::new();
        let mut text = Text::new(&mut out, &budget);
        text.put("hello").unwrap();
        assert_eq!(text.put("world!"), Err(Limit::Output(10)));
        assert_eq!(out, "hello", "nothing past the budget is appended");
    }

    #[test]
    fn a_working_set_may_reach_twice_the_budget() {
        let budget = Budget::new(Limits {
            max_bytes: 100,
            timeout: Duration::from_secs(5),
        });
        budget.charge(40).unwrap();
        assert!(budget.working_set(160).is_ok());
        assert_eq!(budget.working_set(161), Err(Limit::Output(100)));
        assert_eq!(budget.used(), 40, "a working set is not charged");
    }

    #[test]
    fn a_costly_step_reads_the_clock_before_and_after() {
        let budget = Budget::new(Limits {
            max_bytes: 10,
            timeout: Duration::from_millis(20),
        });
        let slow = budget.timed(|| std::thread::sleep(Duration::from_millis(30)));
        assert_eq!(slow, Err(Limit::Time(1)));
        assert!(budget.timed(|| ()).is_err(), "and refuses to start late");
    }

    #[test]
    fn a_cycle_a_render_closes_does_not_outlive_its_budget() {
        use super::super::value::{Str, Value};
        let budget = Budget::new(Limits::default());
        let map = Value::empty_map();
        let Value::Map(inner) = &map else {
            unreachable!()
        };
        budget.changed(inner).unwrap();
        inner
            .entries
            .borrow_mut()
            .insert(Str::from("self"), map.clone());
        let weak = Rc::downgrade(inner);
        drop(map);
        assert!(weak.upgrade().is_some(), "the cycle keeps the map alive");
        drop(budget);
        assert!(weak.upgrade().is_none(), "the budget broke the cycle");
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
