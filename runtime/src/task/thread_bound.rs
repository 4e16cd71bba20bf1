//! [`ThreadBound`]: the wrapper that lets a `!Send` future (a `LocalSet` task) live in a
//! task, by refusing to be polled or dropped on any thread but the one that made it.
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::thread::{self, ThreadId};

/// A future that may only be polled and dropped on the thread that created it; the
/// wrapper that lets a `!Send` future live in a task.
///
/// # Invariant
/// `future` is structurally pinned and touched only on `owner`: polling elsewhere panics
/// before reaching it; dropping elsewhere leaks it and panics (unless already unwinding),
/// which `async_task` turns into an abort, as for any panicking task destructor. Neither
/// happens in filch: a set runs and drops its tasks on its own thread only.
pub(crate) struct ThreadBound<F> {
    owner: ThreadId,
    future: ManuallyDrop<F>,
    /// `!Send` by itself; [`super::create_local`] argues why the task may still be shared.
    _not_send: PhantomData<*const ()>,
}

impl<F> ThreadBound<F> {
    pub(crate) fn new(future: F) -> Self {
        ThreadBound {
            owner: thread::current().id(),
            future: ManuallyDrop::new(future),
            _not_send: PhantomData,
        }
    }

    fn on_owner(&self) -> bool {
        thread::current().id() == self.owner
    }
}

impl<F: Future> Future for ThreadBound<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        assert!(
            self.on_owner(),
            "a `LocalSet` task was polled on a thread other than its set's"
        );
        // SAFETY: `future` is structurally pinned: never moved out, only dropped in place.
        unsafe { self.map_unchecked_mut(|this| &mut *this.future) }.poll(cx)
    }
}

impl<F> Drop for ThreadBound<F> {
    fn drop(&mut self) {
        if self.on_owner() {
            // SAFETY: dropped exactly once, here, in place; never used again.
            unsafe { ManuallyDrop::drop(&mut self.future) };
        } else if !thread::panicking() {
            panic!("a `LocalSet` task was dropped on a thread other than its set's (leaked)");
        }
    }
}
