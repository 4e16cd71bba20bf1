//! The ways to start work on the runtime this thread is in: [`spawn`], [`spawn_blocking`],
//! [`block_in_place`], the named-task [`Builder`] and the [`JoinSet`]. Public as
//! `filch::task::*` (and `filch::spawn`); they live here, above the schedulers, because
//! each one first finds the current runtime through [`context`](super::context).
mod block_in_place;
mod builder;
mod join_set;

pub use block_in_place::block_in_place;
pub use builder::Builder;
pub use join_set::JoinSet;

use crate::task::JoinHandle;
use std::future::Future;

/// Spawns a future onto the current runtime, returning a [`JoinHandle`] for its output.
///
/// The task starts running at once on some worker; awaiting the handle is not needed for
/// it to make progress. Dropping the handle detaches the task.
///
/// # Panics
///
/// Panics if called outside a filch runtime (no runtime entered on this thread).
///
/// # Examples
///
/// ```
/// let rt = filch::runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let handle = filch::spawn(async { 6 * 7 });
///     assert_eq!(handle.await.unwrap(), 42);
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let location = std::panic::Location::caller();
    // The panic is outside the closure, so that it names the caller.
    match super::context::with_current(|handle| {
        handle.map(|handle| handle.inner.spawn(future, location))
    }) {
        Some(join) => join,
        None => panic!(
            "`filch::spawn` called outside a runtime; use `#[filch::main]`, \
             `Runtime::block_on`, or spawn through a `Handle` (`Runtime::handle`)"
        ),
    }
}

/// Runs `f` on the current runtime's blocking pool and returns a [`JoinHandle`] for its
/// result: asyncio's `to_thread`.
///
/// Use it for work that would hold a worker thread for long: blocking system calls,
/// synchronous libraries, heavy computation. The pool starts threads on demand, up to
/// [`Builder::max_blocking_threads`](crate::runtime::Builder::max_blocking_threads); past
/// that, jobs queue. A panic in `f` is caught and reported as a
/// [`JoinError`](crate::task::JoinError) whose `is_panic()` is true.
///
/// [`abort`](JoinHandle::abort) cancels a job that has not started yet; one that is running
/// runs to the end. When the runtime shuts down, a running job runs to its end and so does
/// one a pool thread was already on its way to (any job spawned while the pool was below
/// its thread cap), and their handles get their values; jobs queued behind busy threads at
/// the cap are dropped, and their handles resolve to a cancelled error. Dropping the
/// runtime waits for the jobs that run; `shutdown_timeout` waits until its deadline.
///
/// # Panics
///
/// Panics if called outside a filch runtime (use
/// [`Handle::spawn_blocking`](crate::runtime::Handle::spawn_blocking) from other threads),
/// or if the pool has no thread and the OS refuses to start one.
///
/// # Examples
///
/// ```
/// let rt = filch::runtime::Runtime::new().unwrap();
/// let sum = rt.block_on(async {
///     filch::task::spawn_blocking(|| (1..=10u64).sum::<u64>()).await.unwrap()
/// });
/// assert_eq!(sum, 55);
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let location = std::panic::Location::caller();
    // The panic is outside the closure, so that it names the caller.
    match super::context::with_current(|handle| {
        handle.map(|handle| handle.spawn_blocking_at(f, location))
    }) {
        Some(join) => join,
        None => panic!(
            "`filch::task::spawn_blocking` called outside a runtime; call it from a task, \
             `Runtime::block_on` or `#[filch::main]`, or use `Handle::spawn_blocking` \
             (`Runtime::handle`) from other threads"
        ),
    }
}
