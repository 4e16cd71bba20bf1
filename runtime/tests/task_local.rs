//! Task-local storage: `task_local!`, `LocalKey::{scope, sync_scope, with, try_with, get}`.
mod support;

use filch::runtime::Builder;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use support::{runtimes, DropCounter};

filch::task_local! {
    static NUMBER: u32;
    /// A key with a doc comment and a non-`Copy` type.
    pub(crate) static NAME: String;
}

#[test]
fn scope_with_try_with_and_get() {
    for (name, rt) in runtimes() {
        let out = rt.block_on(NUMBER.scope(5, async {
            filch::task::yield_now().await;
            (
                NUMBER.get(),
                NUMBER.with(|n| n * 2),
                NUMBER.try_with(|n| n + 1),
            )
        }));
        assert_eq!(out, (5, 10, Ok(6)), "{name}");
        assert!(
            NUMBER.try_with(|_| ()).is_err(),
            "{name}: unset after the scope"
        );
    }
}

#[test]
fn with_outside_a_scope_panics_naming_the_fix() {
    let payload = catch_unwind(|| NAME.with(|n| n.len())).unwrap_err();
    let message = payload.downcast_ref::<String>().expect("formatted message");
    assert!(
        message.contains("task-local `NAME` is not set"),
        "{message}"
    );
    assert!(
        message.contains("NAME.scope(value, future).await"),
        "{message}"
    );
    let err = NAME.try_with(|n| n.len()).unwrap_err();
    assert_eq!(err.to_string(), "task-local value not set");
}

#[test]
fn nested_scopes_of_the_same_key_restore_the_outer_value() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(NUMBER.scope(1, async {
        assert_eq!(NUMBER.get(), 1);
        let inner = NUMBER
            .scope(2, async {
                filch::task::yield_now().await;
                let innermost = NUMBER.sync_scope(3, || NUMBER.get());
                (NUMBER.get(), innermost)
            })
            .await;
        assert_eq!(inner, (2, 3));
        filch::task::yield_now().await;
        assert_eq!(NUMBER.get(), 1);
    }));
}

#[test]
fn interleaved_scopes_on_one_thread_see_their_own_values() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let a = NUMBER.scope(10, async {
            let mut seen = Vec::new();
            for _ in 0..5 {
                seen.push(NUMBER.get());
                filch::task::yield_now().await;
            }
            seen
        });
        let b = NUMBER.scope(20, async {
            let mut seen = Vec::new();
            for _ in 0..5 {
                seen.push(NUMBER.get());
                filch::task::yield_now().await;
            }
            seen
        });
        let (a, b) = filch::join!(a, b);
        assert_eq!(a, vec![10; 5]);
        assert_eq!(b, vec![20; 5]);
        assert!(NUMBER.try_with(|_| ()).is_err());
    });
}

#[test]
fn value_follows_its_task_across_yields_on_a_multi_thread_runtime() {
    let rt = Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    rt.block_on(async {
        let tasks: Vec<_> = (0..16u32)
            .map(|i| {
                filch::spawn(NUMBER.scope(i, async move {
                    for _ in 0..200 {
                        assert_eq!(NUMBER.get(), i);
                        filch::task::yield_now().await;
                    }
                    NUMBER.get()
                }))
            })
            .collect();
        for (i, task) in tasks.into_iter().enumerate() {
            assert_eq!(task.await.unwrap(), i as u32);
        }
    });
}

#[test]
fn spawned_tasks_do_not_inherit_the_value() {
    for (name, rt) in runtimes() {
        let seen_in_child = rt.block_on(NUMBER.scope(7, async {
            let child = filch::spawn(async { NUMBER.try_with(|n| *n).is_ok() });
            let seen = child.await.unwrap();
            assert_eq!(NUMBER.get(), 7);
            seen
        }));
        assert!(!seen_in_child, "{name}");
    }
}

#[test]
fn a_panic_inside_poll_restores_the_outer_value() {
    NUMBER.sync_scope(1, || {
        let result = catch_unwind(|| {
            futures::executor::block_on(NUMBER.scope(2, async {
                assert_eq!(NUMBER.get(), 2);
                panic!("boom");
            }))
        });
        assert!(result.is_err());
        assert_eq!(NUMBER.get(), 1);
    });
    assert!(NUMBER.try_with(|_| ()).is_err());
}

#[test]
fn a_panicking_scoped_task_leaves_the_worker_clean() {
    for (name, rt) in runtimes() {
        let err = rt
            .block_on(rt.spawn(NUMBER.scope(3, async {
                filch::task::yield_now().await;
                panic!("inside scope");
            })))
            .unwrap_err();
        assert!(err.is_panic(), "{name}");
        // Every worker polls something afterwards and must see no value.
        let leaks = rt.block_on(async {
            let tasks: Vec<_> = (0..32)
                .map(|_| filch::spawn(async { NUMBER.try_with(|_| ()).is_ok() }))
                .collect();
            let mut leaks = 0;
            for task in tasks {
                leaks += usize::from(task.await.unwrap());
            }
            leaks
        });
        assert_eq!(leaks, 0, "{name}");
    }
}

#[test]
fn the_value_is_dropped_once_and_the_future_sees_it_on_drop() {
    filch::task_local! {
        static GUARD: support::DropGuard;
    }
    let drops = DropCounter::new();
    let future_drops = DropCounter::new();
    struct ChecksOnDrop {
        _counted: support::DropGuard,
    }
    impl Drop for ChecksOnDrop {
        fn drop(&mut self) {
            assert!(GUARD.try_with(|_| ()).is_ok(), "dropped outside the scope");
        }
    }
    let inner = ChecksOnDrop {
        _counted: future_drops.guard(),
    };
    let mut future = Box::pin(GUARD.scope(drops.guard(), async move {
        let _inner = inner;
        std::future::pending::<()>().await;
    }));
    let mut cx = std::task::Context::from_waker(futures::task::noop_waker_ref());
    assert!(future.as_mut().poll(&mut cx).is_pending());
    assert_eq!(drops.count(), 0);
    let result = catch_unwind(AssertUnwindSafe(|| drop(future)));
    assert!(
        result.is_ok(),
        "the inner future saw the value while dropped"
    );
    assert_eq!(future_drops.count(), 1);
    assert_eq!(drops.count(), 1);
    assert!(GUARD.try_with(|_| ()).is_err());
}
