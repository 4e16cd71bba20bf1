//! Notify: stored permit, notify_waiters, FIFO, cancellation pass-on, `enable`, stress.
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Waker};

use filch_sync::{Notified, Notify};

mod support;
use support::{CountingWaker, Task};

/// `N` waits on `n`, each polled once (and pending), in order: the oldest first.
fn waiting<const N: usize>(n: &Notify) -> [Task<Notified<'_>>; N] {
    std::array::from_fn(|_| {
        let mut wait = Task::new(n.notified());
        assert!(wait.poll().is_pending());
        wait
    })
}

#[test]
fn notify_one_stores_a_single_permit() {
    let n = Notify::new();
    n.notify_one();
    n.notify_one();
    let mut a = Task::new(n.notified());
    let mut b = Task::new(n.notified());
    assert!(a.poll().is_ready());
    assert!(b.poll().is_pending(), "permits do not accumulate");
    n.notify_one();
    assert_eq!(b.wakes(), 1);
    assert!(b.poll().is_ready());
}

#[test]
fn notify_one_wakes_in_fifo_order() {
    let n = Notify::new();
    let [mut a, mut b] = waiting(&n);
    n.notify_one();
    assert_eq!((a.wakes(), b.wakes()), (1, 0));
    assert!(b.poll().is_pending());
    assert!(a.poll().is_ready());
    n.notify_one();
    assert!(b.poll().is_ready());
    // Nothing stored afterwards.
    assert!(Task::new(n.notified()).poll().is_pending());
}

#[test]
fn notify_waiters_wakes_all_and_stores_nothing() {
    let n = Notify::new();
    let [mut a, mut b] = waiting(&n);
    // Created before the call but never polled: also completes.
    let mut c = Task::new(n.notified());
    n.notify_waiters();
    assert_eq!((a.wakes(), b.wakes()), (1, 1));
    assert!(a.poll().is_ready());
    assert!(b.poll().is_ready());
    assert!(c.poll().is_ready());
    // Created after: waits.
    assert!(Task::new(n.notified()).poll().is_pending());
}

#[test]
fn notify_waiters_keeps_a_stored_permit_untouched() {
    let n = Notify::new();
    n.notify_one();
    n.notify_waiters();
    assert!(
        Task::new(n.notified()).poll().is_ready(),
        "permit still there"
    );
}

#[test]
fn cancelled_waiter_passes_notify_one_on() {
    let n = Notify::new();
    let [a, mut b] = waiting(&n);
    n.notify_one(); // picks a
    drop(a); // never looked: must pass it to b
    assert_eq!(b.wakes(), 1);
    assert!(b.poll().is_ready());
}

#[test]
fn cancelled_lone_waiter_turns_notification_into_permit() {
    let n = Notify::new();
    let mut a = Task::new(n.notified());
    assert!(a.poll().is_pending());
    n.notify_one();
    drop(a);
    assert!(Task::new(n.notified()).poll().is_ready());
}

#[test]
fn cancelled_queued_waiter_is_forgotten() {
    let n = Notify::new();
    let mut a = Task::new(n.notified());
    assert!(a.poll().is_pending());
    drop(a);
    n.notify_one(); // nobody waits: stored
    assert!(Task::new(n.notified()).poll().is_ready());
}

#[test]
fn enable_registers_before_polling() {
    let n = Notify::new();
    let mut first = pin!(n.notified());
    assert!(!first.as_mut().enable());
    let mut second = Task::new(n.notified());
    assert!(second.poll().is_pending());
    n.notify_one(); // goes to `first`, queued earlier by `enable`
    assert!(first.as_mut().enable());
    assert_eq!(second.wakes(), 0);
    futures::executor::block_on(first.as_mut());
}

#[test]
fn waker_is_updated_on_repoll() {
    let n = Notify::new();
    let mut fut = Box::pin(n.notified());
    let w1 = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let w2 = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker1 = Waker::from(w1.clone());
    let waker2 = Waker::from(w2.clone());
    assert!(fut
        .as_mut()
        .poll(&mut Context::from_waker(&waker1))
        .is_pending());
    assert!(fut
        .as_mut()
        .poll(&mut Context::from_waker(&waker2))
        .is_pending());
    n.notify_waiters();
    assert_eq!((w1.0.load(SeqCst), w2.0.load(SeqCst)), (0, 1));
}

