//! watch: versions, seen/unseen tracking, wakeups, closing from both sides, stress.
#![cfg(not(loom))]

use filch_sync::watch;
use futures::executor::block_on;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Poll;
use std::thread;

mod support;
use support::{
    assert_a_send_skips_waiters_queued_during_it, counting_waker, finishes_or_deadlocks,
    poll_pinned, waker_with_drop, Newcomer,
};

#[test]
fn initial_value_is_seen_and_sends_are_not() {
    let (tx, mut rx) = watch::channel(0);
    assert_eq!(rx.has_changed(), Ok(false));
    assert!(!rx.borrow().has_changed());
    tx.send(1).unwrap();
    assert_eq!(rx.has_changed(), Ok(true));
    assert!(rx.borrow().has_changed());
    assert_eq!(rx.has_changed(), Ok(true), "borrow does not mark seen");
    assert_eq!(*rx.borrow_and_update(), 1);
    assert_eq!(rx.has_changed(), Ok(false));
}

#[test]
fn changed_returns_at_once_for_an_unseen_value_and_skips_intermediate_ones() {
    let (tx, mut rx) = watch::channel(0);
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    block_on(rx.changed()).unwrap();
    assert_eq!(*rx.borrow(), 2);
    let waker = futures::task::noop_waker();
    let mut changed = pin!(rx.changed());
    assert!(poll_pinned(changed.as_mut(), &waker).is_pending());
}

#[test]
fn every_waiting_receiver_is_woken_once_per_send() {
    let (tx, rx) = watch::channel(0);
    let mut receivers: Vec<_> = (0..40).map(|_| rx.clone()).collect();
    let (count, waker) = counting_waker();
    let mut futures: Vec<_> = receivers
        .iter_mut()
        .map(|rx| Box::pin(rx.changed()))
        .collect();
    for fut in &mut futures {
        assert!(poll_pinned(fut.as_mut(), &waker).is_pending());
    }
    tx.send(1).unwrap();
    assert_eq!(count.0.load(Ordering::SeqCst), 40);
    for fut in &mut futures {
        assert_eq!(poll_pinned(fut.as_mut(), &waker), Poll::Ready(Ok(())));
    }
}

#[test]
fn dropped_changed_future_leaves_no_waiter_and_loses_no_change() {
    let (tx, mut rx) = watch::channel(0);
    let (count, waker) = counting_waker();
    {
        let mut changed = pin!(rx.changed());
        assert!(poll_pinned(changed.as_mut(), &waker).is_pending());
    }
    tx.send(1).unwrap();
    assert_eq!(count.0.load(Ordering::SeqCst), 0, "no ghost waiter woken");
    assert_eq!(rx.has_changed(), Ok(true));
    block_on(rx.changed()).unwrap();
}

#[test]
fn sender_drop_ends_changed_after_the_last_unseen_value() {
    let (tx, mut rx) = watch::channel(0);
    let (count, waker) = counting_waker();
    let mut changed = pin!(rx.changed());
    assert!(poll_pinned(changed.as_mut(), &waker).is_pending());
    drop(tx);
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert!(matches!(
        poll_pinned(changed.as_mut(), &waker),
        Poll::Ready(Err(_))
    ));

    let (tx, mut rx) = watch::channel(0);
    tx.send(1).unwrap();
    drop(tx);
    // tokio's: closed is an error for `has_changed` even with a value unseen ...
    assert!(rx.has_changed().is_err());
    assert!(rx.borrow().has_changed());
    // ... while `changed` still reports that value first.
    block_on(rx.changed()).unwrap();
    assert!(rx.has_changed().is_err());
    assert!(block_on(rx.changed()).is_err());
    assert_eq!(*rx.borrow(), 1);
}

#[test]
fn send_without_receivers_fails_but_send_replace_stores() {
    let (tx, rx) = watch::channel(0);
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send(1).unwrap_err().0, 1);
    assert_eq!(*tx.borrow(), 0);
    assert_eq!(tx.send_replace(2), 0);
    let rx = tx.subscribe();
    assert_eq!(*rx.borrow(), 2);
    assert_eq!(rx.has_changed(), Ok(false));
}

