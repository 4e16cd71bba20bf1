//! oneshot: delivery, closing from either side, waker replacement, drop accounting, races.
#![cfg(not(loom))]

use filch_sync::oneshot::{self, RecvError, TryRecvError};
use futures::executor::block_on;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::thread;

mod support;
use support::{counting_waker, Counted};

fn poll_once<F: Future + Unpin>(fut: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(waker))
}

#[test]
fn send_then_receive() {
    let (tx, rx) = oneshot::channel();
    tx.send(7).unwrap();
    assert_eq!(block_on(rx), Ok(7));
}

#[test]
fn receive_waits_for_a_send_on_another_thread() {
    let (tx, rx) = oneshot::channel();
    let sender = thread::spawn(move || {
        thread::sleep(std::time::Duration::from_millis(10));
        tx.send(String::from("late")).unwrap();
    });
    assert_eq!(block_on(rx).unwrap(), "late");
    sender.join().unwrap();
}

#[test]
fn dropped_sender_reads_as_closed_and_wakes_the_receiver() {
    let (tx, mut rx) = oneshot::channel::<u8>();
    let (count, waker) = counting_waker();
    assert!(poll_once(&mut rx, &waker).is_pending());
    drop(tx);
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert!(matches!(
        poll_once(&mut rx, &waker),
        Poll::Ready(Err(RecvError { .. }))
    ));
}

#[test]
fn send_to_dropped_or_closed_receiver_returns_the_value() {
    let (tx, rx) = oneshot::channel();
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send(1), Err(1));

    let (tx, mut rx) = oneshot::channel();
    rx.close();
    assert!(tx.is_closed());
    assert_eq!(tx.send(2), Err(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn value_sent_before_close_is_still_received() {
    let (tx, mut rx) = oneshot::channel();
    tx.send(3).unwrap();
    rx.close();
    assert_eq!(block_on(rx), Ok(3));
}

#[test]
fn try_recv_reports_empty_then_value_then_closed() {
    let (tx, mut rx) = oneshot::channel();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.send(5).unwrap();
    assert_eq!(rx.try_recv(), Ok(5));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn only_the_latest_receiver_waker_is_woken() {
    let (tx, mut rx) = oneshot::channel();
    let (first, first_waker) = counting_waker();
    let (second, second_waker) = counting_waker();
    assert!(poll_once(&mut rx, &first_waker).is_pending());
    assert!(poll_once(&mut rx, &first_waker).is_pending());
    assert!(poll_once(&mut rx, &second_waker).is_pending());
    tx.send(()).unwrap();
    assert_eq!(first.0.load(Ordering::SeqCst), 0);
    assert_eq!(second.0.load(Ordering::SeqCst), 1);
    assert_eq!(poll_once(&mut rx, &second_waker), Poll::Ready(Ok(())));
}

#[test]
fn closed_future_resolves_when_the_receiver_goes() {
    let (mut tx, rx) = oneshot::channel::<()>();
    let (first, first_waker) = counting_waker();
    let (second, second_waker) = counting_waker();
    let mut cx = Context::from_waker(&first_waker);
    assert!(tx.poll_closed(&mut cx).is_pending());
    let mut cx = Context::from_waker(&second_waker);
    assert!(tx.poll_closed(&mut cx).is_pending());
    drop(rx);
    assert_eq!(first.0.load(Ordering::SeqCst), 0);
    assert_eq!(second.0.load(Ordering::SeqCst), 1);
    assert!(tx.poll_closed(&mut cx).is_ready());
    block_on(tx.closed());
}

#[test]
#[should_panic(expected = "polled after completion")]
fn polling_after_completion_panics() {
    let (tx, mut rx) = oneshot::channel();
    tx.send(()).unwrap();
    let waker = futures::task::noop_waker();
    assert!(poll_once(&mut rx, &waker).is_ready());
    let _ = poll_once(&mut rx, &waker);
}

#[test]
fn unreceived_values_are_dropped_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));

    let (tx, rx) = oneshot::channel();
    tx.send(Counted(drops.clone())).ok().unwrap();
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 1);

    let (tx, rx) = oneshot::channel();
    drop(rx);
    let back = tx.send(Counted(drops.clone())).err().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(back);
    assert_eq!(drops.load(Ordering::SeqCst), 2);

    let (tx, rx) = oneshot::channel();
    tx.send(Counted(drops.clone())).ok().unwrap();
    let got = block_on(rx).ok().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    drop(got);
    assert_eq!(drops.load(Ordering::SeqCst), 3);
}

#[test]
fn blocking_recv_works_off_async() {
    let (tx, rx) = oneshot::channel();
    thread::spawn(move || tx.send(9).unwrap());
    assert_eq!(rx.blocking_recv(), Ok(9));
}

#[test]
fn stress_send_races_receive_and_drop() {
    for round in 0..2_000 {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = oneshot::channel();
        let value = Counted(drops.clone());
        let sender = thread::spawn(move || tx.send(value).is_ok());
        let received = if round % 2 == 0 {
            block_on(rx).is_ok()
        } else {
            drop(rx);
            false
        };
        let sent = sender.join().unwrap();
        if received {
            assert!(sent);
        }
        // The value is dropped exactly once whatever the interleaving.
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }
}

#[test]
fn stress_sender_drop_races_receiver_poll() {
    for _ in 0..2_000 {
        let (tx, rx) = oneshot::channel::<u32>();
        let dropper = thread::spawn(move || drop(tx));
        assert!(block_on(rx).is_err());
        dropper.join().unwrap();
    }
}

#[test]
fn auto_traits() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<oneshot::Sender<std::cell::Cell<u8>>>();
    send_sync::<oneshot::Receiver<std::cell::Cell<u8>>>();
    send_sync::<RecvError>();
    send_sync::<TryRecvError>();
    send::<oneshot::Sender<u8>>();
}
