//! Stall detection: noticing a task that stays inside one poll for too long (a blocking
//! call on a worker), and reporting it from another thread — asyncio's debug-mode
//! "slow callback" warning, for a runtime whose workers must not block.
//!
//! Each worker (and the thread driving a current-thread runtime) owns a [`PollSlot`]: a
//! sequence number that is odd while a poll runs, and the id of the task being polled.
//! [`scheduler::run_task`](super::run_task) writes both around every poll — two relaxed
//! stores and a release store, no clock read — through a thread-local pointer that is
//! null when detection is off. A monitor thread samples the slots every quarter of the
//! threshold: a slot showing the same odd sequence number for at least the threshold is
//! one poll that long, reported once to the hook with the task's name and spawn location
//! (looked up in the task registry, on the monitor thread). The reported time is a lower
//! bound: a poll is seen up to one sampling period after it began.
//!
//! A poll nested in another (a `LocalSet` driven inside a task) takes the slot over and
//! hands it back to the outer task when it ends; a worker whose core `block_in_place`
//! moves away gives up its slot first, so a blocking closure is never reported.
use crate::scheduler;
use crate::task::Id;
use crossbeam_utils::CachePadded;
use parking_lot::{Condvar, Mutex};
use std::cell::Cell;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe, Location};
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The hook [`Builder::on_stall`](crate::runtime::Builder::on_stall) installs.
pub(crate) type StallHook = Arc<dyn Fn(&Stall) + Send + Sync>;

/// A task found inside one poll for longer than the stall threshold; see
/// [`Builder::on_stall`](crate::runtime::Builder::on_stall). `Debug` names the task.
#[derive(Debug, Clone)]
pub struct Stall {
    worker: usize,
    task: Id,
    name: Option<Box<str>>,
    location: Option<&'static Location<'static>>,
    elapsed: Duration,
}

impl Stall {
    /// The index of the stalled worker (0 on a current-thread runtime).
    pub fn worker(&self) -> usize {
        self.worker
    }

    /// The id of the task in the long poll.
    pub fn task_id(&self) -> Id {
        self.task
    }

    /// Its name, if it was spawned with one ([`task::Builder`](crate::task::Builder)).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Where it was spawned (`None` if it finished before the report was made).
    pub fn location(&self) -> Option<&'static Location<'static>> {
        self.location
    }

    /// How long the poll has run so far (at least; see the module docs).
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }
}

impl fmt::Display for Stall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task {}", self.task)?;
        if let Some(name) = &self.name {
            write!(f, " ({name:?})")?;
        }
        if let Some(location) = self.location {
            write!(f, ", spawned at {location},")?;
        }
        write!(
            f,
            " has been inside one poll for {:?} on worker {}",
            self.elapsed, self.worker
        )
    }
}

/// One worker's view for the monitor: see the module docs.
#[derive(Debug, Default)]
struct PollSlot {
    /// Odd while a poll runs.
    seq: AtomicU64,
    /// The id of the task being polled, while `seq` is odd.
    task: AtomicU64,
}

impl PollSlot {
    /// A poll of `task` begins; returns the task whose poll this one is nested in.
    fn begin(&self, task: u64) -> Option<u64> {
        let seq = self.seq.load(Ordering::Relaxed);
        let outer = (seq & 1 == 1).then(|| self.task.load(Ordering::Relaxed));
        self.task.store(task, Ordering::Relaxed);
        self.seq.store(seq + 1 + (seq & 1), Ordering::Release);
        outer
    }

    /// The poll ends; a nested one gives the slot back to `outer` (whose poll counts as
    /// starting anew).
    fn end(&self, outer: Option<u64>) {
        let seq = self.seq.load(Ordering::Relaxed);
        match outer {
            Some(outer) => {
                self.task.store(outer, Ordering::Relaxed);
                self.seq.store(seq + 2, Ordering::Release);
            }
            None => self.seq.store(seq + 1, Ordering::Release),
        }
    }
}

