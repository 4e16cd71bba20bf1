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

use crate::chan_waiters::{WaitList, WaiterKey, WakeBatch};
use crate::loom::{Arc, AtomicUsize, Mutex, Ordering, RwLock, RwLockReadGuard, RwLockWriteGuard};
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

impl<T> Sender<T> {
    /// Publishes `value` and notifies every receiver.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if there are no receivers; the stored value is left
    /// unchanged. [`Sender::send_replace`] stores regardless.
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, rx) = watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.receiver_count() == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Stores `value` whether or not anyone is listening, notifies receivers, and returns
    /// the previous value.
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, _rx) = watch::channel(1);
    /// assert_eq!(tx.send_replace(2), 1);
    /// assert_eq!(*tx.borrow(), 2);
    /// ```
    pub fn send_replace(&self, value: T) -> T {
        let mut value = value;
        self.send_modify(|old| std::mem::swap(old, &mut value));
        value
    }

    /// Modifies the value in place, then notifies receivers.
    ///
    /// # Panics
    ///
    /// If `modify` panics the panic propagates, and the change is still published and
    /// every waiting receiver woken, since the value may have been partly modified (see
    /// [`Sender::send_if_modified`]).
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, rx) = watch::channel(vec![1]);
    /// tx.send_modify(|v| v.push(2));
    /// assert_eq!(*rx.borrow(), [1, 2]);
    /// ```
    pub fn send_modify(&self, modify: impl FnOnce(&mut T)) {
        self.send_if_modified(|value| {
            modify(value);
            true
        });
    }

    /// Runs `modify` on the value and notifies receivers only if it returns `true`.
    ///
    /// Returns what `modify` returned.
    ///
    /// # Panics
    ///
    /// If `modify` panics the panic propagates. The value may have been partly modified,
    /// so the change is treated as made: the version is bumped, every waiting receiver is
    /// woken (and `changed()` returns), and the write lock is released by the unwind (this
    /// lock does not poison). A spurious change notice is harmless where a missed one is
    /// not. (tokio's `watch` differs here: it publishes nothing on a panic, leaving the
    /// partial change visible to `borrow` but unannounced.)
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, rx) = watch::channel(5);
    /// assert!(!tx.send_if_modified(|v| false));
    /// assert!(!rx.has_changed().unwrap());
    /// assert!(tx.send_if_modified(|v| { *v += 1; true }));
    /// assert!(rx.has_changed().unwrap());
    ///
    /// let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
    ///     tx.send_if_modified(|v| {
    ///         *v = 0;
    ///         panic!("half way")
    ///     })
    /// }));
    /// assert!(panicked.is_err());
    /// assert!(rx.has_changed().unwrap());
    /// assert_eq!(*rx.borrow(), 0);
    /// ```
    pub fn send_if_modified(&self, modify: impl FnOnce(&mut T) -> bool) -> bool {
        /// Holds the write lock; when dropped (on return or while `modify` unwinds) bumps
        /// the version under the lock if `publish` is set, unlocks, then wakes receivers.
        struct Publish<'a, T> {
            shared: &'a Shared<T>,
            value: Option<RwLockWriteGuard<'a, T>>,
            publish: bool,
        }
        impl<T> Drop for Publish<'_, T> {
            fn drop(&mut self) {
                let value = self.value.take();
                if self.publish {
                    // Still under the write lock: a reader sees the version of its value.
                    self.shared.state.fetch_add(VERSION_STEP, Ordering::Release);
                }
                drop(value);
                if self.publish {
                    Shared::<T>::wake_all(&self.shared.rx_waiters);
                }
            }
        }

        let shared = &*self.shared;
        let mut guard = Publish {
            shared,
            value: Some(shared.value.write()),
            // Until `modify` returns, assume it changed the value: if it unwinds, the
            // change is published (see "Panics").
            publish: true,
        };
        let value = guard.value.as_mut().expect("write guard held until drop");
        guard.publish = modify(value);
        guard.publish
    }

    /// Borrows the current value.
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, _rx) = watch::channel("a");
    /// assert_eq!(*tx.borrow(), "a");
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.value.read(),
            has_changed: false,
        }
    }

    /// Creates a receiver that has seen the current value.
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, rx) = watch::channel(0);
    /// drop(rx);
    /// let rx = tx.subscribe();
    /// assert!(!rx.has_changed().unwrap());
    /// assert_eq!(tx.receiver_count(), 1);
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        let guard = self.shared.value.read();
        let seen = self.shared.version();
        self.shared.rx_count.fetch_add(1, Ordering::Relaxed);
        drop(guard);
        Receiver {
            shared: self.shared.clone(),
            seen,
        }
    }

    /// Number of live receivers.
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, rx) = watch::channel(());
    /// let rx2 = rx.clone();
    /// assert_eq!(tx.receiver_count(), 2);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.rx_count.load(Ordering::Acquire)
    }

    /// Number of live senders (this one and its clones).
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, _rx) = watch::channel(());
    /// let tx2 = tx.clone();
    /// assert_eq!(tx.sender_count(), 2);
    /// drop(tx2);
    /// assert_eq!(tx.sender_count(), 1);
    /// ```
    pub fn sender_count(&self) -> usize {
        self.shared.tx_count.load(Ordering::Acquire)
    }

    /// Whether every receiver is gone; the same on every sender clone.
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, rx) = watch::channel(());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Waits until every receiver is gone (whichever sender clone it subscribed from).
    /// Cancel safe.
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, rx) = watch::channel(());
    /// std::thread::spawn(move || drop(rx));
    /// futures::executor::block_on(tx.closed());
    /// ```
    pub async fn closed(&self) {
        let shared = &*self.shared;
        Wait {
            list: &shared.tx_waiters,
            key: None,
            ready: || (shared.rx_count.load(Ordering::Acquire) == 0).then_some(()),
            _shared: std::marker::PhantomData::<&T>,
        }
        .await;
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.tx_count.fetch_add(1, Ordering::Relaxed);
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        // Every sender's sends happened-before its `AcqRel` decrement, so a receiver that
        // sees `CLOSED` sees the final version.
        if self.shared.tx_count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.state.fetch_or(CLOSED, Ordering::AcqRel);
            Shared::<T>::wake_all(&self.shared.rx_waiters);
        }
    }
}

