//! `tracing` instrumentation (the `tracing` feature): spans and events for runtime start,
//! task spawn and poll (with the task id and spawn location), and worker park/unpark.
//!
//! Targets: `filch::runtime`, `filch::task`, `filch::worker`. The disabled twin of this
//! module (`disabled.rs`) has the same functions as no-ops, so call sites need no `cfg`.
use std::panic::Location;

/// A span entered for as long as the guard lives.
pub(crate) type Entered = tracing::span::EnteredSpan;

/// The span a worker (or `block_on` of the current-thread flavor) runs in.
pub(crate) fn worker(flavor: &'static str, index: usize) -> Entered {
    tracing::debug_span!(target: "filch::runtime", "filch.worker", flavor, worker = index).entered()
}

/// A runtime was built.
pub(crate) fn runtime_started(flavor: &'static str, workers: usize) {
    tracing::debug!(target: "filch::runtime", flavor, workers, "runtime started");
}

/// A task was spawned.
pub(crate) fn task_spawned(task_id: u64, location: &'static Location<'static>) {
    tracing::trace!(
        target: "filch::task",
        task_id,
        spawned_at = %location,
        "spawn"
    );
}

/// The span of one poll of a task.
pub(crate) fn poll(task_id: u64, location: &'static Location<'static>) -> Entered {
    tracing::trace_span!(
        target: "filch::task",
        "filch.poll",
        task_id,
        spawned_at = %location
    )
    .entered()
}

/// A worker goes to sleep.
pub(crate) fn park(worker: usize) {
    tracing::trace!(target: "filch::worker", worker, "park");
}

/// A worker woke up.
pub(crate) fn unpark(worker: usize) {
    tracing::trace!(target: "filch::worker", worker, "unpark");
}
