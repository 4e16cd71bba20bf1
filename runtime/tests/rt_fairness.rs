//! Fairness: the LIFO slot is bounded, the cooperative budget makes hot tasks yield (and
//! `consume_budget`/`unconstrained` take part in it or opt out), and the injector is not
//! starved by local work.
mod support;

use filch::runtime::Builder;
use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

#[test]
fn ping_pong_pair_cannot_starve_a_third_task() {
    // One worker: two tasks that wake each other forever would keep the LIFO slot busy.
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    rt.block_on(async {
        let (mut a_tx, mut a_rx) = mpsc::channel::<u32>(1);
        let (mut b_tx, mut b_rx) = mpsc::channel::<u32>(1);
        let s1 = stop.clone();
        let ping = filch::spawn(async move {
            let mut n = 0;
            while !s1.load(Ordering::SeqCst) {
                a_tx.send(n).await.unwrap();
                n = b_rx.next().await.unwrap();
            }
        });
        let pong = filch::spawn(async move {
            while let Some(n) = a_rx.next().await {
                if b_tx.send(n + 1).await.is_err() {
                    break;
                }
            }
        });
        let s2 = stop.clone();
        // Spawned last, from inside: it has to get a turn while the pair runs.
        filch::spawn(async move { s2.store(true, Ordering::SeqCst) })
            .await
            .unwrap();
        ping.await.unwrap();
        pong.await.unwrap();
    });
}

#[test]
fn budget_makes_a_task_of_ready_joins_yield() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let ticks = Arc::new(AtomicUsize::new(0));
        let t = ticks.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let ticker = filch::spawn(async move {
            while !s.load(Ordering::SeqCst) {
                t.fetch_add(1, Ordering::SeqCst);
                filch::task::yield_now().await;
            }
        });
        let handles: Vec<_> = (0..2000).map(|_| filch::spawn(async {})).collect();
        while handles.iter().any(|h| !h.is_finished()) {
            filch::task::yield_now().await;
        }
        let before = ticks.load(Ordering::SeqCst);
        // Every await below is ready at once; only the budget gives the ticker a turn.
        for h in handles {
            h.await.unwrap();
        }
        let during = ticks.load(Ordering::SeqCst) - before;
        assert!(during >= 2000 / 128 - 1, "ticker ran {during} times");
        stop.store(true, Ordering::SeqCst);
        ticker.await.unwrap();
    });
}

#[test]
fn remote_spawns_are_not_starved_by_a_busy_local_queue() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    // A task that keeps its worker's local queue non-empty forever.
    rt.spawn(async move {
        while !s.load(Ordering::SeqCst) {
            filch::task::yield_now().await;
        }
    });
    let remote = rt.spawn(async { 1 });
    let worker_done = {
        // Wait from outside without block_on (which would not help a multi-thread worker).
        while !remote.is_finished() {
            std::thread::yield_now();
        }
        true
    };
    assert!(worker_done);
    stop.store(true, Ordering::SeqCst);
    assert_eq!(rt.block_on(remote).unwrap(), 1);
}

#[test]
fn work_spreads_across_workers() {
    // Tasks that block their thread briefly: with stealing, both workers take part.
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let ids = rt.block_on(async {
        let hs: Vec<_> = (0..64)
            .map(|_| {
                filch::spawn(async {
                    std::thread::sleep(std::time::Duration::from_millis(2));
                    std::thread::current().id()
                })
            })
            .collect();
        let mut ids = std::collections::HashSet::new();
        for h in hs {
            ids.insert(h.await.unwrap());
        }
        ids
    });
    assert_eq!(ids.len(), 2, "both workers ran tasks");
}

/// A task that loops on `consume_budget` (and nothing else) lets a task queued behind it
/// run before the loop ends; inside `unconstrained`, it does not.
#[test]
fn consume_budget_yields_and_unconstrained_opts_out() {
    for opt_out in [false, true] {
        let rt = filch::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let other_ran_during_loop = rt.block_on(async move {
            let other_ran = Arc::new(AtomicBool::new(false));
            let seen = other_ran.clone();
            let hog = async move {
                for _ in 0..10_000 {
                    filch::task::consume_budget().await;
                    if seen.load(Ordering::SeqCst) {
                        return true;
                    }
                }
                false
            };
            let hog: std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send>> = if opt_out
            {
                Box::pin(filch::task::unconstrained(hog))
            } else {
                Box::pin(hog)
            };
            let hog = filch::spawn(hog);
            let flag = other_ran.clone();
            let other = filch::spawn(async move { flag.store(true, Ordering::SeqCst) });
            let result = hog.await.unwrap();
            other.await.unwrap();
            result
        });
        assert_eq!(other_ran_during_loop, !opt_out, "unconstrained: {opt_out}");
    }
    assert!(filch::task::has_budget_remaining(), "outside a task");
}

