//! `timeout-budget`: `timeout(short, loop { .. })` around loops that never wait: every
//! await in them is ready at once (`yield_now`, `sleep(Duration::ZERO)`, a read of an
//! end-of-file socket, a `Notify` that always has a permit, a channel the loop feeds
//! itself, an uncontended `Mutex` or `Semaphore`), so only the cooperative budget makes
//! them return `Pending` and lets the deadline be seen. The loops run in tasks, several at
//! once, and in `Handle::block_on` on a blocking-pool thread; `timeout_at` too.
//!
//! Invariants: each `timeout` returns `Elapsed`, not before its deadline and within
//! [`LATE`] of it (bounded by the harness's wall-clock alarm, so a timeout that never fires
//! is reported, and its task aborted); while the loops spin, a spawned task still runs
//! within [`LATE`].
use crate::alarm::within;
use crate::ctx::Ctx;
use filch::io::AsyncReadExt;
use filch::time::{sleep, timeout, timeout_at, Duration, Instant};

/// How late a timeout may return (generous: the 2-core CI machine is oversubscribed).
const LATE: Duration = Duration::from_secs(5);

const LOOPS: u8 = 7;

fn loop_name(kind: u8) -> &'static str {
    match kind {
        0 => "yield_now",
        1 => "sleep(ZERO)",
        2 => "read of an EOF socket",
        3 => "Notify with a stored permit",
        4 => "self-fed unbounded mpsc",
        5 => "uncontended Mutex",
        _ => "uncontended Semaphore",
    }
}

/// A loop that never completes and whose every await is ready at once.
async fn busy(kind: u8) {
    match kind {
        0 => loop {
            filch::task::yield_now().await;
        },
        1 => loop {
            sleep(Duration::ZERO).await;
        },
        2 => {
            let (mut s, peer) = filch::net::UnixStream::pair().expect("a socket pair");
            drop(peer);
            let mut buf = [0u8; 8];
            loop {
                let _ = s.read(&mut buf).await;
            }
        }
        3 => {
            let n = filch::sync::Notify::new();
            loop {
                n.notify_one();
                n.notified().await;
            }
        }
        4 => {
            let (tx, mut rx) = filch::sync::mpsc::unbounded_channel::<u8>();
            loop {
                let _ = tx.send(1);
                let _ = rx.recv().await;
            }
        }
        5 => {
            let m = filch::sync::Mutex::new(0u64);
            loop {
                *m.lock().await += 1;
            }
        }
        _ => {
            let s = filch::sync::Semaphore::new(1);
            loop {
                drop(s.acquire().await);
            }
        }
    }
}

/// Runs one bounded loop; `Err` describes a violation.
async fn bounded(kind: u8, d: Duration, at: bool) -> Result<(), String> {
    let start = Instant::now();
    let got = if at {
        timeout_at(start + d, busy(kind)).await
    } else {
        timeout(d, busy(kind)).await
    };
    let took = start.elapsed();
    if got.is_ok() {
        return Err(format!(
            "timeout around a {} loop returned Ok",
            loop_name(kind)
        ));
    }
    if took < d {
        return Err(format!(
            "timeout({d:?}) around a {} loop elapsed early, after {took:?}",
            loop_name(kind)
        ));
    }
    if took > d + LATE {
        return Err(format!(
            "timeout({d:?}) around a {} loop returned only after {took:?}",
            loop_name(kind)
        ));
    }
    Ok(())
}

pub(crate) async fn run(mut ctx: Ctx) {
    let tasks = ctx.rng().usize(1..=8);
    let max_ms = ctx.rng().u64(1..=30);
    let off_worker_pct = ctx.rng().u32(0..=30);
    ctx.set_params(format!(
        "{tasks} budget-hungry loops per round under timeouts of up to {max_ms} ms, \
         {off_worker_pct}% in block_on on a blocking thread"
    ));
    while !ctx.is_stopped() {
        let mut handles = Vec::new();
        let mut bounds = Vec::new();
        for _ in 0..tasks {
            let kind = ctx.rng().u8(0..LOOPS);
            let d = Duration::from_micros(ctx.rng().u64(0..=max_ms * 1_000));
            let at = ctx.rng().bool();
            bounds.push((kind, d));
            if ctx.rng().u32(0..100) < off_worker_pct {
                let handle = ctx.handle().clone();
                ctx.count_spawn(1);
                handles.push(filch::task::spawn_blocking(move || {
                    handle.block_on(bounded(kind, d, at))
                }));
            } else {
                handles.push(ctx.spawn(bounded(kind, d, at)));
            }
        }
        // The loops spin meanwhile: another task still gets to run.
        let asked = Instant::now();
        let ping = ctx.spawn(async { Instant::now() });
        match within(LATE, ping).await {
            Ok(Ok(ran)) => {
                ctx.ensure(ran.saturating_duration_since(asked) <= LATE, || {
                    "with budget-hungry loops running, a task waited > 5 s to run".into()
                });
            }
            Ok(Err(e)) => ctx.violation(format!("ping task failed: {e}")),
            Err(_) => ctx.violation("with budget-hungry loops running, a task did not run in 5 s"),
        }
        let deadline = Instant::now() + Duration::from_millis(max_ms) + LATE + LATE;
        let mut frozen = false;
        for (i, h) in handles.iter_mut().enumerate() {
            let left = deadline.saturating_duration_since(Instant::now());
            match within(left, h).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(msg))) => ctx.violation(msg),
                Ok(Err(e)) => ctx.violation(format!("a timeout-around-a-loop task failed: {e}")),
                Err(_) => {
                    let (kind, d) = bounds[i];
                    ctx.violation(format!(
                        "timeout({d:?}) around a {} loop did not fire within {:?}",
                        loop_name(kind),
                        d + LATE + LATE
                    ));
                    frozen = true;
                    break;
                }
            }
        }
        if frozen {
            // Aborted: the loops return `Pending` through the budget, so the abort lands.
            for h in &handles {
                h.abort();
            }
            return;
        }
        ctx.progress(tasks as u64);
    }
}
