//! [`Intervals`]: how often a busy scheduler looks past its local queue, and
//! [`Countdown`], the counter that says when.
//!
//! Both flavors run tasks from a local queue as long as it has some; every
//! `global_queue` ticks they take from the shared queue first (remote spawns and wakes are
//! never starved), and every `event` ticks they poll the driver without blocking (I/O and
//! timers are served while nobody is idle). `Builder::global_queue_interval` and
//! `Builder::event_interval` set them; the defaults are primes, so they do not beat in
//! step with task periods.

/// A scheduler's two intervals, in ticks (task polls).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Intervals {
    pub(crate) global_queue: u32,
    pub(crate) event: u32,
}

impl Intervals {
    /// The multi-thread flavor's defaults.
    pub(crate) const MULTI_THREAD: Intervals = Intervals {
        global_queue: 61,
        event: 61,
    };
    /// The current-thread flavor's defaults (its remote queue is its only shared one, so it
    /// looks there more often).
    pub(crate) const CURRENT_THREAD: Intervals = Intervals {
        global_queue: 31,
        event: 61,
    };
}

/// Counts ticks down to the next time an interval is due: one decrement and one compare per
/// tick (a `%` by a run-time value would be a division on every task poll).
#[derive(Debug)]
pub(crate) struct Countdown {
    left: std::cell::Cell<u32>,
    every: u32,
}

impl Countdown {
    /// Due every `every` ticks (`every > 0`).
    pub(crate) fn new(every: u32) -> Self {
        debug_assert!(every > 0);
        Self {
            left: std::cell::Cell::new(every),
            every,
        }
    }

    /// Counts one tick; `true` on every `every`-th.
    #[inline]
    pub(crate) fn tick(&self) -> bool {
        let left = self.left.get() - 1;
        if left == 0 {
            self.left.set(self.every);
            true
        } else {
            self.left.set(left);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Countdown;

    #[test]
    fn due_on_every_nth_tick() {
        let every_three = Countdown::new(3);
        let due: Vec<bool> = (0..7).map(|_| every_three.tick()).collect();
        assert_eq!(due, [false, false, true, false, false, true, false]);
        let always = Countdown::new(1);
        assert!((0..5).all(|_| always.tick()));
    }
}
