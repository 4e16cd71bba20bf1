//! What the shutdown scenarios share: a runtime built to be shut down ([`Subject`]), the
//! ways to shut it down ([`Path`]), and the checks that every one of them must pass once
//! the shutdown call has returned (runtime/src/runtime/mod.rs, "Shutdown"):
//!
//! * within [`BOUND`] (plus the longest blocking work the round started), every future
//!   spawned on it is dropped, its worker threads (and `block_in_place` threads) exit and
//!   its blocking pool is empty; after a plain `drop` from a thread outside any runtime,
//!   every future is dropped *by the time the drop returns*;
//! * every `JoinHandle` resolves within the same bound.
//!
//! Each runtime lives on a plain thread (shutting down blocks, which a worker must not).
pub(crate) mod block_in_place;
pub(crate) mod load;

use crate::alarm::{settle, within};
use crate::ctx::Ctx;
use crate::harness::expect_timer_shutdown_panics;
use crate::ledger::DropLedger;
use crate::proc_fs;
use filch::runtime::{Builder, Handle, Runtime};
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long after the shutdown call returns every future must be dropped, every thread
/// gone and every `JoinHandle` resolved (plus the longest blocking work of the round).
pub(crate) const BOUND: Duration = Duration::from_secs(10);

/// How a runtime is shut down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Path {
    /// `drop(runtime)` on the plain thread: waits for every worker and running job.
    Drop,
    /// `shutdown_timeout(d)`, `d` small: usually returns before the busy workers stop.
    Timeout(Duration),
    /// `shutdown_background()`: does not wait.
    Background,
    /// Dropped inside one of its own tasks (no wait: an asynchronous context). On a
    /// current-thread runtime, the task runs inside the runtime's own `Handle::block_on`.
    OwnTask,
    /// Dropped inside the `block_on` of another (current-thread) runtime.
    OtherBlockOn,
    /// Dropped inside a task of the harness's runtime.
    HarnessTask,
}

impl Path {
    /// A path drawn from `rng`.
    pub(crate) fn draw(rng: &mut fastrand::Rng) -> Path {
        match rng.u8(0..6) {
            0 => Path::Drop,
            1 => Path::Timeout(Duration::from_micros(rng.u64(0..=20_000))),
            2 => Path::Background,
            3 => Path::OwnTask,
            4 => Path::OtherBlockOn,
            _ => Path::HarnessTask,
        }
    }

    /// Whether the call waits for everything: then every future is dropped when it
    /// returns.
    pub(crate) fn waits(self) -> bool {
        self == Path::Drop
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Drop => f.write_str("drop"),
            Path::Timeout(d) => write!(f, "shutdown_timeout({d:?})"),
            Path::Background => f.write_str("shutdown_background"),
            Path::OwnTask => f.write_str("drop inside one of its own tasks"),
            Path::OtherBlockOn => f.write_str("drop inside another runtime's block_on"),
            Path::HarnessTask => f.write_str("drop inside a task of the harness's runtime"),
        }
    }
}

/// A runtime built to be shut down, and what tells whether its threads are gone.
pub(crate) struct Subject {
    /// Kept past the shutdown, to read the blocking pool's thread count.
    pub(crate) handle: Handle,
    pub(crate) current_thread: bool,
    /// The name of its worker threads (unique to this runtime).
    thread_name: String,
    starts: Arc<AtomicUsize>,
    stops: Arc<AtomicUsize>,
    /// Every future (and blocking closure) spawned on it holds a guard of this ledger.
    pub(crate) ledger: Arc<DropLedger>,
}

