//! The harness can fail: a planted lost wakeup (`--fault drop-wake:N`) must be reported
//! as a stall, and a clean run of the same seed must pass.
use filch_stress::{Fault, Harness};
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_filch-stress");

#[test]
fn dropped_wakeups_are_reported_as_a_stall() {
    let started = Instant::now();
    let report = Harness::new(42)
        .duration(Duration::from_secs(10))
        .workers(2)
        .stall_bound(Duration::from_secs(2))
        .fault(Fault::DropWake(50))
        .echo_violations(false)
        .builtin(&["ping-pong"])
        .unwrap()
        .run();
    assert!(!report.passed, "{}", report.to_text());
    assert!(report.faults_fired > 0, "the fault never fired");
    let pp = &report.scenarios[0];
    assert!(pp.stalled, "{}", report.to_text());
    assert!(
        pp.violation_messages
            .iter()
            .any(|m| m.contains("stall") && m.contains("lost wakeup")),
        "{:?}",
        pp.violation_messages
    );
    // The watchdog stops the run as soon as it reports, well before the 10 s run length.
    assert!(
        started.elapsed() < Duration::from_secs(9),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn the_binary_exits_non_zero_on_a_planted_lost_wakeup() {
    let out = Command::new(BIN)
        .args([
            "--seconds",
            "10",
            "--seed",
            "7",
            "--workers",
            "2",
            "--stall-seconds",
            "2",
        ])
        .args([
            "--scenario",
            "ping-pong,yield-storm",
            "--fault",
            "drop-wake:50",
            "--json",
        ])
        .output()
        .expect("run filch-stress");
    assert!(!out.status.success(), "a planted lost wakeup passed");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json prints JSON");
    assert_eq!(json["passed"], false);
    assert_eq!(json["seed"], 7);
    let pp = json["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "ping-pong")
        .unwrap();
    assert_eq!(pp["stalled"], true, "{json:#}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("VIOLATION [scenario ping-pong seed 7] stall"),
        "stderr: {stderr}"
    );
}

#[test]
fn a_clean_seeded_run_passes() {
    let out = Command::new(BIN)
        .args(["--seconds", "3", "--seed", "7", "--workers", "2", "--json"])
        .output()
        .expect("run filch-stress");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("--json prints JSON");
    assert_eq!(json["passed"], true);
    let scenarios = json["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), filch_stress::scenarios::NAMES.len());
    for s in scenarios {
        assert!(s["ops"].as_u64().unwrap() > 0, "{} did nothing", s["name"]);
        assert_eq!(s["finished"], true);
    }
    assert!(json["tasks_spawned"].as_u64().unwrap() > 0);
    assert!(json["peak_rss_kib"].as_u64().unwrap() > 0);
}

#[test]
fn the_same_seed_picks_the_same_parameters() {
    let params = |seed: u64| {
        let r = Harness::new(seed)
            .duration(Duration::from_millis(200))
            .workers(2)
            .builtin(&["locks", "timers"])
            .unwrap()
            .run();
        assert!(r.passed, "{}", r.to_text());
        r.scenarios
            .iter()
            .map(|s| s.params.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(params(99), params(99));
    assert_ne!(params(99), params(100));
}
