//! [`LifoWatch`]: how a sleeping worker rescues tasks from the LIFO slots of workers stuck
//! in one poll.
//!
//! Thieves never take from a [`LifoSlot`](super::LifoSlot): a message and its reply should
//! run back to back on one worker. So a task left in a slot by a poll that then blocks its
//! thread (a synchronous call, a long computation) would wait for that poll, however many
//! workers sit idle: the starvation users report against tokio's unstealable slot. One
//! sleeping worker is therefore the *watcher*: it parks with a timeout and, every
//! [`LIFO_WATCH_INTERVAL`], looks at the other workers' slots. A worker whose slot holds a
//! task and which has not started a poll since the previous look (an interval ago) is stuck
//! in one poll: the watcher moves that task onto its own deque (with half of the stuck
//! worker's deque, where yields and spilled slot tasks wait unannounced) and gets up to
//! run it.
//!
//! # Who watches
//!
//! `Shared::lifo_watcher` is held by the watcher. A worker takes it when it goes to sleep
//! and nobody holds it, *before* it joins the sleepers, so that a push which sees a sleeper
//! also sees the watch; it then puts itself last in line for notifications
//! ([`Idle::wake_last`](super::Idle::wake_last)), so that new work goes to the other
//! sleepers and the watch is not handed back and forth. A watcher that is notified keeps the
//! watch while it searches, and gives it up only when it starts a poll
//! ([`LifoWatch::hand_off`]); if another slot holds a task then (pushed while the watch was
//! held, so nobody was told), it wakes a sleeper, which takes the watch when it parks again.
//!
//! A push into an empty slot while nobody watches wakes a sleeper (`push_local`), which
//! takes the watch when it parks again; with a watcher, a push costs one relaxed load.
//!
//! # Retiring
//!
//! A watcher that finds the other workers quiet (no poll started, no task in a slot) for
//! [`LIFO_WATCH_QUIET_LOOKS`] looks in a row gives the watch up, so that an idle runtime
//! makes no wakeups. It first clears the flag and looks once more an interval later: a push
//! that raced with the clearing either saw the flag cleared (and woke a sleeper) or is
//! visible to that last look, which takes the watch back if it finds anything. (This relies
//! on a store becoming visible to another core within an interval, which coherent caches
//! give in nanoseconds; were it ever missed, the task would wait for its worker's poll, as
//! it would without a watcher.)
use super::{bump, Shared};
use crate::task::Runnable;
use std::cell::Cell;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// How often the watcher looks at the other workers' LIFO slots: a task left in a slot
/// behind a poll that blocks its worker runs elsewhere within about two of these.
pub(super) const LIFO_WATCH_INTERVAL: Duration = Duration::from_millis(1);

/// Looks in a row that find every other worker quiet before the watcher retires.
const LIFO_WATCH_QUIET_LOOKS: u32 = 2;

/// One worker's part in the LIFO watch (only its owner touches it); see the module docs.
#[derive(Debug)]
pub(super) struct LifoWatch {
    /// Whether this worker is the watcher (holds `Shared::lifo_watcher`, unless retiring).
    watching: Cell<bool>,
    /// Retiring: the flag is cleared, one last look is due (module docs).
    retiring: Cell<bool>,
    /// When the next look is due: an interval after the last, however often the timed park
    /// returns early (a driver hand-over, a stray token).
    next_look: Cell<Instant>,
    /// Looks in a row that found the others quiet.
    quiet_looks: Cell<u32>,
    /// Each worker's poll count at the last look.
    polls_seen: Box<[Cell<u64>]>,
}

impl LifoWatch {
    pub(super) fn new(workers: usize) -> Self {
        Self {
            watching: Cell::new(false),
            retiring: Cell::new(false),
            next_look: Cell::new(Instant::now()),
            quiet_looks: Cell::new(0),
            polls_seen: (0..workers).map(|_| Cell::new(0)).collect(),
        }
    }

    /// Whether this worker watches (and so parks with a timeout).
    #[inline]
    pub(super) fn is_watching(&self) -> bool {
        self.watching.get()
    }

