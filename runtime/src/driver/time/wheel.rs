//! [`TimerWheel`]: a hierarchical timing wheel with O(1) insert and cancel.
//!
//! Time is counted in whole milliseconds since the driver started. The wheel has
//! [`LEVELS`] levels of [`SLOTS`] slots; a slot of level `l` spans `SLOTS^l` ms, so level 0
//! resolves single milliseconds and the top level covers about 2 years (longer deadlines
//! are clamped to the top level and cascade down as time passes, firing on time).
//!
//! A timer sits in the slot of the *lowest* level whose span distinguishes its deadline
//! from `elapsed` (the level of the highest bit in which they differ, six bits per level).
//! When time reaches a slot of a higher level, its timers are re-inserted, each landing in
//! a finer slot ("cascading"); a timer is re-filed at most once per level, so the amortised
//! cost per timer is O(levels) = O(1).
//!
//! Entries live in a [`Slab`]; each slot is a doubly-linked list threaded through the
//! entries by slab index, so removing a timer (cancel, reset) unlinks it in O(1) without
//! searching. An occupancy bitmap per level finds the next non-empty slot with one
//! `trailing_zeros`.
//!
//! **No timer fires early:** callers round deadlines *up* to the next millisecond and
//! advance the wheel with the current time rounded *down*.
use slab::Slab;
use std::task::Waker;

/// Slots per level (a power of two: 6 bits of time per level).
const SLOTS: usize = 64;
const SLOT_BITS: u32 = 6;
/// Number of levels: 64^6 ms ≈ 2.2 years.
pub(crate) const LEVELS: usize = 6;
const MAX_DURATION: u64 = (1 << (SLOT_BITS * LEVELS as u32)) - 1;

/// One timer.
#[derive(Debug)]
struct Entry {
    /// Deadline in ms since start.
    deadline: u64,
    waker: Option<Waker>,
    /// Set when the deadline passed; the entry stays (unlinked) until its owner removes it.
    fired: bool,
    /// Where it is linked, if not fired.
    level: u8,
    slot: u8,
    prev: Option<usize>,
    next: Option<usize>,
}

/// The wheel; see the module docs.
#[derive(Debug)]
pub(crate) struct TimerWheel {
    entries: Slab<Entry>,
    /// `heads[level][slot]`: first entry of that slot's list.
    heads: [[Option<usize>; SLOTS]; LEVELS],
    /// Bit `s` of `occupied[level]` is set iff slot `s` of that level is non-empty.
    occupied: [u64; LEVELS],
    /// The time the wheel has been advanced to, in ms.
    elapsed: u64,
}

impl Default for TimerWheel {
    fn default() -> Self {
        Self::new()
    }
}

impl TimerWheel {
    pub(crate) fn new() -> Self {
        Self {
            entries: Slab::new(),
            heads: [[None; SLOTS]; LEVELS],
            occupied: [0; LEVELS],
            elapsed: 0,
        }
    }

    /// Number of timers (fired or not) held.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Adds a timer for `deadline` (ms). A deadline not after `elapsed` is fired at once.
    /// Returns the timer's key.
    pub(crate) fn insert(&mut self, deadline: u64, waker: Option<Waker>) -> usize {
        let key = self.entries.insert(Entry {
            deadline,
            waker,
            fired: false,
            level: 0,
            slot: 0,
            prev: None,
            next: None,
        });
        if deadline <= self.elapsed {
            self.entries[key].fired = true;
        } else {
            self.link(key);
        }
        key
    }

    /// Whether timer `key` has fired.
    pub(crate) fn is_fired(&self, key: usize) -> bool {
        self.entries[key].fired
    }

    /// Replaces the waker of timer `key` (unless it is the same one).
    pub(crate) fn set_waker(&mut self, key: usize, waker: &Waker) {
        let slot = &mut self.entries[key].waker;
        match slot {
            Some(w) if w.will_wake(waker) => {}
            _ => *slot = Some(waker.clone()),
        }
    }

    /// Moves timer `key` to a new deadline, un-firing it if needed.
    pub(crate) fn reset(&mut self, key: usize, deadline: u64) {
        if !self.entries[key].fired {
            self.unlink(key);
        }
        let entry = &mut self.entries[key];
        entry.deadline = deadline;
        entry.fired = deadline <= self.elapsed;
        if !entry.fired {
            self.link(key);
        }
    }

