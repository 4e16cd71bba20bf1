//! [`Builder`]: configures and starts a [`Runtime`].
use super::{Handle, Runtime};
use crate::blocking::{self, BlockingPool};
use crate::scheduler::stall::{Stall, StallHook, StallMonitor};
use crate::scheduler::{self, current_thread, multi_thread, ThreadConfig};
use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

/// The smallest stack [`Builder::thread_stack_size`] gives a thread.
pub const MIN_THREAD_STACK_SIZE: usize = 64 * 1024;

/// Configures a runtime: its flavor, worker count and worker threads.
///
/// # Examples
///
/// ```
/// use filch::runtime::Builder;
///
/// let rt = Builder::new_multi_thread()
///     .worker_threads(2)
///     .thread_name("my-worker")
///     .on_thread_start(|| println!("worker up"))
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { filch::spawn(async { 1 }).await.unwrap() }), 1);
/// ```
pub struct Builder {
    flavor: Flavor,
    worker_threads: Option<usize>,
    /// `Builder::global_queue_interval` / `event_interval`; the flavor's defaults if unset.
    global_queue_interval: Option<u32>,
    event_interval: Option<u32>,
    /// `Builder::start_paused` (current-thread flavor only).
    start_paused: bool,
    /// `Builder::rng_seed`.
    rng_seed: Option<u64>,
    thread: ThreadConfig,
    /// Blocking-pool settings (its threads' stack size comes from `thread` at build).
    blocking: blocking::Config,
    /// `Builder::on_stall` / `disable_stall_detection`.
    stall: StallSetting,
    /// `Builder::enable_poll_time_histogram`.
    poll_time_histogram: bool,
}

/// Whether and how stalls are detected.
#[derive(Clone)]
enum StallSetting {
    /// On at 100 ms with a warning on stderr in debug builds; off in release builds.
    Default,
    Off,
    On(Duration, StallHook),
}

