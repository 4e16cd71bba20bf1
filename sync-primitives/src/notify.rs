//! Wake one task or all waiting tasks, without data.
//!
//! # State
//!
//! One atomic word: `calls << 2 | mode`, where `mode` is
//!
//! - `EMPTY`: nobody waits and no permit is stored;
//! - `WAITING`: the queue is non-empty (set and cleared only with the queue lock held);
//! - `NOTIFIED`: a `notify_one` permit is stored for the next waiter.
//!
//! and `calls` counts `notify_waiters` calls (incremented with the queue lock held).
//! `EMPTY <-> NOTIFIED` may change without the lock (a `notify_one` storing a permit, a
//! `Notified` consuming it); nothing else does, so under the lock a `WAITING` word is
//! stable.
//!
//! # Protocol
//!
//! - `notify_one`: if `WAITING`, take the lock, mark the head waiter `BY_ONE`, pop and
//!   wake it (back to `EMPTY` when the queue empties); otherwise CAS the mode to
//!   `NOTIFIED`.
//! - `notify_last`: the same at the tail (the most recently queued waiter), marked
//!   `BY_LAST`; with nobody queued it stores the same permit as `notify_one`.
//! - `notify_waiters`: with the lock held, bump `calls`, mark every queued waiter
//!   `BY_ALL`, pop and wake them all, mode `WAITING -> EMPTY`. No permit is stored.
//! - A [`Notified`] snapshots `calls` when it is created, so a `notify_waiters` that runs
//!   after creation but before the first poll still completes it. On its first poll (or
//!   [`Notified::enable`]) it completes if `calls` moved or it can consume a permit;
//!   otherwise it queues (mode to `WAITING`).
//! - Cancellation: a queued `Notified` that is dropped leaves the queue. One that was popped
//!   `BY_ONE` (`BY_LAST`) but never returned `Ready` passes the notification on, with
//!   `notify_one` (`notify_last`) again, so neither is swallowed by a cancelled waiter.
//!
//! The mode word uses `SeqCst`, so "create `Notified`, check condition, await" against
//! "set condition, `notify_waiters`" cannot miss both ways (a store-load pattern).
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll, Waker};

use crate::loom::{loom_const_fn, AtomicUsize, Ordering::SeqCst};
use crate::runtime_hooks;
use crate::waitlist::{QueueGuard, Removal, WaitQueue, Waiter, WaiterState, WakeList};

const EMPTY: usize = 0;
const WAITING: usize = 1;
const NOTIFIED: usize = 2;
const MODE: usize = 0b11;
const CALL: usize = 0b100;

/// A waiter's `value`: why it was popped.
const BY_ONE: usize = 1;
const BY_ALL: usize = 2;
const BY_LAST: usize = 3;

/// Which end of the queue a single notification takes its waiter from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// `notify_one`: the longest-waiting waiter.
    Front,
    /// `notify_last`: the most recently queued waiter.
    Back,
}

/// Notifies tasks to wake up, without carrying data.
///
/// [`notify_one`](Self::notify_one) wakes one waiter in FIFO order, or stores a single
/// permit for the next one if nobody waits; [`notify_last`](Self::notify_last) does the
/// same for the most recent waiter. [`notify_waiters`](Self::notify_waiters) wakes
/// everyone waiting now and stores nothing.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use filch_sync::Notify;
///
/// let notify = Arc::new(Notify::new());
/// let n2 = notify.clone();
/// let t = std::thread::spawn(move || futures::executor::block_on(n2.notified()));
/// notify.notify_one(); // wakes the thread, or is stored for it
/// t.join().unwrap();
/// ```
pub struct Notify {
    /// `calls << 2 | mode`; see the module docs.
    state: AtomicUsize,
    waiters: WaitQueue,
}

/// The future of [`Notify::notified`].
///
/// It is guaranteed to see every `notify_waiters` called after it was created, and it
/// takes part in `notify_one`'s FIFO once polled or [`enable`](Self::enable)d.
///
/// # Examples
///
/// ```
/// use filch_sync::Notify;
///
/// let notify = Notify::new();
/// let notified = notify.notified();
/// notify.notify_waiters();
/// futures::executor::block_on(notified); // completes: created before the call
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Notified<'a> {
    notify: &'a Notify,
    /// Structurally pinned: never moved out of a pinned `Notified` (see `project`).
    waiter: Waiter<'a>,
    /// `calls` when this future was created.
    calls: usize,
    stage: Stage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Init,
    Waiting,
    Done,
}

impl Notify {
    loom_const_fn! {
        /// Creates a `Notify` with no stored permit. `const` except under `--cfg loom`.
        ///
        /// # Examples
        ///
        /// ```
        /// use filch_sync::Notify;
        ///
        /// static READY: Notify = Notify::new();
        /// READY.notify_one();
        /// futures::executor::block_on(READY.notified());
        /// ```
        pub const fn new() -> Self {
            Self {
                state: AtomicUsize::new(EMPTY),
                waiters: WaitQueue::new(),
            }
        }
    }

