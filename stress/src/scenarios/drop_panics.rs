//! `drop-panics`: tasks whose futures (or outputs) panic when dropped. On the harness's
//! runtime: tasks holding a guard whose `Drop` panics, pending forever, sleeping, or
//! waiting on a oneshot, aborted before or after their first poll; futures that are ready
//! at once and panic when dropped; futures whose poll panics and whose destructor panics
//! too; detached tasks whose unclaimed output panics when dropped; `JoinSet`s of such tasks
//! dropped, `abort_all`ed and drained, or `shutdown()`. On a runtime of its own (plain
//! thread, either flavor): such tasks alive (idle, sleeping, busy, blocking jobs capturing
//! a guard) when it is shut down by a seeded [`Path`].
//!
//! Invariants: the process does not abort (a destructor panic is contained); an aborted
//! task's `JoinHandle` is `is_panic()` with its destructor's payload (a task dropped by the
//! shutdown: `is_panic()` with it, or `is_cancelled()`), a ready one's too, a panicking
//! poll's is the poll's payload; every guard is dropped exactly once, within a bound (for
//! detached tasks and dropped `JoinSet`s) and never while its thread is already unwinding,
//! except the guard of a future whose poll panicked, which the runtime drops during that
//! unwind (and whose own panic it must contain);
//! the harness's runtime keeps running other tasks afterwards (its workers survive: the
//! global check). The payloads start with [`PLANNED_PANIC`], so the harness's panic hook
//! keeps them off stderr.
use super::shutdown::{check_after, shut_down, wait_ticking, Path, Subject};
use crate::alarm::within;
use crate::ctx::Ctx;
use crate::harness::PLANNED_PANIC;
use crate::ledger::Tracked;
use crate::scenario::Scenario;
use filch::task::{JoinError, JoinSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// How long a detached task or a dropped `JoinSet` may take to drop its futures.
const LATE: Duration = Duration::from_secs(5);

/// Guards created and dropped.
#[derive(Default)]
struct Counts {
    created: AtomicU64,
    dropped: AtomicU64,
    /// Dropped while the thread was already unwinding another panic (the guard did not
    /// panic then: a second panic would abort the process).
    during_unwind: AtomicU64,
    /// Where the first few of those happened (thread and backtrace), not reported yet.
    unwind_reports: std::sync::Mutex<Vec<String>>,
}

impl Counts {
    fn guard(self: &Arc<Self>) -> PanicGuard {
        let id = self.created.fetch_add(1, Ordering::Relaxed);
        PanicGuard {
            id,
            counts: self.clone(),
            unwinding_drop_expected: false,
        }
    }

    /// Reports each drop during an unwind once (see [`Counts::during_unwind`]).
    fn report_unwinds(&self, ctx: &Ctx) {
        for msg in std::mem::take(&mut *crate::ctx::lock(&self.unwind_reports)) {
            ctx.violation(msg);
        }
    }

    /// `Err` while some guard is not dropped yet.
    fn leaked(&self) -> Result<(), String> {
        let (c, d) = (
            self.created.load(Ordering::SeqCst),
            self.dropped.load(Ordering::SeqCst),
        );
        if c == d {
            Ok(())
        } else {
            Err(format!(
                "panicking guards created {c}, dropped {d} (leaked {})",
                c.saturating_sub(d)
            ))
        }
    }

    /// The end-of-run check: every guard dropped, none during an unwind.
    fn balanced(&self) -> Result<(), String> {
        let (c, d, u) = (
            self.created.load(Ordering::SeqCst),
            self.dropped.load(Ordering::SeqCst),
            self.during_unwind.load(Ordering::SeqCst),
        );
        if c == d && u == 0 {
            Ok(())
        } else {
            Err(format!(
                "panicking guards created {c}, dropped {d} (leaked {}), {u} dropped while \
                 their thread was unwinding",
                c.saturating_sub(d)
            ))
        }
    }
}

/// Panics when dropped, with [`payload`]`(id)`.
struct PanicGuard {
    id: u64,
    counts: Arc<Counts>,
    /// Set for the guard of a future whose poll panics: the runtime drops such a future
    /// during that unwind (its `Drop` sees `thread::panicking()`, as in tokio) and catches
    /// a second panic there, so this guard panics even then.
    unwinding_drop_expected: bool,
}

impl PanicGuard {
    /// See [`PanicGuard::unwinding_drop_expected`].
    fn dropped_by_the_unwind(mut self) -> Self {
        self.unwinding_drop_expected = true;
        self
    }
}

fn payload(id: u64) -> String {
    format!("{PLANNED_PANIC}: destructor of guard #{id}")
}

impl Drop for PanicGuard {
    fn drop(&mut self) {
        self.counts.dropped.fetch_add(1, Ordering::SeqCst);
        if std::thread::panicking() && !self.unwinding_drop_expected {
            let n = self.counts.during_unwind.fetch_add(1, Ordering::SeqCst);
            if n < 4 {
                let thread = std::thread::current();
                crate::ctx::lock(&self.counts.unwind_reports).push(format!(
                    "guard #{} was dropped while thread {:?} was unwinding another panic (had \
                     it panicked, the process would have aborted); backtrace:\n{}",
                    self.id,
                    thread.name().unwrap_or("<unnamed>"),
                    std::backtrace::Backtrace::force_capture()
                ));
            }
            return;
        }
        std::panic::panic_any(payload(self.id));
    }
}

/// Ready at once; its destructor panics.
struct ReadyThenPanicOnDrop(PanicGuard);

impl Future for ReadyThenPanicOnDrop {
    type Output = u64;
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u64> {
        Poll::Ready(self.0.id)
    }
}

/// Its poll panics, and its destructor panics too: the runtime drops it during the poll's
/// unwind and must contain the second panic. (Not an async block holding a guard: the
/// block's own unwind would drop the guard, and a panic there aborts any Rust program.)
struct PanicThenPanicOnDrop(PanicGuard);

fn poll_payload(id: u64) -> String {
    format!("{PLANNED_PANIC}: poll of guard #{id}")
}

impl Future for PanicThenPanicOnDrop {
    type Output = u64;
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u64> {
        std::panic::panic_any(poll_payload(self.0.id))
    }
}

/// The `String` payload of a panic, if it is one.
fn message(e: JoinError) -> Option<String> {
    e.try_into_panic()
        .ok()
        .and_then(|p| p.downcast::<String>().ok().map(|s| *s))
}

pub(crate) fn scenario() -> Scenario {
    let counts = Arc::new(Counts::default());
    let c = counts.clone();
    Scenario::new("drop-panics", move |ctx| run(ctx, c)).check(move || counts.balanced())
}

async fn run(mut ctx: Ctx, counts: Arc<Counts>) {
    let tasks = ctx.rng().usize(4..=64);
    let set_size = ctx.rng().usize(1..=32);
    let shutdown_pct = ctx.rng().u32(20..=100);
    ctx.set_params(format!(
        "{tasks} tasks + a JoinSet of {set_size} per round; a runtime of its own shut down \
         with such tasks in {shutdown_pct}% of rounds"
    ));
    let mut round = 0u64;
    while !ctx.is_stopped() {
        round += 1;
        on_the_harness_runtime(&mut ctx, &counts, tasks).await;
        join_set(&mut ctx, &counts, set_size).await;
        if ctx.rng().u32(0..100) < shutdown_pct {
            let child = ctx.fork();
            let c = counts.clone();
            let (tx, rx) = filch::sync::oneshot::channel();
            let spawned = std::thread::Builder::new()
                .name("fs-drop-panics".into())
                .spawn(move || {
                    shutdown_with_panicking_drops(child, &c, round);
                    let _ = tx.send(());
                });
            if let Err(e) = spawned {
                ctx.violation(format!("start a thread: {e}"));
                return;
            }
            if rx.await.is_err() {
                ctx.violation("a drop-panics thread died (panicked) before reporting");
                return;
            }
        }
        // The runtime still runs tasks: a burst that needs every worker completes.
        let burst: Vec<_> = (0..ctx.workers() * 4)
            .map(|k| ctx.spawn(async move { k }))
            .collect();
        let mut ran = 0;
        for h in burst {
            if let Ok(Ok(_)) = within(LATE, h).await {
                ran += 1;
            }
        }
        ctx.ensure(ran == ctx.workers() * 4, || {
            format!(
                "after destructor panics, {ran} of {} tasks of a burst ran",
                ctx.workers() * 4
            )
        });
        ctx.progress(1);
    }
}

/// Aborts, completions and detached outputs on the harness's runtime.
async fn on_the_harness_runtime(ctx: &mut Ctx, counts: &Arc<Counts>, tasks: usize) {
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let g = counts.guard();
        let id = g.id;
        let polled = Arc::new(AtomicBool::new(false));
        let p = polled.clone();
        let kind = ctx.rng().u8(0..6);
        let h = match kind {
            0 => ctx.spawn(async move {
                let _g = g;
                p.store(true, Ordering::SeqCst);
                std::future::pending::<u64>().await
            }),
            1 => ctx.spawn(async move {
                let _g = g;
                p.store(true, Ordering::SeqCst);
                filch::time::sleep(Duration::from_secs(3_600)).await;
                0
            }),
            2 => {
                let (tx, rx) = filch::sync::oneshot::channel::<()>();
                let h = ctx.spawn(async move {
                    let _g = g;
                    p.store(true, Ordering::SeqCst);
                    let _ = rx.await;
                    id
                });
                // Closed: the task completes, then its future's drop panics.
                drop(tx);
                h
            }
            3 => ctx.spawn(ReadyThenPanicOnDrop(g)),
            4 => ctx.spawn(PanicThenPanicOnDrop(g.dropped_by_the_unwind())),
            _ => {
                // Detached, and its unclaimed output panics when the runtime drops it.
                drop(ctx.spawn(async move {
                    filch::task::yield_now().await;
                    g
                }));
                continue;
            }
        };
        let abort_now = kind <= 1 && ctx.rng().bool();
        if abort_now {
            h.abort(); // before its first poll, most of the time
        }
        handles.push((id, kind, polled, h));
    }
    for _ in 0..ctx.rng().u32(0..4) {
        filch::task::yield_now().await;
    }
    for (_, kind, _, h) in &handles {
        if *kind <= 1 {
            h.abort();
        }
    }
    for (id, kind, polled, h) in handles {
        let got = match within(LATE, h).await {
            Ok(got) => got,
            Err(_) => {
                ctx.violation(format!("task of guard #{id} (kind {kind}) never resolved"));
                continue;
            }
        };
        let want = if kind == 4 {
            poll_payload(id)
        } else {
            payload(id)
        };
        match got {
            Err(e) if e.is_panic() => {
                let msg = message(e);
                ctx.ensure(msg.as_deref() == Some(want.as_str()), || {
                    format!(
                        "task of guard #{id} (kind {kind}): panic payload {msg:?}, not {want:?}"
                    )
                });
            }
            other => ctx.violation(format!(
                "task of guard #{id} (kind {kind}, polled: {}) whose destructor panics \
                 resolved {other:?}, not is_panic()",
                polled.load(Ordering::SeqCst)
            )),
        }
        ctx.progress(1);
    }
    // Detached tasks drop their outputs on their own.
    let since = Instant::now();
    while counts.dropped.load(Ordering::SeqCst) < counts.created.load(Ordering::SeqCst)
        && since.elapsed() < LATE
    {
        filch::time::sleep(Duration::from_millis(1)).await;
    }
    counts.report_unwinds(ctx);
    if let Err(msg) = counts.leaked() {
        ctx.violation(format!("after aborts and detached outputs: {msg}"));
    }
}

