//! A fair, FIFO counting semaphore; the base of [`Mutex`](crate::Mutex),
//! [`RwLock`](crate::RwLock) and [`OnceCell`](crate::OnceCell).
//!
//! # State
//!
//! One atomic word holds `permits << 2 | QUEUED | CLOSED`:
//!
//! - `permits`: permits nobody holds or is owed.
//! - `QUEUED`: the wait queue is non-empty. Set and cleared only with the queue lock held,
//!   so under the lock `QUEUED` is exactly `!queue.is_empty()`.
//! - `CLOSED`: set once, with the queue lock held, by [`Semaphore::close`].
//!
//! # Protocol
//!
//! - **Fast acquire** (no lock): one CAS taking `n` permits, allowed only while `QUEUED`
//!   and `CLOSED` are clear, so nobody overtakes a queued waiter.
//! - **Slow acquire** (queue lock held): retry the CAS; if waiters are queued, queue
//!   behind them owing `n`. If none are, take *all* available permits and set `QUEUED` in
//!   one CAS, then queue owing the rest. So only the head ever holds a partial grant, and
//!   while `QUEUED` is set the word holds no permits except in the window below.
//! - **Release** (no lock): one `fetch_add`. If the old word had `QUEUED`, the releaser
//!   takes the lock and **drains**: takes every permit out of the word, pays the head
//!   waiter (the head's `value` is what it is still owed), pops and wakes each waiter that
//!   is paid in full, and when the queue empties clears `QUEUED` and puts the rest back,
//!   in one CAS. A permit added while `QUEUED` is set is therefore always drained by the
//!   party that saw the flag: no lost wakeup.
//! - **Cancel**: a dropped waiter takes itself out of the queue (clearing `QUEUED` if it
//!   was the last) and releases what it was already paid, or, if it was popped but never
//!   saw it, everything it was paid. That release drains to the next waiter.
//! - **Close**: set `CLOSED`, pop every waiter without paying it, clear `QUEUED`. A popped
//!   waiter that is still owed permits (`value > 0`) reports [`AcquireError`] and gives
//!   back its partial grant.
//!
//! A large `acquire_many` at the head is never starved: later small requests queue behind
//! it and every released permit goes to it first (the batch semaphore shape of tokio's
//! `batch_semaphore`, written from its description).
//!
//! # Files
//!
//! This file owns the state word and the queue: the protocol above, construction, adding,
//! forgetting and closing, and the lock-free take, release and drain every acquire path
//! builds on. [`acquire`] holds the ways to ask for permits (async, blocking, `try_`, owned)
//! and the cancellable slow path; [`permit`] the permits they return; [`error`] why an
//! acquire got none.
mod acquire;
mod error;
mod permit;

pub(crate) use acquire::{acquire_raw, FastPath};
pub use error::{AcquireError, TryAcquireError};
pub use permit::{OwnedSemaphorePermit, SemaphorePermit};

use std::fmt;

use crate::loom::{loom_const_fn, AtomicUsize, Ordering};
use crate::waitlist::{QueueGuard, WaitQueue, WakeList};

const CLOSED: usize = 0b01;
const QUEUED: usize = 0b10;
const FLAGS: usize = CLOSED | QUEUED;
const SHIFT: u32 = 2;

/// A counting semaphore with fair, first-in first-out waiting.
///
/// Permits are handed to waiters in the order they asked, and a waiter asking for many
/// permits at once is not overtaken by later, smaller requests.
///
/// # Examples
///
/// ```
/// use filch_sync::Semaphore;
///
/// futures::executor::block_on(async {
///     let sem = Semaphore::new(2);
///     let a = sem.acquire().await.unwrap();
///     let b = sem.acquire().await.unwrap();
///     assert!(sem.try_acquire().is_err());
///     drop(a);
///     assert_eq!(sem.available_permits(), 1);
///     drop(b);
/// });
/// ```
pub struct Semaphore {
    /// `permits << SHIFT | QUEUED | CLOSED`; see the module docs.
    state: AtomicUsize,
    waiters: WaitQueue,
}

impl Semaphore {
    /// The most permits a semaphore can hold: `usize::MAX >> 3`.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Semaphore::new(Semaphore::MAX_PERMITS);
    /// assert_eq!(sem.available_permits(), Semaphore::MAX_PERMITS);
    /// ```
    pub const MAX_PERMITS: usize = usize::MAX >> 3;

