//! Benchmarks comparing filch with tokio and smol (`async-executor`) live in `benches/`:
//!
//! * `scheduler`: criterion groups `spawn_many_local`, `spawn_many_remote`, `yield_many`,
//!   `ping_pong` and `chained_spawn`, each with the functions `filch`, `tokio` and `smol`.
//! * `idle`: CPU time burned by an idle runtime.
//!
//! Results and their analysis: `docs/performance.md`.
