//! The time half of the driver: the timer wheels, one per shard, and the clock.
//!
//! Timers are registered by [`Sleep`](crate::time::Sleep) futures from any thread. Each
//! thread files its timers in its *home shard* (a multi-thread worker in its own, any other
//! thread in one picked once per thread), a [`TimerWheel`] behind its own lock, so that
//! workers arming and cancelling timeouts never contend for a lock (one wheel for all of
//! them spent a fifth of a timeout-heavy run in the lock's slow path). A [`TimerKey`] names
//! its shard, so a timer polled, reset or dropped on another thread finds its wheel.
//!
//! The wheels are advanced together by the thread that holds the driver (the one that
//! parks on it, or runs a busy worker's maintenance), which also computes the park
//! timeout from the earliest [`TimerWheel::next_expiration`]. A timer that is due
//! *earlier* than the timeout the parked thread went to sleep with has to wake it:
//! `register` compares with `sleeping_until` and the caller notifies the poller.
//!
//! # The two bounds, without a global lock
//!
//! `sleeping_until` (the parked thread's wake-up time) and `next_due` (no pending timer is
//! due before it) must cover every timer, yet a registration locks only its own shard
//! while [`process`](TimeDriver::process) visits the shards one by one. The holder of the
//! driver (only it calls `process`) first stores "unknown" (`u64::MAX`) in both, then
//! locks each shard in turn, and finally publishes what it found (`next_due` by
//! `fetch_min`, since registrations lower it meanwhile). A registration lowers `next_due`
//! under its shard lock and reads `sleeping_until` after it. Either its shard lock came
//! first, and the scan sees the timer; or the scan's lock of that shard came first, and
//! then the "unknown" stores happen before the registration (release of the scan's lock,
//! acquire of the registration's): its `fetch_min` lands after the reset of `next_due`, and
//! it reads `u64::MAX` or a later value (the final `sleeping_until`, which then misses
//! nothing earlier than the registration; 0 once the parked thread woke, which rescans
//! before it sleeps again), and notifies if its deadline is earlier. So neither bound ever misses a timer; at worst a registration racing a park
//! wakes the poller once for nothing.
//!
//! # Shutdown
//!
//! Once the runtime shuts down nobody advances the wheels, so a pending timer could never
//! fire. [`TimeDriver::shutdown`] (called from the driver's shutdown) raises `shut_down`
//! before it locks any shard, then wakes every pending timer of each; from then on [`TimeDriver::register`]
//! and [`TimeDriver::poll_fired`] report it ([`ShutDown`], [`TimerState::ShutDown`])
//! instead of waiting, and the [`Sleep`](crate::time::Sleep) polling them panics with a message
//! saying so. Removing a timer (dropping its `Sleep`) still works after shutdown.
//!
//! # Paused time
//!
//! The driver reads time from its [`Clock`], which is the OS's clock until the runtime's
//! time is paused, and virtual after. A paused clock never reaches a deadline by waiting,
//! so [`TimeDriver::process`] then gives no timeout (the parked thread waits for I/O or a
//! wake-up only); time moves by [`TimeDriver::jump`], which moves the clock to the next
//! timer (or a limit) and fires what is due. The current-thread scheduler jumps when every
//! task is idle (auto-advance), `filch::time::advance` jumps step by step to its target.
pub(crate) mod clock;
pub(crate) mod wheel;

pub(crate) use clock::Clock;
use crossbeam_utils::CachePadded;
use parking_lot::{Mutex, MutexGuard};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::Waker;
use std::time::{Duration, Instant};
pub(crate) use wheel::TimerWheel;

/// Held by a blocking job of a current-thread runtime from its spawn until it ends (runs or
/// is dropped): while any is held, the scheduler does not auto-advance a paused clock (see
/// `filch::time`). The last one to go wakes the thread parked in the driver, so that it
/// looks again.
#[derive(Debug)]
pub(crate) struct InhibitAutoAdvance(std::sync::Arc<super::Driver>);

impl InhibitAutoAdvance {
    /// A guard for a blocking job of the current-thread runtime whose driver is `driver`
    /// (a multi-thread runtime never auto-advances: its jobs need none).
    pub(crate) fn new(driver: &std::sync::Arc<super::Driver>) -> Self {
        driver.time.clock.inhibit_auto_advance();
        Self(driver.clone())
    }
}

