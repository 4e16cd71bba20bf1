//! [`within`]: bounds a wait by the wall clock, without filch's timers.
//!
//! The timer scenarios check filch's timer wheel; a bound made of that same wheel would
//! freeze with it and turn a precise violation ("this timer never fired") into a mere stall.
//! So these alarms come from one plain thread of the harness's own, which sleeps on a
//! condition variable until the earliest deadline and wakes the futures that wait on it.
use crate::ctx::lock;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

/// One pending alarm: fired by the alarm thread, woken through `waker`.
#[derive(Default)]
struct Slot {
    fired: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

/// Deadlines not fired yet, earliest first (the `u64` keeps equal deadlines apart).
struct Alarms {
    heap: Mutex<BinaryHeap<Reverse<(Instant, u64, ByAddress)>>>,
    changed: Condvar,
}

/// A `Weak<Slot>` ordered by nothing (the heap orders by deadline and sequence number).
struct ByAddress(Weak<Slot>);

impl PartialEq for ByAddress {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for ByAddress {}
impl PartialOrd for ByAddress {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ByAddress {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

fn alarms() -> &'static Alarms {
    static ALARMS: OnceLock<&'static Alarms> = OnceLock::new();
    ALARMS.get_or_init(|| {
        let alarms: &'static Alarms = Box::leak(Box::new(Alarms {
            heap: Mutex::new(BinaryHeap::new()),
            changed: Condvar::new(),
        }));
        std::thread::Builder::new()
            .name("filch-stress-alarm".into())
            .spawn(move || alarm_thread(alarms))
            .expect("start the alarm thread");
        alarms
    })
}

fn alarm_thread(alarms: &'static Alarms) {
    let mut heap = lock(&alarms.heap);
    loop {
        let now = Instant::now();
        while heap.peek().is_some_and(|Reverse((at, _, _))| *at <= now) {
            let Reverse((_, _, slot)) = heap.pop().expect("peeked");
            if let Some(slot) = slot.0.upgrade() {
                slot.fired.store(true, Ordering::Release);
                if let Some(w) = lock(&slot.waker).take() {
                    w.wake();
                }
            }
        }
        heap = match heap.peek() {
            Some(Reverse((at, _, _))) => {
                let wait = at.saturating_duration_since(now);
                alarms
                    .changed
                    .wait_timeout(heap, wait)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
            None => alarms.changed.wait(heap).unwrap_or_else(|e| e.into_inner()),
        };
    }
}

/// Registers an alarm at `at`; the slot fires then (or at once if `at` is past).
fn arm(at: Instant) -> Arc<Slot> {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let slot = Arc::new(Slot::default());
    let alarms = alarms();
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    lock(&alarms.heap).push(Reverse((at, seq, ByAddress(Arc::downgrade(&slot)))));
    alarms.changed.notify_one();
    slot
}

/// The wait `within` gave up on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Late;

/// Runs `fut` until it completes or `limit` of wall-clock time has passed (measured by the
/// harness's alarm thread, not by a filch timer): `Err(Late)` then, and `fut` is dropped.
/// `fut` is polled first, so a future that is ready wins over an alarm that has fired.
pub(crate) async fn within<F: Future>(limit: Duration, fut: F) -> Result<F::Output, Late> {
    let at = Instant::now()
        .checked_add(limit)
        .unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400 * 365));
    let slot = arm(at);
    let mut fut = pin!(fut);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(v) = fut.as_mut().poll(cx) {
            return Poll::Ready(Ok(v));
        }
        *lock(&slot.waker) = Some(cx.waker().clone());
        if slot.fired.load(Ordering::Acquire) {
            return Poll::Ready(Err(Late));
        }
        Poll::Pending
    })
    .await
}

/// Polls `cond` on the calling (plain, non-runtime) thread every millisecond until it holds
/// or `deadline` passes; returns whether it held.
pub(crate) fn settle(deadline: Instant, mut cond: impl FnMut() -> bool) -> bool {
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ready_future_wins_and_a_pending_one_is_late() {
        let rt = filch::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert_eq!(
            rt.block_on(within(Duration::from_secs(5), async { 3 })),
            Ok(3)
        );
        let start = Instant::now();
        let late = rt.block_on(within(
            Duration::from_millis(30),
            std::future::pending::<()>(),
        ));
        assert_eq!(late, Err(Late));
        assert!(start.elapsed() >= Duration::from_millis(30));
        assert!(start.elapsed() < Duration::from_secs(5));
    }
}
