//! `Handle::dump` and `task::Builder`: the fields of a known set of tasks on both flavors
//! (idle, scheduled, running on which worker, blocking), names on every spawn path, `LocalSet`
//! tasks, finished tasks gone, and the table `Display` prints.
mod support;

use filch::runtime::{Handle, TaskDump, TaskState};
use filch::task::Builder;
use std::sync::mpsc;
use std::time::Duration;
use support::runtimes;

fn find<'a>(dump: &'a filch::runtime::Dump, name: &str) -> &'a TaskDump {
    dump.tasks()
        .iter()
        .find(|t| t.name() == Some(name))
        .unwrap_or_else(|| panic!("no task named {name:?} in\n{dump}"))
}

#[test]
fn a_dump_shows_each_task_as_it_is() {
    for (flavor, rt) in runtimes() {
        // In a task: `block_on`'s own future is not one.
        rt.block_on(rt.spawn(async move {
            // Idle after one poll, waiting on a channel.
            let (_keep, rx) = filch::sync::oneshot::channel::<()>();
            let idle = Builder::new()
                .name("idle one")
                .spawn(async move {
                    let _ = rx.await;
                })
                .unwrap();
            // A blocking job, waiting on the test.
            let (release, wait) = mpsc::channel::<()>();
            let (started_tx, started) = mpsc::channel::<()>();
            let blocking = Builder::new()
                .name("blocking one")
                .spawn_blocking(move || {
                    started_tx.send(()).unwrap();
                    wait.recv().unwrap();
                })
                .unwrap();
            filch::task::spawn_blocking(move || started.recv().unwrap())
                .await
                .unwrap();
            // Let the idle one run its first poll.
            while Handle::current()
                .dump()
                .tasks()
                .iter()
                .all(|t| t.polls() == 0 || t.name() != Some("idle one"))
            {
                filch::task::yield_now().await;
            }
            // Spawned from here and not run yet (on the current-thread flavor nothing else
            // runs while this task does).
            let queued = Builder::new().name("queued one").spawn(async {}).unwrap();
            // And this task, which takes the dump.
            let me = filch::task::id();

            let dump = Handle::current().dump();
            let idle_dump = find(&dump, "idle one");
            assert_eq!(idle_dump.state(), TaskState::Idle, "{flavor}\n{dump}");
            assert_eq!(idle_dump.polls(), 1, "{flavor}");
            assert!(idle_dump.since_last_poll().unwrap() < Duration::from_secs(60));
            assert_eq!(idle_dump.id(), idle.id());
            assert!(
                idle_dump.location().file().ends_with("task_dump.rs"),
                "{flavor}"
            );

            let blocking_dump = find(&dump, "blocking one");
            assert_eq!(
                blocking_dump.state(),
                TaskState::Blocking,
                "{flavor}\n{dump}"
            );
            // Where the job was spawned: here, not inside filch's `spawn_blocking`.
            assert!(
                blocking_dump.location().file().ends_with("task_dump.rs"),
                "{flavor}: {}",
                blocking_dump.location()
            );

            let queued_dump = find(&dump, "queued one");
            if flavor == "current_thread" {
                assert_eq!(queued_dump.state(), TaskState::Scheduled, "{dump}");
                assert_eq!(queued_dump.polls(), 0);
            }

            let this = dump
                .tasks()
                .iter()
                .find(|t| t.id() == me)
                .expect("the dumping task");
            assert_eq!(this.state(), TaskState::Running, "{flavor}\n{dump}");
            assert_eq!(
                this.worker().is_some(),
                flavor != "current_thread",
                "{flavor}\n{dump}"
            );
            assert!(this.polls() >= 1);

            let table = dump.to_string();
            assert!(
                table.contains("idle one") && table.contains("blocking one"),
                "{table}"
            );
            assert!(table.contains("task_dump.rs:"), "{table}");
            assert!(
                table.ends_with(&format!("{} tasks", dump.tasks().len())),
                "{table}"
            );
            assert_eq!((&dump).into_iter().count(), dump.tasks().len());

            // Finished tasks leave the dump.
            queued.await.unwrap();
            release.send(()).unwrap();
            blocking.await.unwrap();
            idle.abort();
            let _ = idle.await;
            let dump = Handle::current().dump();
            for gone in ["idle one", "blocking one", "queued one"] {
                assert!(
                    dump.tasks().iter().all(|t| t.name() != Some(gone)),
                    "{gone}\n{dump}"
                );
            }
        }))
        .unwrap();
    }
}

