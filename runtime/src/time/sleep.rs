//! [`Sleep`]: a future that completes at a deadline.
//!
//! A `Sleep` completes once the clock has reached its deadline: its timer in the driver's
//! wheel wakes it, and each poll also reads the clock, so it completes even if nobody has
//! advanced the wheel yet. Deadlines too far to represent saturate to [`far_future`]
//! (about 30 years: never, in practice), which the wheel handles at O(1) cost.
//!
//! A `Sleep` polled after its runtime shut down panics with [`SHUT_DOWN`]: nobody would
//! ever advance its timer. Timers pending at shutdown are woken so that they see it.
use super::Instant;
use crate::driver::time::{TimerKey, TimerState};
use crate::driver::Driver;
use crate::task::coop;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// Waits until `duration` has elapsed (asyncio's `sleep`).
///
/// Like every future, the returned [`Sleep`] does nothing until polled; it finds its
/// runtime's timer on the first poll. A `duration` too long to add to now (such as
/// [`Duration::MAX`]) sleeps until about 30 years from now: forever, in practice.
///
/// # Panics
///
/// The returned future panics if first polled outside a filch runtime, and if polled
/// after its runtime shut down (see [`Sleep`]).
///
/// # Examples
///
/// ```
/// use filch::time::{sleep, Duration};
/// let rt = filch::runtime::Runtime::new().unwrap();
/// rt.block_on(sleep(Duration::from_millis(5)));
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(deadline_after(Instant::now(), duration))
}

/// Waits until `deadline`. A deadline in the past completes at once; one any distance in
/// the future waits for it (and never completes early).
///
/// # Panics
///
/// The returned future panics if first polled outside a filch runtime, and if polled
/// after its runtime shut down (see [`Sleep`]).
///
/// # Examples
///
/// ```
/// use filch::time::{sleep_until, Duration, Instant};
/// let rt = filch::runtime::Runtime::new().unwrap();
/// let deadline = Instant::now() + Duration::from_millis(5);
/// rt.block_on(sleep_until(deadline));
/// assert!(Instant::now() >= deadline);
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        driver: None,
        deadline,
        key: None,
    }
}

/// About 30 years from now: "never", but still an `Instant`.
pub(crate) fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365 * 30)
}

/// `base + duration`, or [`far_future`] if that is not representable.
pub(crate) fn deadline_after(base: Instant, duration: Duration) -> Instant {
    base.checked_add(duration).unwrap_or_else(far_future)
}

/// The message of the panic of a timer polled after its runtime shut down.
pub(crate) const SHUT_DOWN: &str = "the runtime this timer belongs to has shut down; \
     a `filch::time` sleep, timeout or interval cannot complete once its runtime is dropped \
     or shut down (nothing advances its timer): keep the `Runtime` alive until the timers \
     you await are done";

#[cold]
#[track_caller]
fn shut_down() -> ! {
    panic!("{SHUT_DOWN}")
}

/// The timer driver of the current runtime.
///
/// # Panics
///
/// Outside a runtime, or if the runtime is shutting down (see [`SHUT_DOWN`]).
#[track_caller]
pub(crate) fn current_driver(what: &str) -> Arc<Driver> {
    crate::runtime::context::with_current(|handle| match handle {
        Some(handle) if handle.inner.is_shutting_down() => shut_down(),
        Some(handle) => handle.inner.driver().clone(),
        None => panic!(
            "`filch::time::{what}` polled outside a runtime; await it inside a task, \
             `Runtime::block_on` or `#[filch::main]`"
        ),
    })
}

