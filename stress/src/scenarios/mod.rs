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
pub fn builtin(name: &str) -> Option<Scenario> {
    Some(match name {
        "spawn-storm" => Scenario::new(name, spawn::run),
        "ping-pong" => Scenario::new(name, pingpong::run),
        "yield-storm" => Scenario::new(name, yields::run),
        "abort-storm" => abort::scenario(),
        "panics" => panics::scenario(),
        "locks" => Scenario::new(name, locks::run),
        "semaphore" => Scenario::new(name, semaphore::run),
        "channels" => Scenario::new(name, channels::run),
        "timers" => Scenario::new(name, timers::run),
        "tcp-echo" => Scenario::new(name, net::run_tcp),
        "unix-echo" => Scenario::new(name, net::run_unix),
        "blocking" => Scenario::new(name, blocking::run),
        "runtime-churn" => churn::scenario(),
        "shutdown-load" => shutdown::load::scenario(),
        "shutdown-block-in-place" => shutdown::block_in_place::scenario(),
        "far-timers" => far_timers::scenario(),
        "timeout-budget" => Scenario::new(name, timeout_budget::run),
        "drop-panics" => drop_panics::scenario(),
        "runtime-pairs" => runtime_pairs::scenario(),
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
