//! `shutdown-load`: a plain thread builds a runtime (multi-thread with 1–4 workers, or
//! current-thread), loads it with idle tasks holding TCP listeners on 127.0.0.1 and the
//! accepted and connected sockets, tasks in timers (hours, years, `Duration::MAX`, a
//! `timeout` of `u64::MAX` seconds), busy tasks that block their worker for up to a few
//! milliseconds per poll, short tasks racing the shutdown, idle tasks and `spawn_blocking`
//! jobs that sleep a few milliseconds; then shuts it down by a seeded [`Path`].
//!
//! Invariants, once the shutdown call returned (see [`super`] for the common ones): every
//! socket the round opened is closed (by its inode in `/proc/self/fd`, so sockets of other
//! scenarios do not matter) and every listener's port can be bound again; a task that can
//! only finish after shutdown (idle, socket, timer, busy) resolves *cancelled*; a short task
//! or a blocking job resolves with its value or cancelled, and a blocking job that had
//! started resolves with its value; and, when this scenario runs alone, the process's count
//! of open file descriptors comes back to what it was before the runtime was built.
use super::{check_after, shut_down, wait_ticking, Path, Subject, BOUND};
use crate::alarm::within;
use crate::ctx::Ctx;
use crate::harness::{expect_timer_shutdown_panics, TIMER_SHUT_DOWN};
use crate::ledger::{DropLedger, Tracked};
use crate::proc_fs;
use crate::scenario::Scenario;
use filch::io::AsyncReadExt;
use filch::net::{TcpListener, TcpStream};
use filch::task::{JoinError, JoinHandle};
use std::collections::HashSet;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) fn scenario() -> Scenario {
    let ledger = DropLedger::new();
    let l = ledger.clone();
    Scenario::new("shutdown-load", move |ctx| run(ctx, l)).check(move || ledger.balanced())
}

/// The seed's ranges; each runtime draws its own counts within them.
#[derive(Debug, Clone, Copy)]
struct Params {
    current_pct: u32,
    listeners: usize,
    conns: usize,
    timers: usize,
    busy: usize,
    spin_us: u64,
    shorts: usize,
    idle: usize,
    jobs: usize,
    job_ms: u64,
}

/// What a task is, and so what its `JoinHandle` may resolve to after the shutdown.
#[derive(Debug, Clone)]
enum Kind {
    Listener,
    /// Raises its flag once its read is registered (first poll returned `Pending`).
    Connector(Arc<AtomicBool>),
    /// Raises its flag once its timer is registered.
    Timer(Arc<AtomicBool>),
    Busy,
    Idle,
    /// Finishes on its own (value `i`) unless the shutdown comes first.
    Short(u64),
    /// A blocking job (value `i`).
    Job(u64),
}

/// What the tasks report while the runtime is set up.
enum Event {
    Listener { port: u16, inode: Option<u64> },
    Socket { inode: Option<u64> },
    Failed(String),
}

