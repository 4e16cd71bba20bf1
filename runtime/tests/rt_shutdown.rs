//! Shutdown: every future dropped, no hang, late spawns refused.
mod support;

use filch::runtime::{Builder, Runtime};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{runtimes, DropCounter};

#[test]
fn dropping_the_runtime_drops_pending_and_queued_futures() {
    for (name, rt) in runtimes() {
        let drops = DropCounter::new();
        let mut handles = Vec::new();
        for i in 0..1000 {
            let g = drops.guard();
            handles.push(rt.spawn(async move {
                let _g = g;
                if i % 2 == 0 {
                    std::future::pending::<()>().await;
                } else {
                    loop {
                        filch::task::yield_now().await;
                    }
                }
            }));
        }
        drop(rt);
        assert_eq!(drops.count(), 1000, "{name}");
        let rt = Builder::new_current_thread().build().unwrap();
        for h in handles {
            assert!(rt.block_on(h).unwrap_err().is_cancelled(), "{name}");
        }
    }
}

#[test]
fn a_task_whose_waker_it_holds_itself_is_still_dropped() {
    // The future keeps its own waker alive: only the registry can find it.
    struct SelfWaking(
        Option<std::task::Waker>,
        #[allow(dead_code)] support::DropGuard,
    );
    impl std::future::Future for SelfWaking {
        type Output = ();
        fn poll(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<()> {
            self.0 = Some(cx.waker().clone());
            std::task::Poll::Pending
        }
    }
    for (name, rt) in runtimes() {
        let drops = DropCounter::new();
        let task = rt.spawn(SelfWaking(None, drops.guard()));
        drop(task);
        rt.block_on(async {
            for _ in 0..10 {
                filch::task::yield_now().await;
            }
        });
        drop(rt);
        assert_eq!(drops.count(), 1, "{name}");
    }
}

#[test]
fn futures_dropped_during_shutdown_may_wake_and_spawn() {
    struct SpawnOnDrop(Arc<AtomicBool>);
    impl Drop for SpawnOnDrop {
        fn drop(&mut self) {
            if let Ok(h) = filch::runtime::Handle::try_current() {
                // Refused: the runtime is shutting down; the future is dropped at once.
                let t = h.spawn(async {});
                self.0.store(t.is_finished(), Ordering::SeqCst);
            } else {
                self.0.store(true, Ordering::SeqCst);
            }
        }
    }
    for (name, rt) in runtimes() {
        let flag = Arc::new(AtomicBool::new(false));
        let guard = SpawnOnDrop(flag.clone());
        rt.spawn(async move {
            let _g = guard;
            std::future::pending::<()>().await;
        });
        drop(rt);
        assert!(flag.load(Ordering::SeqCst), "{name}");
    }
}

#[test]
fn spawn_after_shutdown_is_cancelled() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle().clone();
    drop(rt);
    let drops = DropCounter::new();
    let g = drops.guard();
    let task = handle.spawn(async move {
        let _g = g;
    });
    assert_eq!(drops.count(), 1, "refused future dropped at once");
    let rt2 = Builder::new_current_thread().build().unwrap();
    assert!(rt2.block_on(task).unwrap_err().is_cancelled());
}

#[test]
fn shutdown_timeout_returns_even_if_a_task_blocks_its_thread() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let release = Arc::new(AtomicBool::new(false));
    let r = release.clone();
    let started = Arc::new(AtomicBool::new(false));
    let s = started.clone();
    rt.spawn(async move {
        s.store(true, Ordering::SeqCst);
        while !r.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    while !started.load(Ordering::SeqCst) {
        std::thread::yield_now();
    }
    let t0 = Instant::now();
    rt.shutdown_timeout(Duration::from_millis(50));
    assert!(t0.elapsed() < Duration::from_secs(5));
    release.store(true, Ordering::SeqCst);
}

#[test]
fn shutdown_with_nothing_running_is_quick_and_repeatable() {
    for _ in 0..50 {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        rt.block_on(async { filch::spawn(async {}).await.unwrap() });
        drop(rt);
    }
}

#[test]
fn dropping_a_runtime_inside_one_of_its_tasks_does_not_deadlock() {
    let rt = Arc::new(
        Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap(),
    );
    let (tx, rx) = std::sync::mpsc::channel();
    let inner = rt.clone();
    rt.spawn(async move {
        // The last reference may be dropped here, on a worker.
        drop(inner);
        tx.send(()).unwrap();
    });
    drop(rt);
    rx.recv_timeout(Duration::from_secs(10)).unwrap();
}

/// Looks up the runtime in its `Drop` and tries to spawn there.
struct UsesContextInDrop(std::sync::mpsc::Sender<Result<bool, String>>);

impl Drop for UsesContextInDrop {
    fn drop(&mut self) {
        let outcome = match filch::runtime::Handle::try_current() {
            // A spawn while the runtime shuts down is refused: a cancelled handle.
            Ok(handle) => Ok(futures::executor::block_on(handle.spawn(async { 1 }))
                .unwrap_err()
                .is_cancelled()),
            Err(e) => Err(e.to_string()),
        };
        let _ = self.0.send(outcome);
    }
}

#[test]
fn futures_dropped_at_shutdown_see_their_runtime_s_context() {
    for (name, rt) in support::runtimes() {
        let (tx, rx) = std::sync::mpsc::channel();
        for _ in 0..4 {
            let guard = UsesContextInDrop(tx.clone());
            drop(rt.spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await
            }));
        }
        rt.block_on(filch::task::yield_now());
        drop(rt);
        drop(tx);
        let outcomes: Vec<_> = rx.iter().collect();
        assert_eq!(outcomes.len(), 4, "{name}");
        for outcome in outcomes {
            assert_eq!(
                outcome,
                Ok(true),
                "{name}: Handle::try_current in a Drop at shutdown"
            );
        }
    }
}
