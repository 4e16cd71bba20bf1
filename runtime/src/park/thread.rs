//! Blocking a plain thread on a future: a cached per-thread [`Parker`] and a waker that
//! unparks it.
use crate::park::{Parker, Unparker};
use crate::task::coop;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

thread_local! {
    static PARKER: Parker = Parker::new();
}

/// Calls `f` with this thread's parker.
pub(crate) fn with_parker<R>(f: impl FnOnce(&Parker) -> R) -> R {
    PARKER.with(f)
}

struct ThreadWaker(Unparker);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `future` on this thread, parking between polls until its waker fires.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    with_parker(|parker| {
        let waker = Waker::from(Arc::new(ThreadWaker(parker.unparker())));
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        loop {
            if let Poll::Ready(output) = coop::budget(|| future.as_mut().poll(&mut cx)) {
                return output;
            }
            parker.park();
        }
    })
}
