//! JoinSet: completion order, abort_all, len, drop.
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
            let mut all: Vec<u8> = set
                .join_all()
                .await
                .into_iter()
                .map(Result::unwrap)
                .collect();
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
