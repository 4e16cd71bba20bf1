//! `locks`: `Mutex` and `RwLock` contention with random cancellation (`timeout` around
//! `lock`/`read`/`write`, and aborts of tasks holding or waiting for a guard).
//!
//! Invariants: at most one task is inside the mutex; a read-modify-write with a yield in
//! the middle never loses an increment (value == completed increments); a writer is alone,
//! readers never see a half-done write (the pair `(a, b)` is equal outside a writer); at the
//! end of each round, with every task gone, both locks are free (`try_lock`/`try_write`).
use crate::ctx::Ctx;
use filch::sync::{Mutex, RwLock};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Counts a task inside a critical section; leaves on drop (also when aborted there).
struct Inside<'a>(&'a AtomicI64);

impl<'a> Inside<'a> {
    fn enter(c: &'a AtomicI64) -> (Self, i64) {
        let before = c.fetch_add(1, Ordering::SeqCst);
        (Inside(c), before)
    }
}

impl Drop for Inside<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A write guard that completes a torn write when dropped (an aborted writer).
struct Heal<'a>(filch::sync::RwLockWriteGuard<'a, (u64, u64)>);

impl Drop for Heal<'_> {
    fn drop(&mut self) {
        self.0 .1 = self.0 .0;
    }
}

#[derive(Default)]
struct Shared {
    mutex: Mutex<u64>,
    in_mutex: AtomicI64,
    increments: AtomicU64,
    rw: RwLock<(u64, u64)>,
    readers: AtomicI64,
    writers: AtomicI64,
    writes: AtomicU64,
}

async fn hold(ctx: &mut Ctx) {
    match ctx.rng().u8(0..4) {
        0 => {}
        1 | 2 => filch::task::yield_now().await,
        _ => filch::time::sleep(Duration::from_micros(ctx.rng().u64(0..300))).await,
    }
}

async fn worker(mut ctx: Ctx, s: Arc<Shared>, ops: u32, cancel_pct: u32) {
    for _ in 0..ops {
        let cancel = ctx.rng().u32(0..100) < cancel_pct;
        let limit = Duration::from_micros(ctx.rng().u64(20..2_000));
        match ctx.rng().u8(0..3) {
            0 => {
                let guard = if cancel {
                    match filch::time::timeout(limit, s.mutex.lock()).await {
                        Ok(g) => g,
                        Err(_) => continue,
                    }
                } else {
                    s.mutex.lock().await
                };
                let mut guard = guard;
                let (_inside, before) = Inside::enter(&s.in_mutex);
                ctx.ensure(before == 0, || {
                    format!("mutex: {} other task(s) inside", before)
                });
                let v = *guard;
                hold(&mut ctx).await;
                *guard = v + 1;
                s.increments.fetch_add(1, Ordering::SeqCst);
            }
            1 => {
                let guard = if cancel {
                    match filch::time::timeout(limit, s.rw.read()).await {
                        Ok(g) => g,
                        Err(_) => continue,
                    }
                } else {
                    s.rw.read().await
                };
                let (_inside, _) = Inside::enter(&s.readers);
                let w = s.writers.load(Ordering::SeqCst);
                ctx.ensure(w == 0, || {
                    format!("rwlock: reader inside with {w} writer(s)")
                });
                let (a, b) = *guard;
                ctx.ensure(a == b, || {
                    format!("rwlock: reader saw a torn write ({a}, {b})")
                });
                hold(&mut ctx).await;
            }
            _ => {
                let guard = if cancel {
                    match filch::time::timeout(limit, s.rw.write()).await {
                        Ok(g) => g,
                        Err(_) => continue,
                    }
                } else {
                    s.rw.write().await
                };
                // Dropped on completion or abort: either way the pair ends equal, so a
                // reader seeing it unequal means it was let in during a write.
                let mut guard = Heal(guard);
                let (_inside, before) = Inside::enter(&s.writers);
                let r = s.readers.load(Ordering::SeqCst);
                ctx.ensure(before == 0 && r == 0, || {
                    format!("rwlock: writer with {before} writer(s) and {r} reader(s) inside")
                });
                guard.0 .0 += 1;
                hold(&mut ctx).await;
                guard.0 .1 += 1;
                s.writes.fetch_add(1, Ordering::SeqCst);
            }
        }
        ctx.progress(1);
    }
}

pub(crate) async fn run(mut ctx: Ctx) {
    let tasks = ctx.rng().usize(4..=32);
    let ops = ctx.rng().u32(20..=200);
    let cancel_pct = ctx.rng().u32(0..=50);
    let abort_pct = ctx.rng().u32(0..=30);
    ctx.set_params(format!(
        "{tasks} tasks x {ops} ops; {cancel_pct}% under timeout, {abort_pct}% of tasks aborted"
    ));
    let s = Arc::new(Shared::default());
    while !ctx.is_stopped() {
        let mut handles = Vec::new();
        for _ in 0..tasks {
            let child = ctx.fork();
            let abort = ctx.rng().u32(0..100) < abort_pct;
            handles.push((abort, ctx.spawn(worker(child, s.clone(), ops, cancel_pct))));
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
                Err(e) => ctx.violation(format!("lock worker failed: {e}")),
            }
        }
        // Quiescent: every guard is gone.
        match s.mutex.try_lock() {
            Ok(v) => {
                let inc = s.increments.load(Ordering::SeqCst);
                ctx.ensure(*v == inc, || {
                    format!(
                        "mutex: value {} but {inc} completed increments (lost update)",
                        *v
                    )
                });
            }
            Err(_) => ctx.violation("mutex still locked with every task gone"),
        }
        match s.rw.try_write() {
            Ok(v) => {
                let w = s.writes.load(Ordering::SeqCst);
                // Writers aborted halfway count in the pair but not in `w`.
                ctx.ensure(v.0 == v.1 && v.0 >= w, || {
                    format!("rwlock: pair ({}, {}) after {w} complete writes", v.0, v.1)
                });
            }
            Err(_) => ctx.violation("rwlock still held with every task gone"),
        }
    }
}
