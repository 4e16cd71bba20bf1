//! Scheduler micro-benchmarks: filch against tokio and smol on the same workloads.
//!
//! Every group runs one workload on three runtimes, each with one worker thread per CPU
//! (`num_cpus::get()`, read at run time):
//!
//! * `filch`: `filch::runtime::Builder::new_multi_thread().worker_threads(n)`.
//! * `tokio`: `tokio::runtime::Builder::new_multi_thread().worker_threads(n).enable_all()`
//!   (what `#[tokio::main]` builds: with its I/O driver and timers, like filch's runtime).
//! * `smol`: one `async_executor::Executor` driven by `n` threads, each running
//!   `futures_lite::future::block_on(executor.run(stop))`: what `smol` does for its global
//!   executor.
//!
//! Runtimes are built once per bench function, outside the timed loop. All three are used
//! through the same [`Rt`] trait, so every workload has one body: spawns go through the
//! runtime's handle (`Handle::spawn`, `Executor::spawn`), waits from the bench thread
//! through the runtime's `block_on` (`futures_lite::future::block_on` for smol), and
//! `yield_now` is each runtime's own. Channels are `futures-channel` oneshots for all three.
//!
//! The workloads (sizes chosen so one iteration takes roughly 1-50 ms on 2 cores):
//!
//! * `spawn_many_local`: a task spawns [`SPAWN_MANY`] trivial tasks and awaits them all.
//! * `spawn_many_remote`: the bench thread spawns [`SPAWN_MANY`] trivial tasks, then blocks on
//!   their join handles.
//! * `yield_many`: [`YIELD_TASKS`] tasks, each yielding [`YIELDS_PER_TASK`] times.
//! * `ping_pong`: as tokio's `rt_multi_threaded` benchmark: a task spawns [`PINGS`] tasks;
//!   each spawns a partner and does one round trip with it over two oneshot channels.
//! * `chained_spawn`: a chain of [`CHAIN_DEPTH`] tasks, each spawning the next; the last
//!   signals the bench thread over a oneshot.
//!
//! Run: `cargo bench -p filch-benches --bench scheduler` (add `-- ping_pong` to filter, or
//! `-- --quick`). Results: `docs/performance.md`. For profiling, the same binary runs one
//! workload a fixed number of times without criterion: see [`profile`].
use criterion::{criterion_group, Criterion};
use futures_channel::oneshot;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

const SPAWN_MANY: usize = 10_000;
const YIELD_TASKS: usize = 200;
const YIELDS_PER_TASK: usize = 1_000;
const PINGS: usize = 1_000;
const CHAIN_DEPTH: usize = 1_000;

/// What a workload needs from a runtime.
trait Rt: Clone + Send + Sync + 'static {
    /// A join handle resolving to the task's output (a panic in the task fails the bench).
    type Join<T: Send + 'static>: Future<Output = T> + Send + 'static;

    fn spawn<F>(&self, future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Spawns a task that keeps running when its handle is gone.
    fn spawn_detached<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static;

    /// The runtime's own `yield_now`.
    fn yield_now() -> impl Future<Output = ()> + Send;

    /// Blocks the (non-worker) calling thread on `future`.
    fn block_on<F: Future>(&self, future: F) -> F::Output;
}

/// Unwraps a `Result`-returning join handle (filch's and tokio's).
struct Unwrap<J>(J);

impl<J, T, E> Future for Unwrap<J>
where
    J: Future<Output = Result<T, E>> + Unpin,
    E: std::fmt::Debug,
{
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.expect("task failed"))
    }
}

impl Rt for filch::runtime::Handle {
    type Join<T: Send + 'static> = Unwrap<filch::task::JoinHandle<T>>;

    fn spawn<F>(&self, future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Unwrap(filch::runtime::Handle::spawn(self, future))
    }

    fn spawn_detached<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(filch::runtime::Handle::spawn(self, future));
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        filch::task::yield_now()
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        filch::runtime::Handle::block_on(self, future)
    }
}

impl Rt for tokio::runtime::Handle {
    type Join<T: Send + 'static> = Unwrap<tokio::task::JoinHandle<T>>;

    fn spawn<F>(&self, future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Unwrap(tokio::runtime::Handle::spawn(self, future))
    }

    fn spawn_detached<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(tokio::runtime::Handle::spawn(self, future));
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        tokio::runtime::Handle::block_on(self, future)
    }
}

