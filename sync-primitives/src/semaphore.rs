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
use std::fmt;
use std::future::poll_fn;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use crate::chan_waiters::block_on;
use crate::loom::{loom_const_fn, AtomicUsize, Ordering};
use crate::runtime_hooks;
use crate::waitlist::{QueueGuard, Removal, WaitQueue, Waiter, WaiterState, WakeList};

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

/// Permits borrowed from a [`Semaphore`]; dropping it gives them back.
///
/// # Examples
///
/// ```
/// use filch_sync::Semaphore;
///
/// let sem = Semaphore::new(3);
/// let permit = sem.try_acquire_many(2).unwrap();
/// assert_eq!(permit.num_permits(), 2);
/// drop(permit);
/// assert_eq!(sem.available_permits(), 3);
/// ```
#[must_use = "dropping the permit releases it at once"]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
    permits: usize,
}

/// Permits owned from an `Arc<`[`Semaphore`]`>`; dropping it gives them back.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use filch_sync::Semaphore;
///
/// let sem = Arc::new(Semaphore::new(1));
/// let permit = sem.clone().try_acquire_owned().unwrap();
/// std::thread::spawn(move || drop(permit)).join().unwrap();
/// assert_eq!(sem.available_permits(), 1);
/// ```
#[must_use = "dropping the permit releases it at once"]
pub struct OwnedSemaphorePermit {
    sem: Arc<Semaphore>,
    permits: usize,
}

/// The semaphore was closed while (or before) waiting for permits.
///
/// # Examples
///
/// ```
/// use filch_sync::Semaphore;
///
/// let sem = Semaphore::new(1);
/// sem.close();
/// let err = futures::executor::block_on(sem.acquire()).unwrap_err();
/// assert_eq!(err.to_string(), "semaphore closed");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcquireError(());

