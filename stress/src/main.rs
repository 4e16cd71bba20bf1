//! `filch-stress`: run the built-in scenarios against filch; exit non-zero on a violation.
use clap::Parser;
use filch_stress::{Fault, Harness};
use std::process::ExitCode;
use std::time::Duration;

/// Stress filch with a seeded mix of scenarios under a stall watchdog.
#[derive(Debug, Parser)]
#[command(name = "filch-stress", version)]
struct Args {
    /// How long the scenarios run before they are asked to stop.
    #[arg(long, default_value_t = 30.0)]
    seconds: f64,
    /// Master seed; without it one is picked and printed. The same seed replays the same
    /// scenario parameters (not the same thread interleavings).
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads of the runtime under test.
    #[arg(long, default_value_t = 4)]
    workers: usize,
    /// Comma-separated scenarios; `mixed` (the default) runs every built-in one at once.
    #[arg(long, value_delimiter = ',', default_value = "mixed")]
    scenario: Vec<String>,
    /// A scenario whose progress counter stays still this long, or a probe wake not
    /// polled within it, is reported as a stall.
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
    let seed = args.seed.unwrap_or_else(|| {
        let seed = fastrand::u64(..);
        eprintln!("filch-stress: no --seed given, picked --seed {seed}");
        seed
    });
    let names: Vec<&str> = args.scenario.iter().map(String::as_str).collect();
    let mut harness = match Harness::new(seed)
        .duration(Duration::from_secs_f64(args.seconds))
        .workers(args.workers)
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
    if !args.json {
        eprintln!(
            "filch-stress: seed {seed}, {} worker(s), {} s, scenarios: {}",
            args.workers,
            args.seconds,
            names.join(",")
        );
    }
    let report = harness.run();
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_text());
    }
    if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
