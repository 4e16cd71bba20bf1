//! Benchmarks comparing filch with tokio and smol (`async-executor`) live in `benches/`:
//!
//! * `scheduler`: criterion groups `spawn_many_local`, `spawn_many_remote`, `yield_many`,
//!   `ping_pong` and `chained_spawn`, each with the functions `filch`, `tokio` and `smol`.
//! * `sync`: filch-sync's primitives against tokio's and async-lock's, on filch's runtime.
//! * `blocking`: the blocking pool (`spawn_blocking_many`, `blocking_round_trip`).
//! * `net`: `tcp_echo` and `timers` (throughput).
//! * `idle`: CPU time burned by an idle runtime.
//!
//! And three measurements that are not criterion's kind (each prints a table):
//!
//! * `examples/task_memory.rs`: resident memory per idle task.
//! * `examples/timer_lateness.rs`: how late 1 ms sleeps wake (p50, p99, max).
//! * `http.sh` with `examples/hyper_hello.rs`: hyper hello-world under wrk, requests/s.
//!
//! Results and their analysis: `docs/performance.md`.
