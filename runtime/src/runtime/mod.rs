//! The runtime: [`Runtime`], its [`Builder`] and [`Handle`].
//!
//! A runtime owns a scheduler (multi-thread or current-thread) and, for the multi-thread
//! flavor, its worker threads. It is the thing `#[filch::main]` builds: asyncio's event
//! loop, on every core.
pub(crate) mod builder;
pub(crate) mod context;
mod handle;
mod metrics;
pub(crate) mod park_thread;

pub use builder::Builder;
pub use handle::{EnterGuard, Handle, TryCurrentError};
pub use metrics::{RuntimeMetrics, WorkerMetrics};

use crate::scheduler;
use crate::task::JoinHandle;
use std::fmt;
use std::future::Future;
use std::io;
use std::time::{Duration, Instant};

/// An async runtime: a scheduler, its worker threads, and every task spawned on it.
///
/// Dropping a `Runtime` stops its workers (each finishes the poll it is in), then drops the
/// future of every task still alive, whether queued or waiting; their `JoinHandle`s resolve
/// to a cancelled [`JoinError`](crate::task::JoinError).
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

    /// Shuts the runtime down, waiting at most `timeout` for the workers to stop.
    ///
    /// Workers stop after the poll they are in; a task that blocks its thread (instead of
    /// awaiting) can hold one up. If every worker stops in time, every task's future is
    /// dropped before this returns. If not, the late threads are left to finish on their
    /// own and the tasks still queued are dropped with them, not here.
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

    /// Shuts the runtime down without waiting for the workers; see
    /// [`shutdown_timeout`](Self::shutdown_timeout).
    pub fn shutdown_background(self) {
        self.shutdown_timeout(Duration::ZERO);
    }

    fn shutdown(&mut self, timeout: Option<Duration>) {
        if std::mem::replace(&mut self.shut_down, true) {
            return;
        }
        let started = Instant::now();
        // Waiting for the workers from one of them would wait for ourselves.
        let timeout = if context::is_driving() {
            Some(Duration::ZERO)
        } else {
            timeout
        };
        match &self.handle.inner {
            scheduler::Handle::CurrentThread(shared) => shared.shutdown(),
            scheduler::Handle::MultiThread(shared) => {
                shared.shutdown(std::mem::take(&mut self.threads), timeout);
            }
            scheduler::Handle::Local(_) => unreachable!("a `Runtime` never runs a `LocalSet`"),
        }
        // After the scheduler: no task can spawn blocking work any more. Running jobs get
        // what is left of the timeout.
        let left = timeout.map(|t| t.saturating_sub(started.elapsed()));
        self.handle.blocking.shutdown(left);
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
