//! Who is asleep, who is searching: the bookkeeping that keeps stealing cheap and wakeups
//! exact.
//!
//! # The state word
//!
//! `state` packs two counts into one atomic so they change together:
//! the low [`SEARCH_BITS`] bits count *searching* workers (awake, out of local work, trying
//! to steal) and the rest count *unparked* workers (not on the sleeper list).
//!
//! # The protocol
//!
//! * **Publishing work** (a push to a stealable queue or to the injector) is followed by
//!   [`Idle::worker_to_notify`]: after a `SeqCst` fence it reads the state, and only when no
//!   worker is searching and some worker sleeps does it take the lock, pop one sleeper and
//!   count it as unparked *and searching* before unparking it. One push wakes at most one
//!   worker; a woken worker that finds work wakes the next only if it was the last searcher
//!   ([`Idle::transition_from_searching`] returns `true`), so wakeups ripple one at a time
//!   instead of stampeding.
//! * **Searching** is capped at half the workers ([`Idle::transition_to_searching`]): beyond
//!   that, extra thieves only contend on the same victims.
//! * **Parking** goes through [`Idle::transition_to_parked`] under the lock. A worker that was
//!   the *last* searcher must look at every queue once more after it is counted as asleep
//!   and wake someone if it sees work. This closes the race with a publisher that saw a
//!   searcher (and so woke nobody) while that searcher was already giving up: either the
//!   publisher's fenced read sees the searcher gone and wakes a sleeper, or the searcher's
//!   re-check sees the work.
//! * A sleeper that wakes up checks [`Idle::is_sleeping`]: if a notifier popped it, it is
//!   already counted as unparked and searching; if it is still on the list the wakeup was
//!   spurious (or a shutdown) and it may sleep again.
use crate::loom::{fence, AtomicUsize, Mutex, Ordering};

const SEARCH_BITS: usize = 16;
const SEARCH_MASK: usize = (1 << SEARCH_BITS) - 1;
const ONE_UNPARKED: usize = 1 << SEARCH_BITS;

/// Sleeper list and searching/unparked counts of one multi-thread scheduler.
#[derive(Debug)]
pub struct Idle {
    /// Packed searching and unparked counts; see the module docs.
    state: AtomicUsize,
    /// Indices of parked workers, most recently parked last. Only changed under this lock,
    /// and every change to the unparked count happens under it too.
    sleepers: Mutex<Vec<usize>>,
    num_workers: usize,
}

impl Idle {
    /// All `num_workers` start unparked and not searching.
    pub fn new(num_workers: usize) -> Self {
        assert!(num_workers < SEARCH_MASK, "too many worker threads");
        Self {
            state: AtomicUsize::new(num_workers * ONE_UNPARKED),
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
            num_workers,
        }
    }

    #[cfg(test)]
    pub(crate) fn num_searching(&self) -> usize {
        self.state.load(Ordering::SeqCst) & SEARCH_MASK
    }

    #[cfg(test)]
    pub(crate) fn num_unparked(&self) -> usize {
        self.state.load(Ordering::SeqCst) >> SEARCH_BITS
    }

    /// Called after publishing work: picks the sleeper to wake, if one should be woken, and
    /// counts it as unparked and searching. The caller unparks the returned index.
    #[inline(never)]
    pub fn worker_to_notify(&self) -> Option<usize> {
        // Order the caller's push before our read of the state (pairs with the fence in
        // `transition_to_parked`'s caller re-check).
        fence(Ordering::SeqCst);
        if !self.should_wake(self.state.load(Ordering::SeqCst)) {
            return None;
        }
        let mut sleepers = self.sleepers.lock();
        if !self.should_wake(self.state.load(Ordering::SeqCst)) {
            return None;
        }
        let worker = sleepers.pop()?;
        self.state.fetch_add(ONE_UNPARKED | 1, Ordering::SeqCst);
        Some(worker)
    }

    /// [`worker_to_notify`](Self::worker_to_notify) for work a *running worker* pushed onto
    /// its own deque: a relaxed look at the state first, and the fenced protocol only if
    /// someone might be asleep with nobody searching.
    ///
    /// Skipping the fence is safe for liveness here (not for remote pushes): the pusher is
    /// awake and will run the task itself if nobody steals it. A stale read can only delay
    /// a thief, and the next push or the pusher's own park re-checks.
    #[inline]
    pub fn worker_to_notify_local(&self) -> Option<usize> {
        if !self.should_wake(self.state.load(Ordering::Relaxed)) {
            return None;
        }
        self.worker_to_notify()
    }

    #[inline]
    fn should_wake(&self, state: usize) -> bool {
        state & SEARCH_MASK == 0 && (state >> SEARCH_BITS) < self.num_workers
    }

    /// Tries to count the caller as searching; refuses when half the workers already search.
    pub fn transition_to_searching(&self) -> bool {
        let state = self.state.load(Ordering::SeqCst);
        if 2 * (state & SEARCH_MASK) >= self.num_workers {
            return false;
        }
        self.state.fetch_add(1, Ordering::SeqCst);
        true
    }

    /// A searcher found work. Returns `true` if it was the last searcher, in which case the
    /// caller must wake another worker (there may be more work where this came from).
    #[must_use]
    pub fn transition_from_searching(&self) -> bool {
        let prev = self.state.fetch_sub(1, Ordering::SeqCst);
        debug_assert!(prev & SEARCH_MASK > 0);
        prev & SEARCH_MASK == 1
    }

