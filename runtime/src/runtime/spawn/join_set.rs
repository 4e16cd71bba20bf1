//! [`JoinSet`]: a set of spawned tasks, joined in the order they finish.
use crate::runtime::Handle;
use crate::scheduler::local_set::{spawn_local, LocalSet};
use crate::task::{AbortHandle, Id, JoinError, JoinHandle};
use futures_util::stream::{FuturesUnordered, StreamExt};
use std::fmt;
use std::future::Future;

/// A collection of tasks spawned on a runtime, awaited in completion order.
///
/// This is asyncio's `gather`/`as_completed` for a dynamic number of tasks. Each
/// completion costs O(1): a finished task wakes only its own slot. Dropping the set
/// aborts every task still in it.
///
/// # Examples
///
/// ```
/// use filch::task::JoinSet;
///
/// let rt = filch::runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let mut set = JoinSet::new();
///     for i in 0..10u64 {
///         set.spawn(async move { i * i });
///     }
///     let mut sum = 0;
///     while let Some(result) = set.join_next().await {
///         sum += result.unwrap();
///     }
///     assert_eq!(sum, 285);
/// });
/// ```
pub struct JoinSet<T> {
    tasks: FuturesUnordered<Tagged<T>>,
}

impl<T> JoinSet<T> {
    /// Creates an empty set.
    pub fn new() -> Self {
        Self {
            tasks: FuturesUnordered::new(),
        }
    }

    /// Number of tasks in the set (running, or finished but not yet joined).
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Returns `true` if the set holds no task.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Aborts every task in the set. They stay in the set: [`join_next`](Self::join_next)
    /// returns their (mostly cancelled) results.
    pub fn abort_all(&mut self) {
        for task in self.tasks.iter() {
            task.0.abort();
        }
    }

    /// Removes every task from the set without aborting them: they keep running detached.
    pub fn detach_all(&mut self) {
        self.tasks = FuturesUnordered::new();
    }

    fn insert(&mut self, join: JoinHandle<T>) -> AbortHandle {
        let abort = join.abort_handle();
        self.tasks.push(Tagged(join));
        abort
    }
}

impl<T: Send + 'static> JoinSet<T> {
    /// Spawns `future` on the current runtime and adds it to the set.
    ///
    /// # Panics
    ///
    /// Panics if called outside a filch runtime; use [`spawn_on`](Self::spawn_on) with a
    /// [`Handle`] from anywhere else.
    ///
    /// Returns an [`AbortHandle`] for the task (ignore it if you do not need one).
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::task::JoinSet;
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let mut set = JoinSet::new();
    ///     let slow = set.spawn(std::future::pending::<u8>());
    ///     set.spawn(async { 7 });
    ///     slow.abort();
    ///     let (mut values, mut cancelled) = (Vec::new(), 0);
    ///     while let Some(result) = set.join_next().await {
    ///         match result {
    ///             Ok(v) => values.push(v),
    ///             Err(e) if e.is_cancelled() => cancelled += 1,
    ///             Err(e) => panic!("{e}"),
    ///         }
    ///     }
    ///     assert_eq!((values, cancelled), (vec![7], 1));
    /// });
    /// ```
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(super::spawn(future))
    }

    /// Spawns `future` on the runtime behind `handle` and adds it to the set; returns an
    /// [`AbortHandle`] for it.
    #[track_caller]
    pub fn spawn_on<F>(&mut self, future: F, handle: &Handle) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(handle.spawn(future))
    }

    /// Runs the blocking closure `f` on the runtime's blocking pool (see
    /// [`spawn_blocking`](crate::task::spawn_blocking)) and adds it to the set.
    ///
    /// # Panics
    ///
    /// Panics if called outside a filch runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::task::JoinSet;
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let mut set = JoinSet::new();
    ///     set.spawn_blocking(|| std::fs::metadata(".").is_ok());
    ///     set.spawn(async { true });
    ///     while let Some(ok) = set.join_next().await {
    ///         assert!(ok.unwrap());
    ///     }
    /// });
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F>(&mut self, f: F) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
    {
        self.insert(super::spawn_blocking(f))
    }
}

/// Spawns each future on the current runtime into the set.
///
/// # Panics
///
/// Panics if called outside a filch runtime.
impl<T, F> Extend<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    #[track_caller]
    fn extend<I: IntoIterator<Item = F>>(&mut self, futures: I) {
        for future in futures {
            self.spawn(future);
        }
    }
}

/// Collects futures into a set, spawning each on the current runtime.
///
/// # Panics
///
/// Panics if called outside a filch runtime.
///
/// # Examples
///
/// ```
/// use filch::task::JoinSet;
/// let rt = filch::runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let mut set: JoinSet<usize> = ["a", "bb", "ccc"]
///         .into_iter()
///         .map(|s| async move { s.len() })
///         .collect();
///     set.extend([async { 10 }]);
///     let total: usize = set.join_all().await.into_iter().sum();
///     assert_eq!(total, 16);
/// });
/// ```
impl<T, F> FromIterator<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    #[track_caller]
    fn from_iter<I: IntoIterator<Item = F>>(futures: I) -> Self {
        let mut set = Self::new();
        set.extend(futures);
        set
    }
}

