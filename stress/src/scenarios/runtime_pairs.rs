//! `runtime-pairs`: two runtimes live side by side in the process, started at the same
//! moment on two plain threads. One is a multi-thread runtime (1–3 workers) whose tasks
//! call `block_in_place` (blocking on the runtime from inside the closure) and
//! `spawn_blocking` (in a third of the rounds, one closure also waits on a `std` channel
//! whose sender an idle task holds, which only the shutdown releases); the other (either
//! flavor) spawns finishing, forever-pending and sleeping tasks, blocks on some, and is
//! dropped while the first is still busy. Then the first is dropped too.
//!
//! What it hunts: state shared between runtimes that should not be (thread-locals that
//! survive a `block_in_place` hand-off, process-wide registries, the signal pipe, blocking
//! threads): a tokio test pair run in one process hung this way before. Invariants: both
//! runtimes' lives end within [`BOUND`] (a hang is reported with which side was stuck), and
//! every future either spawned was dropped exactly once (`DropLedger`).
use super::shutdown::BOUND;
use crate::alarm::within;
use crate::ctx::Ctx;
use crate::harness::expect_timer_shutdown_panics;
use crate::ledger::DropLedger;
use crate::scenario::Scenario;
use filch::runtime::{Builder, Handle};
use std::sync::{Arc, Barrier};
use std::time::Duration;

pub(crate) fn scenario() -> Scenario {
    let ledger = DropLedger::new();
    let l = ledger.clone();
    Scenario::new("runtime-pairs", move |ctx| run(ctx, l)).check(move || ledger.balanced())
}

async fn run(mut ctx: Ctx, ledger: Arc<DropLedger>) {
    let tasks = ctx.rng().usize(2..=12);
    ctx.set_params(format!("{tasks} tasks per runtime per round"));
    let mut round = 0u64;
    while !ctx.is_stopped() {
        round += 1;
        let start = Arc::new(Barrier::new(2));
        let (a_tx, a_rx) = filch::sync::oneshot::channel();
        let (b_tx, b_rx) = filch::sync::oneshot::channel();
        let (a_ctx, b_ctx) = (ctx.fork(), ctx.fork());
        let (a_ledger, b_ledger) = (ledger.clone(), ledger.clone());
        let (a_start, b_start) = (start.clone(), start);
        let spawned = std::thread::Builder::new()
            .name("fs-pairs-a".into())
            .spawn(move || {
                let result = blocking_side(a_ctx, &a_ledger, tasks, &a_start);
                let _ = a_tx.send(result);
            })
            .and_then(|_| {
                std::thread::Builder::new()
                    .name("fs-pairs-b".into())
                    .spawn(move || {
                        let result = spawning_side(b_ctx, &b_ledger, tasks, &b_start);
                        let _ = b_tx.send(result);
                    })
            });
        if let Err(e) = spawned {
            ctx.violation(format!("start a thread: {e}"));
            return;
        }
        for (side, rx) in [("block_in_place side", a_rx), ("spawning side", b_rx)] {
            match within(BOUND, rx).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => ctx.violation(format!("round {round}, {side}: {e}")),
                Ok(Err(_)) => {
                    ctx.violation(format!("round {round}, {side}: its thread panicked"));
                    return;
                }
                Err(_) => {
                    ctx.violation(format!(
                        "round {round}, {side}: still running after {BOUND:?} (hang)"
                    ));
                    return;
                }
            }
        }
        ctx.progress(1);
    }
}

/// A multi-thread runtime whose tasks block in place and hand work to the blocking pool.
fn blocking_side(
    mut ctx: Ctx,
    ledger: &Arc<DropLedger>,
    tasks: usize,
    start: &Barrier,
) -> Result<(), String> {
    expect_timer_shutdown_panics();
    let rt = Builder::new_multi_thread()
        .worker_threads(ctx.rng().usize(1..=3))
        .thread_name("fs-pairs-bip")
        .on_thread_start(expect_timer_shutdown_panics)
        .build()
        .map_err(|e| format!("build a runtime: {e}"))?;
    start.wait();
    let mut handles = Vec::new();
    for i in 0..tasks {
        let guard = ledger.track();
        let nap = Duration::from_micros(ctx.rng().u64(0..3_000));
        handles.push(rt.spawn(async move {
            let _guard = guard;
            let inner = filch::task::block_in_place(|| {
                std::thread::sleep(nap);
                Handle::current().block_on(async move {
                    filch::task::yield_now().await;
                    filch::spawn(async move { i }).await
                })
            });
            let job = filch::task::spawn_blocking(move || i * 2).await;
            (inner, job)
        }));
    }
    ctx.count_spawn(tasks as u64);
    // In a third of the rounds, a closure that only the shutdown can release: it waits on
    // a `std` channel whose sender an idle task holds (the shutdown drops idle tasks before
    // it waits for the workers, which ends the wait; before that fix this hung the drop).
    if ctx.rng().u8(0..3) == 0 {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let (keeper, waiter) = (ledger.track(), ledger.track());
        drop(rt.spawn(async move {
            let _g = (keeper, tx);
            std::future::pending::<()>().await
        }));
        drop(rt.spawn(async move {
            let _g = waiter;
            filch::task::block_in_place(|| {
                let _ = rx.recv();
            });
        }));
        ctx.count_spawn(2);
    }
    let results = rt.block_on(async {
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await);
        }
        out
    });
    drop(rt);
    for (i, result) in results.into_iter().enumerate() {
        match result {
            Ok((Ok(v), Ok(w))) if v == i && w == 2 * i => {}
            other => return Err(format!("task {i} gave {other:?}")),
        }
    }
    Ok(())
}

/// A runtime (either flavor) that spawns, blocks on a few, and is dropped with work left.
fn spawning_side(
    mut ctx: Ctx,
    ledger: &Arc<DropLedger>,
    tasks: usize,
    start: &Barrier,
) -> Result<(), String> {
    expect_timer_shutdown_panics();
    let rt = if ctx.rng().bool() {
        Builder::new_multi_thread()
            .worker_threads(ctx.rng().usize(1..=2))
            .thread_name("fs-pairs-spawn")
            .on_thread_start(expect_timer_shutdown_panics)
            .build()
    } else {
        Builder::new_current_thread().build()
    }
    .map_err(|e| format!("build a runtime: {e}"))?;
    start.wait();
    let mut finishing = Vec::new();
    for i in 0..tasks {
        let guard = ledger.track();
        match ctx.rng().u8(0..3) {
            0 => finishing.push(rt.spawn(async move {
                let _guard = guard;
                filch::task::yield_now().await;
                i
            })),
            1 => drop(rt.spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await
            })),
            _ => drop(rt.spawn(async move {
                let _guard = guard;
                filch::time::sleep(Duration::from_secs(3600)).await
            })),
        }
    }
    ctx.count_spawn(tasks as u64);
    let got: Vec<usize> = rt.block_on(async {
        let mut out = Vec::new();
        for h in finishing {
            out.push(h.await.map_err(|e| e.to_string())?);
        }
        Ok::<_, String>(out)
    })?;
    drop(rt);
    if got.windows(2).any(|w| w[0] >= w[1]) {
        return Err(format!("finishing tasks gave {got:?}"));
    }
    Ok(())
}
