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
///
/// # Deterministic mode
///
/// A deterministic run ([`Harness::deterministic`](crate::Harness::deterministic)) replays
/// one seed exactly, which only holds for a scenario whose tasks wake each other and wait
/// on `filch::time` timers, and nothing else. A scenario says so with
/// [`deterministic`](Self::deterministic); until it does, a deterministic run skips it and
/// the report says why ([`nondeterministic`](Self::nondeterministic) gives the reason).
/// The harness cannot check the promise: a scenario marked deterministic that uses real
/// I/O, the blocking pool, another runtime or thread, `std::time::Instant`/`SystemTime`
/// or OS randomness breaks the byte-identical report (and a wake from another thread can
/// stall it: paused time does not wait for threads it does not know about).
pub struct Scenario {
    pub(crate) name: String,
    pub(crate) run: RunFn,
    pub(crate) check: Option<CheckFn>,
    /// `None`: may run in deterministic mode; `Some(why)`: skipped there, for that reason.
    pub(crate) nondeterministic: Option<String>,
}

impl fmt::Debug for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scenario")
            .field("name", &self.name)
            .field("check", &self.check.is_some())
            .field("nondeterministic", &self.nondeterministic)
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
            nondeterministic: Some(NOT_MARKED.to_owned()),
        }
    }

    /// An invariant checked once the scenario's body has returned and the run is
    /// quiescent; an `Err` is reported as a violation of this scenario.
    pub fn check(mut self, check: impl FnOnce() -> Result<(), String> + Send + 'static) -> Self {
        self.check = Some(Box::new(check));
        self
    }

    /// Marks the scenario as able to run in deterministic mode: its tasks only wake each
    /// other and wait on `filch::time` timers (see [the type's docs](Self#deterministic-mode)).
    pub fn deterministic(mut self) -> Self {
        self.nondeterministic = None;
        self
    }

    /// Marks the scenario as unable to run in deterministic mode, saying why (the report of
    /// a deterministic run shows `why` on the line that skips it). The default, with a
    /// generic reason.
    pub fn nondeterministic(mut self, why: impl Into<String>) -> Self {
        self.nondeterministic = Some(why.into());
        self
    }

    /// Whether the scenario runs in deterministic mode ([`deterministic`](Self::deterministic)).
    pub fn is_deterministic(&self) -> bool {
        self.nondeterministic.is_none()
    }

    /// Why a deterministic run skips it, or `None` if it runs there.
    pub fn nondeterministic_reason(&self) -> Option<&str> {
        self.nondeterministic.as_deref()
    }

    /// The scenario's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// The reason of a scenario nobody marked.
const NOT_MARKED: &str = "not marked `Scenario::deterministic()`";
