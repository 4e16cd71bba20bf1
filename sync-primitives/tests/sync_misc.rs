//! Barrier and OnceCell.
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::Poll;

use filch_sync::{Barrier, OnceCell, SetError};

mod support;
use support::Task;

#[test]
fn barrier_releases_a_generation_with_one_leader() {
    let b = Barrier::new(3);
    let mut x = Task::new(b.wait());
    let mut y = Task::new(b.wait());
    assert!(x.poll().is_pending());
    assert!(y.poll().is_pending());
    let mut z = Task::new(b.wait());
    let Poll::Ready(rz) = z.poll() else {
        panic!("third arrival releases")
    };
    assert!(rz.is_leader());
    assert_eq!((x.wakes(), y.wakes()), (1, 1));
    let Poll::Ready(rx) = x.poll() else { panic!() };
    let Poll::Ready(ry) = y.poll() else { panic!() };
    assert!(!rx.is_leader() && !ry.is_leader());
}

#[test]
fn barrier_cancelled_waiter_withdraws_its_arrival() {
    let b = Barrier::new(2);
    let mut x = Task::new(b.wait());
    assert!(x.poll().is_pending());
    drop(x);
    let mut y = Task::new(b.wait());
    assert!(y.poll().is_pending(), "the dropped arrival does not count");
    let mut z = Task::new(b.wait());
    assert!(z.poll().is_ready());
    assert!(y.poll().is_ready());
}

#[test]
fn barrier_zero_acts_as_one() {
    let b = Barrier::new(0);
    assert!(futures::executor::block_on(b.wait()).is_leader());
}

#[test]
fn barrier_reused_across_threads_and_generations() {
    const THREADS: usize = 4;
    const GENERATIONS: usize = 200;
    let b = Arc::new(Barrier::new(THREADS));
    let leaders = Arc::new(AtomicUsize::new(0));
    let phase = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let (b, leaders, phase) = (b.clone(), leaders.clone(), phase.clone());
            std::thread::spawn(move || {
                futures::executor::block_on(async {
                    for g in 0..GENERATIONS {
                        // Everyone sees the same generation before anyone moves on.
                        assert_eq!(phase.load(SeqCst) / THREADS, g);
                        phase.fetch_add(1, SeqCst);
                        if b.wait().await.is_leader() {
                            leaders.fetch_add(1, SeqCst);
                        }
                        assert!(phase.load(SeqCst) >= (g + 1) * THREADS);
                        b.wait().await; // keep generations apart for the check above
                    }
                })
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(leaders.load(SeqCst), GENERATIONS);
}

#[test]
fn once_cell_set_get_take() {
    let mut cell = OnceCell::new();
    assert!(!cell.initialized());
    assert_eq!(cell.get(), None);
    cell.set(1).unwrap();
    assert!(matches!(
        cell.set(2),
        Err(SetError::AlreadyInitializedError(2))
    ));
    assert_eq!(cell.get(), Some(&1));
    assert_eq!(cell.take(), Some(1));
    assert!(!cell.initialized());
    let v = futures::executor::block_on(cell.get_or_init(|| async { 5 }));
    assert_eq!(*v, 5);
    assert_eq!(cell.clone().into_inner(), Some(5));
    assert_eq!(cell, OnceCell::from(5));
}

#[test]
fn once_cell_runs_one_initializer_at_a_time_and_waiters_reuse_it() {
    let cell = OnceCell::new();
    let runs = AtomicUsize::new(0);
    let gate = filch_sync::Notify::new();
    let mut first = Task::new(cell.get_or_init(|| async {
        runs.fetch_add(1, SeqCst);
        gate.notified().await;
        1
    }));
    let mut second = Task::new(cell.get_or_init(|| async {
        runs.fetch_add(1, SeqCst);
        2
    }));
    assert!(first.poll().is_pending());
    assert!(second.poll().is_pending());
    assert!(matches!(cell.set(3), Err(SetError::InitializingError(3))));
    gate.notify_one();
    assert_eq!(first.poll(), Poll::Ready(&1));
    assert_eq!(second.wakes(), 1);
    assert_eq!(second.poll(), Poll::Ready(&1));
    assert_eq!(runs.load(SeqCst), 1);
}

#[test]
fn once_cell_cancelled_initializer_hands_over() {
    let cell = OnceCell::new();
    let gate = filch_sync::Notify::new();
    let mut first = Task::new(cell.get_or_init(|| async {
        gate.notified().await;
        1
    }));
    let mut second = Task::new(cell.get_or_init(|| async { 2 }));
    assert!(first.poll().is_pending());
    assert!(second.poll().is_pending());
    drop(first); // cancelled mid-initialization
    assert_eq!(second.wakes(), 1);
    assert_eq!(second.poll(), Poll::Ready(&2));
    assert_eq!(cell.get(), Some(&2));
}

#[test]
fn once_cell_panicking_initializer_lets_next_try() {
    let cell: OnceCell<u8> = OnceCell::new();
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        futures::executor::block_on(cell.get_or_init(|| async { panic!("init failed") }))
    }));
    assert!(panicked.is_err());
    assert!(!cell.initialized());
    // The unwind gave the initializer's permit back.
    assert_eq!(
        futures::executor::block_on(cell.get_or_init(|| async { 4 })),
        &4
    );
}

#[test]
fn once_cell_failed_initializer_lets_next_try() {
    let cell: OnceCell<u8> = OnceCell::new();
    futures::executor::block_on(async {
        assert_eq!(
            cell.get_or_try_init(|| async { Err("no") }).await,
            Err("no")
        );
        assert!(!cell.initialized());
        assert_eq!(
            cell.get_or_try_init(|| async { Ok::<_, ()>(3) }).await,
            Ok(&3)
        );
    });
}

#[test]
fn once_cell_many_threads_one_value() {
    const THREADS: usize = 8;
    let cell = Arc::new(OnceCell::new());
    let runs = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..THREADS)
        .map(|i| {
            let (cell, runs) = (cell.clone(), runs.clone());
            std::thread::spawn(move || {
                *futures::executor::block_on(cell.get_or_init(|| async move {
                    runs.fetch_add(1, SeqCst);
                    i
                }))
            })
        })
        .collect();
    let values: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(values.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(runs.load(SeqCst), 1);
}
