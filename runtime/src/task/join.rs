//! [`JoinHandle`]: the owned result of a spawned task, and [`JoinError`]: why it has none.
use super::{coop, Header, TaskOutput};
use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::task::{Context, Poll};

type Task<T> = async_task::FallibleTask<TaskOutput<Result<T, JoinError>>, Header>;

/// An owned permission to join a task: awaiting it yields the task's output.
///
/// Dropping a `JoinHandle` *detaches* the task: it keeps running and its output is
/// dropped. Use [`abort`](Self::abort) to cancel it.
///
/// The handle resolves to `Err(JoinError)` if the task panicked, was aborted, or was
/// dropped because its runtime shut down.
///
/// # Examples
///
/// ```
/// let rt = filch::runtime::Runtime::new().unwrap();
/// let handle = rt.spawn(async { "done" });
/// assert_eq!(rt.block_on(handle).unwrap(), "done");
/// ```
pub struct JoinHandle<T> {
    /// `None` once the output was taken, or when the runtime refused the spawn.
    task: Option<Task<T>>,
    /// The task's [`Header`].
    ///
    /// # Invariant
    /// Points into the task allocation, which `task` keeps alive: it is only dereferenced
    /// while `task` is `Some`. (`FallibleTask` does not expose the metadata itself.)
    header: NonNull<Header>,
    /// The task's id (kept here too: a refused spawn has no header).
    id: super::Id,
}

// SAFETY: `FallibleTask<T, Header>` is `Send` for `T: Send`, and the `header` pointer only
// gives shared access to a `Header`, which is `Sync`, inside an allocation kept alive by
// `task`; so moving the handle to another thread is as safe as moving the task.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` only offers `abort` and `is_finished`, which read the `Sync`
// header and call `&self` methods of the `Sync` `FallibleTask`.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

// Unwind safety, as `std::thread::JoinHandle`: a panic while a handle is in use cannot
// leave the task half-joined (the output is taken in one step, under the task's state
// word), and the task's own panic is already contained as a `JoinError`.
impl<T> std::panic::UnwindSafe for JoinHandle<T> {}
impl<T> std::panic::RefUnwindSafe for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    pub(crate) fn new(task: async_task::Task<TaskOutput<Result<T, JoinError>>, Header>) -> Self {
        let header = NonNull::from(task.metadata());
        let id = task.metadata().id;
        Self {
            task: Some(task.fallible()),
            header,
            id,
        }
    }

    /// A handle for a task the runtime refused (it was shutting down).
    pub(crate) fn cancelled() -> Self {
        Self {
            task: None,
            header: NonNull::dangling(),
            id: super::Id::next(),
        }
    }

    /// Cancels the task.
    ///
    /// If the task has not finished, its future is dropped the next time a worker picks it
    /// up (at once if it is idle) and awaiting this handle yields a cancelled
    /// [`JoinError`]. A task that already finished keeps its output. Aborting twice, or
    /// after completion, does nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let handle = filch::spawn(std::future::pending::<()>());
    ///     handle.abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        let Some(task) = &self.task else { return };
        if task.is_finished() {
            return;
        }
        // SAFETY: `task` is `Some`, so the allocation `header` points into is alive (see
        // the field's invariant).
        let header = unsafe { self.header.as_ref() };
        if !header.aborted.swap(true, Ordering::AcqRel) {
            // Make sure the task is polled (and so completes as cancelled) even if nothing
            // else would ever wake it. If it already finished in between, its registry
            // slot may belong to another task now: a spurious wake is harmless.
            header.scheduler.registry().wake(header.shard, header.key);
        }
    }

    /// The task's id.
    pub fn id(&self) -> super::Id {
        self.id
    }

    /// An [`AbortHandle`](super::AbortHandle) for this task: it can cancel the task
    /// without owning its output, and outlives this handle.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let join = filch::spawn(std::future::pending::<()>());
    ///     let abort = join.abort_handle();
    ///     drop(join); // detached, and still abortable
    ///     abort.abort();
    ///     while !abort.is_finished() {
    ///         filch::task::yield_now().await;
    ///     }
    /// });
    /// ```
    pub fn abort_handle(&self) -> super::AbortHandle {
        match &self.task {
            // SAFETY: `task` is `Some`, so the allocation `header` points into is alive (see
            // the field's invariant) for the whole call.
            Some(_) => super::AbortHandle::new(unsafe { self.header.as_ref() }),
            None => super::AbortHandle::finished(self.id),
        }
    }

    /// Where the task was spawned (the caller of `spawn`), while the handle still holds
    /// the task (before its output is taken); `None` after that, or if the runtime refused
    /// the spawn.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// let handle = rt.spawn(std::future::pending::<()>());
    /// assert_eq!(handle.spawn_location().unwrap().file(), file!());
    /// ```
    pub fn spawn_location(&self) -> Option<&'static std::panic::Location<'static>> {
        self.task.as_ref()?;
        // SAFETY: `task` is `Some`, so the allocation `header` points into is alive (see
        // the field's invariant).
        Some(unsafe { self.header.as_ref() }.location)
    }

    /// Returns `true` if the task has finished (completed, panicked or been cancelled).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// let handle = rt.spawn(async {});
    /// while !handle.is_finished() {
    ///     std::thread::yield_now();
    /// }
    /// ```
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().map_or(true, |task| task.is_finished())
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(task) = self.task.as_mut() else {
            return Poll::Ready(Err(JoinError::cancelled(self.id)));
        };
        if coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        match Pin::new(task).poll(cx) {
            Poll::Pending => {
                coop::refund();
                Poll::Pending
            }
            Poll::Ready(output) => {
                let id = self.id;
                let result = match output {
                    Some(output) => output.into_inner(),
                    // `None`: the runtime dropped the task without running it to completion
                    // (shutdown); its future's destructor may have panicked meanwhile.
                    None => {
                        // SAFETY: `self.task` is still `Some`, so the allocation `header`
                        // points into is alive (see the field's invariant).
                        let header = unsafe { self.header.as_ref() };
                        match header.drop_panic.take() {
                            Some(payload) => Err(JoinError::panic(id, payload)),
                            None => Err(JoinError::cancelled(id)),
                        }
                    }
                };
                self.task = None;
                Poll::Ready(result)
            }
        }
    }
}

