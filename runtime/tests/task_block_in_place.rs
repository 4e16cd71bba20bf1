//! block_in_place: other tasks keep running while a worker blocks, even with one worker.
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
