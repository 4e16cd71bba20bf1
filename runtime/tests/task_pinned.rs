//! `spawn_local` on the workers of a multi-thread runtime: the task is pinned to the
//! worker thread that spawned it, never stolen, woken from anywhere, dropped there.
mod support;

use filch::runtime::{Builder, Runtime};
use filch::task::spawn_local;
use std::cell::Cell;
use std::panic::catch_unwind;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::{self, ThreadId};
use std::time::Duration;
use support::{within, DropCounter};

fn multi(workers: usize) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

#[test]
fn pinned_tasks_are_polled_only_on_their_worker_while_the_others_steal() {
    within(Duration::from_secs(60), "pinned tasks", || {
        let rt = multi(4);
        let moved = Arc::new(AtomicUsize::new(0));
        let polls = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let spawners: Vec<_> = (0..8)
                .map(|_| {
                    let (moved, polls) = (moved.clone(), polls.clone());
                    filch::spawn(async move {
                        let home = thread::current().id();
                        let pinned: Vec<_> = (0..25)
                            .map(|i| {
                                let (moved, polls) = (moved.clone(), polls.clone());
                                let state = Rc::new(Cell::new(0u32)); // `!Send`
                                spawn_local(async move {
                                    for step in 0..20 {
                                        if step % 5 == i % 5 {
                                            filch::time::sleep(Duration::from_micros(50)).await;
                                        } else {
                                            filch::task::yield_now().await;
                                        }
                                        state.set(state.get() + 1);
                                        polls.fetch_add(1, Ordering::Relaxed);
                                        if thread::current().id() != home {
                                            moved.fetch_add(1, Ordering::Relaxed);
                                        }
                                    }
                                    state.get()
                                })
                            })
                            .collect();
                        // Busy `Send` work beside them, for the other workers to steal.
                        let busy: Vec<_> = (0..50)
                            .map(|_| {
                                filch::spawn(async {
                                    for _ in 0..20 {
                                        filch::task::yield_now().await;
                                    }
                                })
                            })
                            .collect();
                        for task in pinned {
                            assert_eq!(task.await.unwrap(), 20);
                        }
                        for task in busy {
                            task.await.unwrap();
                        }
                    })
                })
                .collect();
            for spawner in spawners {
                spawner.await.unwrap();
            }
        });
        assert_eq!(polls.load(Ordering::Relaxed), 8 * 25 * 20);
        assert_eq!(
            moved.load(Ordering::Relaxed),
            0,
            "a pinned task ran elsewhere"
        );
    });
}

#[test]
fn a_wake_from_another_thread_reaches_a_parked_worker() {
    within(Duration::from_secs(30), "remote wake", || {
        let rt = multi(2);
        for _ in 0..200 {
            let (tx, rx) = filch::sync::oneshot::channel::<u32>();
            let (home_tx, home_rx) = mpsc::channel::<(ThreadId, ThreadId)>();
            rt.block_on(async {
                let pinned = filch::spawn(async move {
                    let home = thread::current().id();
                    spawn_local(async move {
                        let n = rx.await.unwrap();
                        home_tx.send((home, thread::current().id())).unwrap();
                        n
                    })
                    .await
                    .unwrap()
                });
                // Let the workers go idle, then wake the pinned task from a plain thread.
                filch::time::sleep(Duration::from_millis(1)).await;
                thread::spawn(move || tx.send(7).unwrap()).join().unwrap();
                assert_eq!(pinned.await.unwrap(), 7);
            });
            let (home, ran) = home_rx.recv().unwrap();
            assert_eq!(home, ran);
        }
    });
}

#[test]
fn nested_spawn_local_stays_on_the_same_worker() {
    let rt = multi(3);
    let same = rt.block_on(async {
        filch::spawn(async {
            let home = thread::current().id();
            spawn_local(async move {
                spawn_local(async move { thread::current().id() == home })
                    .await
                    .unwrap()
            })
            .await
            .unwrap()
        })
        .await
        .unwrap()
    });
    assert!(same);
}

