//! broadcast: fan-out, lag detection, closing, wakeups, cancellation, stress.
#![cfg(not(loom))]

use filch_sync::broadcast::{self, RecvError, TryRecvError};
use futures::executor::block_on;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::thread;
use std::time::Duration;

mod support;
use support::{
    assert_a_send_skips_waiters_queued_during_it, counting_waker, finishes_or_deadlocks,
    poll_pinned, waker_with_drop, Counted, Newcomer,
};

#[test]
fn every_receiver_gets_every_value() {
    let (tx, mut rx1) = broadcast::channel(8);
    let mut rx2 = tx.subscribe();
    for i in 0..5 {
        assert_eq!(tx.send(i).unwrap(), 2);
    }
    for rx in [&mut rx1, &mut rx2] {
        assert_eq!(rx.len(), 5);
        for i in 0..5 {
            assert_eq!(rx.try_recv(), Ok(i));
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }
}

#[test]
fn a_slow_receiver_lags_and_resumes_at_the_oldest_value() {
    let (tx, mut rx) = broadcast::channel(3); // rounded up to 4
    for i in 0..10 {
        tx.send(i).unwrap();
    }
    // `len` counts the overwritten values too (tokio's): above the rounded capacity = lagged.
    assert_eq!(rx.len(), 10);
    assert_eq!(block_on(rx.recv()), Err(RecvError::Lagged(6)));
    assert_eq!(rx.len(), 4);
    for i in 6..10 {
        assert_eq!(block_on(rx.recv()), Ok(i));
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn closed_after_the_last_sender_once_drained() {
    let (tx, mut rx) = broadcast::channel(4);
    let tx2 = tx.clone();
    tx.send(1).unwrap();
    drop(tx);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx2.send(2).unwrap();
    drop(tx2);
    assert_eq!(block_on(rx.recv()), Ok(2));
    assert_eq!(block_on(rx.recv()), Err(RecvError::Closed));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn send_without_receivers_fails() {
    let (tx, rx) = broadcast::channel(4);
    drop(rx);
    assert_eq!(tx.receiver_count(), 0);
    assert_eq!(tx.send(1).unwrap_err().0, 1);
    let mut rx = tx.subscribe();
    tx.send(2).unwrap();
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn subscribers_start_at_the_tail() {
    let (tx, rx) = broadcast::channel(4);
    tx.send(1).unwrap();
    let mut late = rx.resubscribe();
    let mut also_late = tx.subscribe();
    assert_eq!(late.try_recv(), Err(TryRecvError::Empty));
    tx.send(2).unwrap();
    assert_eq!(late.try_recv(), Ok(2));
    assert_eq!(also_late.try_recv(), Ok(2));
    assert_eq!(tx.receiver_count(), 3);
}

#[test]
fn waiting_receivers_are_woken_by_send_and_close() {
    let (tx, mut rx1) = broadcast::channel(4);
    let mut rx2 = tx.subscribe();
    let (count, waker) = counting_waker();
    {
        let mut r1 = pin!(rx1.recv());
        let mut r2 = pin!(rx2.recv());
        assert!(poll_pinned(r1.as_mut(), &waker).is_pending());
        assert!(poll_pinned(r2.as_mut(), &waker).is_pending());
        tx.send(5).unwrap();
        assert_eq!(count.0.load(Ordering::SeqCst), 2);
        assert_eq!(poll_pinned(r1.as_mut(), &waker), Poll::Ready(Ok(5)));
        assert_eq!(poll_pinned(r2.as_mut(), &waker), Poll::Ready(Ok(5)));
    }
    let mut r1 = pin!(rx1.recv());
    assert!(poll_pinned(r1.as_mut(), &waker).is_pending());
    drop(tx);
    assert_eq!(count.0.load(Ordering::SeqCst), 3);
    assert_eq!(
        poll_pinned(r1.as_mut(), &waker),
        Poll::Ready(Err(RecvError::Closed))
    );
}

#[test]
fn dropped_recv_future_leaves_no_waiter_and_loses_no_value() {
    let (tx, mut rx) = broadcast::channel(4);
    let (count, waker) = counting_waker();
    {
        let mut recv = pin!(rx.recv());
        assert!(poll_pinned(recv.as_mut(), &waker).is_pending());
    }
    tx.send(1).unwrap();
    assert_eq!(count.0.load(Ordering::SeqCst), 0);
    assert_eq!(rx.try_recv(), Ok(1));
}

#[test]
fn values_are_dropped_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = broadcast::channel(2);
    for _ in 0..5 {
        tx.send(Counted(drops.clone())).ok().unwrap();
    }
    // Three were overwritten and dropped by the sends.
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    assert!(matches!(rx.try_recv(), Err(TryRecvError::Lagged(3))));
    drop(rx.try_recv().ok().unwrap()); // a clone
    assert_eq!(drops.load(Ordering::SeqCst), 4);
    drop(tx);
    drop(rx);
    // The two values still in the ring go with the channel.
    assert_eq!(drops.load(Ordering::SeqCst), 6);
}

/// Makes every clone of a [`Gated`] value wait until the gate opens.
#[derive(Default)]
struct Gate {
    entered: std::sync::Mutex<usize>,
    open: std::sync::Mutex<bool>,
    changed: std::sync::Condvar,
}

impl Gate {
    fn wait_for_a_clone(&self) {
        let mut entered = self.entered.lock().unwrap();
        while *entered == 0 {
            entered = self
                .changed
                .wait_timeout(entered, Duration::from_secs(10))
                .unwrap()
                .0;
        }
    }
    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.changed.notify_all();
    }
}

struct Gated(Arc<Gate>);

impl Clone for Gated {
    fn clone(&self) -> Self {
        *self.0.entered.lock().unwrap() += 1;
        self.0.changed.notify_all();
        let mut open = self.0.open.lock().unwrap();
        while !*open {
            open = self.0.changed.wait(open).unwrap();
        }
        Gated(self.0.clone())
    }
}

/// Runs `receive` (which clones a gated value) and, while that clone is stuck, checks that
/// another thread's `send` still completes; then opens the gate.
fn assert_send_is_not_blocked_by_a_clone(
    tx: broadcast::Sender<Gated>,
    gate: Arc<Gate>,
    receive: impl FnOnce(),
) {
    let watcher = thread::spawn(move || {
        gate.wait_for_a_clone();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let value = Gated(gate.clone());
        let sender = thread::spawn(move || {
            let _ = tx.send(value);
            done_tx.send(()).unwrap();
        });
        let completed = done_rx.recv_timeout(Duration::from_secs(2)).is_ok();
        gate.open();
        sender.join().unwrap();
        completed
    });
    receive();
    assert!(
        watcher.join().unwrap(),
        "a send waited for a receiver's clone of a value"
    );
}

#[test]
fn a_woken_receivers_clone_does_not_block_senders() {
    let gate = Arc::new(Gate::default());
    let (tx, mut rx) = broadcast::channel(4);
    let waker = futures::task::noop_waker();
    let mut recv = pin!(rx.recv());
    // Queued first, so the next poll takes the locked path.
    assert!(poll_pinned(recv.as_mut(), &waker).is_pending());
    let _ = tx.send(Gated(gate.clone()));
    assert_send_is_not_blocked_by_a_clone(tx, gate, || {
        assert!(poll_pinned(recv.as_mut(), &waker).is_ready());
    });
}

#[test]
fn a_fast_path_clone_blocks_no_send_to_another_slot() {
    let gate = Arc::new(Gate::default());
    // Two slots: the second send writes the other one. (A send overwriting the very value
    // being cloned does wait for that clone: see "Where `T::clone` runs" in broadcast.rs.)
    let (tx, mut rx) = broadcast::channel(2);
    let _ = tx.send(Gated(gate.clone()));
    assert_send_is_not_blocked_by_a_clone(tx, gate, || {
        assert!(rx.try_recv().is_ok());
    });
}

#[test]
fn a_panicking_clone_loses_no_value() {
    #[derive(Debug, PartialEq)]
    struct Fragile(u32);
    impl Clone for Fragile {
        fn clone(&self) -> Self {
            if self.0 == 1 {
                panic!("clone failed");
            }
            Fragile(self.0)
        }
    }
    let (tx, mut rx) = broadcast::channel(4);
    tx.send(Fragile(1)).unwrap();
    tx.send(Fragile(2)).unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rx.try_recv()));
    assert!(result.is_err());
    // Nothing was consumed by the failed clone, and no lock is left held.
    assert_eq!(rx.len(), 2);
    tx.send(Fragile(3)).unwrap();
    assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rx.try_recv())).is_err());
    assert_eq!(rx.len(), 3);
}

