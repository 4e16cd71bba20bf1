//! The two schedulers and the handle that routes work to either.
//!
//! * [`multi_thread`]: one OS thread per worker, each with a local deque and a LIFO slot,
//!   a shared injector, work stealing and an idle protocol that wakes one worker at a time.
//! * [`current_thread`]: everything runs on the thread inside `block_on`.
//!
//! A task's [`Header`](crate::task) holds its scheduler as a
//! [`Schedule`](crate::task::Schedule) object, which each scheduler's `Shared` implements:
//! a wake calls the scheduler's schedule function, which sends the task back to the
//! scheduler it was spawned on. [`Handle`] is the runtime's view: either flavor, for
//! spawning, blocking on and shutting down.
pub(crate) mod current_thread;
pub(crate) mod local_set;
pub(crate) mod multi_thread;

mod intervals;
pub(crate) mod poll_times;
mod rand;
pub(crate) use rand::RngSeed;
mod shutdown_flag;
pub(crate) mod stall;
mod thread_config;

pub(crate) use intervals::{Countdown, Intervals};
pub use shutdown_flag::ShutdownFlag;
pub(crate) use thread_config::{EnterRuntime, ThreadConfig};

use crate::task::{self, coop, registry::Registry, JoinHandle, Runnable};
use crossbeam_deque::{Injector, Steal};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// Runs one poll of a task with a fresh cooperative budget.
///
/// The task's own panics are caught inside it (see [`crate::task`]); this also contains a
/// panic from the destructor of a cancelled future, which must not take a worker down.
pub(crate) fn run_task(task: Runnable) {
    let _poll = stall::PollGuard::begin(task.metadata().id);
    run_task_unwatched(task);
}

/// [`run_task`] on a thread whose runtime has no stall detector: the same poll, without the
/// stall slot's bookkeeping, which would find no slot (see `docs/performance.md` for what
/// that saves).
#[inline]
pub(crate) fn run_task_unwatched(task: Runnable) {
    let _ = catch_unwind(AssertUnwindSafe(|| coop::budget(|| task.run())));
}

/// Drops a task and its future, containing a panic from the future's destructor.
pub(crate) fn drop_task(task: Runnable) {
    let _ = catch_unwind(AssertUnwindSafe(move || drop(task)));
}

/// 32 random bits from the scheduler driving this thread (seeded by `Builder::rng_seed`),
/// or `None` off the runtime's threads: where an unbiased `select!` starts.
#[inline]
pub(crate) fn random_u32() -> Option<u32> {
    current_thread::random_u32().or_else(multi_thread::random_u32)
}

/// Shutdown's drain: closes `registry` to new tasks, wakes every task it still held (an
/// idle one lands on `injector`, since the scheduler no longer runs it; a queued or running
/// one is already some worker's to drop) and drops what lands there. Dropping a future may
/// wake others, so it repeats until a round finds nothing. Safe to run concurrently with
/// itself and with [`drain_injector`]. Returns about how many tasks it dropped: the ones
/// it woke (a woken idle task is dropped by this thread, in the drain here or in the
/// shutdown check of the push that its wake made) and the ones it drained.
pub(crate) fn drop_all_tasks(registry: &Registry, injector: &Injector<Runnable>) -> usize {
    let mut dropped = 0;
    loop {
        let wakers = registry.close_and_drain();
        let woke = wakers.len();
        for waker in wakers {
            waker.wake();
        }
        let drained = drain_injector(injector);
        dropped += woke + drained;
        if woke == 0 && drained == 0 {
            break;
        }
    }
    dropped
}

/// Pushes `runnable` onto a scheduler's shared queue, unless `shutdown` is raised by the
/// time it is there: then the pusher drains the queue itself (see [`ShutdownFlag`]) and
/// this returns `false`. `true`: the task is queued, wake someone to run it.
pub(crate) fn push_unless_shut_down(
    injector: &Injector<Runnable>,
    shutdown: &ShutdownFlag,
    runnable: Runnable,
) -> bool {
    injector.push(runnable);
    if shutdown.raised_after_push() {
        drain_injector(injector);
        return false;
    }
    true
}

/// Drops every task in `injector` (shutdown); returns how many there were.
pub(crate) fn drain_injector(injector: &Injector<Runnable>) -> usize {
    let mut dropped = 0;
    while let Some(task) = steal_one(|| injector.steal()) {
        dropped += 1;
        drop_task(task);
    }
    dropped
}

