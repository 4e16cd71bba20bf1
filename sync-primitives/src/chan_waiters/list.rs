//! A slab-backed intrusive FIFO of waiting tasks.
//!
//! Nodes live in a [`Slab`]; `prev`/`next` are slab keys, so linking, unlinking and
//! cancelling are O(1) and the whole structure is safe code. A node has two phases:
//!
//! 1. *linked*: it is in the FIFO and may be dequeued by [`WaitList::pop_front`];
//! 2. *unlinked*: it left the FIFO (dequeued by a notifier) but stays in the slab so the
//!    waiting future can read the state the notifier left for it.
//!
//! The future owning a node always ends it with [`WaitList::remove`], from either phase.
//!
//! Every node is stamped with the number of pushes before it, so a notifier that wakes
//! "everyone waiting now" in several lock holds (a [`WakeBatch`] at a time) takes a
//! [`QueueMark`] first and pops only nodes older than it
//! ([`WaitList::pop_front_before`]): a waiter that queues while the round has the lock
//! released is left for the next round instead of being woken spuriously, and the round
//! ends after at most the waiters present when it started.

use slab::Slab;
use std::task::Waker;

/// Identifies one waiter's node in a [`WaitList`]; held by the waiting future.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WaiterKey(usize);

/// The waiters queued so far, for [`WaitList::pop_front_before`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QueueMark(u64);

#[derive(Debug)]
struct Node<S> {
    waker: Option<Waker>,
    state: S,
    /// Pushes before this one (`WaitList::pushed` when it was queued).
    seq: u64,
    prev: Option<usize>,
    next: Option<usize>,
    linked: bool,
}

/// A FIFO of waiters, each carrying a waker and a small piece of state `S` written by
/// whoever dequeues it.
#[derive(Debug)]
pub(crate) struct WaitList<S> {
    nodes: Slab<Node<S>>,
    head: Option<usize>,
    tail: Option<usize>,
    linked: usize,
    /// Nodes ever pushed; stamps each new node (a `u64` cannot wrap in practice).
    pushed: u64,
}

impl<S> WaitList<S> {
    pub(crate) const fn new() -> Self {
        Self {
            nodes: Slab::new(),
            head: None,
            tail: None,
            linked: 0,
            pushed: 0,
        }
    }

    /// Whether no waiter is queued (unlinked nodes are not counted).
    pub(crate) fn is_empty(&self) -> bool {
        self.linked == 0
    }

    /// Queues a new waiter at the back.
    pub(crate) fn push_back(&mut self, waker: &Waker, state: S) -> WaiterKey {
        let seq = self.pushed;
        self.pushed += 1;
        let key = self.nodes.insert(Node {
            waker: Some(waker.clone()),
            state,
            seq,
            prev: self.tail,
            next: None,
            linked: true,
        });
        match self.tail {
            Some(tail) => self.nodes[tail].next = Some(key),
            None => self.head = Some(key),
        }
        self.tail = Some(key);
        self.linked += 1;
        WaiterKey(key)
    }

    /// Dequeues the front waiter; its node stays allocated until the owner removes it.
    pub(crate) fn pop_front(&mut self) -> Option<WaiterKey> {
        let key = self.head?;
        self.unlink_at(key);
        Some(WaiterKey(key))
    }

    /// The front waiter, left queued.
    pub(crate) fn front(&self) -> Option<WaiterKey> {
        self.head.map(WaiterKey)
    }

    /// Marks every waiter queued so far.
    pub(crate) fn mark(&self) -> QueueMark {
        QueueMark(self.pushed)
    }

    /// Dequeues the front waiter if it was queued before `mark` was taken. FIFO order
    /// means that once the front is newer than `mark`, every waiter is.
    pub(crate) fn pop_front_before(&mut self, mark: QueueMark) -> Option<WaiterKey> {
        let key = self.head?;
        if self.nodes[key].seq >= mark.0 {
            return None;
        }
        self.unlink_at(key);
        Some(WaiterKey(key))
    }

    /// Whether `key` is still queued.
    pub(crate) fn is_linked(&self, key: WaiterKey) -> bool {
        self.nodes[key.0].linked
    }

    /// The state of a waiter.
    pub(crate) fn state_mut(&mut self, key: WaiterKey) -> &mut S {
        &mut self.nodes[key.0].state
    }

    /// Takes the waker out of a waiter (to wake it after the lock is released).
    pub(crate) fn take_waker(&mut self, key: WaiterKey) -> Option<Waker> {
        self.nodes[key.0].waker.take()
    }

