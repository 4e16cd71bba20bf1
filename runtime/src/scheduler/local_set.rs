//! [`LocalSet`]: a single-threaded executor for `!Send` futures, driven inside another
//! runtime's task or `block_on`; and [`spawn_local`], which spawns onto it.
//!
//! # Design
//!
//! A local task is an ordinary filch task (same [`Header`](crate::task), same
//! [`JoinHandle`], same panic capture and abort) whose scheduler is
//! the set itself (`Shared` implements [`Schedule`](crate::task::Schedule)). Its future is wrapped in [`ThreadBound`], which panics if
//! anything polls it on another thread: the set lives on one thread (it is `!Send`) and
//! only ever runs its tasks there.
//!
//! State is split by capability:
//!
//! * [`Shared`] (`Send + Sync`, in every task header): the set's [`Registry`], the
//!   `remote` queue for wakes that happen off the set's thread (or while it is not being
//!   driven), and an [`AtomicWaker`] holding the waker of whoever polls the set.
//! * `Context` (`Rc`, `!Send`): the `local` queue, touched only on the set's thread, with no
//!   atomics. The thread-local `CURRENT` points to the context of the set being driven or
//!   entered on this thread (a stack: nested sets restore the outer one).
//!
//! # Scheduling
//!
//! A wake on the set's thread *while the set is being driven* (inside
//! [`LocalSet::run_until`] or [`LocalSet`]'s own `poll`) pushes to the local queue: the
//! driver is going to look there before it returns. Any other wake pushes to `remote` and
//! wakes the driver's waker. Each poll of the set runs at most [`MAX_TASKS_PER_TICK`]
//! tasks, taking from `remote` first every [`REMOTE_INTERVAL`] tasks so neither queue
//! starves the other, each with a fresh cooperative budget; if work is left it wakes
//! itself and returns `Pending`, so the `run_until` future and the outer runtime get
//! their turn.
//!
//! # A worker's own set: `spawn_local` on the multi-thread runtime
//!
//! Each worker thread of a multi-thread runtime installs a [`WorkerSet`]: a set like any
//! other, entered for the thread's whole life and always driven, so `spawn_local` from a
//! task on a worker lands there and the task is *pinned* to that thread: it never sits in a
//! stealable queue and is always polled there. The worker loop runs it (see
//! [`pop_pinned`]) when its LIFO slot and deque are empty, and first every global-queue
//! interval, so neither kind starves the other. A wake from another thread pushes to
//! `remote` and unparks that worker ([`Shared::notify`]); the worker's park treats pinned
//! work like its own queued work. The set is dropped, with its tasks, on the worker thread
//! when the thread leaves the runtime.
//!
//! # Dropping the set
//!
//! Dropping a `LocalSet` (on its thread) closes its registry, wakes every task still
//! alive and drops them all, repeating until a round finds nothing (a destructor may wake
//! or spawn more); their `JoinHandle`s resolve to a cancelled [`JoinError`](crate::task::JoinError).
//! After that every task of the set is closed, so no later wake can reach `remote`.
use crate::scheduler;
use crate::task::registry::Registry;
use crate::task::{JoinHandle, Runnable};
use futures_util::task::AtomicWaker;
use parking_lot::Mutex;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

/// Tasks run per poll of the set before it yields to its caller.
const MAX_TASKS_PER_TICK: u32 = 61;
/// Every this many tasks, the remote queue is checked before the local one.
const REMOTE_INTERVAL: u32 = 31;

/// The part of a [`LocalSet`] that task headers and other threads reach.
pub(crate) struct Shared {
    /// Every live task of the set; closed when the set is dropped.
    pub(crate) registry: Registry,
    /// Tasks woken off the set's thread, or while the set was not being driven.
    remote: Mutex<VecDeque<Runnable>>,
    /// The waker of whoever last polled the set.
    waker: AtomicWaker,
    /// A worker's own set ([`WorkerSet`]): wakes that worker instead of a waker.
    worker: Option<crate::park::Unparker>,
}

