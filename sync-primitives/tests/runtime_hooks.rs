//! runtime_hooks: installed once for this whole test binary (hooks are process-wide), with
//! a thread-local fake budget and "driving" flag, so every test sets up its own thread.
//!
//! Proves: every ready operation spends one unit and a loop over always-ready operations
//! returns `Pending` (after waking the task) when the budget is gone, having taken nothing;
//! an operation that waits gives its unit back; `try_*` spend nothing; `blocking_*` panic
//! with a message naming the method and the fix while the thread is driving tasks, and
//! work when it is not.
#![cfg(not(loom))]

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::task::{Context, Poll, Wake, Waker};

use filch_sync::runtime_hooks::{self, RuntimeHooks};
use filch_sync::{
    broadcast, mpsc, oneshot, watch, Barrier, Mutex, Notify, OnceCell, RwLock, Semaphore,
};

thread_local! {
    /// Units left in the current "task poll"; `None`: unconstrained.
    static BUDGET: Cell<Option<u32>> = const { Cell::new(None) };
    static REFUNDS: Cell<u32> = const { Cell::new(0) };
    static DRIVING: Cell<bool> = const { Cell::new(false) };
}

fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    BUDGET.with(|budget| match budget.get() {
        Some(0) => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        Some(n) => {
            budget.set(Some(n - 1));
            Poll::Ready(())
        }
        None => Poll::Ready(()),
    })
}

fn refund() {
    REFUNDS.with(|r| r.set(r.get() + 1));
    BUDGET.with(|budget| budget.set(budget.get().map(|n| n + 1)));
}

static HOOKS: RuntimeHooks = RuntimeHooks {
    poll_proceed,
    refund,
    is_driving: || DRIVING.with(Cell::get),
};

static OTHER_HOOKS: RuntimeHooks = RuntimeHooks {
    poll_proceed: |_| Poll::Ready(()),
    refund: || {},
    is_driving: || false,
};

fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| runtime_hooks::install(&HOOKS).expect("first install"));
}

fn budget() -> Option<u32> {
    BUDGET.with(Cell::get)
}

fn set_budget(units: Option<u32>) {
    BUDGET.with(|b| b.set(units));
    REFUNDS.with(|r| r.set(0));
}

fn refunds() -> u32 {
    REFUNDS.with(Cell::get)
}

#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Polls `fut` once with a waker that counts its wakes.
fn poll_once<F: Future>(fut: Pin<&mut F>, wakes: &Arc<CountingWaker>) -> Poll<F::Output> {
    let waker = Waker::from(wakes.clone());
    fut.poll(&mut Context::from_waker(&waker))
}

