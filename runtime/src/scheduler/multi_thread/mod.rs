//! The multi-thread, work-stealing scheduler.
//!
//! # Queues
//!
//! Each worker owns a FIFO [`crossbeam_deque::Worker`] (others steal from its
//! [`Stealer`]) and a one-task *LIFO slot* for the task it woke most recently: a message
//! passed between two tasks is handled while its data is still in cache. Thieves leave the
//! slot alone (only the LIFO watcher takes from it, once its owner is stuck in one poll: see
//! [`lifo_watch`]), and it is bounded: after [`worker::MAX_LIFO_POLLS`] consecutive LIFO
//! polls the occupant goes to the back of the deque, so two tasks waking each other cannot
//! starve the rest. Spawns and wakes from outside the runtime go to the shared [`Injector`],
//! which a worker checks every global-queue interval of ticks
//! ([`Intervals`](crate::scheduler::Intervals)) even when it has
//! local work, and whenever its local work runs out.
//!
//! # Stealing and sleeping
//!
//! A worker out of work becomes a *searcher* (at most half the workers search at once, see
//! [`idle`]), steals half of a victim's deque starting at a random victim, then tries the
//! injector. Failing that, it parks on its [`Parker`](crate::park::Parker). Publishing work
//! wakes at most one sleeper, and only when nobody is searching; a searcher that finds work
//! and was the last one wakes the next. The [`idle`] module docs argue why no wakeup is lost.
//!
//! # Shutdown
//!
//! [`Shared::shutdown`] raises the flag and unparks everyone, then at once drops what it
//! can: it closes the [`Registry`] (no task can be added), wakes every task it held and
//! drops what lands on the injector. A task waiting on something (a socket, a channel whose
//! sender another task holds) is dropped right there, before anything waits for a worker:
//! a `block_in_place` closure blocked on such a task's resources is unblocked by it. Each
//! worker leaves its loop after the poll it is in, drops the tasks in its own deque and
//! LIFO slot (the wake of a running task lands there too), and reports; the shutdown then
//! waits for the workers (at most its timeout) and drains the injector once more.
//!
//! A task can still reach the injector after that last drain: one that was running on a
//! thread `block_in_place` took out of the runtime, or on a worker shutdown stopped
//! waiting for, and was woken meanwhile. So every push onto the injector is followed by a
//! check of the shutdown flag (a `SeqCst` fence on both sides: the pusher pushes then reads
//! the flag, the shutdown sets the flag then drains), and a pusher that sees it drains the
//! injector itself. Either the last drain sees the task or its pusher sees the flag: every
//! future is dropped exactly once, and none is stranded.
mod idle;
pub(crate) mod lifo_slot;
mod lifo_watch;
mod worker;
mod worker_threads;

pub use idle::Idle;
pub use lifo_slot::LifoSlot;
pub(crate) use worker::hand_off_core;
pub use worker_threads::WorkerThreads;

