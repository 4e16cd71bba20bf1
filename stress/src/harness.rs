//! [`Harness`]: runs scenarios on one runtime under a watchdog and builds the [`Report`].
//!
//! # The watchdog
//!
//! The thread that calls [`Harness::run`] is the watchdog. Every 20 ms it reads each
//! scenario's progress counter and its probe's outstanding wake:
//!
//! * a counter that has not moved for the stall bound, while its scenario has not
//!   finished, is a **stall**: a lost wakeup or a starved task. It is reported with the
//!   scenario, the seed and a dump of `Handle::metrics()`, and the run stops at once (a
//!   stalled task may never finish, so the run cannot wait for it);
//! * a probe wake not polled within the stall bound is a stall too;
//! * a worker thread that exits while the run is going (its thread-local guard, planted by
//!   `on_thread_start`, is dropped) is a global violation: a worker must survive panics.
//!
//! After the run length the stop signal is raised; each scenario finishes what it started
//! and returns (still watched: a drain that stops making progress is a stall), then its
//! check runs on the quiescent state, then the runtime shuts down.
//!
//! A deterministic run ([`Harness::deterministic`]) is watched by the same rules on the
//! virtual clock, from inside its runtime; see [`deterministic`](crate::deterministic).
use crate::config::{scenario_seed, Config, Fault};
use crate::ctx::{Ctx, RunShared, ScenarioState};
use crate::report::{peak_rss_kib, MetricsSnapshot, Report, ScenarioReport};
use crate::scenario::Scenario;
use crate::scenarios;
use crate::watch::{self, Entry};
use std::cell::RefCell;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

/// Runs scenarios (built-in or your own) on one filch runtime, under the watchdog and the
/// wake-latency probes, and reports what broke.
///
/// # Examples
///
/// A user scenario, run together with the built-in ping-pong load: many tasks increment a
/// counter behind `filch::sync::Mutex` while the check proves no increment was lost.
///
/// ```
/// use filch_stress::{Harness, Scenario};
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// let done = Arc::new(AtomicU64::new(0));
/// let counter = Arc::new(filch::sync::Mutex::new(0u64));
/// let (d, c) = (done.clone(), counter.clone());
/// let scenario = Scenario::new("counter", move |mut ctx| async move {
///     while !ctx.is_stopped() {
///         let tasks = ctx.rng().usize(1..8);
///         let mut handles = Vec::new();
///         for _ in 0..tasks {
///             let (d, c) = (d.clone(), c.clone());
///             handles.push(ctx.spawn(async move {
///                 let mut n = c.lock().await;
///                 filch::task::yield_now().await;
///                 *n += 1;
///                 d.fetch_add(1, Ordering::Relaxed);
///             }));
///         }
///         for h in handles {
///             if h.await.is_err() {
///                 ctx.violation("increment task failed");
///             }
///         }
///         ctx.progress(tasks as u64);
///     }
/// })
/// .check(move || {
///     let (n, d) = (*counter.try_lock().unwrap(), done.load(Ordering::Relaxed));
///     if n == d { Ok(()) } else { Err(format!("counter {n} != increments {d}")) }
/// });
///
/// let report = Harness::new(7)
///     .duration(Duration::from_millis(500))
///     .workers(2)
///     .builtin(&["ping-pong"])
///     .unwrap()
///     .scenario(scenario)
///     .run();
/// assert!(report.passed, "{}", report.to_text());
/// assert!(report.scenarios.iter().all(|s| s.ops > 0));
/// ```
#[derive(Debug)]
pub struct Harness {
    config: Config,
    scenarios: Vec<Scenario>,
}

impl Harness {
    /// A harness with master seed `seed` and the default [`Config`] otherwise.
    pub fn new(seed: u64) -> Self {
        Self::with_config(Config {
            seed,
            ..Config::default()
        })
    }

