//! block_in_place: other tasks keep running while a worker blocks, even with one worker; it
//! works inside a `LocalSet` and nested through `Handle::block_on`.
use filch::runtime::Builder;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
fn other_tasks_run_while_the_only_worker_blocks() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    rt.block_on(async {
        let release = Arc::new(AtomicBool::new(false));
        let ticks = Arc::new(AtomicUsize::new(0));
        let r = release.clone();
        let blocker = filch::spawn(async move {
            filch::task::block_in_place(|| {
                let start = Instant::now();
                while !r.load(Ordering::SeqCst) {
                    assert!(
                        start.elapsed() < Duration::from_secs(20),
                        "nobody released us"
                    );
                    std::thread::sleep(Duration::from_millis(1));
                }
            });
            "unblocked"
        });
        // With one worker, these only run if the core moved to another thread.
        let t = ticks.clone();
        let ticker = filch::spawn(async move {
            for _ in 0..100 {
                t.fetch_add(1, Ordering::SeqCst);
                filch::task::yield_now().await;
            }
        });
        ticker.await.unwrap();
        assert_eq!(ticks.load(Ordering::SeqCst), 100);
        release.store(true, Ordering::SeqCst);
        assert_eq!(blocker.await.unwrap(), "unblocked");
        // The runtime still has a working worker afterwards.
        assert_eq!(filch::spawn(async { 5 }).await.unwrap(), 5);
        filch::time::sleep(Duration::from_millis(2)).await;
    });
}

#[test]
fn repeated_hand_offs_keep_the_worker_count_and_shut_down_cleanly() {
    let started = Arc::new(AtomicUsize::new(0));
    let stopped = Arc::new(AtomicUsize::new(0));
    let (s, t) = (started.clone(), stopped.clone());
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .on_thread_start(move || {
            s.fetch_add(1, Ordering::SeqCst);
        })
        .on_thread_stop(move || {
            t.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    rt.block_on(async {
        let mut set = filch::task::JoinSet::new();
        for i in 0..20u64 {
            set.spawn(async move {
                let v = filch::task::block_in_place(|| {
                    std::thread::sleep(Duration::from_millis(1));
                    i * 2
                });
                filch::task::yield_now().await;
                v
            });
        }
        let mut sum = 0;
        while let Some(r) = set.join_next().await {
            sum += r.unwrap();
        }
        assert_eq!(sum, 380);
    });
    drop(rt);
    // Every thread that started (originals and replacements) also stopped.
    assert_eq!(
        started.load(Ordering::SeqCst),
        stopped.load(Ordering::SeqCst)
    );
    assert!(started.load(Ordering::SeqCst) >= 2);
}

#[test]
fn outside_a_runtime_it_just_runs() {
    assert_eq!(filch::task::block_in_place(|| 3), 3);
}

#[test]
#[should_panic(expected = "current-thread runtime")]
fn on_a_current_thread_runtime_it_panics_with_the_fix() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async { filch::task::block_in_place(|| ()) });
}

#[test]
fn the_runtime_dropped_while_a_closure_blocks_does_not_touch_the_freed_core() {
    // The core moves to a new thread, which frees it at shutdown while the old thread is
    // still in the closure; the old thread must never touch it again (AddressSanitizer
    // reported a heap-use-after-free here).
    for workers in [1, 2] {
        let rt = filch::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .build()
            .unwrap();
        let (entered_tx, entered) = std::sync::mpsc::channel();
        let task = rt.spawn(async move {
            filch::task::block_in_place(|| {
                entered_tx.send(()).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(300));
            });
            // The rest of the poll runs on the old thread, out of the runtime.
            filch::task::yield_now().await;
        });
        entered.recv().unwrap();
        drop(rt);
        drop(task);
    }
}

#[test]
fn block_on_through_the_handle_works_inside_the_closure() {
    let rt = filch::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let from_task = rt.block_on(async {
        filch::spawn(async {
            filch::task::block_in_place(|| {
                let handle = filch::runtime::Handle::current();
                handle.block_on(async { filch::spawn(async { 20 }).await.unwrap() })
            })
        })
        .await
        .unwrap()
    });
    assert_eq!(from_task, 20);
    // Twice in one poll (the second call finds the core already gone), and from the
    // thread inside `Runtime::block_on`, which is no worker.
    let twice = rt.block_on(async {
        filch::spawn(async {
            let a = filch::task::block_in_place(|| {
                filch::runtime::Handle::current().block_on(async { 1 })
            });
            let b = filch::task::block_in_place(|| {
                filch::runtime::Handle::current().block_on(async { 2 })
            });
            a + b
        })
        .await
        .unwrap()
    });
    assert_eq!(twice, 3);
    let on_main = rt.block_on(async {
        filch::task::block_in_place(|| filch::runtime::Handle::current().block_on(async { 4 }))
    });
    assert_eq!(on_main, 4);
}

#[test]
#[should_panic(expected = "cannot block on a future from inside a filch runtime")]
fn after_the_closure_the_task_is_driving_again() {
    let rt = filch::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    rt.block_on(async {
        filch::task::block_in_place(|| ());
        // Still inside a task's poll: a nested block_on would deadlock it.
        filch::runtime::Handle::current().block_on(async {});
    });
}

#[test]
fn block_in_place_works_inside_a_local_set() {
    let rt = filch::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let out = rt.block_on(async {
        {
            let local = filch::task::LocalSet::new();
            local
                .run_until(async {
                    let lock = filch::sync::Mutex::new(1);
                    let in_place = filch::task::block_in_place(|| 2);
                    filch::task::yield_now().await;
                    let from_local = filch::task::spawn_local(async {
                        filch::task::block_in_place(|| {
                            filch::runtime::Handle::current().block_on(async { 3 })
                        })
                    })
                    .await
                    .unwrap();
                    let guard = lock.lock().await;
                    *guard + in_place + from_local
                })
                .await
        }
    });
    assert_eq!(out, 6);
}

#[test]
fn nested_block_in_place_inside_block_on_inside_block_in_place() {
    let rt = filch::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let out = rt.block_on(async {
        filch::spawn(async {
            filch::task::block_in_place(|| {
                filch::runtime::Handle::current().block_on(async {
                    filch::task::yield_now().await;
                    filch::task::block_in_place(|| 7)
                })
            })
        })
        .await
        .unwrap()
    });
    assert_eq!(out, 7);
}