/// The stall detector of one runtime: its settings, its workers' slots, and the monitor
/// thread's stop signal.
pub(crate) struct StallMonitor {
    threshold: Duration,
    hook: StallHook,
    slots: Box<[CachePadded<PollSlot>]>,
    stalls: AtomicU64,
    stop: Mutex<bool>,
    stopped: Condvar,
}

impl fmt::Debug for StallMonitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StallMonitor")
            .field("threshold", &self.threshold)
            .field("workers", &self.slots.len())
            .finish_non_exhaustive()
    }
}

impl StallMonitor {
    pub(crate) fn new(threshold: Duration, hook: StallHook, workers: usize) -> Arc<Self> {
        Arc::new(StallMonitor {
            threshold: threshold.max(Duration::from_millis(1)),
            hook,
            slots: (0..workers.max(1))
                .map(|_| CachePadded::default())
                .collect(),
            stalls: AtomicU64::new(0),
            stop: Mutex::new(false),
            stopped: Condvar::new(),
        })
    }

    /// Stalls reported so far.
    pub(crate) fn stalls(&self) -> u64 {
        self.stalls.load(Ordering::Relaxed)
    }

    /// Starts the monitor thread for the runtime behind `handle`; it runs until
    /// [`MonitorThread`] is dropped.
    pub(crate) fn start(
        self: &Arc<Self>,
        handle: scheduler::Handle,
    ) -> std::io::Result<MonitorThread> {
        let monitor = self.clone();
        let thread = std::thread::Builder::new()
            .name("filch-stall-monitor".into())
            .spawn(move || monitor.run(&handle))?;
        Ok(MonitorThread {
            monitor: self.clone(),
            thread: Some(thread),
        })
    }

    fn run(&self, handle: &scheduler::Handle) {
        let period = (self.threshold / 4).max(Duration::from_millis(1));
        // Per slot: the odd sequence number seen, when first seen, and whether reported.
        let mut seen: Vec<Option<(u64, Instant, bool)>> = vec![None; self.slots.len()];
        let mut stop = self.stop.lock();
        loop {
            if *stop {
                return;
            }
            self.stopped.wait_for(&mut stop, period);
            if *stop {
                return;
            }
            let now = Instant::now();
            let mut found = Vec::new();
            for (worker, slot) in self.slots.iter().enumerate() {
                let seq = slot.seq.load(Ordering::Acquire);
                let task = slot.task.load(Ordering::Relaxed);
                if seq & 1 == 0 || slot.seq.load(Ordering::Acquire) != seq {
                    seen[worker] = None;
                    continue;
                }
                match &mut seen[worker] {
                    Some((s, since, reported)) if *s == seq => {
                        let elapsed = now - *since;
                        if !*reported && elapsed >= self.threshold {
                            *reported = true;
                            found.push((worker, task, elapsed));
                        }
                    }
                    entry => *entry = Some((seq, now, false)),
                }
            }
            if !found.is_empty() {
                // Report without the stop lock: the hook may take its time.
                drop(stop);
                for (worker, task, elapsed) in found {
                    self.report(handle, worker, task, elapsed);
                }
                stop = self.stop.lock();
            }
        }
    }

    fn report(&self, handle: &scheduler::Handle, worker: usize, task: u64, elapsed: Duration) {
        let Some(task) = Id::from_raw(task) else {
            return;
        };
        let mut stall = Stall {
            worker,
            task,
            name: None,
            location: None,
            elapsed,
        };
        handle.registry().for_each_header(|header| {
            if header.id == stall.task {
                stall.name.clone_from(&header.name);
                stall.location = Some(header.location);
            }
        });
        self.stalls.fetch_add(1, Ordering::Relaxed);
        // A panicking hook must not end the monitoring (the panic hook has printed it).
        let _ = catch_unwind(AssertUnwindSafe(|| (self.hook)(&stall)));
    }
}

