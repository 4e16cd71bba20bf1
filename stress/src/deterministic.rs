//! Deterministic mode (`filch-stress --deterministic`, [`Harness::deterministic`]): one
//! seed, one run, the same report byte for byte.
//!
//! [`Harness::deterministic`]: crate::Harness::deterministic
//!
//! # The runtime
//!
//! A current-thread runtime (one worker: the harness's own thread
//! `filch-stress-deterministic`), built with `start_paused(true)` and
//! `rng_seed(`[`scheduler_seed`]`(seed))`: the scheduler picks the next task among the
//! ready ones with a generator seeded from the master seed, and `filch::time::Instant`
//! reads the runtime's virtual clock. Only the scenarios marked
//! [`Scenario::deterministic`] run; the others are skipped and listed in the report with
//! their reason (a scenario is not reshaped to fit: `--scenario X` tests the same thing in
//! both modes). What the seed fixes then is everything: the scenarios' parameters (as in
//! a normal run), the order of every poll and every draw a task makes afterwards, the
//! virtual instant of every timer, and so the report.
//!
//! # The clock
//!
//! Paused time alone does not fit a stress mix: its clock jumps only when *every* task
//! waits, and busy scenarios (`yield-storm`, `ping-pong`, `channels`) always have a task
//! ready, so the timers of `locks`, `semaphore` and `timers` would never fire and the run
//! would never reach its end. So the harness spawns one more task, the *clock*, which
//! calls `filch::time::advance(`[`CLOCK_STEP`]`)` over and over: each turn moves virtual
//! time one step, timer by timer, letting the woken tasks run at each deadline. The clock
//! is a ready task like the others, so the seeded scheduler decides when its turns come,
//! and virtual time passes as the scenarios work, deterministically. (With the clock
//! always ready the runtime never auto-advances; the clock's steps are the only way time
//! moves.)
//!
//! The price: `advance` lets the ready tasks run before and after each step (up to 1,024
//! yields), so under a busy mix virtual time runs much slower than the wall clock (a
//! fraction of a second of virtual time per second, less in a debug build). Give
//! `--seconds` in fractions of a second; a scenario's parameters do not depend on it.
//!
//! # Run length and watchdog, on the virtual clock
//!
//! `duration` is virtual time: the clock raises the stop signal at exactly `epoch +
//! duration` (its last step before is shortened to land there), then keeps stepping while
//! the scenarios drain. After every step the clock task runs the watchdog's checks (the
//! same rules as the multi-thread run's, `watch::look`) on the virtual clock: a progress
//! counter stuck, or a probe wake not polled, for the stall bound of *virtual* time is a
//! stall, reported with the runtime's metrics and replayed by the same seed like
//! everything else (a planted `--fault drop-wake:N` stalls at the same operation every
//! time). The checks are synchronous code in the clock task, not timers, so a frozen
//! timer wheel cannot hide from them.
//!
//! # Real hangs, on the real clock
//!
//! Virtual time cannot see a task that never returns from a poll (it blocks the only
//! thread), nor a runtime that stops scheduling the clock. The calling thread therefore
//! watches the clock's turns on the wall clock: none for the stall bound in *real* time
//! (the stall bound plus 10 s once the clock is done, while the end-of-run checks and the
//! shutdown run) is a global violation, *real-time hang*. The run stops there: the stop
//! signal is raised, the report is built from what the scenarios had recorded, and the
//! runtime's thread, which cannot be interrupted, is left behind (the binary then exits).
//! That report is the one that is not replayable: it comes from the wall clock.
//!
//! # What differs from a multi-thread run's report
//!
//! `elapsed_seconds` and the wake latencies are virtual time (the latencies are mostly
//! zero: a woken task usually runs before the clock's next step); no peak RSS; workers 1;
//! the skipped scenarios; the scheduler seed; `--deterministic` in the replay line. There
//! is no worker-survival check (no worker threads: a panicking task is caught into its
//! `JoinError`, and a panic that escaped would end the run as a failed thread).
use crate::config::{scenario_seed, scheduler_seed, Config};
use crate::ctx::{Ctx, RunShared, ScenarioState};
use crate::harness::{install_panic_filter, replay, shut_down, SHUTDOWN_LIMIT};
use crate::report::{MetricsSnapshot, Report, ScenarioReport, SkippedScenario};
use crate::scenario::Scenario;
use crate::watch::{self, Entry};
use filch::runtime::Handle;
use filch::time::{Duration, Instant};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;

/// How far the clock task moves virtual time per turn. A few milliseconds: each step
/// fires its timers one deadline at a time, so a larger step loses no precision, but the
/// watchdog looks (and the stop signal can land) only between steps.
pub const CLOCK_STEP: Duration = Duration::from_millis(5);

/// How often the calling thread looks at the clock's turns.
const GUARD_PERIOD: std::time::Duration = std::time::Duration::from_millis(20);

