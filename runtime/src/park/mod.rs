//! Putting an idle thread to sleep, and waking it: [`Parker`] and [`Unparker`].
//!
//! A worker with nothing to run calls [`Parker::park`]; anyone holding the matching
//! [`Unparker`] ends that sleep. The pair keeps one *token*: an `unpark` that arrives before
//! the `park` is remembered, so the next `park` returns at once. That is the whole
//! no-lost-wakeup argument of the scheduler's sleep path: whoever publishes work and then
//! calls `unpark` either finds the sleeper `PARKED` (and signals the condvar under the
//! mutex the sleeper waits with) or leaves `NOTIFIED` for it to consume.
//!
//! # States of `Inner::state`
//!
//! | state | meaning | who moves it out |
//! |---|---|---|
//! | `EMPTY` | no token, nobody asleep | `park` → `PARKED`, `unpark` → `NOTIFIED` |
//! | `PARKED` | the owner sleeps (or is about to) on the condvar | `unpark` → `NOTIFIED` + signal |
//! | `NOTIFIED` | a token waits to be consumed | `park` → `EMPTY` (returns at once) |
//!
//! The `PARKED` transition happens with the mutex held and `unpark` takes the mutex before
//! signalling, so a signal can never fall between the sleeper's check and its wait.
//!
//! # Parking in the driver
//!
//! A parker built [`with_driver`](Parker::with_driver) first tries to take the runtime's
//! [`Driver`]: if it gets it, it sleeps in the OS poller instead of the condvar (state
//! `PARKED_DRIVER`), serving I/O events and timers for the whole runtime while it waits,
//! and `unpark` wakes it with the poller's `notify`. At most one thread holds the driver;
//! every other sleeper uses its condvar. A worker that leaves the driver to run the tasks
//! it woke wakes one condvar sleeper, which takes the driver over (see the scheduler's
//! `worker` module), so the OS is waited on whenever some worker is idle.
pub(crate) mod thread;

use crate::driver::Driver;
use crate::loom::{Arc, AtomicUsize, Condvar, Mutex, Ordering};
use std::time::Duration;

const EMPTY: usize = 0;
const PARKED: usize = 1;
const NOTIFIED: usize = 2;
const PARKED_DRIVER: usize = 3;

/// The sleeping half: owned by one thread, `!Clone`.
///
/// (Declared `pub` only so the loom models in `tests/` can reach it through the hidden
/// `__loom` module; the `park` module itself is private.)
#[derive(Debug)]
pub struct Parker {
    inner: Arc<Inner>,
}

/// The waking half: shared by everyone who may hand the sleeper work.
#[derive(Debug, Clone)]
pub struct Unparker {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// One of `EMPTY`, `PARKED`, `NOTIFIED`; see the module docs.
    state: AtomicUsize,
    /// Held while moving into `PARKED` and while signalling.
    lock: Mutex<()>,
    condvar: Condvar,
    /// The runtime's driver, for parkers that may sleep in it.
    driver: Option<std::sync::Arc<Driver>>,
}

impl Parker {
    /// A parker without a token, that sleeps on its condvar.
    pub fn new() -> Self {
        Self::with_driver(None)
    }

    /// A parker that sleeps in `driver` whenever it can take it.
    pub(crate) fn with_driver(driver: Option<std::sync::Arc<Driver>>) -> Self {
        Self {
            inner: Arc::new(Inner {
                state: AtomicUsize::new(EMPTY),
                lock: Mutex::new(()),
                condvar: Condvar::new(),
                driver,
            }),
        }
    }

    /// A waking half for this parker.
    pub fn unparker(&self) -> Unparker {
        Unparker {
            inner: self.inner.clone(),
        }
    }

    /// Sleeps until the token is set, then consumes it.
    pub fn park(&self) {
        self.inner.park(None);
    }

    /// [`park`](Self::park), returning whether this thread slept in the driver (and so
    /// has just left it).
    pub(crate) fn park_reporting_driver(&self) -> bool {
        self.inner.park(None)
    }

    /// Sleeps until the token is set or `timeout` passes (whichever comes first), consuming
    /// the token if it was set. May return early (spuriously); callers re-check.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn park_timeout(&self, timeout: Duration) {
        self.inner.park(Some(timeout));
    }

    /// [`park_timeout`](Self::park_timeout), returning whether this thread slept in the
    /// driver (and so has just left it).
    pub(crate) fn park_timeout_reporting_driver(&self, timeout: Duration) -> bool {
        self.inner.park(Some(timeout))
    }
}