async fn run(mut ctx: Ctx, ledger: Arc<DropLedger>) {
    let p = Params {
        current_pct: ctx.rng().u32(0..=40),
        listeners: ctx.rng().usize(1..=4),
        conns: ctx.rng().usize(0..=4),
        timers: ctx.rng().usize(1..=16),
        busy: ctx.rng().usize(0..=4),
        spin_us: ctx.rng().u64(0..=2_000),
        shorts: ctx.rng().usize(0..=32),
        idle: ctx.rng().usize(0..=16),
        jobs: ctx.rng().usize(0..=16),
        job_ms: ctx.rng().u64(1..=10),
    };
    let fds_checked = ctx.runs_alone();
    ctx.set_params(format!(
        "{}% current-thread; up to {} listeners x {} connections, {} timers, {} busy \
         (<= {} us per poll), {} short, {} idle, {} blocking jobs (<= {} ms); fd count {}",
        p.current_pct,
        p.listeners,
        p.conns,
        p.timers,
        p.busy,
        p.spin_us,
        p.shorts,
        p.idle,
        p.jobs,
        p.job_ms,
        if fds_checked {
            "checked (alone)"
        } else {
            "not checked (other scenarios run)"
        }
    ));
    let mut round = 0u64;
    while !ctx.is_stopped() {
        round += 1;
        let baseline = if fds_checked {
            proc_fs::open_fds()
        } else {
            None
        };
        let child = ctx.fork();
        let ledger = ledger.clone();
        let (tx, rx) = filch::sync::oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("fs-shutdown-load".into())
            .spawn(move || {
                let _ = tx.send(one_runtime(child, &ledger, p, round));
            });
        if let Err(e) = spawned {
            ctx.violation(format!("start a thread: {e}"));
            return;
        }
        let Ok((what, deadline)) = rx.await else {
            ctx.violation("a shutdown-load thread died (panicked) before reporting");
            return;
        };
        if let Some(base) = baseline {
            // Everything of the round is gone by now but the subject's last threads,
            // which may still be closing the poller: give them the round's bound.
            let mut now = proc_fs::open_fds().unwrap_or(0);
            while now > base && Instant::now() < deadline {
                filch::time::sleep(Duration::from_millis(2)).await;
                now = proc_fs::open_fds().unwrap_or(0);
            }
            ctx.ensure(now <= base, || {
                format!(
                    "{what}: {now} fds open after the shutdown and its bound, {base} before \
                     the runtime was built"
                )
            });
        }
        ctx.progress(1);
    }
}

