//! One worker thread: its run loop, its queues, and how it finds work.
//!
//! The loop, per tick: take the next task (the injector and then the pinned tasks every
//! global-queue interval of ticks, see [`Intervals`](crate::scheduler::Intervals), else the
//! LIFO slot up to [`MAX_LIFO_POLLS`] times in a row, else the local deque, else a pinned
//! task, else a batch from the injector); failing that, search (steal from a random victim,
//! then the injector); failing that, park.
//!
//! The LIFO slot lives in `Shared` ([`LifoSlot`]) so that a sleeping worker, the *LIFO
//! watcher* ([`LifoWatch`]), can rescue its task when this worker is stuck in one poll;
//! thieves searching for work never take from it.
//!
//! *Pinned* tasks are the `spawn_local` tasks of this worker's thread; they live in the
//! thread's [`WorkerSet`] (see `task::local_set`), never in a stealable queue. A worker
//! with live pinned tasks is never handed to another thread: `block_in_place` runs its
//! closure in place instead ([`hand_off_core`]).
//!
//! A task's wake calls [`schedule_local`]: through the thread-local [`CURRENT`] pointer it
//! finds this worker's [`Context`] and pushes onto the LIFO slot or the deque without
//! touching shared state (beyond a fenced read of the idle counts when the deque grows; a
//! task that woke itself while running, a yield, reads nothing shared: the maintenance
//! every event interval tells a sleeper about the work it left queued).
use super::lifo_slot::LifoSlot;
use super::lifo_watch::LifoWatch;
use super::Shared;
use crate::park::Parker;
use crate::scheduler::local_set::{self, WorkerSet};
use crate::scheduler::poll_times::{self, PollTimes};
use crate::scheduler::{self, rand::FastRand, steal_one, Countdown};
use crate::scheduler::{EnterRuntime, ThreadConfig};
use crate::task::Runnable;
use crossbeam_deque::Steal;
use std::cell::Cell;
use std::ptr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Backoff steps a searcher spins, watching the queues, before it parks (a few
/// microseconds in all; only searchers spin, and at most half the workers search).
const SPIN_ROUNDS: u32 = 16;

/// Consecutive polls from the LIFO slot before its occupant must queue like everyone else.
pub(super) const MAX_LIFO_POLLS: u32 = 3;

thread_local! {
    /// The worker running on this thread, or null. Set for the whole of [`run`].
    static CURRENT: Cell<*mut Context> = const { Cell::new(ptr::null_mut()) };
}

/// One worker's *core*: the state its thread (and the tasks it runs) touch.
///
/// # Invariants
/// Heap-allocated and owned by exactly one thread at a time, the one running
/// [`run_thread`] with it; [`CURRENT`] points to it on that thread only, so a reference
/// obtained through `CURRENT` never dangles. [`hand_off_core`] transfers ownership to a new
/// thread; the old one clears `CURRENT` first and never touches the core again (its
/// `run_loop` returns as soon as the current task's poll does). The owner frees it when
/// its loop ends at shutdown. `Context` is `!Sync` (`Cell`s, the deque's `Worker`): it is
/// only ever used by its owner.
struct Context {
    /// Enters this runtime's context, on whichever thread drives the core.
    enter: EnterRuntime,
    /// Thread naming, stack size and hooks, for the thread a hand-off starts.
    config: ThreadConfig,
    /// Where this worker sleeps (condvar, or the driver).
    parker: Parker,
    shared: Arc<Shared>,
    index: usize,
    local: crossbeam_deque::Worker<Runnable>,
    /// This worker's LIFO slot, `&shared.lifo[index]`, kept as a pointer: the hottest
    /// field of the core, read on every wake and every tick (see [`lifo`](Self::lifo)).
    lifo: ptr::NonNull<LifoSlot<Runnable>>,
    /// This worker's part in rescuing tasks from stuck workers' LIFO slots.
    watch: LifoWatch,
    /// Whether this worker counts itself as searching in [`Idle`](super::Idle).
    searching: Cell<bool>,
    /// Due every global-queue interval: check the injector first, so remote work is never
    /// starved by a busy local queue.
    global_queue: Countdown,
    /// Due every event interval: poll the driver without blocking, so I/O and timers are
    /// served even when no worker is idle.
    driver_poll: Countdown,
    lifo_polls: Cell<u32>,
    /// Tasks spawned on this worker (picks the registry shard).
    spawns: Cell<usize>,
    rng: FastRand,
}

/// Runs `f` with this thread's worker context if it belongs to `shared`'s runtime.
fn with_context<R>(f: impl FnOnce(Option<&Context>) -> R) -> R {
    let cx = CURRENT.with(Cell::get);
    // SAFETY: `CURRENT` is non-null only on the thread that owns the `Context` it points to,
    // while it owns it (see the `Context` invariants), and we are on that thread.
    f(unsafe { cx.as_ref() })
}

/// The registry shard for a task spawned on this thread, if it is a worker of `shared`:
/// the worker's own shards, in turn (see `REGISTRY_SHARDS_PER_WORKER`).
pub(super) fn spawn_shard(shared: &Arc<Shared>) -> Option<usize> {
    with_context(|cx| {
        cx.filter(|cx| Arc::ptr_eq(&cx.shared, shared)).map(|cx| {
            let turn = cx.spawns.get().wrapping_add(1);
            cx.spawns.set(turn);
            cx.index * super::REGISTRY_SHARDS_PER_WORKER + turn % super::REGISTRY_SHARDS_PER_WORKER
        })
    })
}

/// 32 bits from the generator of the worker running on this thread, if any (`select!`'s
/// starting branch).
pub(super) fn random_u32() -> Option<u32> {
    with_context(|cx| cx.map(|cx| cx.rng.next_u32()))
}

/// Pushes `runnable` onto this thread's worker if it is a worker of the task's runtime;
/// otherwise hands it back.
pub(super) fn schedule_local(runnable: Runnable, yielded: bool) -> Result<(), Runnable> {
    with_context(|cx| {
        let Some(cx) = cx else { return Err(runnable) };
        if !runnable.metadata().is_owned_by(&*cx.shared) {
            return Err(runnable);
        }
        cx.push_local(runnable, yielded);
        Ok(())
    })
}

/// The body of a worker thread.
pub(super) fn run(
    shared: Arc<Shared>,
    index: usize,
    local: crossbeam_deque::Worker<Runnable>,
    parker: Parker,
    config: &ThreadConfig,
    enter: EnterRuntime,
) {
    let intervals = shared.intervals;
    let rng = match shared.rng_seed {
        Some(seed) => seed.generator(index),
        None => FastRand::new(FastRand::seed() ^ index as u64),
    };
    let workers = shared.stealers.len();
    let lifo = ptr::NonNull::from(&*shared.lifo[index]);
    let core = Box::new(Context {
        enter,
        config: config.clone(),
        shared,
        index,
        local,
        lifo,
        watch: LifoWatch::new(workers),
        searching: Cell::new(false),
        global_queue: Countdown::new(intervals.global_queue),
        driver_poll: Countdown::new(intervals.event),
        lifo_polls: Cell::new(0),
        spawns: Cell::new(0),
        rng,
        parker,
    });
    run_thread(CorePtr(Box::into_raw(core)));
}

/// Owning pointer to a worker's [`Context`] (its *core*), passed between threads by
/// [`block_in_place`](crate::task::block_in_place).
struct CorePtr(*mut Context);

// SAFETY: a `CorePtr` is the unique owner of a heap `Context` (see `Context`'s invariants);
// sending it sends that ownership, and `Context`'s fields are all `Send`.
unsafe impl Send for CorePtr {}

/// The body of a worker thread: drives `core` until shutdown, or until a task on this
/// thread calls [`block_in_place`](crate::task::block_in_place), which hands the core to a
/// new thread.
///
/// Everything the thread needs after its loop is cloned out of the core first: once the
/// core is handed off, its new owner may free it (shutdown) at any moment, so this thread
/// never reads it again, and no reference to it is alive across a task's poll.
fn run_thread(core: CorePtr) {
    let (shared, config, enter, index) = {
        // SAFETY: `core` owns a live `Context` (CorePtr invariant) and this thread is its
        // only user until it frees it or hands it off; the borrow ends in this block.
        let cx = unsafe { &*core.0 };
        (
            cx.shared.clone(),
            cx.config.clone(),
            cx.enter.clone(),
            cx.index,
        )
    };
    let _runtime = enter(&scheduler::Handle::MultiThread(shared.clone()));
    let _stall_slot = crate::scheduler::stall::SlotGuard::enter(config.stall.as_ref(), index);
    THREAD_OF.with(|t| t.set(Arc::as_ptr(&shared)));
    CURRENT.with(|c| c.set(core.0));
    crate::task::stats::set_worker(Some(index));
    let pinned = PinnedSlot::install(&shared, index);
    config.run_start_hook();
    {
        let _span = crate::trace::worker("multi_thread", index);
        let poll_times = shared.counters[index].poll_times();
        if !run_loop(core.0, poll_times, config.stall.is_some()) {
            // Pinned tasks first, while the core still takes the wakes their drops make.
            drop(pinned);
            // SAFETY: not handed off, so this thread still owns the core; the borrow ends
            // before the core is freed below.
            unsafe { &*core.0 }.drop_local_tasks();
            CURRENT.with(|c| c.set(ptr::null_mut()));
            // SAFETY: as above; nothing refers to the core any more (`CURRENT` is cleared).
            drop(unsafe { Box::from_raw(core.0) });
            shared.threads.loop_exited();
        }
    }
    config.run_stop_hook();
    crate::task::stats::set_worker(None);
    THREAD_OF.with(|t| t.set(ptr::null()));
    shared.threads.finished();
}

/// This thread's [`WorkerSet`], listed in `Shared::pinned_sets[index]` while installed.
struct PinnedSlot {
    set: WorkerSet,
    shared: Arc<Shared>,
    index: usize,
}

impl PinnedSlot {
    fn install(shared: &Arc<Shared>, index: usize) -> PinnedSlot {
        let set = WorkerSet::install(shared.unparkers[index].clone());
        *shared.pinned_sets[index].lock() = Some(set.shared().clone());
        PinnedSlot {
            set,
            shared: shared.clone(),
            index,
        }
    }
}

impl Drop for PinnedSlot {
    fn drop(&mut self) {
        let mut slot = self.shared.pinned_sets[self.index].lock();
        // After a hand-off the new thread listed its own set: leave that one.
        if slot
            .as_ref()
            .is_some_and(|s| Arc::ptr_eq(s, self.set.shared()))
        {
            *slot = None;
        }
        // The set itself (and its tasks) drops after this, on this thread.
    }
}

/// The worker loop. Returns `true` if a task handed the core to another thread
/// ([`block_in_place`](crate::task::block_in_place)), `false` at shutdown.
///
/// A `&Context` is only made between polls: a task's poll may hand the core away, and its
/// new owner may free it before the poll returns.
///
/// With `poll_times`, each poll is timed into this worker's histogram; `watched`: the
/// runtime detects stalls (this thread has a stall slot).
fn run_loop(core: *mut Context, poll_times: Option<&PollTimes>, watched: bool) -> bool {
    loop {
        let task = {
            // SAFETY: this thread owns the core: it has not handed it off (the loop returns
            // right after a poll that did), and the borrow ends before the next poll.
            let cx = unsafe { &*core };
            match cx.next_runnable() {
                Some(task) => task,
                None => return false,
            }
        };
        if poll_times::run_timed(task, poll_times, watched, || {
            HANDED_OFF.with(|h| h.replace(false))
        }) {
            return true;
        }
    }
}

thread_local! {
    /// The runtime this thread is a worker thread of, for the whole life of the thread
    /// (also after `block_in_place` handed its core away), or null.
    static THREAD_OF: Cell<*const Shared> = const { Cell::new(ptr::null()) };
}

/// Whether this thread is one of `shared`'s worker threads (a worker, or a thread whose
/// core `block_in_place` handed off): shutting the runtime down from it must not wait for
/// the runtime's threads, this one among them.
pub(super) fn is_thread_of(shared: &Shared) -> bool {
    THREAD_OF.with(|t| ptr::eq(t.get(), shared))
}

thread_local! {
    /// Set on a worker thread whose core [`block_in_place`](crate::task::block_in_place) gave away: when the current
    /// task's poll returns, the thread leaves its loop without touching the core again.
    static HANDED_OFF: Cell<bool> = const { Cell::new(false) };
}

/// What [`hand_off_core`] did with this thread's worker.
pub(crate) enum HandOff {
    /// The core moved to a new thread; this one leaves the runtime after the current poll.
    Moved,
    /// The core stays (it has pinned tasks, or no thread could be started), hidden from
    /// this thread until the guard drops, so the blocking closure's spawns and wakes go to
    /// the other workers, which also take this worker's queued tasks meanwhile.
    InPlace {
        /// Kept for its `Drop`.
        _guard: InPlace,
    },
}

/// Puts the worker back on this thread when the blocking closure is done; see [`HandOff`].
pub(crate) struct InPlace {
    core: *mut Context,
    index: usize,
    _pinned: local_set::HiddenWorkerSet,
}

impl Drop for InPlace {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.core));
        crate::task::stats::set_worker(Some(self.index));
    }
}

