//! [`Report`]: what a run did and what it found, as text or JSON.
use serde::Serialize;
use std::fmt::{self, Write as _};

/// Wake-to-poll latency summary, in microseconds (of virtual time in deterministic mode).
///
/// Deterministic mode: the samples are virtual time, which moves only in the harness's
/// clock steps (see `docs/stress.md`), so most are zero and the rest whole steps.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct LatencySummary {
    /// Samples recorded (probe wakes plus the scenario's own).
    pub samples: u64,
    /// Median.
    pub p50_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// Largest sample.
    pub max_us: f64,
}

/// One scenario's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    /// Scenario name.
    pub name: String,
    /// The scenario's seed (derived from the master seed and the name).
    pub seed: u64,
    /// Parameters the seed chose, as the scenario described them.
    pub params: String,
    /// Operations done (the progress counter).
    pub ops: u64,
    /// Violations reported (including stalls).
    pub violations: u64,
    /// The first violation messages (at most 32).
    pub violation_messages: Vec<String>,
    /// Whether the watchdog saw this scenario stall.
    pub stalled: bool,
    /// Whether the scenario's body returned after the stop signal.
    pub finished: bool,
    /// Wake-to-poll latency.
    pub wake_latency: LatencySummary,
}

/// The runtime's counters at the end of the run ([`filch::runtime::RuntimeMetrics`]).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// Worker threads.
    pub num_workers: usize,
    /// Tasks alive.
    pub alive_tasks: usize,
    /// Blocking-pool threads.
    pub blocking_threads: usize,
    /// Idle blocking-pool threads.
    pub idle_blocking_threads: usize,
    /// Blocking jobs queued.
    pub blocking_queue_depth: usize,
    /// I/O sources registered.
    pub io_sources: usize,
    /// I/O events delivered since start.
    pub io_events: u64,
    /// Timers registered.
    pub timers: usize,
    /// Task polls, summed over the workers.
    pub polls: u64,
    /// Tasks spawned: from tasks on the workers, plus from outside.
    pub spawned: u64,
    /// Successful steals.
    pub steals: u64,
    /// Tasks those steals moved.
    pub stolen_tasks: u64,
    /// Times workers went to sleep.
    pub parks: u64,
    /// Sleeping workers woken because work was published.
    pub wakeups: u64,
    /// Polls cut short by the cooperative budget.
    pub budget_forced_yields: u64,
    /// Tasks in the injector at the snapshot.
    pub injector_depth: usize,
}

impl From<filch::runtime::RuntimeMetrics> for MetricsSnapshot {
    fn from(m: filch::runtime::RuntimeMetrics) -> Self {
        Self {
            num_workers: m.num_workers,
            alive_tasks: m.alive_tasks,
            blocking_threads: m.blocking_threads,
            idle_blocking_threads: m.idle_blocking_threads,
            blocking_queue_depth: m.blocking_queue_depth,
            io_sources: m.io_sources,
            io_events: m.io_events,
            timers: m.timers,
            polls: m.workers.iter().map(|w| w.polls).sum(),
            spawned: m.workers.iter().map(|w| w.spawned).sum::<u64>() + m.remote_spawns,
            steals: m.workers.iter().map(|w| w.steals).sum(),
            stolen_tasks: m.workers.iter().map(|w| w.stolen_tasks).sum(),
            parks: m.workers.iter().map(|w| w.parks).sum(),
            wakeups: m.notifications,
            budget_forced_yields: m.workers.iter().map(|w| w.budget_forced_yields).sum(),
            injector_depth: m.injector_depth,
        }
    }
}

impl fmt::Display for MetricsSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "workers {} | alive tasks {} | blocking threads {} ({} idle, {} queued) | \
             io sources {} | io events {} | timers {}\n  scheduler: polls {} | spawned {} | \
             steals {} ({} tasks) | parks {} | wakeups {} | budget-forced yields {} | \
             injector {}",
            self.num_workers,
            self.alive_tasks,
            self.blocking_threads,
            self.idle_blocking_threads,
            self.blocking_queue_depth,
            self.io_sources,
            self.io_events,
            self.timers,
            self.polls,
            self.spawned,
            self.steals,
            self.stolen_tasks,
            self.parks,
            self.wakeups,
            self.budget_forced_yields,
            self.injector_depth
        )
    }
}

/// A scenario a deterministic run left out.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SkippedScenario {
    /// Scenario name.
    pub name: String,
    /// Why it cannot run deterministically ([`Scenario::nondeterministic`](crate::Scenario::nondeterministic)).
    pub reason: String,
}

