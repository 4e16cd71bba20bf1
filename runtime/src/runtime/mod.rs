//! The runtime: [`Runtime`], its [`Builder`] and [`Handle`].
//!
//! A runtime owns a scheduler (multi-thread or current-thread) and, for the multi-thread
//! flavor, its worker threads. It is the thing `#[filch::main]` builds: asyncio's event
//! loop, on every core.
//!
//! # Shutdown
//!
//! A runtime shuts down when it is dropped, or through [`Runtime::shutdown_timeout`] or
//! [`Runtime::shutdown_background`]. Every path goes through the same steps, in this order
//! (`tests/rt_shutdown_paths.rs`, `tests/rt_shutdown.rs` and `tests/misuse.rs` assert each):
//!
//! 1. **No new work is accepted.** From the moment shutdown begins, a spawn (through
//!    `filch::spawn`, a [`Handle`], a `JoinSet`, or `spawn_blocking`) drops its future or
//!    closure at once and returns a `JoinHandle` that resolves to a cancelled
//!    [`JoinError`](crate::task::JoinError).
//! 2. **Every task that is not in a poll is dropped at once**, on the thread that shuts
//!    down, before anything waits: tasks waiting on sockets, timers or channels, and tasks
//!    in the run queues. No task is polled again once shutdown has begun: a task woken
//!    meanwhile is dropped instead. Their `JoinHandle`s resolve to a cancelled error (a
//!    panic, if the future's destructor panicked).
//! 3. **A task in the middle of a poll** is not interrupted: it is dropped by the worker
//!    running it, as soon as that poll returns. A `block_in_place` closure is not
//!    interrupted either; its task is dropped when the closure and the rest of that poll
//!    return. Because the idle tasks are already gone (step 2), a closure waiting on one of
//!    them (a channel whose sender it held) is not left waiting.
//! 4. **Blocking jobs**: a running `spawn_blocking` job runs to its end, and so does one
//!    that a pool thread was already on its way to (every job spawned while the pool was
//!    below [`max_blocking_threads`](Builder::max_blocking_threads), however soon the
//!    shutdown follows); their `JoinHandle`s get their values. Jobs queued behind busy
//!    threads at the cap are dropped (cancelled).
//! 5. **Waiting.** Dropping the runtime waits for every worker, every `block_in_place`
//!    thread and every running blocking job. [`Runtime::shutdown_timeout`] waits for them
//!    until its deadline and then returns: the late threads finish on their own, each
//!    dropping the tasks it still holds when its poll returns, and the runtime's resources
//!    (threads, the OS poller) are released when the last of them ends.
//!    [`Runtime::shutdown_background`] does not wait at all. Dropping a runtime *inside an
//!    asynchronous context* (a task, any `block_on`, or a `block_in_place` closure of its
//!    own tasks) behaves as `shutdown_background`:
//!    waiting there could deadlock the very thread that would have to finish, so it does
//!    not wait, but still drops every task as above.
//!    Wherever a future is dropped, its `Drop` runs inside the runtime's context:
//!    [`Handle::current`] works there (and spawning is refused, as in step 1).
//! 6. **Afterwards**, a [`Handle`] kept from the runtime still works, with these results:
//!    spawning returns a cancelled `JoinHandle`; `Handle::block_on` runs its future on the
//!    calling thread (nothing else runs); I/O objects created before fail every operation
//!    with an `io::Error` saying that their runtime has shut down, and creating new ones
//!    fails the same way; timers behave as [`crate::time`] documents for a shut-down
//!    runtime. Nothing hangs.
pub(crate) mod builder;
pub(crate) mod context;
mod dump;
mod handle;
mod metrics;
pub(crate) mod spawn;

pub use crate::scheduler::stall::Stall;
pub use builder::{Builder, MIN_THREAD_STACK_SIZE};
pub use dump::{Dump, TaskDump, TaskState};
pub use handle::{EnterGuard, Handle, TryCurrentError};
pub use metrics::{PollTimeHistogram, RuntimeMetrics, WorkerMetrics};

use crate::scheduler::{self, local_set::LocalSet};
use crate::task::JoinHandle;
use std::fmt;
use std::future::Future;
use std::io;
use std::time::{Duration, Instant};

/// An async runtime: a scheduler, its worker threads, and every task spawned on it.
///
/// Dropping a `Runtime` drops the future of every task still alive, whether queued or
/// waiting (their `JoinHandle`s resolve to a cancelled
/// [`JoinError`](crate::task::JoinError)), and waits for its workers, each of which
/// finishes the poll it is in. See [the shutdown order](self#shutdown) for the details,
/// and for what dropping a runtime inside a task does.
///
/// # Examples
///
/// ```
/// use filch::runtime::Runtime;
///
/// let rt = Runtime::new().unwrap();
/// let sum = rt.block_on(async {
///     let tasks: Vec<_> = (0..4u32).map(|i| filch::spawn(async move { i * 10 })).collect();
///     let mut sum = 0;
///     for task in tasks {
///         sum += task.await.unwrap();
///     }
///     sum
/// });
/// assert_eq!(sum, 60);
/// ```
pub struct Runtime {
    handle: Handle,
    /// Worker threads (multi-thread flavor); taken by the shutdown.
    threads: Vec<std::thread::JoinHandle<()>>,
    /// The stall detector's thread, if on; stopped by the shutdown.
    pub(crate) monitor: Option<crate::scheduler::stall::MonitorThread>,
    shut_down: bool,
}