impl<T> Unpin for JoinHandle<T> {}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.detach();
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// Why a task produced no output: it was cancelled, or it panicked.
///
/// # Examples
///
/// ```
/// let rt = filch::runtime::Runtime::new().unwrap();
/// let err = rt.block_on(async { filch::spawn(async { panic!("boom") }).await.unwrap_err() });
/// assert!(err.is_panic());
/// assert_eq!(err.to_string(), "task panicked: boom");
/// ```
pub struct JoinError {
    repr: Repr,
    /// The task that failed.
    id: super::Id,
}

enum Repr {
    Cancelled,
    /// The payload sits in a `Mutex` only so that `JoinError` is `Sync`; it is never
    /// contended (the lock is taken once, by `into_panic`, or by `Display`).
    Panic(Mutex<Box<dyn Any + Send + 'static>>),
}

impl JoinError {
    pub(crate) fn cancelled(id: super::Id) -> Self {
        Self {
            repr: Repr::Cancelled,
            id,
        }
    }

    pub(crate) fn panic(id: super::Id, payload: Box<dyn Any + Send + 'static>) -> Self {
        Self {
            repr: Repr::Panic(Mutex::new(payload)),
            id,
        }
    }

    /// The id of the task that failed (see [`JoinHandle::id`]).
    pub fn id(&self) -> super::Id {
        self.id
    }

    /// Returns `true` if the task was cancelled (aborted, or dropped by runtime shutdown).
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// Returns `true` if the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// Returns the panic payload, for example to re-raise it with
    /// [`std::panic::resume_unwind`].
    ///
    /// # Panics
    ///
    /// Panics if the error is not a panic (check [`is_panic`](Self::is_panic) first, or use
    /// [`try_into_panic`](Self::try_into_panic)).
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic().expect(
            "`JoinError::into_panic` called on a cancelled task's error; check `is_panic()` first",
        )
    }

    /// Returns the panic payload, or gives the error back if the task was cancelled.
    ///
    /// # Errors
    ///
    /// Returns `Err(self)` when the task was cancelled rather than panicking.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(payload) => Ok(payload.into_inner().unwrap_or_else(|e| e.into_inner())),
            Repr::Cancelled => Err(self),
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => f.write_str("task was cancelled"),
            Repr::Panic(payload) => {
                let payload = payload.lock().unwrap_or_else(|e| e.into_inner());
                match panic_message(&**payload) {
                    Some(msg) => write!(f, "task panicked: {msg}"),
                    None => f.write_str("task panicked"),
                }
            }
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => f.write_str("JoinError::Cancelled"),
            Repr::Panic(_) => write!(f, "JoinError::Panic({self})"),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(err: JoinError) -> Self {
        std::io::Error::other(err)
    }
}
