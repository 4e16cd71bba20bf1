//! The LIFO slot does not strand its task: a task woken into a worker's LIFO slot runs on
//! another worker while the poll that woke it blocks its thread (the starvation users
//! report against tokio's unstealable slot), and the worker that watches the slots for
//! this stops watching once the runtime is idle.
use filch::runtime::{Builder, Runtime};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the waking task blocks its worker, at most. Far above the watcher's few
/// milliseconds, so that a loaded machine still tells "ran meanwhile" from "ran after".
const BLOCK: Duration = Duration::from_millis(500);

fn two_workers(name: &str) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name)
        .build()
        .unwrap()
}

/// Blocks the calling worker's thread until `ran` is set or [`BLOCK`] passed; asserts it
/// was set (by a task that could only run on the other worker) and returns how long that
/// took.
fn block_until(ran: &AtomicBool, what: &str) -> Duration {
    let start = Instant::now();
    while start.elapsed() < BLOCK && !ran.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(1));
    }
    let waited = start.elapsed();
    assert!(
        ran.load(Ordering::SeqCst),
        "{what} waited for the poll that blocks its worker"
    );
    eprintln!("{what} ran {waited:?} after it was queued, its worker blocked");
    waited
}

#[test]
fn a_spawned_task_in_the_lifo_slot_runs_while_its_worker_blocks() {
    let rt = two_workers("lifo-spawn");
    rt.block_on(async {
        // Both workers asleep first, as in a quiet server.
        filch::time::sleep(Duration::from_millis(50)).await;
        let blocker = filch::spawn(async {
            let ran = Arc::new(AtomicBool::new(false));
            // Spawned from a worker: into its LIFO slot.
            let spawned = filch::spawn({
                let ran = ran.clone();
                async move { ran.store(true, Ordering::SeqCst) }
            });
            block_until(&ran, "a spawned task");
            spawned.await.unwrap();
        });
        blocker.await.unwrap();
    });
}

#[test]
fn a_woken_task_in_the_lifo_slot_runs_while_its_worker_blocks() {
    let rt = two_workers("lifo-wake");
    rt.block_on(async {
        let (tx, rx) = filch::sync::oneshot::channel::<()>();
        let ran = Arc::new(AtomicBool::new(false));
        // The waiter is polled once, then waits on the channel.
        let waiter = filch::spawn({
            let ran = ran.clone();
            async move {
                rx.await.unwrap();
                ran.store(true, Ordering::SeqCst);
            }
        });
        filch::time::sleep(Duration::from_millis(50)).await;
        let blocker = filch::spawn(async move {
            // The send wakes the waiter from this worker: into its LIFO slot.
            tx.send(()).unwrap();
            block_until(&ran, "a woken task");
        });
        blocker.await.unwrap();
        waiter.await.unwrap();
    });
}

/// Voluntary context switches so far of this process's threads named `name`.
fn context_switches(name: &str) -> u64 {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let path = task.path();
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if comm.trim_end() != name {
            continue;
        }
        let status = std::fs::read_to_string(path.join("status")).unwrap_or_default();
        total += status
            .lines()
            .find_map(|line| line.strip_prefix("voluntary_ctxt_switches:"))
            .map_or(0, |n| n.trim().parse::<u64>().unwrap());
    }
    total
}

#[test]
fn the_lifo_watcher_stops_watching_when_the_runtime_goes_idle() {
    let rt = two_workers("lifo-idle");
    // Busy with LIFO traffic (message and reply) on one worker while the other sleeps, so
    // that the sleeper watches the slots...
    rt.block_on(async {
        let (ping_tx, mut ping_rx) = filch::sync::mpsc::channel::<u32>(1);
        let (pong_tx, mut pong_rx) = filch::sync::mpsc::channel::<u32>(1);
        let echo = filch::spawn(async move {
            while let Some(n) = ping_rx.recv().await {
                pong_tx.send(n).await.unwrap();
            }
        });
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(100) {
            ping_tx.send(1).await.unwrap();
            pong_rx.recv().await.unwrap();
        }
        drop(ping_tx);
        echo.await.unwrap();
    });
    // ... then idle: after a moment to retire, the watcher sleeps until notified, like
    // every other worker (it would wake every millisecond were it still watching).
    std::thread::sleep(Duration::from_millis(50));
    let before = context_switches("lifo-idle");
    std::thread::sleep(Duration::from_millis(300));
    let wakeups = context_switches("lifo-idle") - before;
    assert!(
        wakeups < 30,
        "idle workers woke up {wakeups} times in 300 ms"
    );
    drop(rt);
}

