//! Memory per idle task: the resident-set growth of a process that spawns 1,000,000 tasks
//! which are polled once and then wait forever, on filch, tokio and smol's executor
//! (`async-executor`), each in a process of its own so that no runtime inherits another's
//! freed memory. Each task holds the same small future (a shared counter it bumps on its
//! first poll) and is detached; two worker threads each.
//!
//! ```text
//! cargo run --release -p filch-benches --example task_memory [-- <tasks>]
//! ```
//!
//! The number is what a server with many idle connections pays per connection task before
//! its own state: the task header, the future, the scheduler's and the registry's share, and
//! the allocator's overhead (glibc malloc here), measured, not computed.
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Bumps `polled` on its first poll, then waits forever.
struct Idle {
    polled: Option<Arc<AtomicUsize>>,
}

impl Future for Idle {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if let Some(polled) = self.polled.take() {
            polled.fetch_add(1, Ordering::Relaxed);
        }
        Poll::Pending
    }
}

/// The process's resident set, in bytes (Linux `/proc/self/status`, `VmRSS`).
fn resident_bytes() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: usize = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status");
    kib * 1024
}

/// Waits until every task was polled once (so each sits idle in its runtime).
fn wait_until_polled(polled: &AtomicUsize, tasks: usize) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while polled.load(Ordering::Relaxed) < tasks {
        assert!(Instant::now() < deadline, "the tasks were not all polled");
        std::thread::sleep(Duration::from_millis(10));
    }
    // Let the workers go idle and the allocator settle.
    std::thread::sleep(Duration::from_millis(200));
}

/// The resident-set growth per task of spawning `tasks` idle tasks with `spawn` (which
/// spawns and detaches one), once each has been polled.
fn growth_per_task(tasks: usize, mut spawn: impl FnMut(Idle)) -> f64 {
    let polled = Arc::new(AtomicUsize::new(0));
    let before = resident_bytes();
    for _ in 0..tasks {
        spawn(Idle {
            polled: Some(polled.clone()),
        });
    }
    wait_until_polled(&polled, tasks);
    let after = resident_bytes();
    (after - before) as f64 / tasks as f64
}

/// Spawns `tasks` idle tasks on `runtime` and prints the growth per task. Each runtime is
/// leaked, not dropped: the process ends here, and only the growth matters.
fn measure(runtime: &str, tasks: usize) {
    let per_task = match runtime {
        "filch" => {
            let rt = filch::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .expect("filch runtime");
            rt.block_on(filch::task::yield_now());
            let per_task = growth_per_task(tasks, |task| drop(rt.spawn(task)));
            std::mem::forget(rt);
            per_task
        }
        "tokio" => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .expect("tokio runtime");
            rt.block_on(tokio::task::yield_now());
            let per_task = growth_per_task(tasks, |task| drop(rt.spawn(task)));
            std::mem::forget(rt);
            per_task
        }
        "smol" => {
            let ex = Arc::new(async_executor::Executor::new());
            let (stop, stopped) = async_channel::bounded::<()>(1);
            for _ in 0..2 {
                let ex = ex.clone();
                let stopped = stopped.clone();
                std::thread::spawn(move || futures_lite::future::block_on(ex.run(stopped.recv())));
            }
            std::thread::sleep(Duration::from_millis(50));
            let per_task = growth_per_task(tasks, |task| ex.spawn(task).detach());
            std::mem::forget(stop);
            per_task
        }
        other => panic!("unknown runtime {other:?}: filch, tokio or smol"),
    };
    println!("{runtime} {per_task:.0}");
}

fn main() {
    let mut args = std::env::args().skip(1);
    let first = args.next();
    if let Some(runtime @ ("filch" | "tokio" | "smol")) = first.as_deref() {
        let tasks = args
            .next()
            .map_or(1_000_000, |n| n.parse().expect("a task count"));
        measure(runtime, tasks);
        return;
    }
    let tasks: usize = first.map_or(1_000_000, |n| n.parse().expect("a task count"));
    println!("resident-set growth per idle task, {tasks} tasks, 2 workers, one process each:");
    let mut results = Vec::new();
    for runtime in ["filch", "tokio", "smol"] {
        let output = std::process::Command::new(std::env::current_exe().expect("this program"))
            .args([runtime, &tasks.to_string()])
            .output()
            .expect("run a measurement");
        assert!(output.status.success(), "{runtime}: {output:?}");
        let line = String::from_utf8_lossy(&output.stdout);
        let bytes: f64 = line
            .split_whitespace()
            .nth(1)
            .and_then(|b| b.parse().ok())
            .expect("a measurement line");
        results.push((runtime, bytes));
    }
    let filch = results[0].1;
    for (runtime, bytes) in &results {
        println!(
            "  {runtime:<6} {bytes:>6.0} bytes  (filch / {runtime}: {:.2})",
            filch / bytes
        );
    }
}