impl Runtime {
    /// A multi-thread runtime with one worker per CPU (`Builder::new_multi_thread().build()`).
    ///
    /// # Errors
    ///
    /// Returns the OS error if a worker thread cannot be spawned.
    pub fn new() -> io::Result<Runtime> {
        Builder::new_multi_thread().build()
    }

    pub(crate) fn from_parts(handle: Handle, threads: Vec<std::thread::JoinHandle<()>>) -> Self {
        Self {
            handle,
            threads,
            monitor: None,
            shut_down: false,
        }
    }

    /// Runs `future` to completion on the current thread; see [`Handle::block_on`].
    ///
    /// # Panics
    ///
    /// Panics when called from a thread that already drives tasks (inside a task or another
    /// `block_on`): that would deadlock. Use `.await` there.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }

    /// Spawns `future` onto this runtime; see [`Handle::spawn`].
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs `f` on this runtime's blocking pool; see
    /// [`filch::task::spawn_blocking`](crate::task::spawn_blocking).
    ///
    /// # Panics
    ///
    /// Panics if the pool has no thread and the OS refuses to start one.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// let job = rt.spawn_blocking(|| std::env::temp_dir().exists());
    /// assert!(rt.block_on(job).unwrap());
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(f)
    }

    /// The runtime's handle, to spawn or block on it from other threads.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Enters the runtime's context on this thread; see [`Handle::enter`].
    pub fn enter(&self) -> EnterGuard<'_> {
        self.handle.enter()
    }

    /// Shuts the runtime down, waiting at most `timeout` for the workers and the running
    /// blocking jobs to stop.
    ///
    /// Every task not in a poll is dropped before this waits. Workers stop after the poll
    /// they are in; a task that blocks its thread (instead of awaiting) can hold one up
    /// past `timeout`: then this returns anyway, and the late worker drops the tasks it
    /// still holds when its poll ends. See [the shutdown order](self#shutdown).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// rt.spawn(std::future::pending::<()>());
    /// rt.shutdown_timeout(Duration::from_secs(1));
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.shutdown(Some(timeout));
    }

    /// Shuts the runtime down without waiting for the workers or blocking jobs; every
    /// task is still dropped, the ones in a poll when that poll ends. See
    /// [`shutdown_timeout`](Self::shutdown_timeout) and [the shutdown order](self#shutdown).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// rt.spawn(async { std::thread::sleep(std::time::Duration::from_millis(50)) });
    /// rt.shutdown_background(); // returns at once
    /// ```
    pub fn shutdown_background(self) {
        self.shutdown_timeout(Duration::ZERO);
    }

    fn shutdown(&mut self, timeout: Option<Duration>) {
        if std::mem::replace(&mut self.shut_down, true) {
            return;
        }
        let started = Instant::now();
        // Waiting for the workers from one of them would wait for ourselves; from any other
        // asynchronous context it could wait for work this thread's tasks hold up.
        let own_thread = match &self.handle.inner {
            scheduler::Handle::MultiThread(shared) => shared.is_own_thread(),
            scheduler::Handle::CurrentThread(_) => false,
        };
        // (A `block_in_place` closure drives no tasks, but its thread is one of the
        // runtime's, which a waiting shutdown would wait for.)
        let timeout = if context::is_driving() || own_thread {
            Some(Duration::ZERO)
        } else {
            timeout
        };
        // The futures dropped here may look up their runtime in their `Drop` (to spawn,
        // which is refused now, or for its timers and I/O): they find this one.
        let _context = context::set_current(&self.handle);
        match &self.handle.inner {
            scheduler::Handle::CurrentThread(shared) => shared.shutdown(),
            scheduler::Handle::MultiThread(shared) => {
                shared.shutdown(std::mem::take(&mut self.threads), timeout);
            }
        }
        // After the scheduler: no task can spawn blocking work any more. Running jobs get
        // what is left of the timeout.
        let left = timeout.map(|t| t.saturating_sub(started.elapsed()));
        self.handle.blocking.shutdown(left);
        drop(self.monitor.take());
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}

/// [`LocalSet::block_on`] is defined here, beside [`Runtime`], which it takes: the set
/// itself is a scheduler (`scheduler/local_set.rs`), a layer below the runtime.
impl LocalSet {
    /// Runs `future` to completion on `rt`, driving the set's tasks on this thread:
    /// `rt.block_on(self.run_until(future))`.
    ///
    /// # Panics
    ///
    /// Panics where [`Runtime::block_on`](crate::runtime::Runtime::block_on) does: when
    /// called from a thread that already drives tasks.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::task::LocalSet;
    ///
    /// let rt = filch::runtime::Builder::new_current_thread().build().unwrap();
    /// let set = LocalSet::new();
    /// let text = set.block_on(&rt, async {
    ///     let local = std::rc::Rc::new("local");
    ///     filch::task::spawn_local(async move { local.len() }).await.unwrap()
    /// });
    /// assert_eq!(text, 5);
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, rt: &Runtime, future: F) -> F::Output {
        rt.block_on(self.run_until(future))
    }
}