impl Drop for InhibitAutoAdvance {
    fn drop(&mut self) {
        let clock = &self.0.time.clock;
        if clock.allow_auto_advance() && clock.is_paused() {
            self.0.unpark();
        }
    }
}

/// Bits of a [`TimerKey`] that name its shard.
const SHARD_BITS: u32 = 8;
/// Most shards a driver has (more workers share them).
pub(crate) const MAX_SHARDS: usize = 1 << SHARD_BITS;

/// A registered timer: its shard (low [`SHARD_BITS`] bits) and its entry in that shard's
/// wheel (the rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimerKey(usize);

impl TimerKey {
    fn new(shard: usize, entry: usize) -> Self {
        debug_assert!(shard < MAX_SHARDS);
        // Only a 32-bit target could get here (16.7 million timers in one shard): refuse
        // rather than hand out a key that names another timer.
        assert!(
            entry <= usize::MAX >> SHARD_BITS,
            "too many timers in one shard of the timer driver"
        );
        Self((entry << SHARD_BITS) | shard)
    }

    fn shard(self) -> usize {
        self.0 & (MAX_SHARDS - 1)
    }

    fn entry(self) -> usize {
        self.0 >> SHARD_BITS
    }
}

/// The home shard of a thread that is no multi-thread worker: picked once per thread, in
/// turn, so that such threads (a `block_on` caller, blocking jobs) spread over the shards.
fn thread_shard() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: Cell<Option<usize>> = const { Cell::new(None) };
    }
    SHARD.with(|shard| {
        shard.get().unwrap_or_else(|| {
            let picked = NEXT.fetch_add(1, Ordering::Relaxed);
            shard.set(Some(picked));
            picked
        })
    })
}

/// What [`TimeDriver::register`] did.
#[derive(Debug)]
pub(crate) struct Registered {
    pub(crate) key: TimerKey,
    /// Already due: the caller must not wait for a wakeup (none will come).
    pub(crate) fired: bool,
    /// The thread parked in the driver must be woken to shorten its timeout.
    pub(crate) notify: bool,
}

/// [`TimeDriver::register`] or [`TimeDriver::poll_fired`] on a shut-down driver: the
/// timer can never fire.
#[derive(Debug)]
pub(crate) struct ShutDown;

/// What [`TimeDriver::poll_fired`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub(crate) enum TimerState {
    /// The deadline passed.
    Fired,
    /// Not yet; the waker is recorded for when it does.
    Pending,
    /// The runtime shut down: it never will.
    ShutDown,
}

/// What [`TimeDriver::jump`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Jump {
    /// Moved the clock and fired timers (their tasks are woken).
    Fired,
    /// Moved the clock to the start of a slot of the wheel, which only re-filed timers
    /// into finer slots: jump again.
    Moved,
    /// Moved the clock to the limit, and nothing was due by then.
    Reached,
    /// No timer pending and no limit (or the driver shut down): nothing to jump to.
    NoTimer,
}

/// Clock and timer wheels of one runtime.
///
/// # Invariants
///
/// * Every timer lives in the wheel of the shard its [`TimerKey`] names.
/// * `next_due` is never later than the earliest deadline of a pending timer, and
///   `sleeping_until` never earlier than the time the parked thread wakes by itself (so a
///   registration due before it notifies); the holder of the driver resets both to
///   `u64::MAX` inside [`process`](Self::process), and the module docs say why no
///   registration is missed meanwhile.
/// * `shut_down` is raised before [`shutdown`](Self::shutdown) locks any shard, and read
///   under a shard lock by every registration and poll.
#[derive(Debug)]
pub(crate) struct TimeDriver {
    /// Time zero of the wheels' millisecond counter.
    start: Instant,
    /// The runtime's time: the OS's, or virtual once paused.
    pub(crate) clock: Clock,
    /// One wheel per shard, each on its own cache line.
    shards: Box<[CachePadded<Mutex<TimerWheel>>]>,
    /// Deadline (ms) the thread parked in the driver will wake at by itself (`u64::MAX`:
    /// it sleeps until notified, or is working out when to wake); 0 when nobody is parked
    /// in the driver.
    sleeping_until: AtomicU64,
    /// No pending timer is due before this (wheel ms; `u64::MAX`: none is pending). A lower
    /// bound, never later than the earliest pending deadline: lowered under a shard lock by
    /// every registration and reset, set to the wheels' next expiration whenever they
    /// advance, left alone when a timer is removed (early is safe, it only makes
    /// [`may_be_due`](Self::may_be_due) look once more). Lets a busy worker's periodic
    /// maintenance skip the wheels' locks while nothing can be due.
    next_due: AtomicU64,
    /// Set by [`shutdown`](Self::shutdown) before it visits the shards: no timer will fire
    /// any more. Read under a shard lock, so no registration can slip past the shutdown's
    /// wake-up of every pending timer.
    shut_down: AtomicBool,
}