#[test]
fn send_modify_and_send_if_modified() {
    let (tx, mut rx) = watch::channel(vec![1]);
    tx.send_modify(|v| v.push(2));
    assert!(rx.has_changed().unwrap());
    rx.mark_unchanged();
    assert!(!tx.send_if_modified(|v| v.is_empty()));
    assert!(!rx.has_changed().unwrap());
    rx.mark_changed();
    assert!(rx.has_changed().unwrap());
    assert_eq!(*rx.borrow_and_update(), [1, 2]);
}

#[test]
fn a_panicking_modify_still_publishes() {
    let (tx, rx) = watch::channel(0);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tx.send_modify(|v| {
            *v = 7;
            panic!("boom");
        })
    }));
    assert!(result.is_err());
    assert_eq!(rx.has_changed(), Ok(true));
    assert_eq!(*rx.borrow(), 7);
}

#[test]
fn a_panicking_modify_wakes_waiting_receivers_and_leaves_the_lock_usable() {
    let (tx, mut rx) = watch::channel(0);
    let mut rx2 = rx.clone();
    let (count, waker) = counting_waker();
    {
        let mut changed = pin!(rx.changed());
        let mut changed2 = pin!(rx2.changed());
        assert!(poll_pinned(changed.as_mut(), &waker).is_pending());
        assert!(poll_pinned(changed2.as_mut(), &waker).is_pending());
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            tx.send_if_modified(|v| {
                *v = 7;
                panic!("boom");
            })
        }));
        assert!(result.is_err());
        // The possibly half-made change is published *and* announced: no receiver is left
        // with a bumped version and no wakeup.
        assert_eq!(count.0.load(Ordering::SeqCst), 2);
        assert_eq!(poll_pinned(changed.as_mut(), &waker), Poll::Ready(Ok(())));
        assert_eq!(poll_pinned(changed2.as_mut(), &waker), Poll::Ready(Ok(())));
    }
    // The value lock was released by the unwind, not poisoned or leaked.
    assert_eq!(*rx.borrow_and_update(), 7);
    let other = thread::spawn({
        let rx = rx2.clone();
        move || *rx.borrow()
    });
    assert_eq!(other.join().unwrap(), 7);
    tx.send(8).unwrap();
    assert_eq!(*rx.borrow_and_update(), 8);
    // A panic before any change is treated the same way: a spurious change notice is
    // harmless, a missed one is not.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tx.send_if_modified(|_| panic!("before touching the value"))
    }));
    assert_eq!(rx.has_changed(), Ok(true));
}

#[test]
fn a_send_does_not_wake_receivers_that_queued_after_it() {
    const WAITERS: usize = 40; // more than one wake batch
    let (tx, rx) = watch::channel(0);
    let tx = Arc::new(tx);
    let newcomer = {
        let tx = tx.clone();
        Newcomer::new(move || {
            let mut rx = tx.subscribe();
            Box::pin(async move {
                let _ = rx.changed().await;
            })
        })
    };
    let mut receivers: Vec<_> = (0..WAITERS).map(|_| rx.clone()).collect();
    let waits = receivers
        .iter_mut()
        .map(|rx| Box::pin(rx.changed()))
        .collect();
    assert_a_send_skips_waiters_queued_during_it(&newcomer, waits, |value| {
        tx.send(value).unwrap();
    });
}

#[test]
fn sender_closed_waits_for_every_receiver() {
    let (tx, rx) = watch::channel(());
    let rx2 = rx.clone();
    assert_eq!(tx.receiver_count(), 2);
    let (count, waker) = counting_waker();
    let mut closed = pin!(tx.closed());
    assert!(poll_pinned(closed.as_mut(), &waker).is_pending());
    drop(rx);
    assert_eq!(count.0.load(Ordering::SeqCst), 0);
    assert!(poll_pinned(closed.as_mut(), &waker).is_pending());
    drop(rx2);
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert!(poll_pinned(closed.as_mut(), &waker).is_ready());
}

#[test]
fn stress_receivers_see_a_monotonic_sequence_ending_at_the_last_value() {
    const LAST: usize = 20_000;
    let (tx, rx) = watch::channel(0usize);
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let mut rx = rx.clone();
            thread::spawn(move || {
                block_on(async {
                    let mut prev = 0;
                    while rx.changed().await.is_ok() {
                        let now = *rx.borrow_and_update();
                        assert!(now > prev, "went backwards: {prev} -> {now}");
                        prev = now;
                    }
                    prev
                })
            })
        })
        .collect();
    drop(rx);
    for i in 1..=LAST {
        tx.send(i).unwrap();
    }
    drop(tx);
    for reader in readers {
        assert_eq!(reader.join().unwrap(), LAST);
    }
}