impl Shared {
    fn new(worker: Option<crate::park::Unparker>) -> Arc<Shared> {
        Arc::new(Shared {
            registry: Registry::new(1),
            remote: Mutex::new(VecDeque::new()),
            waker: AtomicWaker::new(),
            worker,
        })
    }

    /// Tells whoever drives the set that a task was queued on `remote`.
    fn notify(&self) {
        match &self.worker {
            Some(worker) => worker.unpark(),
            None => self.waker.wake(),
        }
    }
}

impl crate::task::Schedule for Shared {
    #[inline]
    fn schedule(task: Runnable, _yielded: bool) {
        schedule(task);
    }

    fn registry(&self) -> &Registry {
        &self.registry
    }

    /// A set stops its tasks when it is dropped, on its own thread; nothing polls them
    /// after, so there is no shutdown for a poll to see.
    fn is_shutting_down(&self) -> bool {
        false
    }

    fn into_any(self: Arc<Self>) -> Arc<dyn std::any::Any + Send + Sync> {
        self
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // No lock taken here: a header may be printed anywhere.
        f.debug_struct("local_set::Shared").finish_non_exhaustive()
    }
}

/// The set's thread-bound part.
struct Context {
    shared: Arc<Shared>,
    /// Tasks woken on the set's thread while it was being driven.
    local: RefCell<VecDeque<Runnable>>,
    /// Whether a `run_until` or `poll` of the set is on the stack of this thread.
    driving: Cell<bool>,
    /// Tasks run so far, for the remote-queue interval.
    tick: Cell<u32>,
}

thread_local! {
    /// The set being driven or entered on this thread.
    static CURRENT: RefCell<Option<Rc<Context>>> = const { RefCell::new(None) };
}

/// A set of `!Send` tasks that all run on the thread that drives the set.
///
/// Spawn onto it with [`LocalSet::spawn_local`], or with [`spawn_local`] from code that
/// the set is driving. Its tasks make progress only while the set is being driven:
/// inside [`run_until`](Self::run_until) / [`block_on`](Self::block_on), or while the set
/// itself is awaited (it is a future that completes once all its tasks are done).
///
/// It works on either runtime flavor: on a multi-thread runtime,
/// [`LocalSet::block_on`] runs the set's tasks on the thread that called it, while
/// `Send` tasks spawned with [`filch::spawn`](crate::spawn) still go to the workers.
///
/// Dropping the set drops every task still in it.
///
/// # Examples
///
/// ```
/// use filch::task::LocalSet;
/// use std::rc::Rc;
///
/// let rt = filch::runtime::Runtime::new().unwrap();
/// let set = LocalSet::new();
/// let shared = Rc::new(5); // `Rc` is not `Send`
/// let answer = set.block_on(&rt, async move {
///     let shared2 = shared.clone();
///     let task = filch::task::spawn_local(async move { *shared2 * 2 });
///     task.await.unwrap() + *shared
/// });
/// assert_eq!(answer, 15);
/// ```
pub struct LocalSet {
    context: Rc<Context>,
}

impl LocalSet {
    /// Creates an empty set, owned by the current thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let set = filch::task::LocalSet::new();
    /// # drop(set);
    /// ```
    pub fn new() -> LocalSet {
        LocalSet {
            context: Context::new(None),
        }
    }

