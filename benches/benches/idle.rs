//! CPU time burned by an idle runtime.
//!
//! For filch, tokio and smol (an `async_executor::Executor` on `n` threads), each with one
//! worker per CPU: build the runtime, let it settle, then read this process's user + system
//! CPU time (`/proc/self/stat`) before and after [`IDLE`] of sleeping on the main thread.
//! Measured twice per runtime: fresh, and right after a burst of work (so workers that
//! searched or spun recently have to go back to sleep). An idle runtime should use ~0 s.
//!
//! Run: `cargo bench -p filch-benches --bench idle`. Linux only (reads `/proc`).
use std::future::Future;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// How long each runtime is left idle.
const IDLE: Duration = Duration::from_secs(2);
/// Time for a new runtime's threads to start and park before measuring.
const SETTLE: Duration = Duration::from_millis(100);
/// Tasks in the burst of work before the second measurement.
const BURST: usize = 10_000;

/// User + system CPU seconds of this process so far.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("read /proc/self/stat");
    // Fields after the `(comm)`: state is field 3, utime field 14, stime field 15.
    let rest = &stat[stat.rfind(')').expect("comm field") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    ticks as f64 / clock_ticks_per_second()
}

/// `sysconf(_SC_CLK_TCK)` (100 on every common Linux), asked of `getconf` once, before any
/// measurement, so the child process never runs inside a measured window.
fn clock_ticks_per_second() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// Context switches (voluntary + involuntary) of all this process's threads so far: each
/// time a parked worker wakes up and goes back to sleep counts.
fn context_switches() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("status")).ok())
        .flat_map(|status| {
            status
                .lines()
                .filter(|l| l.contains("ctxt_switches:"))
                .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                .collect::<Vec<_>>()
        })
        .sum()
}

/// CPU seconds used, and context switches made, while the main thread sleeps for [`IDLE`]
/// (the main thread's own sleep accounts for one switch).
fn idle_cpu() -> (f64, u64) {
    let (cpu, switches) = (cpu_seconds(), context_switches());
    thread::sleep(IDLE);
    (cpu_seconds() - cpu, context_switches() - switches)
}

fn report(name: &str, fresh: (f64, u64), after_burst: (f64, u64)) {
    println!(
        "{name:<6} idle {:.1} s: fresh {:.3} CPU s, {} context switches; \
         after a burst {:.3} CPU s, {} context switches (CPU time resolution: 1 tick = {:.3} s)",
        IDLE.as_secs_f64(),
        fresh.0,
        fresh.1,
        after_burst.0,
        after_burst.1,
        1.0 / clock_ticks_per_second(),
    );
}

/// Spawns [`BURST`] trivial tasks through `spawn` and waits for them with `block_on`.
fn burst<J: Future + Send + 'static>(spawn: impl Fn() -> J, block_on: impl FnOnce(Vec<J>)) {
    let handles: Vec<J> = (0..BURST).map(|_| spawn()).collect();
    block_on(handles);
}

/// Idle CPU of one multi-thread runtime of `n` workers (`$rt` is `filch` or `tokio`: the
/// same builder and spawn paths), fresh and after a burst of spawns.
macro_rules! measure_runtime {
    ($rt:ident, $n:expr) => {{
        let rt = $rt::runtime::Builder::new_multi_thread()
            .worker_threads($n)
            .build()
            .expect("runtime");
        thread::sleep(SETTLE);
        let fresh = idle_cpu();
        burst(
            || rt.spawn(async {}),
            |hs| {
                rt.block_on(async {
                    for h in hs {
                        h.await.expect("task");
                    }
                })
            },
        );
        let after = idle_cpu();
        report(stringify!($rt), fresh, after);
    }};
}

fn main() {
    // `cargo bench` passes `--bench`; `--list` etc. are not ours to answer.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n = num_cpus::get();
    clock_ticks_per_second();
    println!("workers per runtime: {n}");

    measure_runtime!(filch, n);

    measure_runtime!(tokio, n);

    {
        let ex = Arc::new(async_executor::Executor::new());
        let (stops, threads): (Vec<_>, Vec<_>) = (0..n)
            .map(|_| {
                let (stop, stopped) = futures_channel::oneshot::channel::<()>();
                let ex = ex.clone();
                let thread = thread::spawn(move || {
                    futures_lite::future::block_on(ex.run(async {
                        let _ = stopped.await;
                    }))
                });
                (stop, thread)
            })
            .unzip();
        thread::sleep(SETTLE);
        let fresh = idle_cpu();
        burst(
            || ex.spawn(async {}),
            |hs| {
                futures_lite::future::block_on(async {
                    for h in hs {
                        h.await;
                    }
                })
            },
        );
        let after = idle_cpu();
        report("smol", fresh, after);
        drop(stops);
        for thread in threads {
            thread.join().expect("smol thread");
        }
    }
}
