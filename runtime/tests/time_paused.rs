//! Paused time (`filch::time::{pause, resume, advance}`, `Builder::start_paused`,
//! `#[filch::test(start_paused = true)]`): timers fire at exact virtual instants, the clock
//! auto-advances when every task waits, I/O that is ready wins over a jump, blocking jobs
//! hold the clock, and every misuse panics with its message.
use filch::net::UnixDatagram;
use filch::runtime::Builder;
use filch::time::{
    advance, interval, pause, resume, sleep, sleep_until, timeout, timeout_at, Duration, Instant,
    MissedTickBehavior,
};
use std::sync::{Arc, Mutex};

/// Awaits the next ticks of `ticks`: each `(tick, now)` is the instant the tick reports
/// and the time on the clock when it completes, in ms after `start`.
async fn assert_ticks(ticks: &mut filch::time::Interval, start: Instant, expected: &[(u64, u64)]) {
    for &(tick, now) in expected {
        assert_eq!(ticks.tick().await, start + ms(tick), "tick {tick}");
        assert_eq!(Instant::now(), start + ms(now), "the clock at tick {tick}");
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

const HOUR: Duration = Duration::from_secs(3600);

#[filch::test(start_paused = true)]
async fn a_one_hour_timeout_elapses_in_no_real_time_exactly_an_hour_later() {
    let real = std::time::Instant::now();
    let start = Instant::now();
    let slow = timeout(HOUR, std::future::pending::<()>()).await;
    assert!(slow.is_err());
    assert_eq!(Instant::now(), start + HOUR);
    assert_eq!(start.elapsed(), HOUR);
    assert!(
        real.elapsed() < Duration::from_secs(1),
        "took {:?} of real time",
        real.elapsed()
    );
}

#[filch::test(start_paused = true)]
async fn auto_advance_goes_through_a_one_hour_sleep_in_milliseconds() {
    let real = std::time::Instant::now();
    let start = Instant::now();
    sleep(HOUR).await;
    assert_eq!(Instant::now(), start + HOUR);
    // And through many: a day of 1-minute sleeps.
    for _ in 0..24 * 60 {
        sleep(Duration::from_secs(60)).await;
    }
    assert_eq!(Instant::now(), start + HOUR + Duration::from_secs(86_400));
    assert!(
        real.elapsed() < Duration::from_secs(1),
        "took {:?} of real time",
        real.elapsed()
    );
}

#[filch::test(start_paused = true)]
async fn a_timeout_whose_future_finishes_first_returns_its_value_at_that_instant() {
    let start = Instant::now();
    let value = timeout(HOUR, async {
        sleep(Duration::from_secs(1800)).await;
        7
    })
    .await;
    assert_eq!(value, Ok(7));
    assert_eq!(Instant::now(), start + Duration::from_secs(1800));
    let at = timeout_at(start + HOUR, std::future::pending::<()>()).await;
    assert!(at.is_err());
    assert_eq!(Instant::now(), start + HOUR);
}

#[filch::test(start_paused = true)]
async fn sleep_until_wakes_exactly_at_its_deadline() {
    let start = Instant::now();
    sleep_until(start + Duration::from_secs(90)).await;
    assert_eq!(Instant::now(), start + Duration::from_secs(90));
    // A deadline in the past is ready at once and moves nothing.
    sleep_until(start).await;
    assert_eq!(Instant::now(), start + Duration::from_secs(90));
    // Sub-millisecond deadlines are rounded up to the next millisecond, never early.
    let now = Instant::now();
    sleep_until(now + Duration::from_micros(1500)).await;
    assert_eq!(Instant::now(), now + ms(2));
}

#[filch::test(start_paused = true)]
async fn tasks_sleeping_in_loops_see_exact_virtual_timestamps() {
    let start = Instant::now();
    let every = |period: u64, n: usize| {
        filch::spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..n {
                sleep(ms(period)).await;
                seen.push(Instant::now() - start);
            }
            seen
        })
    };
    let tens = every(10, 5);
    let fifteens = every(15, 4);
    let sevens = every(7, 6);
    assert_eq!(
        tens.await.unwrap(),
        [ms(10), ms(20), ms(30), ms(40), ms(50)]
    );
    assert_eq!(fifteens.await.unwrap(), [ms(15), ms(30), ms(45), ms(60)]);
    assert_eq!(
        sevens.await.unwrap(),
        [ms(7), ms(14), ms(21), ms(28), ms(35), ms(42)]
    );
    assert_eq!(Instant::now(), start + ms(60));
}

