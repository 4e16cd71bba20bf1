//! [`PollTimes`]: one worker's histogram of how long its task polls take, kept only when
//! [`Builder::enable_poll_time_histogram`](crate::runtime::Builder::enable_poll_time_histogram)
//! asks for it, and read into a [`PollTimeHistogram`](crate::runtime::PollTimeHistogram)
//! by [`Handle::metrics`](crate::runtime::Handle::metrics).
//!
//! The buckets are powers of two of microseconds: bucket 0 holds polls under 1 µs, bucket
//! `i` (for `0 < i < BUCKETS - 1`) those in `[2^(i-1), 2^i)` µs, and the last one every poll
//! of at least `2^(BUCKETS - 2)` µs (262 ms), stalls included. A worker times each poll
//! with two reads of the monotonic clock and files it with one owner-only store, like its
//! other counters; a worker without the histogram pays one untaken branch per poll.
use crate::scheduler::multi_thread::bump;
use crate::task::Runnable;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Buckets per histogram (see the module docs).
pub(crate) const BUCKETS: usize = 20;

/// The counts of one worker's histogram.
///
/// # Invariants
/// Written only by the thread that drives the worker (a load and a store, no
/// read-modify-write), so a count never loses a poll; read by anyone.
#[derive(Debug, Default)]
pub(crate) struct PollTimes {
    counts: [AtomicU64; BUCKETS],
}

impl PollTimes {
    /// Files one poll that took `elapsed`; only the worker's own thread may call this.
    pub(crate) fn record(&self, elapsed: Duration) {
        bump(&self.counts[bucket_of(elapsed)], 1);
    }

    /// The counts so far.
    pub(crate) fn snapshot(&self) -> [u64; BUCKETS] {
        std::array::from_fn(|i| self.counts[i].load(Ordering::Relaxed))
    }
}

/// The bucket of a poll that took `elapsed`.
pub(crate) fn bucket_of(elapsed: Duration) -> usize {
    let micros = elapsed.as_micros();
    // 0 for 0 µs; `k + 1` for `[2^k, 2^(k+1))` µs.
    let bucket = (u128::BITS - micros.leading_zeros()) as usize;
    bucket.min(BUCKETS - 1)
}

/// The lower bound of bucket `i` (`i < BUCKETS`).
pub(crate) fn bucket_start(i: usize) -> Duration {
    match i {
        0 => Duration::ZERO,
        i => Duration::from_micros(1 << (i - 1)),
    }
}

/// Runs one poll of `task` (see [`super::run_task`]; `watched`: the runtime detects
/// stalls), timing it into `times` if given. `handed_off` says, after the poll, whether the
/// worker left this thread meanwhile (`block_in_place`): that poll is not filed, since the
/// worker's new thread writes the counts from then on.
#[inline]
pub(crate) fn run_timed(
    task: Runnable,
    times: Option<&PollTimes>,
    watched: bool,
    handed_off: impl FnOnce() -> bool,
) -> bool {
    let run = |task| {
        if watched {
            super::run_task(task);
        } else {
            super::run_task_unwatched(task);
        }
    };
    let Some(times) = times else {
        // The common case, kept apart so that it costs one branch.
        run(task);
        return handed_off();
    };
    let start = Instant::now();
    run(task);
    let handed_off = handed_off();
    if !handed_off {
        times.record(start.elapsed());
    }
    handed_off
}

#[cfg(test)]
mod tests {
    use super::{bucket_of, bucket_start, PollTimes, BUCKETS};
    use std::time::Duration;

    #[test]
    fn buckets_are_powers_of_two_of_microseconds() {
        assert_eq!(bucket_of(Duration::ZERO), 0);
        assert_eq!(bucket_of(Duration::from_nanos(999)), 0);
        assert_eq!(bucket_of(Duration::from_micros(1)), 1);
        assert_eq!(bucket_of(Duration::from_nanos(1_999)), 1);
        assert_eq!(bucket_of(Duration::from_micros(2)), 2);
        assert_eq!(bucket_of(Duration::from_micros(3)), 2);
        assert_eq!(bucket_of(Duration::from_micros(4)), 3);
        assert_eq!(bucket_of(Duration::from_millis(100)), 17);
        assert_eq!(bucket_of(Duration::from_micros(1 << 18)), BUCKETS - 1);
        assert_eq!(bucket_of(Duration::MAX), BUCKETS - 1);
        // Every bucket's lower bound files into that bucket, and just under it into the one
        // before.
        for i in 1..BUCKETS {
            assert_eq!(bucket_of(bucket_start(i)), i);
            assert_eq!(bucket_of(bucket_start(i) - Duration::from_nanos(1)), i - 1);
        }
    }

    #[test]
    fn records_count_per_bucket() {
        let times = PollTimes::default();
        times.record(Duration::from_nanos(10));
        times.record(Duration::from_micros(5));
        times.record(Duration::from_micros(6));
        times.record(Duration::from_secs(3600));
        let counts = times.snapshot();
        assert_eq!(counts[0], 1);
        assert_eq!(counts[3], 2);
        assert_eq!(counts[BUCKETS - 1], 1);
        assert_eq!(counts.iter().sum::<u64>(), 4);
    }
}