    /// Spawns a `!Send` future onto this set and returns its [`JoinHandle`].
    ///
    /// The task runs once the set is driven ([`run_until`](Self::run_until),
    /// [`block_on`](Self::block_on) or awaiting the set).
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::task::LocalSet;
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    ///
    /// let rt = filch::runtime::Builder::new_current_thread().build().unwrap();
    /// let set = LocalSet::new();
    /// let counter = Rc::new(Cell::new(0));
    /// let c = counter.clone();
    /// let task = set.spawn_local(async move { c.set(c.get() + 1) });
    /// set.block_on(&rt, task).unwrap();
    /// assert_eq!(counter.get(), 1);
    /// ```
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.context.spawn(future)
    }

    /// Runs `future` to completion on the current task, driving the set's tasks while it
    /// waits.
    ///
    /// Code inside `future` (and inside the set's tasks) may call [`spawn_local`]. The
    /// set's tasks that are still alive when `future` completes stay in the set; they run
    /// again the next time it is driven.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::task::LocalSet;
    ///
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// let set = LocalSet::new();
    /// let n = rt.block_on(set.run_until(async {
    ///     filch::task::spawn_local(async { 20 }).await.unwrap() + 22
    /// }));
    /// assert_eq!(n, 42);
    /// ```
    pub async fn run_until<F: Future>(&self, future: F) -> F::Output {
        let mut future = pin!(future);
        poll_fn(|cx| self.poll_run_until(future.as_mut(), cx)).await
    }

    fn poll_run_until<F: Future>(
        &self,
        future: Pin<&mut F>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<F::Output> {
        let _drive = DriveGuard::new(&self.context);
        self.context.shared.waker.register(cx.waker());
        if let Poll::Ready(output) = future.poll(cx) {
            return Poll::Ready(output);
        }
        if self.context.run_tick() {
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }

    /// Makes this set the target of [`spawn_local`] on this thread until the guard drops.
    ///
    /// The tasks spawned meanwhile run once the set is driven.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::task::LocalSet;
    ///
    /// let rt = filch::runtime::Builder::new_current_thread().build().unwrap();
    /// let set = LocalSet::new();
    /// let task = {
    ///     let _guard = set.enter();
    ///     filch::task::spawn_local(async { 1 })
    /// };
    /// assert_eq!(set.block_on(&rt, task).unwrap(), 1);
    /// ```
    pub fn enter(&self) -> LocalEnterGuard {
        LocalEnterGuard {
            previous: CURRENT.with(|current| current.replace(Some(self.context.clone()))),
        }
    }
}

impl Context {
    fn new(worker: Option<crate::park::Unparker>) -> Rc<Context> {
        let shared = Shared::new(worker);
        Rc::new(Context {
            shared,
            local: RefCell::new(VecDeque::new()),
            driving: Cell::new(false),
            tick: Cell::new(0),
        })
    }

    /// Closes the registry and drops every task of the set, until a round finds none (on
    /// the set's thread, while it is entered and driven: wakes land in `local`).
    fn drop_all_tasks(&self) {
        let context = self;
        loop {
            let wakers = context.shared.registry.close_and_drain();
            let mut progressed = !wakers.is_empty();
            // Wakes land in `local` (we are driving) or `remote`; both are drained below.
            for waker in wakers {
                waker.wake();
            }
            while let Some(task) = context.pop_local().or_else(|| context.pop_remote()) {
                progressed = true;
                scheduler::drop_task(task);
            }
            if !progressed {
                break;
            }
        }
    }
}

impl Default for LocalSet {
    fn default() -> Self {
        Self::new()
    }
}

/// Completes once every task of the set has finished (or been dropped), driving them
/// meanwhile.
///
/// # Examples
///
/// ```
/// use filch::task::LocalSet;
/// use std::cell::RefCell;
/// use std::rc::Rc;
///
/// let rt = filch::runtime::Builder::new_current_thread().build().unwrap();
/// let set = LocalSet::new();
/// let log = Rc::new(RefCell::new(Vec::new()));
/// for i in 0..3 {
///     let log = log.clone();
///     set.spawn_local(async move {
///         filch::task::yield_now().await;
///         log.borrow_mut().push(i);
///     });
/// }
/// rt.block_on(set);
/// assert_eq!(log.borrow().len(), 3);
/// ```
impl Future for LocalSet {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        let _drive = DriveGuard::new(&self.context);
        self.context.shared.waker.register(cx.waker());
        if self.context.run_tick() {
            cx.waker().wake_by_ref();
            Poll::Pending
        } else if self.context.shared.registry.len() == 0 {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for LocalSet {
    fn drop(&mut self) {
        let _drive = DriveGuard::new(&self.context);
        self.context.drop_all_tasks();
    }
}

impl fmt::Debug for LocalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSet")
            .field("tasks", &self.context.shared.registry.len())
            .finish_non_exhaustive()
    }
}

/// Keeps a [`LocalSet`] entered on this thread; see [`LocalSet::enter`].
#[must_use = "the set is only entered while the guard is alive"]
pub struct LocalEnterGuard {
    previous: Option<Rc<Context>>,
}

impl Drop for LocalEnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        // Swap outside the borrow: dropping the replaced `Rc` runs no user code, but keep
        // the borrow short anyway. `try_with`: a guard may drop during thread teardown.
        let replaced = CURRENT.try_with(|current| current.replace(previous));
        drop(replaced);
    }
}

