//! The current-thread scheduler: every task runs on the thread inside `block_on`.
//!
//! The scheduler's *core* (its local run queue and parker) is owned by whichever thread is
//! inside `block_on` at the moment; a second thread calling `block_on` concurrently waits
//! for its own future and takes the core over when the first one lets go of it. Wakes on
//! the thread that holds the core push to the local queue with no atomic operation; wakes
//! from anywhere else go to the `remote` injector and unpark the core.
//!
//! # Shutdown
//!
//! [`Shared::shutdown`] raises the flag, then drops the idle tasks at once (the registry
//! drain, as in the multi-thread flavor). The rest, the core's local queue, belongs to the
//! core: if the core is free, shutdown takes it and drops the queue; if another thread's
//! `block_on` drives it, that thread leaves its loop after the poll it is in and the
//! shutdown waits for it; if *this* thread drives it (the runtime is dropped inside a
//! `Handle::block_on` of its own), the core's guard does the cleanup when this `block_on`
//! lets go of the core. Pushes onto the remote queue check the flag afterwards, as in
//! [`ShutdownFlag`](super::ShutdownFlag)'s docs, so no task is stranded there.
//!
//! # Seeded scheduling
//!
//! With [`Builder::rng_seed`](crate::runtime::Builder::rng_seed) the core's generator
//! starts from the seed, and the next task is not the oldest ready one but one the
//! generator picks among all that are ready (the remote queue is moved into the local one
//! first, in arrival order). A program whose tasks only wake each other and wait on timers
//! then runs the same way every time for one seed (with paused time, at the same virtual
//! instants too), and explores another order of its ready tasks for another seed. What the
//! seed cannot fix: wakes from other threads (blocking jobs, I/O readiness) arrive when they
//! arrive.
//!
//! # Paused time: auto-advance
//!
//! When the driving thread runs out of work and the runtime's clock is paused (one relaxed
//! load decides; see `filch::time`), it parks through [`Shared::park_paused`] instead: it
//! polls I/O without blocking first (a ready socket wins over a jump: its task runs, the
//! clock stays), and if nothing became ready, no blocking job is in flight and a timer is
//! pending, it jumps the clock to that timer and fires it instead of sleeping. Otherwise it
//! parks as usual; with time paused the driver then waits for I/O or a wake-up only (the
//! end of the last blocking job wakes it). A wake from another thread racing with the
//! decision may see the clock jump once more than it would have; the runtime was idle
//! when it looked.
use crate::park::{Parker, Unparker};
use crate::scheduler::rand::{FastRand, RngSeed};
use crate::scheduler::{self, ShutdownFlag};
use crate::task::{self, coop, registry::Registry, JoinHandle, Runnable};
use crossbeam_deque::Injector;
use parking_lot::Mutex;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Wake, Waker};

/// State shared by the runtime, its handles and its tasks' wakers.
#[derive(Debug)]
pub(crate) struct Shared {
    remote: Injector<Runnable>,
    /// Wakes whichever thread currently drives the core.
    unparker: Unparker,
    pub(crate) registry: Registry,
    /// Raised once, by `shutdown` (see the module docs).
    shutdown: ShutdownFlag,
    /// Set once the core's queue has been dropped at shutdown (by `shutdown`, or by the
    /// `block_on` that held the core).
    cleaned: AtomicBool,
    /// `None` while a `block_on` drives it (or after shutdown took it for good).
    core: Mutex<Option<Box<Core>>>,
    /// Threads waiting in `block_on` for the core to be released.
    core_waiters: Mutex<Vec<Unparker>>,
    /// The runtime's I/O and timer driver; the core's parker sleeps in it.
    pub(crate) driver: Arc<crate::driver::Driver>,
    /// Metrics (`polls` and `parks` written only by the thread holding the core).
    pub(crate) counters: super::multi_thread::WorkerCounters,
    /// The stall detector, if on: the thread driving the core writes its slot 0.
    stall: Option<Arc<super::stall::StallMonitor>>,
}

