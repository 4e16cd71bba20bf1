//! The bounded channel: senders wait for a free slot, first come first served.

use super::capacity::{Capacity, TryAcquireError, MAX_CAPACITY};
use super::chan::Chan;
use super::error::{SendError, TryRecvError, TrySendError};
use super::permit::{OwnedPermit, Permit, PermitIterator};
use super::weak_sender::WeakSender;
use crate::chan_waiters::block_on;
use crate::loom::Arc;
use crate::runtime_hooks;
use concurrent_queue::ConcurrentQueue;
use std::fmt;

/// Creates a bounded channel that buffers up to `capacity` messages.
///
/// # Panics
///
/// If `capacity` is zero (use [`unbounded_channel`](super::unbounded_channel) for no
/// limit) or above `usize::MAX >> 2`.
///
/// ```
/// use filch_sync::mpsc;
///
/// let (tx, mut rx) = mpsc::channel(8);
/// futures::executor::block_on(async {
///     for i in 0..3 {
///         tx.send(i).await.unwrap();
///     }
///     drop(tx);
///     let mut got = Vec::new();
///     while let Some(i) = rx.recv().await {
///         got.push(i);
///     }
///     assert_eq!(got, [0, 1, 2]);
/// });
/// ```
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "mpsc::channel(0): a bounded channel needs a capacity of at least 1; \
         use mpsc::unbounded_channel() for a channel without a limit"
    );
    assert!(
        capacity <= MAX_CAPACITY,
        "mpsc::channel({capacity}): the capacity exceeds the maximum {MAX_CAPACITY}; \
         use mpsc::unbounded_channel() for a channel without a limit"
    );
    let chan = Arc::new(Chan::new(
        ConcurrentQueue::bounded(capacity),
        Capacity::new(capacity),
    ));
    let receiver = Receiver {
        chan: chan.clone(),
        capacity,
    };
    (Sender { chan, capacity }, receiver)
}

/// Sends messages to a bounded channel; clone it for more producers.
///
/// The channel closes for the receiver once every `Sender` is dropped.
pub struct Sender<T> {
    pub(super) chan: Arc<Chan<T, Capacity>>,
    pub(super) capacity: usize,
}

/// Receives the messages of a bounded channel.
pub struct Receiver<T> {
    chan: Arc<Chan<T, Capacity>>,
    capacity: usize,
}

