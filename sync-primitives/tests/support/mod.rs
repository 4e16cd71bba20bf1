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

/// A wait queued by a [`Newcomer`], kept alive by it.
pub type QueuedWait = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A waker that, the first time it is woken, starts a new wait (`queue` makes it: a new
/// receiver's `recv`, `changed`, ...) and polls it once: a waiter that arrives while a
/// send is still waking the others. `wakes` counts the wakes of that wait.
pub struct Newcomer {
    queue: Box<dyn Fn() -> QueuedWait + Send + Sync>,
    queued: Mutex<Option<QueuedWait>>,
    pub wakes: Arc<CountingWaker>,
}

impl Newcomer {
    pub fn new(queue: impl Fn() -> QueuedWait + Send + Sync + 'static) -> Arc<Newcomer> {
        Arc::new(Newcomer {
            queue: Box::new(queue),
            queued: Mutex::new(None),
            wakes: Arc::new(CountingWaker::default()),
        })
    }
}

impl Wake for Newcomer {
    fn wake(self: Arc<Self>) {
        let mut queued = self.queued.lock().unwrap();
        if queued.is_some() {
            return;
        }
        // The future owns its receiver (nothing leaks: LeakSanitizer runs these tests).
        let mut wait = (self.queue)();
        let waker = Waker::from(self.wakes.clone());
        assert!(wait
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        *queued = Some(wait);
    }
}

/// The scenario "a send does not wake receivers that queued after it": polls `waits`
/// (the first with `newcomer` as its waker, so that the send's wake of it queues a new
/// waiter mid-send), sends 1, and checks that every earlier waiter was woken and the
/// newcomer was not; the next send (2) wakes the newcomer.
#[track_caller]
pub fn assert_a_send_skips_waiters_queued_during_it<F: Future>(
    newcomer: &Arc<Newcomer>,
    mut waits: Vec<Pin<Box<F>>>,
    mut send: impl FnMut(u32),
) {
    let waiters = waits.len();
    let (count, waker) = counting_waker();
    let first_waker = Waker::from(newcomer.clone());
    for (i, fut) in waits.iter_mut().enumerate() {
        let waker = if i == 0 { &first_waker } else { &waker };
        assert!(poll_pinned(fut.as_mut(), waker).is_pending());
    }
    send(1);
    assert!(newcomer.queued.lock().unwrap().is_some());
    assert_eq!(count.0.load(Ordering::SeqCst), waiters - 1);
    assert_eq!(
        newcomer.wakes.0.load(Ordering::SeqCst),
        0,
        "a receiver that queued after the send was woken by it"
    );
    // It is woken by the next send, as it should be.
    send(2);
    assert_eq!(newcomer.wakes.0.load(Ordering::SeqCst), 1);
}
