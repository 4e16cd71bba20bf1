//! JoinSet: completion order, abort_all, len, drop, AbortHandle, join_all, collect/extend.
mod support;

use filch::task::JoinSet;
use support::{runtimes, DropCounter};

#[test]
fn join_next_returns_every_result() {
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let mut set = JoinSet::new();
            assert!(set.is_empty());
            for i in 0..100u32 {
                set.spawn(async move {
                    for _ in 0..(i % 5) {
                        filch::task::yield_now().await;
                    }
                    i
                });
            }
            assert_eq!(set.len(), 100);
            let mut seen: Vec<u32> = Vec::new();
            while let Some(r) = set.join_next().await {
                seen.push(r.unwrap());
            }
            seen.sort_unstable();
            assert_eq!(seen, (0..100).collect::<Vec<_>>(), "{name}");
            assert!(set.join_next().await.is_none());
        });
    }
}

#[test]
fn abort_all_cancels_pending_tasks() {
    for (name, rt) in runtimes() {
        let drops = DropCounter::new();
        rt.block_on(async {
            let mut set = JoinSet::new();
            for _ in 0..10 {
                let g = drops.guard();
                set.spawn(async move {
                    let _g = g;
                    std::future::pending::<()>().await;
                });
            }
            set.abort_all();
            let mut cancelled = 0;
            while let Some(r) = set.join_next().await {
                assert!(r.unwrap_err().is_cancelled());
                cancelled += 1;
            }
            assert_eq!(cancelled, 10, "{name}");
        });
        assert_eq!(drops.count(), 10, "{name}");
    }
}

#[test]
fn dropping_the_set_aborts_its_tasks() {
    for (name, rt) in runtimes() {
        let drops = DropCounter::new();
        rt.block_on(async {
            let mut set = JoinSet::new();
            for _ in 0..5 {
                let g = drops.guard();
                set.spawn(async move {
                    let _g = g;
                    std::future::pending::<()>().await;
                });
            }
            drop(set);
            while rt_alive(&drops) < 5 {
                filch::task::yield_now().await;
            }
        });
        assert_eq!(drops.count(), 5, "{name}");
    }
    fn rt_alive(d: &DropCounter) -> usize {
        d.count()
    }
}

#[test]
fn shutdown_and_join_all() {
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let mut set = JoinSet::new();
            set.spawn(std::future::pending::<u8>());
            set.shutdown().await;
            assert!(set.is_empty(), "{name}");
            let mut set = JoinSet::new();
            for i in 0..4u8 {
                set.spawn_on(async move { i }, &filch::runtime::Handle::current());
            }
            let mut all: Vec<u8> = set.join_all().await;
            all.sort_unstable();
            assert_eq!(all, [0, 1, 2, 3]);
        });
    }
}

#[test]
fn join_next_with_id_names_the_task_that_finished() {
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let mut set = JoinSet::new();
            for i in 0..10u32 {
                set.spawn(async move {
                    if i == 3 {
                        panic!("task three");
                    }
                    (i, filch::task::id())
                });
            }
            let mut ids = std::collections::HashSet::new();
            let mut panicked = None;
            while let Some(result) = set.join_next_with_id().await {
                match result {
                    Ok((id, (_, inside))) => {
                        assert_eq!(id, inside, "{name}: the id seen inside the task");
                        assert!(ids.insert(id));
                    }
                    Err(err) => panicked = Some(err.id()),
                }
            }
            assert_eq!(ids.len(), 9, "{name}");
            assert!(
                !ids.contains(&panicked.expect("one task panicked")),
                "{name}"
            );
        });
    }
}

#[test]
fn blocking_jobs_join_the_set_with_async_tasks() {
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let mut set = JoinSet::new();
            for i in 0..8u64 {
                set.spawn_blocking(move || {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                    i
                });
                set.spawn(async move { 100 + i });
            }
            let mut sum = 0;
            while let Some(r) = set.join_next().await {
                sum += r.unwrap();
            }
            assert_eq!(sum, (0..8).sum::<u64>() + (100..108).sum::<u64>(), "{name}");
        });
    }
}

#[test]
fn the_abort_handle_spawn_returns_cancels_that_task_only() {
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let drops = DropCounter::new();
            let mut set = JoinSet::new();
            let guard = drops.guard();
            let slow = set.spawn(async move {
                let _guard = guard;
                std::future::pending::<u32>().await
            });
            set.spawn(async { 1 });
            assert!(!slow.is_finished(), "{name}");
            slow.abort();
            slow.abort();
            let mut outcomes = Vec::new();
            while let Some(result) = set.join_next().await {
                outcomes.push(result.map_err(|e| e.is_cancelled()));
            }
            outcomes.sort();
            assert_eq!(outcomes, [Ok(1), Err(true)], "{name}");
            assert_eq!(drops.count(), 1, "{name}");
            assert!(slow.is_finished(), "{name}");
        });
    }
}