impl<T: 'static> JoinSet<T> {
    /// Waits for the next task to finish and returns its result; `None` when the set is
    /// empty.
    ///
    /// Cancel safe: if this future is dropped before it completes, no result is lost.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        let (_id, result) = self.tasks.next().await?;
        Some(result)
    }

    /// Returns the result of a task that has already finished, without waiting; `None` if
    /// none has (or the set is empty).
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::task::JoinSet;
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let mut set = JoinSet::new();
    ///     assert!(set.try_join_next().is_none());
    ///     set.spawn(async { 4 });
    ///     loop {
    ///         if let Some(result) = set.try_join_next() {
    ///             assert_eq!(result.unwrap(), 4);
    ///             break;
    ///         }
    ///         filch::task::yield_now().await;
    ///     }
    /// });
    /// ```
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        use futures_util::stream::Stream;
        let mut cx = std::task::Context::from_waker(futures_util::task::noop_waker_ref());
        match std::pin::Pin::new(&mut self.tasks).poll_next(&mut cx) {
            std::task::Poll::Ready(Some((_id, result))) => Some(result),
            std::task::Poll::Ready(None) | std::task::Poll::Pending => None,
        }
    }

    /// Aborts every task and waits for all of them to finish, discarding their results.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Like [`join_next`](Self::join_next), but also says which task finished: its
    /// [`Id`](crate::task::Id) comes with the output, or in the [`JoinError`] (see
    /// [`JoinError::id`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::task::JoinSet;
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let mut set = JoinSet::new();
    ///     set.spawn(async { 1 });
    ///     set.spawn(async { panic!("two") });
    ///     let mut ok = 0;
    ///     while let Some(result) = set.join_next_with_id().await {
    ///         match result {
    ///             Ok((_id, value)) => ok += value,
    ///             Err(err) => assert!(err.is_panic() && err.id().as_u64() > 0),
    ///         }
    ///     }
    ///     assert_eq!(ok, 1);
    /// });
    /// ```
    pub async fn join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        std::future::poll_fn(|cx| {
            use futures_util::stream::Stream;
            std::pin::Pin::new(&mut self.tasks)
                .poll_next(cx)
                .map(|next| next.map(|(id, result)| result.map(|value| (id, value))))
        })
        .await
    }

    /// Waits for every task and returns their outputs in completion order.
    ///
    /// # Panics
    ///
    /// If a task panicked, its panic resumes here; if one was cancelled (aborted, or its
    /// runtime shut down), this panics saying so. Either way the remaining tasks are
    /// aborted (the set is dropped). Use [`join_next`](Self::join_next) in a loop to handle
    /// failures one by one instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::task::JoinSet;
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// let mut squares = rt.block_on(async {
    ///     let set: JoinSet<u64> = (1..=4u64).map(|i| async move { i * i }).collect();
    ///     set.join_all().await
    /// });
    /// squares.sort_unstable();
    /// assert_eq!(squares, [1, 4, 9, 16]);
    /// ```
    pub async fn join_all(mut self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len());
        while let Some(result) = self.join_next().await {
            match result {
                Ok(value) => out.push(value),
                Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
                Err(err) => panic!("JoinSet::join_all: {err}"),
            }
        }
        out
    }

    /// Spawns the `!Send` future on the current [`LocalSet`](crate::task::LocalSet) (see
    /// [`spawn_local`](crate::task::spawn_local)) and adds it to the set; returns an
    /// [`AbortHandle`] for it.
    ///
    /// # Panics
    ///
    /// Panics if called outside a `LocalSet`.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::task::{JoinSet, LocalSet};
    /// use std::rc::Rc;
    /// let rt = filch::runtime::Builder::new_current_thread().build().unwrap();
    /// let local = LocalSet::new();
    /// let total = local.block_on(&rt, async {
    ///     let shared = Rc::new(5); // not `Send`
    ///     let mut set = JoinSet::new();
    ///     for i in 0..3 {
    ///         let shared = shared.clone();
    ///         set.spawn_local(async move { *shared + i });
    ///     }
    ///     set.join_all().await.into_iter().sum::<i32>()
    /// });
    /// assert_eq!(total, 18);
    /// ```
    #[track_caller]
    pub fn spawn_local<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(spawn_local(future))
    }

    /// Spawns the `!Send` future on `local` and adds it to the set; returns an
    /// [`AbortHandle`] for it. Works from anywhere on `local`'s thread; the task runs when
    /// `local` is driven.
    #[track_caller]
    pub fn spawn_local_on<F>(&mut self, future: F, local: &LocalSet) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(local.spawn_local(future))
    }
}

/// A member of the set: its handle, resolving to the task's id with its result.
struct Tagged<T>(JoinHandle<T>);

impl<T> Future for Tagged<T> {
    type Output = (Id, Result<T, JoinError>);

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let id = self.0.id();
        std::pin::Pin::new(&mut self.0)
            .poll(cx)
            .map(|result| (id, result))
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        self.abort_all();
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len()).finish()
    }
}
