//! [`Id`]: a task's identity, unique for the life of the process.
use std::cell::Cell;
use std::fmt;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};

/// A task's id: unique among all tasks of the process, never reused.
///
/// # Examples
///
/// ```
/// let rt = filch::runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let handle = filch::spawn(async { filch::task::try_id() });
///     let id = handle.id();
///     assert_eq!(handle.await.unwrap(), Some(id));
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(NonZeroU64);

/// Ids are handed to threads in blocks, so spawning takes no shared atomic operation
/// except once per block.
const BLOCK: u64 = 1024;

static NEXT_BLOCK: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// `(next, end)` of this thread's current block.
    static BLOCK_LEFT: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
    /// The task being polled on this thread.
    static CURRENT: Cell<Option<Id>> = const { Cell::new(None) };
}

impl Id {
    pub(crate) fn next() -> Id {
        BLOCK_LEFT.with(|left| {
            let (mut next, mut end) = left.get();
            if next == end {
                next = NEXT_BLOCK.fetch_add(BLOCK, Ordering::Relaxed);
                end = next + BLOCK;
            }
            left.set((next + 1, end));
            Id(NonZeroU64::new(next).expect("task ids start at 1"))
        })
    }

    /// The id whose number is `raw` (`None` for 0, which no task has).
    pub(crate) fn from_raw(raw: u64) -> Option<Id> {
        NonZeroU64::new(raw).map(Id)
    }

    /// The id as a number.
    pub fn as_u64(self) -> u64 {
        self.0.get()
    }

    /// Marks `self` as the task being polled on this thread until the guard drops.
    pub(crate) fn enter(self) -> CurrentGuard {
        CurrentGuard(CURRENT.with(|c| c.replace(Some(self))))
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Restores the previously current task id.
pub(crate) struct CurrentGuard(Option<Id>);

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}

/// The id of the task being polled on this thread, or `None` outside a task.
pub fn try_id() -> Option<Id> {
    CURRENT.with(Cell::get)
}

/// The id of the task being polled on this thread.
///
/// # Panics
///
/// Panics outside a task (use [`try_id`] to get an `Option`).
#[track_caller]
pub fn id() -> Id {
    try_id().expect("`filch::task::id()` called outside a task; use `filch::task::try_id()`")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_across_threads() {
        let ids: Vec<Id> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..4)
                .map(|_| s.spawn(|| (0..3000).map(|_| Id::next()).collect::<Vec<_>>()))
                .collect();
            hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
        });
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len());
    }
}
