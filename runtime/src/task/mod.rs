//! Tasks: spawning futures, joining them, and what a task carries.
//!
//! # Anatomy of a task
//!
//! A task is one heap allocation made by [`async_task`]: a header with its state word and
//! reference count, the schedule function, our `Header` (the task's metadata) and the
//! future, wrapped in a `TaskFuture`. Three kinds of reference point at it:
//!
//! * the `Runnable`: exists exactly while the task is scheduled; whoever holds it may run
//!   one poll. It lives in a run queue (a worker's deque or LIFO slot, or the injector).
//! * the [`JoinHandle`]: owns the output slot; dropping it detaches the task.
//! * [`Waker`](std::task::Waker)s, one of which the runtime's `Registry` keeps
//!   so shutdown can reach a task that waits on nothing the runtime knows about.
//!
//! The state machine (scheduled / running / completed / closed, and the reference count)
//! is `async_task`'s: it is a small, widely used crate with exactly the semantics a
//! work-stealing scheduler needs (a wake while running reschedules once, a wake of a
//! scheduled task is a no-op, dropping a `Runnable` drops the future). filch adds four
//! things on top, all in this module:
//!
//! 1. **Panics are caught** inside `TaskFuture::poll` and become the task's output, so a
//!    panicking task never unwinds into a worker and its `JoinHandle` sees
//!    [`JoinError::is_panic`].
//! 2. **Abort** sets `Header::aborted` and wakes the task through the registry; the next
//!    poll completes it with a cancelled [`JoinError`] *instead of* polling the future, and
//!    `async_task` drops the future right there. Awaiting an aborted handle therefore
//!    returns only once the future is gone, and a task that finished before the abort
//!    keeps its output.
//! 3. **Registration**: the registry slot is reserved (under the shard lock) before the task
//!    is allocated, so its key is known to the header from the start; the task's future
//!    removes the slot when it is dropped, whatever the reason.
//! 4. **Destructors are contained**: `async_task` drops a future (on cancellation, or when
//!    a `Runnable` is dropped at shutdown) and an unclaimed output inside a guard that
//!    *aborts the process* if the destructor panics. So filch never lets it drop either:
//!    `TaskFuture` drops the user's future itself, under `catch_unwind`, as soon as the
//!    task completes or is aborted, and in its own `Drop` for the other cases; the output
//!    travels in a `TaskOutput`, whose `Drop` catches a panic of the value's destructor.
//!    A panic from the future's destructor becomes the task's result (the `JoinHandle`
//!    sees [`JoinError::is_panic`]); one from an unclaimed output's destructor is dropped
//!    (the panic hook has printed it). A future whose poll panics is dropped during that
//!    unwind, as in tokio (its `Drop` sees `std::thread::panicking()`); a second panic from
//!    its destructor then is caught there and dropped.
//! 5. **No poll after shutdown began**: a task whose scheduler is shutting down completes
//!    as cancelled at its next poll, exactly as an aborted one, so shutdown never has to
//!    race a worker that is about to poll a task it meant to drop. Blocking jobs are
//!    exempt: the blocking pool decides which of them still run.
mod abort_handle;
pub(crate) mod coop;
mod id;
mod join;
mod name;
pub(crate) mod registry;
mod schedule;
pub(crate) mod stats;
mod task_local;
mod thread_bound;
mod yield_now;

pub use abort_handle::AbortHandle;
pub use coop::{consume_budget, has_budget_remaining, unconstrained, Unconstrained};
pub use id::{id, try_id, Id};
pub use join::{JoinError, JoinHandle};
pub use task_local::{AccessError, LocalKey, TaskLocalFuture};
pub use yield_now::yield_now;

pub(crate) use name::NextName;
pub(crate) use schedule::Schedule;

// `filch::task` also carries the ways to start tasks. They need a runtime to start them
// on, so they live in the layers above (`runtime/spawn/`, `scheduler/local_set.rs`) and
// are only re-exported here: nothing in this layer uses them.
pub use crate::runtime::spawn::{block_in_place, spawn, spawn_blocking, Builder, JoinSet};
pub use crate::scheduler::local_set::{spawn_local, LocalEnterGuard, LocalSet};

use async_task::{ScheduleInfo, WithInfo};
use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

/// A scheduled task: whoever holds it may run one poll.
pub(crate) type Runnable = async_task::Runnable<Header>;

