//! loom models of the channel state machines.
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p filch-sync --release --test loom_channels`.
#![cfg(loom)]

use filch_sync::{broadcast, mpsc, oneshot, watch};
use loom::future::block_on;
use loom::thread;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(2);
    }
    builder.check(f);
}

#[test]
fn oneshot_send_races_receive() {
    model(|| {
        let (tx, rx) = oneshot::channel();
        let sender = thread::spawn(move || tx.send(1).unwrap());
        assert_eq!(block_on(rx), Ok(1));
        sender.join().unwrap();
    });
}

#[test]
fn oneshot_receiver_replaces_its_waker_while_the_sender_sends() {
    model(|| {
        let (tx, mut rx) = oneshot::channel();
        let sender = thread::spawn(move || tx.send(1).unwrap());
        // First poll registers a throwaway waker; block_on then registers its own, which
        // goes through the clear-RX_WAKER-and-rewrite path.
        let noop = futures::task::noop_waker();
        match std::pin::Pin::new(&mut rx).poll(&mut Context::from_waker(&noop)) {
            Poll::Ready(got) => assert_eq!(got, Ok(1)),
            Poll::Pending => assert_eq!(block_on(rx), Ok(1)),
        }
        sender.join().unwrap();
    });
}

#[test]
fn oneshot_sender_drop_races_receive() {
    model(|| {
        let (tx, rx) = oneshot::channel::<u8>();
        let sender = thread::spawn(move || drop(tx));
        assert!(block_on(rx).is_err());
        sender.join().unwrap();
    });
}

#[test]
fn oneshot_send_races_receiver_drop() {
    model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = oneshot::channel();
        let value = DropCounter(drops.clone());
        let sender = thread::spawn(move || drop(tx.send(value)));
        drop(rx);
        sender.join().unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn oneshot_closed_races_receiver_drop() {
    model(|| {
        let (mut tx, rx) = oneshot::channel::<u8>();
        let receiver = thread::spawn(move || drop(rx));
        block_on(tx.closed());
        assert!(tx.is_closed());
        receiver.join().unwrap();
    });
}

#[test]
fn oneshot_try_recv_races_send() {
    model(|| {
        let (tx, mut rx) = oneshot::channel();
        let sender = thread::spawn(move || tx.send(5).unwrap());
        match rx.try_recv() {
            Ok(v) => assert_eq!(v, 5),
            Err(oneshot::TryRecvError::Empty) => {
                sender.join().unwrap();
                assert_eq!(rx.try_recv(), Ok(5));
                return;
            }
            Err(oneshot::TryRecvError::Closed) => panic!("closed before the send"),
        }
        sender.join().unwrap();
    });
}

#[test]
fn mpsc_bounded_two_senders_capacity_one() {
    model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        let tx2 = tx.clone();
        let first = thread::spawn(move || block_on(tx.send(1)).unwrap());
        let second = thread::spawn(move || block_on(tx2.send(2)).unwrap());
        let mut got = [block_on(rx.recv()).unwrap(), block_on(rx.recv()).unwrap()];
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
        // Both senders are gone once they finish: no lost wakeup on the close either.
        assert_eq!(block_on(rx.recv()), None);
        first.join().unwrap();
        second.join().unwrap();
    });
}

#[test]
fn mpsc_bounded_send_waits_then_receiver_closes() {
    model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        tx.try_send(0).unwrap();
        let sender = thread::spawn(move || {
            // Either the receiver freed a slot first, or it closed: never stuck.
            let _ = block_on(tx.send(1));
        });
        assert_eq!(rx.try_recv(), Ok(0));
        rx.close();
        sender.join().unwrap();
        // Whatever made it in before the close is still delivered, then the end.
        while let Some(v) = block_on(rx.recv()) {
            assert_eq!(v, 1);
        }
    });
}

#[test]
fn mpsc_permit_races_receiver_close() {
    model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        // A second sender stays alive: only the permit's fate may end the drain.
        let _keep = tx.clone();
        let holder = thread::spawn(move || match block_on(tx.reserve()) {
            Ok(permit) => {
                permit.send(1);
                true
            }
            Err(_) => false,
        });
        rx.close();
        // Whatever the permit managed to send is received, then the end; never stuck.
        let got = block_on(rx.recv());
        assert_eq!(block_on(rx.recv()), None);
        assert_eq!(got.is_some(), holder.join().unwrap());
    });
}

#[test]
fn mpsc_dropped_permit_ends_a_closed_drain() {
    model(|| {
        let (tx, mut rx) = mpsc::channel::<i32>(1);
        let _keep = tx.clone();
        // A reservation, if it beats the close, is given back unused: that must end the drain.
        let holder = thread::spawn(move || {
            if let Ok(permit) = tx.try_reserve() {
                drop(permit);
            }
        });
        rx.close();
        assert_eq!(block_on(rx.recv()), None);
        holder.join().unwrap();
    });
}

#[test]
fn mpsc_cancelled_send_passes_its_slot_on() {
    model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        tx.try_send(0).unwrap();
        let probe = tx.clone();
        let canceller = thread::spawn(move || {
            let noop = futures::task::noop_waker();
            let mut send = pin!(tx.send(1));
            // Queue (or win the slot), then give up.
            let _ = send.as_mut().poll(&mut Context::from_waker(&noop));
        });
        assert_eq!(rx.try_recv(), Ok(0));
        canceller.join().unwrap();
        // The slot freed by the receive is not lost whatever the canceller did with it.
        match rx.try_recv() {
            Ok(v) => {
                assert_eq!(v, 1);
                assert_eq!(probe.capacity(), 1);
            }
            Err(_) => assert_eq!(probe.capacity(), 1),
        }
    });
}

#[test]
fn mpsc_reserve_many_gathers_slots_while_the_receiver_pops() {
    model(|| {
        let (tx, mut rx) = mpsc::channel(2);
        tx.try_send(0).unwrap();
        tx.try_send(1).unwrap();
        let probe = tx.clone();
        let many = thread::spawn(move || {
            let permits = block_on(tx.reserve_many(2)).unwrap();
            assert_eq!(permits.len(), 2);
            // Both slots dropped unused go back.
        });
        assert_eq!(block_on(rx.recv()), Some(0));
        assert_eq!(block_on(rx.recv()), Some(1));
        many.join().unwrap();
        assert_eq!(probe.capacity(), 2);
    });
}

#[test]
fn mpsc_close_races_a_partly_served_reserve_many() {
    model(|| {
        let (tx, mut rx) = mpsc::channel(2);
        tx.try_send(0).unwrap();
        let _keep = tx.clone();
        let many = thread::spawn(move || match block_on(tx.reserve_many(2)) {
            Ok(mut permits) => {
                permits.next().unwrap().send(1);
                true
            }
            Err(_) => false,
        });
        assert_eq!(rx.try_recv(), Ok(0));
        rx.close();
        // Granted before the close: its message comes, then the end. Failed: the slot it
        // had gathered came back, and the drain ends too.
        let got = block_on(rx.recv());
        assert_eq!(block_on(rx.recv()), None);
        assert_eq!(got.is_some(), many.join().unwrap());
    });
}

#[test]
fn mpsc_weak_upgrade_races_the_last_sender_drop() {
    model(|| {
        let (tx, mut rx) = mpsc::channel::<i32>(1);
        let weak = tx.downgrade();
        let upgrader = thread::spawn(move || match weak.upgrade() {
            Some(tx) => tx.try_send(1).is_ok(),
            None => false,
        });
        drop(tx);
        // An upgrade either kept the channel open and its message arrives, or failed.
        let got = block_on(rx.recv());
        assert_eq!(block_on(rx.recv()), None);
        assert_eq!(got.is_some(), upgrader.join().unwrap());
    });
}

#[test]
fn mpsc_unbounded_send_and_drop_race_receive() {
    model(|| {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let sender = thread::spawn(move || {
            tx.send(1).unwrap();
            tx.send(2).unwrap();
        });
        assert_eq!(block_on(rx.recv()), Some(1));
        assert_eq!(block_on(rx.recv()), Some(2));
        assert_eq!(block_on(rx.recv()), None);
        sender.join().unwrap();
    });
}

#[test]
fn watch_send_races_changed() {
    model(|| {
        let (tx, mut rx) = watch::channel(0);
        let sender = thread::spawn(move || {
            tx.send(1).unwrap();
        });
        // The version is bumped before the sender's drop closes the channel, so the
        // change is always reported before the close.
        block_on(rx.changed()).unwrap();
        assert_eq!(*rx.borrow(), 1);
        sender.join().unwrap();
        assert!(block_on(rx.changed()).is_err());
    });
}

#[test]
fn watch_last_of_two_cloned_senders_drops_while_a_receiver_waits() {
    model(|| {
        let (tx, mut rx) = watch::channel(0);
        let tx2 = tx.clone();
        // Two clones drop on two threads, one after a send: whichever decrement is last
        // closes, exactly once, and the waiting receiver is woken by it (a lost wakeup
        // deadlocks `block_on`, which loom reports).
        let first = thread::spawn(move || {
            tx.send(1).unwrap();
        });
        let second = thread::spawn(move || drop(tx2));
        let mut changes = 0;
        while block_on(rx.changed()).is_ok() {
            changes += 1;
        }
        assert_eq!(changes, 1, "the send is seen before the close");
        assert_eq!(*rx.borrow(), 1);
        first.join().unwrap();
        second.join().unwrap();
    });
}

#[test]
fn broadcast_send_races_recv() {
    model(|| {
        let (tx, mut rx) = broadcast::channel(1);
        let sender = thread::spawn(move || {
            tx.send(1).unwrap();
        });
        assert_eq!(block_on(rx.recv()), Ok(1));
        assert_eq!(block_on(rx.recv()), Err(broadcast::RecvError::Closed));
        sender.join().unwrap();
    });
}

#[test]
fn broadcast_len_with_a_receive_and_a_receiver_drop_racing_a_send() {
    model(|| {
        let (tx, mut rx) = broadcast::channel(2);
        let other = tx.subscribe();
        tx.send(1).unwrap();
        let reader = thread::spawn(move || {
            assert_eq!(rx.try_recv(), Ok(1));
            rx
        });
        let dropper = thread::spawn(move || drop(other));
        // A send racing both: counted for the receivers alive at that moment.
        tx.send(2).unwrap();
        assert!(tx.len() <= 2);
        dropper.join().unwrap();
        let mut rx = reader.join().unwrap();
        // Only `rx` is left and has read 1: what is queued is 2, for it.
        assert_eq!(tx.len(), 1);
        assert_eq!(rx.try_recv(), Ok(2));
        assert!(tx.is_empty());
    });
}
