//! Timers at the edges of time: deadlines past the timer wheel's range (`Duration::MAX`,
//! years away, not representable in wheel milliseconds) must neither freeze the other
//! timers nor fire early; `interval`, `sleep_until`, `timeout` and `Sleep::reset` with
//! extreme arguments must not panic.
//!
//! Every test runs under a watchdog: a frozen timer wheel makes it fail, not hang.
mod support;

use filch::time::{
    interval, interval_at, sleep, sleep_until, timeout, Duration, Instant, MissedTickBehavior,
};
use support::{runtimes, within};

/// Lets the wheel's clock move off zero, so that far deadlines land in an unaligned slot.
async fn let_time_move() {
    sleep(Duration::from_millis(3)).await;
}

/// Waits for a short sleep: the other timers still work.
async fn short_sleep_completes(name: &str) {
    let start = Instant::now();
    sleep(Duration::from_millis(10)).await;
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(10), "{name}: early");
    assert!(took < Duration::from_secs(5), "{name}: {took:?}");
}

#[test]
fn a_sleep_of_duration_max_does_not_freeze_the_other_timers() {
    within(Duration::from_secs(60), "sleep(Duration::MAX)", || {
        for (name, rt) in runtimes() {
            rt.block_on(async {
                let_time_move().await;
                let mut far = std::pin::pin!(sleep(Duration::MAX));
                assert!(futures::poll!(far.as_mut()).is_pending(), "{name}");
                short_sleep_completes(name).await;
                assert!(futures::poll!(far.as_mut()).is_pending(), "{name}: fired");
            });
        }
    });
}

#[test]
fn a_spawned_sleep_of_duration_max_does_not_freeze_the_other_timers() {
    within(
        Duration::from_secs(60),
        "spawned sleep(Duration::MAX)",
        || {
            for (name, rt) in runtimes() {
                rt.block_on(async {
                    let_time_move().await;
                    let far = filch::spawn(sleep(Duration::MAX));
                    filch::task::yield_now().await;
                    short_sleep_completes(name).await;
                    let_time_move().await;
                    short_sleep_completes(name).await;
                    assert!(!far.is_finished(), "{name}: fired");
                    far.abort();
                });
            }
        },
    );
}

#[test]
fn a_timeout_of_u64_max_seconds_does_not_freeze_the_other_timers() {
    within(Duration::from_secs(60), "timeout(u64::MAX s)", || {
        for (name, rt) in runtimes() {
            rt.block_on(async {
                let_time_move().await;
                let got = timeout(
                    Duration::from_secs(u64::MAX),
                    sleep(Duration::from_millis(10)),
                )
                .await;
                assert_eq!(got, Ok(()), "{name}");
                short_sleep_completes(name).await;
            });
        }
    });
}

#[test]
fn sleeps_of_years_do_not_freeze_the_other_timers() {
    within(Duration::from_secs(60), "sleeps of years", || {
        for (name, rt) in runtimes() {
            rt.block_on(async {
                let_time_move().await;
                let year = Duration::from_secs(365 * 86_400);
                let mut sleeps: Vec<_> = [2, 3, 10, 100, 1_000_000]
                    .iter()
                    .map(|&years| Box::pin(sleep(year * years)))
                    .collect();
                for s in &mut sleeps {
                    assert!(futures::poll!(s.as_mut()).is_pending(), "{name}");
                }
                short_sleep_completes(name).await;
                for s in &mut sleeps {
                    assert!(futures::poll!(s.as_mut()).is_pending(), "{name}: fired");
                }
            });
        }
    });
}

/// An instant past `u64::MAX` milliseconds from now: its wheel deadline must saturate, not
/// wrap around to a deadline about a second away.
fn beyond_u64_millis() -> Instant {
    Instant::now() + Duration::from_millis(u64::MAX) + Duration::from_secs(1)
}

#[test]
fn sleep_until_an_instant_past_u64_millis_never_fires() {
    within(
        Duration::from_secs(60),
        "sleep_until(beyond u64 ms)",
        || {
            for (name, rt) in runtimes() {
                rt.block_on(async {
                    let far = sleep_until(beyond_u64_millis());
                    let got = timeout(Duration::from_millis(1_500), far).await;
                    assert!(got.is_err(), "{name}: a far sleep fired");
                    short_sleep_completes(name).await;
                });
            }
        },
    );
}

#[test]
fn sleep_until_an_instant_long_past_is_ready_at_once() {
    within(Duration::from_secs(60), "sleep_until(long ago)", || {
        for (name, rt) in runtimes() {
            rt.block_on(async {
                // As far back as this machine's clock allows (at least a moment ago).
                let long_ago = [86_400 * 365, 86_400, 3_600, 1]
                    .iter()
                    .find_map(|&s| Instant::now().checked_sub(Duration::from_secs(s)))
                    .unwrap_or_else(Instant::now);
                let start = Instant::now();
                sleep_until(long_ago).await;
                assert!(start.elapsed() < Duration::from_secs(5), "{name}");
                short_sleep_completes(name).await;
            });
        }
    });
}

