//! `runtime-churn`: plain threads build a runtime (multi-thread with 1–2 workers, or
//! current-thread), spawn tasks from inside and outside it (finishing ones, ones pending
//! forever, hour-long sleeps, tasks waiting on each other, a blocking job), run some to
//! completion, and drop the runtime. Invariant: once `drop(runtime)` returns, every future
//! ever spawned on it has been dropped exactly once (`DropLedger`), and the drop returns.
use crate::ctx::Ctx;
use crate::harness::expect_timer_shutdown_panics;
use crate::ledger::DropLedger;
use crate::scenario::Scenario;
use std::sync::Arc;
use std::time::Duration;

pub(crate) fn scenario() -> Scenario {
    let ledger = DropLedger::new();
    let l = ledger.clone();
    Scenario::new("runtime-churn", move |ctx| run(ctx, l)).check(move || ledger.balanced())
}

/// One runtime's life on the calling (plain) thread.
fn one_runtime(mut ctx: Ctx, ledger: &Arc<DropLedger>, tasks: usize) -> Result<(), String> {
    let local = DropLedger::new();
    let multi = ctx.rng().bool();
    // Its hour-long sleeps may be in their first poll when it shuts down: they panic then,
    // as `filch::time` documents (and their handles are dropped): keep that off stderr.
    expect_timer_shutdown_panics();
    let rt = if multi {
        filch::runtime::Builder::new_multi_thread()
            .worker_threads(ctx.rng().usize(1..=2))
            .thread_name("filch-stress-churn")
            .on_thread_start(expect_timer_shutdown_panics)
            .build()
    } else {
        filch::runtime::Builder::new_current_thread().build()
    }
    .map_err(|e| format!("build a runtime: {e}"))?;
    let mut finishing = Vec::new();
    let mut senders = Vec::new();
    for i in 0..tasks {
        let guard = local.track();
        let outer = ledger.track();
        match ctx.rng().u8(0..5) {
            0 => finishing.push(rt.spawn(async move {
                let _g = (guard, outer);
                filch::task::yield_now().await;
                i
            })),
            1 => drop(rt.spawn(async move {
                let _g = (guard, outer);
                std::future::pending::<()>().await;
            })),
            2 => drop(rt.handle().spawn(async move {
                let _g = (guard, outer);
                filch::time::sleep(Duration::from_secs(3600)).await;
            })),
            3 => {
                // Waits on a sender held by another pending task: a cycle only shutdown ends.
                let (tx, rx) = filch::sync::oneshot::channel::<()>();
                let keeper = local.track();
                drop(rt.spawn(async move {
                    let _g = (guard, outer);
                    let _ = rx.await;
                }));
                drop(rt.spawn(async move {
                    let _k = (keeper, tx);
                    std::future::pending::<()>().await;
                }));
            }
            _ => {
                let (tx, rx) = filch::sync::oneshot::channel::<()>();
                senders.push(tx);
                drop(rt.spawn(async move {
                    let _g = (guard, outer);
                    let _ = rx.await;
                }));
            }
        }
    }
    ctx.count_spawn(local.created());
    let blocking = rt.spawn_blocking(|| 7u8);
    ctx.count_spawn(1);
    let results = rt.block_on(async move {
        let mut out = Vec::new();
        for h in finishing {
            out.push(h.await.map_err(|e| e.to_string()));
        }
        out.push(blocking.await.map(usize::from).map_err(|e| e.to_string()));
        out
    });
    for r in results {
        r.map_err(|e| format!("a finishing task failed: {e}"))?;
    }
    if ctx.rng().bool() {
        drop(senders); // some of the waiters finish before shutdown, racing it
    }
    if ctx.rng().bool() {
        rt.shutdown_timeout(Duration::from_secs(5));
    } else {
        drop(rt);
    }
    local.balanced().map_err(|e| {
        format!(
            "after dropping a {} runtime: {e}",
            if multi {
                "multi-thread"
            } else {
                "current-thread"
            }
        )
    })
}

async fn run(mut ctx: Ctx, ledger: Arc<DropLedger>) {
    let threads = ctx.rng().usize(1..=2);
    let tasks = ctx.rng().usize(4..=64);
    let per_thread = ctx.rng().usize(1..=8);
    ctx.set_params(format!(
        "{threads} thread(s) x {per_thread} runtimes x {tasks} tasks per round"
    ));
    while !ctx.is_stopped() {
        let mut waits = Vec::new();
        for _ in 0..threads {
            let mut c = ctx.fork();
            let ledger = ledger.clone();
            let (tx, rx) = filch::sync::oneshot::channel();
            std::thread::spawn(move || {
                let mut result = Ok(());
                for _ in 0..per_thread {
                    let child = c.fork();
                    result = one_runtime(child, &ledger, tasks);
                    c.progress(1);
                    if result.is_err() {
                        break;
                    }
                }
                let _ = tx.send(result);
            });
            waits.push(rx);
        }
        for rx in waits {
            match rx.await {
                Ok(Ok(())) => {}
                Ok(Err(msg)) => ctx.violation(msg),
                Err(_) => ctx.violation("a churn thread died (panicked) before reporting"),
            }
        }
    }
}