    /// A harness with `config`.
    pub fn with_config(config: Config) -> Self {
        Self {
            config,
            scenarios: Vec::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// How long the scenarios run before the stop signal.
    pub fn duration(mut self, d: Duration) -> Self {
        self.config.duration = d;
        self
    }

    /// Worker threads of the runtime under test.
    pub fn workers(mut self, n: usize) -> Self {
        self.config.workers = n.max(1);
        self
    }

    /// The stall bound of the watchdog.
    pub fn stall_bound(mut self, d: Duration) -> Self {
        self.config.stall = d;
        self
    }

    /// Plants a fault in the harness's own wake path.
    pub fn fault(mut self, fault: Fault) -> Self {
        self.config.fault = Some(fault);
        self
    }

    /// Draws a progress bar on stderr when it is a terminal.
    pub fn progress_bar(mut self, on: bool) -> Self {
        self.config.progress_bar = on;
        self
    }

    /// Prints each violation to stderr as it happens (on by default).
    pub fn echo_violations(mut self, on: bool) -> Self {
        self.config.echo_violations = on;
        self
    }

    /// Deterministic mode: the run replays exactly for the same seed, and its [`Report`] is
    /// the same, byte for byte. One current-thread runtime (so this sets the workers to 1)
    /// with paused time, its scheduler seeded with [`scheduler_seed`](crate::scheduler_seed)
    /// `(seed)`; `duration` and the stall bound are virtual time; only the scenarios marked
    /// [`Scenario::deterministic`] run, the others are listed in [`Report::skipped`]; no
    /// progress bar. See [`deterministic`](crate::deterministic) for the clock and the
    /// watchdog.
    ///
    /// ```
    /// use filch_stress::Harness;
    /// use std::time::Duration;
    ///
    /// let run = || {
    ///     Harness::new(3)
    ///         .deterministic(true)
    ///         .duration(Duration::from_millis(20)) // of virtual time
    ///         .builtin(&["ping-pong", "locks", "tcp-echo"])
    ///         .unwrap()
    ///         .run()
    /// };
    /// let (a, b) = (run(), run());
    /// assert!(a.passed, "{}", a.to_text());
    /// assert_eq!(a.to_text(), b.to_text());
    /// assert_eq!(a.skipped[0].name, "tcp-echo");
    /// ```
    pub fn deterministic(mut self, on: bool) -> Self {
        self.config.deterministic = on;
        if on {
            self.config.workers = 1;
        }
        self
    }

    /// The scenarios added so far, in the order they start.
    pub fn scenarios(&self) -> &[Scenario] {
        &self.scenarios
    }

    /// Adds built-in scenarios by name; `mixed` adds all of them.
    ///
    /// # Errors
    ///
    /// An unknown name (the message lists the known ones).
    pub fn builtin(mut self, names: &[&str]) -> Result<Self, String> {
        for name in names {
            if *name == "mixed" {
                for n in scenarios::NAMES {
                    self.push_builtin(n)?;
                }
            } else {
                self.push_builtin(name)?;
            }
        }
        Ok(self)
    }

    fn push_builtin(&mut self, name: &str) -> Result<(), String> {
        if self.scenarios.iter().any(|s| s.name == name) {
            return Ok(());
        }
        let s = scenarios::builtin(name).ok_or_else(|| {
            format!(
                "unknown scenario `{name}` (known: mixed, {})",
                scenarios::NAMES.join(", ")
            )
        })?;
        self.scenarios.push(s);
        Ok(())
    }

    /// Adds a scenario of your own; it runs under the same watchdog and probes, alongside
    /// whatever built-in load was added.
    pub fn scenario(mut self, scenario: Scenario) -> Self {
        self.scenarios.push(scenario);
        self
    }

    /// Runs every scenario at once on a fresh multi-thread runtime (in deterministic mode:
    /// the deterministic ones on a fresh current-thread runtime) and reports.
    ///
    /// # Panics
    ///
    /// Panics if the runtime cannot be built, or when called from inside a filch runtime
    /// (the calling thread is the watchdog and blocks); in deterministic mode, also if the
    /// workers were set to anything but 1 after [`deterministic`](Self::deterministic).
    pub fn run(self) -> Report {
        if self.config.deterministic {
            crate::deterministic::run(self.config, self.scenarios)
        } else {
            run(self.config, self.scenarios)
        }
    }
}

/// Panic payloads starting with this are planned by the `panics` scenario; the harness's
/// panic hook keeps them off stderr.
pub const PLANNED_PANIC: &str = "filch-stress: planned panic";

/// How a filch timer's panic starts when it is polled after its runtime shut down (the
/// documented behaviour of `filch::time` on a shut-down runtime).
pub(crate) const TIMER_SHUT_DOWN: &str = "the runtime this timer belongs to has shut down";

thread_local! {
    /// Set on threads where a timer panic of a shut-down runtime is expected (see
    /// [`expect_timer_shutdown_panics`]).
    static EXPECT_TIMER_SHUT_DOWN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Keeps panics starting with [`TIMER_SHUT_DOWN`] raised on the calling thread off stderr:
/// the shutdown scenarios make them on purpose (a timer polled in a poll or a
/// `block_in_place` that outlives its runtime's shutdown) and check their payloads. Call it
/// on threads that only such scenarios use (their own runtimes' workers); other panics are
/// printed as usual.
pub(crate) fn expect_timer_shutdown_panics() {
    EXPECT_TIMER_SHUT_DOWN.with(|f| f.set(true));
}

pub(crate) fn install_panic_filter() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let msg = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
            if msg.is_some_and(|m| m.starts_with(PLANNED_PANIC)) {
                return;
            }
            if msg.is_some_and(|m| m.starts_with(TIMER_SHUT_DOWN))
                && EXPECT_TIMER_SHUT_DOWN.with(std::cell::Cell::get)
            {
                return;
            }
            previous(info);
        }));
    });
}

