//! `shutdown-block-in-place`: a plain thread builds a multi-thread runtime (1–4 workers)
//! whose tasks call `block_in_place` with closures that sleep a few milliseconds and
//! sometimes block on the runtime from inside (`Handle::current().block_on(..)` of yields,
//! of a spawned task, of a channel whose sender an idle task holds, of a `sleep`), then
//! shuts it down right before or while the closures run: by a seeded [`Path`], or by
//! dropping it inside such a closure of one of its own tasks.
//!
//! Invariants (besides the common ones of [`super`]): every closure that started returns;
//! a closure waiting on an idle task's channel is released by the shutdown (step 3 of the
//! shutdown order); inside a closure, a task spawned or a `sleep` awaited after the shutdown
//! began ends cancelled or with `filch::time`'s documented "has shut down" panic, and
//! neither happens before the shutdown began; every `JoinHandle` resolves with its value or
//! cancelled, never a panic.
use super::{check_after, recv_ticking, shut_down, wait_ticking, Path, Subject, BOUND};
use crate::alarm::within;
use crate::ctx::{lock, Ctx};
use crate::harness::TIMER_SHUT_DOWN;
use crate::ledger::{DropLedger, Tracked};
use crate::scenario::Scenario;
use filch::runtime::{Handle, Runtime};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub(crate) fn scenario() -> Scenario {
    let ledger = DropLedger::new();
    let l = ledger.clone();
    Scenario::new("shutdown-block-in-place", move |ctx| run(ctx, l))
        .check(move || ledger.balanced())
}

#[derive(Debug, Clone, Copy)]
struct Params {
    tasks: usize,
    max_ms: u64,
    in_closure_pct: u32,
}

/// What a closure blocks on through `Handle::current().block_on` after its first nap.
enum Inner {
    Nothing,
    Yields(u32),
    Spawn,
    /// The receiver of a channel whose sender an idle task holds forever.
    IdleSender(filch::sync::oneshot::Receiver<()>),
    Sleep(Duration),
}

impl Inner {
    const NAMES: [&'static str; 5] = ["nothing", "yields", "spawn", "idle sender", "sleep"];

    fn index(&self) -> usize {
        match self {
            Inner::Nothing => 0,
            Inner::Yields(_) => 1,
            Inner::Spawn => 2,
            Inner::IdleSender(_) => 3,
            Inner::Sleep(_) => 4,
        }
    }
}

/// Shared by a round's closures and its plain thread.
struct Round {
    ctx: Ctx,
    what: String,
    /// Raised just before the shutdown call.
    began: AtomicBool,
    entered: AtomicUsize,
    exited: AtomicUsize,
    /// Closures inside, by [`Inner::index`].
    inside: [AtomicUsize; 5],
}

async fn run(mut ctx: Ctx, ledger: Arc<DropLedger>) {
    let p = Params {
        tasks: ctx.rng().usize(1..=16),
        max_ms: ctx.rng().u64(1..=20),
        in_closure_pct: ctx.rng().u32(0..=30),
    };
    ctx.set_params(format!(
        "up to {} block_in_place tasks, naps up to {} ms, {}% dropped inside a closure",
        p.tasks, p.max_ms, p.in_closure_pct
    ));
    let mut round = 0u64;
    while !ctx.is_stopped() {
        round += 1;
        let child = ctx.fork();
        let ledger = ledger.clone();
        let (tx, rx) = filch::sync::oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("fs-shutdown-bip".into())
            .spawn(move || {
                one_runtime(child, &ledger, p, round);
                let _ = tx.send(());
            });
        if let Err(e) = spawned {
            ctx.violation(format!("start a thread: {e}"));
            return;
        }
        if rx.await.is_err() {
            ctx.violation("a shutdown-block-in-place thread died (panicked) before reporting");
            return;
        }
        ctx.progress(1);
    }
}

fn one_runtime(mut ctx: Ctx, outer: &Arc<DropLedger>, p: Params, round: u64) {
    let workers = ctx.rng().usize(1..=4);
    let in_closure = ctx.rng().u32(0..100) < p.in_closure_pct;
    let path = Path::draw(ctx.rng());
    let (rt, subject) = match Subject::build(false, workers) {
        Ok(s) => s,
        Err(e) => return ctx.violation(e),
    };
    let how = if in_closure {
        "drop inside a block_in_place closure of its own task".to_string()
    } else {
        path.to_string()
    };
    let r = Arc::new(Round {
        ctx: ctx.clone(),
        what: format!("round {round} ({}, {how})", subject.flavor()),
        began: AtomicBool::new(false),
        entered: AtomicUsize::new(0),
        exited: AtomicUsize::new(0),
        inside: Default::default(),
    });
    let local = &subject.ledger;
    let guard = || (local.track(), outer.track());
    let tasks = ctx.rng().usize(1..=p.tasks);
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let ms = |rng: &mut fastrand::Rng| Duration::from_micros(rng.u64(0..=p.max_ms * 1_000));
        let inner = match ctx.rng().u8(0..5) {
            0 => Inner::Nothing,
            1 => Inner::Yields(ctx.rng().u32(1..50)),
            2 => Inner::Spawn,
            3 => {
                let (tx, rx) = filch::sync::oneshot::channel::<()>();
                let g = guard();
                drop(rt.spawn(async move {
                    let _g = (g, tx);
                    std::future::pending::<()>().await
                }));
                ctx.count_spawn(1);
                Inner::IdleSender(rx)
            }
            _ => Inner::Sleep(ms(ctx.rng())),
        };
        let (yields, nap, nap2) = (ctx.rng().u32(0..4), ms(ctx.rng()), ms(ctx.rng()));
        handles.push(rt.spawn(task(guard(), r.clone(), yields, nap, inner, nap2)));
    }
    ctx.count_spawn(tasks as u64);
    let dropper = in_closure.then(|| spawn_closure_dropper(&ctx, &rt, guard()));

