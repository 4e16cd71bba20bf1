//! LocalSet and spawn_local: `!Send` tasks driven on one thread inside another runtime.
mod support;

use filch::runtime::{Builder, Runtime};
use filch::task::{spawn_local, LocalSet};
use std::cell::{Cell, RefCell};
use std::panic::catch_unwind;
use std::rc::Rc;
use std::time::Duration;
use support::{runtimes, DropCounter};

fn current_thread() -> Runtime {
    Builder::new_current_thread().build().unwrap()
}

#[test]
fn rc_inside_spawn_local_works_on_every_flavor() {
    for (name, rt) in runtimes() {
        let set = LocalSet::new();
        let value = Rc::new(Cell::new(0));
        let v = value.clone();
        let out = set.block_on(&rt, async move {
            let v2 = v.clone();
            let task = spawn_local(async move {
                filch::task::yield_now().await;
                v2.set(v2.get() + 1);
                v2.get() * 10
            });
            let out = task.await.unwrap();
            v.set(v.get() + 1);
            out
        });
        assert_eq!(out, 10, "{name}");
        assert_eq!(value.get(), 2, "{name}");
    }
}

#[test]
fn spawn_local_outside_a_local_set_panics_with_the_message() {
    let payload = catch_unwind(|| spawn_local(async {})).unwrap_err();
    let message = payload.downcast_ref::<&str>().copied().unwrap_or_else(|| {
        payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .unwrap()
    });
    assert_eq!(
        message,
        "`spawn_local` called outside a `LocalSet` and off the workers of a multi-thread \
         runtime; call it from a task on a multi-thread runtime, or wrap the code in \
         `LocalSet::run_until` or `LocalSet::block_on`"
    );
    // Inside a runtime but outside a set: still a panic.
    let rt = current_thread();
    let inside = rt.block_on(async { catch_unwind(|| spawn_local(async {})).is_err() });
    assert!(inside);
}

#[test]
fn join_handle_of_a_local_task_is_the_crate_join_handle() {
    let rt = current_thread();
    let set = LocalSet::new();
    let task: filch::task::JoinHandle<&'static str> = set.spawn_local(async { "local" });
    assert!(
        !task.is_finished(),
        "nothing ran yet: the set was not driven"
    );
    assert_eq!(set.block_on(&rt, task).unwrap(), "local");
}

#[test]
fn abort_cancels_a_pending_local_task_and_drops_its_future() {
    let rt = current_thread();
    let set = LocalSet::new();
    let drops = DropCounter::new();
    let guard = drops.guard();
    let err = set.block_on(&rt, async move {
        let task = spawn_local(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        });
        filch::task::yield_now().await; // let it start
        task.abort();
        task.await.unwrap_err()
    });
    assert!(err.is_cancelled());
    assert_eq!(drops.count(), 1);
}

#[test]
fn abort_from_another_thread_reaches_the_local_task() {
    let rt = current_thread();
    let set = LocalSet::new();
    let err = set.block_on(&rt, async {
        let task = spawn_local(std::future::pending::<()>());
        filch::task::yield_now().await;
        let task = std::thread::spawn(move || {
            task.abort();
            task
        })
        .join()
        .unwrap();
        task.await.unwrap_err()
    });
    assert!(err.is_cancelled());
}

#[test]
fn a_panicking_local_task_yields_a_panic_join_error() {
    let rt = current_thread();
    let set = LocalSet::new();
    let err = set.block_on(&rt, async {
        spawn_local(async {
            let _not_send = Rc::new(());
            panic!("local boom");
        })
        .await
        .unwrap_err()
    });
    assert!(err.is_panic());
    assert_eq!(err.to_string(), "task panicked: local boom");
}