/// Runs `f`, a blocking closure, on the current thread; see
/// [`filch::task::block_in_place`](crate::task::block_in_place).
///
/// On a worker, the worker's core (queues, LIFO slot, parker, index) moves to a new thread
/// first, so the runtime keeps its full set of workers while `f` blocks this one; this
/// thread leaves the runtime when the current task's poll returns. A worker with pinned
/// tasks stays instead ([`HandOff::InPlace`]): they may only run on this thread. Returns
/// `None` if this thread is not a worker (the caller decides what that means).
pub(crate) fn hand_off_core() -> Option<HandOff> {
    let core = CURRENT.with(|c| c.replace(ptr::null_mut()));
    if core.is_null() {
        return None;
    }
    // Whatever this thread polls inside the closure (a `LocalSet` it drives) is not the
    // worker's: dumps show no worker for it.
    crate::task::stats::set_worker(None);
    if local_set::has_pinned_tasks() {
        return Some(stay_in_place(core));
    }
    // The poll in progress here blocks on purpose: it is no longer the worker's.
    crate::scheduler::stall::leave_slot();
    // SAFETY: `CURRENT` pointed at this thread's core, which is alive (Context invariants).
    let config = unsafe { &*core }.config.clone();
    let owned = CorePtr(core);
    // SAFETY: as above, the core is alive while this thread owns it.
    let shared = unsafe { &*core }.shared.clone();
    shared.threads.starting();
    // The new thread installs its own pinned set; this one's is empty (checked above).
    local_set::detach_worker_set();
    match config.spawn(0, move || run_thread(owned)) {
        Ok(_detached) => {
            HANDED_OFF.with(|h| h.set(true));
            Some(HandOff::Moved)
        }
        Err(_) => {
            shared.threads.finished();
            // No thread for the core: it stays here (`f` then blocks this worker, which
            // still beats failing). The unrun closure held only the pointer.
            Some(stay_in_place(core))
        }
    }
}