#[filch::test(start_paused = true)]
async fn advance_moves_partly_then_wholly_past_a_sleep() {
    let start = Instant::now();
    let woke_at = Arc::new(Mutex::new(None));
    let record = woke_at.clone();
    let sleeper = filch::spawn(async move {
        sleep(ms(30)).await;
        *record.lock().unwrap() = Some(Instant::now());
    });
    advance(ms(10)).await;
    assert_eq!(Instant::now(), start + ms(10));
    assert_eq!(*woke_at.lock().unwrap(), None);
    advance(ms(19)).await;
    assert_eq!(Instant::now(), start + ms(29));
    assert_eq!(*woke_at.lock().unwrap(), None, "not yet: 1 ms to go");
    advance(ms(1)).await;
    assert_eq!(
        *woke_at.lock().unwrap(),
        Some(start + ms(30)),
        "advance returns after the woken task ran"
    );
    assert!(sleeper.is_finished());
    // Past every timer: the clock stops exactly at the target.
    advance(HOUR).await;
    assert_eq!(Instant::now(), start + ms(30) + HOUR);
    advance(Duration::ZERO).await;
    assert_eq!(Instant::now(), start + ms(30) + HOUR);
}

#[filch::test(start_paused = true)]
async fn advance_fires_each_timer_on_the_way_at_its_own_instant() {
    let start = Instant::now();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let _ticker = filch::spawn(async move {
        loop {
            sleep(ms(10)).await;
            log.lock().unwrap().push(Instant::now() - start);
        }
    });
    advance(ms(25)).await;
    assert_eq!(*seen.lock().unwrap(), [ms(10), ms(20)]);
    assert_eq!(Instant::now(), start + ms(25));
    advance(ms(5)).await;
    assert_eq!(*seen.lock().unwrap(), [ms(10), ms(20), ms(30)]);
}

#[filch::test(start_paused = true)]
async fn advance_lets_a_chain_of_woken_tasks_run_before_it_returns() {
    let (first_tx, mut first_rx) = filch::sync::mpsc::unbounded_channel::<u32>();
    let (last_tx, mut last_rx) = filch::sync::mpsc::unbounded_channel::<u32>();
    // A timer wakes the first task, which wakes a second through a channel, which wakes a
    // third.
    filch::spawn(async move {
        sleep(ms(5)).await;
        first_tx.send(1).unwrap();
    });
    filch::spawn(async move {
        while let Some(n) = first_rx.recv().await {
            let (tx, mut rx) = filch::sync::mpsc::unbounded_channel();
            let last_tx = last_tx.clone();
            filch::spawn(async move {
                if let Some(n) = rx.recv().await {
                    last_tx.send(n + 1).unwrap();
                }
            });
            tx.send(n + 1).unwrap();
        }
    });
    advance(ms(5)).await;
    assert_eq!(last_rx.try_recv().ok(), Some(3));
}

#[filch::test(start_paused = true)]
async fn advance_moves_the_clock_while_other_tasks_are_busy() {
    let start = Instant::now();
    let busy = filch::spawn(async {
        for _ in 0..100_000 {
            filch::task::yield_now().await;
        }
    });
    advance(HOUR).await;
    assert_eq!(Instant::now(), start + HOUR);
    busy.abort();
}

#[filch::test(start_paused = true)]
async fn interval_burst_fires_the_missed_ticks_back_to_back() {
    let start = Instant::now();
    let mut ticks = interval(ms(10));
    assert_eq!(ticks.missed_tick_behavior(), MissedTickBehavior::Burst);
    assert_eq!(ticks.tick().await, start);
    advance(ms(35)).await;
    // Late: 10, 20 and 30 come at once, at 35; then 40 on schedule.
    let expected = [(10, 35), (20, 35), (30, 35), (40, 40), (50, 50)];
    assert_ticks(&mut ticks, start, &expected).await;
}

#[filch::test(start_paused = true)]
async fn interval_delay_restarts_the_schedule_from_the_late_tick() {
    let start = Instant::now();
    let mut ticks = interval(ms(10));
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    assert_eq!(ticks.tick().await, start);
    advance(ms(35)).await;
    // The late tick, at 35; then every 10 from there.
    assert_ticks(&mut ticks, start, &[(10, 35), (45, 45), (55, 55)]).await;
}

#[filch::test(start_paused = true)]
async fn interval_skip_drops_the_missed_ticks_and_keeps_the_phase() {
    let start = Instant::now();
    let mut ticks = interval(ms(10));
    ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
    assert_eq!(ticks.tick().await, start);
    advance(ms(35)).await;
    // The late tick, at 35; then on the original phase.
    assert_ticks(&mut ticks, start, &[(10, 35), (40, 40), (50, 50)]).await;
}

