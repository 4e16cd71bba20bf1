//! The state shared by both halves of a bounded or unbounded channel.
//!
//! # Closing
//!
//! Two flags end a channel:
//!
//! - `rx_closed`: the receiver called `close` or was dropped. Set once, before anything
//!   else in `close_rx`; `Sender::is_closed` and `closed()` report it. It also closes the
//!   bounded channel's `Capacity`, so no slot is handed out any more (queued senders fail).
//! - The queue's own closed flag: once set, pushes fail (the value goes back to the sender)
//!   and pops drain what is left, then report closed.
//!
//! The queue is closed
//!
//! - by the last sender's drop (`tx_count` reaching zero): every push happened-before the
//!   `AcqRel` decrement, so the receiver drains them all before it sees `None`;
//! - by the receiver, once `rx_closed` is set **and no sender holds a slot**
//!   (`Slots::none_held`): in `close_rx` itself if that holds already, otherwise in the
//!   pop that finds the queue empty and every slot back. Until then a permit reserved
//!   before the close (or a send granted its slot before the close) can still push, and
//!   the receiver waits for it: the close-then-drain loop
//!   `rx.close(); while let Some(m) = rx.recv().await {}` loses nothing. The unbounded
//!   channel has no slots, so `close_rx` closes its queue at once;
//! - by the receiver's drop, unconditionally, followed by a drain: a permit used after
//!   that fails its push and drops the value.
//!
//! # Waking the receiver
//!
//! Every successful push is followed by `rx_waker.wake()`. The receiver pops, and on an
//! empty queue registers its waker and pops again, so a push that lands between the first
//! pop and the registration is seen by the second pop (see `AtomicWaker`). While it drains
//! a closed bounded channel it also registers with `Capacity`, which wakes it when a
//! sender gives a slot back unused (the last permit dropped ends the channel).

use super::capacity::Capacity;
use super::error::TryRecvError;
use crate::chan_waiters::{AtomicWaker, WaitList, WaiterKey, WakeBatch};
use crate::loom::{AtomicBool, AtomicUsize, Mutex, Ordering};
use crate::runtime_hooks;
use concurrent_queue::{ConcurrentQueue, PopError, PushError};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{ready, Context, Poll, Waker};

/// The slots a send must hold to push: the bounded channel's `Capacity`, or none.
pub(super) trait Slots {
    /// The receiver popped one message; its slot is free again.
    fn release_popped(&self);
    /// The receiver closed: hand out no more slots.
    fn close(&self);
    /// Whether no slot is held (by a buffered message, a permit or a granted send). Once
    /// closed and true, it stays true: nothing can be pushed any more.
    fn none_held(&self) -> bool;
    /// Makes `waker` the one woken when a sender gives a slot back after the close.
    fn register_returns(&self, waker: &Waker);
    /// Takes the waker `register_returns` stored, if any (the receiver is going away).
    fn take_returns(&self) -> Option<Waker>;
}

/// The unbounded channel has no slots to return.
#[derive(Debug)]
pub(super) struct Unlimited;

impl Slots for Unlimited {
    fn release_popped(&self) {}
    fn close(&self) {}
    fn none_held(&self) -> bool {
        true
    }
    fn register_returns(&self, _: &Waker) {}
    fn take_returns(&self) -> Option<Waker> {
        None
    }
}

impl Slots for Capacity {
    fn release_popped(&self) {
        Capacity::release_popped(self);
    }
    fn close(&self) {
        Capacity::close(self);
    }
    fn none_held(&self) -> bool {
        Capacity::none_held(self)
    }
    fn register_returns(&self, waker: &Waker) {
        Capacity::register_returns(self, waker);
    }
    fn take_returns(&self) -> Option<Waker> {
        Capacity::take_returns(self)
    }
}

#[derive(Debug)]
pub(super) struct Chan<T, S> {
    queue: ConcurrentQueue<T>,
    rx_waker: AtomicWaker,
    /// The receiver closed or was dropped (module docs, "Closing").
    rx_closed: AtomicBool,
    /// Live senders; the last one to leave closes the queue. Never rises again from zero
    /// (`try_add_sender`).
    tx_count: AtomicUsize,
    /// Live weak senders; they keep the allocation, not the channel, alive.
    weak_count: AtomicUsize,
    /// Senders waiting in `closed()`. Woken by the receiver's close.
    closed_waiters: Mutex<WaitList<()>>,
    pub(super) slots: S,
}