impl fmt::Debug for LocalEnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalEnterGuard").finish_non_exhaustive()
    }
}

/// Enters the set and marks it as driven for the duration of one poll (also on unwind).
struct DriveGuard<'a> {
    context: &'a Context,
    was_driving: bool,
    _enter: LocalEnterGuard,
}

impl<'a> DriveGuard<'a> {
    fn new(context: &'a Rc<Context>) -> Self {
        DriveGuard {
            context,
            was_driving: context.driving.replace(true),
            // `try_with`: a set stored in a thread-local may be dropped during thread
            // teardown, after `CURRENT` is gone; its wakes then take the remote path.
            _enter: LocalEnterGuard {
                previous: CURRENT
                    .try_with(|current| current.replace(Some(context.clone())))
                    .ok()
                    .flatten(),
            },
        }
    }
}

impl Drop for DriveGuard<'_> {
    fn drop(&mut self) {
        self.context.driving.set(self.was_driving);
    }
}

impl Context {
    #[track_caller]
    fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let (runnable, join) =
            crate::task::create_local(&self.shared, future, std::panic::Location::caller());
        if let Some(runnable) = runnable {
            self.local.borrow_mut().push_back(runnable);
            // Whoever polls the set (if anyone) must look at the new task; a worker's own
            // set is this thread's, which looks at `local` before it parks.
            if self.shared.worker.is_none() {
                self.shared.waker.wake();
            }
        }
        join
    }

    fn owns(&self, runnable: &Runnable) -> bool {
        runnable.metadata().is_owned_by(&*self.shared)
    }

    fn pop_local(&self) -> Option<Runnable> {
        self.local.borrow_mut().pop_front()
    }

    fn pop_remote(&self) -> Option<Runnable> {
        self.shared.remote.lock().pop_front()
    }

    fn next_task(&self) -> Option<Runnable> {
        let tick = self.tick.get().wrapping_add(1);
        self.tick.set(tick);
        if tick % REMOTE_INTERVAL == 0 {
            self.pop_remote().or_else(|| self.pop_local())
        } else {
            self.pop_local().or_else(|| self.pop_remote())
        }
    }

    /// Runs up to [`MAX_TASKS_PER_TICK`] tasks; returns `true` if runnable work is left.
    fn run_tick(&self) -> bool {
        for _ in 0..MAX_TASKS_PER_TICK {
            match self.next_task() {
                Some(task) => scheduler::run_task(task),
                None => return false,
            }
        }
        !self.local.borrow().is_empty() || !self.shared.remote.lock().is_empty()
    }
}

