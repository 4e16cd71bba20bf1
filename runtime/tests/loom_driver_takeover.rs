//! loom model of the driver take-over (`Idle::sleeper_other_than` + `Parker`): when the
//! worker that sleeps in the driver leaves it to run tasks while another worker sleeps on
//! its condvar, the sleeper ends up in the driver, so the OS is still waited on.
//!
//! The driver is a mutex taken with `try_lock` (`Driver::try_lock`); the two workers'
//! steps follow `worker::Context::{park, hand_over_driver}` and `Parker::park`: a sleeper
//! puts itself on the sleeper list *before* it tries the driver, and the leaver lets go of
//! the driver *before* it looks for a sleeper, so of the two at least one sees the other.
//! A sleeper nobody wakes stays blocked forever, which loom reports as a deadlock.
#![cfg(loom)]

use filch::__loom::{Idle, Parker, Unparker};
use loom::sync::atomic::{AtomicBool, Ordering};
use loom::sync::{Arc, Mutex};

struct Workers {
    idle: Idle,
    driver: Mutex<()>,
    unparkers: Vec<Unparker>,
    /// Set by the sleeper once it holds the driver.
    sleeper_in_driver: AtomicBool,
}

/// Worker 1: nothing to do, so it parks; it stops once it has taken the driver.
fn sleeper(workers: &Workers, parker: &Parker) {
    assert!(!workers.idle.transition_to_parked(1, false));
    loop {
        // `Parker::park` on a parker built with the driver: the driver if it is free,
        // else the condvar.
        if let Ok(_driver) = workers.driver.try_lock() {
            workers.sleeper_in_driver.store(true, Ordering::Relaxed);
            return;
        }
        parker.park();
        // Woken: a notifier takes it off the list, a take-over wake does not (spurious,
        // as far as the sleep protocol goes: park again, and find the driver free).
        assert!(workers.idle.is_sleeping(1), "nobody notifies in this model");
    }
}

/// Worker 0: sleeps in the driver until an event wakes it, then leaves to run the tasks it
/// woke and hands the driver over.
fn driver_holder(workers: &Workers) {
    {
        let _driver = workers.driver.lock().unwrap();
        // Blocked in the OS poller until an event arrives; the guard drops as it leaves.
        // (The wait is a point where the sleeper may run: loom switches threads only at
        // synchronization operations, and a bare lock-then-unlock has none in between.)
        loom::thread::yield_now();
    }
    if let Some(sleeper) = workers.idle.sleeper_other_than(0) {
        workers.unparkers[sleeper].unpark();
    }
}

#[test]
fn a_worker_leaving_the_driver_hands_it_to_a_sleeper() {
    loom::model(|| {
        let parker = Parker::new();
        let workers = Arc::new(Workers {
            idle: Idle::new(2),
            driver: Mutex::new(()),
            // Worker 0's unparker is never used (it does not sleep on a condvar here).
            unparkers: vec![Parker::new().unparker(), parker.unparker()],
            sleeper_in_driver: AtomicBool::new(false),
        });
        let holder = {
            let workers = workers.clone();
            loom::thread::spawn(move || driver_holder(&workers))
        };
        sleeper(&workers, &parker);
        holder.join().unwrap();
        assert!(workers.sleeper_in_driver.load(Ordering::Relaxed));
    });
}
