//! One waker slot shared by one registering task and any number of waking threads.
//!
//! # Protocol
//!
//! `state` is a small lock over `slot` with three values:
//!
//! | state | who may touch `slot` |
//! |---|---|
//! | `IDLE` | nobody; either side may claim it |
//! | `REGISTERING` | the registrant, which moved `IDLE -> REGISTERING` |
//! | `WAKING` | the waker, which moved `IDLE -> WAKING` with `fetch_or` |
//! | `REGISTERING \| WAKING` | the registrant; a wake arrived mid-registration and the registrant owes it |
//!
//! - `register` claims `IDLE -> REGISTERING`, stores the waker, and releases with
//!   `REGISTERING -> IDLE`. If that release fails, a waker set `WAKING` in between and did
//!   not touch the slot, so the registrant takes its own waker back, resets to `IDLE` and
//!   wakes it. If the claim fails because a wake is in progress, the registrant wakes its
//!   own task so it polls again after the wake completes.
//! - `wake` sets `WAKING` with one `fetch_or`. If the previous state was `IDLE` it owns the
//!   slot, takes the waker, clears `WAKING`, then wakes outside the critical section. Any
//!   other previous state means someone else will deliver the wakeup.
//!
//! Only one task registers at a time: every caller of `register` holds `&mut` to the
//! receiving half that owns this slot.

use crate::loom::{spin_hint, AtomicUsize, Ordering, UnsafeCell};
use std::fmt;
use std::task::Waker;

const IDLE: usize = 0;
const REGISTERING: usize = 0b01;
const WAKING: usize = 0b10;

/// A waker slot for the single receiving task of a channel.
pub(crate) struct AtomicWaker {
    state: AtomicUsize,
    /// # Invariant
    /// Accessed only by the party that holds `REGISTERING` or `WAKING` as described in the
    /// module docs.
    slot: UnsafeCell<Option<Waker>>,
}

// SAFETY: `slot` is only touched by the one party holding the `state` lock (module docs),
// and `Waker` is `Send + Sync`, so sharing the slot between threads is sound.
unsafe impl Send for AtomicWaker {}
// SAFETY: as for `Send`: `state` serialises every access to `slot`.
unsafe impl Sync for AtomicWaker {}

impl AtomicWaker {
    pub(crate) fn new() -> Self {
        Self {
            state: AtomicUsize::new(IDLE),
            slot: UnsafeCell::new(None),
        }
    }

    /// Stores `waker` to be woken by the next [`AtomicWaker::wake`].
    ///
    /// The caller must be the only task registering (it holds `&mut` to the receiving half).
    pub(crate) fn register(&self, waker: &Waker) {
        match self
            .state
            .compare_exchange(IDLE, REGISTERING, Ordering::Acquire, Ordering::Acquire)
        {
            Ok(_) => {
                self.slot.with_mut(|slot| {
                    // SAFETY: we moved IDLE -> REGISTERING, so we own the slot until we
                    // leave REGISTERING; `wake` never touches it unless it saw IDLE.
                    let slot = unsafe { &mut *slot };
                    match slot {
                        Some(old) if old.will_wake(waker) => {}
                        _ => *slot = Some(waker.clone()),
                    }
                });
                if self
                    .state
                    .compare_exchange(REGISTERING, IDLE, Ordering::AcqRel, Ordering::Acquire)
                    .is_err()
                {
                    // A wake arrived while we held the slot: state is REGISTERING | WAKING
                    // and the waker left the slot alone, so the wakeup is ours to deliver.
                    // SAFETY: we still hold REGISTERING; nobody else touches the slot.
                    let waker = self.slot.with_mut(|slot| unsafe { (*slot).take() });
                    self.state.swap(IDLE, Ordering::AcqRel);
                    if let Some(waker) = waker {
                        waker.wake();
                    }
                }
            }
            Err(state) => {
                debug_assert_eq!(state, WAKING, "two tasks registered on one AtomicWaker");
                // A wake is taking the old waker right now; make sure this task polls again,
                // and give the waking thread a moment to finish.
                waker.wake_by_ref();
                spin_hint();
            }
        }
    }

    /// Wakes the registered task, if any.
    pub(crate) fn wake(&self) {
        if let Some(waker) = self.take() {
            waker.wake();
        }
    }

    /// Takes the registered waker without waking it.
    pub(crate) fn take(&self) -> Option<Waker> {
        match self.state.fetch_or(WAKING, Ordering::AcqRel) {
            IDLE => {
                // SAFETY: we moved IDLE -> WAKING, so we own the slot until we clear WAKING;
                // `register` backs off while WAKING is set.
                let waker = self.slot.with_mut(|slot| unsafe { (*slot).take() });
                self.state.fetch_and(!WAKING, Ordering::Release);
                waker
            }
            _ => None,
        }
    }
}

impl fmt::Debug for AtomicWaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AtomicWaker").finish_non_exhaustive()
    }
}