use crate::driver::Driver;
use crate::park::{Parker, Unparker};
use crate::scheduler::poll_times::PollTimes;
use crate::scheduler::rand::{FastRand, RngSeed};
use crate::scheduler::ShutdownFlag;
use crate::scheduler::{EnterRuntime, ThreadConfig};
use crate::task::{self, registry::Registry, JoinHandle, Runnable};
use crossbeam_deque::{Injector, Stealer};
use crossbeam_utils::CachePadded;
use std::cell::Cell;
use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Counters of one worker, written only by the thread that owns its core (a plain
/// load-and-store, no read-modify-write), read by [`Handle::metrics`](crate::runtime::Handle::metrics).
#[derive(Debug, Default)]
pub(crate) struct WorkerCounters {
    pub(crate) polls: AtomicU64,
    pub(crate) spawns: AtomicU64,
    pub(crate) steals: AtomicU64,
    pub(crate) stolen_tasks: AtomicU64,
    pub(crate) parks: AtomicU64,
    pub(crate) forced_yields: AtomicU64,
    /// The poll-time histogram, if the runtime keeps one (`Builder::enable_poll_time_histogram`).
    poll_times: Option<Box<CachePadded<PollTimes>>>,
}

impl WorkerCounters {
    /// Zeroed counters, with a poll-time histogram if `poll_times`.
    pub(crate) fn new(poll_times: bool) -> WorkerCounters {
        WorkerCounters {
            poll_times: poll_times.then(Default::default),
            ..Default::default()
        }
    }

    /// The poll-time histogram, if the runtime keeps one.
    pub(crate) fn poll_times(&self) -> Option<&PollTimes> {
        self.poll_times.as_deref().map(|times| &**times)
    }
}

/// Adds `n` to a counter only its owner writes.
pub(crate) fn bump(counter: &AtomicU64, n: u64) {
    counter.store(counter.load(Ordering::Relaxed) + n, Ordering::Relaxed);
}

/// Registry shards per worker. A worker spreads the tasks it spawns over its own shards in
/// turn, so the thief that completes a task it stole rarely fights the spawner (busy
/// inserting the next ones) for the same lock.
pub(crate) const REGISTRY_SHARDS_PER_WORKER: usize = 4;

/// State shared by all workers of one multi-thread runtime.
pub(crate) struct Shared {
    /// Tasks from outside the runtime, and overflow.
    injector: CachePadded<Injector<Runnable>>,
    /// `stealers[i]` steals from worker `i`'s deque.
    stealers: Box<[Stealer<Runnable>]>,
    /// `unparkers[i]` wakes worker `i`.
    unparkers: Box<[Unparker]>,
    idle: CachePadded<Idle>,
    /// `lifo[i]`: worker `i`'s LIFO slot, each on its own line (its owner writes it on
    /// every wake it runs next).
    lifo: Box<[CachePadded<LifoSlot<Runnable>>]>,
    /// Held by the worker that watches the LIFO slots while it sleeps (one at most): see
    /// `lifo_watch`. Read by every push into an empty slot.
    lifo_watcher: CachePadded<std::sync::atomic::AtomicBool>,
    pub(crate) registry: Registry,
    /// The runtime's I/O and timer driver; idle workers take turns blocking in it.
    pub(crate) driver: Arc<Driver>,
    /// `counters[i]`: worker `i`'s metrics.
    pub(crate) counters: Box<[CachePadded<WorkerCounters>]>,
    /// Spawns from outside the workers, and sleepers woken by a notification (both off
    /// the hot paths: a remote spawn already writes the shared injector).
    pub(crate) remote_spawns: AtomicU64,
    pub(crate) notifications: AtomicU64,
    /// Raised once, by `shutdown`; workers leave their loops when they see it, and a push
    /// onto the injector checks it (see the module docs).
    shutdown: ShutdownFlag,
    /// Worker threads and loops still running: what `shutdown` waits on.
    threads: WorkerThreads,
    /// How often a busy worker checks the injector and polls the driver.
    intervals: crate::scheduler::Intervals,
    /// `Builder::rng_seed`: each worker's generator derives from it.
    rng_seed: Option<RngSeed>,
    /// `pinned_sets[i]`: the set of `spawn_local` tasks pinned to worker `i`'s thread (for
    /// dumps and task counts; written when a thread starts or stops driving worker `i`).
    pinned_sets: Box<[parking_lot::Mutex<Option<Arc<super::local_set::Shared>>>]>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("multi_thread::Shared")
            .field("workers", &self.stealers.len())
            .field("injector_len", &self.injector.len())
            .field("shutdown", &self.shutdown.is_raised())
            .finish_non_exhaustive()
    }
}

