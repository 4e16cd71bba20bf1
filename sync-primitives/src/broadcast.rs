//! A multi-producer, multi-consumer channel where every receiver sees every value.
//!
//! Values live in a ring of `capacity` slots (rounded up to a power of two, as tokio's:
//! `channel(3)` keeps 4). A receiver that falls more than that many values behind loses
//! the oldest ones and is told how many with [`RecvError::Lagged`]; it then continues
//! from the oldest value still held. [`Receiver::len`] counts the lost values too, so it
//! exceeds the rounded capacity exactly when the next receive reports a lag.
//!
//! ```
//! use filch_sync::broadcast;
//!
//! let (tx, mut rx1) = broadcast::channel(16);
//! let mut rx2 = tx.subscribe();
//! tx.send(10).unwrap();
//! futures::executor::block_on(async {
//!     assert_eq!(rx1.recv().await, Ok(10));
//!     assert_eq!(rx2.recv().await, Ok(10));
//! });
//! ```
//!
//! # Design
//!
//! - `tail` (a mutex) holds the next position to write, the receiver count, the closed
//!   flag and the list of waiting receivers. A send writes slot `pos % capacity` *while
//!   holding `tail`*, then advances `tail.pos` and wakes every receiver waiting at that
//!   moment (a batch per lock hold; receivers queueing meanwhile already saw the new
//!   `pos` and wait for the next send, see `chan_waiters::WaitList::mark`).
//! - Each slot sits behind its own reader-writer lock and records the position it holds.
//!   A receiver at position `next` first reads its slot without touching `tail`: if the
//!   slot holds `next`, it clones the value and moves on (the common case, no shared lock).
//! - Otherwise it locks `tail`, where positions are stable: `next >= tail.pos` means
//!   nothing new (wait, or closed), `next < tail.pos - capacity` means the value was
//!   overwritten (lagged: jump to `tail.pos - capacity`), anything else is in its slot:
//!   it unlocks `tail` and reads the slot as above. If a send overwrote the slot in
//!   between, the next look under `tail` reports the lag (at most one retry).
//! - Waiting receivers queue under `tail`, so the check and the queueing are atomic with
//!   respect to sends.
//!
//! # Where `T::clone` runs
//!
//! Never under `tail`, which every send, subscribe and slow-path receive needs. A receiver
//! clones under its slot's *read* lock only, which other receivers share; a send needs that
//! slot's write lock only to overwrite that very value, i.e. when the receiver cloning it
//! is a whole ring behind (and about to lag). Then the send, holding `tail`, waits for the
//! clones of that one value in progress (parking_lot's lock lets no new reader in ahead
//! of it). `next` moves only after the clone returns, so a panicking `Clone` consumes
//! nothing and leaves no lock held.
//!
//! Keeping values in place is a measured choice: storing each as an `Arc<T>` (cloned under
//! the slot lock, then `T::clone` with no lock at all) was tried and cost one allocation
//! per send plus two reference-count updates per receive: send + receive of a `u64` went
//! from 34 to 50 ns with one receiver and from 54 to 82 ns with four (tokio: 28 and 48 ns;
//! 2-core machine, 10^6 values). Senders of values whose `Clone` is slow or blocking can
//! get that behaviour where they need it by sending `Arc<T>`.
//!
//! A value stays in its slot until a later send overwrites it, even when every receiver
//! has read it.
//!
//! # Counting what is still queued (`Sender::len`)
//!
//! Each slot also counts `rem`, the receivers that have yet to read its value: a send sets
//! it to `rx_count` (under `tail` and the slot's write lock, so exactly the receivers alive
//! then, all of which start at or before it), a receiver takes one off under the slot's
//! read lock after its clone, and a dropping receiver takes one off every value it left
//! unread that is still in its slot (having left `rx_count` under `tail` first, so no later
//! send counts it). So a send does no per-slot work; a receive pays one `fetch_sub`.
//! `Sender::len`, under `tail`, walks from the oldest value held to the first with
//! `rem > 0`: everything from there on is still queued for some receiver.

