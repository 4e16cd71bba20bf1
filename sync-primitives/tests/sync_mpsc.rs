//! mpsc: capacity accounting, FIFO-fair senders, cancellation, closing, drop accounting,
//! and multi-producer stress with per-sender order and exactly-once delivery checked.
#![cfg(not(loom))]

use filch_sync::mpsc::{self, error::TryRecvError, error::TrySendError};
use futures::executor::block_on;
use futures::StreamExt;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::thread;

mod support;
use support::{
    counting_waker, finishes_or_deadlocks, poll_pinned, waker_with_drop, Counted, CountingWaker,
    PanicOnDrop,
};

#[test]
fn bounded_smoke_and_close_on_last_sender() {
    let (tx, mut rx) = mpsc::channel(4);
    let tx2 = tx.clone();
    block_on(async {
        tx.send(1).await.unwrap();
        tx2.send(2).await.unwrap();
    });
    drop(tx);
    assert!(!rx.is_closed());
    drop(tx2);
    assert!(rx.is_closed());
    assert_eq!(rx.len(), 2);
    assert_eq!(block_on(rx.recv()), Some(1));
    assert_eq!(block_on(rx.recv()), Some(2));
    assert_eq!(block_on(rx.recv()), None);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn unbounded_smoke_across_segments() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    for i in 0..1_000 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.len(), 1_000);
    drop(tx);
    let got: Vec<i32> = block_on(rx.by_ref().collect());
    assert_eq!(got, (0..1_000).collect::<Vec<_>>());
}

#[test]
fn capacity_is_accounted_for_sends_receives_and_permits() {
    let (tx, mut rx) = mpsc::channel(2);
    assert_eq!((tx.capacity(), tx.max_capacity()), (2, 2));
    tx.try_send('a').unwrap();
    let permit = tx.try_reserve().unwrap();
    assert_eq!(tx.capacity(), 0);
    assert_eq!(tx.try_send('b'), Err(TrySendError::Full('b')));
    drop(permit);
    assert_eq!(tx.capacity(), 1);
    tx.try_reserve().unwrap().send('c');
    assert_eq!(rx.try_recv(), Ok('a'));
    assert_eq!(rx.try_recv(), Ok('c'));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(tx.capacity(), 2);
}

#[test]
fn waiting_senders_are_served_in_order_and_newcomers_do_not_barge() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let waker = futures::task::noop_waker();
    let mut a = pin!(tx.send(1));
    let mut b = pin!(tx.send(2));
    let mut c = pin!(tx.send(3));
    assert!(poll_pinned(a.as_mut(), &waker).is_pending());
    assert!(poll_pinned(b.as_mut(), &waker).is_pending());
    assert!(poll_pinned(c.as_mut(), &waker).is_pending());

    assert_eq!(rx.try_recv(), Ok(0));
    // The freed slot went to `a`, not to a newcomer.
    assert!(matches!(tx.try_send(99), Err(TrySendError::Full(99))));
    assert!(poll_pinned(c.as_mut(), &waker).is_pending());
    assert!(poll_pinned(b.as_mut(), &waker).is_pending());
    assert!(poll_pinned(a.as_mut(), &waker).is_ready());

    assert_eq!(rx.try_recv(), Ok(1));
    assert!(poll_pinned(c.as_mut(), &waker).is_pending());
    assert!(poll_pinned(b.as_mut(), &waker).is_ready());
    assert_eq!(rx.try_recv(), Ok(2));
    assert!(poll_pinned(c.as_mut(), &waker).is_ready());
    assert_eq!(rx.try_recv(), Ok(3));
}

#[test]
fn the_granted_sender_is_woken() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let (count, waker) = counting_waker();
    let mut send = pin!(tx.send(1));
    assert!(poll_pinned(send.as_mut(), &waker).is_pending());
    assert_eq!(count.0.load(Ordering::SeqCst), 0);
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
}