    // Right before the closures run (0), or while they do.
    std::thread::sleep(Duration::from_micros(
        ctx.rng().u64(0..=(p.max_ms + 2) * 1_000),
    ));
    r.began.store(true, Ordering::SeqCst);
    let returned = match dropper {
        None => shut_down(&ctx, rt, false, path),
        Some((slot, go, done)) => {
            *lock(&slot) = Some(rt);
            let _ = go.send(());
            let deadline = Instant::now() + BOUND + Duration::from_millis(p.max_ms * 3);
            recv_ticking(&ctx, &done, deadline).ok_or_else(|| {
                format!(
                    "a runtime dropped inside a block_in_place closure of its own task: the \
                     drop did not return within {BOUND:?} and the closures' naps"
                )
            })
        }
    };
    let returned = match returned {
        Ok(t) => t,
        Err(e) => return ctx.violation(format!("{}: {e}", r.what)),
    };
    let extra = Duration::from_millis(p.max_ms * 3);
    let deadline = check_after(
        &ctx,
        &subject,
        &r.what,
        path_for_checks(in_closure, path),
        returned,
        extra,
    );
    let all_out = wait_ticking(&ctx, deadline, || {
        r.exited.load(Ordering::SeqCst) == r.entered.load(Ordering::SeqCst)
    });
    ctx.ensure(all_out, || {
        format!(
            "{}: {} of {} block_in_place closures never returned (still inside, by what \
             they block on: {:?})",
            r.what,
            r.entered.load(Ordering::SeqCst) - r.exited.load(Ordering::SeqCst),
            r.entered.load(Ordering::SeqCst),
            Inner::NAMES
                .iter()
                .zip(&r.inside)
                .map(|(n, c)| (*n, c.load(Ordering::SeqCst)))
                .filter(|(_, c)| *c > 0)
                .collect::<Vec<_>>()
        )
    });
    for h in handles {
        let left = deadline.saturating_duration_since(Instant::now());
        match ctx.handle().block_on(within(left, h)) {
            Err(_) => ctx.violation(format!(
                "{}: a block_in_place task's JoinHandle still pending {:?} after the shutdown \
                 returned",
                r.what,
                returned.elapsed()
            )),
            Ok(Err(e)) if e.is_panic() => {
                ctx.violation(format!("{}: a block_in_place task panicked: {e}", r.what))
            }
            Ok(_) => {}
        }
    }
}

/// A drop inside a closure of one of the runtime's own tasks is not a plain `drop` from
/// outside (the calling thread is one of the runtime's): the checks treat it as one that
/// does not wait.
fn path_for_checks(in_closure: bool, path: Path) -> Path {
    if in_closure {
        Path::OwnTask
    } else {
        path
    }
}