use crate::chan_waiters::{WaitList, WaiterKey, WakeBatch};
use crate::loom::{Arc, AtomicUsize, Mutex, MutexGuard, Ordering, RwLock};
use crate::runtime_hooks;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Creates a broadcast channel holding up to `capacity` values (rounded up to a power of
/// two) for receivers that have not read them yet.
///
/// # Panics
///
/// If `capacity` is zero or greater than `usize::MAX / 2`.
///
/// ```
/// use filch_sync::broadcast;
///
/// let (tx, mut rx) = broadcast::channel(2);
/// for i in 0..3 {
///     tx.send(i).unwrap();
/// }
/// assert_eq!(rx.try_recv(), Err(broadcast::TryRecvError::Lagged(1)));
/// assert_eq!(rx.try_recv(), Ok(1));
/// assert_eq!(rx.try_recv(), Ok(2));
/// ```
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "broadcast::channel(0): a broadcast channel needs a capacity of at least 1 \
         (the values a slow receiver may fall behind by)"
    );
    assert!(
        capacity <= usize::MAX >> 1,
        "broadcast::channel({capacity}): the capacity is too large: at most usize::MAX / 2"
    );
    let capacity = capacity.next_power_of_two();
    let buffer = (0..capacity)
        .map(|_| {
            RwLock::new(Slot {
                pos: 0,
                value: None,
                rem: AtomicUsize::new(0),
            })
        })
        .collect();
    let shared = Arc::new(Shared {
        buffer,
        mask: capacity as u64 - 1,
        tail: Mutex::new(Tail {
            pos: 0,
            rx_count: 1,
            closed: false,
            waiters: WaitList::new(),
        }),
        tx_count: AtomicUsize::new(1),
    });
    let receiver = Receiver {
        shared: shared.clone(),
        next: 0,
    };
    (Sender { shared }, receiver)
}

/// Sends values to every receiver; clone it for more producers.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// Receives every value sent after it subscribed (unless it lags).
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// Position of the next value to read.
    next: u64,
}

/// No receiver exists; the value that could not be sent is returned.
///
/// ```
/// use filch_sync::broadcast;
///
/// let (tx, rx) = broadcast::channel(1);
/// drop(rx);
/// let err = tx.send(4).unwrap_err();
/// assert_eq!(err.0, 4);
/// assert_eq!(err.to_string(), "broadcast channel has no receivers");
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

/// Why [`Receiver::recv`] returned no value.
///
/// ```
/// use filch_sync::broadcast::{self, RecvError};
///
/// let (tx, mut rx) = broadcast::channel::<u8>(1);
/// drop(tx);
/// let err = futures::executor::block_on(rx.recv()).unwrap_err();
/// assert_eq!(err, RecvError::Closed);
/// assert_eq!(RecvError::Lagged(3).to_string(), "receiver lagged by 3 values");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvError {
    /// Every sender is gone and this receiver has read everything.
    Closed,
    /// This many values were overwritten before this receiver read them; the next receive
    /// returns the oldest value still held.
    Lagged(u64),
}

/// Why [`Receiver::try_recv`] returned no value.
///
/// ```
/// use filch_sync::broadcast::{self, TryRecvError};
///
/// let (tx, mut rx) = broadcast::channel::<u8>(1);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing new yet; a sender still exists.
    Empty,
    /// Every sender is gone and this receiver has read everything.
    Closed,
    /// This many values were overwritten before this receiver read them.
    Lagged(u64),
}

/// The error types, also available at the module root.
pub mod error {
    pub use super::{RecvError, SendError, TryRecvError};
}

struct Shared<T> {
    /// # Invariant
    /// Slot `i` is written only with `tail` locked, for position `p` with `p & mask == i`.
    buffer: Box<[RwLock<Slot<T>>]>,
    mask: u64,
    tail: Mutex<Tail>,
    tx_count: AtomicUsize,
}

