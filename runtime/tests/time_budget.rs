//! A `timeout` fires around a future that never waits: one whose every await is ready
//! spends the cooperative budget, and the deadline check must not be refused for it.
//!
//! Every test runs under a watchdog, so a timeout that never fires fails the test.
mod support;

use filch::io::AsyncReadExt;
use filch::net::UnixStream;
use filch::time::{sleep, timeout, Duration, Instant};
use support::{runtimes, within};

/// Never completes, and never returns `Pending` by itself: only the budget stops it.
async fn busy_sleeping() {
    loop {
        sleep(Duration::ZERO).await;
    }
}

/// Reads end-of-file forever: the socket is always ready.
async fn busy_reading() {
    let (mut stream, peer) = UnixStream::pair().unwrap();
    drop(peer);
    let mut buf = [0u8; 16];
    loop {
        assert_eq!(stream.read(&mut buf).await.unwrap(), 0);
    }
}

fn assert_elapses_soon(name: &str, start: Instant, got: Result<(), filch::time::error::Elapsed>) {
    assert!(got.is_err(), "{name}");
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(50), "{name}: early, {took:?}");
    assert!(took < Duration::from_secs(2), "{name}: late, {took:?}");
}

#[test]
fn timeout_fires_around_a_future_that_exhausts_the_budget_in_block_on() {
    within(Duration::from_secs(60), "block_on(timeout(busy))", || {
        for (name, rt) in runtimes() {
            let start = Instant::now();
            let got = rt.block_on(timeout(Duration::from_millis(50), busy_sleeping()));
            assert_elapses_soon(name, start, got);
        }
    });
}

#[test]
fn timeout_fires_around_a_future_that_exhausts_the_budget_in_a_task() {
    within(Duration::from_secs(60), "spawn(timeout(busy))", || {
        for (name, rt) in runtimes() {
            let start = Instant::now();
            let task = rt.spawn(timeout(Duration::from_millis(50), busy_sleeping()));
            let got = rt.block_on(task).unwrap();
            assert_elapses_soon(name, start, got);
        }
    });
}

#[test]
fn timeout_fires_around_a_read_loop_on_an_always_ready_socket() {
    within(Duration::from_secs(60), "timeout(read loop)", || {
        for (name, rt) in runtimes() {
            let start = Instant::now();
            let got = rt.block_on(timeout(Duration::from_millis(50), busy_reading()));
            assert_elapses_soon(name, start, got);
            let start = Instant::now();
            let task = rt.spawn(timeout(Duration::from_millis(50), busy_reading()));
            let got = rt.block_on(task).unwrap();
            assert_elapses_soon(name, start, got);
        }
    });
}

#[test]
fn a_ready_future_still_wins_over_its_deadline() {
    within(Duration::from_secs(60), "timeout(ready)", || {
        for (name, rt) in runtimes() {
            rt.block_on(async {
                // Spend the whole budget first: the ready future must still win.
                for _ in 0..1_000 {
                    sleep(Duration::ZERO).await;
                }
                let got = timeout(Duration::from_secs(5), async { 9 }).await;
                assert_eq!(got, Ok(9), "{name}");
            });
        }
    });
}
