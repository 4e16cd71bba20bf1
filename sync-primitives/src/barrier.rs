//! A reusable barrier: `n` tasks wait until all `n` have arrived.
//!
//! # State
//!
//! The wait queue's `word` (under the queue lock) counts arrivals in the current
//! generation; queued waiters are exactly the arrived tasks of this generation but the
//! last. The `n`-th arrival is the leader: it resets the count to 0 and pops every queued
//! waiter in one lock hold (marking each `RELEASED`), which *is* the generation change:
//! tasks arriving afterwards count towards the next generation and queue behind.
//!
//! # Cancellation
//!
//! A waiter dropped while still queued withdraws its arrival (count - 1), so a cancelled
//! task never makes a later generation release early. One dropped after its generation was
//! released has nothing to undo.
use std::fmt;
use std::future::poll_fn;
use std::pin::{pin, Pin};
use std::task::{ready, Context, Poll};

use crate::runtime_hooks;
use crate::waitlist::{Removal, WaitQueue, Waiter, WaiterState, WakeList};

const RELEASED: usize = 1;

/// Makes `n` tasks wait for each other; reusable across generations.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use filch_sync::Barrier;
///
/// let barrier = Arc::new(Barrier::new(3));
/// let threads: Vec<_> = (0..3)
///     .map(|_| {
///         let barrier = barrier.clone();
///         std::thread::spawn(move || futures::executor::block_on(barrier.wait()).is_leader())
///     })
///     .collect();
/// let leaders = threads.into_iter().map(|t| t.join().unwrap()).filter(|&l| l).count();
/// assert_eq!(leaders, 1);
/// ```
pub struct Barrier {
    n: usize,
    waiters: WaitQueue,
}

/// What [`Barrier::wait`] returns: whether this task was the leader of its generation.
///
/// # Examples
///
/// ```
/// use filch_sync::Barrier;
///
/// let barrier = Barrier::new(1);
/// assert!(futures::executor::block_on(barrier.wait()).is_leader());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    /// `true` for exactly one task per generation: the last to arrive.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::Barrier;
    ///
    /// let barrier = Barrier::new(1);
    /// let result = futures::executor::block_on(barrier.wait());
    /// assert!(result.is_leader());
    /// ```
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

impl Barrier {
    /// A barrier for `n` tasks (`n == 0` behaves like `n == 1`).
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::Barrier;
    ///
    /// let barrier = Barrier::new(2);
    /// # drop(barrier);
    /// ```
    pub fn new(n: usize) -> Self {
        Self {
            n: n.max(1),
            waiters: WaitQueue::new(),
        }
    }

    /// Waits until `n` tasks (this one included) have called `wait` in this generation.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before its generation is released withdraws this task's
    /// arrival, as if it had never called `wait`.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::Barrier;
    ///
    /// let barrier = Barrier::new(2);
    /// futures::executor::block_on(async {
    ///     let (a, b) = futures::join!(barrier.wait(), barrier.wait());
    ///     assert!(a.is_leader() != b.is_leader());
    ///     // and again: barriers are reusable
    ///     let (a, b) = futures::join!(barrier.wait(), barrier.wait());
    ///     assert!(a.is_leader() ^ b.is_leader());
    /// });
    /// ```
    pub async fn wait(&self) -> BarrierWaitResult {
        let waiter = pin!(Waiter::new(&self.waiters));
        let mut wait = Wait {
            barrier: self,
            waiter: waiter.as_ref(),
            queued: false,
        };
        poll_fn(|cx| {
            // One unit of the runtime's budget, given back if still waiting.
            let budget = ready!(runtime_hooks::poll_proceed(cx));
            let result = ready!(wait.poll(cx));
            budget.made_progress();
            Poll::Ready(result)
        })
        .await
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier").field("n", &self.n).finish()
    }
}

/// One pending `wait`, pinned in its `async fn`; its `Drop` is the cancellation.
struct Wait<'a> {
    barrier: &'a Barrier,
    waiter: Pin<&'a Waiter<'a>>,
    /// Whether this arrival was counted and queued (and not yet reported released).
    queued: bool,
}

impl Wait<'_> {
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<BarrierWaitResult> {
        let mut queue = self.barrier.waiters.lock();
        if self.queued {
            return match queue.state(&self.waiter, Some(cx.waker())) {
                WaiterState::Queued(_) => Poll::Pending,
                WaiterState::Unlinked(_) => {
                    self.queued = false;
                    Poll::Ready(BarrierWaitResult(false))
                }
            };
        }
        *queue.word() += 1;
        if *queue.word() < self.barrier.n {
            queue.push_back(self.waiter, 0, Some(cx.waker()));
            self.queued = true;
            return Poll::Pending;
        }
        // The leader: release this generation.
        *queue.word() = 0;
        let mut wakers = WakeList::new();
        while !queue.is_empty() {
            queue.set_front_value(RELEASED);
            wakers.push(queue.pop_front().flatten());
        }
        drop(queue);
        wakers.wake_all();
        Poll::Ready(BarrierWaitResult(true))
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if !self.queued {
            return;
        }
        let mut queue = self.barrier.waiters.lock();
        match queue.remove(&self.waiter) {
            Removal::Removed(_) => *queue.word() -= 1,
            Removal::NotQueued(_) => {}
        }
    }
}
