//! The bounded channel's capacity: a FIFO-fair counting semaphore of free slots.
//!
//! # State
//!
//! `state` packs the free-slot count with two flags: `state = free << 2 | QUEUED | CLOSED`.
//!
//! - `CLOSED`: the receiver is gone or closed; no new slot is handed out. Set once.
//! - `QUEUED`: the waiter list may be non-empty. Set and cleared only with `waiters`
//!   locked. **Invariant: `QUEUED` implies `free == 0`**, so a newcomer can never take a
//!   slot ahead of a queued sender (FIFO fairness).
//!
//! # Transitions
//!
//! An acquire asks for `n` slots (one for `send`/`reserve`, `n` for `reserve_many`).
//!
//! - *Acquire, fast path*: compare-exchange `free -> free - n` while `free >= n` and
//!   `CLOSED` is clear. No lock.
//! - *Acquire, slow path*: lock `waiters`, retry the fast path, else take every free slot
//!   and set `QUEUED` in one compare-exchange (`free -> 0 | QUEUED`; it fails, and is
//!   retried, if a release raced in) and queue a waiter node in state
//!   `Waiting { missing, held }`, `held` being the slots it took.
//! - *Release* (one slot): while `QUEUED` is clear, compare-exchange `free -> free + 1`.
//!   Otherwise lock `waiters` and hand the slot to the front waiter (`missing -= 1`,
//!   `held += 1`); once it misses none it becomes `Granted`, is unlinked and woken after
//!   unlock; clear `QUEUED` when the list empties. With nobody left, add the slot to `free`.
//!   Releasing `k` slots is `k` such releases.
//! - *Cancel* (a waiting future dropped): lock, remove the node. The slots it held (all
//!   `n` if it was already `Granted`, else `held`) are released again under the same lock,
//!   so they pass to the next waiters and are never lost. Clear `QUEUED` if the list
//!   emptied.
//! - *Close*: set `CLOSED`, then lock and mark every queued node `Closed`, waking it; the
//!   slots a queued node held go back to `free` (under the lock, once the list is empty
//!   and `QUEUED` clear). Nodes already `Granted` keep their slots: a send granted before
//!   the close still delivers its message (see `chan.rs`, "Closing").
//!
//! # Slots held after close
//!
//! Once `CLOSED` is set no slot is handed out, so the slots missing from `free` are held
//! by buffered messages, by permits (one per unused permit of a `reserve_many`) and by
//! granted waiters, and each comes back exactly
//! once. The receiver drains a closed channel until `free == total` (every slot back:
//! nothing can be pushed any more), waiting in `returns` meanwhile. Every return of a
//! slot by a sender (a permit dropped unused, a granted waiter cancelled) while `CLOSED`
//! is set wakes `returns`; the receiver's own pops do not. Both sides read-modify-write
//! `returns`' state after their access to `state`, so the receiver's register-then-check
//! cannot miss the last return (the `AtomicWaker` protocol).
//!
//! Every waiter costs O(1): one slab insert, one unlink, one remove.

use crate::chan_waiters::{AtomicWaker, WaitList, WaiterKey, WakeBatch};
use crate::loom::{AtomicUsize, Mutex, MutexGuard, Ordering};
use crate::runtime_hooks;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll, Waker};

const CLOSED: usize = 0b01;
const QUEUED: usize = 0b10;
const ONE: usize = 0b100;

/// The most slots a bounded channel may have.
pub(super) const MAX_CAPACITY: usize = usize::MAX >> 2;

/// What a queued waiter was left by whoever dequeued it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grant {
    /// Still queued: `missing` slots to go (never 0 while linked), `held` handed over.
    Waiting {
        missing: usize,
        held: usize,
    },
    Granted,
    Closed,
}

/// Why a slot was not handed out immediately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TryAcquireError {
    NoSlots,
    Closed,
}

/// The channel is closed; no slot will be handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Closed;

#[derive(Debug)]
pub(super) struct Capacity {
    state: AtomicUsize,
    /// The slots the channel was created with.
    total: usize,
    waiters: Mutex<WaitList<Grant>>,
    /// The receiver draining a closed channel, woken when a sender returns a slot.
    returns: AtomicWaker,
}

impl Capacity {
    pub(super) fn new(slots: usize) -> Self {
        assert!(
            slots <= MAX_CAPACITY,
            "mpsc capacity {slots} exceeds the maximum {MAX_CAPACITY}"
        );
        Self {
            state: AtomicUsize::new(slots * ONE),
            total: slots,
            waiters: Mutex::new(WaitList::new()),
            returns: AtomicWaker::new(),
        }
    }

    /// Whether every slot is free: no message is buffered and no sender holds a slot.
    /// Once closed, this stays true: no push can come any more.
    pub(super) fn none_held(&self) -> bool {
        self.state.load(Ordering::Acquire) / ONE == self.total
    }

