//! [`Baton`]: a one-slot hand-over with its own waker, the harness's own wake path (the
//! one [`Fault::DropWake`](crate::Fault::DropWake) can break).
use crate::ctx::lock;
use std::future::poll_fn;
use std::sync::Mutex;
use std::task::{Poll, Waker};
use std::time::Instant;

/// A one-slot channel between two tasks: `pass` stores a value and wakes the taker.
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
