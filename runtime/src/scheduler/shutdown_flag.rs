//! [`ShutdownFlag`]: a scheduler's "shutting down" bit, and the fences that keep a task
//! pushed onto a run queue during shutdown from being stranded there.
//!
//! Shutdown drains the scheduler's shared queue (the injector); a thread may push a task
//! onto it at any moment, also after the drain (a task that was running when shutdown woke
//! it, a remote spawn racing the close). The two sides are a store-then-load pair on
//! different locations, which only `SeqCst` fences order:
//!
//! * shutdown: [`raise`](ShutdownFlag::raise) (store the flag, fence), then drain;
//! * pusher: push, then [`raised_after_push`](ShutdownFlag::raised_after_push) (fence,
//!   load the flag); if it is raised, the pusher drains the queue itself.
//!
//! With both fences, either the drain sees the pushed task or the pusher sees the flag (or
//! both: draining is safe from several threads, and each task is taken once). The
//! `loom_shutdown` model checks it, together with the registry close.
use crate::loom::{fence, AtomicBool, Ordering};

/// Whether a scheduler is shutting down; see the module docs.
#[derive(Debug, Default)]
pub struct ShutdownFlag(AtomicBool);

impl ShutdownFlag {
    /// A flag not raised yet.
    pub fn new() -> Self {
        Self(AtomicBool::new(false))
    }

    /// Raises the flag; the caller drains the queue *after* this returns.
    pub fn raise(&self) {
        self.0.store(true, Ordering::Release);
        fence(Ordering::SeqCst);
    }

    /// Whether the flag is raised, read by a thread that has just pushed a task: `true`
    /// means the pusher must drain the queue itself.
    pub fn raised_after_push(&self) -> bool {
        fence(Ordering::SeqCst);
        self.0.load(Ordering::Relaxed)
    }

    /// Whether the flag is raised (no ordering with a push: for loops that only need to
    /// notice it eventually).
    #[inline]
    pub fn is_raised(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}
