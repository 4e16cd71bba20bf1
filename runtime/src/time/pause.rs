//! Paused time: [`pause`], [`resume`], [`advance`] (see the [module docs](super#paused-time)).
use super::sleep::deadline_after;
use crate::driver::time::Jump;
use crate::driver::Driver;
use crate::scheduler;
use std::future::poll_fn;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

/// How many times [`advance`] lets the other tasks run after each step before it goes on,
/// at most: enough for long chains of tasks waking each other, and a bound, so that a task
/// that never waits (a `yield_now` loop) cannot hang `advance`.
const MAX_ROUNDS: u32 = 1024;

/// The driver of the current-thread runtime this thread is in.
///
/// # Panics
///
/// Outside a runtime, and on a multi-thread runtime.
#[track_caller]
fn current_thread_driver(what: &str) -> Arc<Driver> {
    crate::runtime::context::with_current(|handle| match handle.map(|handle| &handle.inner) {
        Some(scheduler::Handle::CurrentThread(shared)) => shared.driver.clone(),
        Some(_) => panic!(
            "`filch::time::{what}`: paused time needs the current-thread runtime, and this \
             is a multi-thread one (its workers cannot share one virtual clock); build the \
             runtime with `Builder::new_current_thread()`, or use `#[filch::test]` without \
             `flavor = \"multi_thread\"`"
        ),
        None => panic!(
            "`filch::time::{what}` called outside a runtime; call it inside a task or the \
             `block_on` of a current-thread runtime (or start one paused: \
             `Builder::new_current_thread().start_paused(true)`, \
             `#[filch::test(start_paused = true)]`)"
        ),
    })
}

/// Pauses time on the current runtime: from now on its clock only moves when told to
/// ([`advance`]) or when every task is waiting and a timer is pending (it then jumps
/// straight to that timer: *auto-advance*). See the [module docs](super#paused-time).
///
/// The clock stops where it is, rounded up to the next whole millisecond of the timer
/// wheel (timers have millisecond resolution; this way a `sleep(10ms)` from a paused
/// instant completes exactly 10 ms later, virtually).
/// [`Instant::now`](super::Instant::now) on the runtime's threads then reads the virtual
/// clock.
///
/// # Panics
///
/// Panics outside a runtime ("`filch::time::pause` called outside a runtime; ..."), on a
/// multi-thread runtime ("... paused time needs the current-thread runtime ..."), and if
/// time is already paused ("... time is already paused"), as tokio's does.
///
/// # Examples
///
/// ```
/// use filch::time::{sleep, Duration, Instant};
///
/// let rt = filch::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     filch::time::pause();
///     let start = Instant::now();
///     sleep(Duration::from_secs(24 * 3600)).await; // returns at once, in real time
///     assert_eq!(start.elapsed(), Duration::from_secs(24 * 3600));
/// });
/// ```
#[track_caller]
pub fn pause() {
    let driver = current_thread_driver("pause");
    if driver.time.clock.pause().is_err() {
        panic!(
            "`filch::time::pause`: time is already paused; call `filch::time::resume` \
             before pausing it again"
        );
    }
    // A thread parked in the driver with a real timeout re-reads the clock.
    driver.unpark();
}

/// Resumes time on the current runtime: its clock runs again at the real clock's pace,
/// from the virtual time it had reached (it never jumps back), and auto-advance stops.
///
/// # Panics
///
/// Panics outside a runtime, on a multi-thread runtime (as [`pause`]), and if time is not
/// paused ("`filch::time::resume`: time is not paused; ...").
///
/// # Examples
///
/// ```
/// use filch::time::{advance, Duration, Instant};
///
/// let rt = filch::runtime::Builder::new_current_thread()
///     .start_paused(true)
///     .build()
///     .unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     advance(Duration::from_secs(60)).await;
///     filch::time::resume();
///     assert!(start.elapsed() >= Duration::from_secs(60), "never back");
/// });
/// ```
#[track_caller]
pub fn resume() {
    let driver = current_thread_driver("resume");
    if driver.time.clock.resume().is_err() {
        panic!(
            "`filch::time::resume`: time is not paused; call `filch::time::pause` (or build \
             the runtime with `Builder::start_paused(true)`) first"
        );
    }
    // The thread parked in the driver waits without a timeout while time is paused: wake
    // it, so that it waits for the real timeout of the next timer instead.
    driver.unpark();
}

/// Moves paused time forward by `duration`, firing every timer due by then, each at its
/// own deadline, and letting the tasks they wake run before it returns.
///
/// First the tasks ready to run do (at the current time). Then the clock moves in steps:
/// to the next pending timer, if it is due within `duration`,
/// which fires; then the tasks it woke run (and whatever they wake in turn: `advance` yields
/// until no other task is ready, up to 1,024 times per step) and may start new timers,
/// which are taken into account for the next step; and so on, until the clock is
/// `duration` ahead of where it started. So a task sleeping 10 ms in a loop observes
/// `start + 10ms`, `start + 20ms`, ... during an `advance(25ms)`, exactly as if 25 ms had
/// passed, and the call returns with the clock at exactly `start + 25ms`. Unlike
/// auto-advance, `advance` moves the clock even while other tasks are busy.
///
/// (tokio's `advance` moves the clock in one jump instead, and returns after one yield.)
///
/// # Panics
///
/// The returned future panics when first polled outside a runtime, on a multi-thread
/// runtime (as [`pause`]), and if time is not paused ("`filch::time::advance` needs paused
/// time; ...").
///
/// # Examples
///
/// ```
/// use filch::time::{advance, sleep, Duration, Instant};
/// use std::sync::{Arc, Mutex};
///
/// #[filch::main(flavor = "current_thread", start_paused = true)]
/// async fn main() {
///     let start = Instant::now();
///     let seen = Arc::new(Mutex::new(Vec::new()));
///     let log = seen.clone();
///     filch::spawn(async move {
///         loop {
///             sleep(Duration::from_millis(10)).await;
///             log.lock().unwrap().push(Instant::now() - start);
///         }
///     });
///     advance(Duration::from_millis(25)).await;
///     let ms = Duration::from_millis;
///     assert_eq!(*seen.lock().unwrap(), [ms(10), ms(20)]);
///     assert_eq!(Instant::now(), start + ms(25));
/// }
/// ```
pub async fn advance(duration: Duration) {
    let driver = current_thread_driver("advance");
    if !driver.time.clock.is_paused() {
        panic!(
            "`filch::time::advance` needs paused time; call `filch::time::pause()` first, or \
             build the runtime with `Builder::start_paused(true)` (`#[filch::test(start_paused \
             = true)]`)"
        );
    }
    let target = deadline_after(super::Instant::from_std(driver.time.now()), duration);
    // The tasks ready now run now, first: a task spawned just before may start a timer
    // that is due within `duration`.
    run_woken_tasks().await;
    let mut fired = Vec::new();
    loop {
        match driver.time.jump(Some(target.into_std()), &mut fired) {
            Jump::Fired => run_woken_tasks().await,
            Jump::Moved => {}
            Jump::Reached | Jump::NoTimer => break,
        }
        if driver.time.now() >= target.into_std() {
            break;
        }
    }
    run_woken_tasks().await;
}

/// Yields until no other task of this current-thread runtime is queued to run (at most
/// [`MAX_ROUNDS`] times): each yield puts the caller behind every queued task.
async fn run_woken_tasks() {
    let mut rounds = 0;
    poll_fn(|cx| {
        if rounds < MAX_ROUNDS && scheduler::current_thread::has_queued_tasks() {
            rounds += 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
}
