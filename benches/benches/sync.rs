//! Sync-primitive micro-benchmarks: `filch-sync` against tokio's and smol's primitives, all
//! on filch's multi-thread runtime.
//!
//! Every group runs one workload three times, once per implementation, on one filch runtime
//! with one worker thread per CPU (`num_cpus::get()`, read at run time), built once per
//! group outside the timed loop. So the runtime is the same for all three and only the
//! primitive differs:
//!
//! * `filch`: `filch::sync` (the `filch-sync` crate).
//! * `tokio`: `tokio::sync`.
//! * `async_lock`: `async-lock`'s `Mutex` and `Semaphore`. async-lock has no channels, so the
//!   channel groups use smol's channel crates instead and name the function after them:
//!   `async_channel` (bounded MPMC, `async-channel`) for mpsc and `futures_channel`
//!   (`futures-channel`'s oneshot) for oneshot.
//!
//! Each implementation sits behind one small trait ([`BenchMutex`], [`BenchSemaphore`],
//! [`BenchMpsc`], [`BenchOneshot`]), so every workload has a single body. Tasks are spawned
//! with `filch::runtime::Handle::spawn`, and the bench thread waits on their join handles
//! with `Handle::block_on`.
//!
//! The workloads:
//!
//! * `mutex_uncontended`: one task locks and unlocks a mutex [`UNCONTENDED_LOCKS`] times.
//! * `mutex_contended`: [`CONTENDED_TASKS`] tasks each lock one shared mutex
//!   [`LOCKS_PER_TASK`] times, incrementing a counter inside.
//! * `semaphore`: [`SEM_TASKS`] tasks share a [`SEM_PERMITS`]-permit semaphore; each
//!   acquires it [`ACQUIRES_PER_TASK`] times and holds the permit across one
//!   `filch::task::yield_now().await`.
//! * `mpsc_1_producer` / `mpsc_16_producers`: a bounded channel of capacity [`MPSC_CAPACITY`];
//!   1 or 16 producer tasks send [`MPSC_MESSAGES`] messages in total to one consumer task.
//! * `oneshot_round_trip`: two tasks do [`ROUND_TRIPS`] sequential round trips, each a
//!   oneshot from the first task to the second and a oneshot back; the channels are made
//!   at the start of the iteration (creation is part of what is timed).
//!
//! Run: `cargo bench -p filch-benches --bench sync` (add `-- mutex_contended` to filter).
//! Results: `docs/performance.md`, section "filch-sync". For profiling, the same binary runs
//! one workload a fixed number of times without criterion: see [`profile`].
use criterion::{criterion_group, Criterion};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

const UNCONTENDED_LOCKS: usize = 1_000;
const CONTENDED_TASKS: usize = 64;
const LOCKS_PER_TASK: usize = 1_000;
const SEM_TASKS: usize = 256;
const SEM_PERMITS: usize = 8;
const ACQUIRES_PER_TASK: usize = 100;
const MPSC_CAPACITY: usize = 128;
const MPSC_MESSAGES: usize = 100_000;
const ROUND_TRIPS: usize = 10_000;

type Handle = filch::runtime::Handle;

/// An async mutex around a counter.
trait BenchMutex: Send + Sync + 'static {
    const NAME: &'static str;
    fn new() -> Self;
    /// Locks, adds one to the counter, unlocks.
    fn increment(&self) -> impl Future<Output = ()> + Send + '_;
    /// The counter (the mutex is free when this is called).
    fn count(&self) -> u64;
}

impl BenchMutex for filch::sync::Mutex<u64> {
    const NAME: &'static str = "filch";
    fn new() -> Self {
        Self::new(0)
    }
    async fn increment(&self) {
        *self.lock().await += 1;
    }
    fn count(&self) -> u64 {
        *self.try_lock().expect("mutex free")
    }
}

impl BenchMutex for tokio::sync::Mutex<u64> {
    const NAME: &'static str = "tokio";
    fn new() -> Self {
        Self::new(0)
    }
    async fn increment(&self) {
        *self.lock().await += 1;
    }
    fn count(&self) -> u64 {
        *self.try_lock().expect("mutex free")
    }
}

impl BenchMutex for async_lock::Mutex<u64> {
    const NAME: &'static str = "async_lock";
    fn new() -> Self {
        Self::new(0)
    }
    async fn increment(&self) {
        *self.lock().await += 1;
    }
    fn count(&self) -> u64 {
        *self.try_lock().expect("mutex free")
    }
}

