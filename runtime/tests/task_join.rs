//! JoinHandle and JoinError: output, abort, panics, detaching.
mod support;

use filch::runtime::Builder;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use support::{runtimes, DropCounter};

#[test]
fn abort_drops_a_pending_future_before_the_handle_resolves() {
    for (name, rt) in runtimes() {
        let drops = DropCounter::new();
        let guard = drops.guard();
        let task = rt.spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        });
        task.abort();
        let err = rt.block_on(task).unwrap_err();
        assert!(err.is_cancelled(), "{name}");
        assert!(!err.is_panic(), "{name}");
        assert_eq!(
            drops.count(),
            1,
            "{name}: the future is gone once the handle resolves"
        );
        assert_eq!(err.to_string(), "task was cancelled");
    }
}

#[test]
fn abort_after_completion_keeps_the_output() {
    for (name, rt) in runtimes() {
        let task = rt.spawn(async { 5 });
        while !task.is_finished() {
            // current_thread: drive it.
            rt.block_on(filch::task::yield_now());
        }
        task.abort();
        task.abort();
        assert_eq!(rt.block_on(task).unwrap(), 5, "{name}");
    }
}

#[test]
fn abort_from_another_task() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let started = Arc::new(AtomicBool::new(false));
        let s = started.clone();
        let victim = filch::spawn(async move {
            s.store(true, Ordering::SeqCst);
            loop {
                filch::task::yield_now().await;
            }
        });
        while !started.load(Ordering::SeqCst) {
            filch::task::yield_now().await;
        }
        victim.abort();
        assert!(victim.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn panics_reach_the_handle_and_workers_survive() {
    for (name, rt) in runtimes() {
        rt.block_on(async {
            for i in 0..50 {
                let err = filch::spawn(async move {
                    if i >= 0 {
                        panic!("task {i} failed");
                    }
                })
                .await
                .unwrap_err();
                assert!(err.is_panic());
                assert_eq!(err.to_string(), format!("task panicked: task {i} failed"));
                let payload = err.into_panic();
                assert_eq!(
                    payload.downcast_ref::<String>().unwrap(),
                    &format!("task {i} failed")
                );
            }
            // Workers still run tasks.
            assert_eq!(filch::spawn(async { 3 }).await.unwrap(), 3);
        });
        assert_eq!(rt.handle().num_alive_tasks(), 0, "{name}");
    }
}

#[test]
fn join_error_api() {
    let rt = Builder::new_current_thread().build().unwrap();
    let err = rt
        .block_on(rt.spawn(async { std::panic::panic_any(17u8) }))
        .unwrap_err();
    assert_eq!(err.to_string(), "task panicked");
    assert!(format!("{err:?}").contains("Panic"));
    let io: std::io::Error = rt
        .block_on(async {
            let t = filch::spawn(std::future::pending::<()>());
            t.abort();
            t.await
        })
        .unwrap_err()
        .into();
    assert_eq!(io.kind(), std::io::ErrorKind::Other);
    let cancelled = rt.block_on(async {
        let t = filch::spawn(std::future::pending::<()>());
        t.abort();
        t.await.unwrap_err()
    });
    assert!(cancelled.try_into_panic().is_err());
    fn assert_error<E: std::error::Error + Send + Sync + 'static>() {}
    assert_error::<filch::task::JoinError>();
}

#[test]
#[should_panic(expected = "check `is_panic()` first")]
fn into_panic_on_a_cancelled_error_explains_itself() {
    let rt = Builder::new_current_thread().build().unwrap();
    let err = rt.block_on(async {
        let t = filch::spawn(std::future::pending::<()>());
        t.abort();
        t.await.unwrap_err()
    });
    let _ = err.into_panic();
}

#[test]
fn dropping_the_handle_detaches() {
    for (name, rt) in runtimes() {
        let done = Arc::new(AtomicUsize::new(0));
        let d = done.clone();
        rt.block_on(async move {
            let (tx, rx) = futures::channel::oneshot::channel();
            drop(filch::spawn(async move {
                filch::task::yield_now().await;
                d.fetch_add(1, Ordering::SeqCst);
                tx.send(()).unwrap();
            }));
            rx.await.unwrap();
        });
        assert_eq!(done.load(Ordering::SeqCst), 1, "{name}");
    }
}

#[test]
fn yield_now_lets_others_run() {
    let rt = Builder::new_current_thread().build().unwrap();
    let order = Arc::new(parking_lot_free::Log::default());
    rt.block_on({
        let order = order.clone();
        async move {
            let o = order.clone();
            let other = filch::spawn(async move { o.push("other") });
            filch::task::yield_now().await;
            order.push("main after yield");
            other.await.unwrap();
        }
    });
    assert_eq!(order.take(), ["other", "main after yield"]);
}

mod parking_lot_free {
    use std::sync::Mutex;
    #[derive(Default)]
    pub struct Log(Mutex<Vec<&'static str>>);
    impl Log {
        pub fn push(&self, s: &'static str) {
            self.0.lock().unwrap().push(s);
        }
        pub fn take(&self) -> Vec<&'static str> {
            std::mem::take(&mut self.0.lock().unwrap())
        }
    }
}