#[test]
fn auto_traits() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<watch::Sender<u8>>();
    send_sync::<watch::Receiver<u8>>();
    send_sync::<watch::SendError<u8>>();
    send_sync::<watch::RecvError>();
    fn send_future<F: Future + Send>(_: F) {}
    let (tx, mut rx) = watch::channel(0u8);
    send_future(tx.closed());
    send_future(rx.changed());
}

#[test]
fn a_send_from_a_replaced_wakers_drop_does_not_deadlock() {
    finishes_or_deadlocks("watch send from a waker's Drop", || {
        let (tx, mut rx) = watch::channel(0);
        let tx2 = tx.clone();
        let waker = waker_with_drop(move || {
            tx2.send(7).unwrap();
        });
        let mut changed = Box::pin(rx.changed());
        assert!(poll_pinned(changed.as_mut(), &waker).is_pending());
        drop(waker);
        let (_, other) = counting_waker();
        let _ = poll_pinned(changed.as_mut(), &other);
        drop(changed);
        assert_eq!(*rx.borrow_and_update(), 7);
        drop(tx);
    });
}

#[test]
fn cloned_senders_close_the_channel_with_the_last_one() {
    let (tx, mut rx) = watch::channel(0);
    let tx2 = tx.clone();
    assert_eq!(tx.sender_count(), 2);
    let (count, waker) = counting_waker();
    let mut changed = Box::pin(rx.changed());
    assert!(poll_pinned(changed.as_mut(), &waker).is_pending());
    drop(tx);
    assert_eq!(
        count.0.load(Ordering::SeqCst),
        0,
        "one sender left: not closed"
    );
    tx2.send(1).unwrap();
    assert!(matches!(
        poll_pinned(changed.as_mut(), &waker),
        Poll::Ready(Ok(()))
    ));
    drop(changed);
    let mut changed = Box::pin(rx.changed());
    assert!(poll_pinned(changed.as_mut(), &waker).is_pending());
    drop(tx2);
    assert!(matches!(
        poll_pinned(changed.as_mut(), &waker),
        Poll::Ready(Err(_))
    ));
}

#[test]
fn wait_for_checks_the_current_value_then_each_change() {
    let (tx, mut rx) = watch::channel(3);
    // Ready at once on the current (seen) value.
    assert_eq!(*block_on(rx.wait_for(|v| *v == 3)).unwrap(), 3);
    let (_, waker) = counting_waker();
    let mut calls = 0;
    {
        let mut wait = Box::pin(rx.wait_for(|v| {
            calls += 1;
            *v == 10
        }));
        assert!(poll_pinned(wait.as_mut(), &waker).is_pending());
        tx.send(5).unwrap();
        assert!(poll_pinned(wait.as_mut(), &waker).is_pending());
        tx.send(10).unwrap();
        match poll_pinned(wait.as_mut(), &waker) {
            Poll::Ready(Ok(value)) => {
                assert_eq!(*value, 10);
                assert!(value.has_changed());
            }
            _ => panic!("wait_for did not see 10"),
        }
    }
    assert_eq!(calls, 3, "the current value, 5, then 10");
    assert_eq!(rx.has_changed(), Ok(false), "marked seen");
    // Closed: `f` sees the final value, then the error.
    tx.send(11).unwrap();
    drop(tx);
    let mut last = None;
    assert!(block_on(rx.wait_for(|v| {
        last = Some(*v);
        false
    }))
    .is_err());
    assert_eq!(last, Some(11));
}

#[test]
fn wait_for_across_threads() {
    let (tx, mut rx) = watch::channel(0u32);
    let producer = thread::spawn(move || {
        for i in 1..=1000 {
            tx.send(i).unwrap();
        }
    });
    assert_eq!(*block_on(rx.wait_for(|v| *v == 1000)).unwrap(), 1000);
    producer.join().unwrap();
}

// ---- Cloned senders: the channel closes for receivers only with the last one. ----

