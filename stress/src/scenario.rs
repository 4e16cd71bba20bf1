//! [`Scenario`]: a named async body plus an optional end-of-run invariant check.
use crate::ctx::Ctx;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

pub(crate) type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;
type RunFn = Box<dyn FnOnce(Ctx) -> BoxFuture + Send + 'static>;
type CheckFn = Box<dyn FnOnce() -> Result<(), String> + Send + 'static>;

/// One scenario: an async body run as a task on the runtime under test until the stop
/// signal, then an optional check run once every task of the run has finished.
///
/// The body should loop until [`Ctx::is_stopped`], call [`Ctx::progress`] every few
/// milliseconds of work (the watchdog reports a counter that stops moving as a stall), report
/// broken invariants with [`Ctx::violation`], and finish what it started before returning
/// (so the check sees a quiescent state).
pub struct Scenario {
    pub(crate) name: String,
    pub(crate) run: RunFn,
    pub(crate) check: Option<CheckFn>,
}

impl fmt::Debug for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scenario")
            .field("name", &self.name)
            .field("check", &self.check.is_some())
            .finish_non_exhaustive()
    }
}

impl Scenario {
    /// A scenario named `name` whose body is `run(ctx)`.
    pub fn new<F, Fut>(name: impl Into<String>, run: F) -> Self
    where
        F: FnOnce(Ctx) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self {
            name: name.into(),
            run: Box::new(move |ctx| Box::pin(run(ctx))),
            check: None,
        }
    }

    /// An invariant checked once the scenario's body has returned and the run is
    /// quiescent; an `Err` is reported as a violation of this scenario.
    pub fn check(mut self, check: impl FnOnce() -> Result<(), String> + Send + 'static) -> Self {
        self.check = Some(Box::new(check));
        self
    }

    /// The scenario's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}
