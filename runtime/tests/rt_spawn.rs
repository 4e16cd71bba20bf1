//! Spawning: from inside and outside the runtime, nested, in bulk, through handles.
mod support;

use filch::runtime::{Builder, Handle, Runtime};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use support::runtimes;

#[test]
fn spawn_inside_and_join() {
    for (name, rt) in runtimes() {
        let sum = rt.block_on(async {
            let handles: Vec<_> = (0..1000u64)
                .map(|i| filch::spawn(async move { i }))
                .collect();
            let mut sum = 0;
            for h in handles {
                sum += h.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, 499_500, "{name}");
    }
}

#[test]
fn spawn_from_outside_runs_without_block_on_on_multi_thread() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..100)
        .map(|_| {
            let ran = ran.clone();
            rt.spawn(async move {
                ran.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    // Nobody is in block_on: the workers run the tasks on their own.
    while handles.iter().any(|h| !h.is_finished()) {
        std::thread::yield_now();
    }
    assert_eq!(ran.load(Ordering::SeqCst), 100);
}

#[test]
fn nested_spawns() {
    fn fan_out(depth: u32) -> filch::task::JoinHandle<u64> {
        filch::spawn(async move {
            if depth == 0 {
                return 1;
            }
            let a = fan_out(depth - 1);
            let b = fan_out(depth - 1);
            a.await.unwrap() + b.await.unwrap()
        })
    }
    for (name, rt) in runtimes() {
        let leaves = rt.block_on(async { fan_out(10).await.unwrap() });
        assert_eq!(leaves, 1024, "{name}");
    }
}

#[test]
fn hundred_thousand_tasks() {
    for (name, rt) in runtimes() {
        let counter = Arc::new(AtomicUsize::new(0));
        let c = counter.clone();
        rt.block_on(async move {
            let mut set = filch::task::JoinSet::new();
            for _ in 0..100_000 {
                let c = c.clone();
                set.spawn(async move {
                    c.fetch_add(1, Ordering::Relaxed);
                });
            }
            while let Some(r) = set.join_next().await {
                r.unwrap();
            }
        });
        assert_eq!(counter.load(Ordering::SeqCst), 100_000, "{name}");
        assert_eq!(rt.handle().num_alive_tasks(), 0, "{name}: registry drained");
    }
}

#[test]
fn handle_spawns_and_blocks_from_a_foreign_thread() {
    for (name, rt) in runtimes() {
        let handle = rt.handle().clone();
        let out = std::thread::spawn(move || {
            let task = handle.spawn(async { 21 * 2 });
            handle.block_on(async move { task.await.unwrap() })
        })
        .join()
        .unwrap();
        assert_eq!(out, 42, "{name}");
    }
}

#[test]
fn handle_current_inside_tasks_and_enter() {
    let rt = Runtime::new().unwrap();
    assert!(Handle::try_current().is_err());
    {
        let _guard = rt.enter();
        let handle = Handle::current();
        let task = filch::spawn(async { Handle::try_current().is_ok() });
        assert!(rt.block_on(task).unwrap());
        drop(handle);
    }
    assert!(
        Handle::try_current().is_err(),
        "guard restored the empty context"
    );
}

#[test]
fn spawn_outside_a_runtime_panics_with_the_fix() {
    let err = std::panic::catch_unwind(|| {
        filch::spawn(async {});
    })
    .unwrap_err();
    let msg = err.downcast_ref::<&str>().copied().unwrap_or_default();
    assert!(msg.contains("outside a runtime"), "{msg}");
    assert!(msg.contains("#[filch::main]"), "{msg}");
}

#[test]
fn handle_current_outside_panics_with_the_fix() {
    let err = std::panic::catch_unwind(Handle::current).unwrap_err();
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("no filch runtime"), "{msg}");
}

#[test]
fn block_on_inside_a_runtime_panics_instead_of_deadlocking() {
    for (name, rt) in runtimes() {
        let handle = rt.handle().clone();
        // Inside a task.
        let task = rt.spawn(async move { handle.block_on(async {}) });
        let err = rt.block_on(task).unwrap_err();
        assert!(err.is_panic(), "{name}");
        assert!(
            err.to_string()
                .contains("cannot block on a future from inside"),
            "{name}: {err}"
        );
        // Inside block_on itself.
        let handle = rt.handle().clone();
        let nested = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async { handle.block_on(async {}) })
        }));
        assert!(nested.is_err(), "{name}");
        // The runtime is still usable afterwards.
        assert_eq!(rt.block_on(async { 1 }), 1, "{name}");
    }
}

#[test]
fn builder_options_are_applied() {
    let started = Arc::new(AtomicUsize::new(0));
    let stopped = Arc::new(AtomicUsize::new(0));
    let (s, t) = (started.clone(), stopped.clone());
    let rt = Builder::new_multi_thread()
        .worker_threads(3)
        .thread_name("custom-worker")
        .thread_stack_size(256 * 1024)
        .on_thread_start(move || {
            s.fetch_add(1, Ordering::SeqCst);
        })
        .on_thread_stop(move || {
            t.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    assert_eq!(rt.handle().num_workers(), 3);
    let name = rt
        .block_on(rt.spawn(async { std::thread::current().name().map(str::to_owned) }))
        .unwrap();
    assert_eq!(name.as_deref(), Some("custom-worker"));
    drop(rt);
    assert_eq!(started.load(Ordering::SeqCst), 3);
    assert_eq!(stopped.load(Ordering::SeqCst), 3);
}

#[test]
#[should_panic(expected = "must be at least 1")]
fn zero_workers_is_refused() {
    Builder::new_multi_thread().worker_threads(0);
}

#[test]
fn current_thread_runs_everything_on_the_caller() {
    let rt = Builder::new_current_thread().build().unwrap();
    let me = std::thread::current().id();
    let ids = rt.block_on(async {
        let hs: Vec<_> = (0..10)
            .map(|_| filch::spawn(async { std::thread::current().id() }))
            .collect();
        let mut ids = Vec::new();
        for h in hs {
            ids.push(h.await.unwrap());
        }
        ids
    });
    assert!(ids.iter().all(|&id| id == me));
}

#[test]
fn current_thread_block_on_from_two_threads() {
    // Two threads block on the same current-thread runtime; the tasks make progress
    // whichever of them drives the core.
    let rt = Arc::new(Builder::new_current_thread().build().unwrap());
    let (tx, rx) = futures::channel::oneshot::channel::<u32>();
    let rt2 = rt.clone();
    let waiter = std::thread::spawn(move || rt2.block_on(async { rx.await.unwrap() }));
    let sender = rt.spawn(async move {
        filch::task::yield_now().await;
        tx.send(7).unwrap();
    });
    rt.block_on(sender).unwrap();
    assert_eq!(waiter.join().unwrap(), 7);
}

#[test]
fn a_panic_in_block_on_leaves_the_runtime_usable_and_droppable() {
    for (name, rt) in runtimes() {
        let queued = rt.spawn(async { 9 });
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async {
                filch::task::yield_now().await;
                panic!("boom")
            })
        }));
        assert!(panicked.is_err(), "{name}");
        assert_eq!(rt.block_on(queued).unwrap(), 9, "{name}");
        drop(rt);
    }
}