#[test]
fn dropping_a_queued_send_leaves_no_waiter_behind() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let waker = futures::task::noop_waker();
    {
        let mut send = pin!(tx.send(1));
        assert!(poll_pinned(send.as_mut(), &waker).is_pending());
    }
    assert_eq!(rx.try_recv(), Ok(0));
    // No ghost waiter took the slot: the fast path works again.
    assert_eq!(tx.capacity(), 1);
    tx.try_send(2).unwrap();
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn a_granted_but_dropped_send_passes_its_slot_on() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let waker = futures::task::noop_waker();
    let mut b = pin!(tx.send(2));
    {
        let mut a = pin!(tx.send(1));
        assert!(poll_pinned(a.as_mut(), &waker).is_pending());
        assert!(poll_pinned(b.as_mut(), &waker).is_pending());
        // The slot is handed to `a`, which is dropped without ever seeing it.
        assert_eq!(rx.try_recv(), Ok(0));
    }
    assert!(poll_pinned(b.as_mut(), &waker).is_ready());
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(tx.capacity(), 1);

    // With nobody queued behind it, the slot goes back to the free count.
    tx.try_send(3).unwrap();
    {
        let mut c = pin!(tx.send(4));
        assert!(poll_pinned(c.as_mut(), &waker).is_pending());
        assert_eq!(rx.try_recv(), Ok(3));
    }
    assert_eq!(tx.capacity(), 1);
}

#[test]
fn dropping_a_pending_recv_loses_no_message() {
    let (tx, mut rx) = mpsc::channel(1);
    let waker = futures::task::noop_waker();
    {
        let mut recv = pin!(rx.recv());
        assert!(poll_pinned(recv.as_mut(), &waker).is_pending());
    }
    tx.try_send(5).unwrap();
    assert_eq!(rx.try_recv(), Ok(5));
}

#[test]
fn receiver_is_woken_by_send_and_by_last_sender_drop() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(rx.poll_recv(&mut cx).is_pending());
    tx.send(1).unwrap();
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(1)));
    assert!(rx.poll_recv(&mut cx).is_pending());
    drop(tx);
    assert_eq!(count.0.load(Ordering::SeqCst), 2);
    assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(None));
}

#[test]
fn receiver_drop_fails_queued_senders_and_returns_their_values() {
    let (tx, rx) = mpsc::channel(1);
    tx.try_send(String::from("buffered")).unwrap();
    let (count, waker) = counting_waker();
    let mut send = pin!(tx.send(String::from("waiting")));
    assert!(poll_pinned(send.as_mut(), &waker).is_pending());
    drop(rx);
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    match poll_pinned(send.as_mut(), &waker) {
        Poll::Ready(Err(err)) => assert_eq!(err.0, "waiting"),
        other => panic!("expected a closed error, got {other:?}"),
    }
    assert!(tx.is_closed());
    assert_eq!(
        tx.try_send(String::new()),
        Err(TrySendError::Closed(String::new()))
    );
}

#[test]
fn close_lets_the_receiver_drain_and_wakes_closed_waiters() {
    let (tx, mut rx) = mpsc::channel(4);
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    let (count, waker) = counting_waker();
    let mut closed = pin!(tx.closed());
    assert!(poll_pinned(closed.as_mut(), &waker).is_pending());
    rx.close();
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert!(poll_pinned(closed.as_mut(), &waker).is_ready());
    assert!(tx.try_send(3).is_err());
    assert_eq!(block_on(rx.recv()), Some(1));
    assert_eq!(block_on(rx.recv()), Some(2));
    assert_eq!(block_on(rx.recv()), None);
}