/// Dropped when a worker thread exits: proves workers survive panicking tasks.
struct WorkerLife(Arc<AtomicUsize>);

impl Drop for WorkerLife {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

thread_local! {
    static WORKER_LIFE: RefCell<Option<WorkerLife>> = const { RefCell::new(None) };
}

fn run(config: Config, scenarios: Vec<Scenario>) -> Report {
    install_panic_filter();
    let started = Instant::now();
    let starts = Arc::new(AtomicUsize::new(0));
    let exits = Arc::new(AtomicUsize::new(0));
    let rt = {
        let (starts, exits) = (starts.clone(), exits.clone());
        filch::runtime::Builder::new_multi_thread()
            .worker_threads(config.workers)
            .thread_name("filch-stress-worker")
            .on_thread_start(move || {
                starts.fetch_add(1, Ordering::SeqCst);
                let life = WorkerLife(exits.clone());
                WORKER_LIFE.with(|l| *l.borrow_mut() = Some(life));
            })
            .build()
            .expect("build the runtime under test")
    };
    let handle = rt.handle().clone();
    // `filch::time`'s clock on this thread, which is no runtime's: the real one.
    let now = filch::time::Instant::now;
    let run = Arc::new(RunShared::new(&config, now(), scenarios.len()));
    let names: Vec<String> = scenarios.iter().map(|s| s.name.clone()).collect();

    let mut entries = Vec::new();
    for s in scenarios {
        let seed = scenario_seed(config.seed, &s.name);
        let state = Arc::new(ScenarioState::new(s.name.clone(), seed));
        let ctx = Ctx::new(state.clone(), run.clone(), handle.clone());
        let probe_ctx = Ctx::new(state.clone(), run.clone(), handle.clone());
        let task = ctx.spawn((s.run)(ctx.clone()));
        let probe = probe_ctx.spawn(crate::probe::probe(probe_ctx.clone()));
        entries.push(Entry::new(state, task, probe, s.check, now()));
    }

    let bar = if config.progress_bar && std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(config.duration.as_secs().max(1));
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} s  {msg}",
            )
            .expect("valid template"),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };

    let deadline = started + config.duration;
    let mut stopping = false;
    let mut global_violations = Vec::new();
    let mut worker_death_reported = false;
    loop {
        std::thread::sleep(Duration::from_millis(20));
        let real_now = Instant::now();
        if !stopping && real_now >= deadline {
            run.signal_stop();
            stopping = true;
            bar.set_message("stopping: draining scenarios");
        }
        let stall_now = watch::look(&mut entries, now(), stopping, &config, &run, &handle);
        let dead = exits.load(Ordering::SeqCst);
        if dead > 0 && !worker_death_reported {
            worker_death_reported = true;
            global_violations.push(format!(
                "{dead} worker thread(s) exited during the run (started {})",
                starts.load(Ordering::SeqCst)
            ));
        }
        let ops: u64 = entries
            .iter()
            .map(|e| e.state.progress.load(Ordering::Relaxed))
            .sum();
        bar.set_position(real_now.saturating_duration_since(started).as_secs());
        if !stopping {
            bar.set_message(format!("{ops} ops"));
        }
        if stall_now {
            // A stalled task may never finish: stop the others and report now.
            run.signal_stop();
            break;
        }
        if stopping && entries.iter().all(|e| e.finished) {
            break;
        }
    }
    bar.finish_and_clear();

    let metrics = MetricsSnapshot::from(handle.metrics());
    handle.block_on(watch::finish(&mut entries, &config));

    // Drop unfinished handles before shutdown (their tasks are dropped by it).
    for e in &mut entries {
        e.task = None;
        e.probe = None;
    }
    if let Some(v) = shut_down(rt) {
        global_violations.push(v);
    }

    let scenarios: Vec<ScenarioReport> = entries
        .iter()
        .map(|e| watch::scenario_report(&e.state, e.stalled, e.finished))
        .collect();
    let mut report = Report {
        seed: config.seed,
        workers: config.workers,
        deterministic: false,
        scheduler_seed: None,
        skipped: Vec::new(),
        fault: config.fault.map(|f| f.to_string()),
        configured_seconds: config.duration.as_secs_f64(),
        elapsed_seconds: started.elapsed().as_secs_f64(),
        passed: false,
        scenarios,
        global_violations,
        tasks_spawned: run.spawned.load(Ordering::Relaxed),
        faults_fired: run.faults_fired.load(Ordering::Relaxed),
        metrics,
        peak_rss_kib: peak_rss_kib(),
        replay: replay(&config, &names),
    };
    report.passed = report.violations() == 0 && report.scenarios.iter().all(|s| s.finished);
    report
}

