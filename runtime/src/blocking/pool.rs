//! [`BlockingPool`]: the queue and threads that run blocking tasks.
//!
//! # State
//!
//! Everything lives under one mutex ([`State`]): the FIFO queue of runnables, the thread
//! counts, and the shutdown flag. A mutex is the right tool here: a blocking job is
//! expected to take far longer than the lock, and every transition (push and wake, wait,
//! time out, exit) has to see the counts and the queue together.
//!
//! # Growth and idling
//!
//! A push hands the job to an idle thread when there is one, otherwise starts a thread if
//! fewer than `max_threads` exist, otherwise leaves it queued for the next thread that
//! finishes. Threads take jobs in FIFO order.
//!
//! An idle thread counts itself in `num_idle` and waits on the condvar until
//! `keep_alive` has passed. A pusher that picks an idle thread *claims* it: it decrements
//! `num_idle` itself and increments `num_notify` before `notify_one`. A waking thread
//! first looks at `num_notify`: if it is non-zero, it takes one notification and goes back
//! to the queue, whatever woke it (a spurious wake, or its own time-out racing the notify).
//! So a claimed thread is never counted idle twice, a job pushed while a thread times out
//! is never stranded (either the pusher saw the thread idle and claimed it, or it did not
//! and started or found another), and a thread only exits when nobody claimed it.
//!
//! # Shutdown
//!
//! [`BlockingPool::shutdown`] (called by the runtime after its scheduler has stopped) sets
//! the flag (no more pushes; a refused runnable is dropped, resolving its `JoinHandle` as
//! cancelled) and wakes every idle thread. A queued job that a thread is already on its way
//! to (one per thread not running a job: a claimed idle thread, or one started for it) is
//! kept and runs, so a job spawned while the pool was below its cap always runs, however
//! soon the shutdown follows. The jobs queued behind busy threads at the cap are taken out
//! and dropped outside the lock. Then it waits for the running jobs: until every thread
//! has exited, or the timeout passes (the late threads then finish on their own). Threads that exited are
//! joined so their thread-locals are gone too. A pool thread that shuts its own runtime
//! down does not wait for itself.
use crate::scheduler;
use crate::task::{JoinHandle, Runnable};
use parking_lot::{Condvar, Mutex, MutexGuard};
use std::any::Any;
use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Default cap on the number of blocking threads.
pub(crate) const DEFAULT_MAX_THREADS: usize = 512;
/// Default time an idle blocking thread waits for work before it exits.
pub(crate) const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);

/// What a new pool thread runs first: it enters the runtime's context (so that
/// `Handle::current()` and `filch::spawn` work inside a job), which the runtime layer
/// above defines and so hands in. The guard it returns lives as long as the thread.
pub(crate) type EnterContext = Box<dyn FnOnce() -> Box<dyn Any> + Send>;

/// How the pool makes its threads.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) max_threads: usize,
    pub(crate) keep_alive: Duration,
    pub(crate) thread_name: String,
    pub(crate) stack_size: Option<usize>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_threads: DEFAULT_MAX_THREADS,
            keep_alive: DEFAULT_KEEP_ALIVE,
            thread_name: "filch-blocking".to_owned(),
            stack_size: None,
        }
    }
}

/// The blocking pool of one runtime. Lives in an `Arc` in the runtime's
/// [`crate::runtime::Handle`].
pub(crate) struct BlockingPool {
    state: Mutex<State>,
    /// Idle threads wait here for work or shutdown.
    work_cv: Condvar,
    /// `shutdown` waits here for the threads to exit.
    exit_cv: Condvar,
    config: Config,
    /// Spreads blocking tasks over the registry's shards.
    next_shard: AtomicUsize,
}

/// Everything the pool's threads and pushers share; only touched under `BlockingPool::state`.
#[derive(Default)]
struct State {
    /// Jobs not yet taken by a thread, oldest first.
    queue: VecDeque<Job>,
    /// Threads started and not yet exited.
    num_threads: usize,
    /// Threads waiting for work that no pusher has claimed (see the module docs).
    num_idle: usize,
    /// Threads running a job right now.
    num_running: usize,
    /// Notifications sent to claimed idle threads and not yet taken by one.
    num_notify: usize,
    /// Set once, by `shutdown`: no more pushes, threads exit when their job ends.
    shutdown: bool,
    /// Join handles of the live threads by id; a thread that exits on keep-alive removes
    /// (detaches) its own, `shutdown` joins the rest.
    threads: HashMap<usize, std::thread::JoinHandle<()>>,
    next_thread_id: usize,
}

