//! Cooperative scheduling: a per-poll budget that makes a hot task yield.
//!
//! A task whose every await is immediately ready never returns `Pending` by itself and
//! would keep its worker forever. Before each poll the scheduler gives the task a budget
//! of [`BUDGET`] operations; each of filch's own leaf futures (join handles, timers, I/O)
//! spends one unit when it completes. When the budget is gone they return `Pending` after
//! waking the task, which sends it to the back of the run queue.
use std::cell::Cell;
use std::task::{Context, Poll};

/// Operations a task may complete in one poll before it is made to yield.
pub(crate) const BUDGET: u8 = 128;

thread_local! {
    /// `None` outside a task poll: unconstrained.
    static REMAINING: Cell<Option<u8>> = const { Cell::new(None) };
    /// Times a leaf future on this thread returned `Pending` because the budget ran out.
    static FORCED_YIELDS: Cell<u64> = const { Cell::new(0) };
}

/// Runs `f` (one task poll) with a fresh budget, restoring the previous one afterwards.
pub(crate) fn budget<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(Option<u8>);
    impl Drop for Restore {
        fn drop(&mut self) {
            REMAINING.with(|r| r.set(self.0));
        }
    }
    let _restore = Restore(REMAINING.with(|r| r.replace(Some(BUDGET))));
    f()
}

/// Spends one unit of budget, or returns `Pending` (after waking the task) when none is
/// left. Call it at the start of a leaf future's `poll`; if the operation then turns out
/// not to be ready, call [`refund`].
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    REMAINING.with(|r| match r.get() {
        Some(0) => {
            FORCED_YIELDS.with(|n| n.set(n.get() + 1));
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        Some(n) => {
            r.set(Some(n - 1));
            Poll::Ready(())
        }
        None => Poll::Ready(()),
    })
}

/// Takes this thread's count of budget-forced yields since the last call (workers fold it
/// into their metrics now and then).
pub(crate) fn take_forced_yields() -> u64 {
    FORCED_YIELDS.with(|n| n.replace(0))
}

/// Gives back the unit [`poll_proceed`] took for an operation that made no progress.
pub(crate) fn refund() {
    REMAINING.with(|r| {
        if let Some(n) = r.get() {
            r.set(Some(n.saturating_add(1).min(BUDGET)));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn budget_runs_out_then_is_restored() {
        let mut cx = Context::from_waker(Waker::noop());
        assert!(
            poll_proceed(&mut cx).is_ready(),
            "unconstrained outside a task"
        );
        budget(|| {
            for _ in 0..BUDGET {
                assert!(poll_proceed(&mut cx).is_ready());
            }
            assert!(poll_proceed(&mut cx).is_pending());
            refund();
            assert!(poll_proceed(&mut cx).is_ready());
        });
        assert!(
            poll_proceed(&mut cx).is_ready(),
            "restored to unconstrained"
        );
    }
}
