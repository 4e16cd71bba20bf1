//! Every way a runtime can shut down drops every task's future: `Drop`, `shutdown_timeout`
//! whose deadline passes, `shutdown_background`, a runtime dropped inside a task or a
//! `block_on`, and spawns and wakes racing the shutdown. Also: panicking thread hooks do
//! not hang shutdown.
//!
//! The tests here take one lock, so that the fd and thread counts they check are not
//! disturbed by each other.
use filch::runtime::{Builder, Runtime};
use std::future::pending;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod support;
use support::{within, DropCounter};

static SERIAL: Mutex<()> = Mutex::new(());

/// Holds the lock; on drop, waits (up to 20 s) until the runtime threads the test started
/// are gone. A runtime shut down without waiting (in the background, or from one of its own
/// threads) closes its fds only when its last thread exits, after the test's last line;
/// the next test must start from a settled process.
struct Serial {
    _guard: std::sync::MutexGuard<'static, ()>,
    threads: usize,
}

/// This process's runtime threads (workers and blocking-pool threads are named
/// `filch-…`; the signal thread, which lives for good, is not counted).
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .flatten()
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|name| name.starts_with("filch-") && !name.starts_with("filch-signal"))
        })
        .count()
}

fn serial() -> Serial {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    Serial {
        _guard: guard,
        threads: threads(),
    }
}