struct Slot<T> {
    /// The position whose value this slot holds; meaningless while `value` is `None`.
    pos: u64,
    value: Option<T>,
    /// Receivers that have not read `value` yet (module docs, "Counting what is still
    /// queued"); written by a send under the write lock, decremented under read locks.
    rem: AtomicUsize,
}

struct Tail {
    /// Position the next send writes.
    pos: u64,
    rx_count: usize,
    closed: bool,
    waiters: WaitList<()>,
}

impl<T> Shared<T> {
    fn capacity(&self) -> u64 {
        self.mask + 1
    }

    /// Wakes every receiver queued now, a batch per lock hold; receivers that queue while
    /// it runs are left alone (they saw the change that called this). Takes the locked
    /// tail and releases it.
    fn wake_all<'a>(&'a self, mut tail: MutexGuard<'a, Tail>) {
        let mut batch = WakeBatch::new();
        let mark = tail.waiters.mark();
        loop {
            let mut more = false;
            while let Some(key) = tail.waiters.pop_front_before(mark) {
                batch.push(tail.waiters.take_waker(key));
                if !batch.has_room() {
                    more = true;
                    break;
                }
            }
            drop(tail);
            batch.wake_all();
            if !more {
                return;
            }
            tail = self.tail.lock();
        }
    }
}

/// What a receiver found at its position, looking under `tail`.
#[must_use]
enum Lookup {
    /// The value at `next` is in its slot (unless a send overwrites it before we read it).
    Live,
    Lagged(u64),
    Empty,
    Closed,
}

impl<T: Clone> Receiver<T> {
    /// Reads the slot at `next` if it holds `next`, without locking `tail`; the clone runs
    /// under the slot's read lock only (module docs, "Where `T::clone` runs").
    fn read_fast(&mut self) -> Option<T> {
        let slot = self.shared.buffer[(self.next & self.shared.mask) as usize].read();
        match &slot.value {
            Some(value) if slot.pos == self.next => {
                let value = value.clone();
                // Only the count matters, and the slot's lock orders it with the send's
                // store.
                slot.rem.fetch_sub(1, Ordering::Relaxed);
                drop(slot);
                self.next += 1;
                Some(value)
            }
            _ => None,
        }
    }

    /// Looks at position `next` with `tail` locked, where positions cannot move. Reads no
    /// value: the caller unlocks `tail`, then reads the slot. (Takes the receiver's fields
    /// apart, so the caller can hold `tail` through `shared` without cloning the `Arc`.)
    fn look_locked(next: &mut u64, capacity: u64, tail: &Tail) -> Lookup {
        if *next >= tail.pos {
            return if tail.closed {
                Lookup::Closed
            } else {
                Lookup::Empty
            };
        }
        let oldest = tail.pos.saturating_sub(capacity);
        if *next < oldest {
            let missed = oldest - *next;
            *next = oldest;
            return Lookup::Lagged(missed);
        }
        Lookup::Live
    }

