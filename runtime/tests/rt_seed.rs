//! Seeded scheduling (`Builder::rng_seed`, `#[filch::test(seed = n)]`, `FILCH_SEED`): one
//! seed replays one interleaving, other seeds explore others.
use filch::time::{sleep, Duration, Instant};
use std::process::Command;
use std::sync::{Arc, Mutex};

/// One step of a racing task: which task, which step, at what virtual time.
type Trace = Vec<(u32, u32, Duration)>;

/// 50 tasks that race through three steps each, some yielding, some sleeping a few
/// (virtual) milliseconds, recording the order they got there.
async fn race() -> Trace {
    let start = Instant::now();
    let trace = Arc::new(Mutex::new(Vec::new()));
    let tasks: Vec<_> = (0..50u32)
        .map(|i| {
            let trace = trace.clone();
            filch::spawn(async move {
                for step in 0..3u32 {
                    if (i + step) % 3 == 0 {
                        sleep(Duration::from_millis(u64::from((i * 7 + step) % 5))).await;
                    } else {
                        filch::task::yield_now().await;
                    }
                    trace.lock().unwrap().push((i, step, start.elapsed()));
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let trace = trace.lock().unwrap().clone();
    trace
}

fn run_race(seed: Option<u64>) -> Trace {
    let mut builder = filch::runtime::Builder::new_current_thread();
    builder.start_paused(true);
    if let Some(seed) = seed {
        builder.rng_seed(seed);
    }
    builder.build().unwrap().block_on(race())
}

#[test]
fn one_seed_replays_the_same_trace_twenty_times() {
    let first = run_race(Some(7));
    assert_eq!(first.len(), 150);
    for run in 1..20 {
        assert_eq!(run_race(Some(7)), first, "run {run} with seed 7 differed");
    }
}

#[test]
fn twenty_seeds_explore_more_than_one_trace_and_more_than_fifo() {
    let fifo = run_race(None);
    let mut traces: Vec<Trace> = (0..20).map(|seed| run_race(Some(seed))).collect();
    assert!(
        traces.iter().any(|t| *t != fifo),
        "every seed ran the tasks in FIFO order"
    );
    traces.sort();
    traces.dedup();
    assert!(traces.len() >= 2, "20 seeds gave {} trace(s)", traces.len());
    // Every trace is a complete run: the virtual timestamps each task saw are the same
    // whatever the order (sleeps are deterministic); only the order differs.
    for trace in &traces {
        let mut steps = trace.clone();
        steps.sort();
        let mut fifo_steps = fifo.clone();
        fifo_steps.sort();
        assert_eq!(steps, fifo_steps);
    }
}

/// Which branch of an unbiased `select!` over two ready futures wins, 64 times.
fn select_winners(rt: &filch::runtime::Runtime) -> Vec<u8> {
    rt.block_on(async {
        let mut winners = Vec::new();
        for _ in 0..64 {
            winners.push(filch::select! {
                a = std::future::ready(0u8) => a,
                b = std::future::ready(1u8) => b,
            });
        }
        winners
    })
}

#[test]
fn an_unbiased_select_draws_its_start_from_the_seed() {
    let seeded = |seed| {
        let rt = filch::runtime::Builder::new_current_thread()
            .rng_seed(seed)
            .build()
            .unwrap();
        select_winners(&rt)
    };
    let first = seeded(11);
    assert!(first.contains(&0) && first.contains(&1), "{first:?}");
    assert_eq!(seeded(11), first);
    assert!((0..10).any(|seed| seeded(seed) != first));
}

#[test]
fn a_seeded_multi_thread_runtime_runs_and_selects() {
    let rt = filch::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .rng_seed(3)
        .build()
        .unwrap();
    let winners = rt.block_on(async {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                filch::spawn(async {
                    let mut winners = Vec::new();
                    for _ in 0..32 {
                        winners.push(filch::select! {
                            a = std::future::ready(0u8) => a,
                            b = std::future::ready(1u8) => b,
                        });
                    }
                    winners
                })
            })
            .collect();
        let mut all = Vec::new();
        for handle in handles {
            all.extend(handle.await.unwrap());
        }
        all
    });
    assert_eq!(winners.len(), 128);
    assert!(winners.contains(&0) && winners.contains(&1));
}

#[test]
fn the_builder_shows_its_seed() {
    let mut builder = filch::runtime::Builder::new_current_thread();
    builder.rng_seed(99);
    assert!(format!("{builder:?}").contains("rng_seed: Some(99)"));
}

// The attribute and the environment variable, checked in child processes of this test
// binary (the environment is per process).

/// Prints the race's trace (run by `the_environment_seed_overrides_the_attribute`).
#[filch::test(start_paused = true, seed = 7)]
#[ignore = "run in a child process by the tests below"]
async fn child_prints_its_trace() {
    println!("TRACE {:?}", race().await);
}

/// Fails on purpose (run by `a_failing_seeded_test_prints_how_to_replay_it`).
#[filch::test(seed = 4242)]
#[ignore = "run in a child process by the tests below"]
async fn child_fails() {
    panic!("failing on purpose");
}

fn child(test: &str, seed: Option<&str>) -> std::process::Output {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.args([
        "--ignored",
        "--exact",
        test,
        "--nocapture",
        "--test-threads=1",
    ]);
    match seed {
        Some(seed) => command.env("FILCH_SEED", seed),
        None => command.env_remove("FILCH_SEED"),
    };
    command.output().unwrap()
}

fn printed_trace(output: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child failed: {stdout}{stderr}");
    stdout
        .lines()
        .find_map(|line| line.find("TRACE ").map(|at| line[at..].to_owned()))
        .unwrap_or_else(|| panic!("no trace in {stdout}{stderr}"))
}

#[test]
fn the_attribute_seed_is_the_builder_seed_and_the_environment_overrides_it() {
    let attribute = printed_trace(&child("child_prints_its_trace", None));
    assert_eq!(attribute, format!("TRACE {:?}", run_race(Some(7))));
    let overridden = printed_trace(&child("child_prints_its_trace", Some("5")));
    assert_eq!(overridden, format!("TRACE {:?}", run_race(Some(5))));
    assert_eq!(
        printed_trace(&child("child_prints_its_trace", Some("5"))),
        overridden
    );
}

#[test]
fn a_failing_seeded_test_prints_how_to_replay_it() {
    let output = child("child_fails", None);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("filch: this test ran with scheduler seed 4242 (from `seed` of #[filch::test]); replay it with FILCH_SEED=4242"),
        "{stderr}"
    );
    let output = child("child_fails", Some("random"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let seed: u64 = stderr
        .split("replay it with FILCH_SEED=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no seed printed: {stderr}"));
    assert!(stderr.contains(&format!("scheduler seed {seed} (from FILCH_SEED=random)")));
}

#[test]
fn a_bad_environment_seed_fails_the_test_with_the_fix() {
    let output = child("child_prints_its_trace", Some("seven"));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("FILCH_SEED=\"seven\" is not a seed") && stderr.contains("or unset it"),
        "{stderr}"
    );
}