thread_local! {
    /// On a pool thread: its pool (as an address, only compared) and its thread id.
    static POOL_THREAD: Cell<Option<(usize, usize)>> = const { Cell::new(None) };
}

impl BlockingPool {
    pub(crate) fn new(config: Config) -> Self {
        assert!(config.max_threads > 0, "a blocking pool needs a thread");
        Self {
            state: Mutex::new(State::default()),
            work_cv: Condvar::new(),
            exit_cv: Condvar::new(),
            config,
            next_shard: AtomicUsize::new(0),
        }
    }

    /// Spawns `f` as a blocking task owned by `scheduler` (its runtime's, whose pool is
    /// `self`), spawned at `location`; `context` makes what a thread started for it
    /// enters first.
    #[track_caller]
    pub(crate) fn spawn<F, R>(
        self: &Arc<Self>,
        scheduler: &scheduler::Handle,
        context: impl FnOnce() -> EnterContext,
        f: F,
        location: &'static std::panic::Location<'static>,
    ) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let shard = self.next_shard.fetch_add(1, Ordering::Relaxed);
        // A paused clock does not auto-advance while the job is in flight (`filch::time`).
        // Held by the queued job, not by `f`: it must outlive the wake of the job's
        // `JoinHandle`, or the clock could jump between `f`'s end and that wake.
        let inhibit = scheduler.inhibit_auto_advance();
        let (runnable, join) =
            scheduler.create_blocking(shard, super::BlockingTask::new(f), location);
        if let Some(runnable) = runnable {
            self.push(
                context,
                Job {
                    runnable,
                    _inhibit: inhibit,
                },
            );
        }
        join
    }

    /// Queues `job` and makes sure a thread will run it.
    #[track_caller]
    fn push(self: &Arc<Self>, context: impl FnOnce() -> EnterContext, job: Job) {
        let mut state = self.state.lock();
        if state.shutdown {
            drop(state);
            job.drop_unrun();
            return;
        }
        state.queue.push_back(job);
        if state.num_idle > 0 {
            state.num_idle -= 1;
            state.num_notify += 1;
            self.work_cv.notify_one();
            return;
        }
        if state.num_threads >= self.config.max_threads {
            // A running thread takes it when its job ends.
            return;
        }
        let id = state.next_thread_id;
        match self.start_thread(context(), id) {
            Ok(thread) => {
                state.next_thread_id += 1;
                state.num_threads += 1;
                state.threads.insert(id, thread);
            }
            Err(err) if state.num_threads == 0 => {
                // Nobody would ever run the job: refuse it loudly, like `thread::spawn`.
                let job = state.queue.pop_back();
                drop(state);
                if let Some(job) = job {
                    job.drop_unrun();
                }
                panic!("filch: failed to start a blocking-pool thread: {err}");
            }
            // A running thread takes it when its job ends.
            Err(_) => {}
        }
    }

    fn start_thread(
        self: &Arc<Self>,
        enter: EnterContext,
        id: usize,
    ) -> std::io::Result<std::thread::JoinHandle<()>> {
        let mut builder = std::thread::Builder::new().name(self.config.thread_name.clone());
        if let Some(size) = self.config.stack_size {
            builder = builder.stack_size(size);
        }
        let pool = self.clone();
        builder.spawn(move || run_thread(&pool, enter, id))
    }

    /// Stops the pool: refuses new jobs, drops the queued ones and waits for the running
    /// ones for at most `timeout` (forever with `None`). Returns whether every thread
    /// exited in time. Calling it again only waits again.
    pub(crate) fn shutdown(&self, timeout: Option<Duration>) -> bool {
        let deadline = timeout.map(|t| Instant::now() + t);
        let queued = {
            let mut state = self.state.lock();
            state.shutdown = true;
            self.work_cv.notify_all();
            // The first jobs of the queue, one per thread not running a job (idle,
            // claimed or just started), have a thread on its way: they run. The rest
            // wait behind busy threads at the cap: dropped.
            let on_their_way = state.num_threads - state.num_running;
            let keep = state.queue.len().min(on_their_way);
            state.queue.split_off(keep)
        };
        // Outside the lock: a job's destructor may spawn (and be refused) or block.
        for job in queued {
            job.drop_unrun();
        }
        let me = POOL_THREAD
            .with(Cell::get)
            .filter(|&(pool, _)| pool == self.addr())
            .map(|(_, id)| id);
        let mut state = self.state.lock();
        let others = |state: &State| state.num_threads - usize::from(me.is_some());
        while others(&state) > 0 {
            match deadline {
                None => self.exit_cv.wait(&mut state),
                Some(deadline) => {
                    if self.exit_cv.wait_until(&mut state, deadline).timed_out() {
                        break;
                    }
                }
            }
        }
        if others(&state) > 0 {
            return false;
        }
        let threads: Vec<_> = state
            .threads
            .drain()
            .filter(|&(id, _)| Some(id) != me)
            .map(|(_, thread)| thread)
            .collect();
        drop(state);
        for thread in threads {
            // Each has left its loop already; this waits for its thread-locals to go.
            let _ = thread.join();
        }
        true
    }

    /// Threads started and not yet exited.
    pub(crate) fn num_threads(&self) -> usize {
        self.state.lock().num_threads
    }

    /// Threads waiting for work (not counting those just handed a job).
    pub(crate) fn num_idle_threads(&self) -> usize {
        self.state.lock().num_idle
    }

    /// Jobs waiting for a thread.
    pub(crate) fn queue_depth(&self) -> usize {
        self.state.lock().queue.len()
    }

    fn addr(&self) -> usize {
        self as *const Self as usize
    }

    /// The body of a pool thread: run jobs, idle, exit on keep-alive or shutdown.
    fn work(&self, id: usize) {
        let mut state = self.state.lock();
        let timed_out = 'life: loop {
            while let Some(job) = state.queue.pop_front() {
                state.num_running += 1;
                MutexGuard::unlocked(&mut state, || job.run());
                state.num_running -= 1;
            }
            if state.shutdown {
                break false;
            }
            state.num_idle += 1;
            let deadline = Instant::now() + self.config.keep_alive;
            loop {
                let timed_out = self.work_cv.wait_until(&mut state, deadline).timed_out();
                if state.num_notify > 0 {
                    // Claimed by a pusher (who already took us out of `num_idle`).
                    state.num_notify -= 1;
                    continue 'life;
                }
                if state.shutdown || timed_out {
                    state.num_idle -= 1;
                    break 'life !state.shutdown;
                }
                // A spurious wake-up: keep waiting until the same deadline.
            }
        };
        if timed_out {
            // Nobody will join this thread: detach it.
            drop(state.threads.remove(&id));
        }
        state.num_threads -= 1;
        if state.shutdown {
            self.exit_cv.notify_all();
        }
    }
}