    /// Receives the next value, waiting if there is none yet. Cancel safe.
    ///
    /// # Errors
    ///
    /// [`RecvError::Lagged`] if values were overwritten before this receiver read them
    /// (the next call continues from the oldest value held); [`RecvError::Closed`] once
    /// every sender is gone and everything was read.
    ///
    /// ```
    /// use filch_sync::broadcast;
    ///
    /// let (tx, mut rx) = broadcast::channel(4);
    /// std::thread::spawn(move || tx.send("hi").unwrap());
    /// futures::executor::block_on(async {
    ///     assert_eq!(rx.recv().await, Ok("hi"));
    ///     assert_eq!(rx.recv().await, Err(broadcast::RecvError::Closed));
    /// });
    /// ```
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        Recv {
            receiver: self,
            key: None,
        }
        .await
    }

    /// Receives the next value if one is ready.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`], [`TryRecvError::Closed`] or [`TryRecvError::Lagged`].
    ///
    /// ```
    /// use filch_sync::broadcast;
    ///
    /// let (tx, mut rx) = broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(broadcast::TryRecvError::Empty));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        loop {
            if let Some(value) = self.read_fast() {
                return Ok(value);
            }
            let tail = self.shared.tail.lock();
            let lookup = Self::look_locked(&mut self.next, self.shared.capacity(), &tail);
            drop(tail);
            match lookup {
                // In its slot, or overwritten since: then the next look reports the lag.
                Lookup::Live => {}
                Lookup::Lagged(missed) => return Err(TryRecvError::Lagged(missed)),
                Lookup::Empty => return Err(TryRecvError::Empty),
                Lookup::Closed => return Err(TryRecvError::Closed),
            }
        }
    }

    /// Blocks the current thread until a value arrives; for code outside async tasks.
    ///
    /// # Errors
    ///
    /// As for [`Receiver::recv`].
    ///
    /// # Panics
    ///
    /// If the runtime's [hooks](crate::runtime_hooks) say this thread drives async tasks.
    ///
    /// ```
    /// use filch_sync::broadcast;
    ///
    /// let (tx, mut rx) = broadcast::channel(4);
    /// std::thread::spawn(move || tx.send(8).unwrap());
    /// assert_eq!(rx.blocking_recv(), Ok(8));
    /// ```
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Result<T, RecvError> {
        runtime_hooks::assert_may_block("broadcast::Receiver::blocking_recv", ".recv().await");
        crate::chan_waiters::block_on(self.recv())
    }
}

impl<T> Receiver<T> {
    /// A new receiver that starts at the newest position, like [`Sender::subscribe`].
    ///
    /// ```
    /// use filch_sync::broadcast;
    ///
    /// let (tx, rx) = broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// let mut rx2 = rx.resubscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx2.try_recv(), Ok(2));
    /// ```
    pub fn resubscribe(&self) -> Self {
        subscribe(&self.shared)
    }

    /// Number of values sent since this receiver's position that it has not read yet,
    /// **counting those already overwritten** (as tokio's `len`).
    ///
    /// The channel keeps `capacity.next_power_of_two()` values. A `len` above that means
    /// this receiver has lagged: its next receive reports [`RecvError::Lagged`] with
    /// `len - capacity.next_power_of_two()` (the overwritten values) and moves it to the
    /// oldest value held, after which `len` is `capacity.next_power_of_two()` (or less, if
    /// sends raced it).
    ///
    /// ```
    /// use filch_sync::broadcast::{self, TryRecvError};
    ///
    /// let (tx, mut rx) = broadcast::channel(3); // holds 4 values
    /// for i in 0..6 {
    ///     tx.send(i).unwrap();
    /// }
    /// assert_eq!(rx.len(), 6);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(2)));
    /// assert_eq!(rx.len(), 4);
    /// assert_eq!(rx.try_recv(), Ok(2));
    /// assert_eq!(rx.len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        let tail = self.shared.tail.lock();
        usize::try_from(tail.pos.saturating_sub(self.next)).unwrap_or(usize::MAX)
    }

    /// Whether this receiver has read everything sent so far.
    ///
    /// ```
    /// use filch_sync::broadcast;
    ///
    /// let (_tx, rx) = broadcast::channel::<()>(4);
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether both receivers belong to the same channel.
    ///
    /// ```
    /// use filch_sync::broadcast;
    ///
    /// let (_tx, rx) = broadcast::channel::<()>(4);
    /// assert!(rx.same_channel(&rx.resubscribe()));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