#[test]
fn run_until_returns_and_leaves_unfinished_tasks_in_the_set() {
    let rt = current_thread();
    let set = LocalSet::new();
    let progress = Rc::new(Cell::new(0));
    let p = progress.clone();
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    set.spawn_local(async move {
        p.set(1);
        rx.await.unwrap();
        p.set(2);
    });
    let out = set.block_on(&rt, async {
        filch::task::yield_now().await;
        "returned"
    });
    assert_eq!(out, "returned");
    assert_eq!(progress.get(), 1, "the task started but is still waiting");
    tx.send(()).unwrap();
    let mut set = set;
    rt.block_on(&mut set);
    assert_eq!(progress.get(), 2, "driving the set again finished it");
}

#[test]
fn the_set_as_a_future_awaits_all_its_tasks() {
    for (name, rt) in runtimes() {
        let set = LocalSet::new();
        let done = Rc::new(Cell::new(0));
        for i in 0..50 {
            let done = done.clone();
            set.spawn_local(async move {
                for _ in 0..i % 5 {
                    filch::task::yield_now().await;
                }
                // Nested spawns count too.
                let done2 = done.clone();
                spawn_local(async move {
                    done2.set(done2.get() + 1);
                });
                done.set(done.get() + 1);
            });
        }
        rt.block_on(set);
        assert_eq!(done.get(), 100, "{name}");
    }
}

#[test]
fn an_empty_set_completes_at_once() {
    let rt = current_thread();
    rt.block_on(LocalSet::new());
}

#[test]
fn a_wake_from_another_thread_wakes_the_local_task() {
    for (name, rt) in runtimes() {
        let set = LocalSet::new();
        let out = set.block_on(&rt, async {
            let (tx, rx) = futures::channel::oneshot::channel();
            let local = Rc::new(RefCell::new(Vec::new()));
            let l = local.clone();
            let task = spawn_local(async move {
                let value: u32 = rx.await.unwrap();
                l.borrow_mut().push(value);
                value + 1
            });
            let sender = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                tx.send(41).unwrap();
            });
            let out = task.await.unwrap();
            sender.join().unwrap();
            assert_eq!(*local.borrow(), vec![41]);
            out
        });
        assert_eq!(out, 42, "{name}");
    }
}

#[test]
fn a_remote_wake_wakes_the_set_awaited_as_a_future() {
    let rt = current_thread();
    let set = LocalSet::new();
    let (tx, rx) = futures::channel::oneshot::channel::<u8>();
    let got = Rc::new(Cell::new(0));
    let g = got.clone();
    set.spawn_local(async move { g.set(rx.await.unwrap()) });
    let sender = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        tx.send(9).unwrap();
    });
    rt.block_on(set);
    sender.join().unwrap();
    assert_eq!(got.get(), 9);
}

#[test]
fn dropping_the_set_drops_pending_futures() {
    let rt = current_thread();
    let drops = DropCounter::new();
    let set = LocalSet::new();
    // A task that ran and waits on a waker nobody else has (and, below, one never polled).
    let g1 = drops.guard();
    let waiting = set.spawn_local(async move {
        let _guard = g1;
        std::future::pending::<()>().await;
    });
    // A task that spawns from its destructor while the set is being dropped.
    struct SpawnsOnDrop {
        _counted: support::DropGuard,
    }
    impl Drop for SpawnsOnDrop {
        fn drop(&mut self) {
            // The set is closed: the spawn is refused and its handle resolves at once.
            let late = spawn_local(async {});
            assert!(late.is_finished());
        }
    }
    let g3 = SpawnsOnDrop {
        _counted: drops.guard(),
    };
    let spawner = set.spawn_local(async move {
        let _g = g3;
        std::future::pending::<()>().await;
    });
    set.block_on(&rt, filch::task::yield_now());
    let g2 = drops.guard();
    let queued = set.spawn_local(async move {
        let _guard = g2;
    });
    assert_eq!(drops.count(), 0);
    drop(set);
    assert_eq!(drops.count(), 3);
    for task in [waiting, queued, spawner] {
        assert!(rt.block_on(task).unwrap_err().is_cancelled());
    }
}

