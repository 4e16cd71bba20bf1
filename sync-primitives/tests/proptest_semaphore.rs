//! Model-based test of the semaphore: random sequences of acquire / acquire_many /
//! release / cancel (drop a pending future) / close / add_permits / forget, driven by
//! manual polling with counting wakers.
//!
//! After every step: every woken waiter completes when polled and every waiter that was
//! not woken is still pending (no lost or spurious wakeup); waiters complete in FIFO
//! order; permits are conserved. At the end, with every future dropped, no waiter is left
//! behind and `available + forgotten == initial + added`.
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use filch_sync::{AcquireError, Semaphore, SemaphorePermit, TryAcquireError};
use proptest::prelude::*;

mod support;
use support::Task;

#[derive(Debug, Clone)]
enum Op {
    /// Start an `acquire_many(n)` and poll it once.
    Acquire(u32),
    /// Drop the i-th held permit (modulo the number held).
    Release(usize),
    /// Drop the i-th pending future.
    Cancel(usize),
    /// Forget the i-th held permit.
    Forget(usize),
    AddPermits(usize),
    Close,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1u32..=4).prop_map(Op::Acquire),
        3 => any::<usize>().prop_map(Op::Release),
        2 => any::<usize>().prop_map(Op::Cancel),
        1 => any::<usize>().prop_map(Op::Forget),
        2 => (0usize..=3).prop_map(Op::AddPermits),
        1 => Just(Op::Close),
    ]
}

type AcquireFut<'a> = Pin<Box<dyn Future<Output = Result<SemaphorePermit<'a>, AcquireError>> + 'a>>;

struct Pending<'a> {
    task: Task<AcquireFut<'a>>,
    seen_wakes: usize,
    /// Creation order, for the FIFO check.
    id: usize,
}

impl<'a> Pending<'a> {
    fn poll(&mut self) -> Poll<Result<SemaphorePermit<'a>, AcquireError>> {
        self.task.poll()
    }
}

fn run(initial: usize, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let sem = Semaphore::new(initial);
    let mut added = 0usize;
    let mut forgotten = 0usize;
    let mut held: Vec<SemaphorePermit<'_>> = Vec::new();
    let mut pending: Vec<Pending<'_>> = Vec::new();
    let mut next_id = 0;
    let mut closed = false;

    for op in ops {
        match op {
            Op::Acquire(n) => {
                let mut p = Pending {
                    task: Task::new(Box::pin(sem.acquire_many(n))),
                    seen_wakes: 0,
                    id: next_id,
                };
                next_id += 1;
                match p.poll() {
                    Poll::Ready(Ok(permit)) => {
                        prop_assert!(!closed);
                        prop_assert!(pending.is_empty(), "overtook a queued waiter");
                        held.push(permit);
                    }
                    Poll::Ready(Err(_)) => prop_assert!(closed),
                    Poll::Pending => {
                        prop_assert!(!closed);
                        pending.push(p);
                    }
                }
            }
            Op::Release(i) if !held.is_empty() => {
                let len = held.len();
                drop(held.swap_remove(i % len));
            }
            Op::Forget(i) if !held.is_empty() => {
                let len = held.len();
                let permit = held.swap_remove(i % len);
                forgotten += permit.num_permits();
                permit.forget();
            }
            Op::Cancel(i) if !pending.is_empty() => {
                let len = pending.len();
                drop(pending.remove(i % len));
            }
            Op::AddPermits(k) => {
                sem.add_permits(k);
                added += k;
            }
            Op::Close => {
                sem.close();
                closed = true;
            }
            Op::Release(_) | Op::Forget(_) | Op::Cancel(_) => {}
        }

        // Wakeups: woken waiters complete, the others stay pending; Ok completions are in
        // FIFO order (the oldest pending first).
        let mut still = Vec::new();
        for mut p in pending.drain(..) {
            let wakes = p.task.wakes();
            let woken = wakes > p.seen_wakes;
            p.seen_wakes = wakes;
            match p.poll() {
                Poll::Ready(Ok(permit)) => {
                    prop_assert!(woken, "completed without a wakeup (lost wakeup)");
                    prop_assert!(still.is_empty(), "waiter {} overtook an older one", p.id);
                    held.push(permit);
                }
                Poll::Ready(Err(_)) => {
                    prop_assert!(woken && closed, "spurious AcquireError");
                }
                Poll::Pending => {
                    prop_assert!(!woken, "woken but still pending (spurious wakeup)");
                    still.push(p);
                }
            }
        }
        pending = still;

        // Conservation: permits are available, held, forgotten, or partly paid to the
        // head waiter (which is why this is `<=` while someone waits).
        let held_total: usize = held.iter().map(|p| p.num_permits()).sum();
        let accounted = sem.available_permits() + held_total + forgotten;
        if pending.is_empty() {
            prop_assert_eq!(accounted, initial + added);
        } else {
            prop_assert!(accounted <= initial + added);
            prop_assert_eq!(
                sem.available_permits(),
                0,
                "permits idle while waiters wait"
            );
        }
    }

    drop(pending);
    let held_total: usize = held.iter().map(|p| p.num_permits()).sum();
    prop_assert_eq!(
        sem.available_permits() + held_total + forgotten,
        initial + added
    );
    drop(held);
    prop_assert_eq!(sem.available_permits() + forgotten, initial + added);
    // No waiter left behind: nothing is queued, so a free permit can be taken at once.
    prop_assert!(format!("{sem:?}").contains("queued: false"), "{:?}", sem);
    let available = sem.available_permits();
    match sem.try_acquire() {
        Ok(_) => prop_assert!(!closed && available > 0),
        Err(TryAcquireError::Closed) => prop_assert!(closed),
        Err(TryAcquireError::NoPermits) => prop_assert_eq!(available, 0),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn semaphore_model(initial in 0usize..=4, ops in prop::collection::vec(op(), 1..40)) {
        run(initial, ops)?;
    }
}
