//! loom model of the stealable LIFO slot: whatever the interleaving of the owner's pushes
//! and takes with a thief's steals, every task comes out exactly once (none lost, none run
//! twice), and what the thief gets is fully written.
#![cfg(loom)]

use filch::__loom::LifoSlot;
use loom::sync::Arc;

/// Everything that came out of the slot, sorted, plus what is left in it.
fn drained(mut got: Vec<u32>, slot: &LifoSlot<Box<u32>>) -> Vec<u32> {
    got.extend(slot.take().map(|task| *task));
    got.sort_unstable();
    got
}

#[test]
fn owner_push_displace_take_against_a_thief() {
    loom::model(|| {
        let slot = Arc::new(LifoSlot::<Box<u32>>::new());
        let thief = {
            let slot = slot.clone();
            loom::thread::spawn(move || slot.steal().map(|task| *task))
        };
        let mut got = Vec::new();
        assert!(slot.push(Box::new(1)).is_none(), "the slot starts empty");
        // Displaces 1, unless the thief took it first.
        got.extend(slot.push(Box::new(2)).map(|task| *task));
        got.extend(slot.take().map(|task| *task));
        got.extend(thief.join().unwrap());
        assert_eq!(drained(got, &slot), [1, 2]);
    });
}

#[test]
fn owner_refills_after_a_steal_against_two_thieves() {
    loom::model(|| {
        let slot = Arc::new(LifoSlot::<Box<u32>>::new());
        slot.push(Box::new(1));
        let thieves: Vec<_> = (0..2)
            .map(|_| {
                let slot = slot.clone();
                loom::thread::spawn(move || slot.steal().map(|task| *task))
            })
            .collect();
        let mut got = Vec::new();
        got.extend(slot.push(Box::new(2)).map(|task| *task));
        for thief in thieves {
            got.extend(thief.join().unwrap());
        }
        assert_eq!(drained(got, &slot), [1, 2]);
    });
}