/// What filch stores in every task (the `async_task` metadata).
#[derive(Debug)]
pub(crate) struct Header {
    /// The scheduler that owns the task: the schedule function routes wakes through it.
    pub(crate) scheduler: Arc<dyn Schedule>,
    /// Set by [`JoinHandle::abort`]; the next poll completes the task as cancelled.
    pub(crate) aborted: AtomicBool,
    /// A `spawn_blocking` job: the one kind of task that may still run once shutdown has
    /// begun (the blocking pool decides which of its jobs do; see `blocking::pool`).
    pub(crate) blocking: bool,
    /// Registry shard and key of this task; valid until the future is dropped.
    pub(crate) shard: usize,
    pub(crate) key: usize,
    /// The task's id.
    pub(crate) id: Id,
    /// Where the task was spawned (`#[track_caller]` through the spawn APIs), for reports.
    pub(crate) location: &'static std::panic::Location<'static>,
    /// The name given with [`Builder::name`], for reports.
    pub(crate) name: Option<Box<str>>,
    /// State, polls and times, for dumps.
    pub(crate) stats: stats::TaskStats,
    /// The payload of a panic raised by the future's destructor when the task was dropped
    /// without completing (shutdown); the `JoinHandle` reports it instead of "cancelled".
    pub(crate) drop_panic: DropPanic,
}

/// A panic payload caught while dropping a task's future (see [`Header::drop_panic`]).
#[derive(Default)]
pub(crate) struct DropPanic(parking_lot::Mutex<Option<Box<dyn Any + Send>>>);

impl DropPanic {
    fn set(&self, payload: Box<dyn Any + Send>) {
        *self.0.lock() = Some(payload);
    }

    /// Takes the payload, if the future's destructor panicked.
    pub(crate) fn take(&self) -> Option<Box<dyn Any + Send>> {
        self.0.lock().take()
    }
}

impl std::fmt::Debug for DropPanic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DropPanic")
    }
}

/// A task's output as `async_task` stores it. Dropping it drops the value under
/// `catch_unwind`: `async_task` drops an output nobody claimed (a detached task) inside an
/// abort-on-panic guard.
pub(crate) struct TaskOutput<T>(Option<T>);

impl<T> TaskOutput<T> {
    /// The value, for the `JoinHandle` that claims it.
    pub(crate) fn into_inner(self) -> T {
        // Skips the (empty) `Drop`: this runs once per joined task.
        let mut this = ManuallyDrop::new(self);
        this.0.take().expect("a task output is taken once")
    }
}

impl<T> Drop for TaskOutput<T> {
    fn drop(&mut self) {
        if let Some(value) = self.0.take() {
            let _ = catch_unwind(AssertUnwindSafe(move || drop(value)));
        }
    }
}

/// What a task runs as: an async task, or a blocking-pool job (a `BlockingTask`), which
/// shutdown lets run if the pool keeps it (see `blocking::pool`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Async,
    Blocking,
}

/// Allocates a task for `future` on `scheduler`, registering it in `shard_hint`'s
/// shard.
///
/// Returns the first [`Runnable`] for the caller to schedule, or `None` if the runtime is
/// shutting down, in which case the future has already been dropped and the handle
/// resolves to a cancelled [`JoinError`].
#[track_caller]
pub(crate) fn create<S: Schedule, F>(
    scheduler: &Arc<S>,
    shard_hint: usize,
    future: F,
    location: &'static std::panic::Location<'static>,
    kind: Kind,
) -> (Option<Runnable>, JoinHandle<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    // SAFETY: `F` and its output are `Send`, so the task may be run, dropped and joined
    // anywhere.
    unsafe { create_unchecked(scheduler, shard_hint, future, location, kind) }
}

/// [`create`] for a `!Send` future of a [`LocalSet`] (`scheduler` is the set's); must be
/// called on the set's thread.
#[track_caller]
pub(crate) fn create_local<S: Schedule, F>(
    scheduler: &Arc<S>,
    future: F,
    location: &'static std::panic::Location<'static>,
) -> (Option<Runnable>, JoinHandle<F::Output>)
where
    F: Future + 'static,
    F::Output: 'static,
{
    // SAFETY: `ThreadBound` panics before touching `future` if the task is polled or
    // dropped on another thread, so `future` never leaves this thread. The output is made
    // here (the set runs its tasks on its own thread), and it is only moved elsewhere by
    // the `JoinHandle`, which is `Send` only if the output is.
    unsafe {
        create_unchecked(
            scheduler,
            0,
            thread_bound::ThreadBound::new(future),
            location,
            Kind::Async,
        )
    }
}

