//! Helpers shared by the integration tests.
#![allow(dead_code)]

#[cfg(feature = "hyper")]
pub mod http;
pub mod net;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Counts how many times values it marks were dropped.
#[derive(Clone, Default)]
pub struct DropCounter(Arc<AtomicUsize>);

impl DropCounter {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn guard(&self) -> DropGuard {
        DropGuard(self.0.clone())
    }
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Increments its counter when dropped.
pub struct DropGuard(Arc<AtomicUsize>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Both flavors, for tests that must hold on each.
pub fn runtimes() -> Vec<(&'static str, filch::runtime::Runtime)> {
    vec![
        (
            "current_thread",
            filch::runtime::Builder::new_current_thread()
                .build()
                .unwrap(),
        ),
        (
            "multi_thread",
            filch::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap(),
        ),
        (
            "multi_thread_1",
            filch::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .build()
                .unwrap(),
        ),
    ]
}

/// Number of file descriptors this process has open.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Runs `f` on a new thread and returns its result, failing the test (instead of hanging
/// it) if `f` has not returned within `limit`. A panic in `f` is re-raised here.
pub fn within<R: Send + 'static>(
    limit: std::time::Duration,
    what: &str,
    f: impl FnOnce() -> R + Send + 'static,
) -> R {
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let _ = tx.send(result);
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(value)) => {
            let _ = thread.join();
            value
        }
        Ok(Err(payload)) => std::panic::resume_unwind(payload),
        Err(_) => panic!("{what}: still running after {limit:?} (hang)"),
    }
}

/// Whether process `pid` is gone from `/proc` (exited *and* reaped: a zombie still has
/// its entry), polling every 10 ms for up to `limit`.
pub fn process_gone_within(pid: u32, limit: std::time::Duration) -> bool {
    let path = format!("/proc/{pid}");
    let deadline = std::time::Instant::now() + limit;
    loop {
        if !std::path::Path::new(&path).exists() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// The state letter of process `pid` from `/proc/<pid>/stat` (`Z` for a zombie), or
/// `None` if it is gone.
pub fn process_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) S ...": the comm may hold spaces and parentheses; the state follows
    // the last ')'.
    stat[stat.rfind(')')? + 1..].trim_start().chars().next()
}

/// A waker that counts its wakeups, for tests that poll by hand (Pending, then Ready).
pub struct WakeCounter(AtomicUsize);

impl WakeCounter {
    /// How many times the waker was woken.
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl std::task::Wake for WakeCounter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A [`WakeCounter`] and a waker that increments it.
pub fn counting_waker() -> (Arc<WakeCounter>, std::task::Waker) {
    let counter = Arc::new(WakeCounter(AtomicUsize::new(0)));
    (counter.clone(), std::task::Waker::from(counter))
}

/// Sleeps (on the runtime's timer, so the driver runs) until `counter` was woken at
/// least once; fails the test after `limit`.
pub async fn until_woken(counter: &WakeCounter, limit: std::time::Duration) {
    let start = std::time::Instant::now();
    while counter.count() == 0 {
        assert!(start.elapsed() < limit, "never woken within {limit:?}");
        filch::time::sleep(std::time::Duration::from_millis(1)).await;
    }
}