#[test]
fn an_abort_handle_outlives_its_join_handle_and_a_finished_task_keeps_its_output() {
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let drops = DropCounter::new();
            let guard = drops.guard();
            let join = filch::spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await
            });
            let abort = join.abort_handle();
            assert_eq!(abort.id(), join.id(), "{name}");
            drop(join);
            let clone = abort.clone();
            clone.abort();
            while drops.count() == 0 {
                filch::task::yield_now().await;
            }
            // The task is deregistered right after its future's drop (maybe on another
            // worker): it reads as finished within moments.
            let mut spins = 0u32;
            while !abort.is_finished() {
                spins += 1;
                assert!(spins < 1_000_000, "{name}: never finished");
                filch::task::yield_now().await;
            }

            let join = filch::spawn(async { 5 });
            let abort = join.abort_handle();
            while !join.is_finished() {
                filch::task::yield_now().await;
            }
            abort.abort();
            assert_eq!(
                join.await.unwrap(),
                5,
                "{name}: the abort came after completion"
            );
        });
    }
}

#[test]
fn an_abort_handle_of_a_finished_task_never_touches_the_task_that_reuses_its_slot() {
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let done = filch::spawn(async {});
            let abort = done.abort_handle();
            done.await.unwrap();
            // The registry reuses freed slots: some of these take the finished task's.
            let live: Vec<_> = (0..64)
                .map(|_| filch::spawn(std::future::pending::<()>()))
                .collect();
            abort.abort();
            assert!(abort.is_finished(), "{name}");
            for _ in 0..10 {
                filch::task::yield_now().await;
            }
            for join in &live {
                assert!(!join.is_finished(), "{name}: another task was aborted");
            }
            for join in live {
                join.abort();
                assert!(join.await.unwrap_err().is_cancelled());
            }
        });
    }
}

#[test]
fn a_refused_spawn_gives_a_finished_abort_handle() {
    let rt = filch::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let handle = rt.handle().clone();
    drop(rt);
    let mut set = JoinSet::new();
    let abort = set.spawn_on(async { 1 }, &handle);
    assert!(abort.is_finished());
    abort.abort();
}

#[test]
fn join_all_returns_the_outputs_and_resumes_a_task_s_panic() {
    for (name, rt) in runtimes() {
        let drops = DropCounter::new();
        let d = drops.clone();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async move {
                let mut set = JoinSet::new();
                let guard = d.guard();
                set.spawn(async move {
                    let _guard = guard;
                    std::future::pending::<u8>().await
                });
                set.spawn(async { panic!("task exploded") });
                set.join_all().await
            })
        }))
        .unwrap_err();
        assert_eq!(
            panicked.downcast_ref::<&str>(),
            Some(&"task exploded"),
            "{name}"
        );
        // The rest of the set was aborted when the panic dropped it.
        rt.block_on(async {
            while drops.count() == 0 {
                filch::task::yield_now().await;
            }
        });
    }
}

#[test]
fn a_set_collects_and_extends_from_futures() {
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let mut set: JoinSet<u32> = (0..5u32).map(|i| async move { i }).collect();
            set.extend((5..8u32).map(|i| async move { i }));
            assert_eq!(set.len(), 8, "{name}");
            let mut all = set.join_all().await;
            all.sort_unstable();
            assert_eq!(all, (0..8).collect::<Vec<_>>(), "{name}");
        });
    }
}

#[test]
fn try_join_next_returns_only_what_has_finished() {
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let mut set = JoinSet::new();
            assert!(set.try_join_next().is_none(), "{name}: empty");
            let (tx, rx) = filch::sync::oneshot::channel::<u8>();
            set.spawn(async move { rx.await.unwrap() });
            for _ in 0..10 {
                filch::task::yield_now().await;
            }
            assert!(
                set.try_join_next().is_none(),
                "{name}: nothing finished yet"
            );
            tx.send(9).unwrap();
            let mut spins = 0u32;
            let result = loop {
                if let Some(result) = set.try_join_next() {
                    break result;
                }
                spins += 1;
                assert!(spins < 1_000_000, "{name}: never finished");
                filch::task::yield_now().await;
            };
            assert_eq!(result.unwrap(), 9, "{name}");
            assert!(set.is_empty(), "{name}");
        });
    }
}

#[test]
fn spawn_local_joins_not_send_outputs_on_a_local_set() {
    use std::rc::Rc;
    let rt = filch::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let local = filch::task::LocalSet::new();
    let mut set: JoinSet<Rc<u32>> = JoinSet::new();
    set.spawn_local_on(async { Rc::new(1) }, &local);
    let total = local.block_on(&rt, async move {
        set.spawn_local(async { Rc::new(2) });
        let aborted = set.spawn_local(std::future::pending::<Rc<u32>>());
        aborted.abort();
        let mut total = 0;
        let mut cancelled = 0;
        while let Some(result) = set.join_next().await {
            match result {
                Ok(v) => total += *v,
                Err(e) => {
                    assert!(e.is_cancelled());
                    cancelled += 1;
                }
            }
        }
        assert_eq!(cancelled, 1);
        total
    });
    assert_eq!(total, 3);
}