/// An async counting semaphore.
trait BenchSemaphore: Send + Sync + 'static {
    const NAME: &'static str;
    fn new(permits: usize) -> Self;
    /// Acquires one permit and holds it across one `filch::task::yield_now()`.
    fn acquire_and_yield(&self) -> impl Future<Output = ()> + Send + '_;
}

impl BenchSemaphore for filch::sync::Semaphore {
    const NAME: &'static str = "filch";
    fn new(permits: usize) -> Self {
        Self::new(permits)
    }
    async fn acquire_and_yield(&self) {
        let _permit = self.acquire().await.expect("semaphore open");
        filch::task::yield_now().await;
    }
}

impl BenchSemaphore for tokio::sync::Semaphore {
    const NAME: &'static str = "tokio";
    fn new(permits: usize) -> Self {
        Self::new(permits)
    }
    async fn acquire_and_yield(&self) {
        let _permit = self.acquire().await.expect("semaphore open");
        filch::task::yield_now().await;
    }
}

impl BenchSemaphore for async_lock::Semaphore {
    const NAME: &'static str = "async_lock";
    fn new(permits: usize) -> Self {
        Self::new(permits)
    }
    async fn acquire_and_yield(&self) {
        let _permit = self.acquire().await;
        filch::task::yield_now().await;
    }
}

/// A bounded multi-producer channel of `u64`s.
trait BenchMpsc: 'static {
    const NAME: &'static str;
    type Tx: Clone + Send + 'static;
    type Rx: Send + 'static;
    fn bounded(capacity: usize) -> (Self::Tx, Self::Rx);
    fn send(tx: &Self::Tx, value: u64) -> impl Future<Output = ()> + Send + '_;
    /// `None` once every sender is gone and the channel is empty.
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = Option<u64>> + Send + '_;
}

struct FilchMpsc;

impl BenchMpsc for FilchMpsc {
    const NAME: &'static str = "filch";
    type Tx = filch::sync::mpsc::Sender<u64>;
    type Rx = filch::sync::mpsc::Receiver<u64>;
    fn bounded(capacity: usize) -> (Self::Tx, Self::Rx) {
        filch::sync::mpsc::channel(capacity)
    }
    async fn send(tx: &Self::Tx, value: u64) {
        tx.send(value).await.expect("receiver alive");
    }
    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().await
    }
}

struct TokioMpsc;

impl BenchMpsc for TokioMpsc {
    const NAME: &'static str = "tokio";
    type Tx = tokio::sync::mpsc::Sender<u64>;
    type Rx = tokio::sync::mpsc::Receiver<u64>;
    fn bounded(capacity: usize) -> (Self::Tx, Self::Rx) {
        tokio::sync::mpsc::channel(capacity)
    }
    async fn send(tx: &Self::Tx, value: u64) {
        tx.send(value).await.expect("receiver alive");
    }
    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().await
    }
}

struct AsyncChannel;

impl BenchMpsc for AsyncChannel {
    const NAME: &'static str = "async_channel";
    type Tx = async_channel::Sender<u64>;
    type Rx = async_channel::Receiver<u64>;
    fn bounded(capacity: usize) -> (Self::Tx, Self::Rx) {
        async_channel::bounded(capacity)
    }
    async fn send(tx: &Self::Tx, value: u64) {
        tx.send(value).await.expect("receiver alive");
    }
    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().await.ok()
    }
}

/// A oneshot channel of `()`.
trait BenchOneshot: 'static {
    const NAME: &'static str;
    type Tx: Send + 'static;
    type Rx: Future + Send + Unpin + 'static;
    fn oneshot() -> (Self::Tx, Self::Rx);
    fn send(tx: Self::Tx);
}

struct FilchOneshot;

impl BenchOneshot for FilchOneshot {
    const NAME: &'static str = "filch";
    type Tx = filch::sync::oneshot::Sender<()>;
    type Rx = filch::sync::oneshot::Receiver<()>;
    fn oneshot() -> (Self::Tx, Self::Rx) {
        filch::sync::oneshot::channel()
    }
    fn send(tx: Self::Tx) {
        tx.send(()).expect("receiver alive");
    }
}

struct TokioOneshot;

impl BenchOneshot for TokioOneshot {
    const NAME: &'static str = "tokio";
    type Tx = tokio::sync::oneshot::Sender<()>;
    type Rx = tokio::sync::oneshot::Receiver<()>;
    fn oneshot() -> (Self::Tx, Self::Rx) {
        tokio::sync::oneshot::channel()
    }
    fn send(tx: Self::Tx) {
        tx.send(()).expect("receiver alive");
    }
}

struct FuturesOneshot;

