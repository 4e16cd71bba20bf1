//! A channel for sending exactly one value between two tasks.
//!
//! [`channel`] returns a [`Sender`] and a [`Receiver`]. The sender consumes itself in
//! [`Sender::send`]; the receiver is a future that resolves to the value, or to
//! [`RecvError`] if the sender was dropped without sending.
//!
//! ```
//! use filch_sync::oneshot;
//!
//! let (tx, rx) = oneshot::channel();
//! std::thread::spawn(move || tx.send(21 * 2).unwrap());
//! assert_eq!(futures::executor::block_on(rx), Ok(42));
//! ```
//!
//! # State machine
//!
//! One heap cell (`Inner`) holds an atomic `state` word, the value slot and two waker
//! slots. The word carries four bits, each set at most once except the waker bits:
//!
//! | bit | set by | meaning |
//! |---|---|---|
//! | `COMPLETE` | sender (`send` or drop) | the sender is done: it wrote `value` (or left it `None`) and will never touch `value` or `rx_waker` again, except one read of `rx_waker` right after setting the bit |
//! | `CLOSED` | receiver (`close` or drop) | the receiver will take no value that was not already `COMPLETE`; never touches `tx_waker` again, except one read right after setting the bit |
//! | `RX_WAKER` | receiver | `rx_waker` holds a waker the sender may read (never write) |
//! | `TX_WAKER` | sender | `tx_waker` holds a waker the receiver may read (never write) |
//!
//! Ownership of each slot follows from the bits:
//!
//! - `value`: written by the sender while `COMPLETE` is clear. `COMPLETE` is only set if
//!   `CLOSED` is clear (a compare-exchange loop), otherwise the sender takes its value back
//!   and returns it as the error. After `COMPLETE` is observed (acquire), the receiver owns
//!   `value`.
//! - `rx_waker`: the receiver writes it only when it has seen `RX_WAKER` clear *and*
//!   `COMPLETE` clear, then publishes it by setting `RX_WAKER`. To replace a stored waker
//!   it first clears `RX_WAKER`; if the old word had `COMPLETE`, the sender may be reading
//!   the slot, so the receiver leaves it and takes the value instead. The sender reads the
//!   slot only when the word it replaced with `COMPLETE` had `RX_WAKER` set, i.e. after the
//!   receiver's last write was published.
//! - `tx_waker`: the mirror image, with `CLOSED` in place of `COMPLETE` and the roles
//!   swapped (`Sender::poll_closed` writes, `Receiver::close` reads once).
//!
//! Every read-modify-write on `state` is `AcqRel` and every load `Acquire`, so a slot write
//! happens-before the read that the bit authorises.

use crate::loom::{Arc, AtomicUsize, Ordering, UnsafeCell};
use crate::runtime_hooks;
use std::error::Error;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{ready, Context, Poll, Waker};

const COMPLETE: usize = 0b0001;
const CLOSED: usize = 0b0010;
const RX_WAKER: usize = 0b0100;
const TX_WAKER: usize = 0b1000;

/// Creates a one-shot channel.
///
/// ```
/// use filch_sync::oneshot;
///
/// let (tx, mut rx) = oneshot::channel::<&str>();
/// assert_eq!(rx.try_recv(), Err(oneshot::TryRecvError::Empty));
/// tx.send("hi").unwrap();
/// assert_eq!(rx.try_recv(), Ok("hi"));
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Inner {
        state: AtomicUsize::new(0),
        value: UnsafeCell::new(None),
        rx_waker: UnsafeCell::new(None),
        tx_waker: UnsafeCell::new(None),
    });
    (
        Sender {
            inner: Some(inner.clone()),
        },
        Receiver { inner: Some(inner) },
    )
}

/// The sending half of a [`channel`]; sends one value with [`Sender::send`].
pub struct Sender<T> {
    /// `None` once `send` consumed it.
    inner: Option<Arc<Inner<T>>>,
}

/// The receiving half of a [`channel`]; a future resolving to the sent value.
///
/// # Panics
///
/// Polling the receiver again after it returned `Poll::Ready` panics.
pub struct Receiver<T> {
    /// `None` once the outcome was delivered.
    inner: Option<Arc<Inner<T>>>,
}

