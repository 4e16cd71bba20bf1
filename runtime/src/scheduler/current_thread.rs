//! The current-thread scheduler: every task runs on the thread inside `block_on`.
//!
//! The scheduler's *core* (its local run queue and parker) is owned by whichever thread is
//! inside `block_on` at the moment; a second thread calling `block_on` concurrently waits
//! for its own future and takes the core over when the first one lets go of it. Wakes on
//! the thread that holds the core push to the local queue with no atomic operation; wakes
//! from anywhere else go to the `remote` injector and unpark the core.
use crate::park::{Parker, Unparker};
use crate::scheduler;
use crate::task::{self, coop, registry::Registry, JoinHandle, Runnable};
use crossbeam_deque::{Injector, Steal};
use parking_lot::Mutex;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Wake, Waker};

/// Tasks run between two polls of the `block_on` future, and the period at which the
/// remote queue is checked first.
const EVENT_INTERVAL: u32 = 61;
const REMOTE_INTERVAL: u32 = 31;

/// State shared by the runtime, its handles and its tasks' wakers.
#[derive(Debug)]
pub(crate) struct Shared {
    remote: Injector<Runnable>,
    /// Wakes whichever thread currently drives the core.
    unparker: Unparker,
    pub(crate) registry: Registry,
    shutdown: AtomicBool,
    /// `None` while a `block_on` drives it (or after shutdown took it for good).
    core: Mutex<Option<Box<Core>>>,
    /// Threads waiting in `block_on` for the core to be released.
    core_waiters: Mutex<Vec<Unparker>>,
    /// The runtime's I/O and timer driver; the core's parker sleeps in it.
    pub(crate) driver: Arc<crate::driver::Driver>,
    /// Metrics (`polls` and `parks` written only by the thread holding the core).
    pub(crate) counters: super::multi_thread::WorkerCounters,
}

#[derive(Debug)]
struct Core {
    local: VecDeque<Runnable>,
    parker: Parker,
    tick: u32,
}

thread_local! {
    /// The driver of a current-thread runtime on this thread, or null (see [`ActiveCore`]).
    static CURRENT: Cell<*const ActiveCore> = const { Cell::new(ptr::null()) };
}

/// The core while a thread drives it.
///
/// # Invariants
/// Lives on the driving thread's stack; [`CURRENT`] points to it exactly while it drives,
/// so a reference obtained through `CURRENT` never dangles.
struct ActiveCore {
    shared: Arc<Shared>,
    local: RefCell<VecDeque<Runnable>>,
}

pub(crate) fn new() -> std::io::Result<Arc<Shared>> {
    let driver = crate::driver::Driver::new()?;
    let parker = Parker::with_driver(Some(driver.clone()));
    Ok(Arc::new(Shared {
        remote: Injector::new(),
        unparker: parker.unparker(),
        registry: Registry::new(1),
        shutdown: AtomicBool::new(false),
        core: Mutex::new(Some(Box::new(Core {
            local: VecDeque::new(),
            parker,
            tick: 0,
        }))),
        core_waiters: Mutex::new(Vec::new()),
        driver,
        counters: Default::default(),
    }))
}

/// Schedules a task of a current-thread runtime.
pub(crate) fn schedule(runnable: Runnable) {
    let runnable = with_driver(|driver| match driver {
        Some(driver) if driver.owns(&runnable) => {
            driver.local.borrow_mut().push_back(runnable);
            None
        }
        _ => Some(runnable),
    });
    if let Some(runnable) = runnable {
        let shared = match &runnable.metadata().scheduler {
            scheduler::Handle::CurrentThread(shared) => shared.clone(),
            scheduler::Handle::MultiThread(_) | scheduler::Handle::Local(_) => {
                unreachable!("current-thread schedule of another scheduler's task")
            }
        };
        shared.remote.push(runnable);
        shared.unparker.unpark();
    }
}

fn with_driver<R>(f: impl FnOnce(Option<&ActiveCore>) -> R) -> R {
    let driver = CURRENT.with(Cell::get);
    // SAFETY: non-null only while the `ActiveCore` lives on this thread's stack (see the
    // `ActiveCore` invariants), and we are on that thread.
    f(unsafe { driver.as_ref() })
}

impl ActiveCore {
    fn owns(&self, runnable: &Runnable) -> bool {
        matches!(&runnable.metadata().scheduler,
            scheduler::Handle::CurrentThread(shared) if Arc::ptr_eq(shared, &self.shared))
    }
}

/// Owns the core while a `block_on` drives it; gives it back on drop (also on unwind).
struct CoreGuard<'a> {
    shared: &'a Shared,
    core: Option<Box<Core>>,
}

impl Drop for CoreGuard<'_> {
    fn drop(&mut self) {
        if let Some(core) = self.core.take() {
            self.shared.release_core(core);
        }
    }
}

/// Wakes a `block_on` caller: sets its flag and unparks both places it may sleep.
struct BlockOnWaker {
    woken: AtomicBool,
    thread: Unparker,
    core: Unparker,
}

impl Wake for BlockOnWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.thread.unpark();
        self.core.unpark();
    }
}

impl Shared {
    #[track_caller]
    pub(crate) fn spawn<F>(
        self: &Arc<Self>,
        handle: &scheduler::Handle,
        future: F,
        location: &'static std::panic::Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.counters.spawns.fetch_add(1, Ordering::Relaxed);
        let (runnable, join) = task::create(handle, 0, future, location);
        if let Some(runnable) = runnable {
            schedule(runnable);
        }
        join
    }

