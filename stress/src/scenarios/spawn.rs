//! `spawn-storm`: nested spawn trees from inside the runtime, and bursts of spawns from a
//! plain thread outside it. Invariant: every spawned task runs exactly once and its
//! output reaches its `JoinHandle`.
use super::join_all;
use crate::ctx::Ctx;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

fn tree(ctx: Ctx, depth: u32, fanout: u32) -> Pin<Box<dyn Future<Output = u64> + Send>> {
    Box::pin(async move {
        if depth == 0 {
            ctx.progress(1);
            return 1;
        }
        let children: Vec<_> = (0..fanout)
            .map(|_| ctx.spawn(tree(ctx.clone(), depth - 1, fanout)))
            .collect();
        let sum: u64 = join_all(&ctx, "spawn tree", children).await.iter().sum();
        ctx.progress(1);
        sum + 1
    })
}

pub(crate) async fn run(mut ctx: Ctx) {
    let depth = ctx.rng().u32(2..=4);
    let fanout = ctx.rng().u32(2..=4);
    let outside = ctx.rng().u64(50..=400);
    ctx.set_params(format!(
        "tree depth {depth} fanout {fanout}; {outside} spawns per burst from a plain thread"
    ));
    let expected_tree: u64 = (0..=depth).map(|d| u64::from(fanout).pow(d)).sum();
    while !ctx.is_stopped() {
        let got = tree(ctx.clone(), depth, fanout).await;
        ctx.ensure(got == expected_tree, || {
            format!("spawn tree counted {got} tasks, expected {expected_tree}")
        });

        // A burst of spawns from outside the runtime, joined from that thread.
        let ran = Arc::new(AtomicU64::new(0));
        let (tx, rx) = filch::sync::oneshot::channel();
        let handle = ctx.handle().clone();
        let thread_ctx = ctx.clone();
        let ran2 = ran.clone();
        let thread = std::thread::spawn(move || {
            let handles: Vec<_> = (0..outside)
                .map(|i| {
                    let ran = ran2.clone();
                    thread_ctx.count_spawn(1);
                    handle.spawn(async move {
                        ran.fetch_add(1, Ordering::Relaxed);
                        i
                    })
                })
                .collect();
            let sum = handle.block_on(async {
                let mut sum = 0u64;
                for h in handles {
                    match h.await {
                        Ok(i) => sum += i,
                        Err(e) => thread_ctx.violation(format!("outside spawn failed: {e}")),
                    }
                }
                sum
            });
            let _ = tx.send(sum);
        });
        match rx.await {
            Ok(sum) => {
                let want = outside * (outside - 1) / 2;
                ctx.ensure(sum == want, || {
                    format!("outside burst: sum of outputs {sum}, expected {want}")
                });
                let n = ran.load(Ordering::Relaxed);
                ctx.ensure(n == outside, || {
                    format!("outside burst: {n} tasks ran, expected {outside}")
                });
            }
            Err(_) => ctx.violation("outside spawner thread died"),
        }
        let _ = thread.join();
        ctx.progress(outside);
    }
}