#[test]
fn a_permit_taken_before_close_is_still_received() {
    let (tx, mut rx) = mpsc::channel(2);
    let permit = tx.try_reserve().unwrap();
    rx.close();
    assert!(tx.is_closed());
    assert!(tx.try_reserve().is_err());
    permit.send(7);
    assert_eq!(rx.try_recv(), Ok(7));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn close_then_drain_waits_for_outstanding_permits() {
    let (tx, mut rx) = mpsc::channel(4);
    tx.try_send(1).unwrap();
    let sent_later = tx.try_reserve().unwrap();
    let dropped_later = tx.try_reserve().unwrap();
    rx.close();
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(1)));
    // Two permits are out: the channel is not finished, so recv waits instead of ending.
    assert_eq!(rx.poll_recv(&mut cx), Poll::Pending);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    sent_later.send(2);
    assert!(count.0.load(Ordering::SeqCst) >= 1);
    assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(2)));
    assert_eq!(rx.poll_recv(&mut cx), Poll::Pending);
    let before = count.0.load(Ordering::SeqCst);
    // Dropping the last permit unused ends the channel, and wakes the receiver to see it.
    drop(dropped_later);
    assert!(count.0.load(Ordering::SeqCst) > before);
    assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(None));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn a_send_granted_its_slot_before_close_is_delivered() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let waker = futures::task::noop_waker();
    let mut send = pin!(tx.send(1));
    assert!(poll_pinned(send.as_mut(), &waker).is_pending());
    // The receive hands the freed slot to the queued send; then the receiver closes.
    assert_eq!(rx.try_recv(), Ok(0));
    rx.close();
    assert!(matches!(
        poll_pinned(send.as_mut(), &waker),
        Poll::Ready(Ok(()))
    ));
    assert_eq!(block_on(rx.recv()), Some(1));
    assert_eq!(block_on(rx.recv()), None);
}

#[test]
fn a_permit_used_after_the_receiver_is_dropped_drops_its_value() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel(1);
    let permit = tx.try_reserve().unwrap();
    drop(rx);
    permit.send(Counted(drops.clone()));
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

/// The receiving side of the close-then-drain stress tests, for either receiver kind
/// (they share the calls, not a trait): receives a number of messages that grows with
/// `round`, closes, drains, and checks that it received exactly what the producers
/// (`handles`, each returning how many of its sends succeeded) delivered.
macro_rules! close_mid_stream_and_drain {
    ($rx:ident, $handles:ident, $round:ident) => {
        let mut received = 0usize;
        let close_after = 100 + $round * 37;
        block_on(async {
            while received < close_after {
                $rx.recv().await.unwrap();
                received += 1;
            }
            $rx.close();
            while $rx.recv().await.is_some() {
                received += 1;
            }
        });
        let delivered: usize = $handles.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(
            received, delivered,
            "round {}: messages lost after close",
            $round
        );
    };
}

#[test]
fn stress_close_then_drain_loses_nothing() {
    const PRODUCERS: usize = 4;
    for round in 0..50 {
        let (tx, mut rx) = mpsc::channel(3);
        let handles: Vec<_> = (0..PRODUCERS)
            .map(|id| {
                let tx = tx.clone();
                thread::spawn(move || {
                    // Returns how many sends succeeded: the first failure ends the loop.
                    // Plain sends and reservations alternate: both must be accounted for.
                    (0usize..)
                        .take_while(|&seq| {
                            if (seq + id) % 2 == 0 {
                                block_on(tx.send(seq)).is_ok()
                            } else {
                                match block_on(tx.reserve()) {
                                    Ok(permit) => {
                                        permit.send(seq);
                                        true
                                    }
                                    Err(_) => false,
                                }
                            }
                        })
                        .count()
                })
            })
            .collect();
        drop(tx);
        close_mid_stream_and_drain!(rx, handles, round);
    }
}

#[test]
fn unbounded_close_then_drain_loses_nothing() {
    const PRODUCERS: usize = 4;
    for round in 0..50 {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let handles: Vec<_> = (0..PRODUCERS)
            .map(|_| {
                let tx = tx.clone();
                thread::spawn(move || {
                    let mut delivered = 0usize;
                    while tx.send(delivered).is_ok() {
                        delivered += 1;
                        if delivered % 64 == 0 {
                            thread::yield_now();
                        }
                    }
                    delivered
                })
            })
            .collect();
        drop(tx);
        close_mid_stream_and_drain!(rx, handles, round);
    }
}