/// Signs of life from the runtime's thread, for the real-time guard.
#[derive(Default)]
struct Pulse {
    /// Turns of the clock task.
    turns: AtomicU64,
    /// Virtual nanoseconds since the epoch at the clock's last turn.
    virtual_nanos: AtomicU64,
    /// The clock task has returned: the end-of-run checks and the shutdown run.
    clock_done: AtomicBool,
}

impl Pulse {
    fn turn(&self, elapsed: Duration) {
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.virtual_nanos.store(nanos, Ordering::Relaxed);
        self.turns.fetch_add(1, Ordering::Release);
    }
}

/// What the runtime's thread hands back.
struct Outcome {
    scenarios: Vec<ScenarioReport>,
    metrics: MetricsSnapshot,
    elapsed: Duration,
    global_violations: Vec<String>,
}

/// Runs the deterministic ones of `scenarios` (see the module docs).
pub(crate) fn run(config: Config, scenarios: Vec<Scenario>) -> Report {
    assert!(
        config.workers == 1,
        "filch-stress: deterministic mode runs one worker (a current-thread runtime), \
         and {} were asked for; leave the workers at 1",
        config.workers
    );
    install_panic_filter();
    let names: Vec<String> = scenarios.iter().map(|s| s.name.clone()).collect();
    let (scenarios, skipped): (Vec<Scenario>, Vec<Scenario>) =
        scenarios.into_iter().partition(Scenario::is_deterministic);
    let skipped: Vec<SkippedScenario> = skipped
        .into_iter()
        .map(|s| SkippedScenario {
            reason: s.nondeterministic.unwrap_or_default(),
            name: s.name,
        })
        .collect();
    let sched_seed = scheduler_seed(config.seed);
    let rt = filch::runtime::Builder::new_current_thread()
        .rng_seed(sched_seed)
        .start_paused(true)
        .build()
        .expect("build the runtime under test");
    let handle = rt.handle().clone();
    // Read inside the runtime: its virtual clock.
    let epoch = rt.block_on(async { Instant::now() });
    let run = Arc::new(RunShared::new(&config, epoch, scenarios.len()));
    let states: Vec<Arc<ScenarioState>> = scenarios
        .iter()
        .map(|s| {
            let seed = scenario_seed(config.seed, &s.name);
            Arc::new(ScenarioState::new(s.name.clone(), seed))
        })
        .collect();
    let pulse = Arc::new(Pulse::default());

    let (tx, rx) = mpsc::channel();
    let thread = {
        let (config, run, states, handle, pulse) = (
            config.clone(),
            run.clone(),
            states.clone(),
            handle.clone(),
            pulse.clone(),
        );
        std::thread::Builder::new()
            .name("filch-stress-deterministic".into())
            .spawn(move || {
                let mut outcome =
                    rt.block_on(drive(&config, scenarios, states, &run, &handle, &pulse));
                outcome.global_violations.extend(shut_down(rt));
                let _ = tx.send(outcome);
            })
            .expect("start the deterministic runtime's thread")
    };

    let outcome = guard(&config, &rx, &pulse).map_err(|why| (why, thread));
    let mut report = Report {
        seed: config.seed,
        workers: 1,
        deterministic: true,
        scheduler_seed: Some(sched_seed),
        skipped,
        fault: config.fault.map(|f| f.to_string()),
        configured_seconds: config.duration.as_secs_f64(),
        elapsed_seconds: 0.0,
        passed: false,
        scenarios: Vec::new(),
        global_violations: Vec::new(),
        tasks_spawned: 0,
        faults_fired: 0,
        metrics: MetricsSnapshot::default(),
        peak_rss_kib: None,
        replay: replay(&config, &names),
    };
    match outcome {
        Ok(outcome) => {
            report.scenarios = outcome.scenarios;
            report.metrics = outcome.metrics;
            report.elapsed_seconds = outcome.elapsed.as_secs_f64();
            report.global_violations = outcome.global_violations;
        }
        Err((why, thread)) => {
            run.signal_stop();
            let why = match why {
                Stop::Hang(msg) => msg,
                Stop::Died => {
                    let msg = match thread.join() {
                        Err(payload) => payload
                            .downcast_ref::<&str>()
                            .map(|s| s.to_string())
                            .or_else(|| payload.downcast_ref::<String>().cloned())
                            .unwrap_or_else(|| "<non-string payload>".into()),
                        Ok(()) => "it ended without a report".into(),
                    };
                    format!("the deterministic runtime's thread panicked: {msg}")
                }
            };
            if config.echo_violations {
                eprintln!("VIOLATION [global seed {}] {why}", config.seed);
            }
            report.global_violations.push(why);
            report.scenarios = states
                .iter()
                .map(|s| watch::scenario_report(s, false, false))
                .collect();
            report.metrics = MetricsSnapshot::from(handle.metrics());
            report.elapsed_seconds =
                Duration::from_nanos(pulse.virtual_nanos.load(Ordering::Relaxed)).as_secs_f64();
        }
    }
    report.tasks_spawned = run.spawned.load(Ordering::Relaxed);
    report.faults_fired = run.faults_fired.load(Ordering::Relaxed);
    report.passed = report.violations() == 0 && report.scenarios.iter().all(|s| s.finished);
    report
}