#[test]
fn a_send_does_not_wake_receivers_that_queued_after_it() {
    const WAITERS: usize = 40; // more than one wake batch
    let (tx, rx) = broadcast::channel(4);
    let newcomer = {
        let tx = tx.clone();
        Newcomer::new(move || {
            let mut rx = tx.subscribe();
            Box::pin(async move {
                let _ = rx.recv().await;
            })
        })
    };
    let mut receivers: Vec<_> = (0..WAITERS).map(|_| rx.resubscribe()).collect();
    let waits = receivers.iter_mut().map(|rx| Box::pin(rx.recv())).collect();
    assert_a_send_skips_waiters_queued_during_it(&newcomer, waits, |value| {
        tx.send(value).unwrap();
    });
}

#[test]
#[should_panic(
    expected = "broadcast::channel(0): a broadcast channel needs a capacity of at least 1"
)]
fn zero_capacity_panics() {
    let _ = broadcast::channel::<()>(0);
}

#[test]
#[should_panic(expected = "is too large: at most usize::MAX / 2")]
fn too_large_capacity_panics() {
    let _ = broadcast::channel::<()>(usize::MAX);
}

#[test]
fn stress_producers_fan_out_in_order_without_lag() {
    const PRODUCERS: usize = 4;
    const PER: usize = 5_000;
    // Big enough that nobody lags: every receiver sees every value exactly once.
    let (tx, rx) = broadcast::channel(PRODUCERS * PER);
    let receivers: Vec<_> = (0..3)
        .map(|_| {
            let mut rx = rx.resubscribe();
            thread::spawn(move || {
                let mut expected = [0usize; PRODUCERS];
                loop {
                    match rx.blocking_recv() {
                        Ok((id, seq)) => {
                            assert_eq!(seq, expected[id]);
                            expected[id] += 1;
                        }
                        Err(RecvError::Closed) => break,
                        Err(RecvError::Lagged(n)) => panic!("lagged by {n}"),
                    }
                }
                assert!(expected.iter().all(|&n| n == PER));
            })
        })
        .collect();
    drop(rx);
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|id| {
            let tx = tx.clone();
            thread::spawn(move || {
                for seq in 0..PER {
                    tx.send((id, seq)).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    for handle in producers.into_iter().chain(receivers) {
        handle.join().unwrap();
    }
}

#[test]
fn stress_small_ring_reports_every_loss() {
    const TOTAL: u64 = 50_000;
    let (tx, mut rx) = broadcast::channel(4);
    let producer = thread::spawn(move || {
        for i in 0..TOTAL {
            tx.send(i).unwrap();
        }
    });
    let mut accounted = 0;
    let mut last = None;
    loop {
        match rx.blocking_recv() {
            Ok(v) => {
                if let Some(prev) = last {
                    assert!(v > prev);
                }
                assert_eq!(v, accounted, "received values and lag counts must add up");
                accounted += 1;
                last = Some(v);
            }
            Err(RecvError::Lagged(n)) => accounted += n,
            Err(RecvError::Closed) => break,
        }
    }
    producer.join().unwrap();
    assert_eq!(accounted, TOTAL);
}

#[test]
fn auto_traits() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<broadcast::Sender<u8>>();
    send_sync::<broadcast::Receiver<u8>>();
    send_sync::<broadcast::SendError<u8>>();
    send_sync::<RecvError>();
    send_sync::<TryRecvError>();
    fn send_future<F: Future + Send>(_: F) {}
    let (_tx, mut rx) = broadcast::channel::<u8>(1);
    send_future(rx.recv());
}

#[test]
fn len_after_a_lag_counts_lost_values_and_the_lag_matches() {
    let (tx, mut rx) = broadcast::channel(5); // keeps 8
    for i in 0..8 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.len(), 8, "full but not lagged");
    assert_eq!(rx.try_recv(), Ok(0));
    for i in 8..20 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.len(), 19);
    // Lagged by len - 8: the values overwritten.
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(11)));
    assert_eq!(rx.len(), 8);
    assert_eq!(rx.try_recv(), Ok(12));
    assert_eq!(rx.len(), 7);
}