/// A pool thread: enters the runtime's context (but not as a driver: a blocking job may
/// call `block_on`), then works until the pool lets it go.
fn run_thread(pool: &BlockingPool, enter: EnterContext, id: usize) {
    let _context = enter();
    POOL_THREAD.with(|cell| cell.set(Some((pool.addr(), id))));
    pool.work(id);
    POOL_THREAD.with(|cell| cell.set(None));
}

/// A queued blocking task, with what holds a paused clock while it is in flight.
struct Job {
    runnable: Runnable,
    /// Dropped after the task ran (its `JoinHandle` woken) or was dropped unrun.
    _inhibit: Option<crate::driver::time::InhibitAutoAdvance>,
}

impl Job {
    /// Runs the blocking task.
    ///
    /// Not [`scheduler::run_task`]: that gives the poll a cooperative budget, which would
    /// make the futures a blocking closure drives itself (through `Handle::block_on`) yield
    /// every 128 operations for no one's benefit. Pool threads never set a budget, so their
    /// jobs run unconstrained. The job's own panic is caught inside the task; this contains
    /// one from the destructor of a cancelled closure.
    fn run(self) {
        let Job { runnable, _inhibit } = self;
        let _ = catch_unwind(AssertUnwindSafe(|| runnable.run()));
        // `_inhibit` drops here: after the wake of the joiner, which is queued by now.
    }

    /// Drops the task without running it (shutdown, no thread).
    fn drop_unrun(self) {
        scheduler::drop_task(self.runnable);
    }
}

impl fmt::Debug for BlockingPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingPool")
            .field("threads", &self.num_threads())
            .field("idle", &self.num_idle_threads())
            .field("queued", &self.queue_depth())
            .field("max_threads", &self.config.max_threads)
            .field("keep_alive", &self.config.keep_alive)
            .finish()
    }
}
