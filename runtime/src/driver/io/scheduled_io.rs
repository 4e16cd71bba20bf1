//! [`ScheduledIo`]: the readiness of one registered source, and who waits on it.
//!
//! # Readiness protocol
//!
//! `readiness` packs the ready bits ([`Ready`]) with a *tick* that the driver bumps on
//! every event it delivers for this source. A reader that gets `WouldBlock` clears the
//! readable bit with [`ScheduledIo::clear_ready`], passing the tick it observed when it
//! saw the source ready: the clear is a compare-and-swap that fails if the tick changed,
//! so an event that arrived between the failed syscall and the clear is never lost.
//!
//! With edge-triggered polling the OS reports each transition to ready once, so the bit
//! must stay set until an operation actually returns `WouldBlock`; that is exactly when it
//! is cleared.
//!
//! An operation may wait on both directions at once (an [`Interest`] of readable and
//! writable, as `ready(Interest::READABLE | Interest::WRITABLE)` asks): its waker joins both
//! waiter sets and the first event in either direction wakes it (the other copy is woken,
//! spuriously, by a later event; see below). Every observation a caller may clear later
//! ([`ReadyEvent`]) carries the tick it was made at, including the ones a guard of
//! `AsyncFd` holds across user code: [`ScheduledIo::clear_ready`] clears only the bits the
//! observation saw, and only if no event came since.
//!
//! Wakers: a [`Waiters`] set for the reading side and one for the writing side, each behind
//! a small lock. Usually each holds one waker (a split stream has one task on each side),
//! kept inline; several tasks may wait on one direction (say, two accept loops on one
//! listener), and then all of them are woken by the next event and race for it, the losers
//! registering again. A waiter that gave up stays until the next event, which wakes it
//! spuriously (harmless). So that waiters which gave up cannot pile up on a source that
//! sees no event for a long time (many short-lived pollers of one idle socket, each
//! dropped by a timeout), a direction keeps at most [`MAX_WAITERS`] of them: registering
//! one more wakes the ones already stored first. Those still interested poll again and
//! register again; the others are gone.
use super::interest::Interest;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

/// Readiness bits of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ready(usize);

impl Ready {
    pub(crate) const EMPTY: Ready = Ready(0);
    pub(crate) const READABLE: Ready = Ready(0b0001);
    pub(crate) const WRITABLE: Ready = Ready(0b0010);
    pub(crate) const READ_CLOSED: Ready = Ready(0b0100);
    pub(crate) const WRITE_CLOSED: Ready = Ready(0b1000);
    /// The driver shut down: every operation fails from now on.
    pub(crate) const SHUTDOWN: Ready = Ready(0b1_0000);
    /// The bits an operation's `WouldBlock` may clear.
    #[cfg(test)]
    const ALL_IO: Ready = Ready(0b0011);
    const MASK: usize = 0b1_1111;

    pub(crate) fn contains(self, other: Ready) -> bool {
        self.0 & other.0 == other.0
    }
    pub(crate) fn intersects(self, other: Ready) -> bool {
        self.0 & other.0 != 0
    }
    pub(crate) fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The ready bits that let an operation with `interest` proceed: the union of the
    /// masks of its directions.
    pub(crate) fn of_interest(interest: Interest) -> Ready {
        let mut mask = Ready::EMPTY;
        if interest.is_readable() {
            mask = mask | Direction::Read.mask();
        }
        if interest.is_writable() {
            mask = mask | Direction::Write.mask();
        }
        mask
    }

    /// The bits the public [`super::ready::Ready`] shows: all but `SHUTDOWN`.
    pub(crate) fn to_public(self) -> super::ready::Ready {
        super::ready::Ready::from_bits(self.0)
    }

    /// The driver's form of a public [`super::ready::Ready`].
    pub(crate) fn from_public(ready: super::ready::Ready) -> Ready {
        Ready(ready.bits())
    }
}

// The public `Ready` uses the driver's bit values, so converting is masking.
const _: () = {
    assert!(Ready::READABLE.0 == super::ready::Ready::READABLE.bits());
    assert!(Ready::WRITABLE.0 == super::ready::Ready::WRITABLE.bits());
    assert!(Ready::READ_CLOSED.0 == super::ready::Ready::READ_CLOSED.bits());
    assert!(Ready::WRITE_CLOSED.0 == super::ready::Ready::WRITE_CLOSED.bits());
    assert!(super::ready::Ready::ALL.bits() & Ready::SHUTDOWN.0 == 0);
};