type Slot = Arc<Mutex<Option<Runtime>>>;

/// A task that, once told, takes the runtime from the slot and drops it inside a
/// `block_in_place` closure; reports when the drop returned.
fn spawn_closure_dropper(
    ctx: &Ctx,
    rt: &Runtime,
    guard: (Tracked, Tracked),
) -> (
    Slot,
    filch::sync::oneshot::Sender<()>,
    std::sync::mpsc::Receiver<Instant>,
) {
    let slot: Slot = Arc::new(Mutex::new(None));
    let (go_tx, go_rx) = filch::sync::oneshot::channel::<()>();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let s = slot.clone();
    ctx.count_spawn(1);
    drop(rt.spawn(async move {
        let _g = guard;
        if go_rx.await.is_err() {
            return;
        }
        filch::task::block_in_place(|| {
            let rt = lock(&s).take();
            drop(rt);
            let _ = done_tx.send(Instant::now());
        });
        filch::task::yield_now().await;
    }));
    (slot, go_tx, done_rx)
}

async fn task(
    guard: (Tracked, Tracked),
    r: Arc<Round>,
    yields: u32,
    nap: Duration,
    inner: Inner,
    nap2: Duration,
) -> u64 {
    let _g = guard;
    for _ in 0..yields {
        filch::task::yield_now().await;
    }
    let v = filch::task::block_in_place(|| {
        r.entered.fetch_add(1, Ordering::SeqCst);
        let index = inner.index();
        r.inside[index].fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(nap);
        let v = blocked_on(&r, inner);
        std::thread::sleep(nap2);
        r.inside[index].fetch_sub(1, Ordering::SeqCst);
        r.exited.fetch_add(1, Ordering::SeqCst);
        v
    });
    // The rest of the poll runs on the thread that left the runtime; then it yields.
    filch::task::yield_now().await;
    v
}

/// Runs `inner` through `Handle::current().block_on` and checks what it gave.
fn blocked_on(r: &Round, inner: Inner) -> u64 {
    let handle = Handle::current();
    let what = &r.what;
    match inner {
        Inner::Nothing => 0,
        Inner::Yields(n) => handle.block_on(async move {
            for _ in 0..n {
                filch::task::yield_now().await;
            }
            1
        }),
        Inner::Spawn => match handle.block_on(async { filch::spawn(async { 7u64 }).await }) {
            Ok(v) => {
                r.ctx.ensure(v == 7, || {
                    format!("{what}: a task spawned from a closure gave {v}")
                });
                2
            }
            Err(e) => {
                r.ctx
                    .ensure(e.is_cancelled() && r.began.load(Ordering::SeqCst), || {
                        format!("{what}: a task spawned from a closure failed before shutdown: {e}")
                    });
                3
            }
        },
        Inner::IdleSender(rx) => {
            // Only the shutdown ends this wait (it drops the idle sender first).
            let got = handle.block_on(rx);
            r.ctx
                .ensure(got.is_err() && r.began.load(Ordering::SeqCst), || {
                    format!("{what}: a closure's wait on an idle task's channel ended with {got:?}")
                });
            4
        }
        Inner::Sleep(d) => {
            let start = Instant::now();
            match catch_unwind(AssertUnwindSafe(|| handle.block_on(filch::time::sleep(d)))) {
                Ok(()) => {
                    r.ctx.ensure(start.elapsed() >= d, || {
                        format!(
                            "{what}: a sleep in a closure woke {:?} early",
                            d - start.elapsed()
                        )
                    });
                    5
                }
                Err(payload) => {
                    let msg = payload
                        .downcast_ref::<String>()
                        .map(String::as_str)
                        .or_else(|| payload.downcast_ref::<&str>().copied())
                        .unwrap_or("<non-string payload>");
                    let ok = msg.starts_with(TIMER_SHUT_DOWN) && r.began.load(Ordering::SeqCst);
                    r.ctx.ensure(ok, || {
                        format!(
                            "{what}: a sleep in a closure panicked (shutdown begun: {}): {msg}",
                            r.began.load(Ordering::SeqCst)
                        )
                    });
                    6
                }
            }
        }
    }
}