impl<T> Sender<T> {
    /// Sends `value`, waiting for a free slot if the channel is full.
    ///
    /// Waiting senders are served in the order they started waiting. Cancel safe with
    /// respect to capacity: dropping the future gives up its place in the queue (and any slot
    /// it was already handed passes to the next sender), but the unsent `value` is dropped
    /// with it. Use [`Sender::reserve`] to keep the value across cancellation.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if the receiver is gone or closed.
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// futures::executor::block_on(async {
    ///     tx.send("a").await.unwrap();
    ///     assert_eq!(rx.recv().await, Some("a"));
    ///     drop(rx);
    ///     assert_eq!(tx.send("b").await.unwrap_err().0, "b");
    /// });
    /// ```
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        match self.chan.slots.acquire().await {
            Ok(()) => self.chan.push(value).map_err(SendError),
            Err(_) => Err(SendError(value)),
        }
    }

    /// Sends `value` if a slot is free right now.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] if no slot is free (including when senders are queued ahead),
    /// [`TrySendError::Closed`] if the receiver is gone or closed. Both return the value.
    ///
    /// ```
    /// use filch_sync::mpsc::{self, error::TrySendError};
    ///
    /// let (tx, _rx) = mpsc::channel(1);
    /// assert!(tx.try_send(1).is_ok());
    /// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.chan.slots.try_acquire() {
            Ok(()) => self.chan.push(value).map_err(TrySendError::Closed),
            Err(TryAcquireError::NoSlots) => Err(TrySendError::Full(value)),
            Err(TryAcquireError::Closed) => Err(TrySendError::Closed(value)),
        }
    }

    /// Sends `value` from a thread that is not running async code, blocking until a slot
    /// is free.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if the receiver is gone or closed.
    ///
    /// # Panics
    ///
    /// If the runtime's [hooks](crate::runtime_hooks) say this thread drives async tasks.
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let producer = std::thread::spawn(move || {
    ///     for i in 0..3 {
    ///         tx.blocking_send(i).unwrap();
    ///     }
    /// });
    /// assert_eq!(rx.blocking_recv(), Some(0));
    /// assert_eq!(rx.blocking_recv(), Some(1));
    /// assert_eq!(rx.blocking_recv(), Some(2));
    /// producer.join().unwrap();
    /// assert_eq!(rx.blocking_recv(), None);
    /// ```
    #[track_caller]
    pub fn blocking_send(&self, value: T) -> Result<(), SendError<T>> {
        runtime_hooks::assert_may_block("mpsc::Sender::blocking_send", ".send(value).await");
        block_on(self.send(value))
    }

    /// Waits for a free slot and reserves it, so the value can be produced afterwards.
    ///
    /// Cancel safe: dropping the future loses no capacity and leaves no waiter behind.
    ///
    /// # Errors
    ///
    /// [`SendError<()>`] if the receiver is gone or closed.
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// futures::executor::block_on(async {
    ///     let permit = tx.reserve().await.unwrap();
    ///     assert_eq!(tx.capacity(), 0);
    ///     permit.send(9);
    ///     assert_eq!(rx.recv().await, Some(9));
    /// });
    /// ```
    pub async fn reserve(&self) -> Result<Permit<'_, T>, SendError<()>> {
        match self.chan.slots.acquire().await {
            Ok(()) => Ok(Permit { chan: &self.chan }),
            Err(_) => Err(SendError(())),
        }
    }

    /// Reserves a slot if one is free right now.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] or [`TrySendError::Closed`], carrying `()`.
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<u8>(1);
    /// let permit = tx.try_reserve().unwrap();
    /// assert!(tx.try_reserve().is_err());
    /// drop(permit);
    /// assert!(tx.try_reserve().is_ok());
    /// ```
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        match self.chan.slots.try_acquire() {
            Ok(()) => Ok(Permit { chan: &self.chan }),
            Err(TryAcquireError::NoSlots) => Err(TrySendError::Full(())),
            Err(TryAcquireError::Closed) => Err(TrySendError::Closed(())),
        }
    }

    /// Waits for `n` free slots and reserves them all at once, yielding one [`Permit`] each.
    ///
    /// The request waits in line with single sends as one waiter, gathering slots as they
    /// free up, so a large request is not starved by small ones. `n == 0` gives an empty
    /// iterator at once. Cancel safe: dropping the future returns every slot it had
    /// gathered and leaves no waiter behind. Spends budget as [`Sender::reserve`] does.
    ///
    /// # Errors
    ///
    /// [`SendError<()>`] if the receiver is gone or closed, or if `n` exceeds
    /// [`max_capacity`](Sender::max_capacity) (it could never be granted).
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(4);
    /// futures::executor::block_on(async {
    ///     let permits = tx.reserve_many(3).await.unwrap();
    ///     assert_eq!(tx.capacity(), 1);
    ///     for (permit, value) in permits.zip(["a", "b", "c"]) {
    ///         permit.send(value);
    ///     }
    ///     assert_eq!(rx.recv().await, Some("a"));
    ///     assert!(tx.reserve_many(5).await.is_err());
    /// });
    /// ```
    pub async fn reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T>, SendError<()>> {
        if n > self.capacity {
            return Err(SendError(()));
        }
        match self.chan.slots.acquire_many(n).await {
            Ok(()) => Ok(PermitIterator {
                chan: &self.chan,
                left: n,
            }),
            Err(_) => Err(SendError(())),
        }
    }

    /// Reserves `n` slots if that many are free right now (and no sender waits ahead).
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] if fewer than `n` slots are free, or if `n` exceeds
    /// [`max_capacity`](Sender::max_capacity); [`TrySendError::Closed`] if the receiver is
    /// gone or closed. Both carry `()`.
    ///
    /// ```
    /// use filch_sync::mpsc::{self, error::TrySendError};
    ///
    /// let (tx, mut rx) = mpsc::channel(2);
    /// let mut permits = tx.try_reserve_many(2).unwrap();
    /// assert_eq!(permits.len(), 2);
    /// assert_eq!(tx.try_reserve_many(1).unwrap_err(), TrySendError::Full(()));
    /// permits.next().unwrap().send(1);
    /// drop(permits); // the unused slot goes back
    /// assert_eq!(tx.capacity(), 1);
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T>, TrySendError<()>> {
        if n > self.capacity {
            return Err(TrySendError::Full(()));
        }
        match self.chan.slots.try_acquire_many(n) {
            Ok(()) => Ok(PermitIterator {
                chan: &self.chan,
                left: n,
            }),
            Err(TryAcquireError::NoSlots) => Err(TrySendError::Full(())),
            Err(TryAcquireError::Closed) => Err(TrySendError::Closed(())),
        }
    }

    /// Waits for a free slot and reserves it in an [`OwnedPermit`], which takes this sender
    /// and gives it back on [`send`](OwnedPermit::send).
    ///
    /// Cancel safe, and spends budget, as [`Sender::reserve`] does. To keep a sender,
    /// reserve on a clone: `tx.clone().reserve_owned()`.
    ///
    /// # Errors
    ///
    /// [`SendError<()>`] if the receiver is gone or closed (the sender is dropped).
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// futures::executor::block_on(async {
    ///     let permit = tx.reserve_owned().await.unwrap();
    ///     let producer = std::thread::spawn(move || permit.send(5));
    ///     let tx = producer.join().unwrap();
    ///     assert_eq!(rx.recv().await, Some(5));
    ///     assert_eq!(tx.capacity(), 1);
    /// });
    /// ```
    pub async fn reserve_owned(self) -> Result<OwnedPermit<T>, SendError<()>> {
        match self.chan.slots.acquire().await {
            Ok(()) => Ok(OwnedPermit { sender: Some(self) }),
            Err(_) => Err(SendError(())),
        }
    }

    /// Reserves a slot in an [`OwnedPermit`] if one is free right now.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] or [`TrySendError::Closed`], carrying this sender back.
    ///
    /// ```
    /// use filch_sync::mpsc::{self, error::TrySendError};
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let permit = tx.clone().try_reserve_owned().unwrap();
    /// let Err(TrySendError::Full(tx)) = tx.try_reserve_owned() else {
    ///     panic!("the only slot is reserved");
    /// };
    /// let _same = permit.send(1);
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert!(tx.try_reserve_owned().is_ok());
    /// ```
    pub fn try_reserve_owned(self) -> Result<OwnedPermit<T>, TrySendError<Self>> {
        match self.chan.slots.try_acquire() {
            Ok(()) => Ok(OwnedPermit { sender: Some(self) }),
            Err(TryAcquireError::NoSlots) => Err(TrySendError::Full(self)),
            Err(TryAcquireError::Closed) => Err(TrySendError::Closed(self)),
        }
    }

    /// A [`WeakSender`] for this channel, which does not keep it open.
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel::<u8>(1);
    /// let weak = tx.downgrade();
    /// assert_eq!((tx.strong_count(), tx.weak_count()), (1, 1));
    /// weak.upgrade().unwrap().try_send(1).unwrap();
    /// drop(tx);
    /// assert!(weak.upgrade().is_none());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(mpsc::error::TryRecvError::Disconnected));
    /// ```
    pub fn downgrade(&self) -> WeakSender<T> {
        self.chan.add_weak();
        WeakSender {
            chan: self.chan.clone(),
            capacity: self.capacity,
        }
    }

    /// Number of [`Sender`]s of this channel, this one included (a snapshot).
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<()>(1);
    /// let _tx2 = tx.clone();
    /// assert_eq!(tx.strong_count(), 2);
    /// ```
    pub fn strong_count(&self) -> usize {
        self.chan.sender_count()
    }

    /// Number of [`WeakSender`]s of this channel (a snapshot).
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<()>(1);
    /// let _weak = tx.downgrade();
    /// assert_eq!(tx.weak_count(), 1);
    /// ```
    pub fn weak_count(&self) -> usize {
        self.chan.weak_count()
    }

    /// Waits until the receiver is dropped or closed. Cancel safe.
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::channel::<()>(1);
    /// std::thread::spawn(move || drop(rx));
    /// futures::executor::block_on(tx.closed());
    /// assert!(tx.is_closed());
    /// ```
    pub async fn closed(&self) {
        self.chan.closed().await;
    }

    /// Whether the receiver is gone or closed.
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel::<()>(1);
    /// assert!(!tx.is_closed());
    /// rx.close();
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_rx_closed()
    }

    /// Free slots right now: `max_capacity()` minus buffered messages and held permits.
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel(3);
    /// tx.try_send(()).unwrap();
    /// assert_eq!(tx.capacity(), 2);
    /// ```
    pub fn capacity(&self) -> usize {
        self.chan.slots.available()
    }

    /// The capacity the channel was created with.
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<()>(3);
    /// assert_eq!(tx.max_capacity(), 3);
    /// ```
    pub fn max_capacity(&self) -> usize {
        self.capacity
    }

    /// Whether both senders feed the same channel.
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (a, _rx) = mpsc::channel::<()>(1);
    /// let (c, _rx2) = mpsc::channel::<()>(1);
    /// assert!(a.same_channel(&a.clone()));
    /// assert!(!a.same_channel(&c));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        Self {
            chan: self.chan.clone(),
            capacity: self.capacity,
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

