//! The wake-latency probe: one per scenario, on the same runtime and under the same load.
use crate::ctx::Ctx;
use filch::sync::oneshot;
use filch::time::{Duration, Instant};
use std::sync::atomic::Ordering;

/// Repeatedly parks a task on a oneshot, then sends it `Instant::now()`: the woken task
/// records the time from the send (the wake) to its own poll. While a wake is
/// outstanding, `probe_pending_since` holds its time, so the watchdog can report a
/// wake that is never polled. The time is `filch::time`'s: virtual in deterministic mode.
pub(crate) async fn probe(mut ctx: Ctx) {
    while !ctx.is_stopped() {
        let (tx, rx) = oneshot::channel::<Instant>();
        let state = ctx.scenario.clone();
        let waiter = ctx.spawn(async move {
            if let Ok(woken_at) = rx.await {
                state.record_latency(woken_at.elapsed());
                state.probe_pending_since.store(0, Ordering::Release);
            }
        });
        // Give the waiter time to park on the channel, so the send is a real wake.
        let pause = Duration::from_micros(ctx.rng().u64(200..2_000));
        filch::time::sleep(pause).await;
        let now = Instant::now();
        ctx.scenario
            .probe_pending_since
            .store(ctx.run.nanos_since_epoch(now) + 1, Ordering::Release);
        if tx.send(now).is_err() {
            ctx.violation("probe: the waiting task dropped its receiver before the send");
            ctx.scenario.probe_pending_since.store(0, Ordering::Release);
        }
        if let Err(e) = waiter.await {
            ctx.violation(format!("probe: the waiting task failed: {e}"));
        }
    }
}
