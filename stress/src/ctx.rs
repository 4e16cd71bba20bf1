//! [`Ctx`]: what a scenario is handed: its seeded RNG, its progress counter, the stop
//! signal, and the ways to report violations and wake latencies.
use crate::config::Fault;
use filch::runtime::Handle;
use filch::sync::Notify;
use filch::task::JoinHandle;
use filch::time::{Duration, Instant};
use hdrhistogram::Histogram;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// State of one scenario, shared by its tasks, its probe and the watchdog.
pub(crate) struct ScenarioState {
    pub(crate) name: String,
    pub(crate) seed: u64,
    /// Operations done; the watchdog's stall detector reads it.
    pub(crate) progress: AtomicU64,
    pub(crate) violations: Mutex<Vec<String>>,
    pub(crate) violation_count: AtomicU64,
    /// Wake-to-poll latencies in nanoseconds.
    pub(crate) latency: Mutex<Histogram<u64>>,
    /// Nanoseconds since the run's epoch (plus one) at which the probe woke its partner
    /// and the partner has not run yet; 0 when no wake is outstanding.
    pub(crate) probe_pending_since: AtomicU64,
    pub(crate) params: Mutex<String>,
}

/// Violations kept per scenario for the report (the count is exact beyond that).
const KEEP_VIOLATIONS: usize = 32;

impl ScenarioState {
    pub(crate) fn new(name: String, seed: u64) -> Self {
        Self {
            name,
            seed,
            progress: AtomicU64::new(0),
            violations: Mutex::new(Vec::new()),
            violation_count: AtomicU64::new(0),
            // 1 ns .. 1 hour, 2 significant digits (1 % resolution, a few tens of KiB).
            latency: Mutex::new(
                Histogram::new_with_bounds(1, 3_600_000_000_000, 2).expect("valid bounds"),
            ),
            probe_pending_since: AtomicU64::new(0),
            params: Mutex::new(String::new()),
        }
    }

    pub(crate) fn record_violation(&self, master_seed: u64, echo: bool, msg: String) {
        self.violation_count.fetch_add(1, Ordering::Relaxed);
        if echo {
            eprintln!(
                "VIOLATION [scenario {} seed {master_seed}] {msg}",
                self.name
            );
        }
        let mut v = lock(&self.violations);
        if v.len() < KEEP_VIOLATIONS {
            v.push(msg);
        }
    }

    pub(crate) fn record_latency(&self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX).max(1);
        lock(&self.latency).saturating_record(ns);
    }
}

/// Locks a std mutex, ignoring poisoning (a panicking scenario task must not hide the
/// report).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// State shared by every scenario of a run.
pub(crate) struct RunShared {
    pub(crate) master_seed: u64,
    /// When the run started, on `filch::time`'s clock: the real one, or in deterministic
    /// mode the runtime's virtual clock (read inside the runtime).
    pub(crate) epoch: Instant,
    pub(crate) stop: AtomicBool,
    pub(crate) stop_notify: Notify,
    /// Tasks spawned through [`Ctx::spawn`] (and counted with [`Ctx::count_spawn`]).
    pub(crate) spawned: AtomicU64,
    pub(crate) fault: Option<Fault>,
    pub(crate) fault_counter: AtomicU64,
    pub(crate) faults_fired: AtomicU64,
    pub(crate) workers: usize,
    pub(crate) echo_violations: bool,
    /// Deterministic mode (see [`Config::deterministic`](crate::Config::deterministic)).
    pub(crate) deterministic: bool,
    /// Scenarios in this run (1 when a scenario runs alone).
    pub(crate) scenarios: usize,
}

impl RunShared {
    /// The shared state of a run of `scenarios` scenarios with `config`, started at `epoch`.
    pub(crate) fn new(config: &crate::Config, epoch: Instant, scenarios: usize) -> Self {
        Self {
            master_seed: config.seed,
            epoch,
            stop: AtomicBool::new(false),
            stop_notify: Notify::new(),
            spawned: AtomicU64::new(0),
            fault: config.fault,
            fault_counter: AtomicU64::new(0),
            faults_fired: AtomicU64::new(0),
            workers: config.workers,
            echo_violations: config.echo_violations,
            deterministic: config.deterministic,
            scenarios,
        }
    }

    pub(crate) fn nanos_since_epoch(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX)
    }

    pub(crate) fn signal_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.stop_notify.notify_waiters();
    }
}

/// What a scenario is given: a seeded RNG, a progress counter, the stop signal, a handle
/// of the runtime under test, and ways to report violations and wake latencies.
///
/// Cloning a `Ctx` clones its RNG state too; give each spawned task a [`fork`](Ctx::fork)
/// instead, so that the tasks draw different numbers.
#[derive(Clone)]
pub struct Ctx {
    pub(crate) scenario: Arc<ScenarioState>,
    pub(crate) run: Arc<RunShared>,
    pub(crate) handle: Handle,
    rng: fastrand::Rng,
}

impl fmt::Debug for Ctx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ctx")
            .field("scenario", &self.scenario.name)
            .field("seed", &self.scenario.seed)
            .finish_non_exhaustive()
    }
}