#[test]
fn reset_to_the_far_future_waits_and_leaves_other_timers_running() {
    within(Duration::from_secs(60), "Sleep::reset(far)", || {
        for (name, rt) in runtimes() {
            rt.block_on(async {
                let_time_move().await;
                let mut s = std::pin::pin!(sleep(Duration::from_millis(5)));
                assert!(futures::poll!(s.as_mut()).is_pending(), "{name}");
                s.as_mut().reset(beyond_u64_millis());
                short_sleep_completes(name).await;
                assert!(futures::poll!(s.as_mut()).is_pending(), "{name}: fired");
                s.as_mut()
                    .reset(Instant::now() + Duration::from_secs(86_400 * 365 * 1000));
                short_sleep_completes(name).await;
                assert!(futures::poll!(s.as_mut()).is_pending(), "{name}: fired");
                // And back: it completes on the near deadline.
                s.as_mut().reset(Instant::now() + Duration::from_millis(5));
                s.await;
            });
        }
    });
}

#[test]
fn an_interval_of_duration_max_ticks_once_then_waits() {
    within(Duration::from_secs(60), "interval(Duration::MAX)", || {
        for behavior in [
            MissedTickBehavior::Burst,
            MissedTickBehavior::Delay,
            MissedTickBehavior::Skip,
        ] {
            for (name, rt) in runtimes() {
                rt.block_on(async {
                    let mut ticks = interval(Duration::MAX);
                    ticks.set_missed_tick_behavior(behavior);
                    let start = Instant::now();
                    ticks.tick().await;
                    assert!(start.elapsed() < Duration::from_secs(5), "{name}");
                    let second = timeout(Duration::from_millis(20), ticks.tick()).await;
                    assert!(second.is_err(), "{name} {behavior:?}: ticked twice");
                    ticks.reset();
                    let second = timeout(Duration::from_millis(20), ticks.tick()).await;
                    assert!(second.is_err(), "{name} {behavior:?}: ticked after reset");
                    short_sleep_completes(name).await;
                });
            }
        }
    });
}

#[test]
fn a_late_tick_of_a_huge_interval_does_not_overflow() {
    // The missed-tick arithmetic (`scheduled + n * period`) near `Instant`'s limits.
    within(
        Duration::from_secs(60),
        "late tick of a huge period",
        || {
            let rt = filch::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            for behavior in [
                MissedTickBehavior::Burst,
                MissedTickBehavior::Delay,
                MissedTickBehavior::Skip,
            ] {
                rt.block_on(async {
                    let period = Duration::from_secs(u64::MAX / 2);
                    let start = Instant::now() - Duration::from_millis(5);
                    let mut ticks = interval_at(start, period);
                    ticks.set_missed_tick_behavior(behavior);
                    assert_eq!(ticks.tick().await, start, "{behavior:?}");
                    let second = timeout(Duration::from_millis(20), ticks.tick()).await;
                    assert!(second.is_err(), "{behavior:?}: ticked twice");
                });
            }
        },
    );
}

#[test]
fn interval_at_a_start_in_the_past() {
    within(Duration::from_secs(60), "interval_at(past)", || {
        let rt = filch::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let period = Duration::from_millis(10);
            let start = Instant::now() - Duration::from_millis(95);
            // Burst: the missed ticks come back to back, on the original schedule.
            let mut burst = interval_at(start, period);
            let begun = Instant::now();
            for i in 0..10u32 {
                assert_eq!(burst.tick().await, start + period * i);
            }
            assert!(begun.elapsed() < Duration::from_secs(5), "burst waited");
            // Skip: the first tick is the (late) start, then the next one on the phase.
            let mut skip = interval_at(start, period);
            skip.set_missed_tick_behavior(MissedTickBehavior::Skip);
            assert_eq!(skip.tick().await, start);
            let next = skip.tick().await;
            assert!(next > start + period * 9, "skipped to the phase: {next:?}");
            assert_eq!(
                (next - start).as_nanos() % period.as_nanos(),
                0,
                "on the phase"
            );
        });
    });
}

#[test]
fn timeout_of_zero_returns_a_ready_value_and_elapses_otherwise() {
    within(Duration::from_secs(60), "timeout(ZERO)", || {
        for (name, rt) in runtimes() {
            rt.block_on(async {
                assert_eq!(timeout(Duration::ZERO, async { 5 }).await, Ok(5), "{name}");
                let start = Instant::now();
                let pending = timeout(Duration::ZERO, std::future::pending::<()>()).await;
                assert!(pending.is_err(), "{name}");
                assert!(start.elapsed() < Duration::from_secs(5), "{name}");
                let past = Instant::now() - Duration::from_millis(1);
                let ready = filch::time::timeout_at(past, async { 6 }).await;
                assert_eq!(ready, Ok(6), "{name}");
            });
        }
    });
}
