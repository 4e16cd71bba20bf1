//! The primitives on filch's multi-thread runtime (2 workers): real work stealing, real
//! cross-thread wakeups, and task cancellation through `JoinHandle::abort`.
//!
//! The other `sync_*.rs` tests drive the primitives with `futures::executor`; these check
//! that they also hold up when the tasks using them are spread over filch's workers and
//! moved between them. Everything goes through `filch::sync`, the re-export users see.
// Under `--cfg loom` filch's runtime uses loom's atomics, which only work inside a model.
#![cfg(not(loom))]

use filch::runtime::{Builder, Runtime};
use filch::sync::{broadcast, mpsc, oneshot, watch, Mutex, Notify, RwLock, Semaphore};
use filch::task::{yield_now, JoinHandle};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

const WORKERS: usize = 2;

fn runtime() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .build()
        .expect("filch runtime")
}

/// Awaits every handle and panics if a task failed.
async fn join_all<T>(handles: Vec<JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        out.push(handle.await.expect("task failed"));
    }
    out
}

/// A small deterministic PRNG (xorshift64*), so a failure can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// 64 tasks on 2 workers lock one mutex 1,000 times each. Inside the critical section a
/// task marks the mutex busy, yields (so it may be suspended and the other worker may run
/// or steal tasks), and checks nobody else got in.
#[test]
fn mutex_contention_64_tasks_2_workers() {
    const TASKS: usize = 64;
    const LOCKS: usize = 1_000;
    let rt = runtime();
    let mutex = Arc::new(Mutex::new(0u64));
    let inside = Arc::new(AtomicBool::new(false));
    rt.block_on(async {
        let handles = (0..TASKS)
            .map(|i| {
                let mutex = mutex.clone();
                let inside = inside.clone();
                filch::spawn(async move {
                    for j in 0..LOCKS {
                        let mut count = mutex.lock().await;
                        assert!(
                            !inside.swap(true, Ordering::SeqCst),
                            "two tasks inside the mutex"
                        );
                        *count += 1;
                        if (i + j) % 16 == 0 {
                            // The guard is held across an await point.
                            yield_now().await;
                        }
                        inside.store(false, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        join_all(handles).await;
    });
    assert_eq!(*mutex.try_lock().unwrap(), (TASKS * LOCKS) as u64);
}

/// 64 tasks share a 4-permit semaphore; a random third of them are aborted while they
/// wait or while they hold a permit. Never more than 4 tasks are inside, at least one
/// time all 4 are, and every permit comes back: aborting a waiter or a holder leaks
/// nothing.
#[test]
fn semaphore_caps_concurrency_and_survives_abort() {
    const PERMITS: usize = 4;
    const TASKS: usize = 64;
    const ACQUIRES: usize = 50;
    let rt = runtime();
    for seed in [0x9e37_79b9_7f4a_7c15_u64, 1, 0xdead_beef] {
        let mut rng = Rng(seed);
        let sem = Arc::new(Semaphore::new(PERMITS));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let max_in_flight = Arc::new(AtomicUsize::new(0));
        let outcome = rt.block_on(async {
            let handles: Vec<_> = (0..TASKS)
                .map(|_| {
                    let sem = sem.clone();
                    let in_flight = in_flight.clone();
                    let max_in_flight = max_in_flight.clone();
                    filch::spawn(async move {
                        for _ in 0..ACQUIRES {
                            let _permit = sem.acquire().await.expect("not closed");
                            // Decremented on drop, so an abort while holding is counted.
                            let _inside = InFlight::enter(&in_flight, &max_in_flight);
                            yield_now().await;
                            yield_now().await;
                        }
                    })
                })
                .collect();
            // Abort a random third, at random moments while the others make progress.
            let mut aborted = vec![false; TASKS];
            for _ in 0..TASKS / 3 {
                for _ in 0..rng.below(20) {
                    yield_now().await;
                }
                let victim = rng.below(TASKS as u64) as usize;
                handles[victim].abort();
                aborted[victim] = true;
            }
            let (mut completed, mut cancelled) = (0, 0);
            for (handle, aborted) in handles.into_iter().zip(aborted) {
                match handle.await {
                    Ok(()) => completed += 1,
                    Err(e) => {
                        assert!(aborted && e.is_cancelled(), "seed {seed:#x}: {e:?}");
                        cancelled += 1;
                    }
                }
            }
            (completed, cancelled)
        });
        let (completed, cancelled) = outcome;
        assert!(completed > 0, "seed {seed:#x}: every task was aborted");
        assert!(
            cancelled > 0,
            "seed {seed:#x}: no abort landed before its task finished"
        );
        assert_eq!(in_flight.load(Ordering::SeqCst), 0, "seed {seed:#x}");
        assert_eq!(
            max_in_flight.load(Ordering::SeqCst),
            PERMITS,
            "seed {seed:#x}: concurrency must reach, and never pass, the permit count"
        );
        assert_eq!(
            sem.available_permits(),
            PERMITS,
            "seed {seed:#x}: permits leaked"
        );
    }
}

/// Counts a task as inside the semaphore while it lives.
struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    fn enter(in_flight: &'a AtomicUsize, max: &AtomicUsize) -> Self {
        let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        max.fetch_max(now, Ordering::SeqCst);
        Self(in_flight)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// 16 producers x 10,000 messages through a bounded(64) channel: each producer's messages
/// arrive in order, and every message arrives exactly once.
#[test]
fn mpsc_16_producers_order_and_exactly_once() {
    const PRODUCERS: usize = 16;
    const MESSAGES: usize = 10_000;
    let rt = runtime();
    let next = rt.block_on(async {
        let (tx, mut rx) = mpsc::channel::<(usize, usize)>(64);
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let tx = tx.clone();
                filch::spawn(async move {
                    for i in 0..MESSAGES {
                        tx.send((p, i)).await.expect("receiver alive");
                    }
                })
            })
            .collect();
        drop(tx);
        let consumer = filch::spawn(async move {
            let mut next = vec![0; PRODUCERS];
            while let Some((p, i)) = rx.recv().await {
                assert_eq!(i, next[p], "producer {p}: out of order or duplicated");
                next[p] += 1;
            }
            next
        });
        join_all(producers).await;
        consumer.await.expect("consumer")
    });
    assert_eq!(next, vec![MESSAGES; PRODUCERS], "messages lost");
}

/// Oneshots across tasks: values sent from tasks on either worker arrive; a dropped
/// sender is seen as an error; a dropped receiver hands the value back.
#[test]
fn oneshot_across_tasks() {
    let rt = runtime();
    rt.block_on(async {
        let (txs, rxs): (Vec<_>, Vec<_>) = (0..1_000).map(|_| oneshot::channel()).unzip();
        let receivers: Vec<_> = rxs
            .into_iter()
            .enumerate()
            .map(|(i, rx)| filch::spawn(async move { assert_eq!(rx.await, Ok(i)) }))
            .collect();
        let senders: Vec<_> = txs
            .into_iter()
            .enumerate()
            .map(|(i, tx)| {
                filch::spawn(async move {
                    yield_now().await;
                    tx.send(i).expect("receiver alive");
                })
            })
            .collect();
        join_all(receivers).await;
        join_all(senders).await;

        let (tx, rx) = oneshot::channel::<u8>();
        let waiter = filch::spawn(rx);
        filch::spawn(async move { drop(tx) }).await.unwrap();
        assert!(waiter.await.unwrap().is_err(), "dropped sender is an error");

        let (tx, rx) = oneshot::channel::<u8>();
        filch::spawn(async move { drop(rx) }).await.unwrap();
        assert_eq!(tx.send(7), Err(7), "dropped receiver hands the value back");
    });
}

/// `notify_one` wakes a task parked in `notified()` on another worker; a permit stored
/// before anyone waits is consumed by the next waiter; `notify_waiters` wakes all.
#[test]
fn notify_wakeup() {
    let rt = runtime();
    rt.block_on(async {
        for _ in 0..200 {
            let notify = Arc::new(Notify::new());
            let woken = Arc::new(AtomicBool::new(false));
            let waiter = {
                let (notify, woken) = (notify.clone(), woken.clone());
                filch::spawn(async move {
                    notify.notified().await;
                    woken.store(true, Ordering::SeqCst);
                })
            };
            yield_now().await;
            notify.notify_one();
            waiter.await.unwrap();
            assert!(woken.load(Ordering::SeqCst));
        }

        // A stored permit: notify first, wait later.
        let notify = Arc::new(Notify::new());
        notify.notify_one();
        let n = notify.clone();
        filch::spawn(async move { n.notified().await })
            .await
            .unwrap();

        // notify_waiters wakes every registered waiter.
        let notify = Arc::new(Notify::new());
        let ready = Arc::new(Semaphore::new(0));
        let waiters: Vec<_> = (0..32)
            .map(|_| {
                let (notify, ready) = (notify.clone(), ready.clone());
                filch::spawn(async move {
                    let notified = notify.notified();
                    let mut notified = std::pin::pin!(notified);
                    notified.as_mut().enable();
                    ready.add_permits(1);
                    notified.await;
                })
            })
            .collect();
        ready.acquire_many(32).await.unwrap().forget();
        notify.notify_waiters();
        join_all(waiters).await;
    });
}

/// Readers share, writers exclude: 8 writers and 32 readers on one `RwLock<(u64, u64)>`
/// whose two halves a writer keeps equal; no reader ever sees them differ, and
/// readers are seen inside together.
#[test]
fn rwlock_readers_and_writers() {
    const WRITERS: usize = 8;
    const READERS: usize = 32;
    const ROUNDS: usize = 200;
    let rt = runtime();
    let lock = Arc::new(RwLock::new((0u64, 0u64)));
    let readers_inside = Arc::new(AtomicUsize::new(0));
    let max_readers = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let mut handles = Vec::new();
        for _ in 0..WRITERS {
            let (lock, readers_inside) = (lock.clone(), readers_inside.clone());
            handles.push(filch::spawn(async move {
                for _ in 0..ROUNDS {
                    let mut pair = lock.write().await;
                    assert_eq!(readers_inside.load(Ordering::SeqCst), 0, "reader inside");
                    pair.0 += 1;
                    yield_now().await;
                    pair.1 += 1;
                }
            }));
        }
        for _ in 0..READERS {
            let (lock, readers_inside, max_readers) =
                (lock.clone(), readers_inside.clone(), max_readers.clone());
            handles.push(filch::spawn(async move {
                for _ in 0..ROUNDS {
                    let pair = lock.read().await;
                    let now = readers_inside.fetch_add(1, Ordering::SeqCst) + 1;
                    max_readers.fetch_max(now, Ordering::SeqCst);
                    assert_eq!(pair.0, pair.1, "torn write seen by a reader");
                    yield_now().await;
                    readers_inside.fetch_sub(1, Ordering::SeqCst);
                }
            }));
        }
        join_all(handles).await;
    });
    let pair = *lock.try_read().unwrap();
    assert_eq!(pair, ((WRITERS * ROUNDS) as u64, (WRITERS * ROUNDS) as u64));
    assert!(
        max_readers.load(Ordering::SeqCst) > 1,
        "readers never shared the lock"
    );
}

/// One sender, 16 receivers on different tasks: every receiver gets every value, in
/// order, then `Closed`.
#[test]
fn broadcast_fan_out() {
    const RECEIVERS: usize = 16;
    const VALUES: u64 = 1_000;
    let rt = runtime();
    rt.block_on(async {
        // Capacity covers every value, so nobody lags however the workers interleave.
        let (tx, _) = broadcast::channel::<u64>(VALUES as usize);
        let receivers: Vec<_> = (0..RECEIVERS)
            .map(|_| {
                let mut rx = tx.subscribe();
                filch::spawn(async move {
                    let mut expected = 0;
                    loop {
                        match rx.recv().await {
                            Ok(v) => {
                                assert_eq!(v, expected);
                                expected += 1;
                            }
                            Err(broadcast::error::RecvError::Closed) => return expected,
                            Err(e) => panic!("{e:?}"),
                        }
                    }
                })
            })
            .collect();
        let sender = filch::spawn(async move {
            for v in 0..VALUES {
                assert_eq!(tx.send(v).expect("receivers alive"), RECEIVERS);
                if v % 64 == 0 {
                    yield_now().await;
                }
            }
        });
        sender.await.unwrap();
        assert_eq!(join_all(receivers).await, vec![VALUES; RECEIVERS]);
    });
}

/// `changed()` wakes receivers on other tasks; each sees a non-decreasing sequence ending
/// at the last value, then an error once the sender is gone.
#[test]
fn watch_changed() {
    const UPDATES: u64 = 1_000;
    let rt = runtime();
    rt.block_on(async {
        let (tx, rx) = watch::channel(0u64);
        let receivers: Vec<_> = (0..8)
            .map(|_| {
                let mut rx = rx.clone();
                filch::spawn(async move {
                    // The clone has seen the initial 0 only, so even a task first polled
                    // after every send (a loaded machine) gets one change, then the end.
                    let mut last = 0;
                    let mut changes = 0u64;
                    while rx.changed().await.is_ok() {
                        let now = *rx.borrow_and_update();
                        assert!(now > last, "went from {last} to {now}");
                        last = now;
                        changes += 1;
                    }
                    assert_eq!(last, UPDATES, "missed the last value");
                    changes
                })
            })
            .collect();
        drop(rx);
        let sender = filch::spawn(async move {
            for v in 1..=UPDATES {
                tx.send(v).expect("receivers alive");
                if v % 8 == 0 {
                    yield_now().await;
                }
            }
        });
        sender.await.unwrap();
        for changes in join_all(receivers).await {
            assert!((1..=UPDATES).contains(&changes));
        }
    });
}

/// A `filch::sync::Mutex` guard held across an `.await` inside `filch::spawn` compiles:
/// the guard is `Send`, so the task future is too.
#[test]
fn mutex_guard_across_await_in_spawn_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let rt = runtime();
    let mutex = Arc::new(Mutex::new(Vec::new()));
    rt.block_on(async {
        let m = mutex.clone();
        let task = async move {
            let mut guard = m.lock().await;
            yield_now().await;
            guard.push(1);
            yield_now().await;
            guard.push(2);
        };
        assert_send(&task);
        filch::spawn(task).await.unwrap();
    });
    assert_eq!(*mutex.try_lock().unwrap(), [1, 2]);
}