#[test]
fn local_set_tasks_are_in_the_dump_taken_on_their_thread() {
    let rt = filch::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let local = filch::task::LocalSet::new();
    local.block_on(&rt, async {
        let (_keep, rx) = filch::sync::oneshot::channel::<()>();
        let rc = std::rc::Rc::new(()); // !Send
        let task = Builder::new()
            .name("local one")
            .spawn_local(async move {
                let _rc = rc;
                let _ = rx.await;
            })
            .unwrap();
        filch::task::yield_now().await;
        let dump = Handle::current().dump();
        let t = find(&dump, "local one");
        assert!(t.is_local(), "{dump}");
        assert_eq!(t.state(), TaskState::Idle, "{dump}");
        task.abort();
    });
}

#[test]
fn builder_names_reach_tasks_spawned_on_a_handle_and_do_not_leak_to_the_next_spawn() {
    let rt = filch::runtime::Runtime::new().unwrap();
    let (_keep, rx) = filch::sync::oneshot::channel::<()>();
    let named = Builder::new()
        .name("on handle")
        .spawn_on(
            async move {
                let _ = rx.await;
            },
            rt.handle(),
        )
        .unwrap();
    let (_keep2, rx2) = filch::sync::oneshot::channel::<()>();
    let unnamed = rt.spawn(async move {
        let _ = rx2.await;
    });
    let dump = rt.handle().dump();
    assert!(dump
        .tasks()
        .iter()
        .any(|t| t.id() == named.id() && t.name() == Some("on handle")));
    let other = dump
        .tasks()
        .iter()
        .find(|t| t.id() == unnamed.id())
        .unwrap();
    assert_eq!(other.name(), None, "{dump}");

    // A named spawn that panics (outside a runtime) leaves no name behind.
    let panicked = std::panic::catch_unwind(|| Builder::new().name("lost").spawn(async {}));
    assert!(panicked.is_err());
    let _guard = rt.enter();
    let next = filch::spawn(async {});
    let dump = rt.handle().dump();
    if let Some(t) = dump.tasks().iter().find(|t| t.id() == next.id()) {
        assert_eq!(t.name(), None, "{dump}");
    }
}

/// The worker a task polled inside a `block_in_place` closure reports: none, whether the
/// worker moved to another thread or stayed beside its pinned tasks (the closure's polls
/// are not the worker's).
#[test]
fn tasks_polled_inside_block_in_place_run_on_no_worker() {
    let rt = filch::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    for pinned in [false, true] {
        let seen = rt.block_on(rt.spawn(async move {
            let (_keep, rx) = filch::sync::oneshot::channel::<()>();
            if pinned {
                // A live pinned task keeps the worker on this thread (in place).
                filch::task::spawn_local(async move {
                    let _ = rx.await;
                });
            }
            // The worker itself, for contrast.
            let me = filch::task::id();
            let outside = Handle::current()
                .dump()
                .tasks()
                .iter()
                .find(|t| t.id() == me)
                .map(|t| t.worker());
            let inside = filch::task::block_in_place(|| {
                let set = filch::task::LocalSet::new();
                Handle::current().block_on(set.run_until(async {
                    filch::task::spawn_local(async {
                        let me = filch::task::id();
                        let dump = Handle::current().dump();
                        let this = dump.tasks().iter().find(|t| t.id() == me).cloned();
                        (this.map(|t| (t.state(), t.worker())), dump.to_string())
                    })
                    .await
                    .unwrap()
                }))
            });
            (outside, inside)
        }));
        let (outside, (inside, table)) = seen.unwrap();
        assert_eq!(outside, Some(Some(0)), "pinned: {pinned}");
        assert_eq!(
            inside,
            Some((TaskState::Running, None)),
            "pinned: {pinned}\n{table}"
        );
    }
}
