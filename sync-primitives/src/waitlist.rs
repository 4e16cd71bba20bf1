//! The FIFO waiter queue behind every primitive in this crate: the one unsafe core.
//!
//! A [`WaitQueue`] is an intrusive doubly-linked list of waiter nodes behind a lock. Each
//! node lives inside the future that waits (a [`Waiter`] pinned in an `async fn`'s state or
//! in a named future), so queueing, dequeueing and cancelling are O(1) and allocate
//! nothing. This is the classic intrusive wait list of Linux's wait queues and of tokio's
//! batch semaphore; the code here is written from that description.
//!
//! The module's API is safe: a primitive cannot break the list's invariants, whatever it
//! does. Everything the primitive decides (what a waiter's `value` means, when to pop) is
//! policy; everything here is mechanism.
//!
//! # Parties and fields
//!
//! - The **queue lock** (`WaitQueue::list`) guards the list (`head`, `tail`, `word`) and the
//!   `links` cell of *every node whose [`Waiter::queue`] is this queue*. A [`QueueGuard`]
//!   is the proof that it is held; every method that touches a node takes `&mut
//!   QueueGuard` and checks that the node's waiter belongs to that queue.
//! - The **owner** of a waiter is whoever holds the pinned [`Waiter`] (its future). It
//!   links the node (`push_back`), reads its `value`, refreshes its waker and cancels it
//!   (`remove`), always under the queue lock. Only the owner ever links a node.
//! - A **waker-side party** (a release, a `notify_one`, a close) holds the queue lock,
//!   writes the head node's `value`, takes its waker and unlinks it (`pop_front`); or,
//!   for `Notify::notify_last`, the same at the tail (`pop_back`).
//! - `Node::linked` is an atomic mirror of "this node is in the list". It is written only
//!   under the queue lock; the store of `false` by whoever unlinks is that party's **last**
//!   touch of the node, and is `Release`. So an owner that loads `false` with `Acquire`
//!   may free the node without taking the lock: nobody else holds or will take a pointer
//!   to it. [`Waiter`]'s `Drop` relies on this and unlinks a still-linked node itself, so
//!   a dropped future can never leave a dangling pointer behind.
//!
//! # Invariants
//!
//! 1. Every pointer in the list (`head`, `tail`, `prev`, `next`) points to a live, pinned
//!    node whose `linked` is `true`, and the list is well formed: `head.prev` and
//!    `tail.next` are `None`, `a.next == b` iff `b.prev == a`.
//! 2. A node is linked only through its owner's `Pin<&Waiter>` (so it cannot move until it
//!    is dropped) and only into its own waiter's queue.
//! 3. A node's `links` are accessed only with its queue's lock held (through `&mut
//!    QueueGuard`), except by the node's `Drop` after it has observed `linked == false`
//!    with `Acquire` (then nobody else can reach it).
//!
//! # What the primitives build on it
//!
//! `value` is one `usize` per waiter whose meaning each primitive defines (permits still
//! owed for the semaphore, "notified by whom" for `Notify`), and `word` is one `usize` of
//! queue-wide state under the same lock (the barrier's arrival count). Wakers collected
//! while the lock is held go into a [`WakeList`] and are woken after it is released.
use std::fmt;
use std::marker::PhantomPinned;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::ptr::{self, NonNull};
use std::task::Waker;

use crate::loom::{loom_const_fn, AtomicBool, Mutex, MutexGuard, Ordering, UnsafeCell};

/// An intrusive FIFO of [`Waiter`]s behind a lock.
pub(crate) struct WaitQueue {
    list: Mutex<List>,
}

/// The list proper; only reachable through the queue lock.
struct List {
    head: Option<NonNull<Node>>,
    tail: Option<NonNull<Node>>,
    /// Queue-wide state of the primitive, guarded by the same lock.
    word: usize,
}

// SAFETY: `List` holds pointers to `Node`s, which are `Send + Sync` (below), and it only
// dereferences them with the lock that owns the `List` held (invariant 3).
unsafe impl Send for List {}

/// A waiter's node: what the list links together.
struct Node {
    /// `true` while the node is in the list (invariant 1). Written under the queue lock;
    /// see the module docs for the `Release`/`Acquire` hand-off when it turns `false`.
    linked: AtomicBool,
    /// Only touched with the queue lock held (invariant 3).
    links: UnsafeCell<Links>,
    /// Nodes are pointed to by the list, so they must not move once linked.
    _pinned: PhantomPinned,
}

// SAFETY: the only non-thread-safe parts of a node are its `links`, which are accessed
// under the queue lock only (invariant 3); `Waker` is `Send + Sync`.
unsafe impl Send for Node {}
// SAFETY: as for `Send`: shared access to a node either reads `linked` (an atomic) or goes
// through `links` with the queue lock held.
unsafe impl Sync for Node {}