#[test]
fn two_cloned_senders_both_publish_and_dropping_one_keeps_the_channel_open() {
    let (tx, mut rx) = watch::channel(0);
    let mut rx2 = rx.clone();
    let tx2 = tx.clone();
    tx.send(1).unwrap();
    assert_eq!(*rx.borrow_and_update(), 1);
    tx2.send(2).unwrap();
    block_on(rx.changed()).unwrap();
    assert_eq!(*rx.borrow_and_update(), 2);
    // rx2 skipped 1 and sees only the latest value, whoever sent it.
    block_on(rx2.changed()).unwrap();
    assert_eq!(*rx2.borrow_and_update(), 2);
    assert_eq!(*tx.borrow(), 2, "every clone borrows the one value");
    assert_eq!(tx.send_replace(3), 2);
    assert_eq!(tx2.send_replace(4), 3);
    assert_eq!(*rx.borrow_and_update(), 4);
    assert_eq!(*rx2.borrow_and_update(), 4);

    let (count, waker) = counting_waker();
    let mut changed = Box::pin(rx.changed());
    assert!(poll_pinned(changed.as_mut(), &waker).is_pending());
    drop(tx);
    assert_eq!(
        count.0.load(Ordering::SeqCst),
        0,
        "a sender is left: its clone's drop woke a receiver"
    );
    assert!(poll_pinned(changed.as_mut(), &waker).is_pending());
    assert_eq!(rx2.has_changed(), Ok(false), "open while a clone lives");
    tx2.send(5).unwrap();
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert_eq!(poll_pinned(changed.as_mut(), &waker), Poll::Ready(Ok(())));
    drop(changed);
    assert_eq!(*rx.borrow_and_update(), 5);
    assert_eq!(rx2.has_changed(), Ok(true));
}

#[test]
fn the_last_sender_drop_wakes_every_waiting_receiver_once() {
    let (tx, rx) = watch::channel(0);
    let senders = [tx.clone(), tx.clone(), tx];
    let mut receivers: Vec<_> = (0..3).map(|_| rx.clone()).collect();
    drop(rx);
    let (count, waker) = counting_waker();
    let mut waits: Vec<_> = receivers
        .iter_mut()
        .map(|rx| Box::pin(rx.changed()))
        .collect();
    for wait in &mut waits {
        assert!(poll_pinned(wait.as_mut(), &waker).is_pending());
    }
    let [first, second, last] = senders;
    drop(second);
    drop(first);
    assert_eq!(
        count.0.load(Ordering::SeqCst),
        0,
        "closed with a sender left"
    );
    for wait in &mut waits {
        assert!(poll_pinned(wait.as_mut(), &waker).is_pending());
    }
    drop(last);
    assert_eq!(
        count.0.load(Ordering::SeqCst),
        3,
        "a waiter missed the close"
    );
    for wait in &mut waits {
        assert!(matches!(
            poll_pinned(wait.as_mut(), &waker),
            Poll::Ready(Err(_))
        ));
    }
    drop(waits);
    for rx in &receivers {
        assert!(rx.has_changed().is_err());
    }
}

#[test]
fn sender_count_follows_clones_and_drops() {
    let (tx, rx) = watch::channel(0);
    assert_eq!(tx.sender_count(), 1);
    let tx2 = tx.clone();
    let tx3 = tx2.clone(); // a clone of a clone counts the same
    for sender in [&tx, &tx2, &tx3] {
        assert_eq!(sender.sender_count(), 3);
        assert_eq!(sender.receiver_count(), 1, "receivers are counted apart");
    }
    // Receivers, cloned or subscribed from any sender, never change the sender count.
    let rx2 = rx.clone();
    let rx3 = tx3.subscribe();
    assert_eq!(tx.sender_count(), 3);
    assert_eq!(tx.receiver_count(), 3);
    drop(tx); // the original goes first
    assert_eq!(tx2.sender_count(), 2);
    let tx4 = tx3.clone();
    assert_eq!(tx4.sender_count(), 3);
    drop((rx, rx2, rx3));
    for sender in [&tx2, &tx3, &tx4] {
        assert!(
            sender.is_closed(),
            "closed means no receivers, on every clone"
        );
        assert_eq!(sender.sender_count(), 3);
    }
    drop(tx2);
    drop(tx4);
    assert_eq!(tx3.sender_count(), 1);
    let rx = tx3.subscribe();
    assert!(!tx3.is_closed());
    assert_eq!(rx.has_changed(), Ok(false));
    drop(tx3);
    assert!(rx.has_changed().is_err());
}

