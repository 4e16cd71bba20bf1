//! [`AbortHandle`]: the right to cancel a task, without the right to its output.
use super::Header;
use std::fmt;
use std::ptr::NonNull;
use std::sync::atomic::Ordering;
use std::task::Waker;

/// Cancels a task without owning its output: what
/// [`JoinHandle::abort_handle`](super::JoinHandle::abort_handle) and
/// [`JoinSet::spawn`](super::JoinSet::spawn) return.
///
/// Cloneable and `Send + Sync`; dropping one does nothing to the task. Aborting works as
/// [`JoinHandle::abort`](super::JoinHandle::abort): the task's future is dropped the next
/// time a worker picks it up (at once if it is idle), and its `JoinHandle` yields a
/// cancelled error; a task that already finished keeps its output.
///
/// An `AbortHandle` keeps the task's allocation (not its future, not its output) alive
/// until it is dropped.
///
/// # Examples
///
/// ```
/// let rt = filch::runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let join = filch::spawn(std::future::pending::<()>());
///     let abort = join.abort_handle();
///     assert!(!abort.is_finished());
///     abort.abort();
///     assert!(join.await.unwrap_err().is_cancelled());
///     assert!(abort.is_finished());
/// });
/// ```
#[derive(Clone)]
pub struct AbortHandle {
    /// `None` for a task that had finished (or was refused) when the handle was made.
    live: Option<Live>,
    id: super::Id,
}

#[derive(Clone)]
struct Live {
    /// A reference to the task: keeps its allocation, and so `header`, alive.
    waker: Waker,
    /// # Invariant
    /// Points at the [`Header`] inside the allocation `waker` keeps alive.
    header: NonNull<Header>,
}

// SAFETY: a `Waker` is `Send + Sync`, and `header` only gives shared access to a `Header`,
// which is `Sync`, inside the allocation the waker keeps alive.
unsafe impl Send for AbortHandle {}
// SAFETY: as for `Send`: every method takes `&self` and only reads the `Sync` header or
// wakes through the waker.
unsafe impl Sync for AbortHandle {}

// Unwind safety: aborting is one atomic flag and a wake; nothing can be left half done.
impl std::panic::UnwindSafe for AbortHandle {}
impl std::panic::RefUnwindSafe for AbortHandle {}

impl AbortHandle {
    /// A handle for the task whose header is `header`, if it is still registered; the
    /// caller keeps the task alive for the duration of the call (it holds its
    /// `JoinHandle`).
    pub(crate) fn new(header: &Header) -> Self {
        let address = std::ptr::from_ref(header) as usize;
        let live = header
            .scheduler
            .registry()
            .waker_of(header.shard, header.key, address)
            .map(|waker| Live {
                waker,
                header: NonNull::from(header),
            });
        Self {
            live,
            id: header.id,
        }
    }

    /// A handle for a task that never ran (its spawn was refused).
    pub(crate) fn finished(id: super::Id) -> Self {
        Self { live: None, id }
    }

    fn header(&self) -> Option<&Header> {
        // SAFETY: `live.waker` keeps the allocation `header` points into alive (see the
        // field's invariant), and we borrow it no longer than `self`.
        self.live
            .as_ref()
            .map(|live| unsafe { live.header.as_ref() })
    }

    /// Cancels the task; see the type's docs. Aborting twice, or a finished task, does
    /// nothing.
    pub fn abort(&self) {
        let (Some(live), Some(header)) = (&self.live, self.header()) else {
            return;
        };
        if !header.aborted.swap(true, Ordering::AcqRel) {
            // A wake of a finished task is a no-op; of an idle one, it gets it polled, and
            // that poll completes it as cancelled.
            live.waker.wake_by_ref();
        }
    }

    /// Returns `true` once the task has finished (completed, panicked or been cancelled):
    /// its future is gone, or about to be (a runtime that began shutting down has let go of
    /// every task, and drops each as shutdown goes on).
    pub fn is_finished(&self) -> bool {
        match self.header() {
            None => true,
            Some(header) => !header.scheduler.registry().holds(
                header.shard,
                header.key,
                std::ptr::from_ref(header) as usize,
            ),
        }
    }

    /// The task's id.
    pub fn id(&self) -> super::Id {
        self.id
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}