impl<T, S: Slots> Chan<T, S> {
    pub(super) fn new(queue: ConcurrentQueue<T>, slots: S) -> Self {
        Self {
            queue,
            rx_waker: AtomicWaker::new(),
            rx_closed: AtomicBool::new(false),
            tx_count: AtomicUsize::new(1),
            weak_count: AtomicUsize::new(0),
            closed_waiters: Mutex::new(WaitList::new()),
            slots,
        }
    }

    /// Pushes a message and wakes the receiver.
    ///
    /// # Errors
    ///
    /// Gives the message back if the channel is closed.
    pub(super) fn push(&self, value: T) -> Result<(), T> {
        match self.queue.push(value) {
            Ok(()) => {
                self.rx_waker.wake();
                Ok(())
            }
            Err(PushError::Closed(value)) => Err(value),
            // The bounded queue has one slot per permit, and a permit is only returned
            // after the pop that freed its slot completed.
            Err(PushError::Full(_)) => unreachable!("mpsc queue full while holding a permit"),
        }
    }

    /// Pops one message; only the receiver calls this.
    ///
    /// After the receiver's close, an empty queue is the end only once no sender holds a
    /// slot; then this closes the queue (module docs, "Closing").
    fn pop(&self) -> Result<T, PopError> {
        match self.queue.pop() {
            Ok(value) => {
                self.slots.release_popped();
                Ok(value)
            }
            Err(PopError::Empty)
                if self.rx_closed.load(Ordering::Relaxed) && self.slots.none_held() =>
            {
                // Every slot is back and none can be handed out: nothing can arrive.
                self.queue.close();
                Err(PopError::Closed)
            }
            Err(err) => Err(err),
        }
    }

    /// Receives one message; the caller holds `&mut` to the only receiver.
    ///
    /// Spends a unit of the runtime's budget, given back if it waits (`runtime_hooks`).
    pub(super) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let budget = ready!(runtime_hooks::poll_proceed(cx));
        let message = ready!(self.poll_pop(cx));
        budget.made_progress();
        Poll::Ready(message)
    }

    /// Receives up to `limit` messages into `buffer`, waiting for the first one; the
    /// caller holds `&mut` to the only receiver. `Ready(0)`: `limit` is zero, or the
    /// channel has ended. Spends one unit of budget per call that returns messages.
    pub(super) fn poll_recv_many(
        &self,
        cx: &mut Context<'_>,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        if limit == 0 {
            return Poll::Ready(0);
        }
        let budget = ready!(runtime_hooks::poll_proceed(cx));
        let Some(first) = ready!(self.poll_pop(cx)) else {
            budget.made_progress();
            return Poll::Ready(0);
        };
        buffer.reserve(limit.min(self.queue.len() + 1));
        buffer.push(first);
        let mut received = 1;
        while received < limit {
            match self.pop() {
                Ok(value) => {
                    buffer.push(value);
                    received += 1;
                }
                Err(_) => break,
            }
        }
        budget.made_progress();
        Poll::Ready(received)
    }

    fn poll_pop(&self, cx: &Context<'_>) -> Poll<Option<T>> {
        match self.pop() {
            Ok(value) => return Poll::Ready(Some(value)),
            Err(PopError::Closed) => return Poll::Ready(None),
            Err(PopError::Empty) => {}
        }
        self.rx_waker.register(cx.waker());
        // `rx_closed` is only written by this receiver, so a relaxed load sees its own
        // close; draining, we also wait for a sender to give its slot back unused.
        if self.rx_closed.load(Ordering::Relaxed) {
            self.slots.register_returns(cx.waker());
        }
        match self.pop() {
            Ok(value) => Poll::Ready(Some(value)),
            Err(PopError::Closed) => Poll::Ready(None),
            Err(PopError::Empty) => Poll::Pending,
        }
    }

    pub(super) fn try_recv(&self) -> Result<T, TryRecvError> {
        self.pop().map_err(|err| match err {
            PopError::Empty => TryRecvError::Empty,
            PopError::Closed => TryRecvError::Disconnected,
        })
    }

    pub(super) fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether the channel has ended or is ending: every sender gone, or the receiver
    /// closed (what `Receiver::is_closed` reports).
    pub(super) fn is_closed(&self) -> bool {
        self.is_rx_closed() || self.queue.is_closed()
    }

    /// Whether the receiver closed or was dropped (what `Sender::is_closed` reports).
    pub(super) fn is_rx_closed(&self) -> bool {
        self.rx_closed.load(Ordering::Acquire)
    }

    /// Closes from the receiving side: fails senders without a slot, wakes `closed()`
    /// waiters. Sends already holding a slot can still push (module docs, "Closing").
    pub(super) fn close_rx(&self) {
        self.rx_closed.store(true, Ordering::Release);
        self.slots.close();
        // After `slots.close()` no slot is handed out, so "none held" cannot change back.
        if self.slots.none_held() {
            self.queue.close();
        }
        let mut batch = WakeBatch::new();
        loop {
            let mut waiters = self.closed_waiters.lock();
            while batch.has_room() {
                let Some(key) = waiters.pop_front() else {
                    break;
                };
                batch.push(waiters.take_waker(key));
            }
            let done = waiters.is_empty();
            drop(waiters);
            batch.wake_all();
            if done {
                return;
            }
        }
    }

    /// Closes the queue, drops every buffered message and the wakers the receiver left
    /// registered; called by the dropping receiver after `close_rx`. A push after this
    /// fails and the sender drops its value.
    ///
    /// A message whose `Drop` panics does not stop the drain: every other message is
    /// still dropped here, then the first panic is resumed (or, if the receiver is being
    /// dropped by an unwind already, swallowed: a second panic would abort).
    pub(super) fn close_and_drain(&self) {
        self.queue.close();
        let mut panic = None;
        while let Ok(value) = self.queue.pop() {
            if let Err(payload) = std::panic::catch_unwind(AssertUnwindSafe(|| drop(value))) {
                panic.get_or_insert(payload);
            }
        }
        // Nothing will wake the receiver again: let its wakers (and what they keep alive)
        // go now rather than with the last sender. A sender waking concurrently takes the
        // waker itself, and drops it after waking.
        drop(self.rx_waker.take());
        drop(self.slots.take_returns());
        if let Some(payload) = panic {
            if !std::thread::panicking() {
                std::panic::resume_unwind(payload);
            }
        }
    }

    pub(super) fn add_sender(&self) {
        self.tx_count.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds a sender if one is still alive (a weak sender upgrading): a channel whose
    /// last sender left has closed its queue for good.
    pub(super) fn try_add_sender(&self) -> bool {
        let mut count = self.tx_count.load(Ordering::Relaxed);
        loop {
            if count == 0 {
                return false;
            }
            match self.tx_count.compare_exchange_weak(
                count,
                count + 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => count = actual,
            }
        }
    }

    pub(super) fn sender_count(&self) -> usize {
        self.tx_count.load(Ordering::Acquire)
    }

    pub(super) fn add_weak(&self) {
        self.weak_count.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn drop_weak(&self) {
        self.weak_count.fetch_sub(1, Ordering::Relaxed);
    }

    pub(super) fn weak_count(&self) -> usize {
        self.weak_count.load(Ordering::Acquire)
    }

    /// Called by each dropping sender; the last one closes the queue.
    pub(super) fn drop_sender(&self) {
        if self.tx_count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.queue.close();
            self.rx_waker.wake();
        }
    }

    /// Waits until the receiver closes.
    pub(super) fn closed(&self) -> ClosedWait<'_, T, S> {
        ClosedWait {
            chan: self,
            key: None,
        }
    }
}