    /// Takes the watch if nobody holds it (and there is anyone to watch): called by a
    /// worker about to sleep, before it joins the sleepers. `true` if it watches now.
    pub(super) fn try_start(&self, shared: &Shared) -> bool {
        if self.watching.get() {
            return true;
        }
        if shared.lifo.len() < 2
            || shared.is_shutting_down()
            || shared.lifo_watcher.load(Ordering::Relaxed)
            || shared.lifo_watcher.swap(true, Ordering::Relaxed)
        {
            return false;
        }
        self.watching.set(true);
        self.retiring.set(false);
        self.quiet_looks.set(0);
        self.next_look.set(Instant::now() + LIFO_WATCH_INTERVAL);
        for (counters, seen) in shared.counters.iter().zip(&*self.polls_seen) {
            seen.set(counters.polls.load(Ordering::Relaxed));
        }
        true
    }

    /// How long the watcher may sleep before its next look is due.
    pub(super) fn until_next_look(&self) -> Duration {
        self.next_look
            .get()
            .saturating_duration_since(Instant::now())
    }

    /// The watcher's look, if one is due (see the module docs): rescues the tasks of
    /// stuck workers onto `local` (the watcher's own deque, at `index`), waking a sleeper
    /// if it took more than it can run next, and retires once the runtime is quiet.
    pub(super) fn look(
        &self,
        shared: &Shared,
        index: usize,
        local: &crossbeam_deque::Worker<Runnable>,
    ) {
        let now = Instant::now();
        if !self.watching.get() || now < self.next_look.get() {
            // Woken early: a poll count unchanged since a moment ago proves nothing.
            return;
        }
        self.next_look.set(now + LIFO_WATCH_INTERVAL);
        let mut quiet = true;
        let mut rescued = 0;
        for (victim, seen) in self.polls_seen.iter().enumerate() {
            if victim == index {
                continue;
            }
            let polls = shared.counters[victim].polls.load(Ordering::Relaxed);
            let moved = seen.replace(polls) != polls;
            let slot = &shared.lifo[victim];
            let deque = &shared.stealers[victim];
            if !slot.is_occupied() && deque.is_empty() {
                quiet &= !moved;
                continue;
            }
            quiet = false;
            if moved || shared.is_shutting_down() {
                continue;
            }
            if let Some(task) = slot.steal() {
                local.push(task);
                rescued += 1;
            }
            // Its deque too: a yield, or a slot task spilled after its LIFO polls, lands
            // there unannounced, and the stuck worker's own maintenance cannot tell anyone.
            let before = local.len();
            if deque.steal_batch(local).is_success() {
                rescued += local.len().saturating_sub(before) as u64;
            }
        }
        if rescued > 0 {
            let counters = &shared.counters[index];
            bump(&counters.steals, 1);
            bump(&counters.stolen_tasks, rescued);
        }
        if local.len() > 1 {
            // More than this worker runs next, in a deque nobody was told about.
            shared.notify_parked();
        }
        if !quiet {
            self.quiet_looks.set(0);
            if self.retiring.replace(false) && shared.lifo_watcher.swap(true, Ordering::Relaxed) {
                // Somebody else took the watch since we cleared it.
                self.watching.set(false);
            }
            return;
        }
        self.quiet_looks.set(self.quiet_looks.get() + 1);
        if self.retiring.replace(false) {
            // The last look, an interval after the flag was cleared, found nothing either.
            self.watching.set(false);
        } else if self.quiet_looks.get() >= LIFO_WATCH_QUIET_LOOKS {
            shared.lifo_watcher.store(false, Ordering::Relaxed);
            self.retiring.set(true);
        }
    }

    /// The watcher is about to run a task: it gives the watch up, and if a slot holds a
    /// task (pushed while it watched, so nobody was told), wakes a sleeper to take over.
    #[cold]
    pub(super) fn hand_off(&self, shared: &Shared, index: usize) {
        self.stop(shared);
        let occupied = shared
            .lifo
            .iter()
            .enumerate()
            .any(|(i, slot)| i != index && slot.is_occupied());
        if occupied {
            shared.notify_parked();
        }
    }

    /// Gives the watch up, if this worker holds it.
    pub(super) fn stop(&self, shared: &Shared) {
        if self.watching.replace(false) && !self.retiring.replace(false) {
            shared.lifo_watcher.store(false, Ordering::Relaxed);
        }
    }
}
