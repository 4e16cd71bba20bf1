//! [`Interval`]: ticks at a fixed period, with a choice of what to do about missed ticks.
use super::sleep::{deadline_after, far_future, sleep_until, Sleep};
use super::Instant;
use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// What an [`Interval`] does when a tick is late (the task was busy past one or more
/// periods).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks back to back until caught up, keeping the original schedule
    /// (`start + n * period`). The default.
    #[default]
    Burst,
    /// Restart the schedule from now: the next tick is a full period after the late one.
    Delay,
    /// Drop the missed ticks and keep the original phase: the next tick is the next
    /// `start + n * period` after now.
    Skip,
}

/// Creates an interval whose first tick completes at once, then every `period`.
///
/// A tick too far away to represent (with a `period` such as [`Duration::MAX`]) is
/// scheduled about 30 years ahead instead, like [`sleep`](fn@super::sleep): the interval
/// ticks once and then, in practice, never again.
///
/// # Panics
///
/// Panics if `period` is zero (message: "`filch::time::interval` needs a non-zero period;
/// ..."). The interval panics if polled outside a filch runtime, or after its runtime
/// shut down (see [`Sleep`]).
///
/// # Examples
///
/// ```
/// use filch::time::{interval, Duration, Instant};
/// let rt = filch::runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     let mut ticks = interval(Duration::from_millis(10));
///     for _ in 0..3 {
///         ticks.tick().await;
///     }
///     assert!(start.elapsed() >= Duration::from_millis(20));
/// });
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Creates an interval whose first tick completes at `start`, then every `period`.
///
/// A `start` in the past makes the first tick complete at once (it returns `start`); the
/// ticks missed since then follow the [`MissedTickBehavior`].
///
/// # Panics
///
/// Panics if `period` is zero. The interval panics if polled outside a filch runtime, or
/// after its runtime shut down (see [`Sleep`]).
///
/// # Examples
///
/// ```
/// use filch::time::{interval_at, Duration, Instant, MissedTickBehavior};
/// let rt = filch::runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let start = Instant::now() - Duration::from_millis(25);
///     let mut ticks = interval_at(start, Duration::from_millis(10));
///     ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
///     assert_eq!(ticks.tick().await, start);
///     // The missed ticks are skipped; the next one keeps the phase.
///     let next = ticks.tick().await;
///     assert!(next >= start + Duration::from_millis(30));
///     assert_eq!((next - start).as_millis() % 10, 0);
/// });
/// ```
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "`filch::time::interval` needs a non-zero period; use `yield_now` to run as often as possible"
    );
    Interval {
        sleep: sleep_until(start),
        period,
        behavior: MissedTickBehavior::default(),
    }
}

/// A stream of ticks; see [`interval`].
#[derive(Debug)]
pub struct Interval {
    /// Completes at the next tick's scheduled instant.
    sleep: Sleep,
    period: Duration,
    behavior: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick and returns the instant it was scheduled for.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick; see [`tick`](Self::tick).
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if Pin::new(&mut self.sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let scheduled = self.sleep.deadline();
        let now = Instant::now();
        // Saturating throughout: a tick that cannot be represented is "never".
        let on_schedule = deadline_after(scheduled, self.period);
        let next = match self.behavior {
            MissedTickBehavior::Burst => on_schedule,
            _ if now < on_schedule => on_schedule,
            MissedTickBehavior::Delay => deadline_after(now, self.period),
            MissedTickBehavior::Skip => skip_to_phase(scheduled, now, self.period),
        };
        Pin::new(&mut self.sleep).reset(next);
        Poll::Ready(scheduled)
    }

    /// Restarts the schedule: the next tick is one period from now.
    pub fn reset(&mut self) {
        self.reset_at(deadline_after(Instant::now(), self.period));
    }

    /// Restarts the schedule with a tick right now: the next `tick()` completes at once,
    /// and the ones after follow one period apart.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let mut every_hour = filch::time::interval(Duration::from_secs(3600));
    ///     every_hour.tick().await; // the first tick is immediate
    ///     every_hour.reset_immediately();
    ///     every_hour.tick().await; // and so is this one
    /// });
    /// ```
    pub fn reset_immediately(&mut self) {
        self.reset_at(Instant::now());
    }

    /// Restarts the schedule with the next tick `after` from now (saturating: a tick past
    /// what an `Instant` can hold never comes).
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::time::{Duration, Instant};
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let mut interval = filch::time::interval(Duration::from_secs(3600));
    ///     interval.tick().await;
    ///     let start = Instant::now();
    ///     interval.reset_after(Duration::from_millis(5));
    ///     interval.tick().await;
    ///     assert!(start.elapsed() >= Duration::from_millis(5));
    /// });
    /// ```
    pub fn reset_after(&mut self, after: Duration) {
        self.reset_at(deadline_after(Instant::now(), after));
    }

    /// Restarts the schedule with the next tick at `deadline` (at once if it has passed).
    pub fn reset_at(&mut self, deadline: Instant) {
        Pin::new(&mut self.sleep).reset(deadline);
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// What happens to missed ticks.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.behavior
    }

    /// Sets what happens to missed ticks.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.behavior = behavior;
    }
}

impl futures_core::Stream for Interval {
    type Item = Instant;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        self.get_mut().poll_tick(cx).map(Some)
    }
}

/// The first `scheduled + n * period` (n >= 1) after `now`, or [`far_future`] if it is not
/// representable.
fn skip_to_phase(scheduled: Instant, now: Instant, period: Duration) -> Instant {
    let late = now.saturating_duration_since(scheduled).as_nanos();
    let periods = late / period.as_nanos() + 1;
    // At most `late + period`: no overflow in u128 (both are below 2^95 ns).
    let offset = periods * period.as_nanos();
    const NANOS: u128 = 1_000_000_000;
    match u64::try_from(offset / NANOS) {
        Ok(secs) => deadline_after(scheduled, Duration::new(secs, (offset % NANOS) as u32)),
        Err(_) => far_future(),
    }
}

use std::future::Future as _;
