//! Helpers shared by the integration tests (each test file that needs them has
//! `mod support;`): futures polled by hand with wakers that count their wakes, wakers that
//! run code when dropped, a deadline for code that could deadlock, and drop counting.
#![allow(dead_code)] // each test file uses a part

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

/// A waker that counts its wakes.
#[derive(Debug, Default)]
pub struct CountingWaker(pub AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A [`CountingWaker`] and a waker of it.
pub fn counting_waker() -> (Arc<CountingWaker>, Waker) {
    let counter = Arc::new(CountingWaker::default());
    (counter.clone(), Waker::from(counter))
}

/// Polls a pinned future once with `waker`.
pub fn poll_pinned<F: Future>(fut: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(waker))
}

/// A future polled by hand with a waker that counts its wakes.
pub struct Task<F: Future> {
    fut: Pin<Box<F>>,
    wakes: Arc<CountingWaker>,
}

impl<F: Future> Task<F> {
    pub fn new(fut: F) -> Self {
        Self {
            fut: Box::pin(fut),
            wakes: Arc::default(),
        }
    }

    pub fn poll(&mut self) -> Poll<F::Output> {
        let waker = Waker::from(self.wakes.clone());
        self.fut.as_mut().poll(&mut Context::from_waker(&waker))
    }

    /// How many times the task was woken so far.
    pub fn wakes(&self) -> usize {
        self.wakes.0.load(Ordering::SeqCst)
    }

    /// The future, to finish on an executor.
    pub fn into_future(self) -> Pin<Box<F>> {
        self.fut
    }
}

/// A waker that runs `on_drop` when its last clone is dropped, the way a task's waker
/// whose task owns a channel handle would. Waking it does nothing.
pub fn waker_with_drop(on_drop: impl FnOnce() + Send + 'static) -> Waker {
    struct OnDrop(Mutex<Option<Box<dyn FnOnce() + Send>>>);
    impl Wake for OnDrop {
        fn wake(self: Arc<Self>) {}
    }
    impl Drop for OnDrop {
        fn drop(&mut self) {
            if let Some(f) = self.0.get_mut().unwrap().take() {
                f();
            }
        }
    }
    Waker::from(Arc::new(OnDrop(Mutex::new(Some(Box::new(on_drop))))))
}

/// Runs `f` on its own thread and fails the test if it has not finished within a
/// generous deadline (a deadlock, not slowness: the deadline is far above any load).
/// A panic in `f` fails the test too.
pub fn finishes_or_deadlocks<R: Send + 'static>(
    what: &str,
    f: impl FnOnce() -> R + Send + 'static,
) -> R {
    let (done_tx, done_rx) = mpsc::channel();
    let worker = thread::spawn(move || {
        let out = f();
        let _ = done_tx.send(());
        out
    });
    match done_rx.recv_timeout(Duration::from_secs(30)) {
        Ok(()) => worker.join().unwrap(),
        // `f` panicked (the sender went without sending): pass its panic on.
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Ok(out) => out,
            Err(panic) => std::panic::resume_unwind(panic),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: deadlocked (no progress in 30 s)"),
    }
}

/// Counts its drops in a shared counter (each clone counts its own).
#[derive(Debug, Clone)]
pub struct Counted(pub Arc<AtomicUsize>);

impl Counted {
    pub fn counter() -> Arc<AtomicUsize> {
        Arc::new(AtomicUsize::new(0))
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Counts its drops, and panics in the drop of the value marked `panics`.
#[derive(Debug)]
pub struct PanicOnDrop {
    pub drops: Arc<AtomicUsize>,
    pub panics: bool,
}

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
        if self.panics {
            panic!("PanicOnDrop: the value's destructor panicked");
        }
    }
}