#[test]
fn dropping_a_closed_future_unregisters_it() {
    let (tx, rx) = mpsc::unbounded_channel::<()>();
    let waker = futures::task::noop_waker();
    for _ in 0..3 {
        let mut closed = pin!(tx.closed());
        assert!(poll_pinned(closed.as_mut(), &waker).is_pending());
    }
    drop(rx);
    block_on(tx.closed());
}

#[test]
fn buffered_messages_are_dropped_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = mpsc::channel(8);
    for _ in 0..5 {
        tx.try_send(Counted(drops.clone())).ok().unwrap();
    }
    drop(rx.try_recv().unwrap());
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 5);
    let back = tx.try_send(Counted(drops.clone())).err().unwrap();
    drop(back);
    drop(tx);
    assert_eq!(drops.load(Ordering::SeqCst), 6);

    let (tx, rx) = mpsc::unbounded_channel();
    for _ in 0..40 {
        tx.send(Counted(drops.clone())).ok().unwrap();
    }
    drop(tx);
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 46);
}

#[test]
fn blocking_halves_work_across_threads() {
    let (tx, mut rx) = mpsc::channel(1);
    let producer = thread::spawn(move || {
        for i in 0..100 {
            tx.blocking_send(i).unwrap();
        }
    });
    for i in 0..100 {
        assert_eq!(rx.blocking_recv(), Some(i));
    }
    producer.join().unwrap();
    assert_eq!(rx.blocking_recv(), None);
}

#[test]
#[should_panic(expected = "mpsc::channel(0): a bounded channel needs a capacity of at least 1")]
fn zero_capacity_panics() {
    let _ = mpsc::channel::<()>(0);
}

#[test]
#[should_panic(expected = "exceeds the maximum")]
fn too_large_capacity_panics() {
    let _ = mpsc::channel::<()>(usize::MAX);
}

/// Receives until closed and checks each producer's sequence arrives in order, exactly once.
fn check_per_sender_order(
    next: impl FnMut() -> Option<(usize, usize)>,
    producers: usize,
    per: usize,
) {
    let mut next = next;
    let mut expected = vec![0; producers];
    while let Some((id, seq)) = next() {
        assert_eq!(
            seq, expected[id],
            "producer {id} out of order or duplicated"
        );
        expected[id] += 1;
    }
    assert!(
        expected.iter().all(|&n| n == per),
        "lost messages: {expected:?}"
    );
}

#[test]
fn stress_bounded_many_producers() {
    const PRODUCERS: usize = 8;
    const PER: usize = 20_000;
    let (tx, mut rx) = mpsc::channel(4);
    let handles: Vec<_> = (0..PRODUCERS)
        .map(|id| {
            let tx = tx.clone();
            thread::spawn(move || {
                block_on(async {
                    for seq in 0..PER {
                        tx.send((id, seq)).await.unwrap();
                    }
                })
            })
        })
        .collect();
    drop(tx);
    block_on(async {
        let mut buffered = Vec::new();
        while let Some(item) = rx.recv().await {
            buffered.push(item);
        }
        let mut items = buffered.into_iter();
        check_per_sender_order(|| items.next(), PRODUCERS, PER);
    });
    for handle in handles {
        handle.join().unwrap();
    }
}

#[test]
fn stress_unbounded_many_producers() {
    const PRODUCERS: usize = 8;
    const PER: usize = 20_000;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let handles: Vec<_> = (0..PRODUCERS)
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
    check_per_sender_order(|| rx.blocking_recv(), PRODUCERS, PER);
    for handle in handles {
        handle.join().unwrap();
    }
}

