//! Semaphore behaviour: FIFO fairness, partial grants at the head, cancellation, close,
//! and a multi-thread stress on a foreign executor (`futures::executor::block_on`).
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use filch_sync::{Semaphore, TryAcquireError};

mod support;
use support::{CountingWaker, Task};

#[test]
fn smoke() {
    let sem = Semaphore::new(2);
    let a = sem.try_acquire().unwrap();
    let b = futures::executor::block_on(sem.acquire()).unwrap();
    assert_eq!(sem.available_permits(), 0);
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    drop(a);
    drop(b);
    assert_eq!(sem.available_permits(), 2);
    let many = sem.try_acquire_many(2).unwrap();
    assert_eq!(many.num_permits(), 2);
    many.forget();
    assert_eq!(sem.available_permits(), 0);
    sem.add_permits(3);
    assert_eq!(sem.available_permits(), 3);
    assert_eq!(sem.forget_permits(1), 1);
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn acquire_zero_is_immediate_unless_closed() {
    let sem = Semaphore::new(0);
    let mut t = Task::new(sem.acquire_many(0));
    assert!(matches!(t.poll(), Poll::Ready(Ok(_))));
    sem.close();
    assert!(sem.try_acquire_many(0).is_err());
}

#[test]
fn waiters_are_served_in_fifo_order() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let mut a = Task::new(sem.acquire());
    let mut b = Task::new(sem.acquire());
    let mut c = Task::new(sem.acquire());
    assert!(a.poll().is_pending());
    assert!(b.poll().is_pending());
    assert!(c.poll().is_pending());
    drop(held);
    assert_eq!((a.wakes(), b.wakes(), c.wakes()), (1, 0, 0));
    // A waiter is queued, so the freed permit is not up for grabs.
    assert!(sem.try_acquire().is_err());
    let pa = match a.poll() {
        Poll::Ready(Ok(p)) => p,
        _ => panic!("a should hold the permit"),
    };
    assert!(b.poll().is_pending());
    drop(pa);
    assert_eq!((b.wakes(), c.wakes()), (1, 0));
    let Poll::Ready(Ok(pb)) = b.poll() else {
        panic!()
    };
    drop(pb);
    let Poll::Ready(Ok(_pc)) = c.poll() else {
        panic!()
    };
    assert_eq!(sem.available_permits(), 0);
}

#[test]
fn large_request_at_the_head_is_not_starved() {
    let sem = Semaphore::new(2);
    let held = sem.try_acquire_many(2).unwrap();
    let mut big = Task::new(sem.acquire_many(3));
    let mut small = Task::new(sem.acquire());
    assert!(big.poll().is_pending());
    assert!(small.poll().is_pending());
    // The freed permits go to the head, partially; the small one stays behind.
    drop(held);
    assert_eq!(sem.available_permits(), 0);
    assert!(big.poll().is_pending());
    assert!(small.poll().is_pending());
    assert!(sem.try_acquire().is_err(), "no barging past the queue");
    sem.add_permits(1);
    assert_eq!(big.wakes(), 1);
    assert_eq!(small.wakes(), 0);
    let Poll::Ready(Ok(p)) = big.poll() else {
        panic!("big should be paid")
    };
    assert_eq!(p.num_permits(), 3);
    assert!(small.poll().is_pending());
    drop(p);
    assert_eq!(small.wakes(), 1);
    assert!(matches!(small.poll(), Poll::Ready(Ok(_))));
    assert_eq!(sem.available_permits(), 3);
}