super::receiver::impl_receiver!(
    Receiver,
    "mpsc::Receiver",
    make = "mpsc::channel::<i32>(8)",
    send = "try_send"
);

impl<T> Receiver<T> {
    /// Receives a message if one is buffered.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if nothing is buffered but more may come (senders remain,
    /// or, after [`Receiver::close`], permits are still out),
    /// [`TryRecvError::Disconnected`] if nothing is buffered and nothing more can come.
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    /// Closes the channel: further sends and reservations fail and waiting senders are
    /// released with an error, while buffered messages, and sends already holding a slot
    /// (a [`Permit`] or [`OwnedPermit`], the unused permits of a [`PermitIterator`], or a
    /// send that was handed its slot), can still be received.
    ///
    /// So `recv` returns `None` only once the buffer is empty **and** every outstanding
    /// permit has been used or dropped: the loop
    /// `rx.close(); while let Some(m) = rx.recv().await {}` loses no message.
    ///
    /// ```
    /// use filch_sync::mpsc::{self, error::TryRecvError};
    ///
    /// let (tx, mut rx) = mpsc::channel(2);
    /// tx.try_send(1).unwrap();
    /// let permit = tx.try_reserve().unwrap();
    /// rx.close();
    /// assert!(tx.try_send(2).is_err());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// // A permit is still out: not the end yet.
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// permit.send(3);
    /// assert_eq!(rx.try_recv(), Ok(3));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    /// ```
    pub fn close(&mut self) {
        self.chan.close_rx();
    }

    /// Whether the channel is closed (every sender gone, or [`Receiver::close`] called).
    /// Messages may still be buffered, or still come through permits reserved earlier.
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::channel::<()>(4);
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// The capacity the channel was created with.
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (_tx, rx) = mpsc::channel::<()>(4);
    /// assert_eq!(rx.max_capacity(), 4);
    /// ```
    pub fn max_capacity(&self) -> usize {
        self.capacity
    }

    /// Free slots right now.
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::channel(4);
    /// tx.try_send(()).unwrap();
    /// assert_eq!(rx.capacity(), 3);
    /// ```
    pub fn capacity(&self) -> usize {
        self.chan.slots.available()
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Sender")
            .field("capacity", &self.capacity())
            .field("max_capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}