    /// Creates a semaphore with `permits` permits.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`MAX_PERMITS`](Self::MAX_PERMITS).
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::Semaphore;
    ///
    /// assert_eq!(Semaphore::new(5).available_permits(), 5);
    /// ```
    pub fn new(permits: usize) -> Self {
        assert!(
            permits <= Self::MAX_PERMITS,
            "Semaphore::new({permits}): more than Semaphore::MAX_PERMITS ({}) permits; \
             use at most Semaphore::MAX_PERMITS",
            Self::MAX_PERMITS
        );
        Self::const_new(permits)
    }

    loom_const_fn! {
        /// Creates a semaphore with `permits` permits, in a `const` context (for
        /// `static`s). Under `--cfg loom` this is a plain `fn`.
        ///
        /// # Panics
        ///
        /// If `permits` exceeds [`MAX_PERMITS`](Self::MAX_PERMITS).
        ///
        /// # Examples
        ///
        /// ```
        /// use filch_sync::Semaphore;
        ///
        /// static LIMIT: Semaphore = Semaphore::const_new(10);
        /// assert_eq!(LIMIT.available_permits(), 10);
        /// ```
        pub const fn const_new(permits: usize) -> Self {
            assert!(
                permits <= Self::MAX_PERMITS,
                "Semaphore::const_new: more than Semaphore::MAX_PERMITS (usize::MAX >> 3) \
                 permits; use at most Semaphore::MAX_PERMITS"
            );
            Self {
                state: AtomicUsize::new(permits << SHIFT),
                waiters: WaitQueue::new(),
            }
        }
    }