#[test]
fn cancelling_the_head_passes_its_partial_grant_on() {
    let sem = Semaphore::new(0);
    let mut big = Task::new(sem.acquire_many(3));
    let mut small = Task::new(sem.acquire());
    assert!(big.poll().is_pending());
    assert!(small.poll().is_pending());
    sem.add_permits(2); // big is now owed 1
    assert!(big.poll().is_pending());
    drop(big);
    assert_eq!(small.wakes(), 1);
    let Poll::Ready(Ok(p)) = small.poll() else {
        panic!()
    };
    drop(p);
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn cancelling_after_grant_passes_the_permit_on() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let mut a = Task::new(sem.acquire());
    let mut b = Task::new(sem.acquire());
    assert!(a.poll().is_pending());
    assert!(b.poll().is_pending());
    drop(held); // granted to a, which never looks
    assert_eq!(a.wakes(), 1);
    drop(a);
    assert_eq!(b.wakes(), 1);
    let Poll::Ready(Ok(p)) = b.poll() else {
        panic!()
    };
    drop(p);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn cancelling_a_middle_waiter_keeps_order() {
    let sem = Semaphore::new(0);
    let mut a = Task::new(sem.acquire());
    let mut b = Task::new(sem.acquire());
    let mut c = Task::new(sem.acquire());
    for t in [&mut a, &mut b, &mut c] {
        assert!(t.poll().is_pending());
    }
    drop(b);
    sem.add_permits(1);
    assert_eq!((a.wakes(), c.wakes()), (1, 0));
    sem.add_permits(1);
    assert_eq!(c.wakes(), 1);
    assert!(matches!(a.poll(), Poll::Ready(Ok(_))));
    assert!(matches!(c.poll(), Poll::Ready(Ok(_))));
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn close_wakes_everyone_and_returns_partial_grants() {
    let sem = Semaphore::new(1);
    let mut big = Task::new(sem.acquire_many(3)); // takes 1, owed 2
    let mut small = Task::new(sem.acquire());
    assert!(big.poll().is_pending());
    assert!(small.poll().is_pending());
    assert_eq!(sem.available_permits(), 0);
    sem.close();
    assert!(sem.is_closed());
    assert_eq!((big.wakes(), small.wakes()), (1, 1));
    assert!(matches!(big.poll(), Poll::Ready(Err(_))));
    assert!(matches!(small.poll(), Poll::Ready(Err(_))));
    assert_eq!(sem.available_permits(), 1, "the partial grant came back");
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
    assert!(futures::executor::block_on(sem.acquire()).is_err());
}

#[test]
fn close_then_drop_without_polling_returns_partial_grants() {
    let sem = Semaphore::new(2);
    let mut big = Task::new(sem.acquire_many(5));
    assert!(big.poll().is_pending());
    sem.close();
    drop(big);
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn repolling_with_a_new_waker_uses_it() {
    let sem = Semaphore::new(0);
    let mut fut = Box::pin(sem.acquire());
    let first = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let second = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let w1 = Waker::from(first.clone());
    let w2 = Waker::from(second.clone());
    assert!(fut
        .as_mut()
        .poll(&mut Context::from_waker(&w1))
        .is_pending());
    assert!(fut
        .as_mut()
        .poll(&mut Context::from_waker(&w2))
        .is_pending());
    sem.add_permits(1);
    assert_eq!(first.0.load(SeqCst), 0);
    assert_eq!(second.0.load(SeqCst), 1);
}

#[test]
fn owned_permits_move_across_threads() {
    let sem = Arc::new(Semaphore::new(1));
    let permit = futures::executor::block_on(sem.clone().acquire_owned()).unwrap();
    assert!(sem.clone().try_acquire_owned().is_err());
    std::thread::spawn(move || drop(permit)).join().unwrap();
    let mut p = sem.clone().try_acquire_many_owned(1).unwrap();
    sem.add_permits(1);
    p.merge(sem.clone().try_acquire_owned().unwrap());
    assert_eq!(p.num_permits(), 2);
    assert!(Arc::ptr_eq(p.semaphore(), &sem));
    drop(p);
    assert_eq!(sem.available_permits(), 2);
}

#[test]
#[should_panic(expected = "Semaphore::add_permits(1) would raise the available permits")]
fn adding_past_max_panics() {
    let sem = Semaphore::new(Semaphore::MAX_PERMITS);
    sem.add_permits(1);
}

#[test]
#[should_panic(expected = "Semaphore::add_permits(18446744073709551615): more than")]
fn adding_usize_max_panics() {
    Semaphore::new(0).add_permits(usize::MAX);
}

#[test]
fn a_refused_add_permits_changes_nothing() {
    let sem = Semaphore::new(Semaphore::MAX_PERMITS - 1);
    let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sem.add_permits(2)));
    assert!(refused.is_err());
    // The panic left the count as it was: no permits were added past the maximum.
    assert_eq!(sem.available_permits(), Semaphore::MAX_PERMITS - 1);
    sem.add_permits(1);
    assert_eq!(sem.available_permits(), Semaphore::MAX_PERMITS);
}

#[test]
#[should_panic(expected = "Semaphore::new(2305843009213693952): more than Semaphore::MAX_PERMITS")]
fn new_past_max_panics() {
    let _ = Semaphore::new(Semaphore::MAX_PERMITS + 1);
}

#[test]
#[should_panic(expected = "use at most Semaphore::MAX_PERMITS")]
fn new_usize_max_panics_with_the_fix() {
    let _ = Semaphore::new(usize::MAX);
}

#[test]
fn acquire_many_u32_max() {
    // On 64-bit targets `u32::MAX` is far below MAX_PERMITS: it is an ordinary request.
    let sem = Semaphore::new(u32::MAX as usize);
    let all = futures::executor::block_on(sem.acquire_many(u32::MAX)).unwrap();
    assert_eq!(all.num_permits(), u32::MAX as usize);
    assert_eq!(sem.available_permits(), 0);
    drop(all);
    let small = Semaphore::new(3);
    assert_eq!(
        small.try_acquire_many(u32::MAX).unwrap_err(),
        TryAcquireError::NoPermits
    );
    assert_eq!(small.available_permits(), 3);
}

#[test]
#[should_panic(expected = "merge only permits of the same semaphore")]
fn merging_permits_of_two_semaphores_panics() {
    let a = Semaphore::new(1);
    let b = Semaphore::new(1);
    let mut pa = a.try_acquire().unwrap();
    pa.merge(b.try_acquire().unwrap());
}

/// Threads x iterations of acquire_many on a shared semaphore; the number of permits in
/// use never exceeds the total and all come back.
#[test]
fn stress_concurrent_acquire_release() {
    const PERMITS: usize = 5;
    const THREADS: usize = 8;
    const ITERS: usize = 2_000;
    let sem = Arc::new(Semaphore::new(PERMITS));
    let in_use = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..THREADS)
        .map(|i| {
            let sem = sem.clone();
            let in_use = in_use.clone();
            std::thread::spawn(move || {
                futures::executor::block_on(async {
                    for j in 0..ITERS {
                        let n = 1 + ((i + j) % 3) as u32;
                        let permit = sem.acquire_many(n).await.unwrap();
                        let now = in_use.fetch_add(n as usize, SeqCst) + n as usize;
                        assert!(now <= PERMITS, "{now} permits in use");
                        in_use.fetch_sub(n as usize, SeqCst);
                        drop(permit);
                    }
                })
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(sem.available_permits(), PERMITS);
}

/// Waiters that give up (dropped futures) under contention never lose permits.
#[test]
fn stress_with_cancellation() {
    const THREADS: usize = 6;
    const ITERS: usize = 1_000;
    let sem = Arc::new(Semaphore::new(2));
    let threads: Vec<_> = (0..THREADS)
        .map(|i| {
            let sem = sem.clone();
            std::thread::spawn(move || {
                for j in 0..ITERS {
                    let n = 1 + ((i + j) % 2) as u32;
                    let mut t = Task::new(sem.acquire_many(n));
                    match t.poll() {
                        Poll::Ready(p) => drop(p.unwrap()),
                        Poll::Pending if j % 2 == 0 => drop(t), // give up
                        Poll::Pending => {
                            drop(futures::executor::block_on(t.into_future()).unwrap())
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn blocking_acquire_waits_in_line_and_fails_on_close() {
    let sem = Arc::new(Semaphore::new(1));
    let held = sem.try_acquire().unwrap();
    let waiter = {
        let sem = sem.clone();
        std::thread::spawn(move || sem.blocking_acquire_many(1).map(|p| p.num_permits()))
    };
    drop(held);
    assert_eq!(waiter.join().unwrap(), Ok(1));
    let _all = sem.blocking_acquire().unwrap();
    let waiter = {
        let sem = sem.clone();
        std::thread::spawn(move || sem.blocking_acquire().is_err())
    };
    sem.close();
    assert!(waiter.join().unwrap());
}

#[test]
fn split_moves_permits_and_each_part_releases_its_own() {
    let sem = Semaphore::new(5);
    let mut a = sem.try_acquire_many(5).unwrap();
    let b = a.split(2).unwrap();
    assert_eq!((a.num_permits(), b.num_permits()), (3, 2));
    assert!(a.split(4).is_none());
    assert_eq!(a.num_permits(), 3);
    let zero = a.split(0).unwrap();
    assert_eq!(zero.num_permits(), 0);
    drop(zero);
    drop(b);
    assert_eq!(sem.available_permits(), 2);
    let c = a.split(3).unwrap();
    drop(a);
    assert_eq!(sem.available_permits(), 2);
    drop(c);
    assert_eq!(sem.available_permits(), 5);

    let owned = Arc::new(Semaphore::new(3));
    let mut a = owned.clone().try_acquire_many_owned(3).unwrap();
    let b = a.split(1).unwrap();
    assert!(Arc::ptr_eq(a.semaphore(), b.semaphore()));
    assert!(a.split(3).is_none());
    let moved = std::thread::spawn(move || b.num_permits()).join().unwrap();
    assert_eq!(moved, 1);
    assert_eq!(owned.available_permits(), 1);
    drop(a);
    assert_eq!(owned.available_permits(), 3);
}