#[test]
fn runs_on_a_multi_thread_runtime_on_the_calling_thread() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let set = LocalSet::new();
    let me = std::thread::current().id();
    let threads = set.block_on(&rt, async {
        let mut threads = Vec::new();
        for _ in 0..20 {
            let task = spawn_local(async {
                filch::task::yield_now().await;
                std::thread::current().id()
            });
            threads.push(task.await.unwrap());
        }
        // `Send` tasks still go to the workers and can be awaited from local tasks.
        let worker = spawn_local(async {
            filch::spawn(async { std::thread::current().id() })
                .await
                .unwrap()
        })
        .await
        .unwrap();
        threads.push(worker);
        threads
    });
    let (worker, local) = threads.split_last().unwrap();
    assert!(local.iter().all(|id| *id == me));
    assert_ne!(*worker, me);
}

#[test]
fn nested_spawn_local_from_a_local_task() {
    let rt = current_thread();
    let set = LocalSet::new();
    let depth = set.block_on(&rt, async {
        fn nest(n: u32) -> filch::task::JoinHandle<u32> {
            spawn_local(async move {
                if n == 0 {
                    0
                } else {
                    nest(n - 1).await.unwrap() + 1
                }
            })
        }
        nest(10).await.unwrap()
    });
    assert_eq!(depth, 10);
}

#[test]
fn enter_makes_spawn_local_target_the_set() {
    let rt = current_thread();
    let set = LocalSet::new();
    let task = {
        let _guard = set.enter();
        spawn_local(async { 3 })
    };
    assert!(
        catch_unwind(|| spawn_local(async {})).is_err(),
        "guard dropped"
    );
    assert_eq!(set.block_on(&rt, task).unwrap(), 3);
}

#[test]
fn a_busy_local_task_does_not_starve_run_until() {
    let rt = current_thread();
    let set = LocalSet::new();
    let stop = Rc::new(Cell::new(false));
    let s = stop.clone();
    let spins = Rc::new(Cell::new(0u64));
    let sp = spins.clone();
    set.spawn_local(async move {
        while !s.get() {
            sp.set(sp.get() + 1);
            filch::task::yield_now().await;
        }
    });
    set.block_on(&rt, async {
        for _ in 0..10 {
            filch::task::yield_now().await;
        }
        stop.set(true);
    });
    assert!(spins.get() > 0);
    // And the run_until future got its turns without waiting for the busy task to end.
    assert!(spins.get() < 10_000);
}

#[test]
fn a_hot_local_task_yields_to_others_via_the_coop_budget() {
    let rt = current_thread();
    let set = LocalSet::new();
    let first_seen = set.block_on(&rt, async {
        // Finished tasks: awaiting their handles is always ready but spends budget.
        let ready: Vec<_> = (0..1_000).map(|_| spawn_local(async {})).collect();
        while !ready.iter().all(|task| task.is_finished()) {
            filch::task::yield_now().await;
        }
        let other_ran = Rc::new(Cell::new(false));
        let o = other_ran.clone();
        // Spawned first, so it runs first; it never awaits anything that is not ready.
        let hot = spawn_local(async move {
            let mut first_seen = None;
            for (i, task) in ready.into_iter().enumerate() {
                task.await.unwrap();
                if first_seen.is_none() && o.get() {
                    first_seen = Some(i);
                }
            }
            first_seen
        });
        spawn_local(async move { other_ran.set(true) });
        hot.await.unwrap()
    });
    // Without a budget the hot task would finish its loop before `other` ever ran.
    let first_seen = first_seen.expect("the other task ran while the hot one looped");
    assert!(first_seen < 1_000);
}

#[test]
fn a_set_in_a_thread_local_drops_its_tasks_at_thread_exit() {
    thread_local! {
        static SET: LocalSet = LocalSet::new();
    }
    let drops = DropCounter::new();
    let guard = drops.guard();
    std::thread::spawn(move || {
        let rt = current_thread();
        SET.with(|set| {
            set.spawn_local(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            });
            set.block_on(&rt, filch::task::yield_now());
        });
    })
    .join()
    .unwrap();
    assert_eq!(drops.count(), 1);
}