#[derive(Default)]
struct Links {
    prev: Option<NonNull<Node>>,
    next: Option<NonNull<Node>>,
    waker: Option<Waker>,
    value: usize,
}

/// One party waiting on a [`WaitQueue`]. Must be pinned to be queued.
pub(crate) struct Waiter<'q> {
    queue: &'q WaitQueue,
    node: Node,
}

/// Proof that a [`WaitQueue`]'s lock is held.
pub(crate) struct QueueGuard<'q> {
    queue: &'q WaitQueue,
    list: MutexGuard<'q, List>,
}

/// Where a waiter stood when its owner looked, with the `value` it carried.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WaiterState {
    /// Still in the queue.
    Queued(usize),
    /// Not in the queue: never queued, or taken out by [`QueueGuard::pop_front`].
    Unlinked(usize),
}

/// What [`QueueGuard::remove`] did.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Removal {
    /// The waiter was queued and now is not; its `value` at removal.
    Removed(usize),
    /// The waiter was not queued; its `value` (as left by whoever popped it).
    NotQueued(usize),
}

impl WaitQueue {
    loom_const_fn! {
        /// An empty queue with `word == 0`.
        pub(crate) const fn new() -> Self {
            Self {
                list: Mutex::new(List {
                    head: None,
                    tail: None,
                    word: 0,
                }),
            }
        }
    }

    /// Takes the queue lock.
    pub(crate) fn lock(&self) -> QueueGuard<'_> {
        QueueGuard {
            queue: self,
            list: self.list.lock(),
        }
    }
}

impl fmt::Debug for WaitQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitQueue").finish_non_exhaustive()
    }
}

impl<'q> Waiter<'q> {
    /// A waiter for `queue`, not yet queued.
    pub(crate) fn new(queue: &'q WaitQueue) -> Self {
        Self {
            queue,
            node: Node {
                linked: AtomicBool::new(false),
                links: UnsafeCell::new(Links::default()),
                _pinned: PhantomPinned,
            },
        }
    }
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        // Owners normally cancel through `QueueGuard::remove` first; this is the safety net
        // that keeps the list free of dangling pointers whatever the owner did.
        if self.node.linked.load(Ordering::Acquire) {
            let mut guard = self.queue.lock();
            let node = NonNull::from(&self.node);
            if self.node.linked.load(Ordering::Relaxed) {
                guard.unlink(node);
            }
        }
    }
}