impl std::ops::BitAnd for Ready {
    type Output = Ready;
    fn bitand(self, rhs: Ready) -> Ready {
        Ready(self.0 & rhs.0)
    }
}

impl std::ops::BitOr for Ready {
    type Output = Ready;
    fn bitor(self, rhs: Ready) -> Ready {
        Ready(self.0 | rhs.0)
    }
}

/// Which side of a source an operation is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

impl Direction {
    /// The ready bits that let an operation of this direction proceed (including the
    /// closed/shutdown bits, which make it return its error or EOF).
    pub(crate) fn mask(self) -> Ready {
        match self {
            Direction::Read => Ready::READABLE | Ready::READ_CLOSED | Ready::SHUTDOWN,
            Direction::Write => Ready::WRITABLE | Ready::WRITE_CLOSED | Ready::SHUTDOWN,
        }
    }

    /// The [`Interest`] of this one direction.
    pub(crate) fn interest(self) -> Interest {
        match self {
            Direction::Read => Interest::READABLE,
            Direction::Write => Interest::WRITABLE,
        }
    }
}

/// A readiness observation: the bits and the tick they were seen at.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadyEvent {
    pub(crate) ready: Ready,
    tick: usize,
}

impl ReadyEvent {
    /// The driver tick the bits were seen at (tests).
    #[cfg(test)]
    pub(crate) fn tick(self) -> usize {
        self.tick
    }

    /// The same observation, keeping only the bits in `mask`.
    pub(crate) fn with_only(self, mask: Ready) -> ReadyEvent {
        ReadyEvent {
            ready: self.ready & mask,
            tick: self.tick,
        }
    }

    /// The same observation without the `READABLE`/`WRITABLE` bits of `ready` (what
    /// [`ScheduledIo::clear_ready`] may remove).
    pub(crate) fn without_io_bits(self, ready: Ready) -> ReadyEvent {
        let io_bits = ready.0 & (Ready::READABLE.0 | Ready::WRITABLE.0);
        ReadyEvent {
            ready: Ready(self.ready.0 & !io_bits),
            tick: self.tick,
        }
    }
}

const TICK_SHIFT: u32 = 8;

/// Most wakers one direction of a source stores; see the module docs.
const MAX_WAITERS: usize = 64;

/// The tasks waiting on one direction of a source: the first inline (the common case costs
/// no allocation), any others in a `Vec` (at most [`MAX_WAITERS`] in all).
#[derive(Debug, Default)]
pub(crate) struct Waiters {
    first: Option<Waker>,
    rest: Vec<Waker>,
}

impl Waiters {
    /// Adds `waker` unless an equivalent one is already waiting. When the set is full,
    /// returns the wakers it held for the caller to wake (outside the lock) and starts
    /// over with `waker`.
    #[must_use]
    fn register(&mut self, waker: &Waker) -> Option<Waiters> {
        match &self.first {
            None => self.first = Some(waker.clone()),
            Some(first) if first.will_wake(waker) => {}
            Some(_) => {
                if self.rest.iter().any(|w| w.will_wake(waker)) {
                    return None;
                }
                if 1 + self.rest.len() >= MAX_WAITERS {
                    let evicted = std::mem::take(self);
                    self.first = Some(waker.clone());
                    return Some(evicted);
                }
                self.rest.push(waker.clone());
            }
        }
        None
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }

    fn wake_all(self) {
        if let Some(first) = self.first {
            first.wake();
        }
        for waker in self.rest {
            waker.wake();
        }
    }
}

/// Per-source state shared by the driver and the source's owner.
#[derive(Debug, Default)]
pub(crate) struct ScheduledIo {
    /// `tick << TICK_SHIFT | ready bits`; see the module docs.
    readiness: AtomicUsize,
    reader: Mutex<Waiters>,
    writer: Mutex<Waiters>,
}

impl ScheduledIo {
    /// Called by the driver for an event: sets `ready`, bumps the tick, wakes the waiters
    /// of the directions concerned.
    pub(crate) fn set_readiness(&self, ready: Ready) {
        let mut current = self.readiness.load(Ordering::Acquire);
        loop {
            let tick = (current >> TICK_SHIFT).wrapping_add(1);
            let next = (tick << TICK_SHIFT) | ((current | ready.0) & Ready::MASK);
            match self.readiness.compare_exchange_weak(
                current,
                next,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(actual) => current = actual,
            }
        }
        if ready.intersects(Direction::Read.mask()) {
            let waiters = std::mem::take(&mut *self.reader.lock());
            waiters.wake_all();
        }
        if ready.intersects(Direction::Write.mask()) {
            let waiters = std::mem::take(&mut *self.writer.lock());
            waiters.wake_all();
        }
    }

