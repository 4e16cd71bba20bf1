//! `timers`: sleeps of random length, sleeps reset earlier or later while registered,
//! sleeps cancelled by `timeout`, and deadlines already past. Invariants: nothing fires
//! early (`Instant::now() >= deadline` when a sleep completes, and `>= start + limit` when a
//! timeout elapses); a timeout never reports its inner sleep done before that sleep's
//! deadline; every awaited sleep completes (the watchdog).
use super::join_all;
use crate::ctx::Ctx;
use filch::time::{sleep, sleep_until, timeout, Duration, Instant};

async fn churn(mut ctx: Ctx, sleeps: u32, max_ms: u64) {
    for _ in 0..sleeps {
        let d = Duration::from_micros(ctx.rng().u64(0..=max_ms * 1_000));
        match ctx.rng().u8(0..4) {
            0 => {
                let s = sleep(d);
                let deadline = s.deadline();
                s.await;
                let now = Instant::now();
                ctx.ensure(now >= deadline, || {
                    format!("sleep fired {:?} early", deadline - now)
                });
            }
            1 => {
                // Register, then move the deadline while the timer is in the wheel.
                let mut s = std::pin::pin!(sleep(Duration::from_millis(max_ms * 2 + 5)));
                let _ = timeout(Duration::from_micros(ctx.rng().u64(0..500)), s.as_mut()).await;
                let new_deadline = Instant::now() + d;
                s.as_mut().reset(new_deadline);
                s.await;
                let now = Instant::now();
                ctx.ensure(now >= new_deadline, || {
                    format!("reset sleep fired {:?} early", new_deadline - now)
                });
            }
            2 => {
                // Cancel: the timeout must win, and not before its own deadline.
                let start = Instant::now();
                let long = sleep(Duration::from_millis(max_ms * 4 + 50));
                let long_deadline = long.deadline();
                match timeout(d, long).await {
                    Err(_) => {
                        let now = Instant::now();
                        ctx.ensure(now >= start + d, || {
                            format!("timeout elapsed {:?} early", start + d - now)
                        });
                    }
                    Ok(()) => {
                        let now = Instant::now();
                        ctx.ensure(now >= long_deadline, || {
                            format!("cancelled sleep completed {:?} early", long_deadline - now)
                        });
                    }
                }
            }
            _ => {
                // A deadline already past completes at once.
                let past = Instant::now().checked_sub(d).unwrap_or_else(Instant::now);
                sleep_until(past).await;
            }
        }
        ctx.progress(1);
    }
}

pub(crate) async fn run(mut ctx: Ctx) {
    let tasks = ctx.rng().usize(8..=64);
    let sleeps = ctx.rng().u32(5..=30);
    let max_ms = ctx.rng().u64(1..=20);
    ctx.set_params(format!(
        "{tasks} tasks x {sleeps} timer ops, up to {max_ms} ms each"
    ));
    while !ctx.is_stopped() {
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let child = ctx.fork();
                ctx.spawn(churn(child, sleeps, max_ms))
            })
            .collect();
        join_all(&ctx, "timer churn", handles).await;
    }
}
