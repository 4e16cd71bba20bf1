//! A multi-producer, multi-consumer channel that keeps only the latest value.
//!
//! Receivers see the newest value with [`Receiver::borrow`] and wait for the next change
//! with [`Receiver::changed`]. Values in between may be skipped: watch is for state
//! (configuration, a shutdown flag, progress), not for a stream of events.
//!
//! ```
//! use filch_sync::watch;
//!
//! let (tx, mut rx) = watch::channel("starting");
//! let worker = std::thread::spawn(move || {
//!     futures::executor::block_on(async {
//!         rx.changed().await.unwrap();
//!         *rx.borrow_and_update()
//!     })
//! });
//! tx.send("running").unwrap();
//! assert_eq!(worker.join().unwrap(), "running");
//! ```
//!
//! # Design
//!
//! - `value` sits behind a reader-writer lock; [`Ref`] holds the read lock.
//! - `state = version << 1 | CLOSED`. Every send bumps `version` by one step *while
//!   holding the write lock*, so a reader holding the read lock sees the version that
//!   matches the value it reads. `CLOSED` is set once, when the last [`Sender`] drops:
//!   `tx_count` counts the sender and its clones, and the drop that takes it to zero
//!   sets `CLOSED`, then wakes `rx_waiters` as a send does. That is the only lock-free
//!   step of the close (an `AcqRel` counter, so the final sends happen-before it); the
//!   wakeup goes through the waiter list's lock like every other.
//! - Each receiver remembers the version it last saw; "changed" means "differs".
//! - Receivers waiting in `changed()` queue in `rx_waiters`. The sender bumps the version
//!   first, then locks `rx_waiters` and wakes everybody queued at that moment (a batch per
//!   lock hold; later arrivals saw the new version and are not woken by this round, see
//!   `chan_waiters::WaitList::mark`); a waiter checks the version under
//!   the same lock before queueing, so no wakeup is lost. A send whose `modify` closure
//!   panics does both too, from a drop guard (see `Sender::send_if_modified`).
//! - A sender's `closed()` (any clone's) waits in `tx_waiters` for `rx_count` to reach
//!   zero, with the same check-under-lock rule against the last receiver's drop.

mod receiver;
mod sender;

use crate::chan_waiters::{WaitList, WaiterKey, WakeBatch};
use crate::loom::{Arc, AtomicUsize, Mutex, Ordering, RwLock, RwLockReadGuard};
use crate::runtime_hooks;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

const CLOSED: usize = 1;
const VERSION_STEP: usize = 2;

/// Creates a watch channel holding `init`.
///
/// ```
/// use filch_sync::watch;
///
/// let (tx, rx) = watch::channel(0);
/// tx.send(1).unwrap();
/// assert_eq!(*rx.borrow(), 1);
/// ```
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        value: RwLock::new(init),
        state: AtomicUsize::new(0),
        rx_count: AtomicUsize::new(1),
        tx_count: AtomicUsize::new(1),
        rx_waiters: Mutex::new(WaitList::new()),
        tx_waiters: Mutex::new(WaitList::new()),
    });
    let receiver = Receiver {
        shared: shared.clone(),
        seen: 0,
    };
    (Sender { shared }, receiver)
}

/// Publishes new values to every [`Receiver`].
///
/// `Sender` is `Clone`, as tokio's: every clone publishes to the same value, and the
/// channel closes for receivers ([`Receiver::changed`] returns [`RecvError`]) only when
/// the last clone is dropped; [`Sender::sender_count`] counts the clones. What a sender
/// asks about closing ([`Sender::closed`], [`Sender::is_closed`]) is about receivers,
/// the same on every clone, and any clone can [`subscribe`](Sender::subscribe).
///
/// ```
/// use filch_sync::watch;
///
/// let (tx, rx) = watch::channel(0);
/// let tx2 = tx.clone();
/// tx2.send(1).unwrap();
/// drop(tx);
/// assert_eq!(rx.has_changed(), Ok(true), "a sender is left: still open");
/// drop(tx2);
/// assert!(rx.has_changed().is_err());
/// ```
///
/// Producers on several threads, each with its own clone; the receiver runs until the
/// last one is gone, and sees the final value before the close:
///
/// ```
/// use filch_sync::watch;
///
/// let (tx, mut rx) = watch::channel(0);
/// let clones: Vec<_> = (1..=3).map(|id| (id, tx.clone())).collect();
/// assert_eq!(tx.sender_count(), 4);
/// drop(tx);
/// let producers: Vec<_> = clones
///     .into_iter()
///     .map(|(id, tx)| std::thread::spawn(move || tx.send(id).unwrap()))
///     .collect();
/// futures::executor::block_on(async {
///     while rx.changed().await.is_ok() {}
/// });
/// assert!((1..=3).contains(&*rx.borrow()));
/// for producer in producers {
///     producer.join().unwrap();
/// }
/// ```
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// Observes the latest value of a watch channel. Clone it for more observers.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The version (`state` without `CLOSED`) this receiver last marked as seen.
    seen: usize,
}

/// A read guard on the channel's value; the sender cannot publish while it is held.
///
/// A send blocks its thread until every `Ref` is dropped, so holding one while the same
/// thread sends deadlocks, and holding one across an `.await` can stall the sender's
/// thread: keep borrows short.
///
/// ```
/// use filch_sync::watch;
///
/// let (_tx, rx) = watch::channel(vec![1, 2]);
/// let value = rx.borrow();
/// assert_eq!(value.len(), 2);
/// assert!(!value.has_changed());
/// ```
pub struct Ref<'a, T> {
    guard: RwLockReadGuard<'a, T>,
    has_changed: bool,
}