impl BenchOneshot for FuturesOneshot {
    const NAME: &'static str = "futures_channel";
    type Tx = futures_channel::oneshot::Sender<()>;
    type Rx = futures_channel::oneshot::Receiver<()>;
    fn oneshot() -> (Self::Tx, Self::Rx) {
        futures_channel::oneshot::channel()
    }
    fn send(tx: Self::Tx) {
        tx.send(()).expect("receiver alive");
    }
}

/// Waits from the bench thread for every handle, failing the bench if a task failed.
fn join_all<T>(rt: &Handle, handles: Vec<filch::task::JoinHandle<T>>) -> Vec<T> {
    rt.block_on(async {
        let mut out = Vec::with_capacity(handles.len());
        for handle in handles {
            out.push(handle.await.expect("task failed"));
        }
        out
    })
}

fn mutex_uncontended<M: BenchMutex>(rt: &Handle) {
    let task = rt.spawn(async {
        let mutex = M::new();
        for _ in 0..UNCONTENDED_LOCKS {
            mutex.increment().await;
        }
        mutex.count()
    });
    let [count] = join_all(rt, vec![task])[..] else {
        unreachable!()
    };
    assert_eq!(count, UNCONTENDED_LOCKS as u64);
}

fn mutex_contended<M: BenchMutex>(rt: &Handle) {
    let mutex = Arc::new(M::new());
    let tasks = (0..CONTENDED_TASKS)
        .map(|_| {
            let mutex = mutex.clone();
            rt.spawn(async move {
                for _ in 0..LOCKS_PER_TASK {
                    mutex.increment().await;
                }
            })
        })
        .collect();
    join_all(rt, tasks);
    assert_eq!(mutex.count(), (CONTENDED_TASKS * LOCKS_PER_TASK) as u64);
}

fn semaphore<S: BenchSemaphore>(rt: &Handle) {
    let sem = Arc::new(S::new(SEM_PERMITS));
    let tasks = (0..SEM_TASKS)
        .map(|_| {
            let sem = sem.clone();
            rt.spawn(async move {
                for _ in 0..ACQUIRES_PER_TASK {
                    sem.acquire_and_yield().await;
                }
            })
        })
        .collect();
    join_all(rt, tasks);
}

fn mpsc<C: BenchMpsc>(rt: &Handle, producers: usize) {
    let (tx, mut rx) = C::bounded(MPSC_CAPACITY);
    let per_producer = MPSC_MESSAGES / producers;
    let mut tasks: Vec<_> = (0..producers)
        .map(|_| {
            let tx = tx.clone();
            rt.spawn(async move {
                for i in 0..per_producer {
                    C::send(&tx, i as u64).await;
                }
                0
            })
        })
        .collect();
    drop(tx);
    tasks.push(rt.spawn(async move {
        let mut received = 0;
        while C::recv(&mut rx).await.is_some() {
            received += 1;
        }
        received
    }));
    let received: usize = join_all(rt, tasks).into_iter().sum();
    assert_eq!(received, per_producer * producers);
}

fn oneshot_round_trip<O: BenchOneshot>(rt: &Handle) {
    let (ping_txs, ping_rxs): (Vec<_>, Vec<_>) = (0..ROUND_TRIPS).map(|_| O::oneshot()).unzip();
    let (pong_txs, pong_rxs): (Vec<_>, Vec<_>) = (0..ROUND_TRIPS).map(|_| O::oneshot()).unzip();
    let pinger = rt.spawn(async move {
        for (ping, pong) in ping_txs.into_iter().zip(pong_rxs) {
            O::send(ping);
            pong.await;
        }
    });
    let ponger = rt.spawn(async move {
        for (ping, pong) in ping_rxs.into_iter().zip(pong_txs) {
            ping.await;
            O::send(pong);
        }
    });
    join_all(rt, vec![pinger, ponger]);
}

/// One implementation of one workload.
type Run = fn(&Handle);