impl StallSetting {
    /// The threshold and hook to run with, if any.
    fn resolve(&self) -> Option<(Duration, StallHook)> {
        match self {
            StallSetting::Default if cfg!(debug_assertions) => Some((
                Duration::from_millis(100),
                Arc::new(crate::scheduler::stall::warn_on_stderr),
            )),
            StallSetting::Default | StallSetting::Off => None,
            StallSetting::On(threshold, hook) => Some((*threshold, hook.clone())),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    CurrentThread,
    MultiThread,
}

impl Builder {
    /// A builder for the multi-thread, work-stealing flavor (the default runtime).
    pub fn new_multi_thread() -> Self {
        Self::new(Flavor::MultiThread)
    }

    /// A builder for the current-thread flavor: no worker threads; tasks run on the thread
    /// inside [`Runtime::block_on`].
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = filch::runtime::Builder::new_current_thread().build().unwrap();
    /// let here = std::thread::current().id();
    /// let there = rt.block_on(async {
    ///     filch::spawn(async { std::thread::current().id() }).await.unwrap()
    /// });
    /// assert_eq!(here, there);
    /// ```
    pub fn new_current_thread() -> Self {
        Self::new(Flavor::CurrentThread)
    }

    fn new(flavor: Flavor) -> Self {
        Self {
            flavor,
            worker_threads: None,
            global_queue_interval: None,
            event_interval: None,
            start_paused: false,
            rng_seed: None,
            thread: ThreadConfig {
                name: Arc::new(|| "filch-worker".to_owned()),
                stack_size: None,
                on_start: None,
                on_stop: None,
                stall: None,
            },
            stall: StallSetting::Default,
            poll_time_histogram: false,
            blocking: blocking::Config::default(),
        }
    }

    /// Sets the number of worker threads (multi-thread flavor; default: the number of CPUs,
    /// from `num_cpus::get()`). Ignored by the current-thread flavor.
    ///
    /// # Panics
    ///
    /// Panics if `n` is zero.
    #[track_caller]
    pub fn worker_threads(&mut self, n: usize) -> &mut Self {
        assert!(
            n > 0,
            "`Builder::worker_threads` must be at least 1; use `Builder::new_current_thread()` \
             for a runtime without worker threads"
        );
        self.worker_threads = Some(n);
        self
    }

    /// Names the worker threads (default `"filch-worker"`).
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Self {
        let name = name.into();
        self.thread.name = Arc::new(move || name.clone());
        self
    }

    /// Names each worker thread with the result of `f`.
    pub fn thread_name_fn(&mut self, f: impl Fn() -> String + Send + Sync + 'static) -> &mut Self {
        self.thread.name = Arc::new(f);
        self
    }

    /// Sets the stack size, in bytes, of worker and blocking-pool threads (default: the
    /// `std` default, 2 MiB).
    ///
    /// Sizes below [`MIN_THREAD_STACK_SIZE`] (64 KiB) are raised to it: a worker's own loop,
    /// the driver and a task's poll need that much, and a thread that overflows its stack
    /// aborts the process. Tasks that recurse deeply or keep large futures on the stack need
    /// more.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = filch::runtime::Builder::new_multi_thread()
    ///     .worker_threads(1)
    ///     .thread_stack_size(256 * 1024)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(rt.block_on(rt.spawn(async { 1 })).unwrap(), 1);
    /// ```
    pub fn thread_stack_size(&mut self, bytes: usize) -> &mut Self {
        self.thread.stack_size = Some(bytes.max(MIN_THREAD_STACK_SIZE));
        self
    }

    /// Runs `f` on each worker thread when it starts, before it runs any task (also on the
    /// thread a [`block_in_place`](crate::task::block_in_place) starts to take a worker's
    /// place).
    ///
    /// # Panics
    ///
    /// A panic in `f` does not propagate: it is caught (the panic hook prints it, as for
    /// any panic) and the worker starts anyway, so a faulty hook can neither lose a worker
    /// nor hang the runtime's shutdown.
    pub fn on_thread_start(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Self {
        self.thread.on_start = Some(Arc::new(f));
        self
    }

    /// Runs `f` on each worker thread just before it exits.
    ///
    /// # Panics
    ///
    /// A panic in `f` is caught (the panic hook prints it) and the thread exits as usual;
    /// shutdown is not held up.
    pub fn on_thread_stop(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Self {
        self.thread.on_stop = Some(Arc::new(f));
        self
    }

    /// Caps the number of threads of the blocking pool, which runs
    /// [`spawn_blocking`](crate::task::spawn_blocking) jobs and `filch::fs` operations
    /// (default 512). The pool starts threads on demand; past the cap, jobs wait in a FIFO
    /// queue. These threads are in addition to the worker threads.
    ///
    /// # Panics
    ///
    /// Panics if `n` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = filch::runtime::Builder::new_multi_thread()
    ///     .max_blocking_threads(4)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(rt.block_on(rt.spawn_blocking(|| 3)).unwrap(), 3);
    /// ```
    #[track_caller]
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Self {
        assert!(
            n > 0,
            "`Builder::max_blocking_threads` must be at least 1: `spawn_blocking` and \
             `filch::fs` need a thread to run on"
        );
        self.blocking.max_threads = n;
        self
    }

    /// Sets how long an idle blocking-pool thread waits for a new job before it exits
    /// (default 10 seconds).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = filch::runtime::Builder::new_current_thread()
    ///     .thread_keep_alive(Duration::from_millis(50))
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(rt.spawn_blocking(|| ())).unwrap();
    /// while rt.handle().num_blocking_threads() > 0 {
    ///     std::thread::sleep(Duration::from_millis(10));
    /// }
    /// ```
    pub fn thread_keep_alive(&mut self, duration: Duration) -> &mut Self {
        self.blocking.keep_alive = duration;
        self
    }

    /// Sets how many tasks a busy worker runs from its own queue between two looks at the
    /// shared queue (remote spawns and wakes), which it then takes from first: lower is
    /// fairer to work from outside, higher keeps more work local. Defaults: 61 on the
    /// multi-thread runtime, 31 on the current-thread one.
    ///
    /// # Panics
    ///
    /// Panics if `ticks` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = filch::runtime::Builder::new_multi_thread()
    ///     .global_queue_interval(31)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(rt.block_on(rt.spawn(async { 1 })).unwrap(), 1);
    /// ```
    #[track_caller]
    pub fn global_queue_interval(&mut self, ticks: u32) -> &mut Self {
        assert!(
            ticks > 0,
            "`Builder::global_queue_interval` must be at least 1 (1 takes from the shared \
             queue before every task)"
        );
        self.global_queue_interval = Some(ticks);
        self
    }

    /// Sets how many tasks a busy runtime runs between two non-blocking polls of its I/O
    /// and timer driver (an idle one waits in the driver anyway): lower serves I/O and
    /// timers sooner under load, higher spends less on `epoll_wait`. On the current-thread
    /// runtime it is also how many tasks run between two polls of the `block_on` future.
    /// Default: 61.
    ///
    /// # Panics
    ///
    /// Panics if `ticks` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = filch::runtime::Builder::new_current_thread()
    ///     .event_interval(7)
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(filch::time::sleep(std::time::Duration::from_millis(1)));
    /// ```
    #[track_caller]
    pub fn event_interval(&mut self, ticks: u32) -> &mut Self {
        assert!(
            ticks > 0,
            "`Builder::event_interval` must be at least 1 (1 polls the driver after every \
             task)"
        );
        self.event_interval = Some(ticks);
        self
    }

    /// Reports tasks that stay inside one poll for longer than `threshold` — a blocking
    /// call (`std::thread::sleep`, synchronous I/O, a long computation) that holds up
    /// every other task of its worker. `hook` runs once per stall, on a monitor thread
    /// (never the stalled worker), with the worker, the task's id, name and spawn
    /// location, and the time so far; [`RuntimeMetrics::stalls`](super::RuntimeMetrics)
    /// counts them.
    ///
    /// Debug builds detect stalls by default, at 100 ms, with a one-line warning on
    /// stderr (asyncio's debug mode does the same); release builds do not unless this is
    /// called. The cost: two relaxed stores and a release store per poll, and a monitor
    /// thread that wakes every `threshold / 4`.
    ///
    /// For how poll times spread over a worker, not only the one poll stuck beyond a
    /// threshold, see [`enable_poll_time_histogram`](Self::enable_poll_time_histogram).
    ///
    /// A stall is seen up to `threshold / 4` late; a task in
    /// [`block_in_place`](crate::task::block_in_place) is never reported (its worker's
    /// core moves to another thread).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use std::time::Duration;
    ///
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let rt = filch::runtime::Builder::new_multi_thread()
    ///     .worker_threads(2)
    ///     .on_stall(Duration::from_millis(20), {
    ///         let seen = seen.clone();
    ///         move |stall: &filch::runtime::Stall| {
    ///             seen.lock().unwrap().push(stall.name().map(str::to_owned));
    ///         }
    ///     })
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     let slow = filch::task::Builder::new().name("slow").spawn(async {
    ///         std::thread::sleep(Duration::from_millis(200)); // blocks its worker
    ///     });
    ///     slow.unwrap().await.unwrap();
    /// });
    /// assert_eq!(seen.lock().unwrap()[..], [Some("slow".to_owned())]);
    /// ```
    pub fn on_stall(
        &mut self,
        threshold: Duration,
        hook: impl Fn(&Stall) + Send + Sync + 'static,
    ) -> &mut Self {
        self.stall = StallSetting::On(threshold, Arc::new(hook));
        self
    }

    /// Turns stall detection off, also in debug builds (see [`on_stall`](Self::on_stall)).
    pub fn disable_stall_detection(&mut self) -> &mut Self {
        self.stall = StallSetting::Off;
        self
    }

    /// Keeps a histogram of how long each task poll takes, per worker, in
    /// [`WorkerMetrics::poll_time_histogram`](super::WorkerMetrics::poll_time_histogram)
    /// (default: off, and the field is `None`).
    ///
    /// The buckets are powers of two of microseconds, from "under 1 µs" to "262 ms or more"
    /// (see [`PollTimeHistogram`](super::PollTimeHistogram)); a poll that drives a
    /// [`LocalSet`](crate::task::LocalSet) counts with the set's polls inside it. Where the
    /// stall detector names the one task stuck in a poll, the histogram shows how a
    /// worker's time is spread: a tail of 1–10 ms polls is a latency problem no single
    /// stall reveals.
    ///
    /// Cost: two reads of the monotonic clock (about 20 ns each on Linux, through the vDSO)
    /// and one store per poll; off, one untaken branch.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = filch::runtime::Builder::new_multi_thread()
    ///     .worker_threads(1)
    ///     .enable_poll_time_histogram()
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     filch::spawn(async { std::thread::sleep(Duration::from_millis(5)) }).await.unwrap();
    /// });
    /// let handle = rt.handle().clone();
    /// drop(rt); // a poll is filed when it returns, which may be after its task's output arrived
    /// let metrics = handle.metrics();
    /// let histogram = metrics.workers[0].poll_time_histogram.as_ref().unwrap();
    /// let slow: u64 = histogram
    ///     .buckets()
    ///     .filter(|(range, _)| range.start >= Duration::from_millis(4))
    ///     .map(|(_, count)| count)
    ///     .sum();
    /// assert_eq!(slow, 1);
    /// ```
    pub fn enable_poll_time_histogram(&mut self) -> &mut Self {
        self.poll_time_histogram = true;
        self
    }

    /// Starts the runtime with its time paused (default `false`), as if
    /// [`filch::time::pause`](crate::time::pause) were its first call: the clock moves only
    /// when every task waits on a timer (it jumps to the next one) or through
    /// [`filch::time::advance`](crate::time::advance). For tests of timeouts, retries and
    /// intervals that take no real time; see [paused time](crate::time#paused-time).
    /// `#[filch::test(start_paused = true)]` sets it.
    ///
    /// # Panics
    ///
    /// `start_paused(true)` panics on a multi-thread builder ("paused time needs the
    /// current-thread runtime ..."): use [`Builder::new_current_thread`].
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::time::{sleep, Duration, Instant};
    ///
    /// let rt = filch::runtime::Builder::new_current_thread()
    ///     .start_paused(true)
    ///     .build()
    ///     .unwrap();
    /// let real = std::time::Instant::now();
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     sleep(Duration::from_secs(3600)).await;
    ///     assert_eq!(Instant::now() - start, Duration::from_secs(3600));
    /// });
    /// assert!(real.elapsed() < Duration::from_secs(60));
    /// ```
    #[track_caller]
    pub fn start_paused(&mut self, start_paused: bool) -> &mut Self {
        assert!(
            !start_paused || self.flavor == Flavor::CurrentThread,
            "`Builder::start_paused(true)`: paused time needs the current-thread runtime (the \
             workers of a multi-thread one cannot share one virtual clock); use \
             `Builder::new_current_thread()`, or `#[filch::test]` without \
             `flavor = \"multi_thread\"`"
        );
        self.start_paused = start_paused;
        self
    }

    /// Seeds every random choice the scheduler makes: which ready task a current-thread
    /// runtime runs next, where an unbiased [`select!`](crate::select) starts polling, and
    /// which worker a multi-thread runtime steals from first.
    ///
    /// On the current-thread runtime a seed makes the run **replayable**: instead of the
    /// oldest ready task, the scheduler runs one that the seeded generator picks among all
    /// ready tasks. The same program with the same seed polls its tasks in the same order
    /// every time (with [`start_paused`](Self::start_paused), at the same virtual instants
    /// too), and another seed tries another order: run a test under many seeds to find an
    /// ordering bug, then replay the seed that failed. `#[filch::test(seed = N)]` sets it,
    /// and `FILCH_SEED` overrides it for every `#[filch::test]` (see
    /// [the macro](crate::test)). What a seed cannot replay: wakes from other threads
    /// (blocking jobs, other runtimes, real I/O) and task ids, which count up per process.
    ///
    /// On a multi-thread runtime the workers' generators derive from the seed, but threads
    /// race, so a run is not replayable.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    ///
    /// // The order in which 10 ready tasks run, under one seed.
    /// fn trace(seed: u64) -> Vec<u32> {
    ///     let rt = filch::runtime::Builder::new_current_thread()
    ///         .rng_seed(seed)
    ///         .build()
    ///         .unwrap();
    ///     let order = Arc::new(Mutex::new(Vec::new()));
    ///     rt.block_on(async {
    ///         let tasks: Vec<_> = (0..10)
    ///             .map(|i| {
    ///                 let order = order.clone();
    ///                 filch::spawn(async move { order.lock().unwrap().push(i) })
    ///             })
    ///             .collect();
    ///         for task in tasks {
    ///             task.await.unwrap();
    ///         }
    ///     });
    ///     let order = order.lock().unwrap().clone();
    ///     order
    /// }
    /// assert_eq!(trace(7), trace(7));
    /// assert!((0..20).any(|seed| trace(seed) != trace(7)));
    /// ```
    pub fn rng_seed(&mut self, seed: u64) -> &mut Self {
        self.rng_seed = Some(seed);
        self
    }

    fn intervals(&self, defaults: scheduler::Intervals) -> scheduler::Intervals {
        scheduler::Intervals {
            global_queue: self.global_queue_interval.unwrap_or(defaults.global_queue),
            event: self.event_interval.unwrap_or(defaults.event),
        }
    }

    /// Builds the runtime, starting its worker threads.
    ///
    /// # Errors
    ///
    /// Returns the OS error if a worker thread cannot be spawned (the threads already
    /// started are stopped first).
    pub fn build(&mut self) -> io::Result<Runtime> {
        install_sync_hooks();
        let blocking = Arc::new(BlockingPool::new(blocking::Config {
            stack_size: self.thread.stack_size,
            ..self.blocking.clone()
        }));
        let workers = match self.flavor {
            Flavor::CurrentThread => 1,
            Flavor::MultiThread => self.worker_threads.unwrap_or_else(num_cpus::get).max(1),
        };
        let stall = self
            .stall
            .resolve()
            .map(|(threshold, hook)| StallMonitor::new(threshold, hook, workers));
        let (handle, threads) = match self.flavor {
            Flavor::CurrentThread => {
                let intervals = self.intervals(scheduler::Intervals::CURRENT_THREAD);
                let shared = current_thread::new(
                    intervals,
                    stall.clone(),
                    self.rng_seed.map(scheduler::RngSeed),
                    self.poll_time_histogram,
                )?;
                if self.start_paused {
                    shared
                        .driver
                        .time
                        .clock
                        .pause_at_start()
                        .expect("a new runtime's clock is running");
                }
                crate::trace::runtime_started("current_thread", 1);
                (scheduler::Handle::CurrentThread(shared), Vec::new())
            }
            Flavor::MultiThread => {
                crate::trace::runtime_started("multi_thread", workers);
                let intervals = self.intervals(scheduler::Intervals::MULTI_THREAD);
                let config = ThreadConfig {
                    stall: stall.clone(),
                    ..self.thread.clone()
                };
                // Workers enter the context of this runtime's handle, which is made on
                // each worker from its scheduler, this pool and this stall detector.
                let enter: scheduler::EnterRuntime = {
                    let (blocking, stall) = (blocking.clone(), stall.clone());
                    Arc::new(move |scheduler: &scheduler::Handle| {
                        let handle = Handle::from_scheduler(
                            scheduler.clone(),
                            blocking.clone(),
                            stall.clone(),
                        );
                        Box::new(super::context::enter_runtime(&handle))
                    })
                };
                let (shared, threads) = multi_thread::start(
                    workers,
                    intervals,
                    &config,
                    &enter,
                    self.rng_seed.map(scheduler::RngSeed),
                    self.poll_time_histogram,
                )?;
                (scheduler::Handle::MultiThread(shared), threads)
            }
        };
        let mut runtime = Runtime::from_parts(
            Handle::from_scheduler(handle.clone(), blocking, stall.clone()),
            threads,
        );
        if let Some(stall) = &stall {
            // On failure the runtime is dropped (shut down) with the error.
            runtime.monitor = Some(stall.start(handle)?);
        }
        Ok(runtime)
    }
}

/// What `filch-sync` asks of the runtime it runs on: the cooperative budget (every ready
/// operation of a `filch::sync` primitive spends one unit, so a loop over an always-ready
/// channel yields like one over a socket) and whether this thread drives tasks (the
/// primitives' `blocking_*` methods panic there instead of stalling the runtime).
static SYNC_HOOKS: filch_sync::runtime_hooks::RuntimeHooks =
    filch_sync::runtime_hooks::RuntimeHooks {
        poll_proceed: crate::task::coop::poll_proceed,
        refund: crate::task::coop::refund,
        is_driving: super::context::is_driving,
    };

/// Installs [`SYNC_HOOKS`] for the process (once; later runtimes find them installed).
fn install_sync_hooks() {
    // `Err`: installed already, by an earlier runtime (the same hooks), or by another
    // runtime in this process, in which case `filch::sync` runs without filch's budget and
    // blocking checks (still correct, only less fair).
    let _ = filch_sync::runtime_hooks::install(&SYNC_HOOKS);
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("flavor", &self.flavor)
            .field("worker_threads", &self.worker_threads)
            .field("global_queue_interval", &self.global_queue_interval)
            .field("event_interval", &self.event_interval)
            .field("start_paused", &self.start_paused)
            .field("rng_seed", &self.rng_seed)
            .field("poll_time_histogram", &self.poll_time_histogram)
            .field("thread_stack_size", &self.thread.stack_size)
            .field("max_blocking_threads", &self.blocking.max_threads)
            .field("thread_keep_alive", &self.blocking.keep_alive)
            .finish_non_exhaustive()
    }
}