impl Unparker {
    /// Sets the token and wakes the sleeper if it is asleep.
    pub fn unpark(&self) {
        self.inner.unpark();
    }

    /// Whether both wake the same parker.
    pub(crate) fn same_parker(&self, other: &Unparker) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Inner {
    /// Sleeps (see `Parker::park`); returns whether it slept in the driver.
    fn park(&self, timeout: Option<Duration>) -> bool {
        // Fast path: a token is already here.
        if self
            .state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::Acquire, Ordering::Acquire)
            .is_ok()
        {
            return false;
        }
        if let Some(driver) = &self.driver {
            if let Some(mut driver) = driver.try_lock() {
                match self.state.compare_exchange(
                    EMPTY,
                    PARKED_DRIVER,
                    Ordering::Acquire,
                    Ordering::Acquire,
                ) {
                    Ok(_) => {}
                    Err(NOTIFIED) => {
                        self.state.swap(EMPTY, Ordering::Acquire);
                        return false;
                    }
                    Err(other) => unreachable!("Parker::park: impossible state {other}"),
                }
                driver.park(timeout);
                // Woken by `notify`, by an event, or by a timer: consume a token if any.
                self.state.swap(EMPTY, Ordering::Acquire);
                return true;
            }
        }
        if timeout == Some(Duration::ZERO) {
            return false;
        }
        let mut guard = self.lock.lock();
        match self
            .state
            .compare_exchange(EMPTY, PARKED, Ordering::Acquire, Ordering::Acquire)
        {
            Ok(_) => {}
            Err(NOTIFIED) => {
                // The token arrived between the fast path and taking the lock. Consume it
                // with a swap, not a store: another `unpark` may have re-set `NOTIFIED`
                // since the failed CAS, and reading its write (Acquire) is what makes its
                // data visible to us. A plain store lost that wakeup (found by loom).
                self.state.swap(EMPTY, Ordering::Acquire);
                return false;
            }
            Err(other) => unreachable!("Parker::park: impossible state {other} (two parkers?)"),
        }
        loop {
            guard = match timeout {
                None => self.condvar.wait(guard),
                Some(timeout) => {
                    let guard = self.condvar.wait_timeout(guard, timeout);
                    // Timed out or woken: either way leave, consuming a token if one came.
                    self.state.swap(EMPTY, Ordering::Acquire);
                    drop(guard);
                    return false;
                }
            };
            if self
                .state
                .compare_exchange(NOTIFIED, EMPTY, Ordering::Acquire, Ordering::Acquire)
                .is_ok()
            {
                return false;
            }
            // Spurious wakeup: still PARKED, sleep again.
        }
    }

    fn unpark(&self) {
        // `AcqRel`: a later unpark that finds `NOTIFIED` carries the earlier one's writes
        // along, so the sleeper that consumes one token sees everything both published.
        match self.state.swap(NOTIFIED, Ordering::AcqRel) {
            EMPTY | NOTIFIED => {}
            PARKED => {
                // Taking the lock orders this signal after the sleeper's wait began.
                drop(self.lock.lock());
                self.condvar.notify_one();
            }
            PARKED_DRIVER => {
                if let Some(driver) = &self.driver {
                    driver.unpark();
                }
            }
            other => unreachable!("Unparker::unpark: impossible state {other}"),
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn token_before_park_returns_at_once() {
        let parker = Parker::new();
        parker.unparker().unpark();
        parker.park();
    }

    #[test]
    fn unpark_from_another_thread_wakes_the_sleeper() {
        let parker = Parker::new();
        let unparker = parker.unparker();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            unparker.unpark();
        });
        parker.park();
        t.join().unwrap();
    }

    #[test]
    fn park_timeout_returns_without_a_token() {
        let parker = Parker::new();
        let start = Instant::now();
        parker.park_timeout(Duration::from_millis(10));
        assert!(start.elapsed() >= Duration::from_millis(10));
        // And the state is back to EMPTY: a later token is still delivered.
        parker.unparker().unpark();
        parker.park();
    }
}
