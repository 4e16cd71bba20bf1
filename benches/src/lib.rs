//! Criterion benchmarks comparing filch with tokio and smol live in `benches/`.