/// The sender was dropped without sending, or the receiver closed before it was sent.
///
/// ```
/// use filch_sync::oneshot;
///
/// let (tx, rx) = oneshot::channel::<u8>();
/// drop(tx);
/// let err = futures::executor::block_on(rx).unwrap_err();
/// assert_eq!(err.to_string(), "oneshot sender dropped without sending");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError(());

/// Why [`Receiver::try_recv`] returned no value.
///
/// ```
/// use filch_sync::oneshot::{self, TryRecvError};
///
/// let (tx, mut rx) = oneshot::channel::<u8>();
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing was sent yet; the sender is still alive.
    Empty,
    /// No value will ever arrive: the sender is gone, the receiver closed, or the value was
    /// already taken.
    Closed,
}

/// The error types, also available at the module root.
pub mod error {
    pub use super::{RecvError, TryRecvError};
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("oneshot sender dropped without sending")
    }
}

impl Error for RecvError {}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("oneshot channel empty"),
            Self::Closed => f.write_str("oneshot channel closed"),
        }
    }
}

impl Error for TryRecvError {}

struct Inner<T> {
    state: AtomicUsize,
    /// # Invariant
    /// Sender-owned while `COMPLETE` is clear, receiver-owned once it is set (module docs).
    value: UnsafeCell<Option<T>>,
    /// # Invariant
    /// Written only by the receiver while `RX_WAKER` and `COMPLETE` are clear; read by the
    /// sender once, when its `COMPLETE` transition saw `RX_WAKER`.
    rx_waker: UnsafeCell<Option<Waker>>,
    /// # Invariant
    /// Written only by the sender while `TX_WAKER` and `CLOSED` are clear; read by the
    /// receiver once, when its `CLOSED` transition saw `TX_WAKER`.
    tx_waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: the value is moved across threads, never shared by reference, so `T: Send` is
// enough; the cells are handed between threads by the `state` protocol in the module docs.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as above; no `&T` is ever given out, so `T: Sync` is not needed.
unsafe impl<T: Send> Sync for Inner<T> {}

/// Outcome of the sender's `COMPLETE` transition.
#[must_use]
enum Completion {
    /// `COMPLETE` is set; the receiver will see whatever `value` holds.
    Completed,
    /// The receiver closed first; `COMPLETE` was not set and `value` is still ours.
    ReceiverClosed,
}

impl<T> Inner<T> {
    /// Sets `COMPLETE` unless the receiver closed, and wakes a parked receiver.
    fn complete(&self) -> Completion {
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            if state & CLOSED != 0 {
                return Completion::ReceiverClosed;
            }
            match self.state.compare_exchange_weak(
                state,
                state | COMPLETE,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(actual) => state = actual,
            }
        }
        if state & RX_WAKER != 0 {
            self.rx_waker.with(|waker| {
                // SAFETY: the word we replaced had RX_WAKER, so the receiver's write is
                // published and, with COMPLETE now set, it will not write the slot again.
                if let Some(waker) = unsafe { &*waker } {
                    waker.wake_by_ref();
                }
            });
        }
        Completion::Completed
    }

    /// Sets `CLOSED` and wakes a sender parked in `closed()`; returns the previous word.
    fn close(&self) -> usize {
        let prev = self.state.fetch_or(CLOSED, Ordering::AcqRel);
        if prev & (TX_WAKER | COMPLETE | CLOSED) == TX_WAKER {
            self.tx_waker.with(|waker| {
                // SAFETY: the word we replaced had TX_WAKER, so the sender's write is
                // published and, with CLOSED now set, it will not write the slot again.
                if let Some(waker) = unsafe { &*waker } {
                    waker.wake_by_ref();
                }
            });
        }
        prev
    }

    /// Takes the value; the caller has observed `COMPLETE`.
    fn take_value(&self) -> Option<T> {
        // SAFETY: the caller (the receiver) observed COMPLETE with acquire ordering, so it
        // owns `value` and the sender's write is visible.
        self.value.with_mut(|value| unsafe { (*value).take() })
    }
}