/// A handle to the smol-style runtime: the shared executor.
#[derive(Clone)]
struct Smol(Arc<async_executor::Executor<'static>>);

impl Rt for Smol {
    type Join<T: Send + 'static> = async_executor::Task<T>;

    fn spawn<F>(&self, future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.0.spawn(future)
    }

    fn spawn_detached<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.0.spawn(future).detach();
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        futures_lite::future::yield_now()
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        futures_lite::future::block_on(future)
    }
}

/// An executor and the `n` threads driving it; dropping it stops and joins them.
struct SmolRuntime {
    handle: Smol,
    stops: Vec<oneshot::Sender<()>>,
    threads: Vec<thread::JoinHandle<()>>,
}

impl SmolRuntime {
    fn new(n: usize) -> Self {
        let handle = Smol(Arc::new(async_executor::Executor::new()));
        let (stops, threads) = (0..n)
            .map(|i| {
                let (stop, stopped) = oneshot::channel::<()>();
                let ex = handle.0.clone();
                let thread = thread::Builder::new()
                    .name(format!("smol-{i}"))
                    .spawn(move || {
                        futures_lite::future::block_on(ex.run(async {
                            let _ = stopped.await;
                        }))
                    })
                    .expect("spawn smol thread");
                (stop, thread)
            })
            .unzip();
        Self {
            handle,
            stops,
            threads,
        }
    }
}

impl Drop for SmolRuntime {
    fn drop(&mut self) {
        self.stops.clear();
        for thread in self.threads.drain(..) {
            thread.join().expect("smol thread panicked");
        }
    }
}

/// One workload, runnable on any [`Rt`].
trait Workload {
    const NAME: &'static str;
    fn run<R: Rt>(rt: &R);
}

struct SpawnManyLocal;

impl Workload for SpawnManyLocal {
    const NAME: &'static str = "spawn_many_local";

    fn run<R: Rt>(rt: &R) {
        let inner = rt.clone();
        let root = rt.spawn(async move {
            let handles: Vec<_> = (0..SPAWN_MANY).map(|_| inner.spawn(async {})).collect();
            for handle in handles {
                handle.await;
            }
        });
        rt.block_on(root);
    }
}

struct SpawnManyRemote;

impl Workload for SpawnManyRemote {
    const NAME: &'static str = "spawn_many_remote";

    fn run<R: Rt>(rt: &R) {
        let handles: Vec<_> = (0..SPAWN_MANY).map(|_| rt.spawn(async {})).collect();
        rt.block_on(async {
            for handle in handles {
                handle.await;
            }
        });
    }
}

struct YieldMany;

impl Workload for YieldMany {
    const NAME: &'static str = "yield_many";

    fn run<R: Rt>(rt: &R) {
        let handles: Vec<_> = (0..YIELD_TASKS)
            .map(|_| {
                rt.spawn(async {
                    for _ in 0..YIELDS_PER_TASK {
                        R::yield_now().await;
                    }
                })
            })
            .collect();
        rt.block_on(async {
            for handle in handles {
                handle.await;
            }
        });
    }
}

struct PingPong;

impl Workload for PingPong {
    const NAME: &'static str = "ping_pong";

    fn run<R: Rt>(rt: &R) {
        let outer = rt.clone();
        let root = rt.spawn(async move {
            let pings: Vec<_> = (0..PINGS)
                .map(|_| {
                    let rt = outer.clone();
                    outer.spawn(async move {
                        let (ping_tx, ping_rx) = oneshot::channel::<()>();
                        let (pong_tx, pong_rx) = oneshot::channel::<()>();
                        rt.spawn_detached(async move {
                            ping_rx.await.expect("ping");
                            pong_tx.send(()).expect("pong");
                        });
                        ping_tx.send(()).expect("ping");
                        pong_rx.await.expect("pong");
                    })
                })
                .collect();
            for ping in pings {
                ping.await;
            }
        });
        rt.block_on(root);
    }
}

struct ChainedSpawn;

impl Workload for ChainedSpawn {
    const NAME: &'static str = "chained_spawn";

    fn run<R: Rt>(rt: &R) {
        fn link<R: Rt>(rt: R, done: oneshot::Sender<()>, n: usize) {
            if n == 0 {
                done.send(()).expect("bench thread waits");
            } else {
                rt.clone()
                    .spawn_detached(async move { link(rt, done, n - 1) });
            }
        }
        let (done, finished) = oneshot::channel();
        let first = rt.clone();
        rt.spawn_detached(async move { link(first, done, CHAIN_DEPTH) });
        rt.block_on(finished).expect("chain completes");
    }
}

