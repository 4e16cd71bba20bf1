//! loom models of the semaphore core (acquire / release / cancel / close) and of the mutex
//! built on it: no lost permit, no lost wakeup, mutual exclusion.
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p filch-sync --release --test loom_semaphore`.
#![cfg(loom)]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use filch_sync::{Mutex, Notify, Semaphore};
use loom::future::block_on;
use loom::thread;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(2);
    }
    builder.check(f);
}

/// Polls `fut` once with a waker that does nothing; returns whether it completed.
fn poll_once<F: Future>(fut: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    let waker = futures::task::noop_waker();
    fut.poll(&mut Context::from_waker(&waker))
}

#[test]
fn release_wakes_a_queued_acquire() {
    model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let s = sem.clone();
        let releaser = thread::spawn(move || s.add_permits(1));
        // Either takes the permit at once or queues and must be woken.
        block_on(sem.acquire()).unwrap().forget();
        releaser.join().unwrap();
        assert_eq!(sem.available_permits(), 0);
    });
}

#[test]
fn two_acquirers_one_permit() {
    model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let s = sem.clone();
        let other = thread::spawn(move || drop(block_on(s.acquire()).unwrap()));
        drop(block_on(sem.acquire()).unwrap());
        other.join().unwrap();
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn cancel_races_release() {
    model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let s = sem.clone();
        let canceller = thread::spawn(move || {
            let mut fut = pin!(s.acquire());
            if let Poll::Ready(permit) = poll_once(fut.as_mut()) {
                drop(permit.unwrap());
            }
            // Dropped while queued, or after being paid but before looking.
        });
        sem.add_permits(1);
        canceller.join().unwrap();
        assert_eq!(sem.available_permits(), 1, "the permit must not be lost");
    });
}

#[test]
fn cancelled_head_passes_partial_grant_to_next_waiter() {
    model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let s1 = sem.clone();
        let big = thread::spawn(move || {
            let mut fut = pin!(s1.acquire_many(2));
            if let Poll::Ready(permit) = poll_once(fut.as_mut()) {
                drop(permit.unwrap());
            }
        });
        let s2 = sem.clone();
        let small = thread::spawn(move || drop(block_on(s2.acquire()).unwrap()));
        sem.add_permits(1);
        big.join().unwrap();
        small.join().unwrap(); // would hang (loom reports deadlock) on a lost wakeup
        assert_eq!(sem.available_permits(), 2);
    });
}

#[test]
fn close_races_acquire_many() {
    model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let s = sem.clone();
        let waiter = thread::spawn(move || {
            // Needs 2, can only ever get 1: must end with AcquireError, giving back the 1.
            assert!(block_on(s.acquire_many(2)).is_err());
        });
        sem.close();
        waiter.join().unwrap();
        assert_eq!(sem.available_permits(), 1);
        assert!(sem.try_acquire().is_err());
    });
}

#[test]
fn release_races_close_and_acquire() {
    model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let s1 = sem.clone();
        let waiter = thread::spawn(move || {
            if let Ok(permit) = block_on(s1.acquire()) {
                drop(permit);
            }
        });
        let s2 = sem.clone();
        let closer = thread::spawn(move || s2.close());
        sem.add_permits(1);
        waiter.join().unwrap();
        closer.join().unwrap();
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn mutex_is_exclusive_and_hands_off() {
    model(|| {
        let m = Arc::new(Mutex::new(0usize));
        let m2 = m.clone();
        let other = thread::spawn(move || {
            let mut g = block_on(m2.lock());
            // loom checks this access against the other thread's through the UnsafeCell.
            *g += 1;
        });
        {
            let mut g = block_on(m.lock());
            *g += 1;
        }
        other.join().unwrap();
        assert_eq!(*m.try_lock().unwrap(), 2);
    });
}

#[test]
fn mutex_lock_cancelled_while_handed_off() {
    model(|| {
        let m = Arc::new(Mutex::new(0usize));
        let held = m.try_lock().unwrap();
        let m1 = m.clone();
        let quitter = thread::spawn(move || {
            let mut fut = pin!(m1.lock());
            if let Poll::Ready(mut g) = poll_once(fut.as_mut()) {
                *g += 1;
            }
        });
        let m2 = m.clone();
        let stayer = thread::spawn(move || *block_on(m2.lock()) += 1);
        drop(held);
        quitter.join().unwrap();
        stayer.join().unwrap();
        assert!(m.try_lock().is_ok(), "the lock must end up free");
    });
}

/// A notification (`notify`: `notify_one` or `notify_last`) sent from another thread
/// reaches a waiter that waits for it.
fn notification_is_not_lost(notify: fn(&Notify)) {
    model(move || {
        let n = Arc::new(Notify::new());
        let n2 = n.clone();
        let notifier = thread::spawn(move || notify(&n2));
        block_on(n.notified());
        notifier.join().unwrap();
    });
}

/// A waiter picked by `notify` and then dropped passes the notification on.
fn notification_passed_on_by_cancelled_waiter(notify: fn(&Notify)) {
    model(move || {
        let n = Arc::new(Notify::new());
        let n1 = n.clone();
        let quitter = thread::spawn(move || {
            let mut fut = pin!(n1.notified());
            // Ready only if it consumed the notification itself; if it was queued and then
            // picked (from the front by `notify_one`, the back by `notify_last`), dropping
            // it must pass the notification on.
            poll_once(fut.as_mut()).is_ready()
        });
        let n2 = n.clone();
        let stayer = thread::spawn(move || block_on(n2.notified()));
        notify(&n);
        if quitter.join().unwrap() {
            notify(&n); // the quitter legitimately used the first one
        }
        stayer.join().unwrap(); // hangs (loom: deadlock) if a notification was lost
    });
}

#[test]
fn notify_one_is_not_lost() {
    notification_is_not_lost(Notify::notify_one);
}

#[test]
fn notify_one_passed_on_by_cancelled_waiter() {
    notification_passed_on_by_cancelled_waiter(Notify::notify_one);
}

#[test]
fn notify_last_is_not_lost() {
    notification_is_not_lost(Notify::notify_last);
}

#[test]
fn notify_last_passed_on_by_cancelled_waiter() {
    notification_passed_on_by_cancelled_waiter(Notify::notify_last);
}