    /// The current readiness, without registering interest. (`pub(crate)` for
    /// [`Registration::try_io`](super::Registration::try_io), added with `filch::net`.)
    pub(crate) fn load(&self) -> ReadyEvent {
        let raw = self.readiness.load(Ordering::Acquire);
        ReadyEvent {
            ready: Ready(raw & Ready::MASK),
            tick: raw >> TICK_SHIFT,
        }
    }

    /// Ready if the source is ready in `direction`; otherwise stores the waker (and checks
    /// once more, so an event racing with the registration is not missed). (Tests: the
    /// callers go through [`poll_interest`](Self::poll_interest).)
    #[cfg(test)]
    pub(crate) fn poll_ready(
        &self,
        direction: Direction,
        cx: &mut Context<'_>,
    ) -> Poll<ReadyEvent> {
        self.poll_interest(direction.interest(), cx)
    }

    /// Ready if the source is ready in any direction of `interest`; otherwise stores the
    /// waker in the waiter set of each of those directions, then checks once more (an
    /// event racing with the registration is not missed). The event returned holds all
    /// the bits seen; callers keep those of their interest ([`ReadyEvent::with_only`]).
    pub(crate) fn poll_interest(
        &self,
        interest: Interest,
        cx: &mut Context<'_>,
    ) -> Poll<ReadyEvent> {
        let mask = Ready::of_interest(interest);
        let event = self.load();
        if event.ready.intersects(mask) {
            return Poll::Ready(event);
        }
        for (wanted, slot) in [
            (interest.is_readable(), &self.reader),
            (interest.is_writable(), &self.writer),
        ] {
            if !wanted {
                continue;
            }
            let evicted = slot.lock().register(cx.waker());
            if let Some(evicted) = evicted {
                evicted.wake_all();
            }
        }
        let event = self.load();
        if event.ready.intersects(mask) {
            Poll::Ready(event)
        } else {
            Poll::Pending
        }
    }

    /// Clears the ready bit of `direction` seen in `event`, unless a newer event arrived
    /// since (its tick changed). The closed/shutdown bits are never cleared. (Tests: the
    /// callers go through [`clear_ready`](Self::clear_ready).)
    #[cfg(test)]
    pub(crate) fn clear_readiness(&self, event: ReadyEvent, direction: Direction) {
        let bit = match direction {
            Direction::Read => Ready::READABLE,
            Direction::Write => Ready::WRITABLE,
        };
        self.clear_ready(event, bit);
    }

    /// Clears the `READABLE`/`WRITABLE` bits of `ready` that `event` saw set, unless a
    /// newer event arrived since (its tick changed). The closed/shutdown bits are never
    /// cleared.
    pub(crate) fn clear_ready(&self, event: ReadyEvent, ready: Ready) {
        let clear = (ready & event.ready & (Ready::READABLE | Ready::WRITABLE)).0;
        if clear == 0 {
            return;
        }
        let mut current = self.readiness.load(Ordering::Acquire);
        loop {
            if current >> TICK_SHIFT != event.tick {
                return;
            }
            let next = current & !clear;
            match self.readiness.compare_exchange_weak(
                current,
                next,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return,
                Err(actual) => current = actual,
            }
        }
    }

    /// Number of wakers stored for `direction` (tests).
    #[cfg(test)]
    fn num_waiters(&self, direction: Direction) -> usize {
        match direction {
            Direction::Read => self.reader.lock().len(),
            Direction::Write => self.writer.lock().len(),
        }
    }

