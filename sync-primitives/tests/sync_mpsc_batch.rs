//! mpsc beyond one message at a time: batch receives (`recv_many`), owned and batched
//! permits (`reserve_owned`, `reserve_many`), and weak senders.
#![cfg(not(loom))]

use filch_sync::mpsc::{self, error::TryRecvError, error::TrySendError};
use futures::executor::block_on;
use std::pin::pin;
use std::task::{Context, Poll};
use std::thread;

mod support;
use support::{counting_waker, finishes_or_deadlocks, poll_pinned};

#[test]
fn recv_many_takes_what_is_there_up_to_the_limit_and_frees_the_slots() {
    let (tx, mut rx) = mpsc::channel(4);
    let mut buffer = vec![-1];
    let (_, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert_eq!(rx.poll_recv_many(&mut cx, &mut buffer, 0), Poll::Ready(0));
    assert_eq!(rx.poll_recv_many(&mut cx, &mut buffer, 4), Poll::Pending);
    for i in 0..4 {
        tx.try_send(i).unwrap();
    }
    // A sender waiting for room gets it once recv_many has popped.
    let mut queued = pin!(tx.send(4));
    assert!(poll_pinned(queued.as_mut(), &waker).is_pending());
    assert_eq!(block_on(rx.recv_many(&mut buffer, 3)), 3);
    assert!(matches!(
        poll_pinned(queued.as_mut(), &waker),
        Poll::Ready(Ok(()))
    ));
    assert_eq!(tx.capacity(), 2, "3 popped, 1 of them to the queued send");
    // Close with a permit out: recv_many drains, waits for the permit, then ends.
    let permit = tx.try_reserve().unwrap();
    rx.close();
    assert_eq!(block_on(rx.recv_many(&mut buffer, 10)), 2);
    assert_eq!(rx.poll_recv_many(&mut cx, &mut buffer, 10), Poll::Pending);
    permit.send(5);
    assert_eq!(block_on(rx.recv_many(&mut buffer, 10)), 1);
    assert_eq!(block_on(rx.recv_many(&mut buffer, 10)), 0);
    assert_eq!(buffer, [-1, 0, 1, 2, 3, 4, 5], "appended, in order");
}

#[test]
fn recv_many_on_an_unbounded_channel_and_across_threads() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let producers: Vec<_> = (0..2)
        .map(|id| {
            let tx = tx.clone();
            thread::spawn(move || {
                for i in 0..500 {
                    tx.send((id, i)).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let mut got = Vec::new();
    block_on(async {
        loop {
            let before = got.len();
            let n = rx.recv_many(&mut got, 64).await;
            assert!(n <= 64);
            assert_eq!(got.len(), before + n);
            if n == 0 {
                break;
            }
        }
    });
    for p in producers {
        p.join().unwrap();
    }
    assert_eq!(got.len(), 1000);
    for id in 0..2 {
        let mine: Vec<_> = got.iter().filter(|m| m.0 == id).map(|m| m.1).collect();
        assert_eq!(mine, (0..500).collect::<Vec<_>>(), "per-sender order kept");
    }
}

#[test]
fn owned_permits_send_and_hand_the_sender_back() {
    let (tx, mut rx) = mpsc::channel(2);
    let permit = block_on(tx.clone().reserve_owned()).unwrap();
    assert_eq!(tx.capacity(), 1);
    let tx2 = thread::spawn(move || permit.send(1)).join().unwrap();
    assert!(tx2.same_channel(&tx));
    assert_eq!(rx.try_recv(), Ok(1));
    // Released or dropped unused, the slot comes back.
    let permit = tx.clone().try_reserve_owned().unwrap();
    assert_eq!(tx.capacity(), 1);
    drop(permit.release());
    assert_eq!(tx.capacity(), 2);
    drop(tx.clone().try_reserve_owned().unwrap());
    assert_eq!(tx.capacity(), 2);
    // Full and closed give the sender back.
    let _a = tx.clone().try_reserve_owned().unwrap();
    let _b = tx.clone().try_reserve_owned().unwrap();
    let Err(TrySendError::Full(tx)) = tx.try_reserve_owned() else {
        panic!("full");
    };
    rx.close();
    assert!(matches!(
        tx.clone().try_reserve_owned(),
        Err(TrySendError::Closed(_))
    ));
    assert!(block_on(tx.reserve_owned()).is_err());
}

#[test]
fn an_owned_permit_taken_before_close_is_still_received() {
    let (tx, mut rx) = mpsc::channel(1);
    let permit = tx.try_reserve_owned().unwrap();
    rx.close();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    let tx = permit.send(7);
    assert_eq!(rx.try_recv(), Ok(7));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    drop(tx);
}

#[test]
fn reserve_many_yields_n_permits_and_returns_the_unused_ones() {
    let (tx, mut rx) = mpsc::channel(4);
    let mut permits = tx.try_reserve_many(3).unwrap();
    assert_eq!(permits.len(), 3);
    assert_eq!(tx.capacity(), 1);
    permits.next().unwrap().send(1);
    let held = permits.next().unwrap();
    drop(permits);
    // One sent (its slot is the message's), one held, one returned by the iterator's drop.
    assert_eq!(tx.capacity(), 2);
    drop(held);
    assert_eq!(tx.capacity(), 3);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(tx.capacity(), 4);
    // Zero is an empty iterator; more than the capacity fails like tokio.
    assert_eq!(tx.try_reserve_many(0).unwrap().len(), 0);
    assert_eq!(block_on(tx.reserve_many(0)).unwrap().count(), 0);
    assert_eq!(tx.try_reserve_many(5).unwrap_err(), TrySendError::Full(()));
    assert!(block_on(tx.reserve_many(5)).is_err());
    let all = block_on(tx.reserve_many(4)).unwrap();
    assert_eq!(tx.try_reserve_many(1).unwrap_err(), TrySendError::Full(()));
    drop(all);
    rx.close();
    assert_eq!(
        tx.try_reserve_many(1).unwrap_err(),
        TrySendError::Closed(())
    );
    assert!(block_on(tx.reserve_many(1)).is_err());
}

#[test]
fn a_waiting_reserve_many_gathers_slots_in_order_and_is_not_overtaken() {
    let (tx, mut rx) = mpsc::channel(3);
    for i in 0..3 {
        tx.try_send(i).unwrap();
    }
    let (_, waker) = counting_waker();
    let mut many = pin!(tx.reserve_many(2));
    assert!(poll_pinned(many.as_mut(), &waker).is_pending());
    let mut single = pin!(tx.send(9));
    assert!(poll_pinned(single.as_mut(), &waker).is_pending());
    assert_eq!(rx.try_recv(), Ok(0));
    // One slot gathered: still waiting, and a newcomer cannot take it.
    assert!(poll_pinned(many.as_mut(), &waker).is_pending());
    assert_eq!(tx.try_reserve().unwrap_err(), TrySendError::Full(()));
    assert!(poll_pinned(single.as_mut(), &waker).is_pending());
    assert_eq!(rx.try_recv(), Ok(1));
    let Poll::Ready(Ok(permits)) = poll_pinned(many.as_mut(), &waker) else {
        panic!("two slots were freed");
    };
    assert_eq!(permits.len(), 2);
    drop(permits);
    // The returned slots go to the queued single send.
    assert!(poll_pinned(single.as_mut(), &waker).is_ready());
    assert_eq!(tx.capacity(), 1);
}

#[test]
fn a_cancelled_reserve_many_returns_the_slots_it_gathered() {
    let (tx, mut rx) = mpsc::channel(2);
    tx.try_send(0).unwrap();
    tx.try_send(1).unwrap();
    let (_, waker) = counting_waker();
    {
        let mut many = pin!(tx.reserve_many(2));
        assert!(poll_pinned(many.as_mut(), &waker).is_pending());
        assert_eq!(rx.try_recv(), Ok(0));
        assert!(poll_pinned(many.as_mut(), &waker).is_pending());
        assert_eq!(tx.capacity(), 0);
    }
    assert_eq!(tx.capacity(), 1);
    // Cancelled with a sender queued behind it: the gathered slot passes on.
    {
        let mut many = Box::pin(tx.reserve_many(2));
        assert!(poll_pinned(many.as_mut(), &waker).is_pending());
        let mut single = pin!(tx.reserve());
        assert!(poll_pinned(single.as_mut(), &waker).is_pending());
        drop(many);
        assert!(poll_pinned(single.as_mut(), &waker).is_ready());
    }
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(tx.capacity(), 2);
}

#[test]
fn close_fails_a_partly_served_reserve_many_and_the_drain_ends() {
    let (tx, mut rx) = mpsc::channel(2);
    tx.try_send(0).unwrap();
    tx.try_send(1).unwrap();
    let (_, waker) = counting_waker();
    let mut many = pin!(tx.reserve_many(2));
    assert!(poll_pinned(many.as_mut(), &waker).is_pending());
    assert_eq!(rx.try_recv(), Ok(0));
    let permits = tx.clone();
    rx.close();
    assert!(matches!(
        poll_pinned(many.as_mut(), &waker),
        Poll::Ready(Err(_))
    ));
    assert_eq!(rx.try_recv(), Ok(1));
    // The slot it had gathered came back with the close: nothing more can arrive.
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    assert_eq!(tx.capacity(), 2);
    drop(permits);
}

#[test]
fn permits_from_reserve_many_taken_before_close_are_received_then_none() {
    let (tx, mut rx) = mpsc::channel(3);
    let mut permits = tx.try_reserve_many(3).unwrap();
    rx.close();
    permits.next().unwrap().send(1);
    let last = permits.next().unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    drop(permits);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    let reader = thread::spawn(move || {
        let got: Vec<_> = std::iter::from_fn(|| rx.blocking_recv()).collect();
        got
    });
    last.send(2);
    assert_eq!(reader.join().unwrap(), [2]);
}

#[test]
fn stress_reserve_many_against_single_sends_loses_no_capacity() {
    finishes_or_deadlocks("reserve_many stress", || {
        let (tx, mut rx) = mpsc::channel(4);
        let producers: Vec<_> = (1..=3usize)
            .map(|n| {
                let tx = tx.clone();
                thread::spawn(move || {
                    for round in 0..200 {
                        let permits = block_on(tx.reserve_many(n)).unwrap();
                        // Use some, drop the rest.
                        for permit in permits.take(round % (n + 1)) {
                            permit.send(n);
                        }
                    }
                })
            })
            .collect();
        drop(tx);
        let mut count = 0;
        while rx.blocking_recv().is_some() {
            count += 1;
        }
        for p in producers {
            p.join().unwrap();
        }
        assert!(count > 0);
        assert_eq!(rx.capacity(), 4);
    });
}

#[test]
fn weak_senders_upgrade_only_while_a_sender_lives() {
    let (tx, mut rx) = mpsc::channel::<u8>(2);
    let weak = tx.downgrade();
    let weak2 = weak.clone();
    assert_eq!((tx.strong_count(), tx.weak_count()), (1, 2));
    let up = weak.upgrade().unwrap();
    assert_eq!(weak.strong_count(), 2);
    drop(tx);
    up.try_send(1).unwrap();
    // The weak senders do not keep the channel open.
    drop(up);
    assert!(weak.upgrade().is_none());
    assert_eq!(weak2.strong_count(), 0);
    drop(weak2);
    assert_eq!(weak.weak_count(), 1);
    assert_eq!(block_on(rx.recv()), Some(1));
    assert_eq!(block_on(rx.recv()), None);
}

#[test]
fn upgrades_racing_the_last_sender_drop_never_revive_a_closed_channel() {
    for _ in 0..200 {
        let (tx, mut rx) = mpsc::channel::<u8>(1);
        let weak = tx.downgrade();
        let upgrader = thread::spawn(move || weak.upgrade().map(|tx| tx.try_send(1).is_ok()));
        drop(tx);
        let sent = upgrader.join().unwrap();
        let got = rx.blocking_recv();
        assert_eq!(got.is_some(), sent == Some(true));
        assert_eq!(rx.blocking_recv(), None);
    }
}