    /// Stores `waker` as the one to wake, unless the stored one already wakes the same task.
    ///
    /// Returns the waker it replaced, for the caller to drop once the lock is released (a
    /// waker's `Drop` is user code and may re-enter the channel; module docs of
    /// `chan_waiters`).
    #[must_use = "drop the replaced waker after releasing the lock"]
    pub(crate) fn set_waker(&mut self, key: WaiterKey, waker: &Waker) -> Option<Waker> {
        let slot = &mut self.nodes[key.0].waker;
        match slot {
            Some(old) if old.will_wake(waker) => None,
            _ => slot.replace(waker.clone()),
        }
    }

    /// Ends a waiter: unlinks it if it is still queued and frees its node.
    ///
    /// Returns the waiter's state and the waker it still held, which the caller drops
    /// once the lock is released (see [`WaitList::set_waker`]).
    #[must_use = "drop the returned waker after releasing the lock"]
    pub(crate) fn remove(&mut self, key: WaiterKey) -> (S, Option<Waker>) {
        if self.nodes[key.0].linked {
            self.unlink_at(key.0);
        }
        let node = self.nodes.remove(key.0);
        (node.state, node.waker)
    }

    fn unlink_at(&mut self, key: usize) {
        let (prev, next) = {
            let node = &mut self.nodes[key];
            debug_assert!(node.linked, "unlinking a waiter that is not queued");
            node.linked = false;
            (node.prev.take(), node.next.take())
        };
        match prev {
            Some(prev) => self.nodes[prev].next = next,
            None => self.head = next,
        }
        match next {
            Some(next) => self.nodes[next].prev = prev,
            None => self.tail = prev,
        }
        self.linked -= 1;
    }
}

/// Wakers gathered under a lock, woken once the lock is released.
///
/// Holds at most [`WakeBatch::CAPACITY`] wakers inline; a caller that drains a longer list
/// wakes a full batch, relocks and continues.
#[derive(Debug)]
pub(crate) struct WakeBatch {
    wakers: [Option<Waker>; Self::CAPACITY],
    len: usize,
}

impl WakeBatch {
    pub(crate) const CAPACITY: usize = 32;

    pub(crate) const fn new() -> Self {
        Self {
            wakers: [const { None }; Self::CAPACITY],
            len: 0,
        }
    }

    /// Whether another waker fits.
    pub(crate) fn has_room(&self) -> bool {
        self.len < Self::CAPACITY
    }

    /// Adds a waker; the caller checks [`WakeBatch::has_room`] first.
    pub(crate) fn push(&mut self, waker: Option<Waker>) {
        debug_assert!(self.has_room());
        if let Some(waker) = waker {
            self.wakers[self.len] = Some(waker);
            self.len += 1;
        }
    }

    /// Wakes and clears every gathered waker.
    pub(crate) fn wake_all(&mut self) {
        for slot in &mut self.wakers[..self.len] {
            if let Some(waker) = slot.take() {
                waker.wake();
            }
        }
        self.len = 0;
    }
}

impl Drop for WakeBatch {
    fn drop(&mut self) {
        self.wake_all();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn fifo_order_and_o1_cancel() {
        let waker = &futures::task::noop_waker();
        let mut list = WaitList::new();
        let a = list.push_back(waker, 'a');
        let b = list.push_back(waker, 'b');
        let c = list.push_back(waker, 'c');
        assert_eq!(list.remove(b).0, 'b');
        assert_eq!(list.pop_front(), Some(a));
        assert!(!list.is_linked(a));
        assert_eq!(*list.state_mut(a), 'a');
        assert_eq!(list.remove(a).0, 'a');
        let d = list.push_back(waker, 'd');
        assert_eq!(list.pop_front(), Some(c));
        assert_eq!(list.pop_front(), Some(d));
        assert_eq!(list.pop_front(), None);
        assert!(list.is_empty());
        let _ = list.remove(c);
        let _ = list.remove(d);
    }

    #[test]
    fn pop_front_before_stops_at_waiters_queued_after_the_mark() {
        let waker = &futures::task::noop_waker();
        let mut list = WaitList::new();
        let a = list.push_back(waker, 'a');
        let b = list.push_back(waker, 'b');
        let mark = list.mark();
        let c = list.push_back(waker, 'c');
        let _ = list.remove(b);
        assert_eq!(list.pop_front_before(mark), Some(a));
        assert_eq!(list.pop_front_before(mark), None);
        assert!(!list.is_empty());
        assert_eq!(list.pop_front_before(list.mark()), Some(c));
        let _ = list.remove(a);
        let _ = list.remove(c);
    }

    #[test]
    fn remove_tail_then_push_keeps_links() {
        let waker = &futures::task::noop_waker();
        let mut list = WaitList::new();
        let a = list.push_back(waker, 1);
        let b = list.push_back(waker, 2);
        let _ = list.remove(b);
        let c = list.push_back(waker, 3);
        assert_eq!(list.pop_front(), Some(a));
        assert_eq!(list.pop_front(), Some(c));
        assert!(list.is_empty());
    }
}
