//! What a task records about itself for [`Handle::dump`](crate::runtime::Handle::dump):
//! its state (idle, scheduled, running, and on which worker), how often it was polled,
//! and when it was last polled and woken.
//!
//! Cheap on purpose, since every poll and wake writes it: plain relaxed stores to the
//! task's own header (the poller is the only writer of the poll count, so it needs no
//! read-modify-write), and the times come from a *coarse clock* — a millisecond counter
//! the driver advances each time a thread waits on it or polls it (every park, and every
//! event interval of a busy worker) — instead of a clock read per poll. A dump reads the
//! fields racily; each is a consistent value, and together they are a snapshot good to a
//! few milliseconds.
use std::cell::Cell;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const IDLE: u32 = 0;
const SCHEDULED: u32 = 1;
const RUNNING: u32 = 2;
/// The state lives in the low bits of the state word; above them, the index + 1 of the
/// worker running the task (0: none or unknown).
const STATE_BITS: u32 = 2;
const STATE_MASK: u32 = (1 << STATE_BITS) - 1;

/// The per-task statistics (in every task's [`Header`](super::Header)).
#[derive(Debug, Default)]
pub(crate) struct TaskStats {
    state: AtomicU32,
    polls: AtomicU64,
    /// Coarse-clock milliseconds + 1 at the last poll and wake (0: never).
    last_poll: AtomicU32,
    last_wake: AtomicU32,
}

/// A task's state as a dump sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RawState {
    Idle,
    Scheduled,
    /// Being polled, by the worker of that index if known.
    Running(Option<usize>),
}

impl TaskStats {
    /// The task was put on a run queue (spawned or woken).
    #[inline]
    pub(crate) fn scheduled(&self) {
        self.state.store(SCHEDULED, Ordering::Relaxed);
        self.last_wake.store(coarse_now() + 1, Ordering::Relaxed);
    }

    /// A poll begins on this thread (the worker, if any, is the one [`set_worker`] last
    /// named here).
    #[inline]
    pub(crate) fn poll_started(&self) {
        self.state
            .store(RUNNING_HERE.with(Cell::get), Ordering::Relaxed);
        // Only the poller writes the count: a load and a store, no read-modify-write.
        let polls = self.polls.load(Ordering::Relaxed);
        self.polls.store(polls + 1, Ordering::Relaxed);
        self.last_poll.store(coarse_now() + 1, Ordering::Relaxed);
    }

    /// The poll returned. A wake during the poll reschedules the task after this, so the
    /// state then reads `Scheduled`.
    #[inline]
    pub(crate) fn poll_ended(&self) {
        self.state.store(IDLE, Ordering::Relaxed);
    }

    pub(crate) fn state(&self) -> RawState {
        let word = self.state.load(Ordering::Relaxed);
        match word & STATE_MASK {
            SCHEDULED => RawState::Scheduled,
            RUNNING => RawState::Running((word >> STATE_BITS).checked_sub(1).map(|w| w as usize)),
            _ => RawState::Idle,
        }
    }

    pub(crate) fn polls(&self) -> u64 {
        self.polls.load(Ordering::Relaxed)
    }

    /// How long ago the last poll began, by the coarse clock; `None` if never polled.
    pub(crate) fn since_last_poll(&self) -> Option<Duration> {
        since(self.last_poll.load(Ordering::Relaxed))
    }

    /// How long ago the task was last scheduled; `None` if never.
    pub(crate) fn since_last_wake(&self) -> Option<Duration> {
        since(self.last_wake.load(Ordering::Relaxed))
    }
}

fn since(stamp: u32) -> Option<Duration> {
    let at = stamp.checked_sub(1)?;
    let now = u32::try_from(origin().elapsed().as_millis()).unwrap_or(u32::MAX);
    Some(Duration::from_millis(u64::from(now.saturating_sub(at))))
}

thread_local! {
    /// The state word of a poll running on this thread: `RUNNING`, with the index (+ 1) of
    /// the multi-thread worker this thread drives, if any. Computed once per thread
    /// ([`set_worker`]) rather than looked up on every poll.
    static RUNNING_HERE: Cell<u32> = const { Cell::new(RUNNING) };
}

/// Names the multi-thread worker this thread drives from now on (`None`: none), for the
/// state of the polls it runs.
pub(crate) fn set_worker(worker: Option<usize>) {
    let worker = worker.map_or(0, |w| u32::try_from(w + 1).unwrap_or(0));
    RUNNING_HERE.with(|word| word.set(RUNNING | (worker << STATE_BITS)));
}

/// The multi-thread worker this thread drives, if any (as named by [`set_worker`]).
#[inline]
pub(crate) fn current_worker() -> Option<usize> {
    let worker = RUNNING_HERE.with(Cell::get) >> STATE_BITS;
    (worker as usize).checked_sub(1)
}

/// Milliseconds since the first use of the coarse clock, as of its last advance (it
/// wraps after 49 days; a stamp older than that reads as recent, which a dump tolerates).
static COARSE_MS: AtomicU32 = AtomicU32::new(0);

fn origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

#[inline]
fn coarse_now() -> u32 {
    COARSE_MS.load(Ordering::Relaxed)
}

/// Advances the coarse clock to now: called by the driver after each wait or poll of the
/// OS poller.
pub(crate) fn advance_coarse_clock() {
    let now = origin().elapsed().as_millis() as u32;
    COARSE_MS.store(now, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_polls_and_times() {
        let stats = TaskStats::default();
        assert_eq!(stats.state(), RawState::Idle);
        assert_eq!((stats.polls(), stats.since_last_poll()), (0, None));
        advance_coarse_clock();
        stats.scheduled();
        assert_eq!(stats.state(), RawState::Scheduled);
        assert!(stats.since_last_wake().is_some());
        set_worker(Some(3));
        stats.poll_started();
        assert_eq!(stats.state(), RawState::Running(Some(3)));
        stats.poll_ended();
        set_worker(None);
        stats.poll_started();
        assert_eq!(stats.state(), RawState::Running(None));
        stats.poll_ended();
        assert_eq!((stats.state(), stats.polls()), (RawState::Idle, 2));
        assert!(stats.since_last_poll().unwrap() < Duration::from_secs(60));
    }
}