/// One runtime's life, on a plain thread. Returns the round's name and the deadline its
/// checks ran against.
fn one_runtime(mut ctx: Ctx, outer: &Arc<DropLedger>, p: Params, round: u64) -> (String, Instant) {
    // A current-thread runtime runs its tasks here (see `check_result` on timer panics).
    expect_timer_shutdown_panics();
    let current = ctx.rng().u32(0..100) < p.current_pct;
    let workers = ctx.rng().usize(1..=4);
    let path = Path::draw(ctx.rng());
    let (rt, subject) = match Subject::build(current, workers) {
        Ok(s) => s,
        Err(e) => {
            ctx.violation(e);
            return (format!("round {round}"), Instant::now());
        }
    };
    let what = format!("round {round} ({}, {path})", subject.flavor());
    let local = subject.ledger.clone();
    let guard = || (local.track(), outer.track());
    let listeners = ctx.rng().usize(1..=p.listeners);
    let conns = ctx.rng().usize(0..=p.conns);
    let timers = ctx.rng().usize(0..=p.timers);
    let busy = ctx.rng().usize(0..=p.busy);
    let shorts = ctx.rng().usize(0..=p.shorts);
    let idle = ctx.rng().usize(0..=p.idle);
    let jobs = ctx.rng().usize(0..=p.jobs);
    let mut rng = ctx.rng().fork();
    let mut handles: Vec<(Kind, JoinHandle<u64>)> = Vec::new();
    let mut started_jobs = Vec::new();
    let (ev_tx, mut ev_rx) = filch::sync::mpsc::unbounded_channel::<Event>();

    // Set up inside `block_on`: a current-thread runtime only runs its tasks there.
    let setup = rt.block_on(async {
        for _ in 0..listeners {
            let (g, tx) = (guard(), ev_tx.clone());
            handles.push((Kind::Listener, filch::spawn(listener(g, tx))));
        }
        let mut ports = Vec::new();
        let mut inodes = HashSet::new();
        let mut failures = Vec::new();
        // Listeners, then two sockets per connection (the connected and the accepted one).
        let (mut wanted, mut got) = (listeners, 0);
        let setup = within(Duration::from_secs(5), async {
            while got < wanted {
                let Some(event) = ev_rx.recv().await else {
                    break;
                };
                got += 1;
                match event {
                    Event::Listener { port, inode } => {
                        ports.push(port);
                        inodes.extend(inode);
                        for _ in 0..conns {
                            let (g, tx) = (guard(), ev_tx.clone());
                            let idle = Arc::new(AtomicBool::new(false));
                            let task = filch::spawn(connector(g, tx, port, idle.clone()));
                            handles.push((Kind::Connector(idle), task));
                            wanted += 2;
                        }
                    }
                    Event::Socket { inode } => {
                        inodes.extend(inode);
                    }
                    Event::Failed(e) => failures.push(e),
                }
            }
        })
        .await;
        for i in 0..timers {
            let g = guard();
            // Never due before the shutdown: a timer task that completes is a violation.
            let far = match rng.u8(0..4) {
                0 => Duration::MAX,
                1 => Duration::from_secs(365 * 86_400 * rng.u64(1..=1_000)),
                2 => Duration::from_secs(rng.u64(60..=3_600)),
                _ => Duration::from_secs(u64::MAX),
            };
            let as_timeout = i % 2 == 1;
            let idle = Arc::new(AtomicBool::new(false));
            let flag = idle.clone();
            handles.push((
                Kind::Timer(idle),
                filch::spawn(async move {
                    let _g = g;
                    if as_timeout {
                        let t = filch::time::timeout(far, std::future::pending::<()>());
                        let _ = registered(&flag, t).await;
                    } else {
                        registered(&flag, filch::time::sleep(far)).await;
                    }
                    1
                }),
            ));
        }
        for _ in 0..busy {
            let g = guard();
            let spin = Duration::from_micros(rng.u64(0..=p.spin_us));
            handles.push((
                Kind::Busy,
                filch::spawn(async move {
                    let _g = g;
                    loop {
                        // Blocks the worker for the whole spin: a poll shutdown must wait for.
                        let until = Instant::now() + spin;
                        while Instant::now() < until {
                            std::hint::spin_loop();
                        }
                        filch::task::yield_now().await;
                    }
                }),
            ));
        }
        for i in 0..shorts as u64 {
            let g = guard();
            let yields = rng.u32(0..8);
            handles.push((
                Kind::Short(i),
                filch::spawn(async move {
                    let _g = g;
                    for _ in 0..yields {
                        filch::task::yield_now().await;
                    }
                    i
                }),
            ));
        }
        for _ in 0..idle {
            let g = guard();
            handles.push((
                Kind::Idle,
                filch::spawn(async move {
                    let _g = g;
                    std::future::pending::<u64>().await
                }),
            ));
        }
        for i in 0..jobs as u64 {
            let g = guard();
            let nap = Duration::from_micros(rng.u64(0..=p.job_ms * 1_000));
            let started = Arc::new(AtomicBool::new(false));
            let s = started.clone();
            started_jobs.push((i, started));
            handles.push((
                Kind::Job(i),
                filch::task::spawn_blocking(move || {
                    let _g = g;
                    s.store(true, Ordering::SeqCst);
                    std::thread::sleep(nap);
                    i
                }),
            ));
        }
        (setup.is_ok(), ports, inodes, failures)
    });
    drop(ev_tx);
    ctx.count_spawn(handles.len() as u64);
    let (setup_done, ports, inodes, failures) = setup;
    ctx.ensure(setup_done, || {
        format!("{what}: the listeners and connections were not set up within 5 s")
    });
    for f in failures {
        ctx.violation(format!("{what}: setting up a socket failed: {f}"));
    }
    if !current {
        // Let the busy tasks and the jobs be in the middle of something.
        std::thread::sleep(Duration::from_micros(ctx.rng().u64(0..=3_000)));
    }

    // Which socket and timer tasks are idle now, their wait registered: those can only be
    // dropped by the shutdown, never polled again. (One still in its first poll may see its
    // read fail or its timer panic, as the shutdown order documents.)
    let idle_at_shutdown: Vec<bool> = handles.iter().map(|(k, _)| k.idle()).collect();
    let returned = match shut_down(&ctx, rt, current, path) {
        Ok(t) => t,
        Err(e) => {
            ctx.violation(format!("{what}: {e}"));
            return (what, Instant::now() + BOUND);
        }
    };
    let extra = Duration::from_millis(p.job_ms) + Duration::from_micros(p.spin_us);
    let deadline = check_after(&ctx, &subject, &what, path, returned, extra);

    let closed = wait_ticking(&ctx, deadline, || {
        proc_fs::open_socket_inodes().is_disjoint(&inodes)
    });
    if !closed {
        let open = proc_fs::open_socket_inodes();
        ctx.violation(format!(
            "{what}: {} of the round's {} sockets still open {:?} after the shutdown returned",
            inodes.intersection(&open).count(),
            inodes.len(),
            returned.elapsed()
        ));
    }
    for port in ports {
        check_port_free(&ctx, &what, port, &inodes, deadline);
    }

    // No JoinHandle stays pending: each resolves as its kind allows.
    for ((kind, h), idle) in handles.into_iter().zip(idle_at_shutdown) {
        let left = deadline.saturating_duration_since(Instant::now());
        match ctx.handle().block_on(within(left, h)) {
            Err(_) => ctx.violation(format!(
                "{what}: a {} task's JoinHandle still pending {:?} after the shutdown \
                 returned",
                kind.name(),
                returned.elapsed()
            )),
            Ok(result) => check_result(&ctx, &what, &kind, idle, result, &started_jobs),
        }
    }
    (what, deadline)
}