impl<T> Sender<T> {
    /// Sends `value`, consuming the sender.
    ///
    /// # Errors
    ///
    /// Returns `Err(value)` if the receiver was dropped or [closed](Receiver::close)
    /// before the value was sent.
    ///
    /// ```
    /// use filch_sync::oneshot;
    ///
    /// let (tx, rx) = oneshot::channel();
    /// drop(rx);
    /// assert_eq!(tx.send(5), Err(5));
    /// ```
    pub fn send(mut self, value: T) -> Result<(), T> {
        let inner = self.inner.take().expect("oneshot sender used after send");
        // SAFETY: COMPLETE is clear (only this sender sets it, and it has not), so the
        // sender owns `value`.
        inner.value.with_mut(|slot| unsafe { *slot = Some(value) });
        match inner.complete() {
            Completion::Completed => Ok(()),
            Completion::ReceiverClosed => {
                // SAFETY: COMPLETE was never set, so the receiver never reads `value`.
                let value = inner.value.with_mut(|slot| unsafe { (*slot).take() });
                Err(value.expect("value written above"))
            }
        }
    }

    /// Whether the receiver has been dropped or closed; a `send` now would fail.
    ///
    /// ```
    /// use filch_sync::oneshot;
    ///
    /// let (tx, rx) = oneshot::channel::<()>();
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        let inner = self.inner.as_ref().expect("oneshot sender used after send");
        inner.state.load(Ordering::Acquire) & CLOSED != 0
    }

    /// Waits until the receiver is dropped or closed.
    ///
    /// Useful to abandon computing a value nobody will read. Cancel safe.
    ///
    /// ```
    /// use filch_sync::oneshot;
    ///
    /// let (mut tx, rx) = oneshot::channel::<()>();
    /// std::thread::spawn(move || drop(rx));
    /// futures::executor::block_on(tx.closed());
    /// assert!(tx.is_closed());
    /// ```
    pub async fn closed(&mut self) {
        poll_fn(|cx| self.poll_closed(cx)).await;
    }

    /// Polls for the receiver being dropped or closed; the poll form of [`Sender::closed`].
    ///
    /// Only the waker of the latest poll is woken.
    ///
    /// ```
    /// use filch_sync::oneshot;
    /// use std::task::{Context, Poll};
    ///
    /// let (mut tx, rx) = oneshot::channel::<()>();
    /// let waker = futures::task::noop_waker();
    /// let mut cx = Context::from_waker(&waker);
    /// assert!(tx.poll_closed(&mut cx).is_pending());
    /// drop(rx);
    /// assert!(tx.poll_closed(&mut cx).is_ready());
    /// ```
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        // One unit of the runtime's budget, given back if still waiting (`runtime_hooks`).
        let budget = ready!(runtime_hooks::poll_proceed(cx));
        ready!(self.poll_closed_inner(cx));
        budget.made_progress();
        Poll::Ready(())
    }

    fn poll_closed_inner(&mut self, cx: &Context<'_>) -> Poll<()> {
        let inner = self.inner.as_ref().expect("oneshot sender used after send");
        let mut state = inner.state.load(Ordering::Acquire);
        if state & CLOSED != 0 {
            return Poll::Ready(());
        }
        if state & TX_WAKER != 0 {
            // SAFETY: while TX_WAKER is set the receiver only reads the slot; reading it
            // too is fine.
            let same = inner.tx_waker.with(|waker| unsafe {
                (*waker)
                    .as_ref()
                    .is_some_and(|waker| waker.will_wake(cx.waker()))
            });
            if same {
                return Poll::Pending;
            }
            state = inner.state.fetch_and(!TX_WAKER, Ordering::AcqRel);
            if state & CLOSED != 0 {
                // The receiver may be reading the slot; leave it alone.
                return Poll::Ready(());
            }
        }
        // SAFETY: TX_WAKER and CLOSED were clear at our last transition, so the receiver
        // will not read the slot until we publish it below.
        inner
            .tx_waker
            .with_mut(|waker| unsafe { *waker = Some(cx.waker().clone()) });
        if inner.state.fetch_or(TX_WAKER, Ordering::AcqRel) & CLOSED != 0 {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            // Nothing was sent: `value` stays `None`, which the receiver reads as closed.
            let _ = inner.complete();
        }
    }
}