/// Ping-pong between two threads via two `Notify`s: any lost wakeup hangs the test.
#[test]
fn ping_pong_loses_nothing() {
    const ROUNDS: usize = 5_000;
    let ping = Arc::new(Notify::new());
    let pong = Arc::new(Notify::new());
    let (ping2, pong2) = (ping.clone(), pong.clone());
    let t = std::thread::spawn(move || {
        futures::executor::block_on(async {
            for _ in 0..ROUNDS {
                ping2.notified().await;
                pong2.notify_one();
            }
        })
    });
    futures::executor::block_on(async {
        for _ in 0..ROUNDS {
            ping.notify_one();
            pong.notified().await;
        }
    });
    t.join().unwrap();
}

/// The "create, check, await" pattern with `notify_waiters` never misses a flag set by
/// another thread.
#[test]
fn notify_waiters_with_condition_check() {
    const ROUNDS: usize = 2_000;
    for _ in 0..ROUNDS / 100 {
        let n = Arc::new(Notify::new());
        let flag = Arc::new(AtomicBool::new(false));
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let (n, flag) = (n.clone(), flag.clone());
                std::thread::spawn(move || {
                    futures::executor::block_on(async {
                        loop {
                            let notified = n.notified();
                            if flag.load(SeqCst) {
                                return;
                            }
                            notified.await;
                        }
                    })
                })
            })
            .collect();
        flag.store(true, SeqCst);
        n.notify_waiters();
        for w in waiters {
            w.join().unwrap();
        }
    }
}

#[test]
fn notify_last_wakes_the_most_recent_waiter_first() {
    let n = Notify::new();
    let [mut a, mut b, mut c] = waiting(&n);
    n.notify_last();
    assert_eq!((a.wakes(), b.wakes(), c.wakes()), (0, 0, 1));
    assert!(c.poll().is_ready());
    assert!(a.poll().is_pending());
    // The two ends mix: notify_one still takes the oldest.
    n.notify_one();
    assert!(a.poll().is_ready());
    n.notify_last();
    assert!(b.poll().is_ready());
    // Nothing stored afterwards.
    assert!(Task::new(n.notified()).poll().is_pending());
}

#[test]
fn notify_last_stores_the_single_permit_when_nobody_waits() {
    let n = Notify::new();
    n.notify_last();
    n.notify_last();
    n.notify_one();
    let mut a = Task::new(n.notified());
    let mut b = Task::new(n.notified());
    assert!(a.poll().is_ready());
    assert!(b.poll().is_pending(), "permits do not accumulate");
    n.notify_last();
    assert!(b.poll().is_ready());
}

#[test]
fn a_cancelled_waiter_picked_by_notify_last_passes_it_to_the_next_most_recent() {
    let n = Notify::new();
    let [mut a, mut b, c] = waiting(&n);
    n.notify_last(); // picks c
    drop(c); // never looked: passes it on from the back, to b
    assert_eq!((a.wakes(), b.wakes()), (0, 1));
    assert!(b.poll().is_ready());
    assert!(a.poll().is_pending());
    // A lone cancelled pick becomes the permit.
    n.notify_last();
    drop(a);
    assert!(Task::new(n.notified()).poll().is_ready());
}

#[test]
fn notify_last_races_waiters_across_threads_and_loses_nothing() {
    let n = Arc::new(Notify::new());
    let waiters: Vec<_> = (0..4)
        .map(|_| {
            let n = n.clone();
            std::thread::spawn(move || futures::executor::block_on(n.notified()))
        })
        .collect();
    // Each call either wakes a waiter or stores the permit, which a waiter then takes.
    while waiters.iter().any(|t| !t.is_finished()) {
        n.notify_last();
        std::thread::yield_now();
    }
    for t in waiters {
        t.join().unwrap();
    }
}