/// Builds the scheduler and starts its worker threads.
pub(crate) fn start(
    num_workers: usize,
    intervals: crate::scheduler::Intervals,
    config: &ThreadConfig,
    enter: &EnterRuntime,
    rng_seed: Option<RngSeed>,
    poll_times: bool,
) -> io::Result<(Arc<Shared>, Vec<std::thread::JoinHandle<()>>)> {
    let num_workers = num_workers.max(1);
    let driver = Driver::new(num_workers)?;
    let mut locals = Vec::with_capacity(num_workers);
    let mut parkers = Vec::with_capacity(num_workers);
    for _ in 0..num_workers {
        locals.push(crossbeam_deque::Worker::new_fifo());
        parkers.push(Parker::with_driver(Some(driver.clone())));
    }
    let shared = Arc::new(Shared {
        injector: CachePadded::new(Injector::new()),
        stealers: locals.iter().map(|w| w.stealer()).collect(),
        unparkers: parkers.iter().map(Parker::unparker).collect(),
        idle: CachePadded::new(Idle::new(num_workers)),
        lifo: (0..num_workers).map(|_| CachePadded::default()).collect(),
        lifo_watcher: CachePadded::new(std::sync::atomic::AtomicBool::new(false)),
        registry: Registry::new(num_workers * REGISTRY_SHARDS_PER_WORKER),
        driver,
        counters: (0..num_workers)
            .map(|_| CachePadded::new(WorkerCounters::new(poll_times)))
            .collect(),
        remote_spawns: AtomicU64::new(0),
        notifications: AtomicU64::new(0),
        shutdown: ShutdownFlag::new(),
        threads: WorkerThreads::new(),
        intervals,
        rng_seed,
        pinned_sets: (0..num_workers).map(|_| Default::default()).collect(),
    });
    let mut threads = Vec::with_capacity(num_workers);
    for (index, (local, parker)) in locals.into_iter().zip(parkers).enumerate() {
        shared.threads.starting();
        let spawned = config.spawn(index, {
            let shared = shared.clone();
            let config = config.clone();
            let enter = enter.clone();
            move || worker::run(shared, index, local, parker, &config, enter)
        });
        match spawned {
            Ok(thread) => threads.push(thread),
            Err(err) => {
                shared.threads.finished();
                // Stop the workers already running before reporting the error.
                shared.shutdown(threads, None);
                return Err(err);
            }
        }
    }
    Ok((shared, threads))
}

