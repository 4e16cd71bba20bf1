//! Timer lateness: how long after its deadline a 1 ms sleep wakes its task, on filch, tokio
//! and smol (`async-executor` driven by `async_io::block_on`, smol's timers), two worker
//! threads each.
//!
//! Two workloads, each run in interleaved rounds (filch, tokio, smol, then the next round):
//!
//! * `concurrent`: 10,000 tasks spawned at once, each sleeping 1 ms once.
//! * `sequential`: one task sleeping 1 ms, 1,000 times in a row.
//!
//! Lateness is the wake-up instant minus the deadline the task asked for (`Instant::now()`
//! plus 1 ms, read just before it sleeps); the report gives its p50, p99 and maximum over
//! every sleep of every round, in microseconds.
//!
//! ```text
//! cargo run --release -p filch-benches --example timer_lateness [-- <rounds>]
//! ```
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CONCURRENT: usize = 10_000;
const SEQUENTIAL: usize = 1_000;
const SLEEP: Duration = Duration::from_millis(1);
const WORKERS: usize = 2;

/// The pieces of a runtime the workloads need: spawn-and-collect, and a 1 ms sleep.
trait Runtime: 'static {
    const NAME: &'static str;
    /// Runs `tasks` copies of `task` at once and returns their outputs.
    fn run_all<F, Fut, T>(&self, tasks: usize, task: F) -> Vec<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = T> + Send + 'static,
        T: Send + 'static;
    /// Sleeps `SLEEP` on this runtime's timers.
    fn sleep() -> impl Future<Output = ()> + Send;
}

struct Filch(filch::runtime::Runtime);

impl Runtime for Filch {
    const NAME: &'static str = "filch";
    fn run_all<F, Fut, T>(&self, tasks: usize, task: F) -> Vec<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        let handles: Vec<_> = (0..tasks).map(|_| self.0.spawn(task())).collect();
        self.0.block_on(async {
            let mut out = Vec::with_capacity(tasks);
            for h in handles {
                out.push(h.await.expect("task"));
            }
            out
        })
    }
    fn sleep() -> impl Future<Output = ()> + Send {
        filch::time::sleep(SLEEP)
    }
}

struct Tokio(tokio::runtime::Runtime);

impl Runtime for Tokio {
    const NAME: &'static str = "tokio";
    fn run_all<F, Fut, T>(&self, tasks: usize, task: F) -> Vec<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        let handles: Vec<_> = (0..tasks).map(|_| self.0.spawn(task())).collect();
        self.0.block_on(async {
            let mut out = Vec::with_capacity(tasks);
            for h in handles {
                out.push(h.await.expect("task"));
            }
            out
        })
    }
    fn sleep() -> impl Future<Output = ()> + Send {
        tokio::time::sleep(SLEEP)
    }
}

/// smol's executor on `WORKERS` threads, each in `async_io::block_on` (which drives
/// async-io's reactor and timers, as `smol`'s global executor does).
struct Smol {
    executor: Arc<async_executor::Executor<'static>>,
    stop: Option<async_channel::Sender<()>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Smol {
    fn new() -> Smol {
        let executor = Arc::new(async_executor::Executor::new());
        let (stop, stopped) = async_channel::bounded::<()>(1);
        let threads = (0..WORKERS)
            .map(|_| {
                let executor = executor.clone();
                let stopped = stopped.clone();
                std::thread::spawn(move || {
                    async_io::block_on(executor.run(async {
                        let _ = stopped.recv().await;
                    }))
                })
            })
            .collect();
        Smol {
            executor,
            stop: Some(stop),
            threads,
        }
    }
}

impl Drop for Smol {
    fn drop(&mut self) {
        self.stop.take();
        for thread in self.threads.drain(..) {
            thread.join().expect("smol thread");
        }
    }
}

impl Runtime for Smol {
    const NAME: &'static str = "smol";
    fn run_all<F, Fut, T>(&self, tasks: usize, task: F) -> Vec<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        let handles: Vec<_> = (0..tasks).map(|_| self.executor.spawn(task())).collect();
        futures_lite::future::block_on(async {
            let mut out = Vec::with_capacity(tasks);
            for h in handles {
                out.push(h.await);
            }
            out
        })
    }
    async fn sleep() {
        async_io::Timer::after(SLEEP).await;
    }
}

/// One sleep: its lateness past the deadline it asked for.
async fn late<R: Runtime>() -> Duration {
    let deadline = Instant::now() + SLEEP;
    R::sleep().await;
    Instant::now().saturating_duration_since(deadline)
}

/// One round of each workload on `rt`: the lateness of every sleep.
fn round<R: Runtime>(rt: &R, concurrent: &mut Vec<Duration>, sequential: &mut Vec<Duration>) {
    concurrent.extend(rt.run_all(CONCURRENT, late::<R>));
    for one_task in rt.run_all(1, || async {
        let mut lateness = Vec::with_capacity(SEQUENTIAL);
        for _ in 0..SEQUENTIAL {
            lateness.push(late::<R>().await);
        }
        lateness
    }) {
        sequential.extend(one_task);
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn report(name: &str, workload: &str, mut lateness: Vec<Duration>) {
    lateness.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "| {workload} | {name} | {:.0} | {:.0} | {:.0} | {} |",
        us(percentile(&lateness, 0.50)),
        us(percentile(&lateness, 0.99)),
        us(*lateness.last().expect("samples")),
        lateness.len()
    );
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .map(|r| r.parse().expect("rounds"))
        .unwrap_or(5);
    let filch = Filch(
        filch::runtime::Builder::new_multi_thread()
            .worker_threads(WORKERS)
            .build()
            .expect("filch runtime"),
    );
    let tokio = Tokio(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKERS)
            .enable_all()
            .build()
            .expect("tokio runtime"),
    );
    let smol = Smol::new();
    let mut samples: [(Vec<Duration>, Vec<Duration>); 3] = Default::default();
    for _ in 0..rounds {
        let [f, t, s] = &mut samples;
        round(&filch, &mut f.0, &mut f.1);
        round(&tokio, &mut t.0, &mut t.1);
        round(&smol, &mut s.0, &mut s.1);
    }
    println!("| workload | runtime | p50 µs | p99 µs | max µs | sleeps |");
    println!("|---|---|---|---|---|---|");
    let names = [Filch::NAME, Tokio::NAME, Smol::NAME];
    for (name, (concurrent, _)) in names.iter().zip(samples.iter()) {
        report(name, "concurrent", concurrent.clone());
    }
    for (name, (_, sequential)) in names.iter().zip(samples.iter()) {
        report(name, "sequential", sequential.clone());
    }
}
