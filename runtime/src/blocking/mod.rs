//! The blocking pool: threads for work that blocks (file system calls, CPU-heavy loops,
//! synchronous libraries), so that it never stalls a worker. asyncio calls this
//! `to_thread`; in filch it is [`crate::task::spawn_blocking`].
//!
//! # A blocking task is a task
//!
//! [`spawn`](pool::BlockingPool::spawn) wraps the closure in a [`BlockingTask`], a future
//! that runs the closure on its first poll and is always `Ready`, and allocates an ordinary
//! filch task for it with [`task::create`](crate::task). The task is registered in the
//! runtime's registry and has a [`JoinHandle`] like any other; the only difference is where
//! its [`Runnable`](crate::task) goes: into the pool's queue instead of a run queue. That
//! buys, for free:
//!
//! * **panics** are caught by the task harness and surface as [`JoinError::is_panic`];
//! * **abort** before the closure starts completes the task as cancelled without calling
//!   it (the harness checks the abort flag before polling); once the closure runs, abort
//!   has no effect, since a closure cannot be interrupted;
//! * **shutdown**: a runnable dropped from the queue drops the closure, and its
//!   `JoinHandle` resolves to a cancelled `JoinError`. (A blocking task is created by
//!   [`task::create`](crate::task) as a `Kind::Blocking` task, which exempts it from the
//!   harness's "no poll after shutdown" rule: the pool decides which queued jobs still
//!   run.)
//!
//! Since `BlockingTask::poll` never returns `Pending`, the task's schedule function (which
//! would send it to the async scheduler) is never called: the only runnable of a blocking
//! task is the first one, and the pool owns it. A wake while the closure runs (from an
//! abort) only marks the task, which then completes.
//!
//! # Threads
//!
//! See [`pool`] for the queue, the growth and keep-alive rules and the shutdown protocol.
//! Pool threads enter the runtime's context with
//! [`set_current`](crate::runtime::context) (so [`Handle::current`](crate::runtime::Handle)
//! and [`filch::spawn`](crate::spawn) work in the closure) but do not mark themselves as
//! driving tasks: a blocking closure may call
//! [`Handle::block_on`](crate::runtime::Handle::block_on).
//!
//! [`JoinHandle`]: crate::task::JoinHandle
//! [`JoinError::is_panic`]: crate::task::JoinError::is_panic
pub(crate) mod pool;

pub(crate) use pool::{BlockingPool, Config, EnterContext};

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The future of a blocking task: runs the closure on its first (and only) poll.
///
/// It never returns `Pending`, so it never looks at the cooperative budget either (pool
/// threads run it without one; see [`pool`]).
pub(crate) struct BlockingTask<F>(Option<F>);

impl<F> BlockingTask<F> {
    pub(crate) fn new(f: F) -> Self {
        Self(Some(f))
    }
}

// The closure is never pinned: it is moved out before it is called.
impl<F> Unpin for BlockingTask<F> {}

impl<F, R> Future for BlockingTask<F>
where
    F: FnOnce() -> R,
{
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let f = self
            .0
            .take()
            .expect("a blocking task is polled once: it is always Ready");
        Poll::Ready(f())
    }
}