#[test]
fn spawn_local_off_the_workers_panics_with_where_it_may_be_called() {
    let expected = "`spawn_local` called outside a `LocalSet` and off the workers of a \
                    multi-thread runtime; call it from a task on a multi-thread runtime, or \
                    wrap the code in `LocalSet::run_until` or `LocalSet::block_on`";
    // In the multi-thread runtime's `block_on` (not a worker).
    let rt = multi(2);
    let payload = rt
        .block_on(async { catch_unwind(|| drop(spawn_local(async {}))) })
        .unwrap_err();
    assert_eq!(panic_message(&*payload), expected);
    // In a blocking job of that runtime.
    let payload = rt
        .block_on(rt.spawn_blocking(|| catch_unwind(|| drop(spawn_local(async {})))))
        .unwrap()
        .unwrap_err();
    assert_eq!(panic_message(&*payload), expected);
    // On a current-thread runtime, outside a `LocalSet`.
    let ct = Builder::new_current_thread().build().unwrap();
    let spawned = ct.block_on(async {
        filch::spawn(async { catch_unwind(|| drop(spawn_local(async {}))).is_err() })
            .await
            .unwrap()
    });
    assert!(spawned);
}

#[test]
fn block_in_place_beside_pinned_tasks_runs_in_place_and_the_queue_moves_to_others() {
    within(Duration::from_secs(30), "block_in_place in place", || {
        let rt = multi(2);
        let (before, during, after, pinned_thread) = rt.block_on(async {
            filch::spawn(async {
                let home = thread::current().id();
                let (go_tx, go_rx) = filch::sync::oneshot::channel::<()>();
                let pinned = spawn_local(async move {
                    go_rx.await.unwrap();
                    thread::current().id()
                });
                // A `Send` task queued on this worker (its LIFO slot) that the blocking
                // closure waits for: another worker must take it.
                let (tx, rx) = mpsc::channel();
                let helper = filch::spawn(async move { tx.send(thread::current().id()).unwrap() });
                let during = filch::task::block_in_place(|| {
                    // Not a worker in here: spawn_local has nowhere to go.
                    let nested = catch_unwind(|| drop(spawn_local(async {}))).is_err();
                    assert!(nested, "spawn_local inside block_in_place should panic");
                    // A runtime handle still works: its tasks go to the other worker.
                    let n = filch::runtime::Handle::current()
                        .block_on(async { filch::spawn(async { 5 }).await.unwrap() });
                    assert_eq!(n, 5);
                    rx.recv_timeout(Duration::from_secs(10))
                        .expect("the queued task was stuck behind block_in_place")
                });
                helper.await.unwrap();
                // Still the same worker thread, and its pinned task still runs here.
                let after = thread::current().id();
                go_tx.send(()).unwrap();
                (home, during, after, pinned.await.unwrap())
            })
            .await
            .unwrap()
        });
        assert_ne!(before, during, "the queued task ran on the blocked worker");
        assert_eq!(
            before, after,
            "block_in_place moved a worker with pinned tasks"
        );
        assert_eq!(before, pinned_thread);
    });
}

#[test]
fn block_in_place_without_pinned_tasks_still_hands_the_worker_over() {
    let rt = multi(2);
    let finished = rt.block_on(async {
        filch::spawn(async {
            // A pinned task that is already done does not hold the worker.
            spawn_local(async {}).await.unwrap();
            let (tx, rx) = mpsc::channel();
            let helper = filch::spawn(async move { tx.send(()).unwrap() });
            filch::task::block_in_place(|| rx.recv_timeout(Duration::from_secs(10)).is_ok()) && {
                helper.await.unwrap();
                true
            }
        })
        .await
        .unwrap()
    });
    assert!(finished);
}

/// Records the thread it was dropped on.
struct DropsOn(Arc<Mutex<Vec<(ThreadId, ThreadId)>>>, ThreadId);

impl Drop for DropsOn {
    fn drop(&mut self) {
        self.0
            .lock()
            .unwrap()
            .push((self.1, thread::current().id()));
    }
}

