//! [`LifoSlot`]: the one-task slot a worker runs next, which other workers can steal from.
//!
//! A task woken by the running task goes into its worker's LIFO slot, not to the back of
//! the deque, so that a message and its reply run back to back, hot in cache. The slot is
//! the owner's fast path; only the LIFO watcher takes from another worker's slot, when that
//! worker has started no poll for an interval (see [`lifo_watch`](super::lifo_watch)):
//! otherwise a task left there behind a poll that blocks its thread would wait for that
//! poll, however many workers sit idle.
//!
//! # Protocol
//!
//! The slot is one atomic pointer, null when empty, else a task turned into a raw pointer
//! ([`Slotted::into_raw`]). Only the owner fills it; anyone empties it, by swapping null in,
//! so exactly one party gets each task back:
//!
//! * [`push`](LifoSlot::push) (owner): a plain release store when the slot reads empty
//!   (nobody else fills it, so it stays empty until this store); else a swap, which hands
//!   back whatever was there, unless a thief took it first.
//! * [`take`](LifoSlot::take) (owner) and [`steal`](LifoSlot::steal) (anyone): a relaxed
//!   look, and a swap with null only when the slot looks full.
//!
//! The owner's common cycle (push into an empty slot, take it back) costs one store and one
//! swap on a line only it writes; a thief touches the line only when it steals. loom checks
//! that every task pushed comes out exactly once (`tests/loom_lifo_slot.rs`).
use crate::loom::{AtomicPtr, Ordering};
use crate::task::Runnable;
use std::ptr::{self, NonNull};

/// What a [`LifoSlot`] can hold: a value that round-trips through a raw pointer.
///
/// # Safety
///
/// `from_raw(into_raw(x))` must give back `x`, and a pointer from `into_raw` must be safe
/// to send to (and turn back on) another thread.
pub unsafe trait Slotted: Send + Sized {
    /// Gives up the value as a pointer; [`from_raw`](Self::from_raw) takes it back.
    fn into_raw(self) -> NonNull<()>;
    /// Takes back a value given up by [`into_raw`](Self::into_raw).
    ///
    /// # Safety
    ///
    /// `ptr` comes from `into_raw` and is turned back at most once.
    unsafe fn from_raw(ptr: NonNull<()>) -> Self;
}

// SAFETY: async-task's `Runnable::from_raw` is documented to take back exactly what
// `into_raw` gave, and a `Runnable` is `Send`.
unsafe impl Slotted for Runnable {
    fn into_raw(self) -> NonNull<()> {
        Runnable::into_raw(self)
    }

    unsafe fn from_raw(ptr: NonNull<()>) -> Self {
        // SAFETY: the caller passes a pointer from `into_raw`, once.
        unsafe { Runnable::from_raw(ptr) }
    }
}

// SAFETY: `Box::from_raw(Box::into_raw(b))` is `b`; the box is `Send` when `T` is.
unsafe impl<T: Send> Slotted for Box<T> {
    fn into_raw(self) -> NonNull<()> {
        NonNull::from(Box::leak(self)).cast()
    }

    unsafe fn from_raw(ptr: NonNull<()>) -> Self {
        // SAFETY: the caller passes a pointer from `into_raw` (a leaked box), once.
        unsafe { Box::from_raw(ptr.cast::<T>().as_ptr()) }
    }
}

/// One worker's stealable LIFO slot; see the module docs.
///
/// # Invariants
///
/// The pointer is null or came from [`Slotted::into_raw`] of a `T` that nobody else holds;
/// whoever swaps a non-null pointer out owns that `T`. Only the owning worker (one thread
/// at a time, the one driving its core) calls [`push`](Self::push).
pub struct LifoSlot<T: Slotted> {
    task: AtomicPtr<()>,
    _holds: std::marker::PhantomData<T>,
}

// SAFETY: the slot hands each `T` (which is `Send`) to exactly one thread (invariants).
unsafe impl<T: Slotted> Sync for LifoSlot<T> {}
// SAFETY: as above; moving the slot moves at most one `T`, which is `Send`.
unsafe impl<T: Slotted> Send for LifoSlot<T> {}

impl<T: Slotted> Default for LifoSlot<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Slotted> LifoSlot<T> {
    /// An empty slot.
    pub fn new() -> Self {
        Self {
            task: AtomicPtr::new(ptr::null_mut()),
            _holds: std::marker::PhantomData,
        }
    }

    /// Puts `task` in the slot; returns the task it displaced, if a thief did not take that
    /// first. Owner only.
    pub fn push(&self, task: T) -> Option<T> {
        let new = task.into_raw().as_ptr();
        if self.task.load(Ordering::Relaxed).is_null() {
            // Only the owner fills the slot: empty now, it stays empty until this store.
            // Release: a thief that swaps the pointer out sees the task's contents.
            self.task.store(new, Ordering::Release);
            return None;
        }
        let old = self.task.swap(new, Ordering::AcqRel);
        // SAFETY: a non-null pointer swapped out of the slot came from `into_raw` and is
        // now ours alone (invariants).
        NonNull::new(old).map(|old| unsafe { T::from_raw(old) })
    }

    /// Takes the task out of the slot, if it holds one. Owner only (it is [`steal`]
    /// under another name, kept apart to say who calls it).
    ///
    /// [`steal`]: Self::steal
    #[inline]
    pub fn take(&self) -> Option<T> {
        self.steal()
    }

    /// Takes the task out of the slot, if it holds one; safe from any thread.
    #[inline]
    pub fn steal(&self) -> Option<T> {
        if self.task.load(Ordering::Relaxed).is_null() {
            return None;
        }
        let old = self.task.swap(ptr::null_mut(), Ordering::Acquire);
        // SAFETY: a non-null pointer swapped out of the slot came from `into_raw` and is
        // now ours alone (invariants); Acquire pairs with the pusher's release.
        NonNull::new(old).map(|old| unsafe { T::from_raw(old) })
    }

    /// Whether the slot holds a task (a snapshot).
    #[inline]
    pub fn is_occupied(&self) -> bool {
        !self.task.load(Ordering::Relaxed).is_null()
    }
}

impl<T: Slotted> Drop for LifoSlot<T> {
    fn drop(&mut self) {
        // Whatever is left goes with the slot. (For the scheduler's slots this never runs
        // with a task inside: a task's metadata holds the scheduler, which owns the slots,
        // so each worker empties its own at shutdown, in `drop_local_tasks`.)
        drop(self.take());
    }
}

impl<T: Slotted> std::fmt::Debug for LifoSlot<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LifoSlot")
            .field("occupied", &self.is_occupied())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn push_take_and_steal_hand_each_task_out_once() {
        let slot = LifoSlot::<Box<u32>>::new();
        assert!(slot.take().is_none() && !slot.is_occupied());
        assert!(slot.push(Box::new(1)).is_none());
        assert!(slot.is_occupied());
        assert_eq!(slot.push(Box::new(2)).as_deref(), Some(&1), "displaced");
        assert_eq!(slot.steal().as_deref(), Some(&2));
        assert!(slot.steal().is_none() && slot.take().is_none());
        slot.push(Box::new(3));
        assert_eq!(slot.take().as_deref(), Some(&3));
    }

    #[test]
    fn a_task_left_in_the_slot_is_dropped_with_it() {
        let task = std::sync::Arc::new(());
        let slot = LifoSlot::<Box<std::sync::Arc<()>>>::new();
        slot.push(Box::new(task.clone()));
        drop(slot);
        assert_eq!(std::sync::Arc::strong_count(&task), 1);
    }
}
