//! The built-in scenarios. Each checks its own invariants continuously and reports a
//! violation through [`Ctx::violation`](crate::Ctx::violation); `docs/stress.md` lists them.
use crate::ctx::Ctx;
use crate::scenario::Scenario;
use filch::task::JoinHandle;

mod abort;
mod blocking;
mod channels;
mod churn;
mod drop_panics;
mod far_timers;
mod locks;
mod net;
mod panics;
mod pingpong;
mod runtime_pairs;
mod semaphore;
mod shutdown;
mod spawn;
mod timeout_budget;
mod timers;
mod yields;

/// Names of the built-in scenarios, in the order `mixed` starts them.
pub const NAMES: &[&str] = &[
    "spawn-storm",
    "ping-pong",
    "yield-storm",
    "abort-storm",
    "panics",
    "locks",
    "semaphore",
    "channels",
    "timers",
    "tcp-echo",
    "unix-echo",
    "blocking",
    "runtime-churn",
    "shutdown-load",
    "shutdown-block-in-place",
    "far-timers",
    "timeout-budget",
    "drop-panics",
    "runtime-pairs",
];

/// The built-in scenario called `name`.
///
/// Each is marked for deterministic mode ([`Scenario::deterministic`]) or says why it
/// cannot run there ([`Scenario::nondeterministic`]); a scenario is not reshaped to fit
/// (a `--scenario X` run tests the same thing in both modes), it is skipped.
pub fn builtin(name: &str) -> Option<Scenario> {
    Some(match name {
        "spawn-storm" => Scenario::new(name, spawn::run)
            .nondeterministic("bursts of spawns from a plain thread, joined there with block_on"),
        "ping-pong" => Scenario::new(name, pingpong::run).deterministic(),
        "yield-storm" => Scenario::new(name, yields::run).deterministic(),
        "abort-storm" => abort::scenario().deterministic(),
        "panics" => panics::scenario().deterministic(),
        "locks" => Scenario::new(name, locks::run).deterministic(),
        "semaphore" => Scenario::new(name, semaphore::run).deterministic(),
        "channels" => Scenario::new(name, channels::run).deterministic(),
        "timers" => Scenario::new(name, timers::run).deterministic(),
        "tcp-echo" => Scenario::new(name, net::run_tcp)
            .nondeterministic("real TCP sockets (the OS decides when they are ready)"),
        "unix-echo" => Scenario::new(name, net::run_unix)
            .nondeterministic("real Unix sockets (the OS decides when they are ready)"),
        "blocking" => Scenario::new(name, blocking::run)
            .nondeterministic("spawn_blocking jobs on the blocking pool's threads"),
        "runtime-churn" => churn::scenario()
            .nondeterministic("runtimes of its own on plain threads, and a blocking job"),
        "shutdown-load" => shutdown::load::scenario().nondeterministic(
            "runtimes of its own on plain threads, with sockets and blocking jobs",
        ),
        "shutdown-block-in-place" => shutdown::block_in_place::scenario()
            .nondeterministic("multi-thread runtimes of its own on plain threads"),
        "far-timers" => far_timers::scenario()
            .nondeterministic("its bounds are wall-clock alarms of a harness thread"),
        "timeout-budget" => Scenario::new(name, timeout_budget::run).nondeterministic(
            "a socket pair, block_on on blocking-pool threads, wall-clock alarms",
        ),
        "drop-panics" => drop_panics::scenario().nondeterministic(
            "runtimes of its own on plain threads, blocking jobs, wall-clock alarms",
        ),
        "runtime-pairs" => {
            runtime_pairs::scenario().nondeterministic("two runtimes of its own on plain threads")
        }
        _ => return None,
    })
}

/// Awaits every handle, reporting a failed task (panic or unexpected cancellation) as a
/// violation; returns the outputs of the tasks that completed.
pub(crate) async fn join_all<T>(ctx: &Ctx, what: &str, handles: Vec<JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        match h.await {
            Ok(v) => out.push(v),
            Err(e) => ctx.violation(format!("{what}: task failed: {e}")),
        }
    }
    out
}