    /// The number of permits nobody holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Semaphore::new(2);
    /// let _p = sem.try_acquire().unwrap();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.state.load(Ordering::Acquire) >> SHIFT
    }

    /// Whether [`close`](Self::close) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Semaphore::new(1);
    /// assert!(!sem.is_closed());
    /// sem.close();
    /// assert!(sem.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.state.load(Ordering::Acquire) & CLOSED != 0
    }

    /// Adds `n` permits, handing them to queued waiters first (in order).
    ///
    /// # Panics
    ///
    /// If the available permits would exceed [`MAX_PERMITS`](Self::MAX_PERMITS). The check
    /// comes first: a refused call adds nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Semaphore::new(0);
    /// sem.add_permits(2);
    /// assert_eq!(sem.available_permits(), 2);
    /// ```
    pub fn add_permits(&self, n: usize) {
        assert!(
            n <= Self::MAX_PERMITS,
            "Semaphore::add_permits({n}): more than Semaphore::MAX_PERMITS ({}) permits; \
             add at most Semaphore::MAX_PERMITS",
            Self::MAX_PERMITS
        );
        if n == 0 {
            return;
        }
        // Checked and added in one CAS, so a refused call leaves the word untouched (a
        // `fetch_add` checked afterwards would leave the excess in, and skip the drain).
        let mut cur = self.state.load(Ordering::Acquire);
        loop {
            let available = cur >> SHIFT;
            assert!(
                available + n <= Self::MAX_PERMITS,
                "Semaphore::add_permits({n}) would raise the available permits from \
                 {available} above Semaphore::MAX_PERMITS ({}); add fewer, or \
                 `forget_permits` some first",
                Self::MAX_PERMITS
            );
            match self.state.compare_exchange_weak(
                cur,
                cur + (n << SHIFT),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(prev) => {
                    if prev & QUEUED != 0 {
                        self.drain(self.waiters.lock());
                    }
                    return;
                }
                Err(actual) => cur = actual,
            }
        }
    }

    /// Removes up to `n` available permits for good and returns how many it removed.
    /// Permits owed to queued waiters are not touched.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Semaphore::new(3);
    /// assert_eq!(sem.forget_permits(5), 3);
    /// assert_eq!(sem.available_permits(), 0);
    /// ```
    pub fn forget_permits(&self, n: usize) -> usize {
        let mut cur = self.state.load(Ordering::Acquire);
        loop {
            let take = n.min(cur >> SHIFT);
            match self.state.compare_exchange_weak(
                cur,
                cur - (take << SHIFT),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return take,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Closes the semaphore: every queued and future `acquire*` fails with
    /// [`AcquireError`], and `try_acquire*` with [`TryAcquireError::Closed`]. Permits
    /// already held stay valid and can still be released.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::{Semaphore, TryAcquireError};
    ///
    /// let sem = Semaphore::new(1);
    /// let held = sem.try_acquire().unwrap();
    /// sem.close();
    /// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
    /// drop(held);
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn close(&self) {
        let mut wakers = WakeList::new();
        let mut queue = self.waiters.lock();
        self.state.fetch_or(CLOSED, Ordering::Release);
        // Popped with `value` unchanged: each is still owed permits, so it reports closed.
        while let Some(waker) = queue.pop_front() {
            wakers.push(waker);
        }
        self.state.fetch_and(!QUEUED, Ordering::Release);
        drop(queue);
        wakers.wake_all();
    }

    /// One CAS from exactly `n` free permits (and no flags) to none: the uncontended fast
    /// path of a lock whose semaphore holds `n` permits in total.
    #[inline]
    pub(crate) fn try_take_exact(&self, n: usize) -> bool {
        self.state
            .compare_exchange(n << SHIFT, 0, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Takes `n` permits without waiting and without overtaking queued waiters.
    pub(crate) fn try_take(&self, n: usize) -> Result<(), TryAcquireError> {
        let mut cur = self.state.load(Ordering::Acquire);
        loop {
            if cur & CLOSED != 0 {
                return Err(TryAcquireError::Closed);
            }
            if n == 0 {
                return Ok(());
            }
            if cur & QUEUED != 0 || cur >> SHIFT < n {
                return Err(TryAcquireError::NoPermits);
            }
            match self.state.compare_exchange_weak(
                cur,
                cur - (n << SHIFT),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => cur = actual,
            }
        }
    }

    /// Gives back `n` permits that were taken from this semaphore (a permit's drop, a
    /// cancelled acquire).
    ///
    /// Only permits taken out are given back, and [`add_permits`](Self::add_permits)
    /// keeps the available count at most `MAX_PERMITS`, so the count can exceed
    /// `MAX_PERMITS` here only if permits were added while others were held; the word has
    /// headroom for that (`MAX_PERMITS << SHIFT` is below `usize::MAX >> 1`). The check
    /// runs after the drain, so even then no queued waiter misses its wakeup.
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        let prev = self.state.fetch_add(n << SHIFT, Ordering::AcqRel);
        if prev & QUEUED != 0 {
            self.drain(self.waiters.lock());
        }
        Self::check_overflow(prev, n);
    }

    /// [`release`](Self::release) with the queue lock already held.
    fn release_locked<'a>(&'a self, queue: QueueGuard<'a>, n: usize) {
        if n == 0 {
            return;
        }
        let prev = self.state.fetch_add(n << SHIFT, Ordering::AcqRel);
        if prev & QUEUED != 0 {
            self.drain(queue);
        }
        Self::check_overflow(prev, n);
    }

    fn check_overflow(prev: usize, added: usize) {
        // The sum cannot wrap: `prev >> SHIFT` is at most `usize::MAX >> SHIFT`, and what
        // is given back was taken out (see `release`).
        assert!(
            (prev >> SHIFT).saturating_add(added) <= 2 * Self::MAX_PERMITS,
            "Semaphore: returning {added} permits overflows the permit count; the \
             semaphore was given more than Semaphore::MAX_PERMITS permits in total with \
             add_permits while permits were held"
        );
    }

    /// Pays queued waiters from the permits in the word; see "Release" in the module docs.
    fn drain<'a>(&'a self, mut queue: QueueGuard<'a>) {
        let mut wakers = WakeList::new();
        let mut cur = self.state.load(Ordering::Acquire);
        let mut taken = loop {
            if cur & QUEUED == 0 {
                // Someone else emptied the queue; the permits stay in the word.
                return;
            }
            match self.state.compare_exchange_weak(
                cur,
                cur & FLAGS,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break cur >> SHIFT,
                Err(actual) => cur = actual,
            }
        };
        while taken > 0 {
            let Some(owed) = queue.front_value() else {
                break;
            };
            if owed > taken {
                queue.set_front_value(owed - taken);
                taken = 0;
            } else {
                taken -= owed;
                queue.set_front_value(0);
                wakers.push(queue.pop_front().flatten());
            }
        }
        if queue.is_empty() {
            // Clear QUEUED and return the change, in one step. Permits added meanwhile by
            // releasers who saw QUEUED stay in the word: the queue they meant is served.
            let _ = self
                .state
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                    Some((s & !QUEUED) + (taken << SHIFT))
                });
        }
        // Otherwise the head is still owed permits, `taken` is 0 and QUEUED stays set.
        drop(queue);
        wakers.wake_all();
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(Ordering::Relaxed);
        f.debug_struct("Semaphore")
            .field("permits", &(state >> SHIFT))
            .field("queued", &(state & QUEUED != 0))
            .field("closed", &(state & CLOSED != 0))
            .finish()
    }
}

impl Default for Semaphore {
    /// A semaphore with no permits.
    fn default() -> Self {
        Self::new(0)
    }
}