impl Shared {
    pub(crate) fn num_workers(&self) -> usize {
        self.stealers.len()
    }

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
        let shard = worker::spawn_shard(self).unwrap_or_else(remote_shard_hint);
        let (runnable, join) = task::create(self, shard, future, location, task::Kind::Async);
        if let Some(runnable) = runnable {
            // From a worker: its LIFO slot. From outside: straight to the injector (we
            // already hold the `Arc`, so no clone of it as in a remote wake).
            if let Err(runnable) = worker::schedule_local(runnable, false) {
                self.remote_spawns.fetch_add(1, Ordering::Relaxed);
                self.push_remote(runnable);
            }
        }
        join
    }

    /// Pushes a task from outside the workers and wakes one if needed; during shutdown,
    /// drops it instead (see the module docs: the push, then the flag check).
    fn push_remote(&self, runnable: Runnable) {
        if super::push_unless_shut_down(&self.injector, &self.shutdown, runnable) {
            self.notify_parked();
        }
    }

    /// [`notify_parked`](Self::notify_parked) for a worker's push onto its own deque (see
    /// [`Idle::worker_to_notify_local`]).
    #[inline]
    fn notify_parked_local(&self) {
        if let Some(worker) = self.idle.worker_to_notify_local() {
            self.notifications.fetch_add(1, Ordering::Relaxed);
            self.unparkers[worker].unpark();
        }
    }

    /// Wakes one sleeping worker if work was published and nobody is looking for it.
    fn notify_parked(&self) {
        if let Some(worker) = self.idle.worker_to_notify() {
            self.notifications.fetch_add(1, Ordering::Relaxed);
            self.unparkers[worker].unpark();
        }
    }

    /// The sets of tasks pinned to each worker (see `task::spawn_local`).
    pub(crate) fn pinned_sets(&self) -> Vec<Arc<super::local_set::Shared>> {
        self.pinned_sets
            .iter()
            .filter_map(|slot| slot.lock().clone())
            .collect()
    }

    /// Tasks waiting in the injector.
    pub(crate) fn injector_depth(&self) -> usize {
        self.injector.len()
    }

    /// Tasks in worker `i`'s deque (a snapshot).
    pub(crate) fn local_queue_depth(&self, i: usize) -> usize {
        self.stealers[i].len()
    }

    /// Whether any queue a searcher could take from holds a task.
    fn has_visible_work(&self) -> bool {
        !self.injector.is_empty() || self.stealers.iter().any(|s| !s.is_empty())
    }

    /// Whether the calling thread is one of this runtime's worker threads (see
    /// [`worker::is_thread_of`]).
    pub(crate) fn is_own_thread(&self) -> bool {
        worker::is_thread_of(self)
    }

    #[inline]
    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutdown.is_raised()
    }

    /// Stops the workers and drops every task: the idle ones at once, the queued ones as
    /// their workers stop, the running ones when their poll ends (see the module docs).
    /// Waits for the workers for at most `timeout` (forever with `None`); those that do not
    /// stop in time are left to finish on their own, and drop the tasks they hold when they
    /// do.
    pub(crate) fn shutdown(
        &self,
        threads: Vec<std::thread::JoinHandle<()>>,
        timeout: Option<Duration>,
    ) {
        // A push the drains below miss sees the flag (see `ShutdownFlag`).
        self.shutdown.raise();
        for unparker in self.unparkers.iter() {
            unparker.unpark();
        }
        // Drop what can be dropped before waiting on what cannot.
        let mut dropped = super::drop_all_tasks(&self.registry, &self.injector);
        // Sources still alive (owned outside any task) fail from now on.
        self.driver.shutdown();
        // Every loop must end; without a timeout, also every thread (including ones a
        // `block_in_place` left finishing its closure), so hooks have run.
        self.threads
            .wait_stopped(self.num_workers(), timeout.map(|t| Instant::now() + t));
        for thread in threads {
            // A late worker, or a thread whose core `block_in_place` handed off and which
            // is still in the blocking closure: leave it to finish on its own.
            if timeout.is_some() && !thread.is_finished() {
                continue;
            }
            // A worker never panics out of its loop (tasks' and hooks' panics are caught).
            let _ = thread.join();
        }
        // Tasks that were running when the first drain woke them came back since.
        dropped += super::drop_all_tasks(&self.registry, &self.injector);
        super::release_freed_memory(dropped);
    }
}

impl task::Schedule for Shared {
    #[inline]
    fn schedule(task: Runnable, yielded: bool) {
        schedule(task, yielded);
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

/// Schedules a task of a multi-thread runtime: on one of its workers, into that worker's
/// LIFO slot (or deque, if it yielded); anywhere else, into the injector.
pub(crate) fn schedule(runnable: Runnable, yielded: bool) {
    let runnable = match worker::schedule_local(runnable, yielded) {
        Ok(()) => return,
        Err(runnable) => runnable,
    };
    let shared = runnable
        .metadata()
        .scheduler_as::<Shared>()
        .expect("multi-thread schedule of another scheduler's task");
    shared.push_remote(runnable);
}

/// A registry shard for a spawn from outside the workers: spread per thread.
fn remote_shard_hint() -> usize {
    thread_local! {
        static RNG: FastRand = FastRand::new(FastRand::seed());
        static HINT: Cell<Option<usize>> = const { Cell::new(None) };
    }
    HINT.with(|hint| match hint.get() {
        Some(h) => h,
        None => {
            let h = RNG.with(|rng| rng.below(1 << 16));
            hint.set(Some(h));
            h
        }
    })
}

/// 32 bits from the generator of the worker on this thread, if any (see [`worker::random_u32`]).
#[inline]
pub(crate) fn random_u32() -> Option<u32> {
    worker::random_u32()
}