/// Keeps `core` (already taken out of `CURRENT`) on this thread while a blocking closure
/// runs: its LIFO task goes where thieves can reach it, and a sleeping worker is told.
fn stay_in_place(core: *mut Context) -> HandOff {
    // SAFETY: this thread owns the core (it was in `CURRENT`); the borrow ends here.
    let cx = unsafe { &*core };
    if let Some(task) = cx.lifo().take() {
        cx.local.push(task);
    }
    if !cx.local.is_empty() {
        cx.shared.notify_parked();
    }
    HandOff::InPlace {
        _guard: InPlace {
            core,
            index: cx.index,
            _pinned: local_set::hide_worker_set(),
        },
    }
}

impl Context {
    /// Finds the next task to run, searching and parking as needed, and does the
    /// bookkeeping of starting a poll; `None` once the runtime shuts down.
    fn next_runnable(&self) -> Option<Runnable> {
        while !self.shared.is_shutting_down() {
            if self.driver_poll.tick() {
                self.poll_driver();
            }
            if let Some(task) = self.next_task().or_else(|| self.search()) {
                self.start_poll();
                return Some(task);
            }
            if self.searching.get() && self.spin_for_work() {
                continue;
            }
            self.park();
        }
        self.watch.stop(&self.shared);
        None
    }