#[test]
fn shutdown_drops_idle_pinned_tasks_on_their_own_threads() {
    let rt = multi(3);
    let drops = DropCounter::new();
    let places = Arc::new(Mutex::new(Vec::new()));
    let (ready_tx, ready_rx) = mpsc::channel();
    for _ in 0..6 {
        let (drops, places, ready_tx) = (drops.clone(), places.clone(), ready_tx.clone());
        rt.spawn(async move {
            for _ in 0..5 {
                let guard = drops.guard();
                let on = DropsOn(places.clone(), thread::current().id());
                let not_send = Rc::new(());
                drop(spawn_local(async move {
                    let _keep = (guard, on, not_send);
                    std::future::pending::<()>().await;
                }));
            }
            ready_tx.send(()).unwrap();
            std::future::pending::<()>().await;
        });
    }
    for _ in 0..6 {
        ready_rx.recv().unwrap();
    }
    assert_eq!(rt.handle().num_alive_tasks(), 6 + 30);
    drop(rt);
    assert_eq!(drops.count(), 30);
    let places = places.lock().unwrap();
    assert_eq!(places.len(), 30);
    assert!(places.iter().all(|(home, dropped)| home == dropped));
}

#[test]
fn a_panicking_pinned_task_fails_its_handle_and_the_worker_goes_on() {
    let rt = multi(2);
    let (panicked, after) = rt.block_on(async {
        filch::spawn(async {
            let failed = spawn_local(async { panic!("pinned boom") }).await;
            let panicked = failed.unwrap_err().is_panic();
            (panicked, spawn_local(async { 3 }).await.unwrap())
        })
        .await
        .unwrap()
    });
    assert!(panicked);
    assert_eq!(after, 3);
}

#[test]
fn the_dump_lists_pinned_tasks_as_local() {
    let rt = multi(2);
    let (tx, rx) = mpsc::channel();
    rt.spawn(async move {
        let pinned = filch::task::Builder::new()
            .name("pinned conn")
            .spawn_local(std::future::pending::<()>())
            .unwrap();
        tx.send(pinned.id()).unwrap();
        std::future::pending::<()>().await;
    });
    let id = rx.recv().unwrap();
    // From outside the runtime, and from another worker's task.
    let outside = rt.handle().dump();
    let inside = rt.block_on(async {
        filch::spawn(async { filch::runtime::Handle::current().dump() })
            .await
            .unwrap()
    });
    for dump in [outside, inside] {
        let matching: Vec<_> = dump.tasks().iter().filter(|t| t.id() == id).collect();
        assert_eq!(matching.len(), 1, "{dump}");
        assert_eq!(matching[0].name(), Some("pinned conn"));
        assert!(matching[0].is_local());
    }
}

#[test]
fn pinned_tasks_and_send_tasks_ping_pong_across_workers() {
    within(Duration::from_secs(60), "ping-pong", || {
        let rt = multi(4);
        let total = rt.block_on(async {
            filch::spawn(async {
                let (ping_tx, mut ping_rx) = filch::sync::mpsc::channel::<u32>(1);
                let (pong_tx, mut pong_rx) = filch::sync::mpsc::channel::<u32>(1);
                let pinned = spawn_local(async move {
                    let count = Rc::new(Cell::new(0u32));
                    while let Some(n) = ping_rx.recv().await {
                        count.set(count.get() + 1);
                        if pong_tx.send(n + 1).await.is_err() {
                            break;
                        }
                    }
                    count.get()
                });
                let remote = filch::spawn(async move {
                    let mut n = 0;
                    for _ in 0..2_000 {
                        ping_tx.send(n).await.unwrap();
                        n = pong_rx.recv().await.unwrap();
                    }
                    n
                });
                let n = remote.await.unwrap();
                (n, pinned.await.unwrap())
            })
            .await
            .unwrap()
        });
        assert_eq!(total, (2_000, 2_000));
    });
}
