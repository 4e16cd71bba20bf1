//! [`TimerWheel`]: a hierarchical timing wheel with O(1) insert and cancel.
//!
//! Time is counted in whole milliseconds since the driver started. The wheel has
//! [`LEVELS`] levels of [`SLOTS`] slots; a slot of level `l` spans `SLOTS^l` ms, so level 0
//! resolves single milliseconds and the top level's ring of slots covers [`RING`] ms
//! (2^36 ms, about 2.2 years).
//!
//! A timer sits in the slot of the *lowest* level whose span distinguishes its deadline
//! from `elapsed` (the level of the highest bit in which they differ, six bits per level).
//! When time reaches a slot of a higher level, its timers are re-inserted, each landing in
//! a finer slot ("cascading"); a timer is re-filed at most once per level, so the amortised
//! cost per timer is O(levels) = O(1). This is the hashed hierarchical timing wheel of
//! Varghese and Lauck, "Hashed and Hierarchical Timing Wheels" (SOSP 1987), as in the
//! Linux kernel's and tokio's timers.
//!
//! # Invariant
//!
//! Every linked timer's slot starts strictly after `elapsed` (in the slot's next turn of
//! its ring) and no later than the timer's deadline. So [`TimerWheel::next_expiration`]
//! is always in the future and never past a deadline, and [`TimerWheel::advance`] empties
//! each slot it visits (every timer in it fires or moves to a finer level or a later
//! slot), which is why it terminates.
//!
//! # Deadlines past the top level
//!
//! A deadline beyond the top ring (at or after the start of the current top-level slot
//! plus [`RING`]) would otherwise fall into the *current* top-level slot, whose next turn
//! starts in the past, breaking the invariant. Such a timer is filed instead in the last
//! top-level slot of the ring (the one just before the current one), which starts between
//! `RING - 2 * 2^30` and `RING - 2^30` ms from now (more than 2 years): the driver is not
//! woken early for it. When time reaches that slot the timer is re-filed the same way, in
//! O(1), so a deadline any distance away (up to `u64::MAX`) fires **on time, never early**,
//! at the cost of one re-filing per ~2.1 years of run time. A `sleep(Duration::MAX)` is
//! such a timer (it saturates to ~30 years away): it never fires in practice.
//!
//! Should the clock ever jump by a whole ring or more at once (it cannot, for a monotonic
//! millisecond clock short of running for years without the wheel being advanced), the
//! wheel re-files every pending timer against the new time in one O(n) pass rather than
//! stepping through each ring.
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
/// Span of the top level's ring of slots, in ms (64^6 = 2^36, about 2.2 years).
pub(crate) const RING: u64 = 1 << (SLOT_BITS * LEVELS as u32);
/// Span of one top-level slot, in ms (2^30, about 12 days).
const TOP_SLOT_SPAN: u64 = RING / SLOTS as u64;

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

    /// Moves the waker of every pending timer onto `out` (the timers stay registered).
    pub(crate) fn take_pending_wakers(&mut self, out: &mut Vec<Waker>) {
        out.extend(
            self.entries
                .iter_mut()
                .filter(|(_, entry)| !entry.fired)
                .filter_map(|(_, entry)| entry.waker.take()),
        );
    }

    /// Whether timer `key` has fired.
    pub(crate) fn is_fired(&self, key: usize) -> bool {
        self.entries[key].fired
    }

    /// Replaces the waker of timer `key` (unless it is the same one); returns the one it
    /// replaced, for the caller to drop once it has let go of the wheel (dropping a waker
    /// may drop a task, whose own timers would lock the wheel again).
    #[must_use = "drop the old waker outside the wheel's lock"]
    pub(crate) fn set_waker(&mut self, key: usize, waker: &Waker) -> Option<Waker> {
        let slot = &mut self.entries[key].waker;
        match slot {
            Some(w) if w.will_wake(waker) => None,
            _ => slot.replace(waker.clone()),
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

    /// Removes timer `key` (cancel, or cleanup after firing), returning its waker for the
    /// caller to drop outside the wheel's lock (see [`set_waker`](Self::set_waker)). O(1).
    #[must_use = "drop the waker outside the wheel's lock"]
    pub(crate) fn remove(&mut self, key: usize) -> Option<Waker> {
        if !self.entries[key].fired {
            self.unlink(key);
        }
        self.entries.remove(key).waker
    }

    /// The earliest deadline among pending timers' slots, in ms: the wheel must be
    /// advanced at (or after) this time. `None` if no timer is pending.
    ///
    /// This is the start of the earliest non-empty slot, which is no later than the
    /// earliest deadline: waking then may only cascade timers, never fire one early. It is
    /// always after `elapsed` (see the module's invariant).
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        self.next_slot().map(|(start, _, _)| start)
    }

    /// The earliest non-empty slot: `(start, level, slot)`. A finer level's next slot
    /// always starts before a coarser level's, so the first level with a timer has it.
    fn next_slot(&self) -> Option<(u64, usize, usize)> {
        (0..LEVELS).find_map(|level| {
            let occupied = self.occupied[level];
            if occupied == 0 {
                return None;
            }
            let shift = SLOT_BITS * level as u32;
            let now_slot = ((self.elapsed >> shift) as usize) % SLOTS;
            // Rotate so that the current slot is bit 0.
            let distance = occupied.rotate_right(now_slot as u32).trailing_zeros() as u64;
            let level_span = 1u64 << shift;
            let base = self.elapsed & !(level_span * SLOTS as u64 - 1);
            // No overflow: the slot starts no later than a deadline (a `u64`) or, for a
            // timer filed past the top level, than `top_ring_end() - 1`.
            let start = base + (now_slot as u64 + distance) * level_span;
            debug_assert!(start > self.elapsed, "a slot starts in the past");
            Some((start, level, (now_slot + distance as usize) % SLOTS))
        })
    }

    /// Advances time to `now` (ms), firing every timer whose deadline is `<= now`: their
    /// wakers are pushed onto `fired` (to be woken after the caller drops its lock).
    ///
    /// Visits the slots that start by `now` in order; each visit empties its slot, so this
    /// takes O(1) steps per timer (at most one per level, plus one or two re-filings of a
    /// timer past the top level).
    pub(crate) fn advance(&mut self, now: u64, fired: &mut Vec<Waker>) {
        if now <= self.elapsed {
            return;
        }
        if now - self.elapsed >= RING {
            return self.refile_all(now, fired);
        }
        while let Some((start, level, slot)) = self.next_slot() {
            if start > now {
                break;
            }
            self.elapsed = start;
            let mut cursor = self.heads[level][slot].take();
            self.occupied[level] &= !(1 << slot);
            while let Some(key) = cursor {
                cursor = self.entries[key].next;
                self.fire_or_link(key, now, fired);
            }
            debug_assert!(
                self.heads[level][slot].is_none(),
                "a timer was re-filed into the slot being emptied"
            );
        }
        self.elapsed = now;
    }

    /// Time jumped by a ring or more: every pending timer is either due or re-filed
    /// against `now`, in one pass.
    #[cold]
    fn refile_all(&mut self, now: u64, fired: &mut Vec<Waker>) {
        self.heads = [[None; SLOTS]; LEVELS];
        self.occupied = [0; LEVELS];
        self.elapsed = now;
        let pending: Vec<usize> = self
            .entries
            .iter()
            .filter(|(_, entry)| !entry.fired)
            .map(|(key, _)| key)
            .collect();
        for key in pending {
            self.fire_or_link(key, now, fired);
        }
    }

    /// Fires unlinked timer `key` if its deadline is `<= now`, else links it again.
    fn fire_or_link(&mut self, key: usize, now: u64, fired: &mut Vec<Waker>) {
        let entry = &mut self.entries[key];
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

    /// The deadline timer `deadline` is filed under: itself, or for a deadline past the
    /// top ring, the last millisecond of the ring (see the module docs).
    fn filing_deadline(&self, deadline: u64) -> u64 {
        let top_slot_start = self.elapsed & !(TOP_SLOT_SPAN - 1);
        match top_slot_start.checked_add(RING) {
            Some(ring_end) => deadline.min(ring_end - 1),
            // In the last ring of `u64` time every deadline is within the ring.
            None => deadline,
        }
    }

    /// The level whose slots tell `deadline` (already past `elapsed` and within the top
    /// ring) apart from `elapsed`: the six-bit group of their highest differing bit.
    fn level_for(&self, deadline: u64) -> usize {
        let diff = (self.elapsed ^ deadline) | (SLOTS as u64 - 1);
        let significant = 63 - diff.leading_zeros();
        ((significant / SLOT_BITS) as usize).min(LEVELS - 1)
    }

    /// Links timer `key`, whose deadline is after `elapsed`, into its slot.
    fn link(&mut self, key: usize) {
        let deadline = self.filing_deadline(self.entries[key].deadline);
        debug_assert!(deadline > self.elapsed);
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
            drop(wheel.remove(k));
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
        let far = RING * 3 - 1;
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

    /// Runs `f` on its own thread; fails if it has not returned within 10 s (a spinning
    /// `advance` cannot be stopped, so the thread is left behind).
    fn terminates<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
        });
        match rx.recv_timeout(std::time::Duration::from_secs(10)) {
            Ok(Ok(value)) => value,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => panic!("{what}: `advance` did not terminate"),
        }
    }

    #[test]
    fn far_deadlines_after_time_moved_neither_spin_nor_look_imminent() {
        for deadline in [RING, RING * 3, u64::MAX / 2, u64::MAX] {
            terminates("far deadline", move || {
                let mut wheel = TimerWheel::new();
                fire_until(&mut wheel, 5);
                let k = wheel.insert(deadline, None);
                let next = wheel.next_expiration().unwrap();
                assert!(next > 5 + RING / 2, "{deadline}: next expiration {next}");
                fire_until(&mut wheel, 6);
                fire_until(&mut wheel, 1 << 31);
                assert!(!wheel.is_fired(k));
                let near = wheel.insert((1 << 31) + 10, None);
                fire_until(&mut wheel, (1 << 31) + 10);
                assert!(wheel.is_fired(near));
                assert!(!wheel.is_fired(k));
            });
        }
    }

    #[test]
    fn far_deadlines_fire_on_time_across_many_rings() {
        terminates("far deadline across rings", || {
            let mut wheel = TimerWheel::new();
            fire_until(&mut wheel, 12_345);
            let far = RING * 5 + 777;
            let k = wheel.insert(far, None);
            let mut t = 12_345;
            while !wheel.is_fired(k) {
                let next = wheel.next_expiration().unwrap();
                assert!(next > t, "progress: {next} after {t}");
                assert!(next <= far, "never beyond the deadline");
                t = next;
                fire_until(&mut wheel, t);
            }
            assert_eq!(t, far);
        });
    }

    /// One step of the model-based test.
    #[derive(Debug, Clone)]
    enum Op {
        /// Insert a timer `delta` ms after now.
        Insert(u64),
        Remove(usize),
        /// Move a timer to `delta` ms after now.
        Reset(usize, u64),
        /// Advance time by this many ms.
        Advance(u64),
    }

    /// How far ahead a deadline is: mostly near, but also around the top level, just past
    /// the wheel's range, and anywhere up to `u64::MAX`.
    fn delta() -> impl Strategy<Value = u64> {
        prop_oneof![
            4 => 0u64..5_000,
            2 => 0u64..(1 << 38),
            1 => (RING - 4096)..(RING + 4096),
            1 => any::<u64>(),
            1 => Just(u64::MAX),
        ]
    }

    /// How far time moves: mostly a little, sometimes by years, rarely to the end of time.
    fn step() -> impl Strategy<Value = u64> {
        prop_oneof![
            6 => 0u64..2_000,
            2 => 0u64..(1 << 32),
            1 => 0u64..(1 << 38),
            1 => any::<u64>(),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => delta().prop_map(Op::Insert),
            1 => any::<usize>().prop_map(Op::Remove),
            1 => (any::<usize>(), delta()).prop_map(|(i, d)| Op::Reset(i, d)),
            3 => step().prop_map(Op::Advance),
        ]
    }

    /// Runs `ops` on a wheel and a sorted map; after every step exactly the timers whose
    /// deadline passed have fired (never early, never late), and `next_expiration` is
    /// strictly in the future and no later than the earliest pending deadline.
    fn check_against_model(ops: Vec<Op>) -> Result<(), TestCaseError> {
        let mut wheel = TimerWheel::new();
        let mut model: BTreeMap<usize, u64> = BTreeMap::new();
        let mut now = 0u64;
        for op in ops {
            match op {
                Op::Insert(delta) => {
                    let deadline = now.saturating_add(delta);
                    model.insert(wheel.insert(deadline, None), deadline);
                }
                Op::Remove(i) if !model.is_empty() => {
                    let key = *model.keys().nth(i % model.len()).unwrap();
                    drop(wheel.remove(key));
                    model.remove(&key);
                }
                Op::Reset(i, delta) if !model.is_empty() => {
                    let key = *model.keys().nth(i % model.len()).unwrap();
                    let deadline = now.saturating_add(delta);
                    wheel.reset(key, deadline);
                    model.insert(key, deadline);
                }
                Op::Remove(_) | Op::Reset(..) => {}
                Op::Advance(step) => {
                    now = now.saturating_add(step);
                    fire_until(&mut wheel, now);
                }
            }
            for (&key, &deadline) in &model {
                prop_assert_eq!(
                    wheel.is_fired(key),
                    deadline <= now,
                    "key {} deadline {} now {}",
                    key,
                    deadline,
                    now
                );
            }
            let earliest = model.values().copied().filter(|&d| d > now).min();
            match (wheel.next_expiration(), earliest) {
                (None, None) => {}
                (Some(next), Some(earliest)) => {
                    prop_assert!(next > now, "next {} is not after now {}", next, now);
                    prop_assert!(next <= earliest, "next {} after {}", next, earliest);
                }
                (next, earliest) => {
                    prop_assert!(false, "next {:?} but earliest {:?}", next, earliest)
                }
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            failure_persistence: None,
            max_shrink_time: 60_000,
            ..ProptestConfig::default()
        })]

        /// The wheel agrees with a sorted map: after advancing to any time, exactly the
        /// timers whose deadline passed have fired; `next_expiration` never overshoots.
        #[test]
        fn matches_a_naive_model(ops in proptest::collection::vec((0u8..4, 0u64..20_000), 1..200)) {
            let ops = ops.into_iter().map(|(op, arg)| match op {
                0 | 1 => Op::Insert(arg),
                2 => Op::Remove(arg as usize),
                _ => Op::Advance(arg / 4),
            });
            check_against_model(ops.collect())?;
        }

        /// The same with deadlines anywhere up to `u64::MAX`, inserted and reset after time
        /// moved, time jumping by up to `u64::MAX`; each case must also terminate (a wheel
        /// that spins in `advance` fails it).
        #[test]
        fn matches_a_naive_model_at_the_edges_of_time(ops in proptest::collection::vec(op(), 1..120)) {
            terminates("model", move || check_against_model(ops))?;
        }

        /// A timer past the wheel's range, alone, does not make the driver wake soon: the
        /// next expiration is at least two top-level slots short of a full ring away.
        #[test]
        fn a_far_timer_alone_is_not_imminent(t in 0u64..(1 << 62), extra in any::<u64>()) {
            terminates("far timer", move || {
                let mut wheel = TimerWheel::new();
                fire_until(&mut wheel, t);
                let deadline = t + RING + extra % (u64::MAX - t - RING);
                let k = wheel.insert(deadline, None);
                let next = wheel.next_expiration().unwrap();
                prop_assert!(next >= t + RING - 2 * TOP_SLOT_SPAN, "next {} at {}", next, t);
                prop_assert!(next <= deadline);
                fire_until(&mut wheel, next - 1);
                prop_assert!(!wheel.is_fired(k));
                Ok(())
            })?;
        }
    }
}