/// With `global_queue_interval(1)` a worker takes from the shared queue before every task
/// of its own: a remote spawn runs within a couple of local polls, however many local tasks
/// keep yielding.
#[test]
fn a_global_queue_interval_of_one_serves_remote_work_first() {
    for flavor in ["current_thread", "multi_thread"] {
        let rt = match flavor {
            "current_thread" => Builder::new_current_thread(),
            _ => {
                let mut b = Builder::new_multi_thread();
                b.worker_threads(1);
                b
            }
        }
        .global_queue_interval(1)
        .event_interval(3)
        .build()
        .unwrap();
        let polls = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        {
            let (polls, stop) = (polls.clone(), stop.clone());
            drop(rt.spawn(async move {
                for _ in 0..50 {
                    let (polls, stop) = (polls.clone(), stop.clone());
                    drop(filch::spawn(async move {
                        while !stop.load(Ordering::SeqCst) {
                            polls.fetch_add(1, Ordering::SeqCst);
                            filch::task::yield_now().await;
                        }
                    }));
                }
                started_tx.send(()).unwrap();
            }));
        }
        let seen_at = if flavor == "current_thread" {
            // The current-thread runtime runs its tasks inside `block_on`.
            rt.block_on(async {
                // (No blocking wait for `started`: only this `block_on` runs the tasks.)
                while polls.load(Ordering::SeqCst) < 500 {
                    filch::task::yield_now().await;
                }
                let before = polls.load(Ordering::SeqCst);
                let (p, s) = (polls.clone(), stop.clone());
                let remote = std::thread::spawn({
                    let handle = filch::runtime::Handle::current();
                    move || handle.spawn(async move { p.load(Ordering::SeqCst) })
                })
                .join()
                .unwrap();
                let at = remote.await.unwrap();
                s.store(true, Ordering::SeqCst);
                at - before
            })
        } else {
            started_rx.recv().unwrap();
            while polls.load(Ordering::SeqCst) < 500 {
                std::thread::yield_now();
            }
            let p = polls.clone();
            let remote = rt.spawn(async move { p.load(Ordering::SeqCst) });
            // Counted from when the spawn is in the injector: the spawning thread's own
            // latency (it may be descheduled on a loaded machine while the worker polls
            // on) is not the scheduler's. Were this thread descheduled here instead, the
            // remote task would only look earlier.
            let pushed = polls.load(Ordering::SeqCst);
            let at = rt.block_on(remote).unwrap();
            stop.store(true, Ordering::SeqCst);
            at.saturating_sub(pushed)
        };
        // The remote task is taken at the next tick; the polls counted in between are the
        // local ones that were already running (one each, plus the spawn's own latency).
        assert!(
            seen_at < 50,
            "{flavor}: {seen_at} local polls ran before the remote spawn"
        );
    }
}

#[test]
fn a_sleeping_worker_is_woken_to_share_a_yield_loop() {
    // A task spawns one partner (into the LIFO slot: no notification) and both loop on
    // `yield_now`, whose pushes tell no other worker either. If the other worker slept
    // through the start, only the busy worker's maintenance wakes it to steal the partner.
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    for round in 0..10 {
        // Let both workers go to sleep first.
        std::thread::sleep(std::time::Duration::from_millis(20));
        let seen = rt
            .block_on(rt.spawn(async {
                let threads = Arc::new(parking_lot::Mutex::new(std::collections::HashSet::new()));
                let stop = Arc::new(AtomicBool::new(false));
                let spin = |threads: Arc<parking_lot::Mutex<std::collections::HashSet<_>>>,
                            stop: Arc<AtomicBool>| async move {
                    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
                    while !stop.load(Ordering::SeqCst) && std::time::Instant::now() < deadline {
                        let spun = std::time::Instant::now();
                        while spun.elapsed() < std::time::Duration::from_micros(20) {}
                        let both = {
                            let mut seen = threads.lock();
                            seen.insert(std::thread::current().id());
                            seen.len() == 2
                        };
                        if both {
                            stop.store(true, Ordering::SeqCst);
                        }
                        filch::task::yield_now().await;
                    }
                };
                let partner = filch::spawn(spin(threads.clone(), stop.clone()));
                spin(threads.clone(), stop).await;
                partner.await.unwrap();
                let seen = threads.lock().len();
                seen
            }))
            .unwrap();
        assert_eq!(
            seen, 2,
            "round {round}: one worker ran a yield loop for 5 s alone"
        );
    }
}
