//! The state shared by both halves of a bounded or unbounded channel.
//!
//! # Closing
//!
//! The queue's own closed flag is the channel's: once set, pushes fail (the value goes back
//! to the sender) and pops drain what is left, then report closed. It is set by
//!
//! - the last sender's drop (`tx_count` reaching zero): every push happened-before the
//!   `AcqRel` decrement, so the receiver drains them all before it sees `None`;
//! - the receiver's `close` or drop, which also closes the bounded channel's `Capacity`
//!   (failing queued senders) and wakes every task in `Sender::closed`.
//!
//! While a sender exists, the queue can only have been closed by the receiver, so
//! `is_closed` on a sender means "the receiver is gone".
//!
//! # Waking the receiver
//!
//! Every successful push is followed by `rx_waker.wake()`. The receiver pops, and on an
//! empty queue registers its waker and pops again, so a push that lands between the first
//! pop and the registration is seen by the second pop (see `AtomicWaker`).

use super::capacity::Capacity;
use super::error::TryRecvError;
use crate::chan_waiters::{AtomicWaker, WaitList, WaiterKey, WakeBatch};
use crate::loom::{AtomicUsize, Mutex, Ordering};
use concurrent_queue::{ConcurrentQueue, PopError, PushError};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// What the receiver returns a slot to after each pop.
pub(super) trait Slots {
    /// One message left the queue.
    fn release(&self);
    /// The receiver closed.
    fn close(&self);
}

/// The unbounded channel has no slots to return.
#[derive(Debug)]
pub(super) struct Unlimited;

impl Slots for Unlimited {
    fn release(&self) {}
    fn close(&self) {}
}

impl Slots for Capacity {
    fn release(&self) {
        Capacity::release(self);
    }
    fn close(&self) {
        Capacity::close(self);
    }
}

#[derive(Debug)]
pub(super) struct Chan<T, S> {
    queue: ConcurrentQueue<T>,
    rx_waker: AtomicWaker,
    /// Live senders; the last one to leave closes the queue.
    tx_count: AtomicUsize,
    /// Senders waiting in `closed()`. Woken by the receiver's close.
    closed_waiters: Mutex<WaitList<()>>,
    pub(super) slots: S,
}

impl<T, S: Slots> Chan<T, S> {
    pub(super) fn new(queue: ConcurrentQueue<T>, slots: S) -> Self {
        Self {
            queue,
            rx_waker: AtomicWaker::new(),
            tx_count: AtomicUsize::new(1),
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
    fn pop(&self) -> Result<T, PopError> {
        let value = self.queue.pop()?;
        self.slots.release();
        Ok(value)
    }

    /// Receives one message; the caller holds `&mut` to the only receiver.
    pub(super) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        match self.pop() {
            Ok(value) => return Poll::Ready(Some(value)),
            Err(PopError::Closed) => return Poll::Ready(None),
            Err(PopError::Empty) => {}
        }
        self.rx_waker.register(cx.waker());
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

    pub(super) fn is_closed(&self) -> bool {
        self.queue.is_closed()
    }

    /// Closes from the receiving side: fails senders, wakes `closed()` waiters.
    pub(super) fn close_rx(&self) {
        self.queue.close();
        self.slots.close();
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

    /// Drops every buffered message; called by the dropping receiver after `close_rx`.
    pub(super) fn drain(&self) {
        while self.queue.pop().is_ok() {}
    }

    pub(super) fn add_sender(&self) {
        self.tx_count.fetch_add(1, Ordering::Relaxed);
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
        let this = self.get_mut();
        let mut waiters = this.chan.closed_waiters.lock();
        // Checked under the lock: `close_rx` closes the queue before it drains the list.
        if this.chan.is_closed() {
            if let Some(key) = this.key.take() {
                waiters.remove(key);
            }
            return Poll::Ready(());
        }
        match this.key {
            Some(key) => {
                // Only `close_rx` dequeues, and it closes the queue first.
                debug_assert!(waiters.is_linked(key));
                waiters.set_waker(key, cx.waker());
            }
            None => this.key = Some(waiters.push_back(cx.waker(), ())),
        }
        Poll::Pending
    }
}

impl<T, S> Drop for ClosedWait<'_, T, S> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.chan.closed_waiters.lock().remove(key);
        }
    }
}