/// Spawns a `!Send` future onto this thread: onto the [`LocalSet`] being driven (or
/// entered) here, or, on a worker of a multi-thread runtime, onto that worker.
///
/// On a multi-thread worker the task is **pinned**: it is never stolen and is always
/// polled on the worker thread that spawned it, while the runtime's other tasks are
/// scheduled as usual (tokio needs a `LocalSet` for this, which is one task to the
/// runtime). The worker runs its pinned tasks when its own queue is empty, and ahead of
/// it every global-queue interval. A pinned task's wake from another thread unparks that
/// worker. Its [`JoinHandle`] may be awaited anywhere (it is `Send` if the output is).
/// A worker with live pinned tasks cannot hand itself over to another thread, so a
/// [`block_in_place`](crate::task::block_in_place) there runs its closure in place: the other
/// workers take that worker's queued tasks meanwhile, and its pinned tasks wait. At
/// shutdown the worker drops its pinned tasks on its own thread.
///
/// # Panics
///
/// Panics where neither applies: outside a `LocalSet`, on a current-thread runtime (wrap
/// the code in [`LocalSet::run_until`]) or in `Runtime::block_on` of a multi-thread one
/// (spawn a task first, or use a `LocalSet`).
///
/// # Examples
///
/// On a multi-thread runtime, from a task:
///
/// ```
/// use std::rc::Rc;
///
/// let rt = filch::runtime::Runtime::new().unwrap();
/// let sum = rt.block_on(async {
///     filch::spawn(async {
///         let worker = std::thread::current().id();
///         let data = Rc::new(vec![1, 2, 3]); // `Rc` is not `Send`
///         let pinned = filch::task::spawn_local(async move {
///             filch::task::yield_now().await;
///             assert_eq!(std::thread::current().id(), worker); // never stolen
///             data.iter().sum::<i32>()
///         });
///         pinned.await.unwrap()
///     })
///     .await
///     .unwrap()
/// });
/// assert_eq!(sum, 6);
/// ```
///
/// In a `LocalSet`, on either flavor:
///
/// ```
/// use filch::task::{spawn_local, LocalSet};
/// use std::rc::Rc;
///
/// let rt = filch::runtime::Runtime::new().unwrap();
/// LocalSet::new().block_on(&rt, async {
///     let data = Rc::new(vec![1, 2, 3]);
///     let task = spawn_local(async move {
///         // Nested spawns land on the same set.
///         spawn_local(async move { data.iter().sum::<i32>() }).await.unwrap()
///     });
///     assert_eq!(task.await.unwrap(), 6);
/// });
/// ```
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let context = CURRENT
        .try_with(|current| current.borrow().clone())
        .ok()
        .flatten();
    match context {
        Some(context) => context.spawn(future),
        None => panic!(
            "`spawn_local` called outside a `LocalSet` and off the workers of a multi-thread \
             runtime; call it from a task on a multi-thread runtime, or wrap the code in \
             `LocalSet::run_until` or `LocalSet::block_on`"
        ),
    }
}

thread_local! {
    /// The [`WorkerSet`] installed on this thread, or null: the worker loop's way to its
    /// pinned tasks (a plain pointer read, no lazy initialisation on the hot path).
    static WORKER_SET: Cell<*const Context> = const { Cell::new(std::ptr::null()) };
}

/// A multi-thread worker thread's own set (see the module docs): installed when the thread
/// starts driving a worker, dropped (with every pinned task, on this thread) when it stops.
///
/// # Invariants
/// Lives on the worker thread's stack; `WORKER_SET` points to its context exactly while it
/// is installed, so a reference made from `WORKER_SET` never dangles. `!Send`.
pub(crate) struct WorkerSet {
    context: Rc<Context>,
    /// What `CURRENT` was before (restored on drop).
    previous: Option<Rc<Context>>,
}

impl WorkerSet {
    /// Installs a set whose remote wakes call `worker.unpark()`, and enters it.
    pub(crate) fn install(worker: crate::park::Unparker) -> WorkerSet {
        let context = Context::new(Some(worker));
        context.driving.set(true);
        WORKER_SET.with(|w| w.set(Rc::as_ptr(&context)));
        let previous = CURRENT.with(|current| current.replace(Some(context.clone())));
        WorkerSet { context, previous }
    }

    /// The part other threads reach (for dumps and task counts).
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.context.shared
    }
}

impl Drop for WorkerSet {
    fn drop(&mut self) {
        // Still entered and driven: wakes during the drops land in `local`.
        self.context.drop_all_tasks();
        WORKER_SET.with(|w| w.set(std::ptr::null()));
        let previous = self.previous.take();
        let replaced = CURRENT.try_with(|current| current.replace(previous));
        drop(replaced);
    }
}

