//! loom model of shutdown against a concurrent spawn or remote wake (`ShutdownFlag`): a
//! task pushed onto the shared queue while the runtime shuts down is dropped exactly once,
//! by the shutdown's drain or by its pusher, and never stranded in the queue.
//!
//! The queue is modelled by a counter with release pushes and acquire drains (what a
//! lock-free injector gives; no lock that would order the two sides by itself), the
//! registry by a mutex-guarded list, as in the runtime.
#![cfg(loom)]

use filch::__loom::ShutdownFlag;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::{Arc, Mutex};

#[derive(Default)]
struct Registry {
    closed: bool,
    live: usize,
}

struct Runtime {
    flag: ShutdownFlag,
    registry: Mutex<Registry>,
    /// Tasks in the shared queue.
    queue: AtomicUsize,
    /// Tasks dropped, by whoever drained them or refused them.
    dropped: AtomicUsize,
}

impl Runtime {
    fn new() -> Arc<Self> {
        Arc::new(Runtime {
            flag: ShutdownFlag::new(),
            registry: Mutex::new(Registry::default()),
            queue: AtomicUsize::new(0),
            dropped: AtomicUsize::new(0),
        })
    }

    fn drain(&self) {
        let n = self.queue.swap(0, Ordering::Acquire);
        self.dropped.fetch_add(n, Ordering::Relaxed);
    }

    /// A spawn from outside the workers (or a remote wake: the same push and check).
    fn spawn(&self) {
        {
            let mut registry = self.registry.lock().unwrap();
            if registry.closed {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                return;
            }
            registry.live += 1;
        }
        self.queue.fetch_add(1, Ordering::Release);
        if self.flag.raised_after_push() {
            self.drain();
        }
    }

    fn shutdown(&self) {
        self.flag.raise();
        // Close the registry; waking its tasks is a no-op for a task already queued.
        self.registry.lock().unwrap().closed = true;
        self.drain();
    }
}

#[test]
fn a_spawn_racing_shutdown_is_dropped_exactly_once() {
    loom::model(|| {
        let rt = Runtime::new();
        let spawner = {
            let rt = rt.clone();
            loom::thread::spawn(move || rt.spawn())
        };
        rt.shutdown();
        spawner.join().unwrap();
        assert_eq!(rt.queue.load(Ordering::SeqCst), 0, "a task was stranded");
        assert_eq!(
            rt.dropped.load(Ordering::SeqCst),
            1,
            "dropped not exactly once"
        );
    });
}

#[test]
fn two_pushers_racing_shutdown_strand_nothing() {
    loom::model(|| {
        let rt = Runtime::new();
        let pushers: Vec<_> = (0..2)
            .map(|_| {
                let rt = rt.clone();
                loom::thread::spawn(move || rt.spawn())
            })
            .collect();
        rt.shutdown();
        for pusher in pushers {
            pusher.join().unwrap();
        }
        assert_eq!(rt.queue.load(Ordering::SeqCst), 0, "a task was stranded");
        assert_eq!(rt.dropped.load(Ordering::SeqCst), 2);
    });
}