#[filch::test(start_paused = true)]
async fn an_interval_in_a_task_ticks_at_exact_instants_under_auto_advance() {
    let start = Instant::now();
    let ticks = filch::spawn(async {
        let mut every = interval(Duration::from_secs(60));
        let mut seen = Vec::new();
        for _ in 0..4 {
            seen.push(every.tick().await);
        }
        seen
    });
    let minute = Duration::from_secs(60);
    assert_eq!(
        ticks.await.unwrap(),
        [
            start,
            start + minute,
            start + 2 * minute,
            start + 3 * minute
        ]
    );
}

#[test]
fn instant_arithmetic() {
    let now = Instant::now();
    let later = now + ms(250);
    assert_eq!(later - now, ms(250));
    assert_eq!(now - later, Duration::ZERO, "saturates, as std's");
    assert_eq!(later.duration_since(now), ms(250));
    assert_eq!(now.duration_since(later), Duration::ZERO);
    assert_eq!(now.saturating_duration_since(later), Duration::ZERO);
    assert_eq!(later.checked_duration_since(now), Some(ms(250)));
    assert_eq!(now.checked_duration_since(later), None);
    assert_eq!(now.checked_add(ms(250)), Some(later));
    assert_eq!(later.checked_sub(ms(250)), Some(now));
    assert_eq!(now.checked_add(Duration::MAX), None);
    assert_eq!(later - ms(250), now);
    let mut moving = now;
    moving += ms(100);
    moving += ms(200);
    moving -= ms(50);
    assert_eq!(moving, later);
    assert!(now < later);
    assert_eq!(now.cmp(&later), std::cmp::Ordering::Less);
    assert_eq!(later.partial_cmp(&now), Some(std::cmp::Ordering::Greater));
    assert_eq!(now.max(later), later);
    assert_eq!(Instant::from_std(now.into_std()), now);
    let std_now: std::time::Instant = later.into();
    assert_eq!(Instant::from(std_now), later);
    let set: std::collections::HashSet<Instant> = [now, later, now].into_iter().collect();
    assert_eq!(set.len(), 2);
    assert_eq!(format!("{now:?}"), format!("{:?}", now.into_std()));
}

#[filch::test(start_paused = true)]
async fn off_the_runtime_instant_now_is_the_real_clock() {
    advance(HOUR).await;
    let virtual_now = Instant::now();
    let (real_before, elsewhere, real_after) = std::thread::spawn(|| {
        let before = std::time::Instant::now();
        let now = Instant::now().into_std();
        (before, now, std::time::Instant::now())
    })
    .join()
    .unwrap();
    assert!(real_before <= elsewhere && elsewhere <= real_after);
    assert!(elsewhere < virtual_now.into_std(), "an hour behind");
    // The blocking pool's threads are the runtime's: they read its clock.
    let on_pool = filch::task::spawn_blocking(Instant::now).await.unwrap();
    assert_eq!(on_pool, virtual_now);
}

#[filch::test]
async fn pause_in_a_running_runtime_keeps_whole_milliseconds_exact() {
    sleep(Duration::from_micros(300)).await;
    pause();
    let start = Instant::now();
    for n in 1..=3 {
        sleep(ms(10)).await;
        assert_eq!(Instant::now(), start + ms(10 * n));
    }
    resume();
}

#[filch::test(start_paused = true)]
async fn resume_lets_the_clock_run_again_from_the_virtual_time() {
    let start = Instant::now();
    advance(HOUR).await;
    resume();
    let real = std::time::Instant::now();
    sleep(ms(20)).await;
    assert!(real.elapsed() >= ms(20), "a real wait once resumed");
    assert!(Instant::now() >= start + HOUR + ms(20));
    // Paused again: frozen where it is (rounded up to the millisecond).
    pause();
    let frozen = Instant::now();
    std::thread::sleep(ms(5));
    assert_eq!(Instant::now(), frozen);
    sleep(HOUR).await;
    assert_eq!(Instant::now(), frozen + HOUR);
}

#[filch::test(start_paused = true)]
async fn a_ready_socket_wins_over_a_jump_to_a_far_timer() {
    let (a, b) = UnixDatagram::pair().unwrap();
    let start = Instant::now();
    let reader = filch::spawn(async move {
        let mut buf = [0u8; 8];
        let got = timeout(HOUR, a.recv(&mut buf)).await;
        (got.map(|n| n.unwrap()), Instant::now())
    });
    // The reader waits for readiness, with its one-hour timer pending.
    filch::task::yield_now().await;
    assert!(!reader.is_finished());
    b.send(b"ping").await.unwrap();
    // Every task waits now, and a timer is pending: the readiness event, not yet
    // dispatched, must be seen before the clock jumps an hour.
    let (got, at) = reader.await.unwrap();
    assert_eq!(got, Ok(4), "the datagram, not the timeout");
    assert_eq!(at, start, "no jump while I/O was ready");
    assert_eq!(Instant::now(), start);
}