fn workers() -> usize {
    num_cpus::get()
}

/// filch's multi-thread runtime with `n` workers (its I/O driver and timers are always on).
fn filch_runtime(n: usize) -> filch::runtime::Runtime {
    filch::runtime::Builder::new_multi_thread()
        .worker_threads(n)
        .build()
        .expect("filch runtime")
}

/// tokio's multi-thread runtime with `n` workers and, as `#[tokio::main]` builds it, its I/O
/// driver and timers on (`enable_all`): a busy tokio worker then polls epoll every event
/// interval, as filch's does. Without them tokio skips that syscall, which no server can.
fn tokio_runtime(n: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(n)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn bench<W: Workload>(c: &mut Criterion) {
    let n = workers();
    let mut group = c.benchmark_group(W::NAME);

    let filch = filch_runtime(n);
    let handle = filch.handle().clone();
    group.bench_function("filch", |b| b.iter(|| W::run(&handle)));
    drop(filch);

    let tokio = tokio_runtime(n);
    let handle = tokio.handle().clone();
    group.bench_function("tokio", |b| b.iter(|| W::run(&handle)));
    drop(tokio);

    let smol = SmolRuntime::new(n);
    group.bench_function("smol", |b| b.iter(|| W::run(&smol.handle)));
    drop(smol);

    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = scheduler;
    config = config();
    targets = bench::<SpawnManyLocal>, bench::<SpawnManyRemote>, bench::<YieldMany>,
        bench::<PingPong>, bench::<ChainedSpawn>
}

/// `SCHED_PROFILE=<workload>/<runtime>[:<iterations>]`: runs that workload that many times
/// (default 100) without criterion and exits, so a profiler (`perf record`,
/// `valgrind --tool=callgrind`) sees only the runtime and the workload.
fn profile(spec: &str) {
    fn on<W: Workload>(runtime: &str, iterations: usize) {
        let n = workers();
        let start = std::time::Instant::now();
        let report = |elapsed: Duration| {
            eprintln!(
                "{}/{runtime}: {iterations} iterations on {n} workers in {elapsed:?}",
                W::NAME
            );
            eprint!("{}", context_switches());
        };
        match runtime {
            "filch" => {
                let rt = filch_runtime(n);
                (0..iterations).for_each(|_| W::run(rt.handle()));
                report(start.elapsed());
            }
            "tokio" => {
                let rt = tokio_runtime(n);
                (0..iterations).for_each(|_| W::run(rt.handle()));
                report(start.elapsed());
            }
            "smol" => {
                let rt = SmolRuntime::new(n);
                (0..iterations).for_each(|_| W::run(&rt.handle));
                report(start.elapsed());
            }
            other => panic!("unknown runtime {other:?}: filch, tokio or smol"),
        }
    }
    let (target, iterations) = match spec.split_once(':') {
        Some((target, iterations)) => (target, iterations.parse().expect("iterations")),
        None => (spec, 100),
    };
    let (workload, runtime) = target
        .split_once('/')
        .expect("SCHED_PROFILE=<workload>/<runtime>[:<iterations>]");
    match workload {
        SpawnManyLocal::NAME => on::<SpawnManyLocal>(runtime, iterations),
        SpawnManyRemote::NAME => on::<SpawnManyRemote>(runtime, iterations),
        YieldMany::NAME => on::<YieldMany>(runtime, iterations),
        PingPong::NAME => on::<PingPong>(runtime, iterations),
        ChainedSpawn::NAME => on::<ChainedSpawn>(runtime, iterations),
        other => panic!("unknown workload {other:?}"),
    }
}

/// Voluntary and involuntary context switches of each thread of this process so far, one
/// line per thread (Linux `/proc`; empty elsewhere).
fn context_switches() -> String {
    let mut out = String::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for task in tasks.flatten() {
        let Ok(status) = std::fs::read_to_string(task.path().join("status")) else {
            continue;
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map_or("?", str::trim)
                .to_owned()
        };
        out += &format!(
            "  thread {:<16} voluntary switches {:>8}, involuntary {:>8}\n",
            field("Name:"),
            field("voluntary_ctxt_switches:"),
            field("nonvoluntary_ctxt_switches:"),
        );
    }
    out
}

fn main() {
    if let Ok(spec) = std::env::var("SCHED_PROFILE") {
        profile(&spec);
        return;
    }
    // What `criterion_main!(scheduler)` expands to.
    scheduler();
    Criterion::default().configure_from_args().final_summary();
}