/// Binds a listener, reports it, then accepts forever, keeping every accepted socket.
async fn listener(guard: (Tracked, Tracked), tx: filch::sync::mpsc::UnboundedSender<Event>) -> u64 {
    let _g = guard;
    let l = match TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => l,
        Err(e) => {
            let _ = tx.send(Event::Failed(format!("bind: {e}")));
            return std::future::pending().await;
        }
    };
    let port = l.local_addr().map(|a| a.port()).unwrap_or(0);
    let inode = proc_fs::socket_inode(l.as_raw_fd());
    let _ = tx.send(Event::Listener { port, inode });
    let mut held = Vec::new();
    loop {
        match l.accept().await {
            Ok((s, _)) => {
                let _ = tx.send(Event::Socket {
                    inode: proc_fs::socket_inode(s.as_raw_fd()),
                });
                held.push(s);
            }
            Err(e) => {
                let _ = tx.send(Event::Failed(format!("accept: {e}")));
                return std::future::pending().await;
            }
        }
    }
}

/// Connects to `port`, reports the socket, then waits for bytes that never come: the
/// peer (held by the listener task) only closes when the shutdown drops it. Returns what
/// the read gave: 2 for an error, 3 for end-of-file, 4 for data (never sent).
async fn connector(
    guard: (Tracked, Tracked),
    tx: filch::sync::mpsc::UnboundedSender<Event>,
    port: u16,
    idle: Arc<AtomicBool>,
) -> u64 {
    let _g = guard;
    let mut s = match TcpStream::connect(("127.0.0.1", port)).await {
        Ok(s) => s,
        Err(e) => {
            let _ = tx.send(Event::Failed(format!("connect: {e}")));
            return std::future::pending().await;
        }
    };
    let _ = tx.send(Event::Socket {
        inode: proc_fs::socket_inode(s.as_raw_fd()),
    });
    drop(tx);
    let mut buf = [0u8; 16];
    match registered(&idle, s.read(&mut buf)).await {
        Err(_) => 2,
        Ok(0) => 3,
        Ok(_) => 4,
    }
}

/// Polls `fut`, raising `flag` once its first poll has returned `Pending` (its wait is
/// registered: the task is idle when that poll ends).
async fn registered<F: std::future::Future>(flag: &AtomicBool, fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(|cx| {
        let r = fut.as_mut().poll(cx);
        if r.is_pending() {
            flag.store(true, Ordering::SeqCst);
        }
        r
    })
    .await
}

