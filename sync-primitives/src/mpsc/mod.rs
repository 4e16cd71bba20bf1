//! Multi-producer, single-consumer channels.
//!
//! - [`channel`] is bounded: a [`Sender`] waits for a free slot when `capacity` messages
//!   are buffered, and waiting senders are served first come, first served.
//! - [`unbounded_channel`] never makes an [`UnboundedSender`] wait.
//!
//! A bounded sender can reserve slots ahead of the values: one ([`Sender::reserve`], or
//! [`Sender::reserve_owned`] for an [`OwnedPermit`] that owns the sender), or `n` at once
//! ([`Sender::reserve_many`], a [`PermitIterator`]). A [`WeakSender`] does not keep the
//! channel open.
//!
//! There is no `send_timeout` (tokio has one): this crate has no timer, being
//! runtime-agnostic. Wrap the send in your runtime's timeout instead, e.g.
//! `filch::time::timeout(duration, tx.send(value))`, which drops the waiting send (and its
//! place in line) when the time is up.
//!
//! Messages from one sender arrive in the order they were sent. The channel closes when
//! every sender is dropped (the receiver drains the buffer, then sees `None`) or when the
//! receiver is dropped or [closed](Receiver::close) (sends fail and return the value). A
//! closed receiver still gets what is buffered and what permits reserved before the close
//! send; it sees `None` only once nothing more can arrive.
//!
//! ```
//! use filch_sync::mpsc;
//!
//! let (tx, mut rx) = mpsc::channel(16);
//! let producers: Vec<_> = (0..4)
//!     .map(|id| {
//!         let tx = tx.clone();
//!         std::thread::spawn(move || {
//!             for i in 0..10 {
//!                 tx.blocking_send((id, i)).unwrap();
//!             }
//!         })
//!     })
//!     .collect();
//! drop(tx);
//! let mut count = 0;
//! while let Some(_) = rx.blocking_recv() {
//!     count += 1;
//! }
//! for p in producers {
//!     p.join().unwrap();
//! }
//! assert_eq!(count, 40);
//! ```
//!
//! # Design
//!
//! | part | what | where |
//! |---|---|---|
//! | buffer | `concurrent_queue::ConcurrentQueue`: a pre-allocated ring of `capacity` stamped slots (Vyukov's bounded MPMC queue) for the bounded channel, a linked list of 31-slot segments for the unbounded one | `chan.rs` |
//! | slots | a FIFO-fair counting semaphore: one lock-free compare-exchange per send and per receive while nobody waits | `capacity.rs` |
//! | receiver wakeup | a lock-free single-task waker slot; one `fetch_or` per send | `chan_waiters` |
//! | waiting senders | a slab-backed linked list behind a mutex, O(1) queue and cancel | `chan_waiters` |
//!
//! A bounded send takes a slot, then pushes; the ring cannot be full because every slot is
//! freed (the receiver's pop completes) before its slot is returned to the semaphore. The
//! receiver returns one slot per pop. A send future dropped while queued gives its place
//! up; one dropped after being handed a slot, but before seeing it, passes the slot on.
//! Closing and the drain that follows are specified in `chan.rs` ("Closing").
//!
//! `concurrent-queue` (smol's, and under `--cfg loom` built on loom's atomics) gives a
//! bounded buffer with no allocation per message and an unbounded one that allocates once
//! per segment, so this module holds no unsafe code of its own.

mod bounded;
mod capacity;
mod chan;
pub mod error;
mod permit;
mod receiver;
mod unbounded;
mod weak_sender;

pub use self::bounded::{channel, Receiver, Sender};
pub use self::error::{SendError, TryRecvError, TrySendError};
pub use self::permit::{OwnedPermit, Permit, PermitIterator};
pub use self::unbounded::{unbounded_channel, UnboundedReceiver, UnboundedSender};
pub use self::weak_sender::WeakSender;

// Unwind safety. The channel's internal state sits behind locks and atomics that are never
// left half-updated across a call into user code (a `T`'s destructor runs after the lock
// is released), so a panic in the middle of using a handle leaves nothing that another
// handle could observe as broken: the handles are as unwind safe as `std`'s channels'.
impl<T> std::panic::UnwindSafe for Sender<T> {}
impl<T> std::panic::RefUnwindSafe for Sender<T> {}
impl<T> std::panic::UnwindSafe for Receiver<T> {}
impl<T> std::panic::RefUnwindSafe for Receiver<T> {}
impl<T> std::panic::UnwindSafe for UnboundedSender<T> {}
impl<T> std::panic::RefUnwindSafe for UnboundedSender<T> {}
impl<T> std::panic::UnwindSafe for UnboundedReceiver<T> {}
impl<T> std::panic::RefUnwindSafe for UnboundedReceiver<T> {}
impl<T> std::panic::UnwindSafe for Permit<'_, T> {}
impl<T> std::panic::RefUnwindSafe for Permit<'_, T> {}
impl<T> std::panic::UnwindSafe for OwnedPermit<T> {}
impl<T> std::panic::RefUnwindSafe for OwnedPermit<T> {}
impl<T> std::panic::UnwindSafe for PermitIterator<'_, T> {}
impl<T> std::panic::RefUnwindSafe for PermitIterator<'_, T> {}
impl<T> std::panic::UnwindSafe for WeakSender<T> {}
impl<T> std::panic::RefUnwindSafe for WeakSender<T> {}