/// The body of [`create`] and [`create_local`].
///
/// # Safety
///
/// Either `F` and `F::Output` are `Send`, or `F` is only polled and dropped on the calling
/// thread and `F::Output` only leaves it through the `JoinHandle` (which is `Send` only
/// for a `Send` output).
#[track_caller]
unsafe fn create_unchecked<S: Schedule, F>(
    scheduler: &Arc<S>,
    shard_hint: usize,
    future: F,
    location: &'static std::panic::Location<'static>,
    kind: Kind,
) -> (Option<Runnable>, JoinHandle<F::Output>)
where
    F: Future + 'static,
    F::Output: 'static,
{
    let registry = scheduler.registry();
    let (shard, mut guard) = registry.lock(shard_hint);
    // Refused from the moment shutdown begins (the flag is raised before the registry is
    // closed, and a future dropped meanwhile may spawn).
    if guard.closed || scheduler.is_shutting_down() {
        drop(guard);
        drop(future);
        return (None, JoinHandle::cancelled());
    }
    let slot = guard.tasks.vacant_entry();
    let header = Header {
        scheduler: scheduler.clone(),
        aborted: AtomicBool::new(false),
        blocking: kind == Kind::Blocking,
        shard,
        key: slot.key(),
        id: Id::next(),
        location,
        name: name::take_name(),
        stats: stats::TaskStats::default(),
        drop_panic: DropPanic::default(),
    };
    // SAFETY: `spawn_unchecked` lifts three requirements of `spawn`:
    // - `Send`: `F` is `Send`, or confined to this thread (the caller's contract), and
    //   `TaskFuture` adds only a `&Header`, which is `Sync`; the schedule function is a
    //   plain `fn`.
    // - `'static`: the only borrow in the future is of the task's own metadata, which
    //   `async_task` documents as allowed: it lives as long as the task allocation, which
    //   outlives the future stored inside it.
    let (runnable, task) = unsafe {
        async_task::Builder::new().metadata(header).spawn_unchecked(
            move |header| TaskFuture::<F, S>::new(header, future),
            WithInfo(schedule::<S>),
        )
    };
    slot.insert(registry::Entry {
        waker: runnable.waker(),
        header: std::ptr::from_ref(runnable.metadata()) as usize,
    });
    drop(guard);
    runnable.metadata().stats.scheduled();
    crate::trace::task_spawned(
        runnable.metadata().id.as_u64(),
        runnable.metadata().location,
    );
    (Some(runnable), JoinHandle::new(task))
}

/// The schedule function of every task of an `S`: hands the runnable back to it. A plain
/// `fn` item (no captures), so `async_task` neither stores it nor guards its calls, and
/// `S::schedule` is a static call.
fn schedule<S: Schedule>(runnable: Runnable, info: ScheduleInfo) {
    runnable.metadata().stats.scheduled();
    S::schedule(runnable, info.woken_while_running);
}

/// The future stored in a task: the user's future plus panic capture, abort and registry
/// bookkeeping.
///
/// # Invariants
/// `header` is the metadata of the very task this future is stored in; `future` is pinned
/// (this struct is only ever polled through `Pin`) and dropped exactly once, in place, by
/// [`drop_future`](Self::drop_future), which `dropped` records; it is never polled after.
/// `header.scheduler` is an `S` (made from the `Arc<S>` given to [`create_unchecked`], and
/// never replaced), so the per-poll shutdown check is a static call.
struct TaskFuture<'a, F: Future, S: Schedule> {
    header: &'a Header,
    future: ManuallyDrop<F>,
    dropped: bool,
    _scheduler: PhantomData<fn() -> S>,
}

impl<'a, F: Future, S: Schedule> TaskFuture<'a, F, S> {
    fn new(header: &'a Header, future: F) -> Self {
        Self {
            header,
            future: ManuallyDrop::new(future),
            dropped: false,
            _scheduler: PhantomData,
        }
    }

    /// The task's scheduler, as the `S` it is.
    #[inline]
    fn scheduler(&self) -> &'a S {
        let scheduler: *const dyn Schedule = Arc::as_ptr(&self.header.scheduler);
        // SAFETY: the header's scheduler is an `S` (the invariant above), so its data
        // pointer is an `S`'s; the header owns an `Arc` of it for `'a`.
        unsafe { &*scheduler.cast::<S>() }
    }

    /// Drops the user's future in place (once), returning the payload if its destructor
    /// panicked.
    fn drop_future(self: Pin<&mut Self>) -> Option<Box<dyn Any + Send>> {
        // SAFETY: dropping in place does not move the future out of its pinned place, and
        // `dropped` makes sure it is dropped once and never polled after (see invariants).
        let this = unsafe { self.get_unchecked_mut() };
        if std::mem::replace(&mut this.dropped, true) {
            return None;
        }
        // SAFETY: as above; `future` is not used again.
        catch_unwind(AssertUnwindSafe(|| unsafe {
            ManuallyDrop::drop(&mut this.future)
        }))
        .err()
    }
}

