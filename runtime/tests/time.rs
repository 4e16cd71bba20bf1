//! Timers: sleep never fires early, timeout, interval's missed-tick behaviours, reset,
//! many timers, cancellation, and timers served while every worker is busy.
mod support;

use filch::runtime::Builder;
use filch::time::{
    interval, interval_at, sleep, sleep_until, timeout, Duration, Instant, MissedTickBehavior,
};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use support::runtimes;

#[test]
fn sleep_never_completes_early() {
    for (name, rt) in runtimes() {
        rt.block_on(async {
            for ms in [0u64, 1, 2, 5, 17, 50] {
                let start = Instant::now();
                sleep(Duration::from_millis(ms)).await;
                assert!(
                    start.elapsed() >= Duration::from_millis(ms),
                    "{name}: {ms} ms"
                );
            }
        });
    }
}

#[test]
fn sleep_until_a_past_instant_is_ready() {
    for (_, rt) in runtimes() {
        rt.block_on(async {
            sleep_until(Instant::now() - Duration::from_millis(5)).await;
            let s = sleep(Duration::ZERO);
            assert!(s.is_elapsed());
            s.await;
        });
    }
}

#[test]
fn a_sleeping_runtime_wakes_for_its_timer() {
    // Nothing else to do: every worker is parked, one of them in the driver with the
    // timer's timeout.
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let start = Instant::now();
    let t = rt.spawn(async {
        sleep(Duration::from_millis(30)).await;
        Instant::now()
    });
    let woke = rt.block_on(t).unwrap();
    assert!(woke - start >= Duration::from_millis(30));
}

#[test]
fn an_earlier_timer_registered_while_the_driver_sleeps_wakes_it() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    rt.block_on(async {
        // The worker parks in the driver with a 10 s timeout...
        let long = filch::spawn(sleep(Duration::from_secs(10)));
        sleep(Duration::from_millis(20)).await;
        // ...and a 10 ms timer registered from another thread must cut that short.
        let start = Instant::now();
        sleep(Duration::from_millis(10)).await;
        assert!(start.elapsed() < Duration::from_secs(5));
        long.abort();
    });
}

#[test]
fn timeout_returns_elapsed_and_drops_the_future() {
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let drops = support::DropCounter::new();
            let g = drops.guard();
            let slow = async move {
                let _g = g;
                sleep(Duration::from_secs(60)).await;
            };
            let start = Instant::now();
            let err = timeout(Duration::from_millis(20), slow).await.unwrap_err();
            assert!(start.elapsed() >= Duration::from_millis(20), "{name}");
            assert_eq!(err.to_string(), "deadline has elapsed");
            assert_eq!(drops.count(), 1, "{name}: the timed-out future was dropped");
            assert_eq!(timeout(Duration::from_secs(5), async { 3 }).await, Ok(3));
        });
    }
}

#[test]
fn reset_moves_a_sleep_both_ways() {
    for (_, rt) in runtimes() {
        rt.block_on(async {
            let mut s = std::pin::pin!(sleep(Duration::from_secs(60)));
            // Register it, then pull it in.
            assert!(futures::poll!(s.as_mut()).is_pending());
            let start = Instant::now();
            s.as_mut().reset(Instant::now() + Duration::from_millis(10));
            s.as_mut().await;
            assert!(start.elapsed() >= Duration::from_millis(10));
            assert!(start.elapsed() < Duration::from_secs(30));
            // Completed: push it out again, and it is pending again.
            s.as_mut().reset(Instant::now() + Duration::from_millis(15));
            assert!(futures::poll!(s.as_mut()).is_pending());
            s.await;
        });
    }
}

#[test]
fn interval_ticks_on_schedule() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let start = Instant::now();
        let mut ticks = interval_at(start, Duration::from_millis(10));
        let mut seen = Vec::new();
        for _ in 0..4 {
            seen.push(ticks.tick().await);
        }
        for (i, t) in seen.iter().enumerate() {
            assert_eq!(
                *t,
                start + Duration::from_millis(10) * i as u32,
                "scheduled instants"
            );
        }
        assert!(start.elapsed() >= Duration::from_millis(30));
    });
}