fn subscribe<T>(shared: &Arc<Shared<T>>) -> Receiver<T> {
    let mut tail = shared.tail.lock();
    tail.rx_count += 1;
    let next = tail.pos;
    drop(tail);
    Receiver {
        shared: shared.clone(),
        next,
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let shared = &*self.shared;
        let mut tail = shared.tail.lock();
        tail.rx_count -= 1;
        let end = tail.pos;
        drop(tail);
        // Sends from now on do not count this receiver; the values it left unread, and
        // that are still in their slots, stop counting it too.
        let start = self.next.max(end.saturating_sub(shared.capacity()));
        for pos in start..end {
            let slot = shared.buffer[(pos & shared.mask) as usize].read();
            if slot.value.is_some() && slot.pos == pos {
                slot.rem.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }
}

/// The future of [`Receiver::recv`]; leaves the waiter list when dropped.
struct Recv<'a, T> {
    receiver: &'a mut Receiver<T>,
    key: Option<WaiterKey>,
}

impl<T: Clone> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // One unit of the runtime's budget, given back if still waiting (`runtime_hooks`).
        let budget = ready!(runtime_hooks::poll_proceed(cx));
        let outcome = ready!(self.get_mut().poll_value(cx));
        budget.made_progress();
        Poll::Ready(outcome)
    }
}

impl<T: Clone> Recv<'_, T> {
    fn poll_value(&mut self, cx: &Context<'_>) -> Poll<Result<T, RecvError>> {
        let this = self;
        loop {
            if this.key.is_none() {
                if let Some(value) = this.receiver.read_fast() {
                    return Poll::Ready(Ok(value));
                }
            }
            let receiver = &mut *this.receiver;
            let mut tail = receiver.shared.tail.lock();
            let capacity = receiver.shared.capacity();
            // A waker displaced under `tail` is dropped after it is unlocked: its `Drop` may
            // send on this channel (`chan_waiters`).
            let displaced;
            let outcome = match Receiver::<T>::look_locked(&mut receiver.next, capacity, &tail) {
                // Read the slot with `tail` unlocked (module docs); at most one retry.
                Lookup::Live => None,
                Lookup::Lagged(missed) => Some(Err(RecvError::Lagged(missed))),
                Lookup::Closed => Some(Err(RecvError::Closed)),
                Lookup::Empty => {
                    displaced = match this.key {
                        Some(key) if tail.waiters.is_linked(key) => {
                            tail.waiters.set_waker(key, cx.waker())
                        }
                        _ => {
                            let old = this.key.take().and_then(|key| tail.waiters.remove(key).1);
                            this.key = Some(tail.waiters.push_back(cx.waker(), ()));
                            old
                        }
                    };
                    drop(tail);
                    drop(displaced);
                    return Poll::Pending;
                }
            };
            displaced = this.key.take().and_then(|key| tail.waiters.remove(key).1);
            drop(tail);
            drop(displaced);
            if let Some(outcome) = outcome {
                return Poll::Ready(outcome);
            }
        }
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // The lock is released at the end of this statement, before the waker drops.
            let (_, waker) = self.receiver.shared.tail.lock().waiters.remove(key);
            drop(waker);
        }
    }
}

