//! `far-timers`: timers at the far edge of time, next to short ones. Each round spawns
//! tasks that sleep `Duration::MAX`, years or a million years, `sleep_until` an instant
//! past `u64::MAX` milliseconds, wait under `timeout(Duration::from_secs(u64::MAX), ..)`
//! or `timeout(Duration::MAX, ..)`, reset a short sleep to a far deadline, or tick an
//! `interval(Duration::MAX)` twice; a few far timers also stay registered for the whole
//! run. Next to them run short sleeps and short timeouts (0–20 ms).
//!
//! Invariants: every short timer fires, not early and within [`LATE`] of its deadline
//! (bounded by the harness's own wall-clock alarm, so a frozen timer wheel is reported as
//! such, not as a stall); a far timer never fires during the run; a far `timeout` around a
//! short sleep returns the sleep's `Ok` as soon as it is done; the runtime stays responsive
//! (a spawned task runs within [`LATE`]); the far tasks are then aborted and resolve
//! cancelled.
use crate::alarm::within;
use crate::ctx::Ctx;
use crate::ledger::DropLedger;
use crate::scenario::Scenario;
use filch::time::{interval, sleep, sleep_until, timeout, Duration, Instant};
use std::sync::Arc;

/// How late a short timer may fire (generous: the 2-core CI machine is oversubscribed).
const LATE: Duration = Duration::from_secs(5);

pub(crate) fn scenario() -> Scenario {
    let ledger = DropLedger::new();
    let l = ledger.clone();
    Scenario::new("far-timers", move |ctx| run(ctx, l)).check(move || ledger.balanced())
}

/// An instant past `u64::MAX` milliseconds from now, or the farthest one representable.
fn beyond_u64_millis() -> Instant {
    let now = Instant::now();
    now.checked_add(Duration::from_millis(u64::MAX) + Duration::from_secs(1))
        .or_else(|| now.checked_add(Duration::from_secs(u64::MAX / 4)))
        .unwrap_or(now + Duration::from_secs(86_400 * 365 * 1_000))
}

/// One far timer, awaited; completing at all is the violation.
async fn far(kind: u8) -> &'static str {
    let year = Duration::from_secs(365 * 86_400);
    match kind {
        0 => {
            sleep(Duration::MAX).await;
            "sleep(Duration::MAX)"
        }
        1 => {
            sleep(year * 3).await;
            "sleep(3 years)"
        }
        2 => {
            sleep(year * 1_000_000).await;
            "sleep(a million years)"
        }
        3 => {
            sleep_until(beyond_u64_millis()).await;
            "sleep_until(past u64::MAX ms)"
        }
        4 => {
            let _ = timeout(Duration::from_secs(u64::MAX), std::future::pending::<()>()).await;
            "timeout(u64::MAX s, pending)"
        }
        5 => {
            let _ = timeout(Duration::MAX, std::future::pending::<()>()).await;
            "timeout(Duration::MAX, pending)"
        }
        6 => {
            let mut s = std::pin::pin!(sleep(Duration::from_millis(1)));
            s.as_mut().reset(beyond_u64_millis());
            s.await;
            "a short sleep reset past u64::MAX ms"
        }
        _ => {
            let mut i = interval(Duration::MAX);
            i.tick().await; // the first tick is at once
            i.tick().await;
            "interval(Duration::MAX)'s second tick"
        }
    }
}

const FAR_KINDS: u8 = 8;