impl Ctx {
    pub(crate) fn new(scenario: Arc<ScenarioState>, run: Arc<RunShared>, handle: Handle) -> Self {
        let rng = fastrand::Rng::with_seed(scenario.seed);
        Self {
            scenario,
            run,
            handle,
            rng,
        }
    }

    /// The scenario's name.
    pub fn name(&self) -> &str {
        &self.scenario.name
    }

    /// The run's master seed (what `--seed` replays).
    pub fn master_seed(&self) -> u64 {
        self.run.master_seed
    }

    /// This scenario's seed, derived from the master seed and the scenario name.
    pub fn seed(&self) -> u64 {
        self.scenario.seed
    }

    /// The seeded RNG. Draws made before the first await of the scenario's top-level task
    /// are replayed exactly by the same seed; draws made later depend on the order in
    /// which the OS and the runtime interleave tasks (replayed too in deterministic mode).
    pub fn rng(&mut self) -> &mut fastrand::Rng {
        &mut self.rng
    }

    /// A context for a child task: the same scenario, an RNG seeded from this one.
    pub fn fork(&mut self) -> Ctx {
        let seed = self.rng.u64(..);
        Ctx {
            scenario: self.scenario.clone(),
            run: self.run.clone(),
            handle: self.handle.clone(),
            rng: fastrand::Rng::with_seed(seed),
        }
    }

    /// Records `n` operations done. A scenario whose counter stops moving for the stall
    /// bound is reported by the watchdog.
    pub fn progress(&self, n: u64) {
        self.scenario.progress.fetch_add(n, Ordering::Relaxed);
    }

    /// Whether the run has asked scenarios to stop.
    pub fn is_stopped(&self) -> bool {
        self.run.stop.load(Ordering::Acquire)
    }

    /// Completes once the run asks scenarios to stop.
    pub async fn stopped(&self) {
        loop {
            let notified = self.run.stop_notify.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            if self.is_stopped() {
                return;
            }
            notified.await;
        }
    }

    /// Reports a broken invariant; the run will exit non-zero. The message is tagged
    /// with the scenario name and the master seed.
    pub fn violation(&self, msg: impl fmt::Display) {
        self.scenario.record_violation(
            self.run.master_seed,
            self.run.echo_violations,
            msg.to_string(),
        );
    }

    /// Reports a violation built by `msg` unless `cond` holds; returns `cond`.
    pub fn ensure(&self, cond: bool, msg: impl FnOnce() -> String) -> bool {
        if !cond {
            self.violation(msg());
        }
        cond
    }

    /// Records one wake-to-poll latency: `woken_at` is when the waker was called (or the
    /// value that wakes this task was published), measured now, in the woken task. Take it
    /// with `filch::time::Instant::now()`, which is virtual in deterministic mode.
    pub fn record_wake(&self, woken_at: Instant) {
        self.scenario.record_latency(woken_at.elapsed());
    }

    /// Records a free-form description of the parameters the seed chose (shown in the
    /// report, so a replay can be checked against it).
    pub fn set_params(&self, params: impl Into<String>) {
        *lock(&self.scenario.params) = params.into();
    }

    /// The runtime under test.
    pub fn handle(&self) -> &filch::runtime::Handle {
        &self.handle
    }

    /// Worker threads of the runtime under test.
    pub fn workers(&self) -> usize {
        self.run.workers
    }

    /// Whether the run is deterministic ([`Harness::deterministic`](crate::Harness::deterministic)):
    /// one worker, paused time, a seeded scheduler. The built-in scenarios do not look at it
    /// (a scenario that cannot be deterministic is skipped, not reshaped); one of your own
    /// may, to leave out what would break the replay.
    pub fn is_deterministic(&self) -> bool {
        self.run.deterministic
    }

    /// Whether this scenario is the only one in the run. Process-wide measurements (the
    /// count of open file descriptors, say) only mean something then: other scenarios open
    /// and close descriptors concurrently.
    pub fn runs_alone(&self) -> bool {
        self.run.scenarios == 1
    }

    /// Spawns onto the runtime under test, counting the task in the report.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.count_spawn(1);
        self.handle.spawn(future)
    }

    /// Counts `n` tasks spawned some other way (on another runtime, through a `JoinSet`).
    pub fn count_spawn(&self, n: u64) {
        self.run.spawned.fetch_add(n, Ordering::Relaxed);
    }

    /// The planted fault: whether this wake (one of the harness's own) must be dropped.
    /// Always `false` unless the run was configured with [`Fault::DropWake`].
    pub fn should_drop_wake(&self) -> bool {
        match self.run.fault {
            Some(Fault::DropWake(n)) => {
                let k = self.run.fault_counter.fetch_add(1, Ordering::Relaxed) + 1;
                let fire = k % n == 0;
                if fire {
                    self.run.faults_fired.fetch_add(1, Ordering::Relaxed);
                }
                fire
            }
            None => false,
        }
    }

    /// Sleeps for `d`, returning early (with `false`) if the run stops meanwhile.
    pub async fn sleep_unless_stopped(&self, d: Duration) -> bool {
        filch::time::timeout(d, self.stopped()).await.is_err()
    }
}