impl<T> Sender<T> {
    /// Sends `value` to every current receiver and returns how many there are.
    ///
    /// Never waits: if a receiver is `capacity` values behind, its oldest unread value is
    /// overwritten and it will see [`RecvError::Lagged`].
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if there are no receivers.
    ///
    /// ```
    /// use filch_sync::broadcast;
    ///
    /// let (tx, _rx) = broadcast::channel(4);
    /// let _rx2 = tx.subscribe();
    /// assert_eq!(tx.send("x").unwrap(), 2);
    /// ```
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let shared = &*self.shared;
        let mut tail = shared.tail.lock();
        if tail.rx_count == 0 {
            return Err(SendError(value));
        }
        let pos = tail.pos;
        let old = {
            let mut slot = shared.buffer[(pos & shared.mask) as usize].write();
            slot.pos = pos;
            slot.rem.store(tail.rx_count, Ordering::Relaxed);
            slot.value.replace(value)
        };
        tail.pos += 1;
        let receivers = tail.rx_count;
        shared.wake_all(tail);
        // The overwritten value is dropped outside every lock.
        drop(old);
        Ok(receivers)
    }

    /// A new receiver that gets every value sent from now on.
    ///
    /// ```
    /// use filch_sync::broadcast;
    ///
    /// let (tx, _rx) = broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// let mut rx = tx.subscribe();
    /// assert!(rx.try_recv().is_err());
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        subscribe(&self.shared)
    }

    /// Number of live receivers.
    ///
    /// ```
    /// use filch_sync::broadcast;
    ///
    /// let (tx, rx) = broadcast::channel::<()>(4);
    /// assert_eq!(tx.receiver_count(), 1);
    /// drop(rx);
    /// assert_eq!(tx.receiver_count(), 0);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.tail.lock().rx_count
    }

    /// Number of values still queued: sent, still held, and not yet read by at least one
    /// receiver that was alive when it was sent. That is the backlog of the slowest
    /// receiver, at most the (rounded) capacity; values a lagging receiver lost are gone.
    ///
    /// Takes the sender side's lock and looks at up to `capacity` slots (from the oldest
    /// held value to the first unread one); sends and receives pay no extra for it beyond
    /// one counter update per received value.
    ///
    /// ```
    /// use filch_sync::broadcast;
    ///
    /// let (tx, mut fast) = broadcast::channel(4);
    /// let mut slow = tx.subscribe();
    /// for i in 0..3 {
    ///     tx.send(i).unwrap();
    /// }
    /// while fast.try_recv().is_ok() {}
    /// assert_eq!(tx.len(), 3); // `slow` has read none
    /// slow.try_recv().unwrap();
    /// assert_eq!(tx.len(), 2);
    /// drop(slow);
    /// assert!(tx.is_empty());
    /// ```
    pub fn len(&self) -> usize {
        let shared = &*self.shared;
        let tail = shared.tail.lock();
        let end = tail.pos;
        let oldest = end.saturating_sub(shared.capacity());
        // Under `tail` no slot is rewritten; receivers only lower the counts meanwhile.
        let first_unread = (oldest..end)
            .find(|&pos| {
                let slot = shared.buffer[(pos & shared.mask) as usize].read();
                slot.pos == pos && slot.rem.load(Ordering::Relaxed) > 0
            })
            .unwrap_or(end);
        drop(tail);
        // At most `capacity`, which fits in a `usize`.
        (end - first_unread) as usize
    }

    /// Whether no value is queued for any receiver ([`Sender::len`] is zero).
    ///
    /// ```
    /// use filch_sync::broadcast;
    ///
    /// let (tx, mut rx) = broadcast::channel(2);
    /// assert!(tx.is_empty());
    /// tx.send(1).unwrap();
    /// assert!(!tx.is_empty());
    /// rx.try_recv().unwrap();
    /// assert!(tx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether both senders feed the same channel.
    ///
    /// ```
    /// use filch_sync::broadcast;
    ///
    /// let (tx, _rx) = broadcast::channel::<()>(4);
    /// assert!(tx.same_channel(&tx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
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
        if self.shared.tx_count.fetch_sub(1, Ordering::AcqRel) == 1 {
            let mut tail = self.shared.tail.lock();
            tail.closed = true;
            self.shared.wake_all(tail);
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Sender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Receiver")
            .field("next", &self.next)
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
        f.write_str("broadcast channel has no receivers")
    }
}

impl<T> Error for SendError<T> {}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closed => f.write_str("broadcast channel closed"),
            Self::Lagged(n) => write!(f, "receiver lagged by {n} values"),
        }
    }
}

impl Error for RecvError {}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("broadcast channel empty"),
            Self::Closed => f.write_str("broadcast channel closed"),
            Self::Lagged(n) => write!(f, "receiver lagged by {n} values"),
        }
    }
}

impl Error for TryRecvError {}