impl TimeDriver {
    /// A driver whose timers are spread over `shards` wheels (at least one, at most
    /// [`MAX_SHARDS`]): one per worker of a multi-thread runtime.
    pub(crate) fn new(shards: usize) -> Self {
        let start = Instant::now();
        Self {
            start,
            clock: Clock::new(start),
            shards: (0..shards.clamp(1, MAX_SHARDS))
                .map(|_| CachePadded::new(Mutex::new(TimerWheel::new())))
                .collect(),
            sleeping_until: AtomicU64::new(0),
            next_due: AtomicU64::new(u64::MAX),
            shut_down: AtomicBool::new(false),
        }
    }

    /// The shard this thread files its timers in: a multi-thread worker's own index, any
    /// other thread's pick (see [`thread_shard`]).
    fn home_shard(&self) -> usize {
        let home = crate::task::stats::current_worker().unwrap_or_else(thread_shard);
        home % self.shards.len()
    }

    fn wheel(&self, key: TimerKey) -> MutexGuard<'_, TimerWheel> {
        self.shards[key.shard()].lock()
    }

    /// Every wheel, locked in shard order (the only order in which more than one is held).
    fn lock_all(&self) -> Vec<MutexGuard<'_, TimerWheel>> {
        self.shards.iter().map(|shard| shard.lock()).collect()
    }

    /// `instant` as a wheel deadline: whole ms since start, rounded **up** so that a timer
    /// never fires before its instant; an instant past `u64::MAX` ms saturates to
    /// `u64::MAX` (never, in practice) rather than wrapping around to a near deadline.
    pub(crate) fn deadline_ms(&self, instant: Instant) -> u64 {
        let since = instant.saturating_duration_since(self.start);
        let ms = u64::try_from(since.as_millis()).unwrap_or(u64::MAX);
        if since > Duration::from_millis(ms) {
            ms.saturating_add(1)
        } else {
            ms
        }
    }

    /// The current time in wheel ms, rounded **down**.
    pub(crate) fn now_ms(&self) -> u64 {
        let since = self.clock.now().saturating_duration_since(self.start);
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    }

    /// The time on this runtime's clock.
    #[inline]
    pub(crate) fn now(&self) -> Instant {
        self.clock.now()
    }

    /// Whether [`shutdown`](Self::shutdown) ran: no timer will fire any more.
    pub(crate) fn is_shut_down(&self) -> bool {
        self.shut_down.load(Ordering::Acquire)
    }

    /// Registers a timer; returns its key, whether it has already fired (its wheel was
    /// advanced past `deadline` by another thread since the caller looked at the clock),
    /// and whether the parked driver thread must be notified (the new deadline is earlier
    /// than the one it sleeps until).
    ///
    /// # Errors
    ///
    /// [`ShutDown`] (and nothing is registered) if the driver has shut down.
    pub(crate) fn register(&self, deadline: u64, waker: &Waker) -> Result<Registered, ShutDown> {
        let shard = self.home_shard();
        let mut wheel = self.shards[shard].lock();
        if self.is_shut_down() {
            return Err(ShutDown);
        }
        let entry = wheel.insert(deadline, Some(waker.clone()));
        let fired = wheel.is_fired(entry);
        if !fired {
            self.lower_next_due(deadline);
        }
        drop(wheel);
        Ok(Registered {
            key: TimerKey::new(shard, entry),
            fired,
            notify: !fired && deadline < self.sleeping_until.load(Ordering::SeqCst),
        })
    }

    /// Moves timer `key`; returns whether the parked thread must be notified.
    pub(crate) fn reset(&self, key: TimerKey, deadline: u64) -> bool {
        let mut wheel = self.wheel(key);
        wheel.reset(key.entry(), deadline);
        self.lower_next_due(deadline);
        drop(wheel);
        deadline < self.sleeping_until.load(Ordering::SeqCst)
    }

    /// Whether timer `key` fired; if it is pending, records `waker` for when it does. On a
    /// shut-down driver, [`TimerState::ShutDown`] whatever the timer's state.
    pub(crate) fn poll_fired(&self, key: TimerKey, waker: &Waker) -> TimerState {
        let mut wheel = self.wheel(key);
        if self.is_shut_down() {
            return TimerState::ShutDown;
        }
        if wheel.is_fired(key.entry()) {
            return TimerState::Fired;
        }
        let replaced = wheel.set_waker(key.entry(), waker);
        drop(wheel);
        // Outside the lock: dropping a waker may drop a task, and its timers with it.
        drop(replaced);
        TimerState::Pending
    }

    /// Whether a pending timer may be due by now: `false` means [`process`](Self::process)
    /// would fire nothing, and a busy worker's maintenance can skip it (and the wheels'
    /// locks). A relaxed read: a registration from another thread that it misses is seen
    /// by the next maintenance, or the worker parked in the driver was notified of it.
    pub(crate) fn may_be_due(&self) -> bool {
        self.now_ms() >= self.next_due.load(Ordering::Relaxed)
    }

    /// A timer is now pending until `deadline`; call with its shard locked (see the module
    /// docs). Reads first, so that the common case (a deadline later than one already
    /// pending) writes nothing to the shared line.
    fn lower_next_due(&self, deadline: u64) {
        if deadline < self.next_due.load(Ordering::Relaxed) {
            self.next_due.fetch_min(deadline, Ordering::Relaxed);
        }
    }

    /// Removes timer `key`; fine after shutdown too.
    pub(crate) fn remove(&self, key: TimerKey) {
        let waker = self.wheel(key).remove(key.entry());
        // Outside the lock, as in `poll_fired`.
        drop(waker);
    }

    /// Number of timers registered (fired or not, not yet dropped).
    pub(crate) fn num_timers(&self) -> usize {
        self.shards.iter().map(|shard| shard.lock().len()).sum()
    }

    /// Fires due timers (waking them after the lock is released) and returns how long the
    /// caller may sleep before the next one is due (`None`: no timer pending), or zero if
    /// it fired any: the tasks it woke may sit on the caller's own run queue, and nobody
    /// else would wake the caller for them.
    ///
    /// With `parking`, also records the deadline the caller will sleep until: a timer
    /// registered later with an earlier deadline then knows it must notify the poller (see
    /// the module docs for the registrations that race with this).
    ///
    /// Only the holder of the driver calls this.
    pub(crate) fn process(&self, parking: bool, fired: &mut Vec<Waker>) -> Option<Duration> {
        // "Unknown" until every shard is seen (module docs).
        if parking {
            self.sleeping_until.store(u64::MAX, Ordering::SeqCst);
        }
        self.next_due.store(u64::MAX, Ordering::Relaxed);
        let now = self.now_ms();
        let mut earliest = u64::MAX;
        for shard in self.shards.iter() {
            let mut wheel = shard.lock();
            wheel.advance(now, fired);
            if let Some(next) = wheel.next_expiration() {
                earliest = earliest.min(next);
            }
        }
        self.next_due.fetch_min(earliest, Ordering::Relaxed);
        if parking && !self.clock.is_paused() {
            // A paused clock sleeps until notified whatever the wheels hold (see below):
            // it stays "unknown", so that every registration meanwhile notifies.
            self.sleeping_until.store(earliest, Ordering::SeqCst);
        }
        let next = (earliest != u64::MAX).then_some(earliest);
        if !fired.is_empty() {
            for waker in fired.drain(..) {
                waker.wake();
            }
            return Some(Duration::ZERO);
        }
        if self.clock.is_paused() {
            // Waiting never brings a paused clock to a deadline: only a jump does.
            return None;
        }
        // A wheel time past what `Instant` can hold is never: sleep until notified.
        let at = self.start.checked_add(Duration::from_millis(next?))?;
        Some(at.saturating_duration_since(self.clock.now()))
    }

    /// Moves the clock forward to the next timer's slot of the wheel, or to `limit` if that
    /// comes first, and fires what is due by then (waking the timers after the lock is
    /// released). The clock should be paused (see the module docs).
    ///
    /// The next slot starts no later than the earliest deadline, so a jump never passes a
    /// timer: it fires it exactly at its (millisecond) deadline, or only cascades
    /// ([`Jump::Moved`]) and the next jump gets closer.
    pub(crate) fn jump(&self, limit: Option<Instant>, fired: &mut Vec<Waker>) -> Jump {
        let reached = {
            let mut wheels = self.lock_all();
            if self.is_shut_down() {
                return Jump::NoTimer;
            }
            let next = wheels
                .iter()
                .filter_map(|wheel| wheel.next_expiration())
                .min()
                .and_then(|ms| self.start.checked_add(Duration::from_millis(ms)));
            let (to, reached) = match (next, limit) {
                (Some(next), Some(limit)) if limit <= next => (limit, true),
                (Some(next), _) => (next, false),
                (None, Some(limit)) => (limit, true),
                (None, None) => return Jump::NoTimer,
            };
            self.clock.advance_to(to);
            let now = self.now_ms();
            let mut earliest = u64::MAX;
            for wheel in &mut wheels {
                wheel.advance(now, fired);
                earliest = earliest.min(wheel.next_expiration().unwrap_or(u64::MAX));
            }
            // Every wheel is locked: nobody lowers the bound meanwhile.
            self.next_due.store(earliest, Ordering::Relaxed);
            reached
        };
        if !fired.is_empty() {
            for waker in fired.drain(..) {
                waker.wake();
            }
            Jump::Fired
        } else if reached {
            Jump::Reached
        } else {
            Jump::Moved
        }
    }

    /// Auto-advance: jumps the clock to the next timer and fires it; `false` if no timer
    /// is pending (nothing moved).
    pub(crate) fn auto_advance(&self) -> bool {
        let mut fired = Vec::new();
        loop {
            match self.jump(None, &mut fired) {
                Jump::Fired => return true,
                Jump::Moved => continue,
                Jump::Reached | Jump::NoTimer => return false,
            }
        }
    }

    /// The parked thread woke up: nobody sleeps on a timeout any more, so registrations
    /// need not notify (whoever parks next computes its timeout afresh).
    pub(crate) fn woke(&self) {
        self.sleeping_until.store(0, Ordering::SeqCst);
    }

    /// The runtime shut down: marks the driver shut down and wakes every pending timer, so
    /// that whoever waits on one polls it and learns (it panics, see
    /// [`Sleep`](crate::time::Sleep)) instead of waiting forever. Idempotent.
    ///
    /// Called from the driver's shutdown (`Driver::shutdown`).
    pub(crate) fn shutdown(&self) {
        let mut pending = Vec::new();
        // Raised before any shard is locked: a registration that locks a shard after this
        // visit sees it, one before is in the wheel and woken here.
        self.shut_down.store(true, Ordering::Release);
        for shard in self.shards.iter() {
            shard.lock().take_pending_wakers(&mut pending);
        }
        for waker in pending {
            waker.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    use std::task::Wake;

    #[derive(Default)]
    struct CountWakes(AtomicUsize);

    impl Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn shutdown_wakes_pending_timers_and_refuses_new_ones() {
        let driver = TimeDriver::new(1);
        let wakes = Arc::new(CountWakes::default());
        let waker = Waker::from(wakes.clone());
        let pending = driver.register(u64::MAX, &waker).unwrap();
        let fired = driver.register(0, &waker).unwrap();
        assert!(fired.fired && !pending.fired);
        driver.shutdown();
        assert_eq!(
            wakes.0.load(Ordering::SeqCst),
            1,
            "the pending timer was woken"
        );
        assert!(driver.is_shut_down());
        assert_eq!(driver.poll_fired(pending.key, &waker), TimerState::ShutDown);
        assert_eq!(driver.poll_fired(fired.key, &waker), TimerState::ShutDown);
        assert!(driver.register(5, &waker).is_err());
        driver.remove(pending.key);
        driver.remove(fired.key);
        assert_eq!(driver.num_timers(), 0);
        driver.shutdown();
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1, "idempotent");
    }

    #[test]
    fn may_be_due_never_misses_a_pending_timer() {
        let driver = TimeDriver::new(1);
        let waker = Waker::from(Arc::new(CountWakes::default()));
        let mut fired = Vec::new();
        assert!(!driver.may_be_due(), "no timer");
        let far = driver.register(driver.now_ms() + 60_000, &waker).unwrap();
        assert!(!driver.may_be_due(), "one timer, a minute away");
        // Moved to now: due at once, whichever path moved it.
        driver.reset(far.key, driver.now_ms());
        assert!(driver.may_be_due());
        driver.process(false, &mut fired);
        assert!(!driver.may_be_due(), "fired: nothing pending");
        driver.remove(far.key);
        // A later registration lowers the bound again; a removal leaves it early (safe).
        let soon = driver.register(driver.now_ms() + 1, &waker).unwrap();
        driver.remove(soon.key);
        std::thread::sleep(Duration::from_millis(3));
        assert!(
            driver.may_be_due(),
            "a removed timer may leave the bound early"
        );
        driver.process(false, &mut fired);
        assert!(
            !driver.may_be_due(),
            "the wheel advanced: the bound is exact again"
        );
        // Paused time: a jump moves the bound with the clock.
        driver.clock.pause().unwrap();
        let next = driver.register(driver.now_ms() + 10_000, &waker).unwrap();
        assert!(!driver.may_be_due());
        assert!(driver.auto_advance());
        assert!(driver.poll_fired(next.key, &waker) == TimerState::Fired);
        assert!(!driver.may_be_due());
    }

    #[test]
    fn timers_live_in_the_shard_of_the_thread_that_registered_them() {
        let driver = TimeDriver::new(4);
        let waker = Waker::from(Arc::new(CountWakes::default()));
        let keys: Vec<_> = (0..6)
            .map(|worker| {
                std::thread::scope(|s| {
                    s.spawn(|| {
                        crate::task::stats::set_worker(Some(worker));
                        driver.register(u64::MAX, &waker).unwrap().key
                    })
                    .join()
                    .unwrap()
                })
            })
            .collect();
        let shards: Vec<_> = keys.iter().map(|key| key.shard()).collect();
        assert_eq!(shards, [0, 1, 2, 3, 0, 1], "worker index modulo the shards");
        assert_eq!(driver.num_timers(), 6);
        // Polled, reset and removed from another thread, each finds its own wheel.
        let now = driver.now_ms();
        driver.reset(keys[2], now);
        let mut fired = Vec::new();
        driver.process(false, &mut fired);
        assert_eq!(driver.poll_fired(keys[2], &waker), TimerState::Fired);
        assert_eq!(driver.poll_fired(keys[3], &waker), TimerState::Pending);
        for key in keys {
            driver.remove(key);
        }
        assert_eq!(driver.num_timers(), 0);
    }

    /// Registrations race with the driver holder's `process`; after each `process`, both
    /// bounds must cover every registration that completed before they were read (the
    /// parked thread's wake-up time only those that did not notify it). Timers go to the
    /// first shard, which the scan visits first: a plain store of what the scan found
    /// (instead of "unknown" first and `fetch_min` after) loses every registration made
    /// while the scan visits the other shards.
    #[test]
    fn bounds_cover_timers_registered_during_a_scan() {
        for _ in 0..10 {
            let driver = TimeDriver::new(16);
            let waker = Waker::from(Arc::new(CountWakes::default()));
            let stop = AtomicBool::new(false);
            // The earliest deadline registered so far (and of those that did not notify),
            // published after its registration.
            let registered = AtomicU64::new(u64::MAX);
            let unnotified = AtomicU64::new(u64::MAX);
            let base = driver.now_ms() + 3_600_000;
            // Scans so far: the registrations overlap many of them, also on a loaded machine.
            let looks = AtomicU64::new(0);
            std::thread::scope(|s| {
                s.spawn(|| {
                    let mut fired = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        driver.process(true, &mut fired);
                        let unnotified = unnotified.load(Ordering::SeqCst);
                        let sleeping = driver.sleeping_until.load(Ordering::SeqCst);
                        assert!(
                            sleeping <= unnotified,
                            "the driver would sleep until {sleeping}, past a timer at \
                             {unnotified} that did not notify it"
                        );
                        driver.woke();
                        let registered = registered.load(Ordering::Acquire);
                        let bound = driver.next_due.load(Ordering::Relaxed);
                        assert!(
                            bound <= registered,
                            "next_due {bound} is past a pending deadline {registered}"
                        );
                        looks.fetch_add(1, Ordering::Relaxed);
                    }
                });
                s.spawn(|| {
                    crate::task::stats::set_worker(Some(0));
                    while looks.load(Ordering::Relaxed) == 0 {
                        std::thread::yield_now();
                    }
                    // Ever earlier deadlines: each one lowers the bound.
                    let mut i = 0u64;
                    while i < 100_000 || (looks.load(Ordering::Relaxed) < 1_000 && i < 2_000_000) {
                        i += 1;
                        let notify = driver.register(base - i, &waker).unwrap().notify;
                        registered.fetch_min(base - i, Ordering::AcqRel);
                        if !notify {
                            unnotified.fetch_min(base - i, Ordering::SeqCst);
                        }
                    }
                    stop.store(true, Ordering::Relaxed);
                });
            });
        }
    }

    #[test]
    fn deadlines_saturate_instead_of_wrapping() {
        let driver = TimeDriver::new(1);
        let start = driver.start;
        let far = start + Duration::from_millis(u64::MAX) + Duration::from_secs(1);
        assert_eq!(driver.deadline_ms(far), u64::MAX);
        let just = start + Duration::from_micros(1500);
        assert_eq!(driver.deadline_ms(just), 2, "rounded up");
        assert_eq!(driver.deadline_ms(start), 0);
    }

    #[test]
    fn a_paused_clock_jumps_to_each_timer_exactly() {
        let driver = TimeDriver::new(1);
        driver.clock.pause().unwrap();
        let wakes = Arc::new(CountWakes::default());
        let waker = Waker::from(wakes.clone());
        let start = driver.now();
        let near = driver.register(
            driver.deadline_ms(start + Duration::from_millis(10)),
            &waker,
        );
        let far = driver.register(
            driver.deadline_ms(start + Duration::from_secs(3600)),
            &waker,
        );
        let (near, far) = (near.unwrap(), far.unwrap());
        let mut fired = Vec::new();
        assert_eq!(driver.process(true, &mut fired), None, "paused: no timeout");
        assert!(driver.auto_advance());
        assert_eq!(driver.now(), start + Duration::from_millis(10), "exactly");
        assert_eq!(driver.poll_fired(near.key, &waker), TimerState::Fired);
        assert_eq!(driver.poll_fired(far.key, &waker), TimerState::Pending);
        // A limit before the next timer: the clock stops there and nothing fires.
        let limit = start + Duration::from_secs(60);
        loop {
            match driver.jump(Some(limit), &mut fired) {
                Jump::Moved => continue,
                jump => {
                    assert_eq!(jump, Jump::Reached);
                    break;
                }
            }
        }
        assert_eq!(driver.now(), limit);
        assert!(driver.auto_advance());
        assert_eq!(driver.now(), start + Duration::from_secs(3600));
        assert_eq!(driver.poll_fired(far.key, &waker), TimerState::Fired);
        assert_eq!(wakes.0.load(Ordering::SeqCst), 2);
        driver.remove(near.key);
        driver.remove(far.key);
        assert!(!driver.auto_advance(), "no timer: nothing to jump to");
        assert_eq!(driver.now(), start + Duration::from_secs(3600));
    }
}