/// Runs `steal` until it succeeds or finds the queue empty (retrying on contention).
pub(crate) fn steal_one(mut steal: impl FnMut() -> Steal<Runnable>) -> Option<Runnable> {
    loop {
        match steal() {
            Steal::Success(task) => return Some(task),
            Steal::Empty => return None,
            Steal::Retry => std::hint::spin_loop(),
        }
    }
}

/// Tasks a shutdown must have dropped before it hands freed memory back to the OS.
const TRIM_AFTER_DROPPING: usize = 16 * 1024;

/// After a shutdown that dropped `dropped` tasks: gives the memory they occupied back to
/// the OS. glibc keeps freed small chunks in its bins and returns heap memory only from
/// the top of each arena, so a runtime that held a million tasks left ~170 MB resident
/// after its drop, with nothing live (docs/performance.md, "Memory after shutdown");
/// `malloc_trim` releases it (to ~3 MB). Other allocators need nothing.
pub(crate) fn release_freed_memory(dropped: usize) {
    if dropped < TRIM_AFTER_DROPPING {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only returns free memory to the OS; it is thread-safe and
    // touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// A reference to one scheduler (cheap to clone: one `Arc`).
#[derive(Debug, Clone)]
pub(crate) enum Handle {
    CurrentThread(Arc<current_thread::Shared>),
    MultiThread(Arc<multi_thread::Shared>),
}

impl Handle {
    pub(crate) fn registry(&self) -> &Registry {
        match self {
            Handle::CurrentThread(shared) => &shared.registry,
            Handle::MultiThread(shared) => &shared.registry,
        }
    }

    /// Whether the scheduler has begun shutting down: from then on a task is dropped
    /// instead of polled (see [`crate::task`]).
    #[inline]
    pub(crate) fn is_shutting_down(&self) -> bool {
        match self {
            Handle::CurrentThread(shared) => shared.is_shutting_down(),
            Handle::MultiThread(shared) => shared.is_shutting_down(),
        }
    }

    /// The runtime's I/O and timer driver.
    pub(crate) fn driver(&self) -> &Arc<crate::driver::Driver> {
        match self {
            Handle::CurrentThread(shared) => &shared.driver,
            Handle::MultiThread(shared) => &shared.driver,
        }
    }

    /// The time on this runtime's clock: virtual once its time was paused (see
    /// `filch::time::pause`), else the OS's.
    pub(crate) fn clock_now(&self) -> std::time::Instant {
        self.driver().time.clock.now()
    }

    /// What a blocking job holds while in flight so that a paused clock does not
    /// auto-advance past it: only the current-thread flavor auto-advances.
    pub(crate) fn inhibit_auto_advance(&self) -> Option<crate::driver::time::InhibitAutoAdvance> {
        match self {
            Handle::CurrentThread(shared) => {
                Some(crate::driver::time::InhibitAutoAdvance::new(&shared.driver))
            }
            _ => None,
        }
    }

    /// Allocates a blocking-pool task owned by this scheduler (see
    /// [`task::create`](crate::task), as a `Kind::Blocking` task).
    #[track_caller]
    pub(crate) fn create_blocking<F>(
        &self,
        shard_hint: usize,
        future: F,
        location: &'static std::panic::Location<'static>,
    ) -> (Option<Runnable>, JoinHandle<F::Output>)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            Handle::CurrentThread(shared) => {
                task::create(shared, shard_hint, future, location, task::Kind::Blocking)
            }
            Handle::MultiThread(shared) => {
                task::create(shared, shard_hint, future, location, task::Kind::Blocking)
            }
        }
    }

    #[track_caller]
    pub(crate) fn spawn<F>(
        &self,
        future: F,
        location: &'static std::panic::Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            Handle::CurrentThread(shared) => shared.spawn(future, location),
            Handle::MultiThread(shared) => shared.spawn(future, location),
        }
    }

    /// Blocks on `future`; the caller has entered the runtime context already.
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        match self {
            Handle::CurrentThread(shared) => shared.block_on(future),
            Handle::MultiThread(_) => crate::park::thread::block_on(future),
        }
    }

    /// Number of worker threads (1 for the current-thread flavor).
    pub(crate) fn num_workers(&self) -> usize {
        match self {
            Handle::CurrentThread(_) => 1,
            Handle::MultiThread(shared) => shared.num_workers(),
        }
    }
}