fn missed_ticks(behavior: MissedTickBehavior) -> Vec<Duration> {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let start = Instant::now();
        let period = Duration::from_millis(20);
        let mut ticks = interval_at(start, period);
        ticks.set_missed_tick_behavior(behavior);
        assert_eq!(ticks.missed_tick_behavior(), behavior);
        ticks.tick().await; // at start
                            // Busy for 3.5 periods: ticks at 20, 40, 60 are missed.
        std::thread::sleep(Duration::from_millis(70));
        let mut out = Vec::new();
        for _ in 0..3 {
            let scheduled = ticks.tick().await;
            out.push(scheduled - start);
        }
        out
    })
}

#[test]
fn missed_ticks_burst_keeps_the_schedule() {
    let ms = |n| Duration::from_millis(n);
    assert_eq!(
        missed_ticks(MissedTickBehavior::Burst),
        [ms(20), ms(40), ms(60)]
    );
}

#[test]
fn missed_ticks_skip_keeps_the_phase() {
    let got = missed_ticks(MissedTickBehavior::Skip);
    // The late tick fires (scheduled at 20), then the next multiple of 20 after ~70.
    assert_eq!(got[0], Duration::from_millis(20));
    assert!(got[1] >= Duration::from_millis(80), "{got:?}");
    assert_eq!(got[1].as_millis() % 20, 0, "{got:?}");
    assert_eq!(got[2] - got[1], Duration::from_millis(20), "{got:?}");
}

#[test]
fn missed_ticks_delay_restarts_from_now() {
    let got = missed_ticks(MissedTickBehavior::Delay);
    assert_eq!(got[0], Duration::from_millis(20));
    // Next is a full period after the late tick was observed (~70 ms).
    assert!(got[1] >= Duration::from_millis(90), "{got:?}");
    assert!(got[2] - got[1] >= Duration::from_millis(20), "{got:?}");
}

#[test]
#[should_panic(expected = "non-zero period")]
fn zero_period_is_refused() {
    let rt = Builder::new_current_thread().build().unwrap();
    let _g = rt.enter();
    let _ = interval(Duration::ZERO);
}

#[test]
#[should_panic(expected = "polled outside a runtime")]
fn sleep_polled_outside_a_runtime_panics_with_the_fix() {
    let mut s = sleep(Duration::from_millis(1));
    let _ = futures::FutureExt::poll_unpin(
        &mut s,
        &mut std::task::Context::from_waker(std::task::Waker::noop()),
    );
}

#[test]
fn a_sleep_made_outside_runs_on_the_runtime_that_polls_it() {
    let s = sleep(Duration::from_millis(2));
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(s);
    rt.block_on(timeout(
        Duration::from_secs(5),
        sleep(Duration::from_millis(1)),
    ))
    .unwrap();
}

#[test]
fn ten_thousand_tasks_sleeping_one_ms() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let done = Arc::new(AtomicUsize::new(0));
    let d = done.clone();
    rt.block_on(async move {
        let mut set = filch::task::JoinSet::new();
        for _ in 0..10_000 {
            let d = d.clone();
            set.spawn(async move {
                let start = Instant::now();
                sleep(Duration::from_millis(1)).await;
                assert!(start.elapsed() >= Duration::from_millis(1));
                d.fetch_add(1, Ordering::Relaxed);
            });
        }
        while let Some(r) = set.join_next().await {
            r.unwrap();
        }
    });
    assert_eq!(done.load(Ordering::SeqCst), 10_000);
}

#[test]
fn cancelling_many_timers_is_cheap_and_leaves_none_behind() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let mut sleeps: Vec<_> = (0..200_000u64)
            .map(|i| Box::pin(sleep(Duration::from_secs(100 + i % 1000))))
            .collect();
        for s in &mut sleeps {
            assert!(futures::poll!(s.as_mut()).is_pending());
        }
        let start = Instant::now();
        drop(sleeps);
        // Generous bound: O(n log n) or worse would take far longer in debug builds.
        assert!(start.elapsed() < Duration::from_secs(10));
        // The wheel is empty again: a short sleep still works.
        sleep(Duration::from_millis(1)).await;
    });
}

#[test]
fn timers_fire_while_every_worker_is_busy() {
    // Two workers spinning through yields: nobody is idle, so only the periodic driver
    // poll of busy workers can fire the timer.
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let spinners: Vec<_> = (0..4)
            .map(|_| {
                let stop = stop.clone();
                filch::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        filch::task::yield_now().await;
                    }
                })
            })
            .collect();
        let start = Instant::now();
        filch::spawn(sleep(Duration::from_millis(20)))
            .await
            .unwrap();
        assert!(start.elapsed() >= Duration::from_millis(20));
        assert!(start.elapsed() < Duration::from_secs(10));
        stop.store(true, Ordering::Relaxed);
        for s in spinners {
            s.await.unwrap();
        }
    });
}