#[test]
fn a_send_from_a_replaced_wakers_drop_does_not_deadlock() {
    finishes_or_deadlocks("broadcast send from a waker's Drop", || {
        let (tx, mut rx) = broadcast::channel(4);
        let tx2 = tx.clone();
        let waker = waker_with_drop(move || {
            tx2.send(7).unwrap();
        });
        let mut recv = Box::pin(rx.recv());
        assert!(poll_pinned(recv.as_mut(), &waker).is_pending());
        // The channel now holds the only clone of `waker`; re-polling with another waker
        // replaces it, and its drop sends on the channel.
        drop(waker);
        let _ = poll_pinned(recv.as_mut(), &futures::task::noop_waker());
        drop(recv);
        assert_eq!(rx.try_recv(), Ok(7));
        drop(tx);
    });
}

#[test]
fn a_send_from_the_drop_of_a_cancelled_recvs_waker_does_not_deadlock() {
    finishes_or_deadlocks("broadcast send from a waker's Drop", || {
        let (tx, mut rx) = broadcast::channel(4);
        let tx2 = tx.clone();
        let waker = waker_with_drop(move || {
            tx2.send(8).unwrap();
        });
        let mut recv = Box::pin(rx.recv());
        assert!(poll_pinned(recv.as_mut(), &waker).is_pending());
        drop(waker);
        // Leaving the waiter list drops the last clone of the waker.
        drop(recv);
        assert_eq!(rx.try_recv(), Ok(8));
    });
}

