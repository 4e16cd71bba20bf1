//! [`Timeout`]: a future with a deadline (asyncio's `wait_for`).
use super::error::Elapsed;
use super::sleep::{deadline_after, sleep_until, Sleep};
use super::Instant;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Runs `future`, giving up with [`Elapsed`] if it has not completed within `duration`.
/// The future is dropped when the time is up.
///
/// The future is polled before the deadline is checked, so one that is ready on the first
/// poll wins even with a zero `duration` (as in tokio). The deadline is checked on every
/// poll whatever the task's cooperative budget, so the timeout fires even around a future
/// that never waits (one whose every await is ready). A `duration` too long to add to now
/// (such as [`Duration::MAX`]) waits about 30 years: forever, in practice.
///
/// # Panics
///
/// The returned future panics if its deadline is checked (the future was not ready)
/// outside a filch runtime, or after its runtime shut down (see [`Sleep`]).
///
/// # Examples
///
/// ```
/// use filch::time::{sleep, timeout, Duration};
/// let rt = filch::runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     assert_eq!(timeout(Duration::from_secs(5), async { 7 }).await, Ok(7));
///     assert_eq!(timeout(Duration::ZERO, async { 8 }).await, Ok(8));
///     assert!(timeout(Duration::from_millis(5), sleep(Duration::from_secs(5))).await.is_err());
/// });
/// ```
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    timeout_at(deadline_after(Instant::now(), duration), future)
}

/// Runs `future` until `deadline`; see [`timeout`].
///
/// # Panics
///
/// As [`timeout`]'s future: when its deadline is checked outside a filch runtime or after
/// its runtime shut down.
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: sleep_until(deadline),
    }
}

pin_project_lite::pin_project! {
    /// The future returned by [`timeout`] and [`timeout_at`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct Timeout<F> {
        #[pin]
        future: F,
        sleep: Sleep,
    }
}

impl<F> Timeout<F> {
    /// The wrapped future.
    pub fn get_ref(&self) -> &F {
        &self.future
    }

    /// Gives the wrapped future back, cancelling the deadline.
    pub fn into_inner(self) -> F {
        self.future
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        // The future first: one that is ready exactly at the deadline still wins.
        if let Poll::Ready(output) = this.future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        // Unconstrained by the budget: a future that spent it (and returned `Pending` only
        // for that) must still time out.
        match this.sleep.poll_deadline(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}
