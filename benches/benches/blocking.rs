//! Blocking-pool micro-benchmarks: filch's `spawn_blocking` against tokio's and smol's
//! (`blocking::unblock`, the pool behind `smol::unblock`).
//!
//! Runtimes (filch and tokio multi-thread with one worker per CPU, default pool settings)
//! are built once per bench function, outside the timed loop. The bench thread enters each
//! runtime with its `block_on` (`futures_lite::future::block_on` for smol, whose pool needs
//! no executor) and, from there:
//!
//! * `spawn_blocking_many`: spawns [`JOBS`] tiny jobs at once and awaits them all: queueing,
//!   thread growth (first iterations) and wake-ups under a burst.
//! * `blocking_round_trip`: awaits [`HOPS`] tiny jobs one after another: the latency of one
//!   hop to the pool and back, which is what every `filch::fs` call pays.
//!
//! Run: `cargo bench -p filch-benches --bench blocking` (add `-- --quick` for a short run).
//! Results: `docs/performance.md`.
use criterion::{criterion_group, Criterion};
use std::hint::black_box;
use std::time::Duration;

const JOBS: usize = 1_000;
const HOPS: usize = 100;

fn workers() -> usize {
    num_cpus::get()
}

/// The filch and tokio sides of both workloads: one body, over the paths the two runtimes
/// share (`runtime::Builder`, `task::spawn_blocking`).
macro_rules! runtime_side {
    ($side:ident, $rt:ident) => {
        mod $side {
            use super::{workers, HOPS, JOBS};
            use std::hint::black_box;

            pub fn runtime() -> $rt::runtime::Runtime {
                $rt::runtime::Builder::new_multi_thread()
                    .worker_threads(workers())
                    .build()
                    .expect("runtime")
            }

            pub async fn spawn_blocking_many() {
                let jobs: Vec<_> = (0..JOBS)
                    .map(|i| $rt::task::spawn_blocking(move || black_box(i)))
                    .collect();
                for job in jobs {
                    black_box(job.await.expect("job"));
                }
            }

            pub async fn blocking_round_trip() {
                for i in 0..HOPS {
                    let job = $rt::task::spawn_blocking(move || black_box(i));
                    black_box(job.await.expect("job"));
                }
            }
        }
    };
}

runtime_side!(filch_side, filch);
runtime_side!(tokio_side, tokio);

fn spawn_blocking_many(c: &mut Criterion) {
    let mut group = c.benchmark_group("spawn_blocking_many");

    let filch = filch_side::runtime();
    group.bench_function("filch", |b| {
        b.iter(|| filch.block_on(filch_side::spawn_blocking_many()))
    });
    drop(filch);

    let tokio = tokio_side::runtime();
    group.bench_function("tokio", |b| {
        b.iter(|| tokio.block_on(tokio_side::spawn_blocking_many()))
    });
    drop(tokio);

    group.bench_function("smol", |b| {
        b.iter(|| {
            futures_lite::future::block_on(async {
                let jobs: Vec<_> = (0..JOBS)
                    .map(|i| blocking::unblock(move || black_box(i)))
                    .collect();
                for job in jobs {
                    black_box(job.await);
                }
            })
        })
    });

    group.finish();
}

fn blocking_round_trip(c: &mut Criterion) {
    let mut group = c.benchmark_group("blocking_round_trip");

    let filch = filch_side::runtime();
    group.bench_function("filch", |b| {
        b.iter(|| filch.block_on(filch_side::blocking_round_trip()))
    });
    drop(filch);

    let tokio = tokio_side::runtime();
    group.bench_function("tokio", |b| {
        b.iter(|| tokio.block_on(tokio_side::blocking_round_trip()))
    });
    drop(tokio);

    group.bench_function("smol", |b| {
        b.iter(|| {
            futures_lite::future::block_on(async {
                for i in 0..HOPS {
                    black_box(blocking::unblock(move || black_box(i)).await);
                }
            })
        })
    });

    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = blocking_pool;
    config = config();
    targets = spawn_blocking_many, blocking_round_trip
}

fn main() {
    // What `criterion_main!(blocking_pool)` expands to.
    blocking_pool();
    Criterion::default().configure_from_args().final_summary();
}