/// Why the guard gave up on the runtime's thread.
enum Stop {
    /// No sign of life for the bound (the message says which).
    Hang(String),
    /// The thread ended without an outcome (it panicked).
    Died,
}

/// Waits for the outcome on the calling thread, watching the clock's turns on the real
/// clock (see "Real hangs" in the module docs).
fn guard(config: &Config, rx: &mpsc::Receiver<Outcome>, pulse: &Pulse) -> Result<Outcome, Stop> {
    let mut last_turns = 0;
    let mut last_change = std::time::Instant::now();
    loop {
        match rx.recv_timeout(GUARD_PERIOD) {
            Ok(outcome) => return Ok(outcome),
            Err(RecvTimeoutError::Disconnected) => return Err(Stop::Died),
            Err(RecvTimeoutError::Timeout) => {}
        }
        let turns = pulse.turns.load(Ordering::Acquire);
        let now = std::time::Instant::now();
        if turns != last_turns {
            last_turns = turns;
            last_change = now;
            continue;
        }
        let done = pulse.clock_done.load(Ordering::Acquire);
        let bound = if done {
            config.stall + SHUTDOWN_LIMIT
        } else {
            config.stall
        };
        let still = now.saturating_duration_since(last_change);
        if still >= bound {
            return Err(Stop::Hang(format!(
                "real-time hang: {} for {:.1} s of real time at {:.3} s of virtual time (a \
                 task blocking the runtime's only thread in a poll, or a lost wake of the \
                 clock task); this part of the report is not replayable",
                if done {
                    "the end-of-run checks and the shutdown did not finish"
                } else {
                    "the clock task made no turn"
                },
                still.as_secs_f64(),
                Duration::from_nanos(pulse.virtual_nanos.load(Ordering::Relaxed)).as_secs_f64()
            )));
        }
    }
}

/// The `block_on` future of the runtime's thread: starts the scenarios (each one's body,
/// then its probe, in order) and the clock, waits for the clock to end the run, then
/// runs the end-of-run checks.
async fn drive(
    config: &Config,
    scenarios: Vec<Scenario>,
    states: Vec<Arc<ScenarioState>>,
    run: &Arc<RunShared>,
    handle: &Handle,
    pulse: &Arc<Pulse>,
) -> Outcome {
    let mut entries = Vec::new();
    for (s, state) in scenarios.into_iter().zip(states) {
        let ctx = Ctx::new(state.clone(), run.clone(), handle.clone());
        let probe_ctx = Ctx::new(state.clone(), run.clone(), handle.clone());
        let task = ctx.spawn((s.run)(ctx.clone()));
        let probe = probe_ctx.spawn(crate::probe::probe(probe_ctx.clone()));
        entries.push(Entry::new(state, task, probe, s.check, Instant::now()));
    }
    let clock = handle.spawn(clock(
        entries,
        config.clone(),
        run.clone(),
        handle.clone(),
        pulse.clone(),
    ));
    let mut entries = clock
        .await
        .unwrap_or_else(|e| panic!("the clock task failed: {e}"));
    pulse.clock_done.store(true, Ordering::Release);
    let elapsed = Instant::now() - run.epoch;
    let metrics = MetricsSnapshot::from(handle.metrics());
    watch::finish(&mut entries, config).await;
    let scenarios = entries
        .iter()
        .map(|e| watch::scenario_report(&e.state, e.stalled, e.finished))
        .collect();
    // Unfinished scenarios' handles go here; their tasks go with the shutdown.
    drop(entries);
    Outcome {
        scenarios,
        metrics,
        elapsed,
        global_violations: Vec::new(),
    }
}

/// The clock task: moves virtual time, raises the stop signal at the end of the run
/// length, and watches the scenarios on the virtual clock (see the module docs). Returns
/// the entries when every scenario has finished after the stop signal, or at the first
/// stall.
async fn clock(
    mut entries: Vec<Entry>,
    config: Config,
    run: Arc<RunShared>,
    handle: Handle,
    pulse: Arc<Pulse>,
) -> Vec<Entry> {
    let deadline = run.epoch + config.duration;
    let mut stopping = false;
    loop {
        let now = Instant::now();
        pulse.turn(now - run.epoch);
        if !stopping && now >= deadline {
            run.signal_stop();
            stopping = true;
        }
        if watch::look(&mut entries, now, stopping, &config, &run, &handle) {
            // A stalled task may never finish: stop the others and report now.
            run.signal_stop();
            return entries;
        }
        if stopping && entries.iter().all(|e| e.finished) {
            return entries;
        }
        let step = if stopping {
            CLOCK_STEP
        } else {
            CLOCK_STEP.min(deadline - now)
        };
        filch::time::advance(step).await;
    }
}