/// One look of [`Receiver::wait_for`]: marks the current value seen and returns it if `f`
/// accepts it; otherwise `Err(closed)`, with `closed` read under the same read lock (so
/// `true` means `f` saw the final value).
fn check_value<'a, T>(
    shared: &'a Shared<T>,
    seen: &mut usize,
    fresh: bool,
    f: &mut impl FnMut(&T) -> bool,
) -> Result<Ref<'a, T>, bool> {
    let guard = shared.value.read();
    // Read under the read lock: the version matches the value.
    let state = shared.state.load(Ordering::Acquire);
    let has_changed = fresh || state & !CLOSED != *seen;
    *seen = state & !CLOSED;
    if f(&guard) {
        Ok(Ref { guard, has_changed })
    } else {
        Err(state & CLOSED != 0)
    }
}

/// The future of [`Receiver::changed`], over the receiver's fields (so that
/// [`Receiver::wait_for`] can wait while it keeps `shared` borrowed).
fn wait_changed<'a, T>(
    shared: &'a Shared<T>,
    seen: &'a mut usize,
) -> impl Future<Output = Result<(), RecvError>> + 'a {
    Wait {
        list: &shared.rx_waiters,
        key: None,
        ready: move || {
            let state = shared.state.load(Ordering::Acquire);
            if state & !CLOSED != *seen {
                *seen = state & !CLOSED;
                Some(Ok(()))
            } else if state & CLOSED != 0 {
                Some(Err(RecvError(())))
            } else {
                None
            }
        },
        _shared: std::marker::PhantomData::<&T>,
    }
}