#[derive(Debug)]
struct Core {
    local: VecDeque<Runnable>,
    parker: Parker,
    /// Due every global-queue interval: take from the remote queue first.
    remote_due: super::Countdown,
    /// Tasks run between two polls of the `block_on` future (and rounds between two
    /// non-blocking polls of the driver while busy): the event interval.
    event_interval: u32,
    /// The scheduler's random source (seeded or not; `select!` draws from it).
    rng: FastRand,
    /// `Builder::rng_seed` was given: `rng` also picks the next task.
    seeded: bool,
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
    /// The core's generator, copied here while this thread drives (and back after).
    rng: FastRand,
    seeded: bool,
}

pub(crate) fn new(
    intervals: super::Intervals,
    stall: Option<Arc<super::stall::StallMonitor>>,
    seed: Option<RngSeed>,
    poll_times: bool,
) -> std::io::Result<Arc<Shared>> {
    let driver = crate::driver::Driver::new(1)?;
    let parker = Parker::with_driver(Some(driver.clone()));
    Ok(Arc::new(Shared {
        remote: Injector::new(),
        unparker: parker.unparker(),
        registry: Registry::new(1),
        shutdown: ShutdownFlag::new(),
        cleaned: AtomicBool::new(false),
        core: Mutex::new(Some(Box::new(Core {
            local: VecDeque::new(),
            parker,
            remote_due: super::Countdown::new(intervals.global_queue),
            event_interval: intervals.event,
            rng: match seed {
                Some(seed) => seed.generator(0),
                None => FastRand::new(FastRand::seed()),
            },
            seeded: seed.is_some(),
        }))),
        core_waiters: Mutex::new(Vec::new()),
        driver,
        counters: super::multi_thread::WorkerCounters::new(poll_times),
        stall,
    }))
}

impl task::Schedule for Shared {
    #[inline]
    fn schedule(task: Runnable, _yielded: bool) {
        schedule(task);
    }

    fn registry(&self) -> &Registry {
        &self.registry
    }

    #[inline]
    fn is_shutting_down(&self) -> bool {
        Shared::is_shutting_down(self)
    }

    fn into_any(self: Arc<Self>) -> Arc<dyn std::any::Any + Send + Sync> {
        self
    }
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
        let shared = runnable
            .metadata()
            .scheduler_as::<Shared>()
            .expect("current-thread schedule of another scheduler's task");
        if scheduler::push_unless_shut_down(&shared.remote, &shared.shutdown, runnable) {
            shared.unparker.unpark();
        }
    }
}

/// Whether the current-thread runtime driven by this thread has tasks queued to run (its
/// local or remote queue is not empty); `false` on any other thread. For
/// `filch::time::advance`, which yields until its woken tasks ran.
pub(crate) fn has_queued_tasks() -> bool {
    with_driver(|driver| {
        driver.is_some_and(|driver| {
            !driver.local.borrow().is_empty() || !driver.shared.remote.is_empty()
        })
    })
}

/// 32 bits from the generator of the current-thread runtime this thread drives, if any
/// (`select!`'s starting branch: seeded with the runtime).
pub(crate) fn random_u32() -> Option<u32> {
    with_driver(|driver| driver.map(|d| d.rng.next_u32()))
}

fn with_driver<R>(f: impl FnOnce(Option<&ActiveCore>) -> R) -> R {
    let driver = CURRENT.with(Cell::get);
    // SAFETY: non-null only while the `ActiveCore` lives on this thread's stack (see the
    // `ActiveCore` invariants), and we are on that thread.
    f(unsafe { driver.as_ref() })
}

impl ActiveCore {
    fn owns(&self, runnable: &Runnable) -> bool {
        runnable.metadata().is_owned_by(&*self.shared)
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
        future: F,
        location: &'static std::panic::Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.counters.spawns.fetch_add(1, Ordering::Relaxed);
        let (runnable, join) = task::create(self, 0, future, location, task::Kind::Async);
        if let Some(runnable) = runnable {
            schedule(runnable);
        }
        join
    }

