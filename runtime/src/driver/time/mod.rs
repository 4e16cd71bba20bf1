//! The time half of the driver: the [`TimerWheel`] behind a lock, and the clock.
//!
//! Timers are registered by [`Sleep`](crate::time::Sleep) futures from any thread. The
//! wheel is advanced by whichever thread parks on the driver (or runs its periodic
//! maintenance), which also computes the park timeout from
//! [`TimerWheel::next_expiration`]. A timer that is due *earlier* than the timeout the
//! parked thread went to sleep with has to wake it: `register` compares with
//! `sleeping_until` and the caller notifies the poller.
pub(crate) mod wheel;

use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Waker;
use std::time::{Duration, Instant};
pub(crate) use wheel::TimerWheel;

/// What [`TimeDriver::register`] did.
#[derive(Debug)]
pub(crate) struct Registered {
    pub(crate) key: usize,
    /// Already due: the caller must not wait for a wakeup (none will come).
    pub(crate) fired: bool,
    /// The thread parked in the driver must be woken to shorten its timeout.
    pub(crate) notify: bool,
}

/// Clock and timer wheel of one runtime.
#[derive(Debug)]
pub(crate) struct TimeDriver {
    /// Time zero of the wheel's millisecond counter.
    start: Instant,
    wheel: Mutex<TimerWheel>,
    /// Deadline (ms) the thread parked in the driver will wake at by itself (`u64::MAX`:
    /// it sleeps until notified); 0 when nobody is parked in the driver.
    sleeping_until: AtomicU64,
}

impl TimeDriver {
    pub(crate) fn new() -> Self {
        Self {
            start: Instant::now(),
            wheel: Mutex::new(TimerWheel::new()),
            sleeping_until: AtomicU64::new(0),
        }
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
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Registers a timer; returns its key, whether it has already fired (the wheel was
    /// advanced past `deadline` by another thread since the caller looked at the clock),
    /// and whether the parked driver thread must be notified (the new deadline is earlier
    /// than the one it sleeps until).
    pub(crate) fn register(&self, deadline: u64, waker: &Waker) -> Registered {
        let mut wheel = self.wheel.lock();
        let key = wheel.insert(deadline, Some(waker.clone()));
        let fired = wheel.is_fired(key);
        drop(wheel);
        Registered {
            key,
            fired,
            notify: !fired && deadline < self.sleeping_until.load(Ordering::SeqCst),
        }
    }

    /// Moves timer `key`; returns whether the parked thread must be notified.
    pub(crate) fn reset(&self, key: usize, deadline: u64) -> bool {
        self.wheel.lock().reset(key, deadline);
        deadline < self.sleeping_until.load(Ordering::SeqCst)
    }

    /// `true` if the timer fired; otherwise records `waker` for when it does.
    pub(crate) fn poll_fired(&self, key: usize, waker: &Waker) -> bool {
        let mut wheel = self.wheel.lock();
        if wheel.is_fired(key) {
            return true;
        }
        wheel.set_waker(key, waker);
        false
    }

    pub(crate) fn remove(&self, key: usize) {
        self.wheel.lock().remove(key);
    }

    /// Number of timers registered (fired or not, not yet dropped).
    pub(crate) fn num_timers(&self) -> usize {
        self.wheel.lock().len()
    }

    /// Fires due timers (waking them after the lock is released) and returns how long the
    /// caller may sleep before the next one is due (`None`: no timer pending), or zero if
    /// it fired any: the tasks it woke may sit on the caller's own run queue, and nobody
    /// else would wake the caller for them.
    ///
    /// With `parking`, also records (under the wheel lock, so no registration can slip in
    /// between) the deadline the caller will sleep until: a timer registered later with an
    /// earlier deadline then knows it must notify the poller.
    pub(crate) fn process(&self, parking: bool, fired: &mut Vec<Waker>) -> Option<Duration> {
        let next = {
            let mut wheel = self.wheel.lock();
            wheel.advance(self.now_ms(), fired);
            let next = wheel.next_expiration();
            if parking {
                self.sleeping_until
                    .store(next.unwrap_or(u64::MAX), Ordering::SeqCst);
            }
            next
        };
        if !fired.is_empty() {
            for waker in fired.drain(..) {
                waker.wake();
            }
            return Some(Duration::ZERO);
        }
        // A wheel time past what `Instant` can hold is never: sleep until notified.
        let at = self.start.checked_add(Duration::from_millis(next?))?;
        Some(at.saturating_duration_since(Instant::now()))
    }

    /// The parked thread woke up: nobody sleeps on a timeout any more, so registrations
    /// need not notify (whoever parks next computes its timeout afresh).
    pub(crate) fn woke(&self) {
        self.sleeping_until.store(0, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_saturate_instead_of_wrapping() {
        let driver = TimeDriver::new();
        let far = driver.start + Duration::from_millis(u64::MAX) + Duration::from_secs(1);
        assert_eq!(driver.deadline_ms(far), u64::MAX);
        let just = driver.start + Duration::from_micros(1500);
        assert_eq!(driver.deadline_ms(just), 2, "rounded up");
        assert_eq!(driver.deadline_ms(driver.start), 0);
    }
}