/// The running monitor thread: dropping it (the runtime's shutdown) stops and joins it.
#[derive(Debug)]
pub(crate) struct MonitorThread {
    monitor: Arc<StallMonitor>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for MonitorThread {
    fn drop(&mut self) {
        *self.monitor.stop.lock() = true;
        self.monitor.stopped.notify_all();
        if let Some(thread) = self.thread.take() {
            // Never join from the monitor itself (a hook that drops the runtime).
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

/// The default hook of debug builds: one line on stderr.
pub(crate) fn warn_on_stderr(stall: &Stall) {
    eprintln!(
        "filch: {stall}: a blocking call in async code? (use spawn_blocking or \
         block_in_place; Builder::on_stall configures this warning)"
    );
}

thread_local! {
    /// This thread's slot while it drives a worker, or null. Points into the `slots` of a
    /// `StallMonitor` that the [`SlotGuard`] installing it keeps alive.
    static SLOT: Cell<*const PollSlot> = const { Cell::new(ptr::null()) };
}

/// Installs worker `index`'s slot as this thread's until dropped (then the previous one).
pub(crate) struct SlotGuard {
    _monitor: Option<Arc<StallMonitor>>,
    previous: *const PollSlot,
}

impl SlotGuard {
    pub(crate) fn enter(monitor: Option<&Arc<StallMonitor>>, index: usize) -> SlotGuard {
        let slot = monitor
            .and_then(|m| m.slots.get(index))
            .map_or(ptr::null(), |slot| &**slot as *const PollSlot);
        SlotGuard {
            _monitor: monitor.cloned(),
            previous: SLOT.with(|s| s.replace(slot)),
        }
    }
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        let _ = SLOT.try_with(|s| s.set(self.previous));
    }
}

/// `block_in_place` moved this thread's core to another thread: the poll in progress here
/// is no longer the worker's, and must neither be reported nor end the new thread's polls.
pub(crate) fn leave_slot() {
    let slot = SLOT.with(|s| s.replace(ptr::null()));
    if !slot.is_null() {
        // SAFETY: a non-null `SLOT` points into a monitor the thread's `SlotGuard` keeps
        // alive (the guard is still on this thread's stack, in `run_thread`).
        unsafe { &*slot }.end(None);
    }
}

/// Marks the slot of this thread for the poll of `task` until dropped.
pub(crate) struct PollGuard {
    slot: *const PollSlot,
    outer: Option<u64>,
}

impl PollGuard {
    #[inline]
    pub(crate) fn begin(task: Id) -> PollGuard {
        let slot = SLOT.with(Cell::get);
        let outer = if slot.is_null() {
            None
        } else {
            // SAFETY: as in `leave_slot`.
            unsafe { &*slot }.begin(task.as_u64())
        };
        PollGuard { slot, outer }
    }
}

impl Drop for PollGuard {
    #[inline]
    fn drop(&mut self) {
        // The slot may have been given up meanwhile (`leave_slot`): then it is no longer
        // this thread's to touch.
        if !self.slot.is_null() && SLOT.with(Cell::get) == self.slot {
            // SAFETY: as in `leave_slot`; the thread still owns the slot (checked above).
            unsafe { &*self.slot }.end(self.outer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PollSlot;
    use std::sync::atomic::Ordering;

    #[test]
    fn a_nested_poll_hands_the_slot_back_to_the_outer_one() {
        let slot = PollSlot::default();
        let outer = slot.begin(7);
        assert_eq!(outer, None);
        assert_eq!(slot.seq.load(Ordering::Relaxed) & 1, 1);
        let inner = slot.begin(8);
        assert_eq!(inner, Some(7));
        assert_eq!(slot.task.load(Ordering::Relaxed), 8);
        let during_inner = slot.seq.load(Ordering::Relaxed);
        slot.end(inner);
        assert_eq!(slot.task.load(Ordering::Relaxed), 7);
        let after = slot.seq.load(Ordering::Relaxed);
        assert_eq!(after & 1, 1, "the outer poll still runs");
        assert_ne!(after, during_inner, "and counts as a new stretch");
        slot.end(outer);
        assert_eq!(slot.seq.load(Ordering::Relaxed) & 1, 0);
    }
}
