//! `--deterministic` replays a seed exactly: the same seed gives the same report, byte for
//! byte (text and JSON), another seed another run, and the scheduler's seed is part of it
//! (a scenario that draws nothing still sees another interleaving under another seed). A
//! planted lost wakeup stalls at the same operation every time; a poll that blocks the
//! runtime's only thread is caught on the wall clock.
//!
//! Run lengths are virtual time and short (the busy mix makes virtual time slow, more so in
//! a debug build), so each run takes about a second; nothing here depends on how fast the
//! machine is, only the real-time hang test on its bound being longer than a context
//! switch.
use filch_stress::{Fault, Harness, Scenario};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_filch-stress");

fn deterministic_run(seed: &str, extra: &[&str]) -> Output {
    Command::new(BIN)
        .args(["--deterministic", "--seed", seed, "--seconds", "0.005"])
        .args(extra)
        .output()
        .expect("run filch-stress")
}

fn stdout(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "stdout: {text}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[test]
fn the_same_seed_gives_the_same_report_byte_for_byte() {
    let first = stdout(&deterministic_run("11", &[]));
    let second = stdout(&deterministic_run("11", &[]));
    assert_eq!(first, second, "two runs of seed 11 differ");
    assert!(first.contains("| deterministic: 1 worker, paused time, scheduler seed "));
    assert!(first.contains("result: PASS (0 violations)"), "{first}");
    assert!(
        first.contains("skipped (cannot run deterministically): tcp-echo: real TCP sockets"),
        "{first}"
    );
    assert!(first.contains("--seed 11 --deterministic --seconds 0.005"));
    assert!(!first.contains("peak RSS"), "{first}");
    // Every deterministic scenario ran, none of the others did.
    for name in filch_stress::scenarios::NAMES {
        let s = filch_stress::scenarios::builtin(name).unwrap();
        let row = first.lines().any(|l| l.starts_with(&format!("{name} ")));
        assert_eq!(row, s.is_deterministic(), "{name} in\n{first}");
    }

    let other = stdout(&deterministic_run("12", &[]));
    assert_ne!(first, other, "seeds 11 and 12 gave the same report");
}

#[test]
fn the_json_report_is_the_same_too() {
    let args = ["--scenario", "ping-pong,locks,timers,blocking", "--json"];
    let first = stdout(&deterministic_run("5", &args));
    let second = stdout(&deterministic_run("5", &args));
    assert_eq!(first, second);
    let json: serde_json::Value = serde_json::from_str(&first).expect("--json prints JSON");
    assert_eq!(json["deterministic"], true);
    assert_eq!(json["workers"], 1);
    assert_eq!(json["scheduler_seed"], filch_stress::scheduler_seed(5));
    assert_eq!(json["peak_rss_kib"], serde_json::Value::Null);
    assert_eq!(json["skipped"][0]["name"], "blocking");
    assert_eq!(json["scenarios"].as_array().unwrap().len(), 3);
}

/// A scenario that draws no random number: 6 tasks that each yield a few times and log
/// their index when done. Only the scheduler decides the order it records.
fn finishing_order() -> (Scenario, Arc<Mutex<Vec<usize>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    let scenario = Scenario::new("finishing-order", move |ctx| async move {
        let mut round = 0;
        while !ctx.is_stopped() && round < 3 {
            let tasks: Vec<_> = (0..6)
                .map(|i| {
                    let l = l.clone();
                    ctx.spawn(async move {
                        for _ in 0..3 {
                            filch::task::yield_now().await;
                        }
                        l.lock().unwrap().push(i);
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            ctx.progress(6);
            round += 1;
        }
        ctx.stopped().await;
    })
    .deterministic();
    (scenario, log)
}

fn order_under(seed: u64) -> Vec<usize> {
    let (scenario, log) = finishing_order();
    let report = Harness::new(seed)
        .deterministic(true)
        .duration(Duration::from_millis(10))
        .scenario(scenario)
        .run();
    assert!(report.passed, "{}", report.to_text());
    let order = log.lock().unwrap().clone();
    assert_eq!(order.len(), 18, "{order:?}");
    order
}

#[test]
fn the_scheduler_seed_decides_the_interleaving() {
    let a = order_under(1);
    assert_eq!(a, order_under(1));
    // The scenario draws nothing from its seed: what changes with the seed is the
    // scheduler's choices.
    let others: Vec<_> = (2..6).map(order_under).collect();
    assert!(others.iter().any(|o| *o != a), "{a:?} under every seed");
}

#[test]
fn a_planted_lost_wakeup_stalls_the_same_way_every_time() {
    let run = || {
        Harness::new(42)
            .deterministic(true)
            .duration(Duration::from_secs(10))
            // Also the real-time bound: generous, so a loaded machine is no hang.
            .stall_bound(Duration::from_secs(2))
            .fault(Fault::DropWake(50))
            .echo_violations(false)
            .builtin(&["ping-pong"])
            .unwrap()
            .run()
    };
    let first = run();
    assert!(!first.passed, "{}", first.to_text());
    assert!(first.stalled(), "{}", first.to_text());
    let msg = &first.scenarios[0].violation_messages[0];
    assert!(
        msg.contains("stall") && msg.contains("of virtual time"),
        "{msg}"
    );
    // The watchdog stopped the run at the stall, long before the 10 s of the run length.
    assert!(first.elapsed_seconds < 5.0, "{}", first.to_text());
    assert_eq!(first.to_text(), run().to_text());
}

#[test]
fn a_poll_that_blocks_the_thread_is_a_real_time_hang() {
    let blocker = Scenario::new("blocker", |ctx| async move {
        ctx.progress(1);
        // Blocks the runtime's only thread: virtual time cannot see it, the wall clock can.
        std::thread::sleep(Duration::from_secs(4));
        ctx.stopped().await;
    })
    .deterministic();
    let started = Instant::now();
    let report = Harness::new(3)
        .deterministic(true)
        .duration(Duration::from_millis(10))
        .stall_bound(Duration::from_millis(500))
        .echo_violations(false)
        .scenario(blocker)
        .run();
    assert!(!report.passed);
    assert!(
        report.global_violations[0].starts_with("real-time hang: the clock task made no turn"),
        "{}",
        report.to_text()
    );
    assert!(!report.scenarios[0].finished);
    assert!(
        started.elapsed() < Duration::from_millis(3_500),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn workers_other_than_one_are_refused() {
    let out = deterministic_run("1", &["--workers", "2"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--deterministic runs one worker"),
        "{stderr}"
    );
    stdout(&deterministic_run(
        "1",
        &["--workers", "1", "--scenario", "yield-storm"],
    ));

    let out = deterministic_run("1", &["--scenario", "tcp-echo,blocking"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("none of the scenarios"), "{stderr}");
}