impl fmt::Debug for Waiter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Waiter")
            .field("linked", &self.node.linked.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl QueueGuard<'_> {
    /// Whether no waiter is queued.
    pub(crate) fn is_empty(&self) -> bool {
        self.list.head.is_none()
    }

    /// The queue-wide word of the primitive.
    pub(crate) fn word(&mut self) -> &mut usize {
        &mut self.list.word
    }

    /// Queues `waiter` at the back with `value` and `waker`.
    ///
    /// # Panics
    ///
    /// If `waiter` belongs to another queue or is already queued.
    pub(crate) fn push_back(
        &mut self,
        waiter: Pin<&Waiter<'_>>,
        value: usize,
        waker: Option<&Waker>,
    ) {
        self.check_owner(&waiter);
        assert!(
            !waiter.node.linked.load(Ordering::Relaxed),
            "waiter is already queued"
        );
        let node = NonNull::from(&waiter.get_ref().node);
        let old_tail = self.list.tail;
        self.with_links(node, |links| {
            links.prev = old_tail;
            links.next = None;
            links.value = value;
            links.waker = waker.cloned();
        });
        match old_tail {
            Some(tail) => self.with_links(tail, |links| links.next = Some(node)),
            None => self.list.head = Some(node),
        }
        self.list.tail = Some(node);
        waiter.node.linked.store(true, Ordering::Relaxed);
    }

    /// The `value` of the waiter at the head, if any.
    pub(crate) fn front_value(&mut self) -> Option<usize> {
        let head = self.list.head?;
        Some(self.with_links(head, |links| links.value))
    }

    /// Overwrites the `value` of the waiter at the head.
    ///
    /// # Panics
    ///
    /// If the queue is empty.
    pub(crate) fn set_front_value(&mut self, value: usize) {
        let head = self.list.head.expect("set_front_value on an empty queue");
        self.with_links(head, |links| links.value = value);
    }

    /// Unlinks the head waiter and returns its waker; its `value` stays for its owner to
    /// read.
    pub(crate) fn pop_front(&mut self) -> Option<Option<Waker>> {
        let head = self.list.head?;
        let waker = self.with_links(head, |links| links.waker.take());
        self.unlink(head);
        Some(waker)
    }

    /// Overwrites the `value` of the waiter at the tail.
    ///
    /// # Panics
    ///
    /// If the queue is empty.
    pub(crate) fn set_back_value(&mut self, value: usize) {
        let tail = self.list.tail.expect("set_back_value on an empty queue");
        self.with_links(tail, |links| links.value = value);
    }

    /// Unlinks the tail waiter (the most recently queued) and returns its waker; its
    /// `value` stays for its owner to read.
    pub(crate) fn pop_back(&mut self) -> Option<Option<Waker>> {
        let tail = self.list.tail?;
        let waker = self.with_links(tail, |links| links.waker.take());
        self.unlink(tail);
        Some(waker)
    }

    /// Reads `waiter`'s state; while it is queued, also makes `waker` (if given) the one
    /// a `pop_front` will return. (No pin needed: this stores no pointer to the waiter.)
    ///
    /// # Panics
    ///
    /// If `waiter` belongs to another queue.
    pub(crate) fn state(&mut self, waiter: &Waiter<'_>, waker: Option<&Waker>) -> WaiterState {
        self.check_owner(waiter);
        let node = NonNull::from(&waiter.node);
        let linked = waiter.node.linked.load(Ordering::Relaxed);
        self.with_links(node, |links| {
            if !linked {
                return WaiterState::Unlinked(links.value);
            }
            if let Some(waker) = waker {
                match &links.waker {
                    Some(old) if old.will_wake(waker) => {}
                    _ => links.waker = Some(waker.clone()),
                }
            }
            WaiterState::Queued(links.value)
        })
    }

    /// Takes `waiter` out of the queue if it is queued (cancellation). No pin needed: a
    /// queued waiter is pinned already, and an unqueued one is only read.
    ///
    /// # Panics
    ///
    /// If `waiter` belongs to another queue.
    pub(crate) fn remove(&mut self, waiter: &Waiter<'_>) -> Removal {
        self.check_owner(waiter);
        let node = NonNull::from(&waiter.node);
        let value = self.with_links(node, |links| links.value);
        if waiter.node.linked.load(Ordering::Relaxed) {
            self.unlink(node);
            Removal::Removed(value)
        } else {
            Removal::NotQueued(value)
        }
    }

    fn check_owner(&self, waiter: &Waiter<'_>) {
        assert!(
            ptr::eq(waiter.queue, self.queue),
            "waiter used with a queue it does not belong to"
        );
    }

    /// Runs `f` on a node's links.
    ///
    /// Callers pass only nodes that are in this list or whose waiter belongs to this
    /// queue (checked by `check_owner`): by invariants 1 and 2 the node is alive, and
    /// `self` proves the lock that invariant 3 asks for is held.
    fn with_links<R>(&mut self, node: NonNull<Node>, f: impl FnOnce(&mut Links) -> R) -> R {
        // SAFETY: the node is alive (see above: it is in the list, or it is the node of a
        // waiter the caller borrows), and shared references to a node are allowed.
        let node = unsafe { node.as_ref() };
        node.links.with_mut(|links| {
            // SAFETY: invariant 3: we hold the queue lock (`&mut self`), the only licence to
            // touch `links` while the node may be shared, and `f` cannot reach this cell
            // again, so this `&mut` is unique for its lifetime.
            f(unsafe { &mut *links })
        })
    }

    /// Unlinks a node that is in this list; the `linked = false` store is the last touch.
    fn unlink(&mut self, node: NonNull<Node>) {
        let (prev, next) = self.with_links(node, |links| (links.prev.take(), links.next.take()));
        match prev {
            Some(prev) => self.with_links(prev, |links| links.next = next),
            None => self.list.head = next,
        }
        match next {
            Some(next) => self.with_links(next, |links| links.prev = prev),
            None => self.list.tail = prev,
        }
        // SAFETY: the node is still alive: it was in the list (invariant 1) until just now,
        // and its owner cannot free it before observing the store below.
        let node = unsafe { node.as_ref() };
        node.linked.store(false, Ordering::Release);
    }
}

/// Wakers collected under a lock, woken after it is released.
///
/// The first [`CAPACITY`](Self::CAPACITY) wakers sit inline, so the common case never
/// allocates; past that they spill into a `Vec`, so a caller never has to release the lock
/// half way through a batch (which would let the queue change under it). Dropping the list
/// wakes whatever is left, so no waker is lost on an early return; call
/// [`wake_all`](Self::wake_all) (or declare the list before the guard) so that waking
/// happens after the lock is released.
pub(crate) struct WakeList {
    /// # Invariant
    /// `inline[..len]` holds the collected wakers and every slot from `len` on is `None`;
    /// [`wake_all`](Self::wake_all), which `Drop` runs, leaves every slot `None`. So the
    /// array never holds anything to drop once `Drop` has run, and `ManuallyDrop` spares
    /// every list the array's drop glue: a check of all [`CAPACITY`](Self::CAPACITY) slots,
    /// which was 8 % of the instructions of a contended semaphore (one list per release;
    /// `docs/performance.md`). If a waker panics twice in one list (in `wake_all` and again
    /// in `Drop`), the wakers still in the array leak, which is safe.
    inline: ManuallyDrop<[Option<Waker>; WakeList::CAPACITY]>,
    len: usize,
    spill: Vec<Waker>,
}