impl<T> Receiver<T> {
    /// Takes the value if it has been sent, without waiting.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if the sender is alive and has not sent;
    /// [`TryRecvError::Closed`] if no value will come (sender dropped, receiver closed
    /// before the send, or the value was already received).
    ///
    /// ```
    /// use filch_sync::oneshot;
    ///
    /// let (tx, mut rx) = oneshot::channel();
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(oneshot::TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let Some(inner) = self.inner.as_ref() else {
            return Err(TryRecvError::Closed);
        };
        let state = inner.state.load(Ordering::Acquire);
        if state & COMPLETE != 0 {
            let value = inner.take_value();
            self.inner = None;
            value.ok_or(TryRecvError::Closed)
        } else if state & CLOSED != 0 {
            self.inner = None;
            Err(TryRecvError::Closed)
        } else {
            Err(TryRecvError::Empty)
        }
    }

    /// Closes the channel without dropping the receiver.
    ///
    /// A later `send` fails; a value sent before the close can still be received.
    ///
    /// ```
    /// use filch_sync::oneshot;
    ///
    /// let (tx, mut rx) = oneshot::channel();
    /// rx.close();
    /// assert_eq!(tx.send(3), Err(3));
    /// assert!(rx.try_recv().is_err());
    /// ```
    pub fn close(&mut self) {
        if let Some(inner) = self.inner.as_ref() {
            inner.close();
        }
    }

    /// Blocks the current thread until the value arrives; for code outside async tasks.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if the sender was dropped without sending or the receiver closed.
    ///
    /// # Panics
    ///
    /// If the outcome was already received, or if the runtime's
    /// [hooks](crate::runtime_hooks) say this thread drives async tasks.
    ///
    /// ```
    /// use filch_sync::oneshot;
    ///
    /// let (tx, rx) = oneshot::channel();
    /// std::thread::spawn(move || tx.send("done").unwrap());
    /// assert_eq!(rx.blocking_recv(), Ok("done"));
    /// ```
    #[track_caller]
    pub fn blocking_recv(self) -> Result<T, RecvError> {
        runtime_hooks::assert_may_block("oneshot::Receiver::blocking_recv", "receiver.await");
        crate::chan_waiters::block_on(self)
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        // One unit of the runtime's budget, given back if still waiting (`runtime_hooks`).
        let budget = ready!(runtime_hooks::poll_proceed(cx));
        let outcome = ready!(self.poll_value(cx));
        budget.made_progress();
        Poll::Ready(outcome)
    }

    fn poll_value(&mut self, cx: &Context<'_>) -> Poll<Result<T, RecvError>> {
        let inner = self
            .inner
            .as_ref()
            .expect("oneshot receiver polled after completion");
        let mut state = inner.state.load(Ordering::Acquire);
        if state & (COMPLETE | CLOSED) == 0 {
            if state & RX_WAKER != 0 {
                // SAFETY: while RX_WAKER is set the sender only reads the slot; reading it
                // too is fine.
                let same = inner.rx_waker.with(|waker| unsafe {
                    (*waker)
                        .as_ref()
                        .is_some_and(|waker| waker.will_wake(cx.waker()))
                });
                if same {
                    return Poll::Pending;
                }
                state = inner.state.fetch_and(!RX_WAKER, Ordering::AcqRel);
            }
            if state & COMPLETE == 0 {
                // SAFETY: RX_WAKER and COMPLETE were clear at our last transition, so the
                // sender will not read the slot until we publish it below.
                inner
                    .rx_waker
                    .with_mut(|waker| unsafe { *waker = Some(cx.waker().clone()) });
                state = inner.state.fetch_or(RX_WAKER, Ordering::AcqRel);
                if state & COMPLETE == 0 {
                    return Poll::Pending;
                }
            }
        }
        let outcome = if state & COMPLETE != 0 {
            inner.take_value().ok_or(RecvError(()))
        } else {
            Err(RecvError(()))
        };
        self.inner = None;
        Poll::Ready(outcome)
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut().poll_recv(cx)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            if inner.close() & COMPLETE != 0 {
                // Drop an unreceived value now rather than when the sender's Arc goes.
                drop(inner.take_value());
            }
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Sender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Receiver").finish_non_exhaustive()
    }
}