#[test]
fn a_sender_cloned_while_a_receiver_waits_in_changed_keeps_it_open() {
    let (tx, mut rx) = watch::channel(0);
    let (count, waker) = counting_waker();
    let mut changed = Box::pin(rx.changed());
    assert!(poll_pinned(changed.as_mut(), &waker).is_pending());
    let tx2 = tx.clone();
    drop(tx);
    assert_eq!(count.0.load(Ordering::SeqCst), 0);
    assert!(poll_pinned(changed.as_mut(), &waker).is_pending());
    tx2.send(1).unwrap();
    assert_eq!(poll_pinned(changed.as_mut(), &waker), Poll::Ready(Ok(())));
    drop(changed);
    assert_eq!(*rx.borrow_and_update(), 1);
    let mut changed = Box::pin(rx.changed());
    assert!(poll_pinned(changed.as_mut(), &waker).is_pending());
    let before = count.0.load(Ordering::SeqCst);
    drop(tx2);
    assert_eq!(count.0.load(Ordering::SeqCst), before + 1);
    assert!(matches!(
        poll_pinned(changed.as_mut(), &waker),
        Poll::Ready(Err(_))
    ));
}

/// Polls `fut`, and sends on `parked` the first time it returns `Pending`: the caller
/// learns that the waiter is queued before it acts.
async fn report_parked<F: Future>(fut: F, parked: impl FnOnce()) -> F::Output {
    let mut fut = pin!(fut);
    let mut parked = Some(parked);
    std::future::poll_fn(|cx| {
        let out = fut.as_mut().poll(cx);
        if out.is_pending() {
            if let Some(parked) = parked.take() {
                parked();
            }
        }
        out
    })
    .await
}

#[test]
fn a_receiver_blocked_on_another_thread_wakes_on_the_last_drop_only() {
    finishes_or_deadlocks("watch: last sender drop vs a blocked receiver", || {
        let (tx, mut rx) = watch::channel(0);
        let (parked_tx, parked_rx) = std::sync::mpsc::channel();
        let receiver = thread::spawn(move || {
            block_on(async {
                let mut values = Vec::new();
                loop {
                    let parked = parked_tx.clone();
                    let changed = report_parked(rx.changed(), move || parked.send(()).unwrap());
                    if changed.await.is_err() {
                        return values;
                    }
                    values.push(*rx.borrow_and_update());
                }
            })
        });
        parked_rx.recv().unwrap();
        // Cloned while the receiver is blocked in `changed()`; the original goes.
        let tx2 = tx.clone();
        drop(tx);
        thread::sleep(std::time::Duration::from_millis(20));
        assert!(!receiver.is_finished(), "closed with a sender left");
        tx2.send(1).unwrap();
        parked_rx.recv().unwrap();
        let tx3 = tx2.clone();
        let sender = thread::spawn(move || {
            tx3.send(2).unwrap();
            // tx3 drops here, on another thread; tx2 is still alive.
        });
        sender.join().unwrap();
        parked_rx.recv().unwrap();
        assert!(!receiver.is_finished());
        drop(tx2);
        assert_eq!(receiver.join().unwrap(), [1, 2]);
    });
}

#[test]
fn racing_last_sender_drops_close_once_after_the_final_value() {
    const SENDERS: usize = 4;
    const SENDS: usize = 50;
    for round in 0..200 {
        finishes_or_deadlocks("watch: racing sender drops", move || {
            let (tx, mut rx) = watch::channel((usize::MAX, 0));
            let receiver = thread::spawn(move || {
                block_on(async {
                    let mut changes = 0;
                    while rx.changed().await.is_ok() {
                        changes += 1;
                    }
                    // The close is reported only once the final value has been seen.
                    assert!(
                        !rx.borrow().has_changed(),
                        "round {round}: closed too early"
                    );
                    (changes, *rx.borrow())
                })
            });
            let senders: Vec<_> = (0..SENDERS)
                .map(|id| {
                    let tx = tx.clone();
                    thread::spawn(move || {
                        for i in 1..=SENDS {
                            tx.send((id, i)).unwrap();
                        }
                    })
                })
                .collect();
            drop(tx);
            for sender in senders {
                sender.join().unwrap();
            }
            let (changes, (_, last)) = receiver.join().unwrap();
            assert!((1..=SENDERS * SENDS).contains(&changes), "round {round}");
            assert_eq!(
                last, SENDS,
                "round {round}: the final value is some sender's last"
            );
        });
    }
}