#[test]
fn stress_cancelled_reservations_lose_no_capacity() {
    const PRODUCERS: usize = 4;
    const PER: usize = 5_000;
    const CAP: usize = 2;
    let (tx, mut rx) = mpsc::channel(CAP);
    let handles: Vec<_> = (0..PRODUCERS)
        .map(|id| {
            let tx = tx.clone();
            thread::spawn(move || {
                let waker = futures::task::noop_waker();
                let mut seq = 0;
                let mut attempt = 0usize;
                while seq < PER {
                    attempt += 1;
                    // Poll a reservation a few times, then give up on it (cancel) and retry.
                    let mut reserve = pin!(tx.reserve());
                    let polls = attempt % 3 + 1;
                    for _ in 0..polls {
                        if let Poll::Ready(permit) = poll_pinned(reserve.as_mut(), &waker) {
                            permit.unwrap().send((id, seq));
                            seq += 1;
                            break;
                        }
                        thread::yield_now();
                    }
                }
            })
        })
        .collect();
    drop(tx.clone());
    let probe = tx.clone();
    drop(tx);
    let mut expected = [0; PRODUCERS];
    let mut received = 0;
    while received < PRODUCERS * PER {
        match rx.try_recv() {
            Ok((id, seq)) => {
                assert_eq!(seq, expected[id]);
                expected[id] += 1;
                received += 1;
            }
            Err(TryRecvError::Empty) => thread::yield_now(),
            Err(TryRecvError::Disconnected) => unreachable!("probe sender still alive"),
        }
    }
    for handle in handles {
        handle.join().unwrap();
    }
    // Every cancelled reservation returned or passed on its slot.
    assert_eq!(probe.capacity(), CAP);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn auto_traits() {
    use std::cell::Cell;
    fn send_sync<T: Send + Sync>() {}
    send_sync::<mpsc::Sender<Cell<u8>>>();
    send_sync::<mpsc::Receiver<Cell<u8>>>();
    send_sync::<mpsc::UnboundedSender<Cell<u8>>>();
    send_sync::<mpsc::UnboundedReceiver<Cell<u8>>>();
    send_sync::<mpsc::Permit<'static, Cell<u8>>>();
    send_sync::<mpsc::OwnedPermit<Cell<u8>>>();
    send_sync::<mpsc::PermitIterator<'static, Cell<u8>>>();
    send_sync::<mpsc::WeakSender<Cell<u8>>>();
    send_sync::<mpsc::error::SendError<u8>>();
    send_sync::<TrySendError<u8>>();
    send_sync::<TryRecvError>();
    fn send_future<F: Future + Send>(_: F) {}
    let (tx, mut rx) = mpsc::channel::<Cell<u8>>(1);
    send_future(tx.send(Cell::new(0)));
    send_future(tx.reserve());
    send_future(tx.reserve_many(1));
    send_future(tx.clone().reserve_owned());
    send_future(tx.closed());
    send_future(rx.recv());
}

/// A waker that counts its drops (its last clone's).
fn drop_counting_waker() -> (Arc<AtomicUsize>, Waker) {
    let drops = Arc::new(AtomicUsize::new(0));
    let counter = drops.clone();
    let waker = waker_with_drop(move || {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    (drops, waker)
}

#[test]
fn dropping_the_receiver_drops_the_wakers_it_registered() {
    // Bounded, waiting on an open channel.
    let (tx, mut rx) = mpsc::channel::<u8>(2);
    let (drops, waker) = drop_counting_waker();
    assert!(rx.poll_recv(&mut Context::from_waker(&waker)).is_pending());
    drop(waker);
    assert_eq!(drops.load(Ordering::SeqCst), 0, "the channel holds it");
    drop(rx);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "dropped with the receiver, not the sender"
    );
    drop(tx);

    // Bounded, draining after close with a permit out: two registrations.
    let (tx, mut rx) = mpsc::channel::<u8>(2);
    let permit = tx.try_reserve().unwrap();
    rx.close();
    let (drops, waker) = drop_counting_waker();
    assert!(rx.poll_recv(&mut Context::from_waker(&waker)).is_pending());
    drop(waker);
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(permit);

    // Unbounded.
    let (tx, mut rx) = mpsc::unbounded_channel::<u8>();
    let (drops, waker) = drop_counting_waker();
    assert!(rx.poll_recv(&mut Context::from_waker(&waker)).is_pending());
    drop(waker);
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(tx);
}

#[test]
fn a_panicking_drop_while_the_receiver_drains_leaks_no_message() {
    for bounded in [true, false] {
        let drops = Arc::new(AtomicUsize::new(0));
        let value = |panics| PanicOnDrop {
            drops: drops.clone(),
            panics,
        };
        let dropped = if bounded {
            let (tx, rx) = mpsc::channel(8);
            for panics in [false, true, false, true, false] {
                tx.try_send(value(panics)).unwrap();
            }
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(rx)));
            (r, Box::new(tx) as Box<dyn std::any::Any>)
        } else {
            let (tx, rx) = mpsc::unbounded_channel();
            for panics in [false, true, false, true, false] {
                tx.send(value(panics)).unwrap();
            }
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(rx)));
            (r, Box::new(tx) as Box<dyn std::any::Any>)
        };
        assert!(dropped.0.is_err(), "the destructor's panic propagates");
        // Every message went with the receiver, though a sender still holds the channel.
        assert_eq!(drops.load(Ordering::SeqCst), 5);
    }
}