/// The port of a closed listener can be bound again. A failure is a violation unless
/// `/proc/net/tcp` shows the port taken by a socket that is not one of the round's (an
/// ephemeral port handed to another scenario's connection, say).
fn check_port_free(ctx: &Ctx, what: &str, port: u16, ours: &HashSet<u64>, deadline: Instant) {
    let mut last_err = None;
    let bound = wait_ticking(ctx, deadline, || {
        match std::net::TcpListener::bind(("127.0.0.1", port)) {
            Ok(_) => true,
            Err(e) => {
                last_err = Some(e);
                false
            }
        }
    });
    if bound {
        return;
    }
    let holders = proc_fs::tcp_port_holders(port);
    let ours_hold = holders.iter().any(|(_, inode)| ours.contains(inode));
    let others_hold = holders
        .iter()
        .any(|(_, inode)| *inode != 0 && !ours.contains(inode));
    if ours_hold || !others_hold {
        ctx.violation(format!(
            "{what}: port {port} of a dropped listener cannot be bound again: {} (sockets on \
             it, as (state, inode): {holders:?})",
            last_err.map_or_else(|| "?".to_string(), |e| e.to_string())
        ));
    }
}

impl Kind {
    fn name(&self) -> String {
        match self {
            Kind::Listener => "listener".into(),
            Kind::Connector(_) => "connector".into(),
            Kind::Timer(_) => "timer".into(),
            Kind::Busy => "busy".into(),
            Kind::Idle => "idle".into(),
            Kind::Short(i) => format!("short #{i}"),
            Kind::Job(i) => format!("blocking job #{i}"),
        }
    }

    /// Whether its wait is registered (only socket and timer tasks say).
    fn idle(&self) -> bool {
        match self {
            Kind::Connector(f) | Kind::Timer(f) => f.load(Ordering::SeqCst),
            _ => false,
        }
    }
}

/// Checks what a task's `JoinHandle` gave; `idle` says whether its wait was registered
/// (its poll over) when the shutdown began.
fn check_result(
    ctx: &Ctx,
    what: &str,
    kind: &Kind,
    idle: bool,
    result: Result<u64, JoinError>,
    started_jobs: &[(u64, Arc<AtomicBool>)],
) {
    let name = kind.name();
    match (kind, result) {
        (Kind::Timer(_), Err(e)) if e.is_panic() => {
            // A timer task whose first poll overlapped the shutdown: `filch::time` documents
            // that a timer polled once its runtime is shutting down panics so.
            let msg = e.to_string();
            ctx.ensure(msg.contains(TIMER_SHUT_DOWN) && !idle, || {
                format!("{what}: a {name} task (registered before the shutdown: {idle}) panicked: {msg}")
            });
        }
        (_, Err(e)) if e.is_panic() => {
            ctx.violation(format!("{what}: a {name} task panicked: {e}"));
        }
        (Kind::Short(i) | Kind::Job(i), Ok(v)) => {
            ctx.ensure(v == *i, || format!("{what}: {name} returned {v}"));
        }
        (Kind::Job(i), Err(_)) => {
            let started = started_jobs
                .iter()
                .any(|(j, s)| j == i && s.load(Ordering::SeqCst));
            ctx.ensure(!started, || {
                format!(
                    "{what}: {name} was running at shutdown but its JoinHandle got no value \
                     (cancelled)"
                )
            });
        }
        (Kind::Short(_), Err(_)) => {}
        (Kind::Connector(_), Ok(v)) if !idle && v != 4 => {
            // Still in its first poll when the shutdown began: its read may fail (the
            // sources are shut down) or see the peer's end of file (the peer, idle, is
            // dropped at once).
        }
        (_, Ok(v)) => ctx.violation(format!(
            "{what}: a {name} task, which only a shutdown ends, completed with {v} (its wait \
             registered before the shutdown began: {idle}): it was polled after the shutdown \
             began"
        )),
        (_, Err(_)) => {} // cancelled, as it must
    }
}
