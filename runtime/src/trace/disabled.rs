//! No-op twin of `enabled.rs`, used without the `tracing` feature: every function compiles
//! to nothing, so instrumented call sites cost nothing and need no `cfg`.
use std::panic::Location;

/// Stands in for an entered span.
pub(crate) struct Entered;

pub(crate) fn worker(_flavor: &'static str, _index: usize) -> Entered {
    Entered
}

pub(crate) fn runtime_started(_flavor: &'static str, _workers: usize) {}

pub(crate) fn task_spawned(_task_id: u64, _location: &'static Location<'static>) {}

pub(crate) fn poll(_task_id: u64, _location: &'static Location<'static>) -> Entered {
    Entered
}

pub(crate) fn park(_worker: usize) {}

pub(crate) fn unpark(_worker: usize) {}
