//! Mutex: API, FIFO hand-off, cancellation, and contention on a foreign executor.
use std::cell::UnsafeCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};

use filch_sync::{Mutex, MutexGuard, OwnedMutexGuard};

mod support;
use support::Task;

/// Yields once to the executor, so critical sections span an `.await`.
struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

#[test]
fn smoke() {
    let m = Mutex::new(1);
    futures::executor::block_on(async {
        *m.lock().await += 1;
    });
    let g = m.try_lock().unwrap();
    assert!(m.try_lock().is_err());
    assert_eq!(*g, 2);
    assert_eq!(format!("{:?}", m), "Mutex { data: <locked> }");
    drop(g);
    assert_eq!(format!("{:?}", m), "Mutex { data: 2 }");
    let mut m = m;
    *m.get_mut() = 5;
    assert_eq!(m.into_inner(), 5);
}

#[test]
fn map_and_try_map_keep_the_lock() {
    let m = Mutex::new((1, vec![2]));
    let g = m.try_lock().unwrap();
    let g = MutexGuard::try_map(g, |(_, v)| v.get_mut(9)).unwrap_err();
    let mut mapped = MutexGuard::map(g, |(a, _)| a);
    *mapped = 10;
    assert!(m.try_lock().is_err());
    drop(mapped);
    assert_eq!(m.try_lock().unwrap().0, 10);
}

#[test]
fn owned_guard_crosses_threads() {
    let m = Arc::new(Mutex::new(0));
    let mut g = futures::executor::block_on(m.clone().lock_owned());
    assert!(Arc::ptr_eq(OwnedMutexGuard::mutex(&g), &m));
    assert!(m.clone().try_lock_owned().is_err());
    std::thread::spawn(move || *g += 1).join().unwrap();
    assert_eq!(*m.blocking_lock(), 1);
}

#[test]
fn unsized_payload() {
    let m: Box<Mutex<[u8]>> = Box::new(Mutex::new([1u8, 2, 3]));
    m.try_lock().unwrap()[0] = 9;
    assert_eq!(&*m.try_lock().unwrap(), &[9, 2, 3]);
}

#[test]
fn hand_off_is_fifo_and_does_not_barge() {
    let m = Mutex::new(());
    let g = m.try_lock().unwrap();
    let mut a = Task::new(m.lock());
    let mut b = Task::new(m.lock());
    assert!(a.poll().is_pending());
    assert!(b.poll().is_pending());
    drop(g);
    assert_eq!((a.wakes(), b.wakes()), (1, 0));
    // The lock was handed to `a`: an unqueued try_lock cannot steal it.
    assert!(m.try_lock().is_err());
    let Poll::Ready(ga) = a.poll() else { panic!() };
    assert!(b.poll().is_pending());
    drop(ga);
    assert_eq!(b.wakes(), 1);
    assert!(b.poll().is_ready());
}

#[test]
fn cancelled_waiter_passes_a_handed_off_lock_on() {
    let m = Mutex::new(());
    let g = m.try_lock().unwrap();
    let mut a = Task::new(m.lock());
    let mut b = Task::new(m.lock());
    let mut c = Task::new(m.lock());
    for t in [&mut a, &mut b, &mut c] {
        assert!(t.poll().is_pending());
    }
    drop(b); // leaves from the middle
    drop(g); // hands off to a
    drop(a); // never looked: passes on to c
    assert_eq!(c.wakes(), 1);
    let Poll::Ready(gc) = c.poll() else { panic!() };
    drop(gc);
    assert!(m.try_lock().is_ok());
}

#[test]
fn guard_dropped_on_another_thread_wakes_waiter() {
    let m = Arc::new(Mutex::new(0));
    let g = m.clone().try_lock_owned().unwrap();
    let m2 = m.clone();
    let waiter =
        std::thread::spawn(move || futures::executor::block_on(async { *m2.lock().await += 1 }));
    std::thread::sleep(std::time::Duration::from_millis(10));
    drop(g);
    waiter.join().unwrap();
    assert_eq!(*m.blocking_lock(), 1);
}

/// Many threads x many iterations, with critical sections that span an `.await`: the
/// "inside" flag is never seen set on entry and no increment is lost.
#[test]
fn contention_keeps_mutual_exclusion() {
    struct Shared {
        lock: Mutex<()>,
        inside: AtomicBool,
        /// Deliberately non-atomic: only touched while `lock` is held.
        count: UnsafeCell<u64>,
    }
    // SAFETY: `count` is only accessed while `lock` is held (what this test checks).
    unsafe impl Sync for Shared {}

    const THREADS: usize = 8;
    const ITERS: usize = 2_000;
    let shared = Arc::new(Shared {
        lock: Mutex::new(()),
        inside: AtomicBool::new(false),
        count: UnsafeCell::new(0),
    });
    let threads: Vec<_> = (0..THREADS)
        .map(|i| {
            let shared = shared.clone();
            std::thread::spawn(move || {
                futures::executor::block_on(async {
                    for j in 0..ITERS {
                        let guard = if (i + j) % 3 == 0 {
                            shared.lock.blocking_lock()
                        } else {
                            shared.lock.lock().await
                        };
                        assert!(!shared.inside.swap(true, SeqCst), "two holders at once");
                        // SAFETY: we hold the lock (checked by `inside` above).
                        let v = unsafe { *shared.count.get() };
                        if j % 16 == 0 {
                            YieldNow(false).await;
                        }
                        // SAFETY: as above.
                        unsafe { *shared.count.get() = v + 1 };
                        shared.inside.store(false, SeqCst);
                        drop(guard);
                    }
                })
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // SAFETY: every thread has been joined.
    assert_eq!(unsafe { *shared.count.get() }, (THREADS * ITERS) as u64);
    assert!(shared.lock.try_lock().is_ok());
}

/// Lockers that give up half way (dropped futures) never leave the mutex stuck.
#[test]
fn contention_with_cancellation() {
    const THREADS: usize = 6;
    const ITERS: usize = 2_000;
    let m = Arc::new(Mutex::new(0u64));
    let done = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let m = m.clone();
            let done = done.clone();
            std::thread::spawn(move || {
                for j in 0..ITERS {
                    let mut t = Task::new(m.lock());
                    match t.poll() {
                        Poll::Ready(mut g) => *g += 1,
                        Poll::Pending if j % 2 == 0 => continue, // cancel
                        Poll::Pending => *futures::executor::block_on(t.into_future()) += 1,
                    }
                    done.fetch_add(1, SeqCst);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(*m.try_lock().unwrap(), done.load(SeqCst) as u64);
}

#[test]
#[cfg(not(loom))] // loom's primitives have no const constructors
fn static_mutex() {
    static M: Mutex<Vec<u8>> = Mutex::const_new(Vec::new());
    M.blocking_lock().push(1);
    assert_eq!(*M.blocking_lock(), [1]);
}
