//! The watchdog's look at the scenarios, and the end of a run, shared by the two ways to
//! run them: on a multi-thread runtime, watched from the calling thread on the real clock
//! ([`harness`](crate::harness)), and deterministically, watched by the clock task on the
//! virtual clock ([`deterministic`](crate::deterministic)). The rules are the same; only
//! the clock that `now` comes from differs.
use crate::config::Config;
use crate::ctx::{lock, RunShared, ScenarioState};
use crate::report::{LatencySummary, MetricsSnapshot, ScenarioReport};
use filch::runtime::Handle;
use filch::task::JoinHandle;
use filch::time::{Duration, Instant};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The check a scenario runs at quiescence.
pub(crate) type Check = Box<dyn FnOnce() -> Result<(), String> + Send>;

/// One scenario as the watchdog sees it.
pub(crate) struct Entry {
    pub(crate) state: Arc<ScenarioState>,
    pub(crate) task: Option<JoinHandle<()>>,
    pub(crate) probe: Option<JoinHandle<()>>,
    pub(crate) check: Option<Check>,
    last_progress: u64,
    /// When `last_progress` was last seen to change (the watchdog's clock).
    last_change: Instant,
    pub(crate) stalled: bool,
    pub(crate) finished: bool,
}

impl Entry {
    pub(crate) fn new(
        state: Arc<ScenarioState>,
        task: JoinHandle<()>,
        probe: JoinHandle<()>,
        check: Option<Check>,
        now: Instant,
    ) -> Self {
        Self {
            state,
            task: Some(task),
            probe: Some(probe),
            check,
            last_progress: 0,
            last_change: now,
            stalled: false,
            finished: false,
        }
    }
}

/// Looks at every scenario at `now`: marks those done after the stop signal (`stopping`)
/// finished, and reports a progress counter stuck for the stall bound or a probe wake not
/// polled within it as a stall. Returns whether a stall was reported by this look (the
/// run must then stop at once: a stalled task may never finish).
pub(crate) fn look(
    entries: &mut [Entry],
    now: Instant,
    stopping: bool,
    config: &Config,
    run: &RunShared,
    handle: &Handle,
) -> bool {
    let clock = if config.deterministic {
        " of virtual time"
    } else {
        ""
    };
    let mut stall_now = false;
    for e in entries {
        if e.finished || e.stalled {
            continue;
        }
        let task_done = e.task.as_ref().map_or(true, |t| t.is_finished());
        let probe_done = e.probe.as_ref().map_or(true, |t| t.is_finished());
        if task_done && probe_done && stopping {
            e.finished = true;
            continue;
        }
        let p = e.state.progress.load(Ordering::Relaxed);
        if p != e.last_progress || task_done {
            e.last_progress = p;
            e.last_change = now;
        } else if now - e.last_change >= config.stall {
            let metrics = MetricsSnapshot::from(handle.metrics());
            e.state.record_violation(
                config.seed,
                config.echo_violations,
                format!(
                    "stall: progress counter stuck at {p} for {:.1} s{clock}{} (lost wakeup or \
                     starvation); runtime metrics: {metrics}",
                    config.stall.as_secs_f64(),
                    if stopping {
                        " while draining after the stop signal"
                    } else {
                        ""
                    }
                ),
            );
            e.stalled = true;
            stall_now = true;
            continue;
        }
        let pending = e.state.probe_pending_since.load(Ordering::Acquire);
        if pending != 0 {
            let woken_at = run.epoch + Duration::from_nanos(pending - 1);
            let waited = now.saturating_duration_since(woken_at);
            if waited >= config.stall {
                let metrics = MetricsSnapshot::from(handle.metrics());
                e.state.record_violation(
                    config.seed,
                    config.echo_violations,
                    format!(
                        "stall: probe woke a task {:.1} s{clock} ago and it has not been polled \
                         (lost wakeup or starvation); runtime metrics: {metrics}",
                        waited.as_secs_f64()
                    ),
                );
                e.stalled = true;
                stall_now = true;
            }
        }
    }
    stall_now
}

fn panic_message(e: filch::task::JoinError) -> String {
    if e.is_panic() {
        let p = e.into_panic();
        p.downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "<non-string payload>".into())
    } else {
        e.to_string()
    }
}

/// For every finished scenario: reports a body or probe that failed, then runs its check
/// on the quiescent state. (Awaited on the runtime: `Handle::block_on` in the multi-thread
/// run, inside the `block_on` of the deterministic one.)
pub(crate) async fn finish(entries: &mut [Entry], config: &Config) {
    for e in entries.iter_mut().filter(|e| e.finished) {
        for jh in [e.task.take(), e.probe.take()].into_iter().flatten() {
            if let Err(err) = jh.await {
                e.state.record_violation(
                    config.seed,
                    config.echo_violations,
                    format!("scenario task failed: {}", panic_message(err)),
                );
            }
        }
        if let Some(check) = e.check.take() {
            if let Err(msg) = check() {
                e.state.record_violation(
                    config.seed,
                    config.echo_violations,
                    format!("end-of-run check: {msg}"),
                );
            }
        }
    }
}

fn summary(state: &ScenarioState) -> LatencySummary {
    let h = lock(&state.latency);
    if h.is_empty() {
        return LatencySummary::default();
    }
    let us = |ns: u64| ns as f64 / 1000.0;
    LatencySummary {
        samples: h.len(),
        p50_us: us(h.value_at_quantile(0.50)),
        p99_us: us(h.value_at_quantile(0.99)),
        max_us: us(h.max()),
    }
}

/// What the report says about one scenario.
pub(crate) fn scenario_report(
    state: &ScenarioState,
    stalled: bool,
    finished: bool,
) -> ScenarioReport {
    ScenarioReport {
        name: state.name.clone(),
        seed: state.seed,
        params: lock(&state.params).clone(),
        ops: state.progress.load(Ordering::Relaxed),
        violations: state.violation_count.load(Ordering::Relaxed),
        violation_messages: lock(&state.violations).clone(),
        stalled,
        finished,
        wake_latency: summary(state),
    }
}