#[test]
fn after_a_panicking_clone_the_next_recv_works() {
    #[derive(Debug, PartialEq)]
    struct Fragile(u32);
    impl Clone for Fragile {
        fn clone(&self) -> Self {
            assert!(self.0 != 1, "clone failed");
            Fragile(self.0)
        }
    }
    let (tx, mut rx) = broadcast::channel(2);
    let waker = futures::task::noop_waker();
    {
        // Queued first, so the value is read on the locked path of the recv future.
        let mut recv = pin!(rx.recv());
        assert!(poll_pinned(recv.as_mut(), &waker).is_pending());
        tx.send(Fragile(1)).unwrap();
        let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            poll_pinned(recv.as_mut(), &waker)
        }));
        assert!(polled.is_err());
    }
    // The value that failed to clone is still the next one; skip it by lagging past it.
    tx.send(Fragile(2)).unwrap();
    tx.send(Fragile(3)).unwrap();
    assert_eq!(rx.len(), 3);
    assert_eq!(block_on(rx.recv()), Err(RecvError::Lagged(1)));
    assert_eq!(block_on(rx.recv()), Ok(Fragile(2)));
    // Senders and other receivers are unaffected.
    let mut rx2 = tx.subscribe();
    tx.send(Fragile(4)).unwrap();
    assert_eq!(block_on(rx.recv()), Ok(Fragile(3)));
    assert_eq!(block_on(rx.recv()), Ok(Fragile(4)));
    assert_eq!(rx2.try_recv(), Ok(Fragile(4)));
}

#[test]
fn values_left_unread_are_dropped_when_the_last_handle_goes() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = broadcast::channel(8);
    for _ in 0..5 {
        tx.send(Counted(drops.clone())).ok().unwrap();
    }
    drop(rx);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        0,
        "the sender keeps the channel"
    );
    drop(tx);
    assert_eq!(drops.load(Ordering::SeqCst), 5);
}

#[test]
fn sender_len_is_the_slowest_receivers_backlog() {
    let (tx, mut a) = broadcast::channel(4);
    assert_eq!((tx.len(), tx.is_empty()), (0, true));
    let mut b = tx.subscribe();
    for i in 0..3 {
        tx.send(i).unwrap();
    }
    assert_eq!(tx.len(), 3);
    assert_eq!(a.try_recv(), Ok(0));
    assert_eq!(a.try_recv(), Ok(1));
    assert_eq!(tx.len(), 3, "b has read nothing");
    assert_eq!(b.try_recv(), Ok(0));
    assert_eq!(tx.len(), 2);
    // A late subscriber does not count for what was sent before it.
    let mut c = tx.subscribe();
    assert_eq!(tx.len(), 2);
    tx.send(3).unwrap();
    assert_eq!(c.try_recv(), Ok(3));
    assert_eq!(tx.len(), 3);
    // A dropped receiver stops counting for what it left unread.
    drop(b);
    assert_eq!(tx.len(), 2);
    while a.try_recv().is_ok() {}
    assert!(tx.is_empty());
    drop(c);
    assert!(tx.is_empty());
}

#[test]
fn sender_len_is_capped_by_the_capacity_when_a_receiver_lags() {
    let (tx, mut rx) = broadcast::channel(2);
    for i in 0..5 {
        tx.send(i).unwrap();
    }
    assert_eq!(tx.len(), 2);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(3)));
    assert_eq!(tx.len(), 2);
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(tx.len(), 1);
    assert_eq!(rx.try_recv(), Ok(4));
    assert!(tx.is_empty());
    // No receiver at all: nothing is queued for anyone.
    tx.send(5).unwrap();
    drop(rx);
    assert!(tx.is_empty());
}

#[test]
fn sender_len_settles_at_zero_after_concurrent_receivers_drain() {
    finishes_or_deadlocks("broadcast len", || {
        let (tx, rx) = broadcast::channel::<u32>(8);
        let readers: Vec<_> = (0..3)
            .map(|i| {
                let mut rx = if i == 0 {
                    rx.resubscribe()
                } else {
                    tx.subscribe()
                };
                thread::spawn(move || {
                    // Reads (or is told it lost) all 500, then stays subscribed.
                    let mut got = 0;
                    while got < 500 {
                        match rx.blocking_recv() {
                            Ok(_) => got += 1,
                            Err(RecvError::Lagged(n)) => got += n,
                            Err(RecvError::Closed) => panic!("closed early"),
                        }
                    }
                    rx
                })
            })
            .collect();
        drop(rx);
        for i in 0..500 {
            tx.send(i).unwrap();
            assert!(tx.len() <= 8);
        }
        let receivers: Vec<_> = readers.into_iter().map(|r| r.join().unwrap()).collect();
        assert_eq!(tx.receiver_count(), 3);
        assert!(tx.is_empty());
        drop(receivers);
    });
}