    pub(crate) fn block_on<F: Future>(self: &Arc<Self>, future: F) -> F::Output {
        let mut future = pin!(future);
        crate::park::thread::with_parker(|parker| {
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
                if !self.shutdown.is_raised() {
                    self.wait_for_core(parker.unparker());
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

    #[inline]
    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutdown.is_raised()
    }

    fn take_core(&self) -> Option<Box<Core>> {
        if self.shutdown.is_raised() {
            return None;
        }
        self.core.lock().take()
    }

    fn core_available(&self) -> bool {
        !self.shutdown.is_raised() && self.core.lock().is_some()
    }

    /// Asks to be unparked when the core is released; each waiting thread is listed once,
    /// however often its future is woken meanwhile.
    fn wait_for_core(&self, unparker: Unparker) {
        let mut waiters = self.core_waiters.lock();
        if !waiters.iter().any(|w| w.same_parker(&unparker)) {
            waiters.push(unparker);
        }
    }

    /// Number of threads waiting for the core (tests).
    #[cfg(test)]
    fn num_core_waiters(&self) -> usize {
        self.core_waiters.lock().len()
    }

    fn release_core(&self, core: Box<Core>) {
        *self.core.lock() = Some(core);
        if self.shutdown.is_raised() {
            // Shutdown may be waiting for this core, or may have left its queue to us (it
            // was called on this thread): finish it.
            self.finish_shutdown();
        }
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
            rng: core.rng.clone(),
            seeded: core.seeded,
        };
        let _stall_slot = super::stall::SlotGuard::enter(self.stall.as_ref(), 0);
        /// Uninstalls the driver and moves its queue and generator back into the core,
        /// also on unwind.
        struct Uninstall<'a> {
            previous: *const ActiveCore,
            driver: &'a ActiveCore,
            local: &'a mut VecDeque<Runnable>,
            rng: &'a mut FastRand,
        }
        impl Drop for Uninstall<'_> {
            fn drop(&mut self) {
                CURRENT.with(|c| c.set(self.previous));
                *self.local = std::mem::take(&mut *self.driver.local.borrow_mut());
                *self.rng = self.driver.rng.clone();
            }
        }
        let _uninstall = Uninstall {
            previous: CURRENT.with(|c| c.replace(&driver)),
            driver: &driver,
            local: &mut core.local,
            rng: &mut core.rng,
        };
        // Rounds since the driver was last polled or parked in.
        let mut busy_rounds = 0u32;
        let watched = self.stall.is_some();
        let poll_times = self.counters.poll_times();
        while !self.shutdown.is_raised() {
            if waker.woken.swap(false, Ordering::AcqRel) {
                let mut cx = TaskContext::from_waker(task_waker);
                if let Poll::Ready(out) = coop::budget(|| future.as_mut().poll(&mut cx)) {
                    return Some(out);
                }
            }
            let mut ran = 0;
            let event_interval = core.event_interval;
            while ran < event_interval {
                let remote_first = core.remote_due.tick();
                let Some(task) = self.next_task(&driver, remote_first) else {
                    break;
                };
                ran += 1;
                scheduler::multi_thread::bump(&self.counters.polls, 1);
                scheduler::poll_times::run_timed(task, poll_times, watched, || false);
            }
            busy_rounds += 1;
            // This thread's budget-forced yields, folded in once a round (a thread-local
            // read; the store only when there were some).
            let forced = task::coop::take_forced_yields();
            if forced > 0 {
                scheduler::multi_thread::bump(&self.counters.forced_yields, forced);
            }
            if ran == 0 && !waker.woken.load(Ordering::Acquire) && self.remote.is_empty() {
                scheduler::multi_thread::bump(&self.counters.parks, 1);
                if self.driver.time.clock.is_paused() {
                    self.park_paused(&core.parker, &driver, waker);
                } else {
                    core.parker.park();
                }
                busy_rounds = 0;
            } else if ran == event_interval || busy_rounds >= event_interval {
                // Busy (many tasks, or a `block_on` future that keeps waking itself): serve
                // I/O and timers without blocking, so they are not starved. (Straight to the
                // driver: the parker would return at once on the token those wakes left.)
                if let Some(mut driver) = self.driver.try_lock() {
                    driver.poll_now();
                }
                busy_rounds = 0;
            }
        }
        None
    }