/// Runs `blockers` tasks that meet at a barrier (so that they sit on different workers of a
/// 4-worker runtime), each of which, after `before(i)`, spawns a task into its worker's
/// LIFO slot and blocks its thread for [`BLOCK`] (as the spawned task does too); returns
/// when each spawned task started, after its spawn. Every one should start within a few
/// ms: idle workers are left.
fn rescue_latencies(name: &str, blockers: usize, before: fn(usize) -> bool) -> Vec<Duration> {
    let rt = Builder::new_multi_thread()
        .worker_threads(4)
        .thread_name(name)
        .build()
        .unwrap();
    rt.block_on(async {
        filch::time::sleep(Duration::from_millis(50)).await;
        let barrier = Arc::new(std::sync::Barrier::new(blockers));
        let blockers: Vec<_> = (0..blockers)
            .map(|i| {
                let barrier = barrier.clone();
                filch::spawn(async move {
                    barrier.wait();
                    if before(i) {
                        // A fresh poll on this worker just before the spawn.
                        filch::task::yield_now().await;
                    }
                    let spawned_at = Instant::now();
                    let inner = filch::spawn(async move {
                        let started = spawned_at.elapsed();
                        // Blocks its worker in turn: a rescuer running it is stuck too.
                        std::thread::sleep(BLOCK);
                        started
                    });
                    std::thread::sleep(BLOCK);
                    inner.await.unwrap()
                })
            })
            .collect();
        let mut latencies = Vec::new();
        for blocker in blockers {
            latencies.push(blocker.await.unwrap());
        }
        latencies
    })
}

#[test]
fn two_workers_stuck_at_once_both_have_their_lifo_task_rescued() {
    for _ in 0..2 {
        let latencies = rescue_latencies("lifo-two", 2, |_| false);
        // Both rescued in one look onto the watcher's deque: the second must be offered
        // to the idle fourth worker, not wait behind the first (which blocks too).
        assert!(
            latencies.iter().all(|&at| at < BLOCK / 2),
            "a LIFO task waited for a blocking poll while a worker was idle: {latencies:?}"
        );
    }
}

#[test]
fn a_watcher_that_rescues_one_slot_hands_the_watch_on() {
    for _ in 0..2 {
        // The second blocker starts a fresh poll just before it spawns, so the look that
        // rescues the first one's task sees the second worker's poll count move and leaves
        // its slot; the rescuer then runs the rescued task, and someone else must watch.
        let latencies = rescue_latencies("lifo-handoff", 2, |i| {
            std::thread::sleep(Duration::from_micros(1300));
            i == 1
        });
        assert!(
            latencies.iter().all(|&at| at < BLOCK / 2),
            "a LIFO task waited for a blocking poll while a worker was idle: {latencies:?}"
        );
    }
}

#[test]
fn a_yielded_task_queued_behind_a_blocking_poll_runs_elsewhere() {
    let rt = two_workers("lifo-yield");
    rt.block_on(async {
        filch::time::sleep(Duration::from_millis(50)).await;
        let (tx, rx) = filch::sync::oneshot::channel::<()>();
        let ran = Arc::new(AtomicBool::new(false));
        // Waits on the channel; woken, it blocks its worker until the yielder has run.
        let blocker = filch::spawn({
            let ran = ran.clone();
            async move {
                rx.await.unwrap();
                block_until(&ran, "a yielded task");
            }
        });
        let yielder = filch::spawn(async move {
            // Busy for a while (short polls), so that the other worker, asleep, holds the
            // LIFO watch and is not told about what follows.
            let start = Instant::now();
            while start.elapsed() < Duration::from_millis(20) {
                filch::task::yield_now().await;
            }
            // Wakes the blocker into this worker's LIFO slot, then yields: this task waits
            // at the back of the deque, announced to nobody, behind the blocking poll.
            tx.send(()).unwrap();
            filch::task::yield_now().await;
            ran.store(true, Ordering::SeqCst);
        });
        // A task for the other worker, which then goes back to sleep while the yielder's
        // worker is busy: it takes the watch.
        filch::spawn(async {}).await.unwrap();
        yielder.await.unwrap();
        blocker.await.unwrap();
    });
}