/// Why a `try_acquire*` call got no permits.
///
/// # Examples
///
/// ```
/// use filch_sync::{Semaphore, TryAcquireError};
///
/// let sem = Semaphore::new(0);
/// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
/// sem.close();
/// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore is closed.
    Closed,
    /// Not enough permits are available, or others are already waiting for them.
    NoPermits,
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

    /// Waits for one permit.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future gives back anything it was already granted and leaves its
    /// place in the queue.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed first.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Semaphore::new(1);
    /// futures::executor::block_on(async {
    ///     let permit = sem.acquire().await.unwrap();
    ///     assert_eq!(permit.num_permits(), 1);
    /// });
    /// ```
    pub async fn acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        acquire_raw!(self, 1, FastPath::Available)?;
        Ok(SemaphorePermit {
            sem: self,
            permits: 1,
        })
    }

    /// Waits for `n` permits at once, queueing as one request.
    ///
    /// # Panics
    ///
    /// If `n` exceeds [`MAX_PERMITS`](Self::MAX_PERMITS), which can only happen where
    /// `usize` is 32 bits: such a request could never be granted.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future gives back anything it was already granted and leaves its
    /// place in the queue.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed first.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Semaphore::new(4);
    /// futures::executor::block_on(async {
    ///     let permit = sem.acquire_many(3).await.unwrap();
    ///     assert_eq!(sem.available_permits(), 1);
    ///     drop(permit);
    /// });
    /// ```
    pub async fn acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        Self::check_request(n, "acquire_many");
        acquire_raw!(&self, n as usize, FastPath::Available)?;
        Ok(SemaphorePermit {
            sem: self,
            permits: n as usize,
        })
    }

    /// Waits for one permit from synchronous code, blocking the current thread.
    ///
    /// Queues like [`acquire`](Self::acquire) (FIFO with the async waiters). Call it only
    /// from threads that may block. Not in tokio, which has no blocking acquire.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed first.
    ///
    /// # Panics
    ///
    /// If the runtime's [hooks](crate::runtime_hooks) say this thread drives async tasks.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Arc::new(Semaphore::new(0));
    /// let adder = {
    ///     let sem = sem.clone();
    ///     std::thread::spawn(move || sem.add_permits(1))
    /// };
    /// let permit = sem.blocking_acquire().unwrap();
    /// assert_eq!(permit.num_permits(), 1);
    /// adder.join().unwrap();
    /// ```
    #[track_caller]
    pub fn blocking_acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        runtime_hooks::assert_may_block("Semaphore::blocking_acquire", ".acquire().await");
        block_on(self.acquire())
    }

    /// Waits for `n` permits at once from synchronous code, blocking the current thread;
    /// the blocking form of [`acquire_many`](Self::acquire_many).
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed first.
    ///
    /// # Panics
    ///
    /// If the runtime's [hooks](crate::runtime_hooks) say this thread drives async tasks,
    /// or if `n` exceeds [`MAX_PERMITS`](Self::MAX_PERMITS).
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Semaphore::new(3);
    /// let permit = sem.blocking_acquire_many(2).unwrap();
    /// assert_eq!(sem.available_permits(), 1);
    /// drop(permit);
    /// sem.close();
    /// assert!(sem.blocking_acquire_many(1).is_err());
    /// ```
    #[track_caller]
    pub fn blocking_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        runtime_hooks::assert_may_block(
            "Semaphore::blocking_acquire_many",
            ".acquire_many(n).await",
        );
        block_on(self.acquire_many(n))
    }

    /// Takes one permit if one is free and nobody is queued.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::Closed`] if closed, [`TryAcquireError::NoPermits`] otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Semaphore::new(1);
    /// let permit = sem.try_acquire().unwrap();
    /// assert!(sem.try_acquire().is_err());
    /// drop(permit);
    /// ```
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are free and nobody is queued.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::Closed`] if closed, [`TryAcquireError::NoPermits`] otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Semaphore::new(2);
    /// assert!(sem.try_acquire_many(3).is_err());
    /// assert_eq!(sem.try_acquire_many(2).unwrap().num_permits(), 2);
    /// ```
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_take(n as usize)?;
        Ok(SemaphorePermit {
            sem: self,
            permits: n as usize,
        })
    }

    /// Like [`acquire`](Self::acquire), for an `Arc`ed semaphore; the permit owns a clone.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed first.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Arc::new(Semaphore::new(1));
    /// let permit = futures::executor::block_on(sem.clone().acquire_owned()).unwrap();
    /// assert_eq!(sem.available_permits(), 0);
    /// drop(permit);
    /// ```
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.acquire_many_owned(1).await
    }

    /// Like [`acquire_many`](Self::acquire_many), for an `Arc`ed semaphore.
    ///
    /// # Panics
    ///
    /// As for [`acquire_many`](Self::acquire_many).
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed first.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Arc::new(Semaphore::new(3));
    /// let permit = futures::executor::block_on(sem.clone().acquire_many_owned(2)).unwrap();
    /// assert_eq!(permit.num_permits(), 2);
    /// ```
    pub async fn acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        Self::check_request(n, "acquire_many_owned");
        acquire_raw!(&self, n as usize, FastPath::Available)?;
        Ok(OwnedSemaphorePermit {
            sem: self,
            permits: n as usize,
        })
    }

    /// Like [`try_acquire`](Self::try_acquire), for an `Arc`ed semaphore.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::Closed`] if closed, [`TryAcquireError::NoPermits`] otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Arc::new(Semaphore::new(1));
    /// let permit = sem.clone().try_acquire_owned().unwrap();
    /// assert!(sem.clone().try_acquire_owned().is_err());
    /// drop(permit);
    /// ```
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// Like [`try_acquire_many`](Self::try_acquire_many), for an `Arc`ed semaphore.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::Closed`] if closed, [`TryAcquireError::NoPermits`] otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Arc::new(Semaphore::new(2));
    /// let permit = sem.clone().try_acquire_many_owned(2).unwrap();
    /// assert_eq!(permit.num_permits(), 2);
    /// ```
    pub fn try_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_take(n as usize)?;
        Ok(OwnedSemaphorePermit {
            sem: self,
            permits: n as usize,
        })
    }

    // ----- crate-internal core, shared with Mutex, RwLock and OnceCell -----

    /// A request for more than `MAX_PERMITS` could never be granted and would block the
    /// queue behind it for good. Only possible where `usize` is 32 bits (there
    /// `MAX_PERMITS` is below `u32::MAX`); on 64-bit targets this compiles to nothing.
    #[track_caller]
    fn check_request(n: u32, method: &str) {
        assert!(
            n as u64 <= Self::MAX_PERMITS as u64,
            "Semaphore::{method}({n}): more than Semaphore::MAX_PERMITS ({}) permits can \
             never be available; ask for at most Semaphore::MAX_PERMITS",
            Self::MAX_PERMITS
        );
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

    /// The first poll of an acquire of `n` permits: one unit of the runtime's budget (see
    /// [`runtime_hooks`](crate::runtime_hooks)), then the lock-free fast path.
    /// `Ready(None)`: no permits right now; the unit was given back, and the caller goes on
    /// to [`acquire_slow`](Self::acquire_slow) in the same poll, which spends it again.
    /// Callers use it through the `acquire_raw!` macro.
    #[inline]
    pub(crate) fn poll_fast(
        &self,
        cx: &mut Context<'_>,
        n: usize,
        fast: FastPath,
    ) -> Poll<Option<Result<(), AcquireError>>> {
        let budget = ready!(runtime_hooks::poll_proceed(cx));
        let taken = match fast {
            FastPath::Exact if self.try_take_exact(n) => Ok(()),
            _ => self.try_take(n),
        };
        Poll::Ready(match taken {
            Ok(()) => {
                budget.made_progress();
                Some(Ok(()))
            }
            Err(TryAcquireError::Closed) => {
                budget.made_progress();
                Some(Err(AcquireError(())))
            }
            Err(TryAcquireError::NoPermits) => None,
        })
    }

    /// Queues for `n` permits once the fast path found none; on `Ok` the caller holds
    /// them. Each poll spends a unit of budget, given back if it ends `Pending`.
    pub(crate) async fn acquire_slow(&self, n: usize) -> Result<(), AcquireError> {
        let waiter = pin!(Waiter::new(&self.waiters));
        let mut acquire = Acquire {
            sem: self,
            waiter: waiter.as_ref(),
            permits: n,
            stage: Stage::Idle,
        };
        poll_fn(|cx| {
            let budget = ready!(runtime_hooks::poll_proceed(cx));
            let outcome = ready!(acquire.poll(cx));
            budget.made_progress();
            Poll::Ready(outcome)
        })
        .await
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

/// How the first poll of [`Semaphore::acquire_raw`] tries to take its permits without a
/// lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FastPath {
    /// One CAS from exactly `n` free permits (and no flags) to none: for a lock taking
    /// every permit its semaphore has (a mutex, an RwLock writer).
    Exact,
    /// `try_take(n)`: a load and a CAS, for any `n`.
    Available,
}

/// Waits for `n` permits of `sem` (`&Semaphore`), taking them lock-free on the first
/// poll if it can, inside the calling `async fn`; evaluates to `Result<(), AcquireError>`
/// and on `Ok` the caller holds the permits.
///
/// A macro, not an `async fn`, so that the uncontended path (one poll: the budget, one
/// CAS) builds, polls and drops no nested state machine: as an `async fn` it cost an
/// uncontended `Mutex` lock + unlock 58 instructions more (153 against 95; with the
/// macro, 101), counted with callgrind.
macro_rules! acquire_raw {
    ($sem:expr, $n:expr, $fast:expr) => {{
        let sem: &$crate::semaphore::Semaphore = $sem;
        let n: usize = $n;
        match ::std::future::poll_fn(|cx| sem.poll_fast(cx, n, $fast)).await {
            Some(outcome) => outcome,
            None => sem.acquire_slow(n).await,
        }
    }};
}
pub(crate) use acquire_raw;

/// Where an [`Acquire`] stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Not queued yet.
    Idle,
    /// Queued; the waiter's `value` is what it is still owed.
    Waiting,
    /// Finished, and the outcome was reported: nothing to undo on drop.
    Done,
}

