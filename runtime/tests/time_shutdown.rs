//! Timers after their runtime shut down: a timer polled on a runtime whose driver has shut
//! down panics with a message that says so (it can never fire: nobody advances the wheel),
//! a timer pending at shutdown is woken so its task sees that, and dropping a timer after
//! shutdown is fine. None of them may hang.
//!
//! Every test runs under a watchdog, so a hang fails the test.
mod support;

use filch::runtime::{Handle, Runtime};
use filch::time::{interval, sleep, timeout, Duration, Instant};
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use support::{runtimes, within};

const SHUT_DOWN: &str = "the runtime this timer belongs to has shut down";

fn message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// `f` panics with the shut-down message.
fn assert_panics_shut_down(name: &str, f: impl FnOnce()) {
    let panic = catch_unwind(AssertUnwindSafe(f)).expect_err(name);
    let msg = message(&*panic);
    assert!(msg.contains(SHUT_DOWN), "{name}: {msg:?}");
}

/// A handle that outlives its (dropped) runtime.
fn orphan(rt: Runtime) -> Handle {
    let handle = rt.handle().clone();
    drop(rt);
    handle
}

#[test]
fn a_sleep_first_polled_after_the_runtime_dropped_panics() {
    within(
        Duration::from_secs(60),
        "block_on(sleep) after drop",
        || {
            for (name, rt) in runtimes() {
                let handle = orphan(rt);
                assert_panics_shut_down(name, || {
                    handle.block_on(sleep(Duration::from_millis(10)));
                });
                assert_panics_shut_down(name, || {
                    handle.block_on(sleep(Duration::ZERO));
                });
                assert_panics_shut_down(name, || {
                    handle.block_on(async {
                        interval(Duration::from_millis(1)).tick().await;
                    });
                });
            }
        },
    );
}

#[test]
fn a_timeout_after_the_runtime_dropped_returns_a_ready_value_or_panics() {
    within(
        Duration::from_secs(60),
        "block_on(timeout) after drop",
        || {
            for (name, rt) in runtimes() {
                let handle = orphan(rt);
                // The future is polled first: a ready one needs no timer.
                let ready = handle.block_on(timeout(Duration::from_millis(10), async { 1 }));
                assert_eq!(ready, Ok(1), "{name}");
                assert_panics_shut_down(name, || {
                    let _ = handle.block_on(timeout(
                        Duration::from_millis(10),
                        std::future::pending::<()>(),
                    ));
                });
            }
        },
    );
}

#[test]
fn a_sleep_registered_before_shutdown_panics_when_polled_after() {
    within(
        Duration::from_secs(60),
        "registered sleep after drop",
        || {
            for (name, rt) in runtimes() {
                let handle = rt.handle().clone();
                let mut s = Box::pin(sleep(Duration::from_millis(30)));
                rt.block_on(async {
                    assert!(futures::poll!(s.as_mut()).is_pending(), "{name}");
                });
                drop(rt);
                assert_panics_shut_down(name, || handle.block_on(s.as_mut()));
                // Dropping it after shutdown is fine.
                drop(s);
            }
        },
    );
}

#[test]
fn a_sleep_pending_at_shutdown_is_woken_and_panics() {
    // Another thread waits on a long sleep through a handle; dropping the runtime must
    // wake it (not leave it for a minute) and make it panic with the message.
    within(Duration::from_secs(60), "sleep pending at shutdown", || {
        for (name, rt) in runtimes() {
            let handle = rt.handle().clone();
            let (started_tx, started_rx) = mpsc::channel();
            let waiter = std::thread::spawn(move || {
                let began = Instant::now();
                let got = catch_unwind(AssertUnwindSafe(|| {
                    handle.block_on(async {
                        let mut s = std::pin::pin!(sleep(Duration::from_secs(60)));
                        assert!(futures::poll!(s.as_mut()).is_pending());
                        started_tx.send(()).unwrap();
                        s.await;
                    })
                }));
                (got.map_err(|p| message(&*p)), began.elapsed())
            });
            started_rx.recv().unwrap();
            drop(rt);
            let (got, took) = waiter.join().unwrap();
            let msg = got.expect_err(name);
            assert!(msg.contains(SHUT_DOWN), "{name}: {msg:?}");
            assert!(took < Duration::from_secs(30), "{name}: {took:?}");
        }
    });
}

#[test]
fn dropping_sleeps_after_shutdown_never_panics() {
    within(Duration::from_secs(60), "drop after shutdown", || {
        for (name, rt) in runtimes() {
            let mut registered = Box::pin(sleep(Duration::from_secs(60)));
            let mut fired = Box::pin(sleep(Duration::from_millis(1)));
            let unpolled = sleep(Duration::from_millis(1));
            rt.block_on(async {
                assert!(futures::poll!(registered.as_mut()).is_pending(), "{name}");
                fired.as_mut().await;
            });
            rt.shutdown_timeout(Duration::from_secs(5));
            drop(registered);
            drop(fired);
            drop(unpolled);
        }
    });
}