    /// Puts `worker` on the sleeper list. Returns `true` if it was the last searcher, in
    /// which case the caller must re-check every queue and wake a worker if it sees work.
    #[must_use]
    pub fn transition_to_parked(&self, worker: usize, is_searching: bool) -> bool {
        let mut sleepers = self.sleepers.lock();
        let dec = ONE_UNPARKED | usize::from(is_searching);
        let prev = self.state.fetch_sub(dec, Ordering::SeqCst);
        sleepers.push(worker);
        drop(sleepers);
        // Order the count change before the caller's re-check of the queues, whose reads
        // may be weaker than `SeqCst` (crossbeam's `is_empty`). This fence pairs with the
        // one in `worker_to_notify`: of a publisher and the last searcher, at least one
        // sees the other. (loom found the lost wakeup without it.)
        fence(Ordering::SeqCst);
        is_searching && prev & SEARCH_MASK == 1
    }

    /// Whether `worker` is still on the sleeper list (nobody has notified it).
    pub fn is_sleeping(&self, worker: usize) -> bool {
        self.sleepers.lock().contains(&worker)
    }

    /// A sleeping worker other than `except`, left on the sleeper list: the driver's
    /// holder wakes it (spuriously, as far as this protocol goes) when it leaves the
    /// driver to run tasks, so that the sleeper takes the driver over.
    ///
    /// Call it *after* letting go of the driver. A sleeper puts itself on the list (and
    /// fences, in [`transition_to_parked`](Self::transition_to_parked)) before it tries
    /// the driver; the fence here pairs with that one, so of the two, either the sleeper
    /// finds the driver free or this finds the sleeper. Without it, both could read the
    /// other's old state (a store-then-load on each side: loom found it), leaving the
    /// driver empty while a worker sleeps on its condvar.
    pub fn sleeper_other_than(&self, except: usize) -> Option<usize> {
        fence(Ordering::SeqCst);
        // Cheap check first: all workers unparked means nobody sleeps.
        if self.state.load(Ordering::Relaxed) >> SEARCH_BITS == self.num_workers {
            return None;
        }
        self.sleepers
            .lock()
            .iter()
            .rev()
            .copied()
            .find(|&w| w != except)
    }

    /// Puts sleeping `worker` last in line for a notification (notifiers pop the list from
    /// its end: it goes to the front). The LIFO watcher does this, so that new work goes to
    /// the other sleepers first: woken for it, the watcher would give up its watch, and
    /// the next push into an empty LIFO slot would wake another sleeper to take it over
    /// (two wakeups per burst of work instead of one). Nothing happens if `worker` is not
    /// on the list.
    pub fn wake_last(&self, worker: usize) {
        let mut sleepers = self.sleepers.lock();
        if let Some(i) = sleepers.iter().position(|&w| w == worker) {
            let worker = sleepers.remove(i);
            sleepers.insert(0, worker);
        }
    }

    /// Takes `worker` off the sleeper list on its own account (it found work without being
    /// notified, or it is shutting down). It comes back as unparked, not searching. Returns
    /// `false` if a notifier had already taken it off (and counted it as searching).
    pub fn unpark_self(&self, worker: usize) -> bool {
        let mut sleepers = self.sleepers.lock();
        match sleepers.iter().position(|&w| w == worker) {
            Some(i) => {
                sleepers.swap_remove(i);
                self.state.fetch_add(ONE_UNPARKED, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_worker_put_last_in_line_is_notified_after_the_others() {
        let idle = Idle::new(3);
        for worker in 0..3 {
            let _ = idle.transition_to_parked(worker, false);
        }
        idle.wake_last(2);
        idle.wake_last(7); // not asleep: nothing happens
        let woken: Vec<_> = (0..3)
            .map(|_| {
                let worker = idle.worker_to_notify().unwrap();
                assert!(idle.transition_from_searching());
                worker
            })
            .collect();
        assert_eq!(woken, [1, 0, 2]);
    }

    #[test]
    fn search_is_capped_at_half_the_workers() {
        let idle = Idle::new(4);
        assert!(idle.transition_to_searching());
        assert!(idle.transition_to_searching());
        assert!(!idle.transition_to_searching());
        assert!(!idle.transition_from_searching());
        assert!(idle.transition_from_searching());
        assert_eq!(idle.num_searching(), 0);
    }

    #[test]
    fn notify_wakes_one_sleeper_and_counts_it_searching() {
        let idle = Idle::new(2);
        assert!(!idle.transition_to_parked(0, false));
        assert!(!idle.transition_to_parked(1, false));
        assert_eq!(idle.num_unparked(), 0);
        let woken = idle.worker_to_notify().expect("a sleeper to wake");
        assert!(!idle.is_sleeping(woken));
        assert_eq!(idle.num_searching(), 1);
        // While someone searches, publishing wakes nobody else.
        assert_eq!(idle.worker_to_notify(), None);
        assert!(idle.transition_from_searching());
        assert!(idle.worker_to_notify().is_some());
        assert_eq!(idle.worker_to_notify(), None, "nobody left asleep");
    }

    #[test]
    fn last_searcher_parking_is_reported() {
        let idle = Idle::new(2);
        assert!(idle.transition_to_searching());
        assert!(idle.transition_to_parked(0, true));
        assert!(idle.unpark_self(0));
        assert!(!idle.unpark_self(0));
        assert_eq!(idle.num_unparked(), 2);
    }
}