impl Drop for Serial {
    fn drop(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while threads() > self.threads && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Waits (up to 20 s) until `counter` reaches `n`; returns the count it saw.
fn wait_for_drops(counter: &DropCounter, n: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(20);
    while counter.count() < n && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    counter.count()
}

fn multi(workers: usize) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

/// Spawns `n` tasks that each hold a guard of `drops` and wait forever, and waits until
/// every one of them has been polled (so they are idle, in no queue).
fn spawn_idle(rt: &Runtime, drops: &DropCounter, n: usize) {
    let started = Arc::new(AtomicUsize::new(0));
    for _ in 0..n {
        let guard = drops.guard();
        let started = started.clone();
        drop(rt.spawn(async move {
            let _guard = guard;
            started.fetch_add(1, Ordering::SeqCst);
            pending::<()>().await
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while started.load(Ordering::SeqCst) < n {
        assert!(Instant::now() < deadline, "tasks never started");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn shutdown_background_with_busy_workers_drops_every_future() {
    let _serial = serial();
    let rt = multi(2);
    let drops = DropCounter::new();
    spawn_idle(&rt, &drops, 1_000);
    // Both workers busy in a long poll when the shutdown comes.
    for _ in 0..2 {
        let guard = drops.guard();
        drop(rt.spawn(async move {
            let _guard = guard;
            std::thread::sleep(Duration::from_millis(300));
            pending::<()>().await
        }));
    }
    std::thread::sleep(Duration::from_millis(50));
    rt.shutdown_background();
    // The idle ones go at once; the busy ones when their poll ends.
    assert_eq!(wait_for_drops(&drops, 1_002), 1_002);
}

#[test]
fn shutdown_timeout_past_its_deadline_still_drops_every_future_and_socket() {
    let _serial = serial();
    let rt = multi(2);
    let drops = DropCounter::new();
    // Idle tasks holding listeners: their ports must be free again after the shutdown.
    let mut addrs = Vec::new();
    for _ in 0..50 {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        addrs.push(std_listener.local_addr().unwrap());
        let guard = drops.guard();
        drop(rt.spawn(async move {
            let _guard = guard;
            let listener = filch::net::TcpListener::from_std(std_listener).unwrap();
            let _ = listener.accept().await;
        }));
    }
    spawn_idle(&rt, &drops, 950);
    while drops.count() == 0 && rt.handle().num_alive_tasks() < 1_000 {
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(Duration::from_millis(50));
    let stuck = drops.guard();
    drop(rt.spawn(async move {
        let _guard = stuck;
        std::thread::sleep(Duration::from_millis(1_500));
        pending::<()>().await
    }));
    std::thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    rt.shutdown_timeout(Duration::from_millis(200));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "waited past the deadline"
    );
    // Every idle task was dropped before the wait began.
    assert!(
        drops.count() >= 1_000,
        "only {} of the 1,000 idle futures dropped",
        drops.count()
    );
    for addr in &addrs {
        std::net::TcpListener::bind(addr).expect("a dropped task's listener still holds its port");
    }
    // The stuck one, once its poll ends.
    assert_eq!(wait_for_drops(&drops, 1_001), 1_001);
}

#[test]
fn no_fd_outlives_a_shutdown_whose_deadline_passed() {
    let _serial = serial();
    let before = support::open_fds();
    let drops = DropCounter::new();
    {
        let rt = multi(2);
        for _ in 0..20 {
            let guard = drops.guard();
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            drop(rt.spawn(async move {
                let _guard = guard;
                let listener = filch::net::TcpListener::from_std(listener).unwrap();
                let _ = listener.accept().await;
            }));
        }
        let stuck = drops.guard();
        drop(rt.spawn(async move {
            let _guard = stuck;
            std::thread::sleep(Duration::from_millis(500));
        }));
        std::thread::sleep(Duration::from_millis(50));
        rt.shutdown_timeout(Duration::from_millis(10));
    }
    assert_eq!(wait_for_drops(&drops, 21), 21);
    // The runtime's own fds (poller, notifier) go with its last reference, held by the
    // late worker thread until it exits.
    let deadline = Instant::now() + Duration::from_secs(20);
    while support::open_fds() > before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(support::open_fds(), before, "fds leaked by the shutdown");
}

#[test]
fn a_runtime_dropped_inside_a_block_on_drops_every_future() {
    let _serial = serial();
    for flavor in ["multi_thread", "current_thread"] {
        let outer = multi(1);
        let inner = if flavor == "multi_thread" {
            multi(2)
        } else {
            Builder::new_current_thread().build().unwrap()
        };
        let drops = DropCounter::new();
        for _ in 0..100 {
            let guard = drops.guard();
            drop(inner.spawn(async move {
                let _guard = guard;
                pending::<()>().await
            }));
        }
        if flavor == "multi_thread" {
            while inner.handle().num_alive_tasks() < 100 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        outer.block_on(async move { drop(inner) });
        assert_eq!(wait_for_drops(&drops, 100), 100, "{flavor}");
    }
}

#[test]
fn a_runtime_dropped_inside_one_of_its_own_tasks_drops_every_future() {
    let _serial = serial();
    let rt = multi(2);
    let handle = rt.handle().clone();
    let drops = DropCounter::new();
    spawn_idle(&rt, &drops, 100);
    let (tx, rx) = std::sync::mpsc::channel();
    drop(handle.spawn(async move {
        drop(rt);
        tx.send(()).unwrap();
    }));
    rx.recv_timeout(Duration::from_secs(20)).unwrap();
    assert_eq!(wait_for_drops(&drops, 100), 100);
}

#[test]
fn a_current_thread_runtime_dropped_in_its_own_block_on_does_not_hang() {
    let _serial = serial();
    within(Duration::from_secs(20), "drop inside own block_on", || {
        let rt = Builder::new_current_thread().build().unwrap();
        let handle = rt.handle().clone();
        let drops = DropCounter::new();
        let guard = drops.guard();
        drop(rt.spawn(async move {
            let _guard = guard;
            pending::<()>().await
        }));
        handle.block_on(async move {
            filch::task::yield_now().await;
            drop(rt);
        });
        assert_eq!(drops.count(), 1);
        // The handle outlives its runtime: spawning through it is refused.
        let late = handle.spawn(async { 1 });
        assert!(handle.block_on(late).unwrap_err().is_cancelled());
    });
}

#[test]
fn shutdown_drops_idle_tasks_before_waiting_for_a_block_in_place() {
    let _serial = serial();
    // A `block_in_place` closure waits on a channel whose sender an idle task holds:
    // shutdown must drop the idle task first, or it waits forever.
    within(Duration::from_secs(20), "shutdown", || {
        let rt = multi(2);
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        drop(rt.spawn(async move {
            let _tx = tx;
            pending::<()>().await
        }));
        let (entered_tx, entered) = std::sync::mpsc::channel();
        drop(rt.spawn(async move {
            filch::task::block_in_place(|| {
                entered_tx.send(()).unwrap();
                let _ = rx.recv();
            });
        }));
        entered.recv().unwrap();
        drop(rt);
    });
}

#[test]
fn spawns_and_wakes_racing_shutdown_lose_no_task() {
    // Natively a round's window (at most 0.9 ms) fits a few thousand spawns.
    const MAX_SPAWNS_PER_ROUND: usize = 50_000;
    let _serial = serial();
    for round in 0..100 {
        let rt = multi(2);
        let handle = rt.handle().clone();
        let drops = DropCounter::new();
        let made = Arc::new(AtomicUsize::new(0));
        let (wake_tx, wake_rx) = std::sync::mpsc::channel::<filch::sync::oneshot::Sender<()>>();
        let spawner = {
            let drops = drops.clone();
            let made = made.clone();
            std::thread::spawn(move || {
                let mut joins = Vec::new();
                loop {
                    let guard = drops.guard();
                    let (tx, rx) = filch::sync::oneshot::channel::<()>();
                    made.fetch_add(1, Ordering::SeqCst);
                    let join = handle.spawn(async move {
                        let _guard = guard;
                        let _ = rx.await;
                        pending::<()>().await
                    });
                    let refused = join.is_finished();
                    joins.push(join);
                    let _ = wake_tx.send(tx);
                    // Bounded: a thread starved of the CPU (valgrind runs one thread at a
                    // time) would otherwise spawn millions before the shutdown is seen.
                    if refused || joins.len() == MAX_SPAWNS_PER_ROUND {
                        return joins;
                    }
                }
            })
        };
        // Another thread wakes the tasks as they come, racing the shutdown too.
        let waker = std::thread::spawn(move || {
            for tx in wake_rx {
                let _ = tx.send(());
            }
        });
        std::thread::sleep(Duration::from_micros(200 + (round % 7) * 100));
        drop(rt);
        let joins = spawner.join().unwrap();
        waker.join().unwrap();
        let n = made.load(Ordering::SeqCst);
        assert_eq!(
            wait_for_drops(&drops, n),
            n,
            "round {round}: futures not dropped"
        );
        within(Duration::from_secs(20), "join handles", move || {
            for join in joins {
                assert!(futures::executor::block_on(join)
                    .unwrap_err()
                    .is_cancelled());
            }
        });
    }
}

#[test]
fn panicking_thread_hooks_do_not_hang_shutdown() {
    let _serial = serial();
    within(
        Duration::from_secs(30),
        "shutdown with panicking hooks",
        || {
            let started = Arc::new(AtomicUsize::new(0));
            let counted = started.clone();
            let rt = Builder::new_multi_thread()
                .worker_threads(2)
                .on_thread_start(move || {
                    counted.fetch_add(1, Ordering::SeqCst);
                    panic!("start hook panics");
                })
                .on_thread_stop(|| panic!("stop hook panics"))
                .build()
                .unwrap();
            // The workers run anyway.
            assert_eq!(rt.block_on(rt.spawn(async { 7 })).unwrap(), 7);
            // A block_in_place hand-off starts a thread (and its hook) too.
            rt.block_on(rt.spawn(async { filch::task::block_in_place(|| ()) }))
                .unwrap();
            drop(rt);
            assert!(started.load(Ordering::SeqCst) >= 2);
        },
    );
}

#[test]
fn a_runtime_dropped_inside_a_block_in_place_closure_of_its_own_task_does_not_hang() {
    let _serial = serial();
    // Found by filch-stress (shutdown-block-in-place): the closure's thread is one of the
    // runtime's, and a waiting shutdown waited for it, from it.
    within(
        Duration::from_secs(20),
        "drop inside block_in_place",
        || {
            let rt = multi(2);
            let drops = DropCounter::new();
            spawn_idle(&rt, &drops, 10);
            let slot = Arc::new(Mutex::new(None::<Runtime>));
            let (done_tx, done) = std::sync::mpsc::channel();
            let (go_tx, go) = filch::sync::oneshot::channel::<()>();
            let taken = slot.clone();
            drop(rt.spawn(async move {
                let _ = go.await;
                filch::task::block_in_place(|| {
                    drop(taken.lock().unwrap().take());
                    done_tx.send(()).unwrap();
                });
            }));
            *slot.lock().unwrap() = Some(rt);
            go_tx.send(()).unwrap();
            done.recv().unwrap();
            assert_eq!(wait_for_drops(&drops, 10), 10);
        },
    );
}