impl Subject {
    /// A current-thread runtime, or a multi-thread one with `workers` workers.
    pub(crate) fn build(
        current_thread: bool,
        workers: usize,
    ) -> Result<(Runtime, Subject), String> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let thread_name = format!("fsd-{}", NEXT.fetch_add(1, Ordering::Relaxed) % 1_000_000);
        let starts = Arc::new(AtomicUsize::new(0));
        let stops = Arc::new(AtomicUsize::new(0));
        let mut builder = if current_thread {
            Builder::new_current_thread()
        } else {
            let mut b = Builder::new_multi_thread();
            b.worker_threads(workers);
            b
        };
        let (s, t) = (starts.clone(), stops.clone());
        let rt = builder
            .thread_name(thread_name.clone())
            .on_thread_start(move || {
                s.fetch_add(1, Ordering::SeqCst);
                expect_timer_shutdown_panics();
            })
            .on_thread_stop(move || {
                t.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .map_err(|e| format!("build a runtime: {e}"))?;
        let subject = Subject {
            handle: rt.handle().clone(),
            current_thread,
            thread_name,
            starts,
            stops,
            ledger: DropLedger::new(),
        };
        Ok((rt, subject))
    }

    /// "current-thread" or "multi-thread (N workers)".
    pub(crate) fn flavor(&self) -> String {
        if self.current_thread {
            "current-thread".into()
        } else {
            format!("multi-thread ({} workers)", self.handle.num_workers())
        }
    }
}

/// Shuts `rt` (current-thread or not) down by `path` from a plain thread; returns when the
/// shutdown call returned.
pub(crate) fn shut_down(
    ctx: &Ctx,
    rt: Runtime,
    current_thread: bool,
    path: Path,
) -> Result<Instant, String> {
    match path {
        Path::Drop => {
            drop(rt);
            Ok(Instant::now())
        }
        Path::Timeout(d) => {
            rt.shutdown_timeout(d);
            Ok(Instant::now())
        }
        Path::Background => {
            rt.shutdown_background();
            Ok(Instant::now())
        }
        Path::OwnTask => drop_in_own_task(ctx, rt, current_thread),
        Path::OtherBlockOn => {
            let helper = Builder::new_current_thread()
                .build()
                .map_err(|e| format!("build the helper runtime: {e}"))?;
            let returned = helper.block_on(async move {
                drop(rt);
                Instant::now()
            });
            drop(helper);
            Ok(returned)
        }
        Path::HarnessTask => {
            let dropper = ctx.spawn(async move {
                drop(rt);
                Instant::now()
            });
            match ctx.handle().block_on(within(BOUND, dropper)) {
                Ok(Ok(returned)) => Ok(returned),
                Ok(Err(e)) => Err(format!("the harness task dropping the runtime failed: {e}")),
                Err(_) => Err(format!(
                    "a drop inside a harness task did not return within {BOUND:?}"
                )),
            }
        }
    }
}

/// Moves `rt` into a slot that one of its own tasks takes it from and drops it.
fn drop_in_own_task(ctx: &Ctx, rt: Runtime, current_thread: bool) -> Result<Instant, String> {
    let handle = rt.handle().clone();
    let slot = Arc::new(Mutex::new(Some(rt)));
    let (tx, rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = filch::sync::oneshot::channel();
    let s = slot.clone();
    ctx.count_spawn(1);
    let dropper = handle.spawn(async move {
        let rt = crate::ctx::lock(&s).take();
        drop(rt);
        let returned = Instant::now();
        let _ = tx.send(returned);
        let _ = done_tx.send(returned);
    });
    drop(dropper);
    if current_thread {
        // Its tasks only run inside a `block_on`: the runtime's own one, here.
        match handle.block_on(within(BOUND, done_rx)) {
            Ok(Ok(returned)) => Ok(returned),
            Ok(Err(_)) => Err("the task dropping its own runtime was dropped first".into()),
            Err(_) => Err(format!(
                "a current-thread runtime dropped in its own task did not return within \
                 {BOUND:?}"
            )),
        }
    } else {
        recv_ticking(ctx, &rx, Instant::now() + BOUND).ok_or_else(|| {
            format!("a runtime dropped in its own task: the drop did not return within {BOUND:?}")
        })
    }
}

/// Waits (ticking progress, see [`wait_ticking`]) until `deadline` for what `rx` brings.
pub(crate) fn recv_ticking<T>(
    ctx: &Ctx,
    rx: &std::sync::mpsc::Receiver<T>,
    deadline: Instant,
) -> Option<T> {
    let mut got = None;
    wait_ticking(ctx, deadline, || {
        got = rx.try_recv().ok();
        got.is_some()
    });
    got
}

/// The checks once the shutdown call returned at `returned`; every failure is reported as
/// a violation (prefixed with `what`, which names the round). `extra` is the longest
/// blocking work the round started. Returns the deadline the checks ran against.
pub(crate) fn check_after(
    ctx: &Ctx,
    subject: &Subject,
    what: &str,
    path: Path,
    returned: Instant,
    extra: Duration,
) -> Instant {
    let deadline = returned + BOUND + extra;
    let ledger = &subject.ledger;
    if path.waits() && ledger.dropped() != ledger.created() {
        ctx.violation(format!(
            "{what}: when {path} returned, {} of {} futures were still alive",
            ledger.created().saturating_sub(ledger.dropped()),
            ledger.created()
        ));
    }
    if !wait_ticking(ctx, deadline, || ledger.dropped() >= ledger.created()) {
        ctx.violation(format!(
            "{what}: {} of {} futures still alive {:?} after {path} returned",
            ledger.created().saturating_sub(ledger.dropped()),
            ledger.created(),
            returned.elapsed()
        ));
    }
    if ledger.double_drops() > 0 {
        ctx.violation(format!(
            "{what}: {} futures dropped twice",
            ledger.double_drops()
        ));
    }
    if !subject.current_thread {
        let gone = wait_ticking(ctx, deadline, || {
            proc_fs::threads_named(&subject.thread_name) == 0
                && subject.stops.load(Ordering::SeqCst) == subject.starts.load(Ordering::SeqCst)
        });
        if !gone {
            ctx.violation(format!(
                "{what}: {:?} after {path} returned, {} of its threads are alive (started {}, \
                 stopped {})",
                returned.elapsed(),
                proc_fs::threads_named(&subject.thread_name),
                subject.starts.load(Ordering::SeqCst),
                subject.stops.load(Ordering::SeqCst)
            ));
        }
    }
    if !wait_ticking(ctx, deadline, || subject.handle.num_blocking_threads() == 0) {
        ctx.violation(format!(
            "{what}: {:?} after {path} returned, its blocking pool still has {} threads",
            returned.elapsed(),
            subject.handle.num_blocking_threads()
        ));
    }
    deadline
}

/// [`settle`], ticking the scenario's progress counter every 100 ms: the wait is bounded,
/// and a failure is reported with its own message rather than as a stall.
pub(crate) fn wait_ticking(ctx: &Ctx, deadline: Instant, mut cond: impl FnMut() -> bool) -> bool {
    let mut last_tick = Instant::now();
    settle(deadline, || {
        if last_tick.elapsed() >= Duration::from_millis(100) {
            ctx.progress(1);
            last_tick = Instant::now();
        }
        cond()
    })
}
