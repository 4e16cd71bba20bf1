//! How the halves of a channel wait for each other.
//!
//! - [`WaitList`]: a FIFO of parked tasks kept in a `Slab` as a doubly linked list, so a
//!   waiter is queued, dequeued and cancelled in O(1) without unsafe code. It lives inside
//!   the owning channel's mutex; the list itself does no locking.
//! - [`AtomicWaker`]: the single waker slot of a channel's only receiver, written by that
//!   receiver and taken by any sender without a lock.
//! - [`WakeBatch`]: wakers collected under a lock and woken after it is released, so a
//!   waker that re-enters the channel cannot deadlock. For the same reason no waker is
//!   ever *dropped* under a channel lock either: [`WaitList::set_waker`] and
//!   [`WaitList::remove`] hand the displaced waker back to the caller, which drops it
//!   after unlocking (a waker's `Drop` may send on the very channel).
//! - [`block_on`]: the thread-parking executor behind `blocking_send` / `blocking_recv`.

mod atomic_waker;
mod block_on;
mod list;

pub(crate) use self::atomic_waker::AtomicWaker;
pub(crate) use self::block_on::block_on;
pub(crate) use self::list::{WaitList, WaiterKey, WakeBatch};
