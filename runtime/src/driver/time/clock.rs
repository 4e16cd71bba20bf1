//! [`Clock`]: the time of one runtime, real or virtual ("paused time").
//!
//! A runtime's clock is the OS's monotonic clock until [`Clock::pause`] freezes it: from
//! then on it is *virtual*, `base` plus, while running again after [`Clock::resume`], the
//! real time since the resume. A paused clock moves only through [`Clock::advance_to`],
//! which `filch::time::advance` and the current-thread scheduler's auto-advance call.
//!
//! # Cost when unused
//!
//! `filch::time::Instant::now` reads one process-wide counter, [`SHIFTED_CLOCKS`], through
//! [`any_shifted`] with a relaxed load: zero (no runtime in the process has ever paused
//! its clock) means the real clock, with no lock and no thread-local. Only while some
//! clock is virtual does `now` look up the runtime of the calling thread and read that
//! clock (a lock). A clock stays counted from its first pause until it is dropped (its
//! time is ahead of the real clock by then, and must not jump back on a resume).
//!
//! # Why the relaxed loads are enough
//!
//! The state behind the lock is a valid clock at every moment, also before the first
//! pause (`base` = start, running since start: the real clock). A thread that reads a
//! stale "not shifted" gets the real time, which is never later than the virtual one
//! (virtual time only ever runs ahead). The thread that pauses, and the runtime's own
//! thread, which takes the core through a lock, see their own writes.
//!
//! # The millisecond grid
//!
//! Timers have millisecond resolution: the wheel counts whole milliseconds since `start`.
//! A pause rounds the virtual time *up* to that grid (by less than a millisecond), so that
//! `sleep(10ms)` from a paused instant has a deadline exactly on the grid, and the jump to
//! it lands exactly there: a task sleeping in a loop sees `start + 10ms`, `start + 20ms`, ...
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Clocks of this process that have been paused at least once and still exist.
static SHIFTED_CLOCKS: AtomicUsize = AtomicUsize::new(0);

/// Whether some clock of this process is virtual (was paused and still exists): only then
/// must `filch::time::Instant::now` look up the runtime of the calling thread. One relaxed
/// load; see the module docs for why that is enough.
#[inline]
pub(crate) fn any_shifted() -> bool {
    SHIFTED_CLOCKS.load(Ordering::Relaxed) != 0
}

/// Why [`Clock::pause`], [`Clock::resume`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClockError {
    AlreadyPaused,
    NotPaused,
}

/// The clock of one runtime; see the module docs.
#[derive(Debug)]
pub(crate) struct Clock {
    /// Time zero of the timer wheel: pauses align on its millisecond grid.
    start: Instant,
    /// Whether the clock is paused (frozen): read with a relaxed load where the scheduler
    /// parks, and by `process` (a paused clock never reaches a deadline by waiting).
    paused: AtomicBool,
    /// Whether the clock was ever paused: its time is then `state`'s, not the OS's.
    shifted: AtomicBool,
    state: Mutex<State>,
    /// Blocking jobs in flight (spawned and not finished or dropped): while there are any,
    /// the scheduler does not auto-advance (see `filch::time`'s docs).
    inhibitors: AtomicUsize,
}

#[derive(Debug)]
struct State {
    /// The virtual time at `running_since` (while running), or the frozen time.
    base: Instant,
    /// The real instant `base` was read at, while the clock runs; `None` while paused.
    running_since: Option<Instant>,
}

impl State {
    fn now(&self) -> Instant {
        match self.running_since {
            None => self.base,
            Some(since) => self.base + since.elapsed(),
        }
    }
}

impl Clock {
    /// The real clock, with `start` as the wheel's time zero.
    pub(crate) fn new(start: Instant) -> Self {
        Self {
            start,
            paused: AtomicBool::new(false),
            shifted: AtomicBool::new(false),
            state: Mutex::new(State {
                base: start,
                running_since: Some(start),
            }),
            inhibitors: AtomicUsize::new(0),
        }
    }

    /// This clock's time.
    #[inline]
    pub(crate) fn now(&self) -> Instant {
        if !self.shifted.load(Ordering::Relaxed) {
            return Instant::now();
        }
        self.state.lock().now()
    }

