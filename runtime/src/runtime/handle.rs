//! [`Handle`]: a cloneable reference to a runtime, usable from any thread.
use super::context;
use crate::blocking::BlockingPool;
use crate::scheduler;
use crate::task::JoinHandle;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

/// A reference to a runtime: spawn onto it or block on it from any thread, including
/// threads the runtime does not own.
///
/// # Examples
///
/// ```
/// let rt = filch::runtime::Runtime::new().unwrap();
/// let handle = rt.handle().clone();
/// let answer = std::thread::spawn(move || {
///     let task = handle.spawn(async { 40 + 2 });
///     handle.block_on(task).unwrap()
/// })
/// .join()
/// .unwrap();
/// assert_eq!(answer, 42);
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) inner: scheduler::Handle,
    /// The runtime's blocking pool (shut down by the runtime after the scheduler).
    pub(crate) blocking: Arc<BlockingPool>,
    /// The runtime's stall detector, if on (for its metrics).
    pub(crate) stall: Option<Arc<scheduler::stall::StallMonitor>>,
}

impl Handle {
    pub(crate) fn from_scheduler(
        inner: scheduler::Handle,
        blocking: Arc<BlockingPool>,
        stall: Option<Arc<scheduler::stall::StallMonitor>>,
    ) -> Self {
        Self {
            inner,
            blocking,
            stall,
        }
    }

    /// The handle of the runtime this thread is in (inside a task, `block_on` or after
    /// [`enter`](Self::enter)).
    ///
    /// # Panics
    ///
    /// Panics if no runtime is entered on this thread; use
    /// [`try_current`](Self::try_current) to get an error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let handle = filch::runtime::Handle::current();
    ///     handle.spawn(async {}).await.unwrap();
    /// });
    /// ```
    #[track_caller]
    pub fn current() -> Handle {
        match Self::try_current() {
            Ok(handle) => handle,
            Err(err) => panic!("{err}"),
        }
    }

