//! [`WorkerThreads`]: how many of a runtime's worker threads and worker loops are still
//! running, which is what shutdown waits on.
//!
//! Two counts, because a thread and a loop are not the same thing once `block_in_place`
//! has run: it hands the thread's *core* (its queues, and with them its worker loop) to a
//! new thread, and the old thread lives on until the blocking closure returns.
//!
//! * `loops_exited` counts worker loops that ended: one per worker index, reported by
//!   whichever thread owns the core when the loop sees the shutdown flag, after it freed
//!   the core.
//! * `alive` counts threads that run or ran a worker loop and have not finished (their
//!   stop hook has not returned). A hand-off counts the new thread before it spawns it,
//!   from the old thread (which can then undo the count on the spot if the spawn fails).
//!
//! `shutdown` waits until every loop ended and, without a deadline, until `alive` is zero
//! too: a loop that ended is a core that is gone, but the thread that handed that core away
//! may still be in its blocking closure, and "shutdown returned" promises that every stop
//! hook ran. The `loom_block_in_place` model checks this protocol against a hand-off racing
//! the shutdown (it fails if the old thread touches the core after the hand-off, or if the
//! wait ignores `alive`).
use crate::loom::{Condvar, Mutex};
use std::time::Instant;

#[derive(Debug, Default)]
struct Counts {
    loops_exited: usize,
    alive: usize,
}

/// The counts of a runtime's worker threads and loops, and the condvar shutdown waits on.
///
/// (`pub` only for the loom models in `tests/`, through the hidden `__loom` module.)
#[derive(Debug)]
pub struct WorkerThreads {
    counts: Mutex<Counts>,
    changed: Condvar,
}

impl WorkerThreads {
    /// No thread started yet.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self {
            counts: Mutex::new(Counts::default()),
            changed: Condvar::new(),
        }
    }

    /// A worker thread is about to be spawned (at build, or by a `block_in_place`
    /// hand-off, which calls this from the thread it replaces).
    pub fn starting(&self) {
        self.counts.lock().alive += 1;
    }

    /// A worker loop ended; its core has been freed.
    pub fn loop_exited(&self) {
        self.counts.lock().loops_exited += 1;
        self.changed.notify_all();
    }

    /// A worker thread is done: its stop hook has returned, or it failed to spawn.
    pub fn finished(&self) {
        self.counts.lock().alive -= 1;
        self.changed.notify_all();
    }

    /// Waits until `loops` worker loops have ended and, without a deadline, until every
    /// worker thread has finished too. Returns `false` if `deadline` passed first.
    pub fn wait_stopped(&self, loops: usize, deadline: Option<Instant>) -> bool {
        let mut counts = self.counts.lock();
        while counts.loops_exited < loops || (deadline.is_none() && counts.alive > 0) {
            counts = match deadline {
                None => self.changed.wait(counts),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return false;
                    }
                    self.changed.wait_timeout(counts, deadline - now)
                }
            };
        }
        true
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn a_deadline_ends_the_wait_for_a_loop_that_never_exits() {
        let threads = WorkerThreads::new();
        threads.starting();
        let deadline = Instant::now() + Duration::from_millis(20);
        assert!(!threads.wait_stopped(1, Some(deadline)));
        assert!(Instant::now() >= deadline);
    }

    #[test]
    fn without_a_deadline_the_wait_also_waits_for_a_thread_past_its_loop() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let threads = Arc::new(WorkerThreads::new());
        let hook_ran = Arc::new(AtomicBool::new(false));
        threads.starting();
        threads.loop_exited();
        let finisher = {
            let (threads, hook_ran) = (threads.clone(), hook_ran.clone());
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                hook_ran.store(true, Ordering::SeqCst);
                threads.finished();
            })
        };
        // With a deadline, the loop is all it waits for.
        assert!(threads.wait_stopped(1, Some(Instant::now())));
        assert!(threads.wait_stopped(1, None));
        assert!(
            hook_ran.load(Ordering::SeqCst),
            "returned before the thread finished"
        );
        finisher.join().unwrap();
    }
}
