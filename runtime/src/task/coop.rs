//! Cooperative scheduling: a per-poll budget that makes a hot task yield.
//!
//! A task whose every await is immediately ready never returns `Pending` by itself and
//! would keep its worker forever. Before each poll the scheduler gives the task a budget
//! of [`BUDGET`] operations; each of filch's own leaf futures (join handles, timers, I/O)
//! spends one unit when it completes. When the budget is gone they return `Pending` after
//! waking the task, which sends it to the back of the run queue.
//!
//! The public face is three functions: [`consume_budget`] (a loop of your own that does no
//! I/O can take part), [`has_budget_remaining`], and [`unconstrained`] (opt a future out).
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
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

/// Spends one unit of the current task's budget, yielding to the scheduler first if none
/// is left: put it in a loop that never awaits anything filch counts (pure computation,
/// a cache hit), so the loop still lets other tasks run.
///
/// Outside a task poll (a plain `block_on` of a future that never became a task, or
/// inside [`unconstrained`]) there is no budget, and it returns at once.
///
/// # Examples
///
/// ```
/// let rt = filch::runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let task = filch::spawn(async {
///         let mut sum = 0u64;
///         for i in 0..10_000u64 {
///             sum += i;
///             filch::task::consume_budget().await;
///         }
///         sum
///     });
///     assert_eq!(task.await.unwrap(), 49_995_000);
/// });
/// ```
pub async fn consume_budget() {
    std::future::poll_fn(poll_proceed).await
}

/// Whether the current task has budget left in this poll (`true` outside a task poll,
/// where nothing is constrained).
///
/// # Examples
///
/// ```
/// assert!(filch::task::has_budget_remaining());
/// ```
pub fn has_budget_remaining() -> bool {
    REMAINING.with(|r| r.get() != Some(0))
}

/// Runs `future` without the cooperative budget: filch's leaf futures inside it never
/// return `Pending` to make the task yield.
///
/// For a future that must finish a burst without interruption (a tight protocol loop
/// whose every operation is ready). It can starve the other tasks of its worker, which is
/// what the budget prevents: use it sparingly.
///
/// # Examples
///
/// ```
/// let rt = filch::runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let task = filch::spawn(filch::task::unconstrained(async {
///         // Never made to yield, however many ready operations it does.
///         for _ in 0..1_000 {
///             filch::task::consume_budget().await;
///             assert!(filch::task::has_budget_remaining());
///         }
///     }));
///     task.await.unwrap();
/// });
/// ```
pub fn unconstrained<F: Future>(future: F) -> Unconstrained<F> {
    Unconstrained { future }
}

pin_project_lite::pin_project! {
    /// The future of [`unconstrained`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Unconstrained<F> {
        #[pin]
        future: F,
    }
}

impl<F: Future> Future for Unconstrained<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        struct Restore(Option<u8>);
        impl Drop for Restore {
            fn drop(&mut self) {
                REMAINING.with(|r| r.set(self.0));
            }
        }
        let _restore = Restore(REMAINING.with(|r| r.replace(None)));
        self.project().future.poll(cx)
    }
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
