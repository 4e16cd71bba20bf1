//! `semaphore`: tasks acquire 1..=P permits (`acquire_many`, `acquire_many_owned`,
//! `try_acquire_many`), some under `timeout`, some aborted while waiting or holding.
//! Invariants: the permits held never exceed P; at quiescence (every task gone, end of each
//! round) `available_permits() == P`.
use crate::ctx::Ctx;
use filch::sync::Semaphore;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Counts permits held by the harness; gives them back on drop (also when aborted).
struct Held<'a>(&'a AtomicI64, i64);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(self.1, Ordering::SeqCst);
    }
}

async fn worker(
    mut ctx: Ctx,
    sem: Arc<Semaphore>,
    held: Arc<AtomicI64>,
    permits: u32,
    ops: u32,
    cancel_pct: u32,
) {
    for _ in 0..ops {
        let n = ctx.rng().u32(1..=permits);
        let cancel = ctx.rng().u32(0..100) < cancel_pct;
        let limit = Duration::from_micros(ctx.rng().u64(20..2_000));
        let permit = match ctx.rng().u8(0..3) {
            0 if cancel => {
                match filch::time::timeout(limit, sem.clone().acquire_many_owned(n)).await {
                    Ok(p) => p,
                    Err(_) => continue,
                }
            }
            0 => sem.clone().acquire_many_owned(n).await,
            1 => match sem.clone().try_acquire_many_owned(n) {
                Ok(p) => Ok(p),
                Err(_) => continue,
            },
            _ if cancel => {
                match filch::time::timeout(limit, sem.clone().acquire_many_owned(n)).await {
                    Ok(p) => p,
                    Err(_) => continue,
                }
            }
            _ => sem.clone().acquire_many_owned(n).await,
        };
        let Ok(permit) = permit else {
            ctx.violation("semaphore closed unexpectedly");
            return;
        };
        let now = held.fetch_add(i64::from(n), Ordering::SeqCst) + i64::from(n);
        let _held = Held(&held, i64::from(n));
        ctx.ensure(now <= i64::from(permits), || {
            format!("{now} permits held at once, the semaphore has {permits}")
        });
        ctx.ensure(permit.num_permits() == n as usize, || {
            format!("asked for {n} permits, got {}", permit.num_permits())
        });
        match ctx.rng().u8(0..3) {
            0 => {}
            1 => filch::task::yield_now().await,
            _ => filch::time::sleep(Duration::from_micros(ctx.rng().u64(0..300))).await,
        }
        drop(_held);
        drop(permit);
        ctx.progress(1);
    }
}

pub(crate) async fn run(mut ctx: Ctx) {
    let permits = ctx.rng().u32(1..=16);
    let tasks = ctx.rng().usize(4..=64);
    let ops = ctx.rng().u32(10..=100);
    let cancel_pct = ctx.rng().u32(0..=60);
    let abort_pct = ctx.rng().u32(0..=30);
    ctx.set_params(format!(
        "{permits} permits, {tasks} tasks x {ops} ops; {cancel_pct}% under timeout, \
         {abort_pct}% of tasks aborted"
    ));
    let sem = Arc::new(Semaphore::new(permits as usize));
    let held = Arc::new(AtomicI64::new(0));
    while !ctx.is_stopped() {
        let mut handles = Vec::new();
        for _ in 0..tasks {
            let child = ctx.fork();
            let abort = ctx.rng().u32(0..100) < abort_pct;
            let fut = worker(child, sem.clone(), held.clone(), permits, ops, cancel_pct);
            handles.push((abort, ctx.spawn(fut)));
        }
        filch::time::sleep(Duration::from_micros(ctx.rng().u64(0..2_000))).await;
        for (abort, h) in &handles {
            if *abort {
                h.abort();
            }
        }
        for (abort, h) in handles {
            match h.await {
                Ok(()) => {}
                Err(e) if e.is_cancelled() && abort => {}
                Err(e) => ctx.violation(format!("semaphore worker failed: {e}")),
            }
        }
        let avail = sem.available_permits();
        ctx.ensure(avail == permits as usize, || {
            format!("quiescent semaphore has {avail} permits available, expected {permits}")
        });
        let h = held.load(Ordering::SeqCst);
        ctx.ensure(h == 0, || format!("harness still counts {h} permits held"));
    }
}