/// The slow path of one acquire, pinned in `acquire_slow`; its `Drop` is the
/// cancellation.
struct Acquire<'a> {
    sem: &'a Semaphore,
    waiter: Pin<&'a Waiter<'a>>,
    permits: usize,
    stage: Stage,
}

impl Acquire<'_> {
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), AcquireError>> {
        let sem = self.sem;
        let mut queue = sem.waiters.lock();
        match self.stage {
            Stage::Idle => {
                let mut cur = sem.state.load(Ordering::Acquire);
                loop {
                    if cur & CLOSED != 0 {
                        self.stage = Stage::Done;
                        return Poll::Ready(Err(AcquireError(())));
                    }
                    let (next, owed) = if cur & QUEUED != 0 {
                        // Queue behind the others; the word's permits (if any) are being
                        // drained to them.
                        (cur, self.permits)
                    } else if cur >> SHIFT >= self.permits {
                        (cur - (self.permits << SHIFT), 0)
                    } else {
                        // Become the head: take what there is, owe the rest.
                        (QUEUED, self.permits - (cur >> SHIFT))
                    };
                    if next != cur {
                        if let Err(actual) = sem.state.compare_exchange_weak(
                            cur,
                            next,
                            Ordering::AcqRel,
                            Ordering::Acquire,
                        ) {
                            cur = actual;
                            continue;
                        }
                    }
                    if owed == 0 {
                        self.stage = Stage::Done;
                        return Poll::Ready(Ok(()));
                    }
                    queue.push_back(self.waiter, owed, Some(cx.waker()));
                    self.stage = Stage::Waiting;
                    return Poll::Pending;
                }
            }
            Stage::Waiting => match queue.state(&self.waiter, Some(cx.waker())) {
                WaiterState::Queued(_) => Poll::Pending,
                WaiterState::Unlinked(0) => {
                    self.stage = Stage::Done;
                    Poll::Ready(Ok(()))
                }
                WaiterState::Unlinked(owed) => {
                    // Popped by `close` before being paid in full.
                    self.stage = Stage::Done;
                    sem.release_locked(queue, self.permits - owed);
                    Poll::Ready(Err(AcquireError(())))
                }
            },
            Stage::Done => unreachable!("Acquire polled after completion"),
        }
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if self.stage != Stage::Waiting {
            return;
        }
        let sem = self.sem;
        let mut queue = sem.waiters.lock();
        let paid = match queue.remove(&self.waiter) {
            Removal::Removed(owed) => {
                if queue.is_empty() {
                    sem.state.fetch_and(!QUEUED, Ordering::AcqRel);
                }
                self.permits - owed
            }
            // Paid in full (owed 0) or closed (owed > 0), but never told: give back.
            Removal::NotQueued(owed) => self.permits - owed,
        };
        sem.release_locked(queue, paid);
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

impl<'a> SemaphorePermit<'a> {
    /// Keeps the permits from going back to the semaphore: they are lost for good.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Semaphore::new(2);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// How many permits this holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Semaphore::new(5);
    /// assert_eq!(sem.try_acquire_many(4).unwrap().num_permits(), 4);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// Moves `other`'s permits into `self`.
    ///
    /// # Panics
    ///
    /// If the two permits come from different semaphores.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Semaphore::new(3);
    /// let mut a = sem.try_acquire().unwrap();
    /// a.merge(sem.try_acquire_many(2).unwrap());
    /// assert_eq!(a.num_permits(), 3);
    /// ```
    pub fn merge(&mut self, mut other: SemaphorePermit<'a>) {
        assert!(
            std::ptr::eq(self.sem, other.sem),
            "SemaphorePermit::merge: the permits belong to different semaphores; \
             merge only permits of the same semaphore"
        );
        self.permits += std::mem::take(&mut other.permits);
    }

    /// Splits `n` of this permit's permits off into a new permit of the same semaphore;
    /// `None` (and `self` unchanged) if it holds fewer than `n`.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Semaphore::new(3);
    /// let mut a = sem.try_acquire_many(3).unwrap();
    /// let b = a.split(2).unwrap();
    /// assert_eq!((a.num_permits(), b.num_permits()), (1, 2));
    /// assert!(a.split(2).is_none());
    /// drop(b);
    /// assert_eq!(sem.available_permits(), 2);
    /// ```
    #[must_use = "the split-off permit is released at once if unused"]
    pub fn split(&mut self, n: usize) -> Option<Self> {
        if n > self.permits {
            return None;
        }
        self.permits -= n;
        Some(Self {
            sem: self.sem,
            permits: n,
        })
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.sem.release(self.permits);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits)
            .finish_non_exhaustive()
    }
}

