//! [`Baton`]: a one-slot hand-over with its own waker, the harness's own wake path (the
//! one [`Fault::DropWake`](crate::Fault::DropWake) can break).
use crate::ctx::lock;
use filch::time::Instant;
use std::future::poll_fn;
use std::sync::Mutex;
use std::task::{Poll, Waker};

/// A one-slot channel between two tasks: `pass` stores a value and wakes the taker.
///
/// The instant stamped on a value is `filch::time::Instant::now()`: the real clock, or the
/// virtual one in deterministic mode (so the measured wake latency is virtual there too).
///
/// The value and the waker live under one mutex, so a `pass` either finds the taker's
/// waker (and wakes it) or happens before the taker's re-check (which then sees the value).
#[derive(Debug, Default)]
pub struct Baton {
    slot: Mutex<Slot>,
}

#[derive(Debug, Default)]
struct Slot {
    value: Option<(u64, Instant)>,
    waker: Option<Waker>,
}

impl Baton {
    /// Hands `value` over. If a task waits and `drop_wake()` says so, its waker is
    /// discarded instead of woken: the value sits in the slot and nobody looks at it (a
    /// planted lost wakeup). `drop_wake` is only asked when there is a waker to drop.
    pub fn pass(&self, value: u64, drop_wake: impl FnOnce() -> bool) {
        let waker = {
            let mut slot = lock(&self.slot);
            slot.value = Some((value, Instant::now()));
            slot.waker.take()
        };
        if let Some(waker) = waker {
            if drop_wake() {
                drop(waker);
            } else {
                waker.wake();
            }
        }
    }

    /// Waits for a value; returns it with the instant it was passed.
    pub async fn take(&self) -> (u64, Instant) {
        poll_fn(|cx| {
            let mut slot = lock(&self.slot);
            match slot.value.take() {
                Some(v) => Poll::Ready(v),
                None => {
                    match &mut slot.waker {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        w => *w = Some(cx.waker().clone()),
                    }
                    Poll::Pending
                }
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Context, Wake};

    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll_take(baton: &Baton, waker: &Arc<CountingWaker>) -> Poll<(u64, Instant)> {
        let waker = Waker::from(waker.clone());
        let mut cx = Context::from_waker(&waker);
        let fut = std::pin::pin!(baton.take());
        fut.poll(&mut cx)
    }

    #[test]
    fn pass_wakes_the_taker_unless_the_fault_drops_it() {
        let baton = Baton::default();
        let w = Arc::new(CountingWaker(AtomicUsize::new(0)));
        assert!(poll_take(&baton, &w).is_pending());
        baton.pass(1, || false);
        assert_eq!(w.0.load(Ordering::SeqCst), 1);
        assert!(matches!(poll_take(&baton, &w), Poll::Ready((1, _))));

        assert!(poll_take(&baton, &w).is_pending());
        let mut asked = false;
        baton.pass(2, || {
            asked = true;
            true
        });
        assert!(asked);
        assert_eq!(
            w.0.load(Ordering::SeqCst),
            1,
            "the dropped wake must not reach the waker"
        );
        // The value is there; only the wakeup was lost.
        assert!(matches!(poll_take(&baton, &w), Poll::Ready((2, _))));
    }

    #[test]
    fn the_fault_is_not_asked_without_a_waiter() {
        let baton = Baton::default();
        baton.pass(3, || panic!("no waker to drop"));
        let w = Arc::new(CountingWaker(AtomicUsize::new(0)));
        assert!(matches!(poll_take(&baton, &w), Poll::Ready((3, _))));
    }
}