    /// Removes timer `key` (cancel, or cleanup after firing). O(1).
    pub(crate) fn remove(&mut self, key: usize) {
        if !self.entries[key].fired {
            self.unlink(key);
        }
        self.entries.remove(key);
    }

    /// The earliest deadline among pending timers' slots, in ms: the wheel must be
    /// advanced at (or after) this time. `None` if no timer is pending.
    ///
    /// This is the start of the earliest non-empty slot, which is no later than the
    /// earliest deadline: waking then may only cascade timers, never fire one early.
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        (0..LEVELS)
            .find_map(|level| self.next_slot_start(level))
            .map(|t| t.max(self.elapsed))
    }

    /// Start time of the first occupied slot of `level` at or after `elapsed`.
    fn next_slot_start(&self, level: usize) -> Option<u64> {
        let occupied = self.occupied[level];
        if occupied == 0 {
            return None;
        }
        let shift = SLOT_BITS * level as u32;
        let now_slot = ((self.elapsed >> shift) as usize) % SLOTS;
        // Rotate so that the current slot is bit 0.
        let rotated = occupied.rotate_right(now_slot as u32);
        let distance = rotated.trailing_zeros() as u64;
        let level_span = 1u64 << shift;
        let wheel_span = level_span * SLOTS as u64;
        let base = self.elapsed & !(wheel_span - 1);
        let slot_start = base + (now_slot as u64 + distance) * level_span;
        Some(slot_start)
    }

    /// Advances time to `now` (ms), firing every timer whose deadline is `<= now`: their
    /// wakers are pushed onto `fired` (to be woken after the caller drops its lock).
    pub(crate) fn advance(&mut self, now: u64, fired: &mut Vec<Waker>) {
        while let Some(next) = self.next_expiration() {
            if next > now {
                break;
            }
            self.elapsed = next;
            // Take every slot that starts at `next` at any level, finest first.
            for level in 0..LEVELS {
                let shift = SLOT_BITS * level as u32;
                if next & ((1u64 << shift) - 1) != 0 && level > 0 {
                    continue;
                }
                let slot = ((next >> shift) as usize) % SLOTS;
                if self.occupied[level] & (1 << slot) == 0 {
                    continue;
                }
                let mut cursor = self.heads[level][slot].take();
                self.occupied[level] &= !(1 << slot);
                while let Some(key) = cursor {
                    let entry = &mut self.entries[key];
                    cursor = entry.next;
                    entry.prev = None;
                    entry.next = None;
                    if entry.deadline <= now {
                        entry.fired = true;
                        if let Some(waker) = entry.waker.take() {
                            fired.push(waker);
                        }
                    } else {
                        self.link(key);
                    }
                }
            }
        }
        self.elapsed = self.elapsed.max(now);
    }

    fn level_for(&self, deadline: u64) -> usize {
        let deadline = deadline.min(self.elapsed + MAX_DURATION);
        let diff = (self.elapsed ^ deadline) | (SLOTS as u64 - 1);
        let significant = 63 - diff.leading_zeros();
        ((significant / SLOT_BITS) as usize).min(LEVELS - 1)
    }

    fn link(&mut self, key: usize) {
        let deadline = self.entries[key].deadline.min(self.elapsed + MAX_DURATION);
        let level = self.level_for(deadline);
        let slot = ((deadline >> (SLOT_BITS * level as u32)) as usize) % SLOTS;
        let head = self.heads[level][slot];
        {
            let entry = &mut self.entries[key];
            entry.level = level as u8;
            entry.slot = slot as u8;
            entry.prev = None;
            entry.next = head;
        }
        if let Some(head) = head {
            self.entries[head].prev = Some(key);
        }
        self.heads[level][slot] = Some(key);
        self.occupied[level] |= 1 << slot;
    }

    fn unlink(&mut self, key: usize) {
        let (level, slot, prev, next) = {
            let e = &self.entries[key];
            (e.level as usize, e.slot as usize, e.prev, e.next)
        };
        match prev {
            Some(prev) => self.entries[prev].next = next,
            None => self.heads[level][slot] = next,
        }
        if let Some(next) = next {
            self.entries[next].prev = prev;
        }
        if self.heads[level][slot].is_none() {
            self.occupied[level] &= !(1 << slot);
        }
        let e = &mut self.entries[key];
        e.prev = None;
        e.next = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn fire_until(wheel: &mut TimerWheel, now: u64) -> usize {
        let mut fired = Vec::new();
        wheel.advance(now, &mut fired);
        fired.len()
    }

    #[test]
    fn fires_exactly_at_the_deadline_never_before() {
        let mut wheel = TimerWheel::new();
        let keys: Vec<_> = [1, 5, 63, 64, 65, 4095, 4096, 300_000]
            .iter()
            .map(|&d| (d, wheel.insert(d, Some(Waker::noop().clone()))))
            .collect();
        for &(deadline, key) in &keys {
            fire_until(&mut wheel, deadline - 1);
            assert!(!wheel.is_fired(key), "{deadline} fired early");
            fire_until(&mut wheel, deadline);
            assert!(wheel.is_fired(key), "{deadline} did not fire");
        }
    }

    #[test]
    fn past_deadline_fires_at_once_and_cancel_is_o1() {
        let mut wheel = TimerWheel::new();
        fire_until(&mut wheel, 100);
        let k = wheel.insert(50, None);
        assert!(wheel.is_fired(k));
        let many: Vec<_> = (0..100_000).map(|i| wheel.insert(200 + i, None)).collect();
        for k in many {
            wheel.remove(k);
        }
        assert_eq!(wheel.next_expiration(), None);
        assert_eq!(wheel.len(), 1);
    }

    #[test]
    fn reset_moves_a_timer() {
        let mut wheel = TimerWheel::new();
        let k = wheel.insert(10, None);
        wheel.reset(k, 1000);
        fire_until(&mut wheel, 999);
        assert!(!wheel.is_fired(k));
        fire_until(&mut wheel, 1000);
        assert!(wheel.is_fired(k));
        wheel.reset(k, 1500);
        assert!(!wheel.is_fired(k));
        assert!(wheel.next_expiration().unwrap() <= 1500);
    }

    #[test]
    fn very_long_deadlines_are_clamped_and_still_fire_on_time() {
        let mut wheel = TimerWheel::new();
        let far = MAX_DURATION * 3;
        let k = wheel.insert(far, None);
        let mut t = 0;
        while !wheel.is_fired(k) {
            let next = wheel.next_expiration().unwrap();
            assert!(next >= t);
            t = next;
            fire_until(&mut wheel, t);
            assert!(t <= far, "never beyond the deadline");
        }
        assert_eq!(t, far);
    }

    proptest! {
        /// The wheel agrees with a sorted map: after advancing to any time, exactly the
        /// timers whose deadline passed have fired; `next_expiration` never overshoots.
        #[test]
        fn matches_a_naive_model(ops in proptest::collection::vec((0u8..4, 0u64..20_000), 1..200)) {
            let mut wheel = TimerWheel::new();
            let mut model: BTreeMap<usize, u64> = BTreeMap::new();
            let mut now = 0u64;
            for (op, arg) in ops {
                match op {
                    0 | 1 => {
                        let deadline = now + arg;
                        let key = wheel.insert(deadline, None);
                        model.insert(key, deadline);
                    }
                    2 => {
                        if let Some((&key, _)) = model.iter().nth(arg as usize % model.len().max(1)) {
                            wheel.remove(key);
                            model.remove(&key);
                        }
                    }
                    _ => {
                        if let Some(next) = wheel.next_expiration() {
                            let earliest = model.iter().filter(|(k, _)| !wheel.is_fired(**k)).map(|(_, d)| *d).min();
                            prop_assert!(earliest.is_some_and(|e| next <= e));
                        }
                        now += arg / 4;
                        fire_until(&mut wheel, now);
                    }
                }
                for (&key, &deadline) in &model {
                    prop_assert_eq!(wheel.is_fired(key), deadline <= now, "key {} deadline {} now {}", key, deadline, now);
                }
            }
        }
    }
}
