//! [`Executor`]: hyper's `Executor` trait on filch's scheduler, for the background tasks
//! hyper spawns (HTTP/2 streams, the pooled client's connections).

use std::future::Future;

/// Spawns hyper's background futures on the filch runtime current where hyper spawns them
/// (`filch::spawn`).
///
/// # Panics
///
/// hyper spawns while a connection is polled: that panics, as [`filch::spawn`](crate::spawn)
/// does, if the connection is polled outside a filch runtime.
///
/// # Examples
///
/// ```
/// use filch::hyper::{Executor, Timer};
///
/// // hyper's builders return `&mut Self`: keep the builder in a binding to use it later.
/// let mut h2 = hyper::server::conn::http2::Builder::new(Executor::new());
/// h2.timer(Timer::new()).keep_alive_interval(std::time::Duration::from_secs(20));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Executor {
    _private: (),
}

impl Executor {
    /// An executor for the current runtime.
    pub fn new() -> Executor {
        Executor { _private: () }
    }
}

impl<F> hyper::rt::Executor<F> for Executor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    #[track_caller]
    fn execute(&self, future: F) {
        drop(crate::runtime::spawn::spawn(future));
    }
}