    fn counters(&self) -> &super::WorkerCounters {
        &self.shared.counters[self.index]
    }

    /// Counts the poll about to run and, if this worker was searching, stops searching.
    fn start_poll(&self) {
        super::bump(&self.counters().polls, 1);
        if self.watch.is_watching() {
            self.watch.hand_off(&self.shared, self.index);
        }
        if self.searching.replace(false) && self.shared.idle.transition_from_searching() {
            // The last searcher found work: there may be more, so wake the next one.
            self.shared.notify_parked();
        }
    }

    fn next_task(&self) -> Option<Runnable> {
        if self.global_queue.tick() {
            if let Some(task) = steal_one(|| self.shared.injector.steal()) {
                return Some(task);
            }
            if let Some(task) = local_set::pop_pinned() {
                return Some(task);
            }
        }
        if let Some(task) = self.lifo().take() {
            if self.lifo_polls.get() < MAX_LIFO_POLLS {
                self.lifo_polls.set(self.lifo_polls.get() + 1);
                return Some(task);
            }
            self.local.push(task);
        }
        self.lifo_polls.set(0);
        self.local
            .pop()
            .or_else(local_set::pop_pinned)
            .or_else(|| steal_one(|| self.shared.injector.steal_batch_and_pop(&self.local)))
    }

