//! [`Timer`]: hyper's `Timer` trait on filch's timer wheel, for hyper's timeouts (header
//! read timeout, keep-alive, HTTP/2 pings, the pooled client's idle timeout).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::time::Instant as FilchInstant;

/// hyper's timers as filch [`Sleep`](crate::time::Sleep)s; `reset` moves a sleep in place
/// (no new allocation or timer entry).
///
/// # Panics
///
/// A sleep it makes panics when polled outside a filch runtime, as
/// [`filch::time::sleep`](crate::time::sleep) does.
///
/// # Examples
///
/// ```
/// use filch::hyper::Timer;
/// use hyper::rt::Timer as _;
/// use std::time::Duration;
///
/// # #[filch::main(flavor = "current_thread")]
/// # async fn main() {
/// let timer = Timer::new();
/// let mut sleep = timer.sleep(Duration::from_secs(3600));
/// timer.reset(&mut sleep, std::time::Instant::now() + Duration::from_millis(1));
/// sleep.await;
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Timer {
    _private: (),
}

impl Timer {
    /// A timer on the current runtime's clock.
    pub fn new() -> Timer {
        Timer { _private: () }
    }
}

pin_project_lite::pin_project! {
    /// A filch sleep as hyper's `Sleep`.
    struct HyperSleep {
        #[pin]
        inner: crate::time::Sleep,
    }
}

impl Future for HyperSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.project().inner.poll(cx)
    }
}

impl hyper::rt::Sleep for HyperSleep {}

impl hyper::rt::Timer for Timer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(HyperSleep {
            inner: crate::time::sleep(duration),
        })
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(HyperSleep {
            inner: crate::time::sleep_until(FilchInstant::from_std(deadline)),
        })
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<HyperSleep>() {
            Some(ours) => ours
                .project()
                .inner
                .reset(FilchInstant::from_std(new_deadline)),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}