    pub(crate) fn block_on<F: Future>(self: &Arc<Self>, future: F) -> F::Output {
        let mut future = pin!(future);
        crate::runtime::park_thread::with_parker(|parker| {
            let waker = Arc::new(BlockOnWaker {
                woken: AtomicBool::new(true),
                thread: parker.unparker(),
                core: self.unparker.clone(),
            });
            let task_waker = Waker::from(waker.clone());
            loop {
                if let Some(core) = self.take_core() {
                    // Hands the core back even if the future or a task's drop panics.
                    let mut core = CoreGuard {
                        shared: self,
                        core: Some(core),
                    };
                    let core = core.core.as_mut().expect("core taken above");
                    if let Some(output) = self.drive(core, &waker, &task_waker, future.as_mut()) {
                        return output;
                    }
                    // Shutdown took over: wait for the future alone below.
                }
                if waker.woken.swap(false, Ordering::AcqRel) {
                    let mut cx = TaskContext::from_waker(&task_waker);
                    if let Poll::Ready(output) = coop::budget(|| future.as_mut().poll(&mut cx)) {
                        return output;
                    }
                }
                if !self.shutdown.load(Ordering::Acquire) {
                    self.core_waiters.lock().push(parker.unparker());
                }
                if self.core_available() || waker.woken.load(Ordering::Acquire) {
                    continue;
                }
                parker.park();
            }
        })
    }

    /// Tasks waiting in the remote queue.
    pub(crate) fn remote_depth(&self) -> usize {
        self.remote.len()
    }

    fn take_core(&self) -> Option<Box<Core>> {
        if self.shutdown.load(Ordering::Acquire) {
            return None;
        }
        self.core.lock().take()
    }

    fn core_available(&self) -> bool {
        !self.shutdown.load(Ordering::Acquire) && self.core.lock().is_some()
    }

    fn release_core(&self, core: Box<Core>) {
        *self.core.lock() = Some(core);
        for waiter in self.core_waiters.lock().drain(..) {
            waiter.unpark();
        }
    }

    /// Runs tasks and the `block_on` future on this thread until the future completes
    /// (`Some(output)`) or the runtime shuts down (`None`).
    fn drive<F: Future>(
        self: &Arc<Self>,
        core: &mut Core,
        waker: &BlockOnWaker,
        task_waker: &Waker,
        mut future: std::pin::Pin<&mut F>,
    ) -> Option<F::Output> {
        let driver = ActiveCore {
            shared: self.clone(),
            local: RefCell::new(std::mem::take(&mut core.local)),
        };
        /// Uninstalls the driver and moves its queue back into the core, also on unwind.
        struct Uninstall<'a> {
            previous: *const ActiveCore,
            driver: &'a ActiveCore,
            local: &'a mut VecDeque<Runnable>,
        }
        impl Drop for Uninstall<'_> {
            fn drop(&mut self) {
                CURRENT.with(|c| c.set(self.previous));
                *self.local = std::mem::take(&mut *self.driver.local.borrow_mut());
            }
        }
        let _uninstall = Uninstall {
            previous: CURRENT.with(|c| c.replace(&driver)),
            driver: &driver,
            local: &mut core.local,
        };
        while !self.shutdown.load(Ordering::Acquire) {
            if waker.woken.swap(false, Ordering::AcqRel) {
                let mut cx = TaskContext::from_waker(task_waker);
                if let Poll::Ready(out) = coop::budget(|| future.as_mut().poll(&mut cx)) {
                    return Some(out);
                }
            }
            let mut ran = 0;
            while ran < EVENT_INTERVAL {
                core.tick = core.tick.wrapping_add(1);
                let Some(task) = self.next_task(&driver, core.tick) else {
                    break;
                };
                ran += 1;
                scheduler::multi_thread::bump(&self.counters.polls, 1);
                scheduler::run_task(task);
            }
            if ran == 0 && !waker.woken.load(Ordering::Acquire) && self.remote.is_empty() {
                scheduler::multi_thread::bump(&self.counters.parks, 1);
                core.parker.park();
            } else if ran == EVENT_INTERVAL {
                // Busy: serve I/O and timers without blocking, so they are not starved.
                core.parker.park_timeout(std::time::Duration::ZERO);
            }
        }
        None
    }

    fn next_task(&self, driver: &ActiveCore, tick: u32) -> Option<Runnable> {
        let remote = || loop {
            match self.remote.steal() {
                Steal::Success(task) => return Some(task),
                Steal::Empty => return None,
                Steal::Retry => std::hint::spin_loop(),
            }
        };
        if tick % REMOTE_INTERVAL == 0 {
            remote().or_else(|| driver.local.borrow_mut().pop_front())
        } else {
            let local = driver.local.borrow_mut().pop_front();
            local.or_else(remote)
        }
    }

    /// Stops the scheduler and drops every task (see the multi-thread docs for the order).
    pub(crate) fn shutdown(&self) {
        self.shutdown.store(true, Ordering::Release);
        self.unparker.unpark();
        // Wait for a concurrent `block_on` (through a `Handle`) to hand the core back.
        let core = loop {
            if let Some(core) = self.core.lock().take() {
                break core;
            }
            std::thread::yield_now();
        };
        let Core { local, .. } = *core;
        for task in local {
            scheduler::drop_task(task);
        }
        scheduler::drop_all_tasks(&self.registry, &self.remote);
        self.driver.shutdown();
        for waiter in self.core_waiters.lock().drain(..) {
            waiter.unpark();
        }
    }
}