    /// The handle of the runtime this thread is in, or an error outside any runtime.
    ///
    /// # Errors
    ///
    /// Returns [`TryCurrentError`] when no runtime is entered on this thread.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(filch::runtime::Handle::try_current().is_err());
    /// ```
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        context::with_current(|handle| handle.cloned()).ok_or(TryCurrentError { _private: () })
    }

    /// Spawns `future` onto this runtime; callable from any thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// let task = rt.handle().spawn(async { 5 });
    /// assert_eq!(rt.block_on(task).unwrap(), 5);
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.spawn(future, std::panic::Location::caller())
    }

    /// Runs `f` on this runtime's blocking pool; callable from any thread. See
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
    /// let handle = rt.handle().clone();
    /// let job = std::thread::spawn(move || handle.spawn_blocking(|| 6 * 7))
    ///     .join()
    ///     .unwrap();
    /// assert_eq!(rt.block_on(job).unwrap(), 42);
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.spawn_blocking_at(f, std::panic::Location::caller())
    }

    /// [`spawn_blocking`](Self::spawn_blocking), recording `location` as where the job was
    /// spawned (for `filch::task::spawn_blocking`, whose caller a closure would hide).
    #[track_caller]
    pub(crate) fn spawn_blocking_at<F, R>(
        &self,
        f: F,
        location: &'static std::panic::Location<'static>,
    ) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let context = || -> crate::blocking::EnterContext {
            let handle = self.clone();
            Box::new(move || Box::new(context::set_current(&handle)))
        };
        self.blocking.spawn(&self.inner, context, f, location)
    }

    /// Runs `future` to completion on the current thread, with this runtime entered.
    ///
    /// On a multi-thread runtime the workers keep running tasks while this thread waits;
    /// on a current-thread runtime this thread runs them.
    ///
    /// # Panics
    ///
    /// Panics when called from a thread that already drives tasks (a worker, or inside
    /// another `block_on`): blocking it would deadlock them. Use `.await` there.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// assert_eq!(rt.handle().block_on(async { 7 }), 7);
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _runtime = context::enter_runtime(self);
        self.inner.block_on(future)
    }

    /// Enters this runtime's context on the current thread until the guard drops, so that
    /// [`filch::spawn`](crate::spawn) and [`Handle::current`] work here.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// let _guard = rt.handle().enter();
    /// let task = filch::spawn(async { 1 });
    /// drop(_guard);
    /// assert_eq!(rt.block_on(task).unwrap(), 1);
    /// ```
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard {
            _guard: context::set_current(self),
            _handle: PhantomData,
        }
    }

    /// Number of worker threads (1 for the current-thread flavor).
    pub fn num_workers(&self) -> usize {
        self.inner.num_workers()
    }

    /// A snapshot of every live task: id, name, spawn location, state (idle, scheduled,
    /// running and on which worker, blocking), number of polls, and the time since its
    /// last poll and wake — asyncio's `all_tasks()`, with what each task is doing. Taken
    /// on the thread that drives a `LocalSet`, it includes the set's tasks. `Display`
    /// prints it as a table.
    ///
    /// Cheap to have and to take: tasks record their state with a few relaxed stores per
    /// poll, and the dump locks each shard of the task registry once, briefly.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::runtime::{Handle, TaskState};
    ///
    /// # #[filch::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (_tx, rx) = filch::sync::oneshot::channel::<()>();
    /// filch::task::Builder::new().name("waiter").spawn(async move { rx.await.ok(); }).unwrap();
    /// filch::task::yield_now().await; // let it run once
    /// let dump = Handle::current().dump();
    /// let waiter = dump.tasks().iter().find(|t| t.name() == Some("waiter")).unwrap();
    /// assert_eq!((waiter.state(), waiter.polls()), (TaskState::Idle, 1));
    /// println!("{dump}");
    /// # }
    /// ```
    pub fn dump(&self) -> super::Dump {
        let registry = self.inner.registry();
        let pinned = self.pinned_sets();
        crate::scheduler::local_set::with_current_registry(|local| {
            // The set driven here may be one of the workers' own (this is a worker).
            let local = local.filter(|local| {
                !std::ptr::eq(*local, registry)
                    && !pinned.iter().any(|set| std::ptr::eq(&set.registry, *local))
            });
            let locals = pinned.iter().map(|set| &set.registry).chain(local);
            super::Dump::collect(
                std::iter::once((registry, false)).chain(locals.map(|l| (l, true))),
            )
        })
    }

    /// The sets of `spawn_local` tasks pinned to the workers of a multi-thread runtime.
    fn pinned_sets(&self) -> Vec<std::sync::Arc<crate::scheduler::local_set::Shared>> {
        match &self.inner {
            crate::scheduler::Handle::MultiThread(shared) => shared.pinned_sets(),
            _ => Vec::new(),
        }
    }

    /// Number of tasks alive on this runtime (spawned and not yet finished or dropped),
    /// including the tasks `spawn_local` pinned to its workers.
    pub fn num_alive_tasks(&self) -> usize {
        let pinned: usize = self.pinned_sets().iter().map(|s| s.registry.len()).sum();
        self.inner.registry().len() + pinned
    }

    /// Number of blocking-pool threads alive, busy or idle (see
    /// [`Builder::thread_keep_alive`](super::Builder::thread_keep_alive)).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// assert_eq!(rt.handle().num_blocking_threads(), 0);
    /// rt.block_on(rt.spawn_blocking(|| ())).unwrap();
    /// assert_eq!(rt.handle().num_blocking_threads(), 1);
    /// ```
    pub fn num_blocking_threads(&self) -> usize {
        self.blocking.num_threads()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("workers", &self.num_workers())
            .finish_non_exhaustive()
    }
}

/// Keeps a runtime entered on the current thread; see [`Handle::enter`].
#[derive(Debug)]
#[must_use = "the runtime is only entered while the guard is alive"]
pub struct EnterGuard<'a> {
    _guard: context::SetCurrentGuard,
    _handle: PhantomData<&'a Handle>,
}

/// The error of [`Handle::try_current`]: no runtime is entered on this thread.
#[derive(Debug)]
pub struct TryCurrentError {
    _private: (),
}

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "there is no filch runtime on this thread: call this from inside a task or \
             `Runtime::block_on`, after `Runtime::enter()`, or in a function marked \
             `#[filch::main]`",
        )
    }
}

impl std::error::Error for TryCurrentError {}