/// How long the runtime's shutdown may take.
pub(crate) const SHUTDOWN_LIMIT: Duration = Duration::from_secs(10);

/// Shuts `rt` down within [`SHUTDOWN_LIMIT`]; a violation if it took that long.
pub(crate) fn shut_down(rt: filch::runtime::Runtime) -> Option<String> {
    let shutdown_started = Instant::now();
    rt.shutdown_timeout(SHUTDOWN_LIMIT);
    (shutdown_started.elapsed() >= SHUTDOWN_LIMIT).then(|| {
        format!(
            "runtime shutdown did not finish within {} s",
            SHUTDOWN_LIMIT.as_secs()
        )
    })
}

/// The command line that replays `config` with the scenarios `names` (as asked for: in
/// deterministic mode, including the ones it skipped).
pub(crate) fn replay(config: &Config, names: &[String]) -> String {
    let mode = if config.deterministic {
        " --deterministic".to_string()
    } else {
        format!(" --workers {}", config.workers)
    };
    format!(
        "cargo run --release -p filch-stress -- --seed {}{mode} --seconds {} \
         --stall-seconds {} --scenario {}{}",
        config.seed,
        config.duration.as_secs_f64(),
        config.stall.as_secs_f64(),
        if names
            .iter()
            .map(String::as_str)
            .eq(scenarios::NAMES.iter().copied())
        {
            "mixed".to_string()
        } else {
            names.join(",")
        },
        config
            .fault
            .map(|f| format!(" --fault {f}"))
            .unwrap_or_default()
    )
}