/// Runs `poll` (one operation's poll) until it returns `Pending`; returns how many
/// completed, and checks the `Pending` one woke its task (the budget's doing).
fn ready_polls_before_yield<T>(mut poll: impl FnMut(&mut Context<'_>) -> Poll<T>) -> usize {
    let wakes = Arc::new(CountingWaker::default());
    let waker = Waker::from(wakes.clone());
    let mut cx = Context::from_waker(&waker);
    for done in 0..1_000 {
        if poll(&mut cx).is_pending() {
            assert_eq!(
                wakes.0.load(Ordering::SeqCst),
                1,
                "a budget-forced Pending wakes the task"
            );
            return done;
        }
    }
    panic!("never yielded");
}

/// [`ready_polls_before_yield`] for fresh futures made by `make`, each polled once.
fn ready_ops_before_yield<F: Future>(mut make: impl FnMut() -> F) -> usize {
    ready_polls_before_yield(|cx| Box::pin(make()).as_mut().poll(cx).map(drop))
}

#[test]
fn install_is_once_per_process() {
    install();
    let installed = runtime_hooks::install(&OTHER_HOOKS).unwrap_err();
    assert!(std::ptr::eq(installed, &HOOKS));
    assert!(std::ptr::eq(runtime_hooks::installed().unwrap(), &HOOKS));
}

#[test]
fn an_always_ready_channel_yields_when_the_budget_is_gone() {
    install();
    let (tx, mut rx) = mpsc::unbounded_channel();
    for i in 0..100 {
        tx.send(i).unwrap();
    }
    set_budget(Some(10));
    assert_eq!(ready_polls_before_yield(|cx| rx.poll_recv(cx)), 10);
    // The yield took nothing: the eleventh message is still there.
    set_budget(None);
    assert_eq!(rx.try_recv(), Ok(10));
    assert_eq!(rx.len(), 89);

    let (tx, mut rx) = mpsc::channel(100);
    set_budget(Some(7));
    assert_eq!(ready_ops_before_yield(|| tx.send(1)), 7);
    assert_eq!(ready_ops_before_yield(|| tx.reserve()), 0);
    set_budget(None);
    assert_eq!(rx.len(), 7);
    assert_eq!(tx.capacity(), 93, "a yielded send or reserve holds no slot");
    set_budget(Some(3));
    assert_eq!(ready_polls_before_yield(|cx| rx.poll_recv(cx)), 3);
    set_budget(None);
}

#[test]
fn an_uncontended_mutex_yields_when_the_budget_is_gone() {
    install();
    let mutex = Mutex::new(0);
    set_budget(Some(5));
    assert_eq!(ready_ops_before_yield(|| mutex.lock()), 5);
    set_budget(None);
    assert!(mutex.try_lock().is_ok(), "a yielded lock holds nothing");

    let rwlock = RwLock::new(0);
    set_budget(Some(4));
    assert_eq!(ready_ops_before_yield(|| rwlock.read()), 4);
    set_budget(Some(2));
    assert_eq!(ready_ops_before_yield(|| rwlock.write()), 2);
    set_budget(None);
    assert!(rwlock.try_write().is_ok());
}

#[test]
fn an_available_semaphore_yields_when_the_budget_is_gone() {
    install();
    let sem = Semaphore::new(100);
    set_budget(Some(6));
    assert_eq!(ready_ops_before_yield(|| sem.acquire_many(2)), 6);
    set_budget(None);
    assert_eq!(
        sem.available_permits(),
        100,
        "a yielded acquire holds nothing"
    );
    let sem = Arc::new(sem);
    set_budget(Some(1));
    assert_eq!(ready_ops_before_yield(|| sem.clone().acquire_owned()), 1);
    set_budget(None);
    assert_eq!(sem.available_permits(), 100);
}

#[test]
fn every_ready_future_spends_one_unit() {
    install();
    let wakes = Arc::new(CountingWaker::default());
    /// Polls a fresh future from `make` with a budget of 1: it completes and spends the unit.
    fn spends_one<F: Future>(wakes: &Arc<CountingWaker>, make: impl FnOnce() -> F) {
        set_budget(Some(1));
        let mut fut = Box::pin(make());
        assert!(poll_once(fut.as_mut(), wakes).is_ready());
        assert_eq!(budget(), Some(0));
        assert_eq!(refunds(), 0);
        set_budget(None);
    }
    let notify = Notify::new();
    notify.notify_one();
    spends_one(&wakes, || notify.notified());
    let barrier = Barrier::new(1);
    spends_one(&wakes, || barrier.wait());
    let cell = OnceCell::new();
    spends_one(&wakes, || cell.get_or_init(|| async { 1 }));
    let (tx, rx) = oneshot::channel();
    tx.send(1).unwrap();
    spends_one(&wakes, || rx);
    let (mut tx, rx) = oneshot::channel::<()>();
    drop(rx);
    spends_one(&wakes, || std::future::poll_fn(|cx| tx.poll_closed(cx)));
    let (tx, mut rx) = broadcast::channel(4);
    tx.send(1).unwrap();
    spends_one(&wakes, || rx.recv());
    let (tx, mut rx) = watch::channel(0);
    tx.send(1).unwrap();
    spends_one(&wakes, || rx.changed());
    drop(rx);
    spends_one(&wakes, || tx.closed());
    let (tx, rx) = mpsc::channel::<()>(1);
    spends_one(&wakes, || tx.reserve_many(1));
    spends_one(&wakes, || tx.clone().reserve_owned());
    drop(rx);
    spends_one(&wakes, || tx.closed());
}

#[test]
fn a_future_that_waits_refunds_its_unit() {
    install();
    let wakes = Arc::new(CountingWaker::default());
    /// Polls a fresh future from `make` with a budget of 5: it waits, and gives its unit back.
    fn refunds_one<F: Future>(wakes: &Arc<CountingWaker>, make: impl FnOnce() -> F) -> Pin<Box<F>> {
        set_budget(Some(5));
        let mut fut = Box::pin(make());
        assert!(poll_once(fut.as_mut(), wakes).is_pending());
        assert_eq!(budget(), Some(5), "waiting costs no budget");
        assert!(refunds() >= 1);
        set_budget(None);
        fut
    }
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    drop(refunds_one(&wakes, || rx.recv()));
    tx.try_send(0).unwrap();
    drop(refunds_one(&wakes, || tx.send(1)));
    let mutex = Mutex::new(());
    let held = mutex.try_lock().unwrap();
    let waiting = refunds_one(&wakes, || mutex.lock());
    drop(held);
    // Granted while queued: the next poll completes and spends its unit.
    set_budget(Some(1));
    let mut waiting = waiting;
    assert!(poll_once(waiting.as_mut(), &wakes).is_ready());
    assert_eq!(budget(), Some(0));
    set_budget(None);
    let sem = Semaphore::new(0);
    drop(refunds_one(&wakes, || sem.acquire()));
    let notify = Notify::new();
    drop(refunds_one(&wakes, || notify.notified()));
    let barrier = Barrier::new(2);
    drop(refunds_one(&wakes, || barrier.wait()));
    let (_tx, rx) = oneshot::channel::<u8>();
    drop(refunds_one(&wakes, || rx));
    let (_tx, mut rx) = broadcast::channel::<u8>(1);
    drop(refunds_one(&wakes, || rx.recv()));
    let (_tx, mut rx) = watch::channel(0);
    drop(refunds_one(&wakes, || rx.changed()));
}

#[test]
fn try_methods_spend_no_budget() {
    install();
    set_budget(Some(0));
    let mutex = Mutex::new(0);
    drop(mutex.try_lock().unwrap());
    let rwlock = RwLock::new(0);
    drop(rwlock.try_read().unwrap());
    drop(rwlock.try_write().unwrap());
    let sem = Semaphore::new(1);
    drop(sem.try_acquire().unwrap());
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(1).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    drop(tx.try_reserve().unwrap());
    let (tx, mut rx) = mpsc::unbounded_channel();
    tx.send(1).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    let (tx, mut rx) = broadcast::channel(1);
    tx.send(1).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    let (tx, mut rx) = oneshot::channel();
    tx.send(1).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    let cell = OnceCell::new();
    cell.set(1).unwrap();
    assert_eq!(budget(), Some(0));
    assert_eq!(refunds(), 0);
    set_budget(None);
}

/// Runs `f` with the thread marked as driving tasks and returns its panic message.
fn panic_while_driving(f: impl FnOnce()) -> String {
    DRIVING.with(|d| d.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    DRIVING.with(|d| d.set(false));
    let payload = result.expect_err("a blocking call on a driving thread panics");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
#[should_panic(
    expected = "`Mutex::blocking_lock` called from inside an asynchronous task: it would block \
                the runtime's thread. Use `.lock().await` instead, or call it from \
                `spawn_blocking` or a thread the runtime does not own"
)]
fn blocking_lock_panics_on_a_driving_thread() {
    install();
    DRIVING.with(|d| d.set(true));
    let mutex = Mutex::new(());
    let _guard = mutex.blocking_lock();
}

/// One `blocking_*` call, boxed for a table of them.
type BlockingCall<'a> = Box<dyn FnOnce() + 'a>;

#[test]
fn every_blocking_method_panics_on_a_driving_thread_and_names_itself() {
    install();
    let rwlock = RwLock::new(0);
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    let (_utx, mut urx) = mpsc::unbounded_channel::<u8>();
    let (_btx, mut brx) = broadcast::channel::<u8>(1);
    let (_otx, orx) = oneshot::channel::<u8>();
    let semaphore = Semaphore::new(2);
    let cases: Vec<(&str, &str, BlockingCall<'_>)> = vec![
        (
            "`Semaphore::blocking_acquire`",
            "`.acquire().await`",
            Box::new(|| drop(semaphore.blocking_acquire())),
        ),
        (
            "`Semaphore::blocking_acquire_many`",
            "`.acquire_many(n).await`",
            Box::new(|| drop(semaphore.blocking_acquire_many(2))),
        ),
        (
            "`RwLock::blocking_read`",
            "`.read().await`",
            Box::new(|| drop(rwlock.blocking_read())),
        ),
        (
            "`RwLock::blocking_write`",
            "`.write().await`",
            Box::new(|| drop(rwlock.blocking_write())),
        ),
        (
            "`mpsc::Sender::blocking_send`",
            "`.send(value).await`",
            Box::new(|| {
                let _ = tx.blocking_send(1);
            }),
        ),
        (
            "`mpsc::Receiver::blocking_recv`",
            "`.recv().await`",
            Box::new(|| {
                let _ = rx.blocking_recv();
            }),
        ),
        (
            "`mpsc::UnboundedReceiver::blocking_recv`",
            "`.recv().await`",
            Box::new(|| {
                let _ = urx.blocking_recv();
            }),
        ),
        (
            "`broadcast::Receiver::blocking_recv`",
            "`.recv().await`",
            Box::new(|| {
                let _ = brx.blocking_recv();
            }),
        ),
        (
            "`oneshot::Receiver::blocking_recv`",
            "`receiver.await`",
            Box::new(|| {
                let _ = orx.blocking_recv();
            }),
        ),
    ];
    for (method, fix, call) in cases {
        let message = panic_while_driving(call);
        assert!(
            message.starts_with(&format!("{method} called from inside an asynchronous task")),
            "{message}"
        );
        assert!(message.contains(&format!("Use {fix} instead")), "{message}");
        assert!(message.contains("spawn_blocking"), "{message}");
    }
    // Nothing was taken or sent by the refused calls.
    assert!(rwlock.try_write().is_ok());
    assert_eq!(tx.capacity(), 1);
    assert_eq!(semaphore.available_permits(), 2);
}

#[test]
fn blocking_methods_work_when_not_driving() {
    install();
    DRIVING.with(|d| d.set(false));
    let mutex = Mutex::new(1);
    *mutex.blocking_lock() += 1;
    let rwlock = RwLock::new(1);
    assert_eq!(*rwlock.blocking_read(), 1);
    *rwlock.blocking_write() = 2;
    let semaphore = Semaphore::new(2);
    assert_eq!(semaphore.blocking_acquire().unwrap().num_permits(), 1);
    assert_eq!(semaphore.blocking_acquire_many(2).unwrap().num_permits(), 2);
    let (tx, mut rx) = mpsc::channel(1);
    tx.blocking_send(3).unwrap();
    assert_eq!(rx.blocking_recv(), Some(3));
    let (utx, mut urx) = mpsc::unbounded_channel();
    utx.send(4).unwrap();
    assert_eq!(urx.blocking_recv(), Some(4));
    let (btx, mut brx) = broadcast::channel(1);
    btx.send(5).unwrap();
    assert_eq!(brx.blocking_recv(), Ok(5));
    let (otx, orx) = oneshot::channel();
    otx.send(6).unwrap();
    assert_eq!(orx.blocking_recv(), Ok(6));
    // Another thread is never driving here (the flag is per thread, as in a runtime).
    DRIVING.with(|d| d.set(true));
    let other = std::thread::spawn(|| *Mutex::new(7).blocking_lock());
    DRIVING.with(|d| d.set(false));
    assert_eq!(other.join().unwrap(), 7);
}