/// Every group: its name and `(function name, run)` for each implementation.
fn groups() -> Vec<(&'static str, Vec<(&'static str, Run)>)> {
    use async_lock::{Mutex as AsyncLockMutex, Semaphore as AsyncLockSemaphore};
    use filch::sync::{Mutex as FilchMutex, Semaphore as FilchSemaphore};
    use tokio::sync::{Mutex as TokioMutex, Semaphore as TokioSemaphore};

    vec![
        (
            "mutex_uncontended",
            vec![
                (
                    <FilchMutex<u64>>::NAME,
                    mutex_uncontended::<FilchMutex<u64>>,
                ),
                (
                    <TokioMutex<u64>>::NAME,
                    mutex_uncontended::<TokioMutex<u64>>,
                ),
                (
                    <AsyncLockMutex<u64>>::NAME,
                    mutex_uncontended::<AsyncLockMutex<u64>>,
                ),
            ],
        ),
        (
            "mutex_contended",
            vec![
                (<FilchMutex<u64>>::NAME, mutex_contended::<FilchMutex<u64>>),
                (<TokioMutex<u64>>::NAME, mutex_contended::<TokioMutex<u64>>),
                (
                    <AsyncLockMutex<u64>>::NAME,
                    mutex_contended::<AsyncLockMutex<u64>>,
                ),
            ],
        ),
        (
            "semaphore",
            vec![
                (FilchSemaphore::NAME, semaphore::<FilchSemaphore>),
                (TokioSemaphore::NAME, semaphore::<TokioSemaphore>),
                (AsyncLockSemaphore::NAME, semaphore::<AsyncLockSemaphore>),
            ],
        ),
        (
            "mpsc_1_producer",
            vec![
                (FilchMpsc::NAME, |rt| mpsc::<FilchMpsc>(rt, 1)),
                (TokioMpsc::NAME, |rt| mpsc::<TokioMpsc>(rt, 1)),
                (AsyncChannel::NAME, |rt| mpsc::<AsyncChannel>(rt, 1)),
            ],
        ),
        (
            "mpsc_16_producers",
            vec![
                (FilchMpsc::NAME, |rt| mpsc::<FilchMpsc>(rt, 16)),
                (TokioMpsc::NAME, |rt| mpsc::<TokioMpsc>(rt, 16)),
                (AsyncChannel::NAME, |rt| mpsc::<AsyncChannel>(rt, 16)),
            ],
        ),
        (
            "oneshot_round_trip",
            vec![
                (FilchOneshot::NAME, oneshot_round_trip::<FilchOneshot>),
                (TokioOneshot::NAME, oneshot_round_trip::<TokioOneshot>),
                (FuturesOneshot::NAME, oneshot_round_trip::<FuturesOneshot>),
            ],
        ),
    ]
}

fn runtime() -> filch::runtime::Runtime {
    filch::runtime::Builder::new_multi_thread()
        .worker_threads(num_cpus::get())
        .build()
        .expect("filch runtime")
}

fn bench_all(c: &mut Criterion) {
    for (group_name, functions) in groups() {
        let rt = runtime();
        let handle = rt.handle().clone();
        let mut group = c.benchmark_group(group_name);
        for (name, run) in functions {
            group.bench_function(name, |b| b.iter(|| run(&handle)));
        }
        group.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = sync;
    config = config();
    targets = bench_all
}

/// `SYNC_PROFILE=<group>/<function>[:<iterations>]` (for example
/// `SYNC_PROFILE=mutex_contended/filch:100`): runs that workload that many times (default
/// 100) on one runtime without criterion and exits, so a profiler (`perf record`,
/// `valgrind --tool=callgrind`) sees only the runtime and the workload.
fn profile(spec: &str) {
    let (target, iterations) = match spec.split_once(':') {
        Some((target, iterations)) => (target, iterations.parse().expect("iterations")),
        None => (spec, 100),
    };
    let (group, function) = target
        .split_once('/')
        .expect("SYNC_PROFILE=<group>/<function>[:<iterations>]");
    let run = groups()
        .into_iter()
        .find(|(name, _)| *name == group)
        .unwrap_or_else(|| panic!("unknown group {group:?}"))
        .1
        .into_iter()
        .find(|(name, _)| *name == function)
        .unwrap_or_else(|| panic!("unknown function {function:?} in {group}"))
        .1;
    let rt = runtime();
    let start = std::time::Instant::now();
    let mut times: Vec<Duration> = (0..iterations)
        .map(|_| {
            let start = std::time::Instant::now();
            run(rt.handle());
            start.elapsed()
        })
        .collect();
    let total = start.elapsed();
    times.sort();
    let at = |q: usize| times.get((times.len() * q / 100).min(times.len().saturating_sub(1)));
    eprintln!(
        "{group}/{function}: {iterations} iterations on {} workers in {total:?}; \
         per iteration min {:?}, median {:?}, p90 {:?}, max {:?}",
        num_cpus::get(),
        at(0).copied().unwrap_or_default(),
        at(50).copied().unwrap_or_default(),
        at(90).copied().unwrap_or_default(),
        times.last().copied().unwrap_or_default(),
    );
}

fn main() {
    if let Ok(spec) = std::env::var("SYNC_PROFILE") {
        profile(&spec);
        return;
    }
    // What `criterion_main!(sync)` expands to.
    sync();
    Criterion::default().configure_from_args().final_summary();
}