    /// Makes the receiver's `waker` the one woken when a sender returns a slot after close.
    pub(super) fn register_returns(&self, waker: &Waker) {
        self.returns.register(waker);
    }

    /// Takes the waker `register_returns` stored (the receiver is being dropped).
    pub(super) fn take_returns(&self) -> Option<Waker> {
        self.returns.take()
    }

    /// Free slots right now.
    pub(super) fn available(&self) -> usize {
        self.state.load(Ordering::Acquire) / ONE
    }

    /// Takes a slot if one is free; never queues.
    pub(super) fn try_acquire(&self) -> Result<(), TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` slots if that many are free; never queues. `n` is at most `total`.
    pub(super) fn try_acquire_many(&self, n: usize) -> Result<(), TryAcquireError> {
        debug_assert!(n <= self.total);
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            if state & CLOSED != 0 {
                return Err(TryAcquireError::Closed);
            }
            if state / ONE < n {
                return Err(TryAcquireError::NoSlots);
            }
            match self.state.compare_exchange_weak(
                state,
                state - n * ONE,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => state = actual,
            }
        }
    }

    /// A future that resolves once a slot is ours, in FIFO order among waiters.
    pub(super) fn acquire(&self) -> Acquire<'_> {
        self.acquire_many(1)
    }

    /// A future that resolves once `n` slots are ours, in FIFO order among waiters. `n` is
    /// at most `total`.
    pub(super) fn acquire_many(&self, n: usize) -> Acquire<'_> {
        debug_assert!(n <= self.total);
        Acquire {
            capacity: self,
            n,
            phase: Phase::Start,
        }
    }

    /// A sender returns `n` slots it holds unused (the rest of a `reserve_many`).
    pub(super) fn release_many(&self, n: usize) {
        for _ in 0..n {
            self.release_inner(true);
        }
    }

    /// A sender returns one slot it holds unused (a dropped permit): to the front waiter
    /// if there is one, else to the free count, waking a receiver draining a closed channel.
    pub(super) fn release(&self) {
        self.release_inner(true);
    }

    /// The receiver returns the slot of a message it popped.
    pub(super) fn release_popped(&self) {
        self.release_inner(false);
    }

    fn release_inner(&self, by_sender: bool) {
        let mut state = self.state.load(Ordering::Acquire);
        while state & QUEUED == 0 {
            match self.state.compare_exchange_weak(
                state,
                state + ONE,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    if by_sender && state & CLOSED != 0 {
                        self.returns.wake();
                    }
                    return;
                }
                Err(actual) => state = actual,
            }
        }
        let mut waiters = self.waiters.lock();
        let waker = self.release_locked(&mut waiters, by_sender);
        drop(waiters);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Release with `waiters` held; returns the waker to wake once it is unlocked: the
    /// waiter granted the slot, or (closed, nobody queued) a receiver draining the channel.
    fn release_locked(&self, waiters: &mut WaitList<Grant>, by_sender: bool) -> Option<Waker> {
        if let Some(key) = waiters.front() {
            let Grant::Waiting { missing, held } = waiters.state_mut(key) else {
                unreachable!("mpsc: a linked waiter is always waiting");
            };
            *missing -= 1;
            *held += 1;
            if *missing > 0 {
                return None;
            }
            waiters.pop_front();
            *waiters.state_mut(key) = Grant::Granted;
            if waiters.is_empty() {
                self.state.fetch_and(!QUEUED, Ordering::AcqRel);
            }
            waiters.take_waker(key)
        } else {
            // QUEUED clear (a release raced our lock) or the list emptied by cancels,
            // which clear QUEUED: the slot goes back to the free count.
            debug_assert_eq!(self.state.load(Ordering::Acquire) & QUEUED, 0);
            let prev = self.state.fetch_add(ONE, Ordering::AcqRel);
            if by_sender && prev & CLOSED != 0 {
                self.returns.take()
            } else {
                None
            }
        }
    }

    /// Refuses every future acquire and fails every queued waiter.
    pub(super) fn close(&self) {
        if self.state.fetch_or(CLOSED, Ordering::AcqRel) & CLOSED != 0 {
            return;
        }
        let mut batch = WakeBatch::new();
        // Slots held by queued waiters that will now never be granted the rest.
        let mut returned = 0;
        loop {
            let mut waiters = self.waiters.lock();
            while batch.has_room() {
                let Some(key) = waiters.pop_front() else {
                    break;
                };
                let state = waiters.state_mut(key);
                if let Grant::Waiting { held, .. } = *state {
                    returned += held;
                }
                *state = Grant::Closed;
                batch.push(waiters.take_waker(key));
            }
            let done = waiters.is_empty();
            if done {
                self.state.fetch_and(!QUEUED, Ordering::AcqRel);
                // QUEUED is clear: the free count may grow again.
                self.state.fetch_add(returned * ONE, Ordering::AcqRel);
            }
            drop(waiters);
            batch.wake_all();
            if done {
                return;
            }
        }
    }

    /// The slow path of an acquire: under the lock, take `n` free slots, or take what is
    /// free and queue a waiter for the rest.
    fn acquire_or_queue(
        &self,
        waiters: &mut MutexGuard<'_, WaitList<Grant>>,
        n: usize,
        cx: &Context<'_>,
    ) -> Result<Option<WaiterKey>, Closed> {
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            if state & CLOSED != 0 {
                return Err(Closed);
            }
            let free = state / ONE;
            let (next, got_all) = if free >= n {
                (state - n * ONE, true)
            } else {
                // Every free slot is ours, so `QUEUED` goes with `free == 0`.
                ((state & CLOSED) | QUEUED, false)
            };
            match self
                .state
                .compare_exchange_weak(state, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) if got_all => return Ok(None),
                Ok(_) => {
                    let grant = Grant::Waiting {
                        missing: n - free,
                        held: free,
                    };
                    return Ok(Some(waiters.push_back(cx.waker(), grant)));
                }
                Err(actual) => state = actual,
            }
        }
    }

    /// Releases `n` slots with `waiters` locked, collecting the wakers to wake after unlock.
    fn release_many_locked(&self, waiters: &mut WaitList<Grant>, n: usize) -> Vec<Waker> {
        (0..n)
            .filter_map(|_| self.release_locked(waiters, true))
            .collect()
    }
}

#[derive(Debug)]
enum Phase {
    Start,
    Queued(WaiterKey),
    Done,
}

/// Waits for `n` slots of a [`Capacity`]. Dropping it while queued gives up its place, and
/// passes on the slots it was handed but never observed.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub(super) struct Acquire<'a> {
    capacity: &'a Capacity,
    n: usize,
    phase: Phase,
}

impl Future for Acquire<'_> {
    type Output = Result<(), Closed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // One unit of the runtime's budget, given back if still waiting (`runtime_hooks`).
        let budget = ready!(runtime_hooks::poll_proceed(cx));
        let outcome = ready!(self.get_mut().poll_slot(cx));
        budget.made_progress();
        Poll::Ready(outcome)
    }
}

impl Acquire<'_> {
    fn poll_slot(&mut self, cx: &Context<'_>) -> Poll<Result<(), Closed>> {
        let this = self;
        let capacity = this.capacity;
        match this.phase {
            Phase::Start => match capacity.try_acquire_many(this.n) {
                Ok(()) => {
                    this.phase = Phase::Done;
                    Poll::Ready(Ok(()))
                }
                Err(TryAcquireError::Closed) => {
                    this.phase = Phase::Done;
                    Poll::Ready(Err(Closed))
                }
                Err(TryAcquireError::NoSlots) => {
                    let mut waiters = capacity.waiters.lock();
                    match capacity.acquire_or_queue(&mut waiters, this.n, cx) {
                        Ok(Some(key)) => {
                            this.phase = Phase::Queued(key);
                            Poll::Pending
                        }
                        Ok(None) => {
                            this.phase = Phase::Done;
                            Poll::Ready(Ok(()))
                        }
                        Err(Closed) => {
                            this.phase = Phase::Done;
                            Poll::Ready(Err(Closed))
                        }
                    }
                }
            },
            Phase::Queued(key) => {
                let mut waiters = capacity.waiters.lock();
                // A waker displaced under the lock is dropped after it is released: its
                // `Drop` may use this channel (`chan_waiters`).
                let outcome = match *waiters.state_mut(key) {
                    Grant::Waiting { .. } => {
                        let displaced = waiters.set_waker(key, cx.waker());
                        drop(waiters);
                        drop(displaced);
                        return Poll::Pending;
                    }
                    Grant::Granted => Ok(()),
                    Grant::Closed => Err(Closed),
                };
                let (_, displaced) = waiters.remove(key);
                drop(waiters);
                drop(displaced);
                this.phase = Phase::Done;
                Poll::Ready(outcome)
            }
            Phase::Done => panic!("mpsc acquire future polled after completion"),
        }
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        let Phase::Queued(key) = self.phase else {
            return;
        };
        let capacity = self.capacity;
        let mut waiters = capacity.waiters.lock();
        let was_linked = waiters.is_linked(key);
        // Our own waker is dropped after the lock is released (`chan_waiters`).
        let (grant, _own_waker) = waiters.remove(key);
        if was_linked && waiters.is_empty() {
            capacity.state.fetch_and(!QUEUED, Ordering::AcqRel);
        }
        // Slots we were handed and will never use pass on under the same lock.
        let held = match grant {
            Grant::Granted => self.n,
            Grant::Waiting { held, .. } => held,
            Grant::Closed => 0,
        };
        let next = capacity.release_many_locked(&mut waiters, held);
        drop(waiters);
        for waker in next {
            waker.wake();
        }
    }
}