async fn run(mut ctx: Ctx, ledger: Arc<DropLedger>) {
    let fars = ctx.rng().usize(1..=32);
    let shorts = ctx.rng().usize(1..=32);
    let resident = ctx.rng().usize(1..=16);
    ctx.set_params(format!(
        "{fars} far timers + {shorts} short ones (0-20 ms) per round, {resident} far timers \
         registered all run"
    ));
    // Far timers that stay registered for the whole run, in the wheel with everything else.
    let resident: Vec<_> = (0..resident)
        .map(|i| {
            let g = ledger.track();
            let kind = (i % FAR_KINDS as usize) as u8;
            ctx.spawn(async move {
                let _g = g;
                far(kind).await
            })
        })
        .collect();
    while !ctx.is_stopped() {
        let mut far_tasks = Vec::new();
        for _ in 0..fars {
            let kind = ctx.rng().u8(0..FAR_KINDS);
            let g = ledger.track();
            far_tasks.push(ctx.spawn(async move {
                let _g = g;
                far(kind).await
            }));
        }
        let mut short_tasks = Vec::new();
        for _ in 0..shorts {
            let d = Duration::from_micros(ctx.rng().u64(0..=20_000));
            let kind = ctx.rng().u8(0..3);
            let g = ledger.track();
            short_tasks.push(ctx.spawn(async move {
                let _g = g;
                let start = Instant::now();
                match kind {
                    0 => sleep(d).await,
                    1 => {
                        let got = timeout(d, std::future::pending::<()>()).await;
                        if got.is_ok() {
                            return Err("timeout(short, pending) returned Ok".to_string());
                        }
                    }
                    _ => {
                        // A far timeout around a short sleep: the sleep's Ok, when it is done.
                        let got = timeout(Duration::from_secs(u64::MAX), sleep(d)).await;
                        if got.is_err() {
                            return Err("timeout(u64::MAX s, short sleep) elapsed".to_string());
                        }
                    }
                }
                let took = start.elapsed();
                if took < d {
                    return Err(format!("a {d:?} timer (kind {kind}) fired after {took:?}"));
                }
                Ok(took.saturating_sub(d))
            }));
        }
        let started = Instant::now();
        for h in short_tasks {
            let left = (started + Duration::from_millis(20) + LATE)
                .saturating_duration_since(Instant::now());
            match within(left, h).await {
                Ok(Ok(Ok(late))) => {
                    ctx.ensure(late <= LATE, || {
                        format!("a short timer fired {late:?} late (far timers registered)")
                    });
                }
                Ok(Ok(Err(msg))) => ctx.violation(msg),
                Ok(Err(e)) => ctx.violation(format!("a short timer task failed: {e}")),
                Err(_) => {
                    ctx.violation(format!(
                        "a short timer (<= 20 ms) did not fire within {LATE:?} of its deadline \
                         while far timers were registered (timer wheel frozen?)"
                    ));
                }
            }
            ctx.progress(1);
        }
        // The runtime stays responsive.
        let ping = ctx.spawn(async { Instant::now() });
        let asked = Instant::now();
        match within(LATE, ping).await {
            Ok(Ok(ran)) => {
                ctx.ensure(ran.saturating_duration_since(asked) <= LATE, || {
                    "a spawned task waited more than 5 s to run".to_string()
                });
            }
            Ok(Err(e)) => ctx.violation(format!("ping task failed: {e}")),
            Err(_) => ctx.violation("a spawned task did not run within 5 s"),
        }
        for h in &far_tasks {
            if h.is_finished() {
                // Reported below with what fired.
                continue;
            }
            h.abort();
        }
        for h in far_tasks {
            match within(LATE, h).await {
                Ok(Ok(what)) => ctx.violation(format!("far timer fired: {what}")),
                Ok(Err(e)) if e.is_cancelled() => {}
                Ok(Err(e)) => ctx.violation(format!("far timer task failed: {e}")),
                Err(_) => ctx.violation("an aborted far timer task did not resolve within 5 s"),
            }
        }
        ctx.progress(1);
    }
    for h in &resident {
        h.abort();
    }
    for h in resident {
        match within(LATE, h).await {
            Ok(Ok(what)) => ctx.violation(format!("far timer registered all run fired: {what}")),
            Ok(Err(e)) if e.is_cancelled() => {}
            Ok(Err(e)) => ctx.violation(format!("far timer task failed: {e}")),
            Err(_) => ctx.violation("an aborted far timer task did not resolve within 5 s"),
        }
    }
}
