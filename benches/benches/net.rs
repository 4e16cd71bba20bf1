//! Networking and timer benchmarks: filch against tokio and smol.
//!
//! Runtimes (built once per bench function, outside the timed loop), each with one worker
//! thread per CPU (`num_cpus::get()`):
//!
//! * `filch`: `filch::runtime::Builder::new_multi_thread().worker_threads(n)`; sockets are
//!   `filch::net`, timers `filch::time::sleep`.
//! * `tokio`: `tokio::runtime::Builder::new_multi_thread().worker_threads(n).enable_all()`;
//!   `tokio::net`, `tokio::time::sleep`.
//! * `smol`: an `async_executor::Executor` run by `n` threads, each in
//!   `async_io::block_on(executor.run(..))` (what `smol`'s global executor does, so the
//!   workers drive async-io's reactor themselves); sockets are `async-net`, timers
//!   `async_io::Timer`.
//!
//! Every iteration runs the workload inside one root task, awaited from the bench thread
//! (which does not run tasks or drive I/O for any of the three).
//!
//! * `tcp_echo`: a listener on loopback; [`CLIENTS`] client tasks each connect and do
//!   [`ROUNDS`] round trips of [`MSG`] bytes (`write_all`, then `read_exact` of the echo);
//!   the server runs one task per connection. `TCP_NODELAY` on both ends. Setup (bind and
//!   50 connects) is inside the iteration for all three.
//! * `timers`: [`TIMER_TASKS`] tasks each sleep 1 ms; the root awaits them all.
//! * `timeouts`: [`TIMEOUT_TASKS`] tasks spread over the workers, each putting a 5 s timeout
//!   around [`TIMEOUTS_PER_TASK`] operations that finish first (one `yield_now`): a timer
//!   registered and cancelled per operation, from every worker at once, which is what a
//!   server's per-request deadlines do to the timer wheel. 64,000 timers per iteration.
//!
//! Run: `cargo bench -p filch-benches --bench net` (`-- tcp_echo` to filter). Results:
//! `docs/performance.md`. `NET_PROFILE=<tcp_echo|timers>/<filch|tokio|smol>[:<iters>]` runs
//! one workload without criterion, for `perf record`.
use criterion::{criterion_group, Criterion};
use std::future::Future;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

const CLIENTS: usize = 50;
const ROUNDS: usize = 1_000;
const MSG: usize = 64;
const TIMER_TASKS: usize = 10_000;
const TIMEOUT_TASKS: usize = 64;
const TIMEOUTS_PER_TASK: usize = 1_000;
const TIMEOUT: Duration = Duration::from_secs(5);

fn workers() -> usize {
    num_cpus::get()
}

/// The three runtimes behind one interface: run a root future to completion.
trait Runtime {
    fn run<F>(&self, future: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;
}

struct Filch(filch::runtime::Runtime);

impl Filch {
    fn new() -> Self {
        Self(
            filch::runtime::Builder::new_multi_thread()
                .worker_threads(workers())
                .build()
                .unwrap(),
        )
    }
}

impl Runtime for Filch {
    fn run<F>(&self, future: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let task = self.0.spawn(future);
        self.0.block_on(task).unwrap()
    }
}

struct Tokio(tokio::runtime::Runtime);

impl Tokio {
    fn new() -> Self {
        Self(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers())
                .enable_all()
                .build()
                .unwrap(),
        )
    }
}

impl Runtime for Tokio {
    fn run<F>(&self, future: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let task = self.0.spawn(future);
        self.0.block_on(task).unwrap()
    }
}

struct Smol {
    ex: Arc<async_executor::Executor<'static>>,
    stop: Option<async_channel::Sender<()>>,
    threads: Vec<thread::JoinHandle<()>>,
}