impl<F: Future, S: Schedule> Future for TaskFuture<'_, F, S> {
    type Output = TaskOutput<Result<F::Output, JoinError>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let id = self.header.id;
        // Once shutdown has begun a task is dropped, not polled: shutdown's registry drain
        // wakes every task, but a wake of a task already queued is absorbed, and a poll
        // after it would leave the task idle where no drain will find it again. (The
        // task's state transition into this poll is ordered after that wake, which was
        // ordered after the flag was raised, so this load sees the flag.) A blocking job
        // is the exception: it is never woken, and the pool keeps or drops it itself.
        let header = self.header;
        if header.aborted.load(Ordering::Acquire)
            || (!header.blocking && self.scheduler().is_shutting_down())
        {
            let result = match self.as_mut().drop_future() {
                Some(payload) => Err(JoinError::panic(id, payload)),
                None => Err(JoinError::cancelled(id)),
            };
            return Poll::Ready(TaskOutput(Some(result)));
        }
        header.stats.poll_started();
        let polled = {
            let _current = id.enter();
            let _span = crate::trace::poll(id.as_u64(), self.header.location);
            // SAFETY: `future` is structurally pinned: it is never moved out of `self`
            // (only dropped in place), so pinning `self` pins it; it is not dropped yet,
            // since a dropped task completes and is never polled again.
            let this = unsafe { self.as_mut().get_unchecked_mut() };
            // One `catch_unwind` for the poll and, once it is ready, the future's drop (a
            // panic in either is the task's result).
            catch_unwind(AssertUnwindSafe(|| {
                // A poll that panics drops the future *during* the unwind (its `Drop` sees
                // `std::thread::panicking()`, as tokio's tasks do), through this guard.
                let this: *mut TaskFuture<'_, F, S> = this;
                let unwinding = DropOnUnwind(this);
                // SAFETY: as above; `this` is the exclusive borrow of the pinned task future,
                // used by nothing else while the poll runs.
                let future = unsafe { Pin::new_unchecked(&mut *(*this).future) };
                let poll = future.poll(cx);
                std::mem::forget(unwinding);
                // SAFETY: the guard is forgotten; `this` is again the only use of the borrow.
                let this = unsafe { &mut *this };
                if poll.is_ready() {
                    // Marked first: a destructor that panics is not run twice.
                    this.dropped = true;
                    // SAFETY: dropped in place, once (`dropped`), never used again.
                    unsafe { ManuallyDrop::drop(&mut this.future) };
                }
                poll
            }))
        };
        // Also after a panic: `catch_unwind` above caught it. (A plain call, not a drop
        // guard: the guard's landing pad cost about 6 instructions per poll.)
        header.stats.poll_ended();
        let result = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(output)) => Ok(output),
            Err(payload) => {
                // The future was dropped during the unwind (by `DropOnUnwind`; a second
                // panic from its destructor was dropped: the first is the task's result),
                // or, for a panic from the destructor of a ready future, before it.
                Err(JoinError::panic(id, payload))
            }
        };
        Poll::Ready(TaskOutput(Some(result)))
    }
}

/// Drops the future of the task it guards if the poll unwinds past it; forgotten when the
/// poll returns.
///
/// # Invariant
/// The pointer is the exclusive borrow of a pinned, live `TaskFuture` for the guard's life.
struct DropOnUnwind<'h, F: Future, S: Schedule>(*mut TaskFuture<'h, F, S>);

impl<F: Future, S: Schedule> Drop for DropOnUnwind<'_, F, S> {
    fn drop(&mut self) {
        // Only reached while unwinding from the poll. A panic of the destructor now is
        // caught inside (a panic escaping a destructor during an unwind would abort the
        // process) and dropped: the poll's panic is the task's result.
        // SAFETY: the pointer is the exclusive borrow of the pinned task future (the
        // invariant; the poll that used it has unwound), and `drop_future` drops the
        // user's future in place, once.
        let this = unsafe { Pin::new_unchecked(&mut *self.0) };
        drop(this.drop_future());
    }
}

impl<F: Future, S: Schedule> Drop for TaskFuture<'_, F, S> {
    fn drop(&mut self) {
        // A panicking destructor must not skip deregistration.
        struct Deregister<'h, S: Schedule>(&'h Header, &'h S);
        impl<S: Schedule> Drop for Deregister<'_, S> {
            fn drop(&mut self) {
                self.1.registry().remove(self.0.shard, self.0.key);
            }
        }
        let _deregister = Deregister(self.header, self.scheduler());
        // SAFETY: `self` is being dropped, so it is never used (or moved) after this: it is
        // as pinned as it was.
        let this = unsafe { Pin::new_unchecked(self) };
        let header = this.header;
        if let Some(payload) = this.drop_future() {
            header.drop_panic.set(payload);
        }
    }
}