#[test]
fn a_failed_or_cancelled_reserve_and_the_last_permit_wake_a_draining_receiver() {
    let waker_of = |count: &Arc<CountingWaker>| Waker::from(count.clone());
    // The last permit dropped unused.
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    let permit = tx.try_reserve().unwrap();
    let mut failed = pin!(tx.reserve());
    let (_, noop) = counting_waker();
    assert!(poll_pinned(failed.as_mut(), &noop).is_pending());
    rx.close();
    // The queued reserve fails: it held no slot, and the receiver keeps waiting.
    assert!(matches!(
        poll_pinned(failed.as_mut(), &noop),
        Poll::Ready(Err(_))
    ));
    let (woken, waker) = counting_waker();
    assert!(rx.poll_recv(&mut Context::from_waker(&waker)).is_pending());
    drop(permit);
    assert_eq!(woken.0.load(Ordering::SeqCst), 1);
    assert_eq!(
        rx.poll_recv(&mut Context::from_waker(&waker)),
        Poll::Ready(None)
    );

    // The last permit sent: the receiver gets its message, then the end.
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    let permit = tx.try_reserve().unwrap();
    rx.close();
    let woken = Arc::new(CountingWaker::default());
    assert!(rx
        .poll_recv(&mut Context::from_waker(&waker_of(&woken)))
        .is_pending());
    permit.send(4);
    assert!(woken.0.load(Ordering::SeqCst) >= 1);
    assert_eq!(rx.try_recv(), Ok(4));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));

    // A reserve granted a slot, then cancelled before it saw it.
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    let permit = tx.try_reserve().unwrap();
    let mut granted = Box::pin(tx.reserve());
    assert!(poll_pinned(granted.as_mut(), &noop).is_pending());
    drop(permit); // handed to `granted`
    rx.close();
    let woken = Arc::new(CountingWaker::default());
    assert!(rx
        .poll_recv(&mut Context::from_waker(&waker_of(&woken)))
        .is_pending());
    drop(granted);
    assert_eq!(woken.0.load(Ordering::SeqCst), 1);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn a_receiver_dropped_from_a_replaced_wakers_drop_does_not_deadlock() {
    finishes_or_deadlocks("mpsc receiver dropped from a waker's Drop", || {
        let (tx, rx) = mpsc::channel::<u8>(1);
        tx.try_send(0).unwrap();
        // The receiver's drop closes the channel, which fails the queued senders.
        let waker = waker_with_drop(move || drop(rx));
        let mut queued = Box::pin(tx.reserve());
        assert!(poll_pinned(queued.as_mut(), &waker).is_pending());
        drop(waker);
        // Re-polling with another waker replaces the one whose drop closes the channel.
        let (_, other) = counting_waker();
        let _ = poll_pinned(queued.as_mut(), &other);
        assert!(matches!(
            poll_pinned(queued.as_mut(), &other),
            Poll::Ready(Err(_))
        ));
    });
}