fn with_worker_set<R>(f: impl FnOnce(Option<&Context>) -> R) -> R {
    let set = WORKER_SET.with(Cell::get);
    // SAFETY: non-null only while the `WorkerSet` that owns this context is installed on
    // this thread (see its invariants), and we are on this thread.
    f(unsafe { set.as_ref() })
}

/// The next pinned task of this thread's worker, if any: the local queue first, the
/// remote one every [`REMOTE_INTERVAL`] tasks or when the local one is empty.
#[inline]
pub(crate) fn pop_pinned() -> Option<Runnable> {
    with_worker_set(|set| set.and_then(Context::next_task))
}

/// Whether this thread's worker has pinned tasks queued (its park must not sleep on them).
pub(crate) fn has_pinned_work() -> bool {
    with_worker_set(|set| {
        set.is_some_and(|set| {
            !set.local.borrow().is_empty() || !set.shared.remote.lock().is_empty()
        })
    })
}

/// Whether this thread's worker has live pinned tasks (it must not leave the thread).
pub(crate) fn has_pinned_tasks() -> bool {
    with_worker_set(|set| set.is_some_and(|set| set.shared.registry.len() > 0))
}

/// Takes this thread's worker set out of `spawn_local`'s reach for good: the worker was
/// handed to another thread (`block_in_place`), which installs its own; this thread's set
/// has no live task (checked by the caller with [`has_pinned_tasks`]) and is dropped when
/// the thread leaves its loop.
pub(crate) fn detach_worker_set() {
    if WORKER_SET.with(|w| w.replace(std::ptr::null())).is_null() {
        return;
    }
    let context = CURRENT.with(|current| current.replace(None));
    drop(context);
}

/// Takes this thread's worker set out of `spawn_local`'s reach until the guard drops
/// (a `block_in_place` that keeps its worker here: its closure is not a task of the
/// worker, and a pinned task it spawned could not run before it returns). Wakes of pinned
/// tasks meanwhile take the remote path.
pub(crate) fn hide_worker_set() -> HiddenWorkerSet {
    HiddenWorkerSet {
        previous: with_worker_set(|set| set.is_some()).then(|| {
            let context = CURRENT.with(|current| current.replace(None));
            let set = WORKER_SET.with(|w| w.replace(std::ptr::null()));
            (context, set)
        }),
    }
}

/// Puts the worker set back; see [`hide_worker_set`].
pub(crate) struct HiddenWorkerSet {
    previous: Option<(Option<Rc<Context>>, *const Context)>,
}

impl Drop for HiddenWorkerSet {
    fn drop(&mut self) {
        if let Some((context, set)) = self.previous.take() {
            CURRENT.with(|current| current.replace(context));
            WORKER_SET.with(|w| w.set(set));
        }
    }
}

/// Calls `f` with the task registry of the `LocalSet` driven on this thread, if any (for
/// dumps).
pub(crate) fn with_current_registry<R>(f: impl FnOnce(Option<&Registry>) -> R) -> R {
    let context = CURRENT
        .try_with(|current| current.borrow().clone())
        .ok()
        .flatten();
    f(context.as_ref().map(|context| &context.shared.registry))
}

/// Schedules a task of a [`LocalSet`] (the `Local` arm of the schedule function).
pub(crate) fn schedule(runnable: Runnable) {
    // `try_with`: a wake during thread teardown takes the remote path.
    let context = CURRENT
        .try_with(|current| current.borrow().clone())
        .ok()
        .flatten();
    if let Some(context) = context.filter(|c| c.driving.get() && c.owns(&runnable)) {
        context.local.borrow_mut().push_back(runnable);
        return;
    }
    let shared = runnable
        .metadata()
        .scheduler_as::<Shared>()
        .expect("local-set schedule of another scheduler's task");
    shared.remote.lock().push_back(runnable);
    shared.notify();
}
