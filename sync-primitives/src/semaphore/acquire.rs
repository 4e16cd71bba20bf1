//! Asking a [`Semaphore`] for permits: waiting (`acquire*`, also owned and blocking),
//! trying (`try_acquire*`), and the slow path a waiter takes when it must queue, whose
//! [`Drop`] is the cancellation (see the protocol in the [module docs](super)).
use std::future::poll_fn;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use super::{AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError};
use super::{CLOSED, QUEUED, SHIFT};
use crate::chan_waiters::block_on;
use crate::loom::Ordering;
use crate::runtime_hooks;
use crate::waitlist::{Removal, Waiter, WaiterState};
impl Semaphore {
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