/// The outcome of a run.
///
/// In deterministic mode the report (text and JSON) is the same, byte for byte, for the
/// same seed and options: it holds no wall-clock time, no RSS and no thread or task id;
/// `elapsed_seconds` and the latencies are virtual time. (A real-time hang, which the
/// harness reports as a global violation, is the exception: it comes from the wall clock.)
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The master seed (replay with `--seed`).
    pub seed: u64,
    /// Worker threads of the runtime under test (1 in deterministic mode).
    pub workers: usize,
    /// Deterministic mode (`--deterministic`).
    pub deterministic: bool,
    /// The seed of the scheduler's generator (`Builder::rng_seed`), in deterministic mode:
    /// [`scheduler_seed`](crate::scheduler_seed)`(seed)`.
    pub scheduler_seed: Option<u64>,
    /// Scenarios asked for that a deterministic run left out, with the reason.
    pub skipped: Vec<SkippedScenario>,
    /// The planted fault, if any.
    pub fault: Option<String>,
    /// Configured run length, seconds.
    pub configured_seconds: f64,
    /// Wall time from start to the end of shutdown, seconds; in deterministic mode the
    /// virtual time from start until the scenarios finished.
    pub elapsed_seconds: f64,
    /// `true` when no violation was found.
    pub passed: bool,
    /// Per scenario, in the order they ran.
    pub scenarios: Vec<ScenarioReport>,
    /// Violations not tied to one scenario (a worker thread died, shutdown hung).
    pub global_violations: Vec<String>,
    /// Tasks the harness spawned (counted by the harness itself).
    pub tasks_spawned: u64,
    /// Faults fired (only with `--fault`).
    pub faults_fired: u64,
    /// `Handle::metrics()` after the scenarios finished, before shutdown.
    pub metrics: MetricsSnapshot,
    /// Peak resident set size of this process (VmHWM), KiB; `None` in deterministic mode.
    pub peak_rss_kib: Option<u64>,
    /// The command line that replays the scenario mix and parameters.
    pub replay: String,
}

impl Report {
    /// Total violations, scenario and global.
    pub fn violations(&self) -> u64 {
        self.scenarios.iter().map(|s| s.violations).sum::<u64>()
            + self.global_violations.len() as u64
    }

    /// Whether any scenario stalled (lost wakeup or starvation).
    pub fn stalled(&self) -> bool {
        self.scenarios.iter().any(|s| s.stalled)
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("report serializes")
    }

    /// The report as a human-readable table.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let fault = self
            .fault
            .as_ref()
            .map(|f| format!(" | fault {f} (fired {})", self.faults_fired))
            .unwrap_or_default();
        if self.deterministic {
            let _ = writeln!(
                out,
                "filch-stress: seed {} | deterministic: 1 worker, paused time, scheduler seed {} \
                 | {:.3} s configured, {:.3} s elapsed (virtual time; latencies too){fault}",
                self.seed,
                self.scheduler_seed.unwrap_or_default(),
                self.configured_seconds,
                self.elapsed_seconds,
            );
        } else {
            let _ = writeln!(
                out,
                "filch-stress: seed {} | workers {} | {:.1} s configured, {:.1} s elapsed{fault}",
                self.seed, self.workers, self.configured_seconds, self.elapsed_seconds,
            );
        }
        let _ = writeln!(
            out,
            "{:<16} {:>12} {:>6} {:>10} {:>10} {:>10} {:>9}  status",
            "scenario", "ops", "viol", "p50 µs", "p99 µs", "max µs", "wakes"
        );
        for s in &self.scenarios {
            let status = if s.stalled {
                "STALLED"
            } else if s.violations > 0 {
                "FAILED"
            } else if !s.finished {
                "UNFINISHED"
            } else {
                "ok"
            };
            let _ = writeln!(
                out,
                "{:<16} {:>12} {:>6} {:>10.1} {:>10.1} {:>10.1} {:>9}  {status}",
                s.name,
                s.ops,
                s.violations,
                s.wake_latency.p50_us,
                s.wake_latency.p99_us,
                s.wake_latency.max_us,
                s.wake_latency.samples
            );
        }
        for s in &self.scenarios {
            if !s.params.is_empty() {
                let _ = writeln!(out, "  {}: {}", s.name, s.params);
            }
        }
        for s in &self.skipped {
            let _ = writeln!(
                out,
                "skipped (cannot run deterministically): {}: {}",
                s.name, s.reason
            );
        }
        for s in self.scenarios.iter().filter(|s| s.violations > 0) {
            for m in &s.violation_messages {
                let _ = writeln!(
                    out,
                    "VIOLATION [scenario {} seed {}] {m}",
                    s.name, self.seed
                );
            }
            if s.violations > s.violation_messages.len() as u64 {
                let _ = writeln!(
                    out,
                    "  ... and {} more in {}",
                    s.violations - s.violation_messages.len() as u64,
                    s.name
                );
            }
        }
        for m in &self.global_violations {
            let _ = writeln!(out, "VIOLATION [global seed {}] {m}", self.seed);
        }
        let _ = writeln!(out, "tasks spawned (harness count): {}", self.tasks_spawned);
        let _ = writeln!(out, "runtime metrics: {}", self.metrics);
        if let Some(kib) = self.peak_rss_kib {
            let _ = writeln!(out, "peak RSS: {:.1} MiB", kib as f64 / 1024.0);
        }
        let _ = writeln!(
            out,
            "result: {} ({} violations)",
            if self.passed { "PASS" } else { "FAIL" },
            self.violations()
        );
        let _ = writeln!(out, "replay: {}", self.replay);
        out
    }
}

/// Peak resident set size (VmHWM from /proc/self/status), KiB.
pub(crate) fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