    loom_const_fn! {
        /// Same as [`new`](Self::new), named like the other primitives' `const`
        /// constructors.
        ///
        /// # Examples
        ///
        /// ```
        /// use filch_sync::Notify;
        ///
        /// static N: Notify = Notify::const_new();
        /// N.notify_one();
        /// ```
        pub const fn const_new() -> Self {
            Self::new()
        }
    }

    /// A future that completes when this `Notify` is notified.
    ///
    /// # Cancel safety
    ///
    /// Dropping it leaves the queue; if a `notify_one` already picked it, the notification
    /// is passed on to the next waiter (or stored).
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::Notify;
    ///
    /// let notify = Notify::new();
    /// notify.notify_one();
    /// futures::executor::block_on(notify.notified()); // consumes the stored permit
    /// ```
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            waiter: Waiter::new(&self.waiters),
            calls: self.state.load(SeqCst) / CALL,
            stage: Stage::Init,
        }
    }

    /// Wakes the longest-waiting waiter, or, if none waits, stores one permit (at most
    /// one) for the next `notified().await`.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::Notify;
    ///
    /// let notify = Notify::new();
    /// notify.notify_one();
    /// notify.notify_one(); // permits do not add up
    /// futures::executor::block_on(notify.notified());
    /// let mut second = Box::pin(notify.notified());
    /// assert!(!second.as_mut().enable());
    /// ```
    pub fn notify_one(&self) {
        self.notify_single(End::Front);
    }

    /// Wakes the most recently queued waiter, or, if none waits, stores one permit (at
    /// most one, shared with [`notify_one`](Self::notify_one)) for the next
    /// `notified().await`.
    ///
    /// Otherwise as `notify_one`: a waiter it picks that is dropped before it completes
    /// passes the notification on to the then most recent waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::Notify;
    ///
    /// let notify = Notify::new();
    /// let mut first = Box::pin(notify.notified());
    /// let mut second = Box::pin(notify.notified());
    /// assert!(!first.as_mut().enable());
    /// assert!(!second.as_mut().enable());
    /// notify.notify_last();
    /// // The most recent waiter is woken, the older one still waits.
    /// futures::executor::block_on(second);
    /// assert!(!first.as_mut().enable());
    /// // With nobody else waiting, a permit is stored.
    /// drop(first);
    /// notify.notify_last();
    /// futures::executor::block_on(notify.notified());
    /// ```
    pub fn notify_last(&self) {
        self.notify_single(End::Back);
    }

    fn notify_single(&self, end: End) {
        let mut cur = self.state.load(SeqCst);
        while cur & MODE != WAITING {
            match self
                .state
                .compare_exchange(cur, (cur & !MODE) | NOTIFIED, SeqCst, SeqCst)
            {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
        let waker = self.notify_single_locked(self.waiters.lock(), end);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// `notify_one` (`End::Front`) or `notify_last` (`End::Back`) with the lock held;
    /// returns the waker to wake after unlocking.
    fn notify_single_locked(&self, mut queue: QueueGuard<'_>, end: End) -> Option<Waker> {
        let mut cur = self.state.load(SeqCst);
        loop {
            if cur & MODE == WAITING {
                // Under the lock WAITING is stable and means the queue is non-empty.
                let waker = match end {
                    End::Front => {
                        queue.set_front_value(BY_ONE);
                        queue.pop_front().flatten()
                    }
                    End::Back => {
                        queue.set_back_value(BY_LAST);
                        queue.pop_back().flatten()
                    }
                };
                if queue.is_empty() {
                    self.state.store((cur & !MODE) | EMPTY, SeqCst);
                }
                return waker;
            }
            match self
                .state
                .compare_exchange(cur, (cur & !MODE) | NOTIFIED, SeqCst, SeqCst)
            {
                Ok(_) => return None,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Wakes every task waiting now (every [`Notified`] created before this call that has
    /// not completed). Stores no permit.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::Notify;
    ///
    /// let notify = Notify::new();
    /// let a = notify.notified();
    /// let b = notify.notified();
    /// notify.notify_waiters();
    /// futures::executor::block_on(async { a.await; b.await });
    /// ```
    pub fn notify_waiters(&self) {
        let mut wakers = WakeList::new();
        let mut queue = self.waiters.lock();
        let cur = self.state.fetch_add(CALL, SeqCst) + CALL;
        while !queue.is_empty() {
            queue.set_front_value(BY_ALL);
            wakers.push(queue.pop_front().flatten());
        }
        if cur & MODE == WAITING {
            self.state.store((cur & !MODE) | EMPTY, SeqCst);
        }
        drop(queue);
        wakers.wake_all();
    }
}

impl Default for Notify {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(SeqCst);
        f.debug_struct("Notify")
            .field("permit", &(state & MODE == NOTIFIED))
            .field("waiting", &(state & MODE == WAITING))
            .finish()
    }
}

impl<'a> Notified<'a> {
    /// Queues this future for `notify_one` without polling it, so a `notify_one` that
    /// comes before the first poll is not stored as a permit for someone else but goes to
    /// this future. Returns whether it is already notified (then awaiting it completes at
    /// once).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::pin::pin;
    /// use filch_sync::Notify;
    ///
    /// let notify = Notify::new();
    /// let mut notified = pin!(notify.notified());
    /// assert!(!notified.as_mut().enable()); // queued, not notified yet
    /// notify.notify_one();
    /// assert!(notified.as_mut().enable());
    /// futures::executor::block_on(notified);
    /// ```
    pub fn enable(self: Pin<&mut Self>) -> bool {
        self.poll_notified(None)
    }

    /// The pin projection: `waiter` is structurally pinned, the rest is plain data.
    fn project(self: Pin<&mut Self>) -> (&'a Notify, Pin<&Waiter<'a>>, usize, &mut Stage) {
        // SAFETY: `Notified` is `!Unpin` (through `Waiter`'s `PhantomPinned`) and has no
        // `Unpin` impl; nothing moves `waiter` out of a `Notified` (no method swaps or
        // replaces it, and `Drop` only borrows it), so pinning `Notified` pins `waiter`.
        // `stage` and the copied fields are never treated as pinned.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: as above: `waiter` stays where it is until `Notified` is dropped.
        let waiter = unsafe { Pin::new_unchecked(&this.waiter) };
        (this.notify, waiter, this.calls, &mut this.stage)
    }

    /// Advances the state machine; `true` once notified.
    fn poll_notified(self: Pin<&mut Self>, waker: Option<&Waker>) -> bool {
        let (notify, waiter, calls, stage) = self.project();
        match *stage {
            Stage::Done => true,
            Stage::Init => {
                let mut cur = notify.state.load(SeqCst);
                let mut queue: Option<QueueGuard<'_>> = None;
                loop {
                    if cur / CALL != calls {
                        *stage = Stage::Done;
                        return true;
                    }
                    match cur & MODE {
                        NOTIFIED => match notify.state.compare_exchange(
                            cur,
                            (cur & !MODE) | EMPTY,
                            SeqCst,
                            SeqCst,
                        ) {
                            Ok(_) => {
                                *stage = Stage::Done;
                                return true;
                            }
                            Err(actual) => cur = actual,
                        },
                        _ if queue.is_none() => {
                            // Must queue: take the lock, then look again.
                            queue = Some(notify.waiters.lock());
                            cur = notify.state.load(SeqCst);
                        }
                        mode => {
                            if mode == EMPTY {
                                if let Err(actual) = notify.state.compare_exchange(
                                    cur,
                                    (cur & !MODE) | WAITING,
                                    SeqCst,
                                    SeqCst,
                                ) {
                                    cur = actual;
                                    continue;
                                }
                            }
                            let queue = queue.as_mut().expect("lock taken above");
                            queue.push_back(waiter, 0, waker);
                            *stage = Stage::Waiting;
                            return false;
                        }
                    }
                }
            }
            Stage::Waiting => {
                let mut queue = notify.waiters.lock();
                match queue.state(&waiter, waker) {
                    WaiterState::Queued(_) => false,
                    WaiterState::Unlinked(_) => {
                        *stage = Stage::Done;
                        true
                    }
                }
            }
        }
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // One unit of the runtime's budget, given back if still waiting (`runtime_hooks`).
        let budget = ready!(runtime_hooks::poll_proceed(cx));
        if self.poll_notified(Some(cx.waker())) {
            budget.made_progress();
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        if self.stage != Stage::Waiting {
            return;
        }
        let notify = self.notify;
        let mut queue = notify.waiters.lock();
        match queue.remove(&self.waiter) {
            Removal::Removed(_) => {
                if queue.is_empty() {
                    let cur = notify.state.load(SeqCst);
                    if cur & MODE == WAITING {
                        notify.state.store((cur & !MODE) | EMPTY, SeqCst);
                    }
                }
            }
            Removal::NotQueued(value @ (BY_ONE | BY_LAST)) => {
                // Picked by `notify_one`/`notify_last` but never told: pass it on, from the
                // same end of the queue.
                let end = if value == BY_ONE {
                    End::Front
                } else {
                    End::Back
                };
                if let Some(waker) = notify.notify_single_locked(queue, end) {
                    waker.wake();
                }
            }
            Removal::NotQueued(_) => {}
        }
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified")
            .field("stage", &self.stage)
            .finish_non_exhaustive()
    }
}

// Unwind safety: the waiter queue is only changed under its lock and never left
// half-updated by a panic (no user code runs under it; wakers are woken after it is
// released), so a panic while a `Notify` is in use breaks nothing another user sees.
impl std::panic::UnwindSafe for Notify {}
impl std::panic::RefUnwindSafe for Notify {}