impl WakeList {
    const CAPACITY: usize = if cfg!(loom) { 2 } else { 32 };

    /// An empty list.
    pub(crate) fn new() -> Self {
        Self {
            inline: ManuallyDrop::new([const { None }; WakeList::CAPACITY]),
            len: 0,
            spill: Vec::new(),
        }
    }

    /// Adds a waker (`None` is ignored: waiters may be queued without one).
    pub(crate) fn push(&mut self, waker: Option<Waker>) {
        let Some(waker) = waker else { return };
        if self.len < Self::CAPACITY {
            self.inline[self.len] = Some(waker);
            self.len += 1;
        } else {
            self.spill.push(waker);
        }
    }

    /// Wakes and forgets every collected waker.
    pub(crate) fn wake_all(&mut self) {
        for slot in &mut self.inline[..self.len] {
            if let Some(waker) = slot.take() {
                waker.wake();
            }
        }
        self.len = 0;
        // Skip the `Drain` (its construction and drop glue) in the common, unspilled case.
        if !self.spill.is_empty() {
            for waker in self.spill.drain(..) {
                waker.wake();
            }
        }
    }
}

impl Drop for WakeList {
    fn drop(&mut self) {
        // Usually `wake_all` has run already and there is nothing left.
        if self.len > 0 || !self.spill.is_empty() {
            self.wake_all();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::pin::pin;

    #[test]
    fn fifo_order_and_values() {
        let queue = WaitQueue::new();
        let a = pin!(Waiter::new(&queue));
        let b = pin!(Waiter::new(&queue));
        let c = pin!(Waiter::new(&queue));
        let mut guard = queue.lock();
        assert!(guard.is_empty());
        guard.push_back(a.as_ref(), 1, None);
        guard.push_back(b.as_ref(), 2, None);
        guard.push_back(c.as_ref(), 3, None);
        assert_eq!(guard.front_value(), Some(1));
        // Remove from the middle, then pop the rest in order.
        assert_eq!(guard.remove(&b), Removal::Removed(2));
        assert_eq!(guard.remove(&b), Removal::NotQueued(2));
        guard.set_front_value(10);
        assert!(guard.pop_front().is_some());
        assert_eq!(guard.state(&a, None), WaiterState::Unlinked(10));
        assert_eq!(guard.front_value(), Some(3));
        assert!(guard.pop_front().is_some());
        assert!(guard.is_empty());
        assert!(guard.pop_front().is_none());
        // A popped waiter can be queued again.
        guard.push_back(a.as_ref(), 4, None);
        assert_eq!(guard.state(&a, None), WaiterState::Queued(4));
        assert_eq!(guard.remove(&a), Removal::Removed(4));
        assert!(guard.is_empty());
    }

    #[test]
    fn dropping_a_queued_waiter_unlinks_it() {
        let queue = WaitQueue::new();
        let keep = pin!(Waiter::new(&queue));
        {
            let gone = Box::pin(Waiter::new(&queue));
            let mut guard = queue.lock();
            guard.push_back(gone.as_ref(), 1, None);
            guard.push_back(keep.as_ref(), 2, None);
            drop(guard);
            drop(gone);
        }
        let mut guard = queue.lock();
        assert_eq!(guard.front_value(), Some(2));
        assert!(guard.pop_front().is_some());
        assert!(guard.is_empty());
    }

    #[test]
    #[should_panic(expected = "does not belong")]
    fn foreign_waiter_is_rejected() {
        let q1 = WaitQueue::new();
        let q2 = WaitQueue::new();
        let w = pin!(Waiter::new(&q1));
        q2.lock().push_back(w.as_ref(), 0, None);
    }

    #[test]
    fn waker_is_refreshed_and_returned() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        use std::task::Wake;
        struct Count(AtomicUsize);
        impl Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let first = Arc::new(Count(AtomicUsize::new(0)));
        let second = Arc::new(Count(AtomicUsize::new(0)));
        let queue = WaitQueue::new();
        let w = pin!(Waiter::new(&queue));
        let mut wakers = WakeList::new();
        let mut guard = queue.lock();
        guard.push_back(w.as_ref(), 0, Some(&Waker::from(first.clone())));
        let _ = guard.state(&w, Some(&Waker::from(second.clone())));
        wakers.push(guard.pop_front().unwrap());
        drop(guard);
        drop(wakers);
        assert_eq!(first.0.load(Ordering::SeqCst), 0);
        assert_eq!(second.0.load(Ordering::SeqCst), 1);
    }
}
