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
    pub(crate) tasks: Slab<Waker>,
    /// Once set (by shutdown), no task may be added: a spawn drops its future instead.
    pub(crate) closed: bool,
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
        let waker = self.shards[shard].lock().tasks.get(key).cloned();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Closes every shard to new tasks and takes out all the wakers it held.
    pub(crate) fn close_and_drain(&self) -> Vec<Waker> {
        let mut out = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = shard.lock();
            shard.closed = true;
            out.extend(shard.tasks.drain());
        }
        out
    }

    /// Number of live tasks (a snapshot).
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().tasks.len()).sum()
    }
}
