//! [`block_in_place`]: run blocking code on a worker without starving the runtime.
use crate::runtime::context;
use crate::scheduler::{self, multi_thread};

/// Runs `f`, which may block, on the current thread, first moving this worker's queues to
/// a new thread so the runtime keeps all its workers while `f` runs.
///
/// This is for blocking work that needs to borrow from the current task (which
/// [`spawn_blocking`](crate::task::spawn_blocking) cannot, since its closure is `'static`). The
/// calling task itself does not run anything else until `f` returns; other tasks continue
/// on the new worker thread. Once the current task's poll ends, this thread leaves the
/// runtime. Outside a runtime (or on a blocking-pool thread) `f` simply runs.
///
/// `f` runs outside the runtime's driving context, so it may block on a future through the
/// runtime's handle (`Handle::current().block_on(fut)`), the usual way to call async code
/// from a synchronous callback. If the runtime shuts down while `f` runs, `f` is not
/// interrupted: shutdown drops every other task meanwhile, and the calling task once its
/// poll ends (see [the shutdown order](crate::runtime#shutdown)).
///
/// A worker with live [pinned tasks](crate::task::spawn_local) cannot move to another thread
/// (they may only run on this one), so there `f` runs in place: the worker's queued tasks
/// go to the other workers meanwhile, its pinned tasks wait for `f`, and a long `f`
/// counts as a [stall](crate::runtime::Builder::on_stall) of that worker.
///
/// # Panics
///
/// Panics when called from a current-thread runtime: its one thread would block every
/// task. Use `spawn_blocking` there.
///
/// # Examples
///
/// ```
/// let rt = filch::runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let data = vec![1u64; 1 << 16];
///     let task = filch::spawn(async move {
///         // Borrows `data`: spawn_blocking could not.
///         filch::task::block_in_place(|| data.iter().sum::<u64>())
///     });
///     assert_eq!(task.await.unwrap(), 1 << 16);
/// });
/// ```
#[track_caller]
pub fn block_in_place<F, R>(f: F) -> R
where
    F: FnOnce() -> R,
{
    let hand_off = multi_thread::hand_off_core();
    if hand_off.is_none() && context::is_driving() {
        let current_thread = context::with_current(|handle| {
            matches!(
                handle.map(|h| &h.inner),
                Some(scheduler::Handle::CurrentThread(_))
            )
        });
        assert!(
            !current_thread,
            "`block_in_place` called on a current-thread runtime, whose only thread would \
             block every task; use `filch::task::spawn_blocking`, or a multi-thread runtime"
        );
    }
    // This thread drives no tasks while `f` runs (its core, if it had one, is gone), so
    // `f` may block on futures: `Handle::current().block_on(..)` works in here.
    let _not_driving = context::leave_driving();
    let _hand_off = hand_off;
    f()
}
