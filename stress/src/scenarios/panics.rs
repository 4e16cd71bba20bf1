//! `panics`: tasks that panic at a random await point, with `&str` and `String`
//! payloads, next to tasks that return. Invariants: a panicking task's `JoinError` is
//! `is_panic()` with its payload intact; the others return their output; the panicking
//! future is dropped exactly once (`DropLedger`); the workers keep running tasks afterwards
//! (and the harness's global check sees no worker thread exit).
use super::join_all;
use crate::ctx::Ctx;
use crate::harness::PLANNED_PANIC;
use crate::ledger::DropLedger;
use crate::scenario::Scenario;
use std::sync::Arc;

pub(crate) fn scenario() -> Scenario {
    let ledger = DropLedger::new();
    let l = ledger.clone();
    Scenario::new("panics", move |ctx| run(ctx, l)).check(move || ledger.balanced())
}

async fn run(mut ctx: Ctx, ledger: Arc<DropLedger>) {
    let tasks = ctx.rng().u64(8..=128);
    let panic_pct = ctx.rng().u32(10..=90);
    ctx.set_params(format!("{tasks} tasks per round, {panic_pct}% panic"));
    while !ctx.is_stopped() {
        let mut handles = Vec::new();
        for i in 0..tasks {
            let panics = ctx.rng().u32(0..100) < panic_pct;
            let yields = ctx.rng().u32(0..4);
            let string_payload = ctx.rng().bool();
            let guard = ledger.track();
            let h = ctx.spawn(async move {
                let _guard = guard;
                for _ in 0..yields {
                    filch::task::yield_now().await;
                }
                if panics {
                    if string_payload {
                        std::panic::panic_any(format!("{PLANNED_PANIC} #{i}"));
                    } else {
                        std::panic::panic_any(PLANNED_PANIC);
                    }
                }
                i
            });
            handles.push((i, panics, string_payload, h));
        }
        for (i, panics, string_payload, h) in handles {
            match h.await {
                Ok(v) => {
                    ctx.ensure(!panics, || {
                        format!("task {i} should have panicked, returned {v}")
                    });
                    ctx.ensure(v == i, || format!("task {i} returned {v}"));
                }
                Err(e) if e.is_panic() => {
                    ctx.ensure(panics, || format!("task {i} panicked unexpectedly"));
                    let payload = e.into_panic();
                    let ok = if string_payload {
                        payload
                            .downcast_ref::<String>()
                            .is_some_and(|s| *s == format!("{PLANNED_PANIC} #{i}"))
                    } else {
                        payload
                            .downcast_ref::<&str>()
                            .is_some_and(|s| *s == PLANNED_PANIC)
                    };
                    ctx.ensure(ok, || format!("task {i}: panic payload lost or altered"));
                }
                Err(e) => ctx.violation(format!("task {i}: unexpected {e}")),
            }
            ctx.progress(1);
        }
        // Every worker still runs tasks: a burst that needs them all completes.
        let after: Vec<_> = (0..ctx.workers() * 4)
            .map(|k| ctx.spawn(async move { k }))
            .collect();
        let n = join_all(&ctx, "post-panic burst", after).await.len();
        ctx.ensure(n == ctx.workers() * 4, || {
            format!("post-panic burst: {n} tasks returned")
        });
        if let Err(msg) = ledger.balanced() {
            ctx.violation(format!("after a round: {msg}"));
            return;
        }
    }
}
