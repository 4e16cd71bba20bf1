//! [`Schedule`]: what a task needs from the scheduler that owns it, and the one thing the
//! task layer knows of schedulers.
//!
//! Every task's [`Header`](super::Header) holds its scheduler as an `Arc<dyn Schedule>`:
//! the multi-thread and current-thread runtimes and `LocalSet`s implement it (in
//! `scheduler/`, the layer above), so this layer can route a wake, refuse a spawn during
//! shutdown and register a task without naming any of them.
use super::registry::Registry;
use super::{Header, Runnable};
use std::any::Any;
use std::fmt;
use std::sync::Arc;

/// A scheduler, as the tasks it owns see it.
pub(crate) trait Schedule: Any + Send + Sync + fmt::Debug {
    /// Takes back a woken task of this scheduler, to run it: `yielded` when the task woke
    /// itself while running. Called by the task's schedule function, which is made for
    /// the scheduler's type when the task is created (a static call, no vtable).
    ///
    /// An associated function rather than a method on `self`: it may drop the task (a
    /// wake that races shutdown), and with it the last reference to the scheduler, so it
    /// must not run inside a borrow of the scheduler reached through the task. It finds
    /// its scheduler through [`Header::scheduler_as`] (an owned reference) or compares it
    /// with [`Header::is_owned_by`].
    fn schedule(task: Runnable, yielded: bool)
    where
        Self: Sized;

    /// The scheduler's task registry: every live task, for shutdown and dumps.
    fn registry(&self) -> &Registry;

    /// Whether the scheduler has begun shutting down: from then on a task is dropped
    /// instead of polled, and a spawn is refused (see [`crate::task`]).
    fn is_shutting_down(&self) -> bool;

    /// `self` as `Any`, for [`Header::scheduler_as`]: every implementation is `{ self }`.
    /// (A method rather than a cast: casting `dyn Schedule` to `dyn Any` needs Rust 1.86,
    /// past the crate's `rust-version`.)
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}

impl Header {
    /// Whether `scheduler` owns this task (the same object, not just the same kind).
    #[inline]
    pub(crate) fn is_owned_by<S: Schedule>(&self, scheduler: &S) -> bool {
        std::ptr::addr_eq(Arc::as_ptr(&self.scheduler), scheduler)
    }

    /// An owned reference to this task's scheduler as its concrete type, or `None` if a
    /// scheduler of another kind owns the task.
    pub(crate) fn scheduler_as<S: Schedule>(&self) -> Option<Arc<S>> {
        self.scheduler.clone().into_any().downcast().ok()
    }
}