    /// Steals from other workers (random start) and then the injector, as a searcher.
    fn search(&self) -> Option<Runnable> {
        if !self.searching.get() {
            if !self.shared.idle.transition_to_searching() {
                return None;
            }
            self.searching.set(true);
        }
        let stealers = &self.shared.stealers;
        let n = stealers.len();
        for _ in 0..2 {
            let mut retry = false;
            let start = self.rng.below(n);
            for victim in (start..n).chain(0..start) {
                if victim == self.index {
                    continue;
                }
                match stealers[victim].steal_batch_and_pop(&self.local) {
                    Steal::Success(task) => {
                        let counters = self.counters();
                        super::bump(&counters.steals, 1);
                        super::bump(&counters.stolen_tasks, 1 + self.local.len() as u64);
                        return Some(task);
                    }
                    Steal::Retry => retry = true,
                    Steal::Empty => {}
                }
            }
            match self.shared.injector.steal_batch_and_pop(&self.local) {
                Steal::Success(task) => return Some(task),
                Steal::Retry => retry = true,
                Steal::Empty => {}
            }
            if !retry {
                break;
            }
        }
        None
    }

    /// A searcher that found nothing watches the queues for a moment before parking:
    /// work often arrives within microseconds (a producer spawning in a loop), and a park
    /// plus a wakeup costs two context switches. Bounded: [`SPIN_ROUNDS`] backoff steps.
    fn spin_for_work(&self) -> bool {
        let backoff = crossbeam_utils::Backoff::new();
        for _ in 0..SPIN_ROUNDS {
            if self.shared.has_visible_work() {
                return true;
            }
            backoff.spin();
        }
        false
    }

    fn park(&self) {
        self.flush_counters();
        super::bump(&self.counters().parks, 1);
        let parker = &self.parker;
        let idle = &self.shared.idle;
        // The LIFO watch is taken before joining the sleepers: a push into an empty slot
        // that sees this worker asleep sees the watch too (see `lifo_watch`).
        let watching = self.watch.try_start(&self.shared);
        let last_searcher = idle.transition_to_parked(self.index, self.searching.replace(false));
        // And once more after: a watcher that gave the watch up between the two looks (to
        // run a task) may have found this worker still counted as searching and woken
        // nobody; counted asleep now (fenced), either its wake-up reaches a sleeper or this
        // look sees the watch free (found in review).
        let watching = watching || self.watch.try_start(&self.shared);
        if watching {
            idle.wake_last(self.index);
        }
        if last_searcher && self.shared.has_visible_work() {
            // We were the last searcher and work appeared meanwhile: make sure somebody
            // (possibly us: we are on the sleeper list already) goes after it.
            self.shared.notify_parked();
        }
        // Sticky over the loop: a round that left the driver spuriously, followed by a
        // round that returns at once on a token (a pinned task's remote wake unparks this
        // worker without the idle protocol), has still left the driver, and the hand-over
        // below must not be skipped (found in review).
        let mut left_driver = false;
        loop {
            crate::trace::park(self.index);
            left_driver |= if self.watch.is_watching() {
                parker.park_timeout_reporting_driver(self.watch.until_next_look())
            } else {
                parker.park_reporting_driver()
            };
            crate::trace::unpark(self.index);
            // Tasks it rescues land on our deque, which gets us up below.
            self.watch.look(&self.shared, self.index, &self.local);
            let getting_up = if self.shared.is_shutting_down() || self.has_local_work() {
                // Shutting down, or the driver woke tasks onto our own queue while we
                // slept in it: get up whether or not anyone notified us. If a notifier
                // did take us off the list, it counted us as searching: keep that count
                // right (a leaked searcher would stop every later notification).
                if !idle.unpark_self(self.index) {
                    self.searching.set(true);
                }
                true
            } else if !idle.is_sleeping(self.index) {
                // A notifier took us off the list and counted us as searching.
                self.searching.set(true);
                true
            } else {
                // Spurious: still on the list, sleep again.
                false
            };
            if getting_up {
                // A watcher keeps the watch until it starts a poll (`start_poll`).
                if left_driver {
                    self.hand_over_driver();
                }
                return;
            }
        }
    }