    /// Whether the clock is paused.
    #[inline]
    pub(crate) fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Relaxed)
    }

    /// Freezes the clock, rounding its time up to the wheel's millisecond grid.
    pub(crate) fn pause(&self) -> Result<(), ClockError> {
        let mut state = self.state.lock();
        if state.running_since.is_none() {
            return Err(ClockError::AlreadyPaused);
        }
        let now = state.now();
        state.base = self.round_up(now);
        state.running_since = None;
        self.paused.store(true, Ordering::Relaxed);
        if !self.shifted.swap(true, Ordering::Relaxed) {
            SHIFTED_CLOCKS.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Freezes a new clock at the wheel's time zero (`Builder::start_paused`): where a
    /// paused runtime starts must not depend on how long building it took, or a seeded run
    /// would file its timers differently when the build was slow.
    pub(crate) fn pause_at_start(&self) -> Result<(), ClockError> {
        self.pause()?;
        self.state.lock().base = self.start;
        Ok(())
    }

    /// Lets the clock run again, from where it is, at the real clock's pace.
    pub(crate) fn resume(&self) -> Result<(), ClockError> {
        let mut state = self.state.lock();
        if state.running_since.is_some() {
            return Err(ClockError::NotPaused);
        }
        state.running_since = Some(Instant::now());
        self.paused.store(false, Ordering::Relaxed);
        Ok(())
    }

    /// Moves the clock forward to `target` (never back: an earlier `target` does nothing).
    /// Only the current-thread scheduler and `filch::time::advance` call it, on a clock that
    /// was paused (on a running one it shifts the time forward as well).
    pub(crate) fn advance_to(&self, target: Instant) {
        let mut state = self.state.lock();
        let now = state.now();
        if let Some(ahead) = target.checked_duration_since(now) {
            state.base += ahead;
        }
    }

    /// `instant` rounded up to the next whole millisecond since `start`.
    fn round_up(&self, instant: Instant) -> Instant {
        let since = instant.saturating_duration_since(self.start);
        let whole = Duration::from_millis(u64::try_from(since.as_millis()).unwrap_or(u64::MAX));
        if since > whole {
            self.start
                .checked_add(whole + Duration::from_millis(1))
                .unwrap_or(instant)
        } else {
            instant
        }
    }

    /// A blocking job starts its life (spawned): no auto-advance until it ends.
    pub(crate) fn inhibit_auto_advance(&self) {
        self.inhibitors.fetch_add(1, Ordering::SeqCst);
    }

    /// A blocking job ended (ran or was dropped); returns whether it was the last one.
    pub(crate) fn allow_auto_advance(&self) -> bool {
        self.inhibitors.fetch_sub(1, Ordering::SeqCst) == 1
    }

    /// Whether blocking jobs are in flight (no auto-advance).
    pub(crate) fn is_auto_advance_inhibited(&self) -> bool {
        self.inhibitors.load(Ordering::SeqCst) > 0
    }
}

impl Drop for Clock {
    fn drop(&mut self) {
        if *self.shifted.get_mut() {
            SHIFTED_CLOCKS.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_clock_is_the_real_clock() {
        let clock = Clock::new(Instant::now());
        let before = Instant::now();
        let now = clock.now();
        assert!(before <= now && now <= Instant::now());
        assert!(!clock.is_paused());
        assert!(
            clock.state.lock().now() >= before,
            "the state is a valid clock too"
        );
    }

    #[test]
    fn pause_at_start_freezes_at_time_zero_however_late_it_is_called() {
        let start = Instant::now();
        let clock = Clock::new(start);
        std::thread::sleep(Duration::from_micros(2500));
        clock.pause_at_start().unwrap();
        assert_eq!(clock.now(), start);
        assert!(clock.pause_at_start().is_err(), "already paused");
    }

    #[test]
    fn pause_freezes_on_the_millisecond_grid_and_advance_moves_exactly() {
        let start = Instant::now();
        let clock = Clock::new(start);
        std::thread::sleep(Duration::from_micros(1500));
        clock.pause().unwrap();
        let frozen = clock.now();
        assert!(frozen >= start + Duration::from_micros(1500));
        assert_eq!(
            (frozen - start).subsec_nanos() % 1_000_000,
            0,
            "on the ms grid"
        );
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(clock.now(), frozen, "frozen");
        clock.advance_to(frozen + Duration::from_millis(25));
        assert_eq!(clock.now(), frozen + Duration::from_millis(25));
        clock.advance_to(frozen);
        assert_eq!(
            clock.now(),
            frozen + Duration::from_millis(25),
            "never backwards"
        );
        assert_eq!(clock.pause(), Err(ClockError::AlreadyPaused));
    }

    #[test]
    fn resume_runs_on_from_the_virtual_time() {
        let clock = Clock::new(Instant::now());
        clock.pause().unwrap();
        let frozen = clock.now();
        clock.advance_to(frozen + Duration::from_secs(3600));
        clock.resume().unwrap();
        assert!(!clock.is_paused());
        assert_eq!(clock.resume(), Err(ClockError::NotPaused));
        let a = clock.now();
        std::thread::sleep(Duration::from_millis(2));
        let b = clock.now();
        assert!(a >= frozen + Duration::from_secs(3600));
        assert!(b >= a + Duration::from_millis(2), "running again");
        clock.pause().unwrap();
        assert!(clock.now() >= b, "a second pause never goes back");
    }

    #[test]
    fn blocking_jobs_inhibit_auto_advance() {
        let clock = Clock::new(Instant::now());
        assert!(!clock.is_auto_advance_inhibited());
        clock.inhibit_auto_advance();
        clock.inhibit_auto_advance();
        assert!(clock.is_auto_advance_inhibited());
        assert!(!clock.allow_auto_advance());
        assert!(clock.allow_auto_advance(), "the last one");
        assert!(!clock.is_auto_advance_inhibited());
    }
}