/// A `JoinSet` of tasks whose destructors panic: dropped, drained after `abort_all`, or
/// shut down.
async fn join_set(ctx: &mut Ctx, counts: &Arc<Counts>, size: usize) {
    let mut set = JoinSet::new();
    let mut ids = Vec::new();
    for _ in 0..size {
        let g = counts.guard();
        ids.push(g.id);
        let sleeps = ctx.rng().bool();
        set.spawn(async move {
            let _g = g;
            if sleeps {
                filch::time::sleep(Duration::from_secs(3_600)).await;
            } else {
                std::future::pending::<()>().await;
            }
        });
    }
    ctx.count_spawn(size as u64);
    for _ in 0..ctx.rng().u32(0..4) {
        filch::task::yield_now().await;
    }
    match ctx.rng().u8(0..3) {
        0 => drop(set),
        1 => {
            set.abort_all();
            let drained = within(LATE, async {
                let mut n = 0;
                while let Some(r) = set.join_next().await {
                    n += 1;
                    match r {
                        Err(e) if e.is_panic() => {
                            let msg = message(e);
                            let known = msg
                                .as_deref()
                                .is_some_and(|m| ids.iter().any(|&id| payload(id) == m));
                            ctx.ensure(known, || {
                                format!("JoinSet task: unexpected panic payload {msg:?}")
                            });
                        }
                        other => ctx.violation(format!(
                            "an aborted JoinSet task whose destructor panics resolved \
                             {other:?}, not is_panic()"
                        )),
                    }
                }
                n
            })
            .await;
            match drained {
                Ok(n) => {
                    ctx.ensure(n == size, || {
                        format!("JoinSet drained {n} of {size} aborted tasks")
                    });
                }
                Err(_) => ctx.violation("draining an aborted JoinSet did not end within 5 s"),
            }
        }
        _ => {
            if within(LATE, set.shutdown()).await.is_err() {
                ctx.violation("JoinSet::shutdown of tasks whose destructors panic hung");
            }
        }
    }
    let since = Instant::now();
    while counts.dropped.load(Ordering::SeqCst) < counts.created.load(Ordering::SeqCst)
        && since.elapsed() < LATE
    {
        filch::time::sleep(Duration::from_millis(1)).await;
    }
    counts.report_unwinds(ctx);
    if let Err(msg) = counts.leaked() {
        ctx.violation(format!("after a JoinSet of panicking destructors: {msg}"));
    }
}

