//! `yield-storm`: many tasks that do nothing but `yield_now`. Invariant: every task
//! finishes every yield (a yielding task is rescheduled, never lost), and the probe shows
//! whether yielders starve a woken task.
use super::join_all;
use crate::ctx::Ctx;

pub(crate) async fn run(mut ctx: Ctx) {
    let tasks = ctx.rng().u64(4..=64);
    let yields = ctx.rng().u64(100..=2_000);
    ctx.set_params(format!("{tasks} tasks x {yields} yields per round"));
    while !ctx.is_stopped() {
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let ctx = ctx.clone();
                ctx.clone().spawn(async move {
                    let mut done = 0u64;
                    for i in 0..yields {
                        filch::task::yield_now().await;
                        done += 1;
                        if i % 64 == 63 {
                            ctx.progress(64);
                        }
                    }
                    done
                })
            })
            .collect();
        for done in join_all(&ctx, "yield storm", handles).await {
            ctx.ensure(done == yields, || {
                format!("a yielder did {done} of {yields} yields")
            });
        }
    }
}