#[test]
fn subscribe_and_closed_work_from_any_clone() {
    let (tx, rx) = watch::channel(0);
    let tx2 = tx.clone();
    let rx2 = tx2.subscribe();
    tx.send(1).unwrap();
    assert_eq!(
        rx2.has_changed(),
        Ok(true),
        "subscribed from the clone, sent by the original"
    );
    assert!(rx.same_channel(&rx2));
    let (count, waker) = counting_waker();
    let mut closed = Box::pin(tx.closed());
    let mut closed2 = Box::pin(tx2.closed());
    assert!(poll_pinned(closed.as_mut(), &waker).is_pending());
    assert!(poll_pinned(closed2.as_mut(), &waker).is_pending());
    drop(rx);
    assert_eq!(count.0.load(Ordering::SeqCst), 0);
    assert!(!tx.is_closed() && !tx2.is_closed());
    drop(rx2);
    assert_eq!(
        count.0.load(Ordering::SeqCst),
        2,
        "each sender's closed() woken"
    );
    assert!(poll_pinned(closed.as_mut(), &waker).is_ready());
    assert!(poll_pinned(closed2.as_mut(), &waker).is_ready());
    assert!(tx.is_closed() && tx2.is_closed());
    assert!(tx2.send(2).is_err());
}

/// Awaits `fut`, failing the test if it takes 10 s (a lost wakeup, not slowness).
async fn within<F: Future>(flavor: &str, what: &str, fut: F) -> F::Output {
    filch::time::timeout(std::time::Duration::from_secs(10), fut)
        .await
        .unwrap_or_else(|_| panic!("{flavor}: {what} (a lost wakeup)"))
}

/// Both filch runtimes: a task parked in `changed()` is woken by sends from tasks that
/// own clones, stays parked when a clone drops, and ends when the last one drops (from
/// another task, maybe on another worker) while it is parked.
#[test]
fn on_both_filch_flavors_the_last_sender_drop_wakes_a_parked_task() {
    use filch::runtime::Builder;
    let flavors = [
        (
            "current_thread",
            Builder::new_current_thread().build().unwrap(),
        ),
        (
            "multi_thread",
            Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap(),
        ),
    ];
    for (flavor, rt) in flavors {
        rt.block_on(async move {
            let (tx, mut rx) = filch::sync::watch::channel(0u32);
            let (parked_tx, mut parked) = filch::sync::mpsc::unbounded_channel();
            let mut receiver = filch::spawn(async move {
                let mut values = Vec::new();
                loop {
                    let parked = parked_tx.clone();
                    let changed = report_parked(rx.changed(), move || parked.send(()).unwrap());
                    if changed.await.is_err() {
                        return values;
                    }
                    values.push(*rx.borrow_and_update());
                }
            });
            within(flavor, "never parked", parked.recv()).await.unwrap();
            let tx2 = tx.clone();
            filch::spawn(async move { tx2.send(1).unwrap() })
                .await
                .unwrap();
            within(flavor, "no wake on a send", parked.recv())
                .await
                .unwrap();
            // A clone's drop, from another task: the receiver stays parked.
            let tx3 = tx.clone();
            filch::spawn(async move { drop(tx) }).await.unwrap();
            let woken =
                filch::time::timeout(std::time::Duration::from_millis(20), &mut receiver).await;
            assert!(woken.is_err(), "{flavor}: closed with a sender left");
            assert!(
                parked.try_recv().is_err(),
                "{flavor}: woken by a clone's drop"
            );
            let tx3 = filch::spawn(async move {
                tx3.send(2).unwrap();
                tx3
            })
            .await
            .unwrap();
            within(flavor, "no wake on a send", parked.recv())
                .await
                .unwrap();
            // Parked again: now the last sender goes, from another task.
            filch::spawn(async move { drop(tx3) }).await.unwrap();
            let values = within(flavor, "no wake on the last drop", receiver)
                .await
                .unwrap();
            assert_eq!(values, [1, 2], "{flavor}");
        });
    }
}