/// Waits for the receiver to close; leaves no waiter behind when dropped.
#[must_use = "futures do nothing unless polled"]
pub(super) struct ClosedWait<'a, T, S> {
    chan: &'a Chan<T, S>,
    key: Option<WaiterKey>,
}

impl<T, S: Slots> Future for ClosedWait<'_, T, S> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let budget = ready!(runtime_hooks::poll_proceed(cx));
        ready!(self.get_mut().poll_closed(cx));
        budget.made_progress();
        Poll::Ready(())
    }
}

impl<T, S: Slots> ClosedWait<'_, T, S> {
    fn poll_closed(&mut self, cx: &Context<'_>) -> Poll<()> {
        let this = self;
        let mut waiters = this.chan.closed_waiters.lock();
        // Checked under the lock: `close_rx` sets `rx_closed` before it drains the list.
        // A waker displaced under the lock is dropped after it is released: its `Drop` may
        // use this channel (`chan_waiters`).
        if this.chan.is_rx_closed() {
            let displaced = this.key.take().and_then(|key| waiters.remove(key).1);
            drop(waiters);
            drop(displaced);
            return Poll::Ready(());
        }
        let displaced = match this.key {
            Some(key) => {
                // Only `close_rx` dequeues, and it sets `rx_closed` first.
                debug_assert!(waiters.is_linked(key));
                waiters.set_waker(key, cx.waker())
            }
            None => {
                this.key = Some(waiters.push_back(cx.waker(), ()));
                None
            }
        };
        drop(waiters);
        drop(displaced);
        Poll::Pending
    }
}

impl<T, S> Drop for ClosedWait<'_, T, S> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // The lock is released at the end of this statement, before the waker drops.
            let (_, waker) = self.chan.closed_waiters.lock().remove(key);
            drop(waker);
        }
    }
}