    /// Parks with the clock paused: auto-advance (see the module docs).
    fn park_paused(&self, parker: &Parker, driver: &ActiveCore, waker: &BlockOnWaker) {
        // I/O first, without blocking: a ready socket wins over a jump of the clock.
        if let Some(mut io) = self.driver.try_lock() {
            io.poll_now();
        }
        let time = &self.driver.time;
        // Read before the queues: a blocking job queues its joiner's wake, then lets the
        // clock go (a `SeqCst` decrement); seeing it gone means seeing that wake below.
        let inhibited = time.clock.is_auto_advance_inhibited();
        let idle = driver.local.borrow().is_empty()
            && self.remote.is_empty()
            && !waker.woken.load(Ordering::Acquire);
        if !idle {
            return;
        }
        // A blocking job in flight will wake a task in real time: wait for it instead.
        if !inhibited && time.auto_advance() {
            return;
        }
        parker.park();
    }

    fn next_task(&self, driver: &ActiveCore, remote_first: bool) -> Option<Runnable> {
        let remote = || scheduler::steal_one(|| self.remote.steal());
        if driver.seeded {
            // See "Seeded scheduling" in the module docs.
            let mut local = driver.local.borrow_mut();
            while let Some(task) = remote() {
                local.push_back(task);
            }
            if local.is_empty() {
                return None;
            }
            let pick = driver.rng.below(local.len());
            return local.swap_remove_back(pick);
        }
        if remote_first {
            remote().or_else(|| driver.local.borrow_mut().pop_front())
        } else {
            let local = driver.local.borrow_mut().pop_front();
            local.or_else(remote)
        }
    }

    /// Stops the scheduler and drops every task (see the module docs for the order).
    pub(crate) fn shutdown(self: &Arc<Self>) {
        self.shutdown.raise();
        self.unparker.unpark();
        // Drop what can be dropped before waiting on what cannot.
        let dropped = scheduler::drop_all_tasks(&self.registry, &self.remote);
        scheduler::release_freed_memory(dropped);
        if with_driver(|driver| driver.is_some_and(|d| Arc::ptr_eq(&d.shared, self))) {
            // This thread drives the core, inside a `block_on` up the stack: it finishes
            // the shutdown when it lets go of the core.
            return;
        }
        // Wait for a concurrent `block_on` (through a `Handle`) to hand the core back; it
        // leaves its loop after the poll it is in.
        while !self.finish_shutdown() {
            std::thread::yield_now();
        }
    }

    /// Drops the core's queue and whatever is left, if the core is free; returns whether
    /// the cleanup is done (by this call or an earlier one).
    fn finish_shutdown(&self) -> bool {
        let Some(core) = self.core.lock().take() else {
            return self.cleaned.load(Ordering::Acquire);
        };
        let Core { local, .. } = *core;
        let mut dropped = local.len();
        for task in local {
            scheduler::drop_task(task);
        }
        dropped += scheduler::drop_all_tasks(&self.registry, &self.remote);
        scheduler::release_freed_memory(dropped);
        self.driver.shutdown();
        self.cleaned.store(true, Ordering::Release);
        for waiter in self.core_waiters.lock().drain(..) {
            waiter.unpark();
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use crate::runtime::Builder;
    use crate::scheduler;
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    /// Wakes itself `n` times before it is ready.
    struct WakeSelf(u32);

    impl Future for WakeSelf {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0 == 0 {
                return Poll::Ready(());
            }
            self.0 -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    #[test]
    fn a_block_on_waiting_for_the_core_is_listed_once_however_often_it_wakes() {
        let rt = Builder::new_current_thread().build().unwrap();
        let scheduler::Handle::CurrentThread(shared) = &rt.handle().inner else {
            unreachable!()
        };
        let shared = shared.clone();
        let (hold_tx, hold_rx) = filch_sync::oneshot::channel::<()>();
        let (held_tx, held_rx) = std::sync::mpsc::channel();
        let holder = {
            let handle = rt.handle().clone();
            std::thread::spawn(move || {
                handle.block_on(async move {
                    held_tx.send(()).unwrap();
                    let _ = hold_rx.await;
                })
            })
        };
        held_rx.recv().unwrap();
        // This thread cannot get the core; its future wakes itself 1,000 times.
        rt.handle().block_on(WakeSelf(1_000));
        assert!(
            shared.num_core_waiters() <= 1,
            "{} waiters listed",
            shared.num_core_waiters()
        );
        hold_tx.send(()).unwrap();
        holder.join().unwrap();
    }
}
