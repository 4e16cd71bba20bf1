//! A panic in the destructor of a task's future or output is contained: it never aborts
//! the process, never takes a worker down, and the task's `JoinHandle` sees it as a panic.
use filch::runtime::{Builder, Runtime};
use filch::task::JoinSet;
use std::future::{pending, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

mod support;

/// Panics when dropped.
struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("PanicOnDrop dropped");
    }
}

/// A future that is ready at once and whose destructor panics.
struct ReadyThenPanicOnDrop(PanicOnDrop);

impl Future for ReadyThenPanicOnDrop {
    type Output = u32;
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u32> {
        Poll::Ready(5)
    }
}

/// A future whose poll panics and whose destructor panics as well.
struct PanicThenPanicOnDrop(PanicOnDrop);

impl Future for PanicThenPanicOnDrop {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        panic!("first");
    }
}

fn pending_with_panicking_drop() -> impl Future<Output = ()> + Send + 'static {
    let guard = PanicOnDrop;
    async move {
        let _guard = guard;
        pending::<()>().await
    }
}

/// The runtime still runs tasks (its workers survived).
fn assert_alive(rt: &Runtime) {
    let sum = rt.block_on(async {
        let tasks: Vec<_> = (0..8u32).map(|i| filch::spawn(async move { i })).collect();
        let mut sum = 0;
        for task in tasks {
            sum += task.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, 28);
}

#[test]
fn abort_of_a_task_whose_destructor_panics_reports_the_panic() {
    for (name, rt) in support::runtimes() {
        let join = rt.spawn(pending_with_panicking_drop());
        rt.block_on(filch::task::yield_now());
        join.abort();
        let err = rt.block_on(join).unwrap_err();
        assert!(err.is_panic(), "{name}: {err:?}");
        assert_eq!(
            err.to_string(),
            "task panicked: PanicOnDrop dropped",
            "{name}"
        );
        assert_alive(&rt);
    }
}

#[test]
fn a_destructor_panic_after_completion_is_the_task_result() {
    for (name, rt) in support::runtimes() {
        let join = rt.spawn(ReadyThenPanicOnDrop(PanicOnDrop));
        let err = rt.block_on(join).unwrap_err();
        assert!(err.is_panic(), "{name}");
        assert_alive(&rt);
    }
}

#[test]
fn a_panicking_future_whose_destructor_panics_too_reports_the_first_panic() {
    for (name, rt) in support::runtimes() {
        // (Not an async block holding a `PanicOnDrop`: its guard would be dropped while the
        // first panic unwinds, which Rust itself turns into an abort.)
        let join = rt.spawn(PanicThenPanicOnDrop(PanicOnDrop));
        let err = rt.block_on(join).unwrap_err();
        assert_eq!(err.to_string(), "task panicked: first", "{name}");
        assert_alive(&rt);
    }
}

#[test]
fn shutdown_dropping_tasks_whose_destructors_panic_does_not_abort() {
    for (name, rt) in support::runtimes() {
        let joins: Vec<_> = (0..10)
            .map(|_| rt.spawn(pending_with_panicking_drop()))
            .collect();
        rt.block_on(filch::task::yield_now());
        if name != "current_thread" {
            std::thread::sleep(Duration::from_millis(20));
        }
        drop(rt);
        for join in joins {
            let err = futures::executor::block_on(join).unwrap_err();
            // Polled once (the destructor panicked at shutdown) or never (cancelled).
            assert!(err.is_panic() || err.is_cancelled(), "{name}: {err:?}");
        }
    }
}

#[test]
fn shutdown_reports_the_destructor_panic_of_an_idle_task() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let join = rt.spawn(pending_with_panicking_drop());
    while rt.handle().num_alive_tasks() == 0 {
        std::thread::yield_now();
    }
    rt.block_on(async {
        // Make sure the task has been polled once and is idle.
        filch::time::sleep(Duration::from_millis(20)).await;
    });
    drop(rt);
    let err = futures::executor::block_on(join).unwrap_err();
    assert!(err.is_panic(), "{err:?}");
}

#[test]
fn dropping_a_join_set_of_tasks_whose_destructors_panic_does_not_abort() {
    for (_name, rt) in support::runtimes() {
        rt.block_on(async {
            let mut set = JoinSet::new();
            for _ in 0..10 {
                set.spawn(pending_with_panicking_drop());
            }
            filch::task::yield_now().await;
            drop(set);
            filch::task::yield_now().await;
        });
        assert_alive(&rt);
    }
}

#[test]
fn an_unclaimed_output_whose_destructor_panics_is_contained() {
    for (_name, rt) in support::runtimes() {
        // Detached: nobody claims the output, the runtime drops it.
        drop(rt.spawn(async { PanicOnDrop }));
        // Claimed and then dropped by the caller: the panic is the caller's, as for any
        // value it drops.
        let join = rt.spawn(async { 1 });
        assert_eq!(rt.block_on(join).unwrap(), 1);
        rt.block_on(async {
            for _ in 0..4 {
                filch::task::yield_now().await;
            }
        });
        assert_alive(&rt);
    }
}

/// Records, when dropped, whether the thread was unwinding.
struct SeesUnwinding(std::sync::Arc<std::sync::Mutex<Option<bool>>>);

impl Drop for SeesUnwinding {
    fn drop(&mut self) {
        *self.0.lock().unwrap() = Some(std::thread::panicking());
    }
}

/// A future (a struct: its fields are not dropped by its own unwinding poll, as an `async`
/// block's locals are) whose poll panics.
struct PanicsInPoll(#[allow(dead_code)] SeesUnwinding);

impl Future for PanicsInPoll {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        panic!("poll failed");
    }
}

#[test]
fn a_future_whose_poll_panics_is_dropped_during_the_unwind() {
    for (name, rt) in support::runtimes() {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
        let err = rt
            .block_on(rt.spawn(PanicsInPoll(SeesUnwinding(seen.clone()))))
            .unwrap_err();
        assert!(err.is_panic(), "{name}");
        assert_eq!(
            *seen.lock().unwrap(),
            Some(true),
            "{name}: dropped after the unwind"
        );
        assert_alive(&rt);
    }
}
