//! loom model of the multi-thread scheduler's sleep protocol (`Idle` + `Parker`): work
//! published while a worker is giving up and going to sleep is never stranded.
#![cfg(loom)]

use filch::__loom::{Idle, Parker, Unparker};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;

/// Worker 0's loop: search, park as the protocol says, until it takes `work` items.
fn worker(idle: &Idle, parker: &Parker, unparkers: &[Unparker], queue: &AtomicUsize, work: usize) {
    let mut taken = 0;
    let mut searching = false;
    while taken < work {
        if !searching {
            searching = idle.transition_to_searching();
        }
        // Steal (the "queue" is a counter of published items).
        if queue
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            taken += 1;
            if searching {
                searching = false;
                if idle.transition_from_searching() {
                    if let Some(w) = idle.worker_to_notify() {
                        unparkers[w].unpark();
                    }
                }
            }
            continue;
        }
        let last_searcher = idle.transition_to_parked(0, searching);
        if last_searcher && queue.load(Ordering::SeqCst) > 0 {
            if let Some(w) = idle.worker_to_notify() {
                unparkers[w].unpark();
            }
        }
        loop {
            parker.park();
            if !idle.is_sleeping(0) {
                searching = true;
                break;
            }
        }
    }
}

fn publish(idle: &Idle, unparkers: &[Unparker], queue: &AtomicUsize) {
    queue.fetch_add(1, Ordering::SeqCst);
    if let Some(w) = idle.worker_to_notify() {
        unparkers[w].unpark();
    }
}

#[test]
fn work_published_while_the_last_searcher_parks_is_found() {
    loom::model(|| {
        // Two workers: 0 runs the loop; 1 is busy and publishes work.
        let idle = Arc::new(Idle::new(2));
        let parker = Parker::new();
        let unparkers = Arc::new(vec![parker.unparker(), Parker::new().unparker()]);
        let queue = Arc::new(AtomicUsize::new(0));
        let publisher = {
            let (idle, unparkers, queue) = (idle.clone(), unparkers.clone(), queue.clone());
            loom::thread::spawn(move || publish(&idle, &unparkers, &queue))
        };
        worker(&idle, &parker, &unparkers, &queue, 1);
        publisher.join().unwrap();
    });
}

#[test]
fn two_publishers_wake_the_sleeper_for_both_items() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(|| {
        let idle = Arc::new(Idle::new(2));
        let parker = Parker::new();
        let unparkers = Arc::new(vec![parker.unparker(), Parker::new().unparker()]);
        let queue = Arc::new(AtomicUsize::new(0));
        let publishers: Vec<_> = (0..2)
            .map(|_| {
                let (idle, unparkers, queue) = (idle.clone(), unparkers.clone(), queue.clone());
                loom::thread::spawn(move || publish(&idle, &unparkers, &queue))
            })
            .collect();
        worker(&idle, &parker, &unparkers, &queue, 2);
        for p in publishers {
            p.join().unwrap();
        }
    });
}