/// A runtime of its own, shut down with tasks alive whose destructors panic.
fn shutdown_with_panicking_drops(mut ctx: Ctx, counts: &Arc<Counts>, round: u64) {
    let current = ctx.rng().u32(0..100) < 30;
    let workers = ctx.rng().usize(1..=4);
    let path = Path::draw(ctx.rng());
    let (rt, subject) = match Subject::build(current, workers) {
        Ok(s) => s,
        Err(e) => return ctx.violation(e),
    };
    let what = format!("round {round} ({}, {path})", subject.flavor());
    let n = ctx.rng().usize(1..=32);
    let mut handles = Vec::new();
    let track = |g: PanicGuard| -> (PanicGuard, Tracked) { (g, subject.ledger.track()) };
    let armed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut sleepers = 0;
    rt.block_on(async {
        for _ in 0..n {
            let g = track(counts.guard());
            let id = g.0.id;
            let h = match ctx.rng().u8(0..4) {
                0 => filch::spawn(async move {
                    let _g = g;
                    std::future::pending::<()>().await
                }),
                1 => {
                    sleepers += 1;
                    let armed = armed.clone();
                    filch::spawn(async move {
                        let _g = g;
                        let mut sleep = std::pin::pin!(filch::time::sleep(Duration::MAX));
                        let mut first = true;
                        std::future::poll_fn(|cx| {
                            let r = sleep.as_mut().poll(cx);
                            if std::mem::take(&mut first) {
                                armed.fetch_add(1, Ordering::SeqCst);
                            }
                            r
                        })
                        .await
                    })
                }
                2 => filch::spawn(async move {
                    let _g = g;
                    loop {
                        std::thread::sleep(Duration::from_micros(200));
                        filch::task::yield_now().await;
                    }
                }),
                _ => filch::task::spawn_blocking(move || {
                    // The closure ends by dropping the guard: the job's result is that panic.
                    let _g = g;
                    std::thread::sleep(Duration::from_millis(2));
                }),
            };
            handles.push((id, h));
        }
        // A timer polled once the shutdown has begun panics (as `filch::time` documents),
        // and that unwind would drop the guard mid-panic: an abort, by Rust's rules. So the
        // sleeps are registered (first poll done) before the shutdown, and never polled again.
        let registered = within(Duration::from_secs(5), async {
            while armed.load(Ordering::SeqCst) < sleepers {
                filch::task::yield_now().await;
            }
        })
        .await;
        if registered.is_err() {
            ctx.violation(format!("{what}: sleeping tasks were not polled within 5 s"));
        }
    });
    ctx.count_spawn(n as u64);
    if !current {
        std::thread::sleep(Duration::from_micros(ctx.rng().u64(0..=2_000)));
    }
    let returned = match shut_down(&ctx, rt, current, path) {
        Ok(t) => t,
        Err(e) => return ctx.violation(format!("{what}: {e}")),
    };
    let deadline = check_after(
        &ctx,
        &subject,
        &what,
        path,
        returned,
        Duration::from_millis(3),
    );
    for (id, h) in handles {
        let left = deadline.saturating_duration_since(Instant::now());
        match ctx.handle().block_on(within(left, h)) {
            Err(_) => ctx.violation(format!(
                "{what}: the JoinHandle of guard #{id}'s task still pending after the shutdown"
            )),
            Ok(Err(e)) if e.is_cancelled() => {}
            Ok(Err(e)) if e.is_panic() => {
                let msg = message(e);
                ctx.ensure(msg.as_deref() == Some(payload(id).as_str()), || {
                    format!("{what}: guard #{id}'s task: panic payload {msg:?}")
                });
            }
            Ok(other) => ctx.violation(format!(
                "{what}: guard #{id}'s task, which only the shutdown ends, resolved {other:?}"
            )),
        }
    }
    let balanced = wait_ticking(&ctx, deadline, || {
        counts.dropped.load(Ordering::SeqCst) >= counts.created.load(Ordering::SeqCst)
    });
    counts.report_unwinds(&ctx);
    if !balanced {
        let msg = counts.leaked().err().unwrap_or_default();
        ctx.violation(format!("{what}: {msg}"));
    }
}
