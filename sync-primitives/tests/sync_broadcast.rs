//! broadcast: fan-out, lag detection, closing, wakeups, cancellation, stress.
#![cfg(not(loom))]

use filch_sync::broadcast::{self, RecvError, TryRecvError};
use futures::executor::block_on;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread;

#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting_waker() -> (Arc<CountingWaker>, Waker) {
    let counter = Arc::new(CountingWaker::default());
    (counter.clone(), Waker::from(counter))
}

fn poll_pinned<F: Future>(fut: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(waker))
}

#[derive(Clone)]
struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

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
    assert_eq!(rx.len(), 4);
    assert_eq!(block_on(rx.recv()), Err(RecvError::Lagged(6)));
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
        tx.send(DropCounter(drops.clone())).ok().unwrap();
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

#[test]
#[should_panic(expected = "capacity > 0")]
fn zero_capacity_panics() {
    let _ = broadcast::channel::<()>(0);
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