    /// This worker just left the driver (to run what it woke, or because it was
    /// notified): if another worker sleeps on its condvar, wake it so that it takes the
    /// driver over. Otherwise nobody would wait on the OS until this worker parks again
    /// (busy workers only poll the driver every event interval of ticks), and one
    /// long poll would delay every timer and I/O event of the runtime.
    fn hand_over_driver(&self) {
        if self.shared.is_shutting_down() {
            return;
        }
        if let Some(sleeper) = self.shared.idle.sleeper_other_than(self.index) {
            // A spurious wakeup for the sleeper: still on the sleeper list, it parks
            // again, and this time finds the driver free.
            self.shared.unparkers[sleeper].unpark();
        }
    }

    /// Whether this worker's own queues, or its pinned tasks, hold a task.
    fn has_local_work(&self) -> bool {
        self.lifo().is_occupied() || !self.local.is_empty() || local_set::has_pinned_work()
    }

    /// This worker's LIFO slot (in `Shared`, where the LIFO watcher can reach it).
    #[inline]
    fn lifo(&self) -> &LifoSlot<Runnable> {
        // SAFETY: `self.lifo` points into `self.shared.lifo`, a boxed slice that never
        // moves or shrinks while `Shared` lives, and `self.shared` keeps it alive for as
        // long as this core exists.
        unsafe { self.lifo.as_ref() }
    }

    /// Folds thread-local counts (spawns, budget-forced yields) into the metrics.
    fn flush_counters(&self) {
        let counters = self.counters();
        counters.spawns.store(
            self.spawns.get() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        super::bump(
            &counters.forced_yields,
            crate::task::coop::take_forced_yields(),
        );
    }

    /// Serves I/O events and due timers without blocking, if no other worker is in the
    /// driver (busy workers must not starve them).
    fn poll_driver(&self) {
        self.flush_counters();
        // Yields push without telling anyone (see `push_local`): tell now.
        if self.should_notify_others() {
            self.shared.notify_parked_local();
        }
        if let Some(mut driver) = self.shared.driver.try_lock() {
            driver.poll_now();
        }
    }

    /// Pushes a task woken (or spawned) on this worker.
    fn push_local(&self, task: Runnable, yielded: bool) {
        if yielded {
            // A task that woke itself while running (a yield, mostly) goes to the back of
            // the deque, and nobody is told: this worker is busy anyway. Were thieves asleep
            // while it has more than it can run next, the maintenance in `poll_driver`
            // wakes one, every event interval; a yield loop then does not pay for a look
            // at the shared idle state on every yield.
            self.local.push(task);
            return;
        }
        match self.lifo().push(task) {
            None => {
                // The slot is not announced to thieves (they would break up a message
                // and its reply), but a task there must not wait behind a poll that
                // blocks this worker: unless a watcher already looks at the slots, wake a
                // sleeper, which becomes one when it goes back to sleep. One relaxed load
                // while a watcher exists or nobody sleeps.
                if !self.shared.lifo_watcher.load(Ordering::Relaxed) {
                    self.shared.notify_parked_local();
                }
                return;
            }
            Some(previous) => self.local.push(previous),
        }
        if self.should_notify_others() {
            self.shared.notify_parked_local();
        }
    }

    /// Whether this worker has more queued work than it will get to next, so that
    /// another worker could usefully steal.
    fn should_notify_others(&self) -> bool {
        if self.searching.get() {
            // A searcher wakes the next worker when it finds work (`run_task`).
            return false;
        }
        usize::from(self.lifo().is_occupied()) + self.local.len() > 1
    }

    /// Drops every task left in this worker's queues (shutdown). Dropping one may wake or
    /// spawn others onto this worker, so repeat until both are empty.
    fn drop_local_tasks(&self) {
        loop {
            let task = self.lifo().take().or_else(|| self.local.pop());
            match task {
                Some(task) => scheduler::drop_task(task),
                None => break,
            }
        }
    }
}