#[test]
fn a_timer_due_when_the_worker_parks_wakes_its_task() {
    // The worker blocks past the deadline, so the timer fires inside the driver's park,
    // putting the task on that worker's own queue; the park must not then block.
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        for _ in 0..20 {
            let task = rt.spawn(async {
                let mut s = std::pin::pin!(sleep(Duration::from_millis(1)));
                assert!(futures::poll!(s.as_mut()).is_pending(), "registered");
                std::thread::sleep(Duration::from_millis(3)); // nobody advances the wheel
                s.await;
            });
            rt.block_on(task).unwrap();
        }
        done_tx.send(()).unwrap();
    });
    done_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("a task woken by a timer fired during the park was stranded");
}

#[test]
fn interval_reset_immediately_after_and_at_move_the_next_tick() {
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let hour = Duration::from_secs(3600);
            let mut ticks = interval(hour);
            ticks.tick().await;
            // Immediately: the next tick is due now, the one after a period later.
            ticks.reset_immediately();
            let first = timeout(Duration::from_secs(10), ticks.tick()).await;
            assert!(first.is_ok(), "{name}: reset_immediately did not tick");
            let again = timeout(Duration::from_millis(20), ticks.tick()).await;
            assert!(
                again.is_err(),
                "{name}: ticked twice without waiting a period"
            );
            // After a short delay, never earlier.
            let start = Instant::now();
            ticks.reset_after(Duration::from_millis(15));
            let at = ticks.tick().await;
            assert!(start.elapsed() >= Duration::from_millis(15), "{name}");
            assert!(at >= start + Duration::from_millis(15), "{name}");
            // At a past instant: at once, and that instant is what the tick reports.
            let past = Instant::now() - Duration::from_millis(5);
            ticks.reset_at(past);
            assert_eq!(ticks.tick().await, past, "{name}");
            // After Duration::MAX: never (saturates instead of overflowing).
            ticks.reset_after(Duration::MAX);
            let never = timeout(Duration::from_millis(20), ticks.tick()).await;
            assert!(never.is_err(), "{name}");
        });
    }
}

/// A waker that owns a `Sleep` (as a task's waker owns the task, whose future may hold
/// timers): dropping its last clone drops that timer, which removes it from the wheel.
struct OwnsASleep {
    _sleep: std::sync::Mutex<std::pin::Pin<Box<filch::time::Sleep>>>,
}

impl std::task::Wake for OwnsASleep {
    fn wake(self: Arc<Self>) {}
}

/// Polls `sleep` once with a waker that owns another registered timer, then lets go of
/// every other reference to that waker: the wheel holds the last one.
async fn register_with_owning_waker(outer: std::pin::Pin<&mut filch::time::Sleep>) {
    let mut inner = Box::pin(sleep(Duration::from_secs(60)));
    std::future::poll_fn(|cx| {
        assert!(inner.as_mut().poll(cx).is_pending());
        std::task::Poll::Ready(())
    })
    .await;
    let waker = std::task::Waker::from(Arc::new(OwnsASleep {
        _sleep: std::sync::Mutex::new(inner),
    }));
    let mut cx = std::task::Context::from_waker(&waker);
    assert!(outer.poll(&mut cx).is_pending());
}

#[test]
fn a_waker_dropped_by_the_wheel_may_drop_timers_of_the_same_wheel() {
    support::within(Duration::from_secs(30), "re-entrant timer drop", || {
        let rt = Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            // Replaced: a poll with another waker drops the owning one.
            let mut outer = std::pin::pin!(sleep(Duration::from_secs(60)));
            register_with_owning_waker(outer.as_mut()).await;
            std::future::poll_fn(|cx| {
                assert!(outer.as_mut().poll(cx).is_pending());
                std::task::Poll::Ready(())
            })
            .await;
            // Removed: dropping the timer drops the owning waker with it.
            let mut outer = Box::pin(sleep(Duration::from_secs(60)));
            register_with_owning_waker(outer.as_mut()).await;
            drop(outer);
        });
        assert_eq!(rt.handle().metrics().timers, 0, "every timer was removed");
    });
}
