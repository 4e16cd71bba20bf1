//! loom model of the Parker: an unpark is never lost, whichever way the race goes.
#![cfg(loom)]

use filch::__loom::Parker;
use loom::sync::atomic::{AtomicBool, Ordering};
use loom::sync::Arc;

#[test]
fn unpark_before_or_during_park_is_not_lost() {
    loom::model(|| {
        let parker = Parker::new();
        let unparker = parker.unparker();
        let ready = Arc::new(AtomicBool::new(false));
        let r = ready.clone();
        let th = loom::thread::spawn(move || {
            r.store(true, Ordering::Release);
            unparker.unpark();
        });
        while !ready.load(Ordering::Acquire) {
            parker.park();
        }
        th.join().unwrap();
    });
}

#[test]
fn two_unparks_then_two_parks_do_not_hang_on_the_first() {
    loom::model(|| {
        let parker = Parker::new();
        let u1 = parker.unparker();
        let u2 = parker.unparker();
        let done = Arc::new(loom::sync::atomic::AtomicUsize::new(0));
        let (d1, d2) = (done.clone(), done.clone());
        let a = loom::thread::spawn(move || {
            d1.fetch_add(1, Ordering::Release);
            u1.unpark();
        });
        let b = loom::thread::spawn(move || {
            d2.fetch_add(1, Ordering::Release);
            u2.unpark();
        });
        while done.load(Ordering::Acquire) < 2 {
            parker.park();
        }
        a.join().unwrap();
        b.join().unwrap();
    });
}
