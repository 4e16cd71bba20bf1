//! The list of every live task of a runtime, so that shutting down can reach them all.
//!
//! A task that waits on a waker sits in no queue; if its waker lives in something that
//! outlives the runtime (or in the task itself), only this list can find it. Shutdown
//! [closes](Registry::close_and_drain) the registry, wakes every task it held (which puts
//! them on the injector) and drops what comes out, so every future is dropped exactly once.
//!
//! The list is sharded: a worker registers the tasks it spawns in its own shard, so spawns
//! on different workers never touch the same lock. Each entry is the task's [`Waker`]; the
//! task's [`Header`](super::Header) remembers its `(shard, key)` and the task removes itself
//! when its future is dropped.
use crossbeam_utils::CachePadded;
use parking_lot::{Mutex, MutexGuard};
use slab::Slab;
use std::task::Waker;

/// Sharded registry of live tasks.
#[derive(Debug)]
pub(crate) struct Registry {
    shards: Box<[CachePadded<Mutex<Shard>>]>,
}

/// One shard: the wakers of its live tasks, and whether shutdown closed it.
#[derive(Debug, Default)]
pub(crate) struct Shard {
    pub(crate) tasks: Slab<Entry>,
    /// Once set (by shutdown), no task may be added: a spawn drops its future instead.
    pub(crate) closed: bool,
}

/// A live task: its waker, and the address of its [`Header`](super::Header), which tells
/// the task apart from a later one that reuses the slot after this one is gone.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) waker: Waker,
    pub(crate) header: usize,
}

impl Registry {
    pub(crate) fn new(shards: usize) -> Self {
        let shards = (0..shards.max(1))
            .map(|_| CachePadded::new(Mutex::new(Shard::default())))
            .collect();
        Self { shards }
    }

    /// Locks shard `index % num_shards`, returning the shard's index too.
    pub(crate) fn lock(&self, index: usize) -> (usize, MutexGuard<'_, Shard>) {
        let index = index % self.shards.len();
        (index, self.shards[index].lock())
    }

    /// Removes a task's entry. Tolerates an entry already drained by shutdown.
    pub(crate) fn remove(&self, shard: usize, key: usize) {
        let waker = self.shards[shard].lock().tasks.try_remove(key);
        // Drop the waker (a task reference) outside the lock.
        drop(waker);
    }

    /// Wakes the task registered at `(shard, key)`, if that entry still exists.
    pub(crate) fn wake(&self, shard: usize, key: usize) {
        let waker = self.shards[shard]
            .lock()
            .tasks
            .get(key)
            .map(|entry| entry.waker.clone());
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// A waker of the task whose header is at `header`, if it is still registered at
    /// `(shard, key)` (its future not dropped yet); `None` once it is gone, even if another
    /// task has taken the slot since.
    pub(crate) fn waker_of(&self, shard: usize, key: usize, header: usize) -> Option<Waker> {
        let shard = self.shards[shard].lock();
        let entry = shard.tasks.get(key)?;
        (entry.header == header).then(|| entry.waker.clone())
    }

    /// Whether the task whose header is at `header` is still registered at `(shard, key)`.
    pub(crate) fn holds(&self, shard: usize, key: usize, header: usize) -> bool {
        let shard = self.shards[shard].lock();
        shard
            .tasks
            .get(key)
            .is_some_and(|entry| entry.header == header)
    }

    /// Closes every shard to new tasks and takes out all the wakers it held.
    pub(crate) fn close_and_drain(&self) -> Vec<Waker> {
        let mut out = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = shard.lock();
            shard.closed = true;
            out.extend(shard.tasks.drain().map(|entry| entry.waker));
        }
        out
    }

    /// Calls `f` with the header of every registered task, shard by shard, each under
    /// its lock (for dumps: `f` must be quick and must not spawn or wake).
    pub(crate) fn for_each_header(&self, mut f: impl FnMut(&super::Header)) {
        for shard in self.shards.iter() {
            let shard = shard.lock();
            for (_, entry) in shard.tasks.iter() {
                // SAFETY: `entry.header` is the address of the metadata of the task that
                // `entry.waker` wakes; a waker holds a reference to its task, which keeps
                // the task's allocation (the metadata in it) alive while the entry exists,
                // and the shard lock keeps the entry from being removed while `f` runs.
                f(unsafe { &*(entry.header as *const super::Header) });
            }
        }
    }

    /// Number of live tasks (a snapshot).
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().tasks.len()).sum()
    }
}