#[filch::test(start_paused = true)]
async fn no_auto_advance_while_a_blocking_job_runs() {
    let start = Instant::now();
    let job = filch::task::spawn_blocking(|| {
        std::thread::sleep(ms(50));
        5
    });
    // The job takes 50 ms of real time; the clock must not jump to the timeout meanwhile.
    assert_eq!(timeout(ms(10), job).await.unwrap().unwrap(), 5);
    assert_eq!(Instant::now(), start, "virtual time did not move");
    // A detached job holds the clock too, and its end lets it go.
    let real = std::time::Instant::now();
    drop(filch::task::spawn_blocking(|| std::thread::sleep(ms(30))));
    sleep(HOUR).await;
    assert!(real.elapsed() >= ms(30), "waited for the job");
    assert_eq!(Instant::now(), start + HOUR);
}

#[filch::test(start_paused = true)]
async fn a_finished_blocking_job_wins_over_the_jump_to_its_timeout() {
    // The job's end lets the clock go and wakes its awaiter; the clock must never see the
    // first without the second (it would jump to the timeout and drop a finished result).
    let start = Instant::now();
    for i in 0..300u32 {
        let job = filch::task::spawn_blocking(move || i);
        assert_eq!(timeout(ms(10), job).await.unwrap().unwrap(), i, "run {i}");
    }
    assert_eq!(Instant::now(), start);
}

#[test]
fn builder_start_paused_runs_a_current_thread_runtime_on_virtual_time() {
    let rt = Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    let (start, end) = rt.block_on(async {
        let start = Instant::now();
        sleep(HOUR).await;
        (start, Instant::now())
    });
    assert_eq!(end - start, HOUR);
    // Outside the runtime, the real clock.
    assert!(Instant::now() < end);
    // `start_paused(false)` is the default, on both flavors.
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .start_paused(false)
        .build()
        .unwrap();
    rt.block_on(sleep(ms(1)));
}

// Misuse: each panics with its message.

#[test]
#[should_panic(expected = "`filch::time::pause` called outside a runtime")]
fn pause_outside_a_runtime_panics() {
    pause();
}

#[test]
#[should_panic(expected = "`filch::time::resume` called outside a runtime")]
fn resume_outside_a_runtime_panics() {
    resume();
}

#[test]
#[should_panic(expected = "`filch::time::advance` called outside a runtime")]
fn advance_outside_a_runtime_panics() {
    futures::executor::block_on(advance(ms(1)));
}

#[filch::test(start_paused = true)]
#[should_panic(expected = "`filch::time::pause`: time is already paused")]
async fn pause_twice_panics() {
    pause();
}

#[filch::test]
#[should_panic(expected = "`filch::time::resume`: time is not paused")]
async fn resume_when_not_paused_panics() {
    resume();
}

#[filch::test]
#[should_panic(expected = "`filch::time::advance` needs paused time")]
async fn advance_when_not_paused_panics() {
    advance(ms(1)).await;
}

#[filch::test(flavor = "multi_thread", worker_threads = 1)]
#[should_panic(expected = "paused time needs the current-thread runtime")]
async fn pause_on_a_multi_thread_runtime_panics() {
    pause();
}

#[filch::test(flavor = "multi_thread", worker_threads = 1)]
#[should_panic(
    expected = "build the runtime with `Builder::new_current_thread()`, or use `#[filch::test]` without"
)]
async fn advance_on_a_multi_thread_runtime_panics_with_the_fix() {
    advance(ms(1)).await;
}

#[test]
#[should_panic(expected = "`Builder::start_paused(true)`: paused time needs the current-thread")]
fn start_paused_on_a_multi_thread_builder_panics() {
    Builder::new_multi_thread().start_paused(true);
}

#[test]
fn a_panic_in_a_paused_task_leaves_the_runtime_usable() {
    let rt = Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    let err = rt
        .block_on(rt.spawn(async {
            sleep(HOUR).await;
            pause();
        }))
        .unwrap_err();
    assert!(err.is_panic());
    let start = rt.block_on(async { Instant::now() });
    // (`sleep` is built inside: built out here, it would count from the real clock.)
    rt.block_on(async { sleep(HOUR).await });
    assert_eq!(rt.block_on(async { Instant::now() }), start + HOUR);
}
