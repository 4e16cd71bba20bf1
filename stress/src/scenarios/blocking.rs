//! `blocking`: bursts of `spawn_blocking` jobs (compute, short thread sleeps, and jobs
//! that spawn onto the runtime from the pool thread), from tasks and from the handle.
//! Invariant: every job runs once and its result reaches its `JoinHandle`.
use super::join_all;
use crate::ctx::Ctx;
use std::time::Duration;

pub(crate) async fn run(mut ctx: Ctx) {
    let burst = ctx.rng().u64(8..=256);
    ctx.set_params(format!("{burst} blocking jobs per burst"));
    while !ctx.is_stopped() {
        let mut handles = Vec::new();
        for i in 0..burst {
            let kind = ctx.rng().u8(0..3);
            let nap = Duration::from_micros(ctx.rng().u64(0..1_000));
            ctx.count_spawn(1);
            let h = match kind {
                0 => filch::task::spawn_blocking(move || (0..=i).sum::<u64>()),
                1 => ctx.handle().spawn_blocking(move || {
                    std::thread::sleep(nap);
                    i * (i + 1) / 2
                }),
                _ => {
                    let c = ctx.clone();
                    filch::task::spawn_blocking(move || {
                        // Spawn onto the runtime from the pool thread, and wait for it here.
                        let inner = c.spawn(async move { (0..=i).sum::<u64>() });
                        c.handle().block_on(inner).unwrap_or_else(|e| {
                            c.violation(format!("task spawned from a blocking job failed: {e}"));
                            i * (i + 1) / 2
                        })
                    })
                }
            };
            handles.push(h);
        }
        let results = join_all(&ctx, "blocking job", handles).await;
        for (i, r) in results.iter().enumerate() {
            let i = i as u64;
            ctx.ensure(*r == i * (i + 1) / 2, || {
                format!("blocking job {i} returned {r}")
            });
        }
        ctx.progress(burst);
    }
}