    /// Drops stored wakers (on deregistration).
    pub(crate) fn clear_wakers(&self) {
        drop(std::mem::take(&mut *self.reader.lock()));
        drop(std::mem::take(&mut *self.writer.lock()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_clear_does_not_erase_a_newer_event() {
        let io = ScheduledIo::default();
        io.set_readiness(Ready::READABLE);
        let mut cx = Context::from_waker(Waker::noop());
        let Poll::Ready(seen) = io.poll_ready(Direction::Read, &mut cx) else {
            panic!()
        };
        // A new edge arrives after our read returned WouldBlock but before we clear.
        io.set_readiness(Ready::READABLE);
        io.clear_readiness(seen, Direction::Read);
        assert!(
            io.poll_ready(Direction::Read, &mut cx).is_ready(),
            "newer event kept"
        );
        let Poll::Ready(seen) = io.poll_ready(Direction::Read, &mut cx) else {
            panic!()
        };
        io.clear_readiness(seen, Direction::Read);
        assert!(io.poll_ready(Direction::Read, &mut cx).is_pending());
    }

    #[test]
    fn clear_ready_clears_only_the_bits_seen_and_only_at_their_tick() {
        let io = ScheduledIo::default();
        io.set_readiness(Ready::READABLE | Ready::WRITABLE);
        let both = Interest::READABLE | Interest::WRITABLE;
        let mut cx = Context::from_waker(Waker::noop());
        let Poll::Ready(seen) = io.poll_interest(both, &mut cx) else {
            panic!()
        };
        // A guard that asked only for reading holds only the readable bit.
        io.clear_ready(seen.with_only(Direction::Read.mask()), Ready::ALL_IO);
        assert!(io.poll_ready(Direction::Read, &mut cx).is_pending());
        assert!(io.poll_ready(Direction::Write, &mut cx).is_ready());
        // A new event between the observation and the clear wins.
        let Poll::Ready(seen) = io.poll_interest(both, &mut cx) else {
            panic!()
        };
        io.set_readiness(Ready::WRITABLE);
        io.clear_ready(seen, Ready::ALL_IO);
        assert!(io.poll_ready(Direction::Write, &mut cx).is_ready());
    }

    #[test]
    fn closed_and_shutdown_bits_stick() {
        let io = ScheduledIo::default();
        io.set_readiness(Ready::READ_CLOSED);
        let mut cx = Context::from_waker(Waker::noop());
        let Poll::Ready(seen) = io.poll_ready(Direction::Read, &mut cx) else {
            panic!()
        };
        io.clear_readiness(seen, Direction::Read);
        assert!(io.poll_ready(Direction::Read, &mut cx).is_ready());
        assert!(io.poll_ready(Direction::Write, &mut cx).is_pending());
    }
}

#[cfg(test)]
mod waiter_tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// `n` wake counters, and a waiter on `io`'s read side for each.
    fn register_readers(io: &ScheduledIo, n: usize) -> Vec<Arc<Count>> {
        let counts: Vec<_> = (0..n)
            .map(|_| Arc::new(Count(AtomicUsize::new(0))))
            .collect();
        for count in &counts {
            let waker = Waker::from(count.clone());
            let mut cx = Context::from_waker(&waker);
            assert!(io.poll_ready(Direction::Read, &mut cx).is_pending());
            // Registering the same waker twice keeps one entry.
            assert!(io.poll_ready(Direction::Read, &mut cx).is_pending());
        }
        counts
    }

    #[test]
    fn a_task_waiting_on_both_directions_is_woken_by_either() {
        for event in [Ready::READABLE, Ready::WRITABLE] {
            let io = ScheduledIo::default();
            let count = Arc::new(Count(AtomicUsize::new(0)));
            let waker = Waker::from(count.clone());
            let mut cx = Context::from_waker(&waker);
            let both = Interest::READABLE | Interest::WRITABLE;
            assert!(io.poll_interest(both, &mut cx).is_pending());
            io.set_readiness(event);
            assert_eq!(count.0.load(Ordering::SeqCst), 1, "{event:?}");
            let Poll::Ready(seen) = io.poll_interest(both, &mut cx) else {
                panic!()
            };
            assert_eq!(seen.ready, event);
        }
    }

    #[test]
    fn every_task_waiting_on_a_direction_is_woken() {
        let io = ScheduledIo::default();
        let counts = register_readers(&io, 3);
        io.set_readiness(Ready::READABLE);
        for count in &counts {
            assert_eq!(count.0.load(Ordering::SeqCst), 1);
        }
    }

    #[test]
    fn waiters_that_gave_up_do_not_pile_up_on_an_idle_source() {
        let io = ScheduledIo::default();
        // Each task registers, then gives up: its waker is never registered again.
        let counts = register_readers(&io, 10 * MAX_WAITERS);
        assert!(io.num_waiters(Direction::Read) <= MAX_WAITERS);
        // The evicted ones were woken (so a live one would have registered again).
        let woken = counts
            .iter()
            .filter(|c| c.0.load(Ordering::SeqCst) == 1)
            .count();
        assert_eq!(woken + io.num_waiters(Direction::Read), counts.len());
    }
}
