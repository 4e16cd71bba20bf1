//! [`RuntimeMetrics`]: a snapshot of what a runtime is doing.
use super::Handle;
use crate::scheduler::multi_thread::WorkerCounters;
use crate::scheduler::{self, poll_times};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

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
    /// Tasks waiting in the global injector (spawns and wakes from outside the workers).
    pub injector_depth: usize,
    /// Tasks spawned from outside the workers.
    pub remote_spawns: u64,
    /// Sleeping workers woken because work was published.
    pub notifications: u64,
    /// Tasks reported as stalled (inside one poll longer than the stall threshold; see
    /// [`Builder::on_stall`](super::Builder::on_stall)); 0 while detection is off.
    pub stalls: u64,
    /// Per-worker counters (one entry for the current-thread flavor, with only `polls`,
    /// `spawned`, `parks`, `budget_forced_yields` and `poll_time_histogram` kept: its
    /// local queue is only readable by its own thread, and it does not steal).
    pub workers: Vec<WorkerMetrics>,
}

/// Counters of one worker; see [`RuntimeMetrics::workers`].
///
/// `spawned` and `budget_forced_yields` are folded in when the worker parks or polls the
/// driver, so they may lag by a few dozen tasks on a busy worker.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerMetrics {
    /// Task polls run.
    pub polls: u64,
    /// Tasks spawned by tasks running on this worker.
    pub spawned: u64,
    /// Successful steals from other workers.
    pub steals: u64,
    /// Tasks taken by those steals.
    pub stolen_tasks: u64,
    /// Times the worker went to sleep.
    pub parks: u64,
    /// Times a task was made to yield because its cooperative budget ran out.
    pub budget_forced_yields: u64,
    /// Tasks in the worker's local deque at the time of the snapshot.
    pub local_queue_depth: usize,
    /// How long this worker's polls took, if the runtime keeps the histogram
    /// ([`Builder::enable_poll_time_histogram`](super::Builder::enable_poll_time_histogram));
    /// `None` otherwise. A poll is filed when it returns, so a snapshot taken as soon as a
    /// task's output arrived may miss that task's last poll; every poll but one that hands
    /// its worker to another thread ([`block_in_place`](crate::task::block_in_place)) is
    /// filed.
    pub poll_time_histogram: Option<PollTimeHistogram>,
}

/// How long one worker's task polls took: counts in buckets that are powers of two of
/// microseconds; see
/// [`Builder::enable_poll_time_histogram`](super::Builder::enable_poll_time_histogram).
///
/// Bucket 0 holds polls under 1 µs, bucket `i` those of `[2^(i-1), 2^i)` µs, and the last
/// one every poll of 262 ms or more (its range ends at [`Duration::MAX`]).
///
/// # Examples
///
/// ```
/// let rt = filch::runtime::Builder::new_current_thread()
///     .enable_poll_time_histogram()
///     .build()
///     .unwrap();
/// rt.block_on(async { filch::spawn(async {}).await.unwrap() });
/// let metrics = rt.handle().metrics();
/// let histogram = metrics.workers[0].poll_time_histogram.as_ref().unwrap();
/// assert_eq!(histogram.total(), 1); // the spawned task's one poll
/// for (range, count) in histogram.buckets().filter(|(_, count)| *count > 0) {
///     println!("{range:?}: {count}");
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollTimeHistogram {
    counts: [u64; poll_times::BUCKETS],
}

impl PollTimeHistogram {
    /// The number of buckets.
    pub fn num_buckets(&self) -> usize {
        self.counts.len()
    }

    /// The polls filed in bucket `i`.
    ///
    /// # Panics
    ///
    /// Panics if `i >= self.num_buckets()`.
    pub fn count(&self, i: usize) -> u64 {
        self.counts[i]
    }

    /// The durations bucket `i` holds: from its start (inclusive) to the next bucket's
    /// start; the last one ends at [`Duration::MAX`].
    ///
    /// # Panics
    ///
    /// Panics if `i >= self.num_buckets()`.
    pub fn bucket_range(&self, i: usize) -> Range<Duration> {
        assert!(
            i < self.counts.len(),
            "bucket {i} of a poll-time histogram of {} buckets",
            self.counts.len()
        );
        let end = if i + 1 == self.counts.len() {
            Duration::MAX
        } else {
            poll_times::bucket_start(i + 1)
        };
        poll_times::bucket_start(i)..end
    }

    /// Every bucket's range with its count, shortest polls first.
    pub fn buckets(&self) -> impl Iterator<Item = (Range<Duration>, u64)> + '_ {
        (0..self.counts.len()).map(|i| (self.bucket_range(i), self.counts[i]))
    }

    /// All polls filed.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// The snapshot of a worker's histogram, if it keeps one.
fn histogram(counters: &WorkerCounters) -> Option<PollTimeHistogram> {
    counters.poll_times().map(|times| PollTimeHistogram {
        counts: times.snapshot(),
    })
}

impl Handle {
    /// A snapshot of the runtime's counters.
    pub fn metrics(&self) -> RuntimeMetrics {
        let driver = self.inner.driver();
        let (injector_depth, remote_spawns, notifications, workers) = self.scheduler_metrics();
        RuntimeMetrics {
            num_workers: self.num_workers(),
            alive_tasks: self.num_alive_tasks(),
            blocking_threads: self.blocking.num_threads(),
            idle_blocking_threads: self.blocking.num_idle_threads(),
            blocking_queue_depth: self.blocking.queue_depth(),
            io_sources: driver.num_sources(),
            io_events: driver.num_events(),
            timers: driver.time.num_timers(),
            injector_depth,
            remote_spawns,
            notifications,
            stalls: self.stall.as_ref().map_or(0, |s| s.stalls()),
            workers,
        }
    }

    fn scheduler_metrics(&self) -> (usize, u64, u64, Vec<WorkerMetrics>) {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        match &self.inner {
            scheduler::Handle::MultiThread(shared) => {
                let workers = shared
                    .counters
                    .iter()
                    .enumerate()
                    .map(|(i, c)| WorkerMetrics {
                        polls: load(&c.polls),
                        spawned: load(&c.spawns),
                        steals: load(&c.steals),
                        stolen_tasks: load(&c.stolen_tasks),
                        parks: load(&c.parks),
                        budget_forced_yields: load(&c.forced_yields),
                        local_queue_depth: shared.local_queue_depth(i),
                        poll_time_histogram: histogram(c),
                    })
                    .collect();
                (
                    shared.injector_depth(),
                    load(&shared.remote_spawns),
                    load(&shared.notifications),
                    workers,
                )
            }
            scheduler::Handle::CurrentThread(shared) => {
                let c = &shared.counters;
                let worker = WorkerMetrics {
                    polls: load(&c.polls),
                    spawned: load(&c.spawns),
                    parks: load(&c.parks),
                    budget_forced_yields: load(&c.forced_yields),
                    poll_time_histogram: histogram(c),
                    ..WorkerMetrics::default()
                };
                (shared.remote_depth(), 0, 0, vec![worker])
            }
        }
    }
}