impl<T> Receiver<T> {
    /// Waits for a value this receiver has not seen, and marks it seen.
    ///
    /// Returns at once if the current value is already unseen. Cancel safe.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once every sender (the last clone) is dropped and the current value
    /// has been seen.
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, mut rx) = watch::channel(0);
    /// tx.send(1).unwrap();
    /// futures::executor::block_on(async {
    ///     rx.changed().await.unwrap();
    ///     assert_eq!(*rx.borrow(), 1);
    ///     drop(tx);
    ///     assert!(rx.changed().await.is_err());
    /// });
    /// ```
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        wait_changed(&self.shared, &mut self.seen).await
    }

    /// Waits until the value satisfies `f`, marks it seen and returns it borrowed.
    ///
    /// `f` is called on the current value first (seen or not), then on each new value
    /// this receiver observes; values sent in between may be skipped, as for
    /// [`Receiver::changed`]. The returned [`Ref`] holds the read lock: drop it soon.
    /// Each call spends one unit of the runtime's budget (`runtime_hooks`), and its waits
    /// spend as `changed()` does. Cancel safe.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once every sender is gone and `f` returned `false` on the final value
    /// (it is always called on it).
    ///
    /// # Panics
    ///
    /// If `f` panics; the panic propagates and the read lock is released.
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, mut rx) = watch::channel(0);
    /// let producer = std::thread::spawn(move || {
    ///     for i in 1..=5 {
    ///         tx.send(i).unwrap();
    ///     }
    /// });
    /// futures::executor::block_on(async {
    ///     // Ready once a value of at least 5 arrives, whichever sends were skipped.
    ///     assert_eq!(*rx.wait_for(|v| *v >= 5).await.unwrap(), 5);
    /// });
    /// producer.join().unwrap();
    /// assert!(futures::executor::block_on(rx.wait_for(|v| *v > 5)).is_err());
    /// ```
    pub async fn wait_for(
        &mut self,
        mut f: impl FnMut(&T) -> bool,
    ) -> Result<Ref<'_, T>, RecvError> {
        std::future::poll_fn(|cx| runtime_hooks::poll_proceed(cx).map(|b| b.made_progress())).await;
        let shared: &Shared<T> = &self.shared;
        let seen = &mut self.seen;
        // Whether a wait below observed a new version (which it already marked seen).
        let mut fresh = false;
        loop {
            match check_value(shared, seen, fresh, &mut f) {
                Ok(value) => return Ok(value),
                Err(true) => return Err(RecvError(())),
                Err(false) => {}
            }
            wait_changed(shared, seen).await?;
            fresh = true;
        }
    }

    /// Borrows the current value without marking it seen.
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, rx) = watch::channel(0);
    /// tx.send(3).unwrap();
    /// let value = rx.borrow();
    /// assert_eq!(*value, 3);
    /// assert!(value.has_changed());
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        let guard = self.shared.value.read();
        let has_changed = self.shared.version() != self.seen;
        Ref { guard, has_changed }
    }

    /// Borrows the current value and marks it seen.
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, mut rx) = watch::channel(0);
    /// tx.send(3).unwrap();
    /// assert!(rx.borrow_and_update().has_changed());
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let guard = self.shared.value.read();
        let version = self.shared.version();
        let has_changed = version != self.seen;
        self.seen = version;
        Ref { guard, has_changed }
    }

    /// Whether the current value is unseen by this receiver.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once every sender is gone, **even if the last value is unseen** (as
    /// tokio's). [`Receiver::changed`] still returns that last value's change first, and
    /// [`Receiver::borrow`]'s [`Ref::has_changed`] still tells whether it is unseen.
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, mut rx) = watch::channel(0);
    /// assert_eq!(rx.has_changed(), Ok(false));
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.has_changed(), Ok(true));
    /// drop(tx);
    /// assert!(rx.has_changed().is_err());
    /// assert!(rx.borrow().has_changed());
    /// assert!(futures::executor::block_on(rx.changed()).is_ok());
    /// ```
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let state = self.shared.state.load(Ordering::Acquire);
        if state & CLOSED != 0 {
            Err(RecvError(()))
        } else {
            Ok(state & !CLOSED != self.seen)
        }
    }

    /// Marks the current value as seen without borrowing it.
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, mut rx) = watch::channel(0);
    /// tx.send(1).unwrap();
    /// rx.mark_unchanged();
    /// assert_eq!(rx.has_changed(), Ok(false));
    /// ```
    pub fn mark_unchanged(&mut self) {
        self.seen = self.shared.version();
    }

    /// Marks the current value as unseen, so the next `changed()` returns at once.
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (_tx, mut rx) = watch::channel(0);
    /// rx.mark_changed();
    /// assert_eq!(rx.has_changed(), Ok(true));
    /// ```
    pub fn mark_changed(&mut self) {
        self.seen = self.shared.version().wrapping_sub(VERSION_STEP);
    }

    /// Whether both receivers observe the same channel.
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (_tx, rx) = watch::channel(());
    /// assert!(rx.same_channel(&rx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.shared.rx_count.fetch_add(1, Ordering::Relaxed);
        Self {
            shared: self.shared.clone(),
            seen: self.seen,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if self.shared.rx_count.fetch_sub(1, Ordering::AcqRel) == 1 {
            Shared::<T>::wake_all(&self.shared.tx_waiters);
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