/// A future that completes at its deadline; returned by [`sleep`] and [`sleep_until`].
///
/// The timer is registered on the first poll (with the runtime polling it) and cancelled
/// (in O(1)) when the `Sleep` is dropped. `Sleep` is `Unpin`.
///
/// # Panics
///
/// Polling panics outside a filch runtime (on the first poll), and once the runtime whose
/// timer it uses has shut down (dropped, or [`shutdown_timeout`]), whether or not the
/// deadline has passed, with the message "the runtime this timer belongs to has shut
/// down; ...": nothing would ever fire its timer. A `Sleep` pending when its runtime shuts
/// down is woken, so a task or `block_on` waiting on it sees the panic instead of waiting
/// forever. Dropping or [`reset`](Self::reset)ting a `Sleep` never panics.
///
/// [`shutdown_timeout`]: crate::runtime::Runtime::shutdown_timeout
///
/// ```
/// use filch::time::{sleep, Duration};
/// let rt = filch::runtime::Runtime::new().unwrap();
/// let handle = rt.handle().clone();
/// drop(rt);
/// let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
///     handle.block_on(sleep(Duration::from_millis(1)))
/// }));
/// assert!(polled.is_err(), "the runtime this timer belongs to has shut down");
/// ```
pub struct Sleep {
    /// The timer driver, found on the first poll.
    driver: Option<Arc<Driver>>,
    deadline: Instant,
    /// The timer wheel entry, once registered; owned by this `Sleep`.
    key: Option<TimerKey>,
}

impl Sleep {
    /// The instant this sleep completes at.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has passed (on the clock of its runtime, once polled).
    pub fn is_elapsed(&self) -> bool {
        let now = match &self.driver {
            Some(driver) => Instant::from_std(driver.time.now()),
            None => Instant::now(),
        };
        now >= self.deadline
    }

    /// Moves the deadline (earlier or later, any distance), even after the sleep
    /// completed: it then completes again at the new deadline. Never panics, also after
    /// the runtime shut down (the next poll does).
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::time::{sleep, Duration, Instant};
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let mut s = std::pin::pin!(sleep(Duration::from_secs(60)));
    ///     s.as_mut().reset(Instant::now() + Duration::from_millis(5));
    ///     s.await;
    /// });
    /// ```
    pub fn reset(mut self: Pin<&mut Self>, deadline: Instant) {
        self.deadline = deadline;
        if let (Some(key), Some(driver)) = (self.key, &self.driver) {
            let ms = driver.time.deadline_ms(deadline.into_std());
            if driver.time.reset(key, ms) {
                driver.unpark();
            }
        }
    }
}

impl Sleep {
    /// Polls for the deadline without spending the cooperative budget: [`Timeout`]
    /// checks its deadline this way, so that it fires even around a future that spends
    /// the whole budget (tokio polls its delay unconstrained too).
    ///
    /// [`Timeout`]: super::Timeout
    ///
    /// # Panics
    ///
    /// As [`Sleep`]'s poll: outside a runtime, and after its runtime shut down.
    #[track_caller]
    pub(super) fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let driver = self.driver.get_or_insert_with(|| current_driver("sleep"));
        if driver.time.is_shut_down() {
            shut_down();
        }
        // The clock first: the wheel may lag behind it (it is advanced only when a thread
        // parks or polls the driver), and a deadline that passed is due whatever it says.
        if driver.time.now() >= self.deadline.into_std() {
            return Poll::Ready(());
        }
        let ready = match self.key {
            Some(key) => match driver.time.poll_fired(key, cx.waker()) {
                TimerState::Fired => true,
                TimerState::Pending => false,
                TimerState::ShutDown => shut_down(),
            },
            None => {
                let ms = driver.time.deadline_ms(self.deadline.into_std());
                let Ok(registered) = driver.time.register(ms, cx.waker()) else {
                    shut_down();
                };
                self.key = Some(registered.key);
                if registered.notify {
                    driver.unpark();
                }
                // The wheel may have moved past the deadline since we read the clock.
                registered.fired
            }
        };
        if ready {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        let polled = self.poll_deadline(cx);
        if polled.is_pending() {
            coop::refund();
        }
        polled
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let (Some(key), Some(driver)) = (self.key.take(), &self.driver) {
            driver.time.remove(key);
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("registered", &self.key.is_some())
            .finish()
    }
}