impl Smol {
    fn new() -> Self {
        let ex = Arc::new(async_executor::Executor::new());
        let (stop, stopped) = async_channel::bounded::<()>(1);
        let threads = (0..workers())
            .map(|i| {
                let ex = ex.clone();
                let stopped = stopped.clone();
                thread::Builder::new()
                    .name(format!("smol-{i}"))
                    .spawn(move || {
                        async_io::block_on(ex.run(async {
                            let _ = stopped.recv().await;
                        }));
                    })
                    .unwrap()
            })
            .collect();
        Self {
            ex,
            stop: Some(stop),
            threads,
        }
    }
}

impl Runtime for Smol {
    fn run<F>(&self, future: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        // The bench thread only waits (futures-lite's `block_on` does not drive the
        // reactor), as with filch and tokio.
        futures_lite::future::block_on(self.ex.spawn(future))
    }
}

impl Drop for Smol {
    fn drop(&mut self) {
        // Closing the channel ends every worker's `run`.
        drop(self.stop.take());
        for thread in self.threads.drain(..) {
            thread.join().unwrap();
        }
    }
}

/// The filch and tokio sides of every workload: one body, written against the paths the
/// two runtimes share (`spawn`, `time`, `task::yield_now`, `net`, `io`).
macro_rules! runtime_side {
    ($side:ident, $rt:ident) => {
        mod $side {
            use super::{
                CLIENTS, MSG, ROUNDS, TIMEOUT, TIMEOUTS_PER_TASK, TIMEOUT_TASKS, TIMER_TASKS,
            };
            use std::time::Duration;
            use $rt::io::{AsyncReadExt, AsyncWriteExt};
            use $rt::net::{TcpListener, TcpStream};

            pub async fn tcp_echo() {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let server = $rt::spawn(async move {
                    for _ in 0..CLIENTS {
                        let (mut socket, _) = listener.accept().await.unwrap();
                        socket.set_nodelay(true).unwrap();
                        $rt::spawn(async move {
                            let mut buf = [0u8; MSG];
                            while socket.read_exact(&mut buf).await.is_ok() {
                                socket.write_all(&buf).await.unwrap();
                            }
                        });
                    }
                });
                let clients: Vec<_> = (0..CLIENTS)
                    .map(|_| {
                        $rt::spawn(async move {
                            let mut socket = TcpStream::connect(addr).await.unwrap();
                            socket.set_nodelay(true).unwrap();
                            let mut buf = [0u8; MSG];
                            for _ in 0..ROUNDS {
                                socket.write_all(&[7u8; MSG]).await.unwrap();
                                socket.read_exact(&mut buf).await.unwrap();
                            }
                        })
                    })
                    .collect();
                for client in clients {
                    client.await.unwrap();
                }
                server.await.unwrap();
            }

            pub async fn timers() {
                let tasks: Vec<_> = (0..TIMER_TASKS)
                    .map(|_| $rt::spawn($rt::time::sleep(Duration::from_millis(1))))
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
            }

            pub async fn timeouts() {
                let tasks: Vec<_> = (0..TIMEOUT_TASKS)
                    .map(|_| {
                        $rt::spawn(async {
                            for _ in 0..TIMEOUTS_PER_TASK {
                                $rt::time::timeout(TIMEOUT, $rt::task::yield_now())
                                    .await
                                    .expect("the operation finishes first");
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
            }
        }
    };
}

runtime_side!(filch_side, filch);
runtime_side!(tokio_side, tokio);

mod smol_side {
    use super::{CLIENTS, MSG, ROUNDS, TIMEOUT, TIMEOUTS_PER_TASK, TIMEOUT_TASKS, TIMER_TASKS};
    use async_executor::Executor;
    use async_net::{TcpListener, TcpStream};
    use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
    use std::sync::Arc;
    use std::time::Duration;

    pub async fn tcp_echo(ex: Arc<Executor<'static>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server_ex = ex.clone();
        let server = ex.spawn(async move {
            for _ in 0..CLIENTS {
                let (mut socket, _) = listener.accept().await.unwrap();
                socket.set_nodelay(true).unwrap();
                server_ex
                    .spawn(async move {
                        let mut buf = [0u8; MSG];
                        while socket.read_exact(&mut buf).await.is_ok() {
                            socket.write_all(&buf).await.unwrap();
                        }
                    })
                    .detach();
            }
        });
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                ex.spawn(async move {
                    let mut socket = TcpStream::connect(addr).await.unwrap();
                    socket.set_nodelay(true).unwrap();
                    let mut buf = [0u8; MSG];
                    for _ in 0..ROUNDS {
                        socket.write_all(&[7u8; MSG]).await.unwrap();
                        socket.read_exact(&mut buf).await.unwrap();
                    }
                })
            })
            .collect();
        for client in clients {
            client.await;
        }
        server.await;
    }

    pub async fn timers(ex: Arc<Executor<'static>>) {
        let tasks: Vec<_> = (0..TIMER_TASKS)
            .map(|_| {
                ex.spawn(async {
                    async_io::Timer::after(Duration::from_millis(1)).await;
                })
            })
            .collect();
        for task in tasks {
            task.await;
        }
    }

    pub async fn timeouts(ex: Arc<Executor<'static>>) {
        let tasks: Vec<_> = (0..TIMEOUT_TASKS)
            .map(|_| {
                ex.spawn(async {
                    for _ in 0..TIMEOUTS_PER_TASK {
                        let done = futures_lite::future::or(
                            async {
                                futures_lite::future::yield_now().await;
                                true
                            },
                            async {
                                async_io::Timer::after(TIMEOUT).await;
                                false
                            },
                        )
                        .await;
                        assert!(done, "the operation finishes first");
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await;
        }
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
}

/// The criterion group of one workload: the same body (`<runtime>_side::$workload`) on
/// filch, tokio and smol, in one run.
macro_rules! workload_group {
    ($workload:ident) => {
        fn $workload(c: &mut Criterion) {
            let mut group = c.benchmark_group(stringify!($workload));
            {
                let rt = Filch::new();
                group.bench_function("filch", |b| b.iter(|| rt.run(filch_side::$workload())));
            }
            {
                let rt = Tokio::new();
                group.bench_function("tokio", |b| b.iter(|| rt.run(tokio_side::$workload())));
            }
            {
                let rt = Smol::new();
                group.bench_function("smol", |b| {
                    b.iter(|| rt.run(smol_side::$workload(rt.ex.clone())))
                });
            }
            group.finish();
        }
    };
}

workload_group!(tcp_echo);
workload_group!(timers);
workload_group!(timeouts);

criterion_group! {
    name = net;
    config = config();
    targets = tcp_echo, timers, timeouts
}

/// The `NET_PROFILE` runs: `"<workload>/<runtime>"` runs that workload's body on that
/// runtime `iterations` times.
macro_rules! profile_workloads {
    ($what:expr, $iterations:expr, $($workload:ident),*) => {
        match $what {
            $(
                concat!(stringify!($workload), "/filch") => {
                    let rt = Filch::new();
                    (0..$iterations).for_each(|_| rt.run(filch_side::$workload()));
                }
                concat!(stringify!($workload), "/tokio") => {
                    let rt = Tokio::new();
                    (0..$iterations).for_each(|_| rt.run(tokio_side::$workload()));
                }
                concat!(stringify!($workload), "/smol") => {
                    let rt = Smol::new();
                    (0..$iterations).for_each(|_| rt.run(smol_side::$workload(rt.ex.clone())));
                }
            )*
            other => panic!("unknown NET_PROFILE workload {other:?}"),
        }
    };
}

/// `NET_PROFILE=<workload>/<runtime>[:<iterations>]` (default 20 iterations).
fn profile(spec: &str) {
    let (what, iterations) = match spec.split_once(':') {
        Some((what, n)) => (what, n.parse().expect("iterations")),
        None => (spec, 20usize),
    };
    let start = std::time::Instant::now();
    profile_workloads!(what, iterations, tcp_echo, timers, timeouts);
    let per = start.elapsed() / iterations as u32;
    println!("{what}: {iterations} iterations, {per:?} each");
}

fn main() {
    if let Ok(spec) = std::env::var("NET_PROFILE") {
        profile(&spec);
        return;
    }
    net();
    Criterion::default().configure_from_args().final_summary();
}
