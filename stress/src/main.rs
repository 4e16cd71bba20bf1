//! `filch-stress`: run the built-in scenarios against filch; exit non-zero on a violation.
use clap::Parser;
use filch_stress::{Fault, Harness};
use std::process::ExitCode;
use std::time::Duration;

/// Stress filch with a seeded mix of scenarios under a stall watchdog.
///
/// With --deterministic, the run replays exactly: one worker (a current-thread runtime),
/// paused time, the scheduler seeded from --seed; only the scenarios that can be
/// deterministic run (the others are listed as skipped), and the report on stdout is the
/// same, byte for byte, for the same options. See docs/stress.md.
#[derive(Debug, Parser)]
#[command(name = "filch-stress", version)]
struct Args {
    /// How long the scenarios run before they are asked to stop (virtual seconds with
    /// --deterministic, where a fraction of a second is a good length).
    #[arg(long, default_value_t = 30.0)]
    seconds: f64,
    /// Master seed; without it one is picked and printed. The same seed replays the same
    /// scenario parameters (and with --deterministic, the whole run).
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads of the runtime under test [default: 4; --deterministic: 1, the only
    /// value it accepts].
    #[arg(long)]
    workers: Option<usize>,
    /// Replay the seed exactly: a current-thread runtime with paused time whose scheduler
    /// is seeded from --seed (filch_stress::scheduler_seed); --seconds and --stall-seconds
    /// count virtual time, and a poll that blocks for --stall-seconds of real time is
    /// reported as a real-time hang. Skips the scenarios that use real I/O, the blocking
    /// pool, other runtimes or threads, or wall-clock alarms.
    #[arg(long)]
    deterministic: bool,
    /// Comma-separated scenarios; `mixed` (the default) runs every built-in one at once.
    #[arg(long, value_delimiter = ',', default_value = "mixed")]
    scenario: Vec<String>,
    /// A scenario whose progress counter stays still this long, or a probe wake not
    /// polled within it, is reported as a stall (virtual seconds with --deterministic).
    #[arg(long, default_value_t = 10.0)]
    stall_seconds: f64,
    /// Plant a fault in the harness's own wake path (test only), e.g. `drop-wake:1000`.
    #[arg(long)]
    fault: Option<Fault>,
    /// Print the report as JSON on stdout (and no progress bar).
    #[arg(long)]
    json: bool,
    /// List the built-in scenarios and exit.
    #[arg(long)]
    list: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.list {
        for name in filch_stress::scenarios::NAMES {
            println!("{name}");
        }
        return ExitCode::SUCCESS;
    }
    if !(args.seconds.is_finite() && args.seconds > 0.0) {
        eprintln!("--seconds must be a positive number");
        return ExitCode::from(2);
    }
    if !(args.stall_seconds.is_finite() && args.stall_seconds > 0.0) {
        eprintln!("--stall-seconds must be a positive number");
        return ExitCode::from(2);
    }
    if args.deterministic && args.workers.is_some_and(|w| w != 1) {
        eprintln!(
            "filch-stress: --deterministic runs one worker (a current-thread runtime); \
             --workers {} cannot be deterministic: drop --workers or pass --workers 1",
            args.workers.unwrap_or_default()
        );
        return ExitCode::from(2);
    }
    if args.workers == Some(0) {
        eprintln!("--workers must be at least 1");
        return ExitCode::from(2);
    }
    let workers = args
        .workers
        .unwrap_or(if args.deterministic { 1 } else { 4 });
    let seed = args.seed.unwrap_or_else(|| {
        let seed = fastrand::u64(..);
        eprintln!("filch-stress: no --seed given, picked --seed {seed}");
        seed
    });
    let names: Vec<&str> = args.scenario.iter().map(String::as_str).collect();
    let mut harness = match Harness::new(seed)
        .duration(Duration::from_secs_f64(args.seconds))
        .workers(workers)
        .deterministic(args.deterministic)
        .stall_bound(Duration::from_secs_f64(args.stall_seconds))
        .progress_bar(!args.json)
        .builtin(&names)
    {
        Ok(h) => h,
        Err(e) => {
            eprintln!("filch-stress: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(f) = args.fault {
        harness = harness.fault(f);
    }
    if args.deterministic && !harness.scenarios().iter().any(|s| s.is_deterministic()) {
        eprintln!("filch-stress: none of the scenarios asked for can run with --deterministic:");
        for s in harness.scenarios() {
            eprintln!(
                "  {}: {}",
                s.name(),
                s.nondeterministic_reason().unwrap_or("")
            );
        }
        return ExitCode::from(2);
    }
    if !args.json {
        if args.deterministic {
            eprintln!(
                "filch-stress: seed {seed}, deterministic (1 worker, paused time), {} s of \
                 virtual time, scenarios: {}",
                args.seconds,
                names.join(",")
            );
        } else {
            eprintln!(
                "filch-stress: seed {seed}, {workers} worker(s), {} s, scenarios: {}",
                args.seconds,
                names.join(",")
            );
        }
    }
    let wall = std::time::Instant::now();
    let report = harness.run();
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_text());
        if args.deterministic {
            // On stderr: the wall time is no part of the deterministic report.
            eprintln!(
                "filch-stress: {:.1} s of real time",
                wall.elapsed().as_secs_f64()
            );
        }
    }
    if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