impl OwnedSemaphorePermit {
    /// Keeps the permits from going back to the semaphore: they are lost for good.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Arc::new(Semaphore::new(1));
    /// sem.clone().try_acquire_owned().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 0);
    /// ```
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// How many permits this holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Arc::new(Semaphore::new(3));
    /// assert_eq!(sem.try_acquire_many_owned(3).unwrap().num_permits(), 3);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// The semaphore these permits belong to.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Arc::new(Semaphore::new(1));
    /// let permit = sem.clone().try_acquire_owned().unwrap();
    /// assert!(Arc::ptr_eq(permit.semaphore(), &sem));
    /// ```
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.sem
    }

    /// Moves `other`'s permits into `self`.
    ///
    /// # Panics
    ///
    /// If the two permits come from different semaphores.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Arc::new(Semaphore::new(2));
    /// let mut a = sem.clone().try_acquire_owned().unwrap();
    /// a.merge(sem.clone().try_acquire_owned().unwrap());
    /// assert_eq!(a.num_permits(), 2);
    /// ```
    pub fn merge(&mut self, mut other: OwnedSemaphorePermit) {
        assert!(
            Arc::ptr_eq(&self.sem, &other.sem),
            "OwnedSemaphorePermit::merge: the permits belong to different semaphores; \
             merge only permits of the same semaphore"
        );
        self.permits += std::mem::take(&mut other.permits);
    }

    /// Splits `n` of this permit's permits off into a new permit owning another clone of
    /// the semaphore's `Arc`; `None` (and `self` unchanged) if it holds fewer than `n`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Arc::new(Semaphore::new(2));
    /// let mut a = sem.clone().try_acquire_many_owned(2).unwrap();
    /// let b = a.split(1).unwrap();
    /// assert!(Arc::ptr_eq(a.semaphore(), b.semaphore()));
    /// assert!(a.split(5).is_none());
    /// drop(a);
    /// assert_eq!((b.num_permits(), sem.available_permits()), (1, 1));
    /// ```
    #[must_use = "the split-off permit is released at once if unused"]
    pub fn split(&mut self, n: usize) -> Option<Self> {
        if n > self.permits {
            return None;
        }
        self.permits -= n;
        Some(Self {
            sem: self.sem.clone(),
            permits: n,
        })
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.sem.release(self.permits);
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.permits)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore closed")
    }
}

impl std::error::Error for AcquireError {}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closed => f.write_str("semaphore closed"),
            Self::NoPermits => f.write_str("no permits available"),
        }
    }
}

impl std::error::Error for TryAcquireError {}
