//! `abort-storm`: tasks of four kinds (pending forever, yielding, sleeping, waiting on a
//! oneshot) are aborted at random, some before their first poll, some detached. Invariants:
//! an aborted task resolves as cancelled (or with its output if it finished first, never a
//! panic); by the time its `JoinHandle` resolves the future is already dropped; a task that
//! can never finish is never `Ok`; and every future is dropped exactly once
//! (`DropLedger`), checked after each round and at the end.
use crate::ctx::Ctx;
use crate::ledger::DropLedger;
use crate::scenario::Scenario;
use filch::time::{Duration, Instant};
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub(crate) fn scenario() -> Scenario {
    let ledger = DropLedger::new();
    let l = ledger.clone();
    Scenario::new("abort-storm", move |ctx| run(ctx, l)).check(move || ledger.balanced())
}

async fn run(mut ctx: Ctx, ledger: Arc<DropLedger>) {
    let tasks = ctx.rng().usize(16..=256);
    let abort_pct = ctx.rng().u32(30..=90);
    ctx.set_params(format!(
        "{tasks} tasks per round, {abort_pct}% of finishable ones aborted"
    ));
    while !ctx.is_stopped() {
        let mut senders = Vec::new();
        let mut live = Vec::new();
        for i in 0..tasks {
            let guard = ledger.track();
            let dropped = guard.dropped_flag();
            let kind = ctx.rng().u8(0..4);
            let yields = ctx.rng().u32(0..20);
            let nap = Duration::from_micros(ctx.rng().u64(0..3_000));
            let handle = match kind {
                0 => ctx.spawn(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await;
                    i
                }),
                1 => ctx.spawn(async move {
                    let _guard = guard;
                    for _ in 0..yields {
                        filch::task::yield_now().await;
                    }
                    i
                }),
                2 => ctx.spawn(async move {
                    let _guard = guard;
                    filch::time::sleep(nap).await;
                    i
                }),
                _ => {
                    let (tx, rx) = filch::sync::oneshot::channel::<()>();
                    senders.push(tx);
                    ctx.spawn(async move {
                        let _guard = guard;
                        let _ = rx.await;
                        i
                    })
                }
            };
            let abort = kind == 0 || ctx.rng().u32(0..100) < abort_pct;
            if abort && ctx.rng().bool() {
                handle.abort(); // before its first poll, most of the time
            }
            if !abort && kind != 0 && kind != 3 && ctx.rng().u32(0..8) == 0 {
                drop(handle); // detached: must still run to completion and drop
                continue;
            }
            live.push((i, kind, abort, handle, dropped));
        }
        // Let some run, then abort the rest of the chosen ones mid-flight.
        for _ in 0..ctx.rng().u32(0..4) {
            filch::task::yield_now().await;
        }
        for (_, _, abort, handle, _) in &live {
            if *abort {
                handle.abort();
            }
        }
        drop(senders); // kind-3 tasks not aborted now finish (their oneshot closes)
        for (i, kind, abort, handle, dropped) in live {
            match handle.await {
                Ok(v) => {
                    ctx.ensure(kind != 0, || {
                        format!("task {i} that never finishes returned Ok")
                    });
                    ctx.ensure(v == i, || format!("task {i} returned {v}"));
                }
                Err(e) if e.is_cancelled() => {
                    ctx.ensure(abort, || format!("task {i} cancelled without an abort"));
                    ctx.ensure(dropped.load(Ordering::Acquire), || {
                        format!(
                            "task {i}: aborted JoinHandle resolved before the future was dropped"
                        )
                    });
                }
                Err(e) => ctx.violation(format!("task {i} (kind {kind}) failed: {e}")),
            }
            ctx.progress(1);
        }
        // Detached tasks finish on their own; give them a bounded time.
        let since = Instant::now();
        while ledger.dropped() < ledger.created() && since.elapsed() < Duration::from_secs(5) {
            filch::time::sleep(Duration::from_millis(1)).await;
        }
        if let Err(msg) = ledger.balanced() {
            ctx.violation(format!("after a round: {msg}"));
            return;
        }
    }
}