/// Every receiver is gone; the value that could not be sent is returned.
///
/// ```
/// use filch_sync::watch;
///
/// let (tx, rx) = watch::channel(0);
/// drop(rx);
/// let err = tx.send(5).unwrap_err();
/// assert_eq!(err.0, 5);
/// assert_eq!(err.to_string(), "watch channel has no receivers");
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

/// Every sender is gone (the last clone dropped) and no unseen value remains.
///
/// ```
/// use filch_sync::watch;
///
/// let (tx, mut rx) = watch::channel(0);
/// drop(tx);
/// let err = futures::executor::block_on(rx.changed()).unwrap_err();
/// assert_eq!(err.to_string(), "watch sender dropped");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError(());

/// The error types, also available at the module root.
pub mod error {
    pub use super::{RecvError, SendError};
}

struct Shared<T> {
    value: RwLock<T>,
    /// `version << 1 | CLOSED`; the version only changes under `value`'s write lock.
    state: AtomicUsize,
    rx_count: AtomicUsize,
    /// Live senders; the last one to drop sets `CLOSED`.
    tx_count: AtomicUsize,
    /// Receivers in `changed()`, woken (and dequeued) on every version bump and on close.
    rx_waiters: Mutex<WaitList<()>>,
    /// The sender in `closed()`, woken when `rx_count` reaches zero.
    tx_waiters: Mutex<WaitList<()>>,
}

impl<T> Shared<T> {
    fn version(&self) -> usize {
        self.state.load(Ordering::Acquire) & !CLOSED
    }

    /// Wakes (and dequeues) every waiter queued when it is called, a batch per lock hold.
    /// Waiters that queue meanwhile saw the change that called this and are left alone.
    fn wake_all(list: &Mutex<WaitList<()>>) {
        let mut batch = WakeBatch::new();
        let mut waiters = list.lock();
        let mark = waiters.mark();
        loop {
            let mut more = false;
            while let Some(key) = waiters.pop_front_before(mark) {
                batch.push(waiters.take_waker(key));
                if !batch.has_room() {
                    more = true;
                    break;
                }
            }
            drop(waiters);
            batch.wake_all();
            if !more {
                return;
            }
            waiters = list.lock();
        }
    }

    /// Polls until `ready` holds, queueing in `list` otherwise. `ready` is evaluated with
    /// the list locked, which is what makes a concurrent notifier's wakeup reach us.
    fn poll_wait<R>(
        list: &Mutex<WaitList<()>>,
        key: &mut Option<WaiterKey>,
        cx: &Context<'_>,
        ready: impl FnOnce() -> Option<R>,
    ) -> Poll<R> {
        let mut waiters = list.lock();
        // A waker displaced under the lock is dropped after it is released: its `Drop` may
        // send on this channel (`chan_waiters`).
        if let Some(out) = ready() {
            let displaced = key.take().and_then(|key| waiters.remove(key).1);
            drop(waiters);
            drop(displaced);
            return Poll::Ready(out);
        }
        let displaced = match *key {
            Some(k) if waiters.is_linked(k) => waiters.set_waker(k, cx.waker()),
            _ => {
                // First poll, or woken by a notifier whose change we have already consumed
                // elsewhere: queue again.
                let old = key.take().and_then(|k| waiters.remove(k).1);
                *key = Some(waiters.push_back(cx.waker(), ()));
                old
            }
        };
        drop(waiters);
        drop(displaced);
        Poll::Pending
    }
}

/// Waits in one of the waiter lists and leaves it when dropped.
struct Wait<'a, T, R, F: FnMut() -> Option<R>> {
    list: &'a Mutex<WaitList<()>>,
    key: Option<WaiterKey>,
    ready: F,
    _shared: std::marker::PhantomData<&'a T>,
}

impl<T, R, F: FnMut() -> Option<R> + Unpin> Future for Wait<'_, T, R, F> {
    type Output = R;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<R> {
        // One unit of the runtime's budget, given back if still waiting (`runtime_hooks`).
        let budget = ready!(runtime_hooks::poll_proceed(cx));
        let this = self.get_mut();
        let out = ready!(Shared::<T>::poll_wait(
            this.list,
            &mut this.key,
            cx,
            &mut this.ready
        ));
        budget.made_progress();
        Poll::Ready(out)
    }
}

impl<T, R, F: FnMut() -> Option<R>> Drop for Wait<'_, T, R, F> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // The lock is released at the end of this statement, before the waker drops.
            let (_, waker) = self.list.lock().remove(key);
            drop(waker);
        }
    }
}

impl<T> Ref<'_, T> {
    /// Whether the borrowed value was unseen by the receiver when borrowed. Always `false`
    /// for [`Sender::borrow`].
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, rx) = watch::channel(0);
    /// assert!(!rx.borrow().has_changed());
    /// tx.send(1).unwrap();
    /// assert!(rx.borrow().has_changed());
    /// ```
    pub fn has_changed(&self) -> bool {
        self.has_changed
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Sender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Receiver")
            .field("seen", &(self.seen / VERSION_STEP))
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError").finish_non_exhaustive()
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("watch channel has no receivers")
    }
}

impl<T> Error for SendError<T> {}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("watch sender dropped")
    }
}

impl Error for RecvError {}
