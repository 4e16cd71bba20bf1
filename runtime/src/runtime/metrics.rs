//! [`RuntimeMetrics`]: a snapshot of what a runtime is doing.
use super::Handle;

/// A point-in-time view of a runtime's counters; see [`Handle::metrics`].
///
/// Every field is read from counters the runtime keeps anyway (no shared atomic is added
/// to a hot path to produce them).
///
/// # Examples
///
/// ```
/// let rt = filch::runtime::Runtime::new().unwrap();
/// let m = rt.handle().metrics();
/// assert_eq!(m.num_workers, rt.handle().num_workers());
/// assert_eq!(m.alive_tasks, 0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuntimeMetrics {
    /// Worker threads (1 for the current-thread flavor).
    pub num_workers: usize,
    /// Tasks spawned and not yet finished or dropped (blocking jobs included).
    pub alive_tasks: usize,
    /// Threads in the blocking pool.
    pub blocking_threads: usize,
    /// Of those, threads waiting for a job.
    pub idle_blocking_threads: usize,
    /// Blocking jobs queued and not yet started.
    pub blocking_queue_depth: usize,
    /// Sources (sockets, pipes) registered with the I/O driver.
    pub io_sources: usize,
    /// I/O readiness events the driver has delivered since the runtime started.
    pub io_events: u64,
    /// Timers registered and not yet dropped.
    pub timers: usize,
}

impl Handle {
    /// A snapshot of the runtime's counters.
    pub fn metrics(&self) -> RuntimeMetrics {
        let driver = self.inner.driver();
        RuntimeMetrics {
            num_workers: self.num_workers(),
            alive_tasks: self.num_alive_tasks(),
            blocking_threads: self.blocking.num_threads(),
            idle_blocking_threads: self.blocking.num_idle_threads(),
            blocking_queue_depth: self.blocking.queue_depth(),
            io_sources: driver.num_sources(),
            io_events: driver.num_events(),
            timers: driver.time.num_timers(),
        }
    }
}
