//! [`ThreadConfig`]: how a scheduler's worker threads are made (name, stack size) and the
//! hooks that run on them at start and stop. The runtime's `Builder` fills it in; the
//! multi-thread scheduler spawns its workers (and the threads `block_in_place` hands a
//! worker to) with it; [`EnterRuntime`] is how those threads enter the runtime's context.
use super::stall::StallMonitor;
use std::any::Any;
use std::io;
use std::sync::Arc;

/// A thread start or stop hook.
pub(crate) type Callback = Arc<dyn Fn() + Send + Sync>;

/// Enters the runtime's context on a worker thread, for the scheduler given: the
/// thread-local behind `filch::spawn` and `Handle::current`, which the runtime layer above
/// defines and so hands in (`runtime::Builder::build`). The thread leaves the context
/// when the returned guard drops.
pub(crate) type EnterRuntime = Arc<dyn Fn(&super::Handle) -> Box<dyn Any> + Send + Sync>;

/// How worker threads are made and what runs on them at start and stop.
#[derive(Clone)]
pub(crate) struct ThreadConfig {
    pub(crate) name: Arc<dyn Fn() -> String + Send + Sync>,
    pub(crate) stack_size: Option<usize>,
    pub(crate) on_start: Option<Callback>,
    pub(crate) on_stop: Option<Callback>,
    /// The runtime's stall detector, whose slots the worker threads write.
    pub(crate) stall: Option<Arc<StallMonitor>>,
}

impl ThreadConfig {
    /// Spawns worker `index`'s thread running `body`.
    pub(crate) fn spawn(
        &self,
        _index: usize,
        body: impl FnOnce() + Send + 'static,
    ) -> io::Result<std::thread::JoinHandle<()>> {
        let mut builder = std::thread::Builder::new().name((self.name)());
        if let Some(size) = self.stack_size {
            builder = builder.stack_size(size);
        }
        builder.spawn(body)
    }

    /// Runs the start hook, if any. A panic in it is caught (the panic hook has printed
    /// it) and the thread goes on: a hook must not take a worker, or shutdown, down.
    pub(crate) fn run_start_hook(&self) {
        run_hook(self.on_start.as_ref());
    }

    /// Runs the stop hook, if any; a panic in it is caught, as for the start hook.
    pub(crate) fn run_stop_hook(&self) {
        run_hook(self.on_stop.as_ref());
    }
}

/// Runs a thread hook, catching its panic (see `ThreadConfig::run_start_hook`).
fn run_hook(hook: Option<&Callback>) {
    if let Some(hook) = hook {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook()));
    }
}
