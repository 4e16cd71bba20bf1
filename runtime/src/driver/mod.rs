//! The driver: the one place a runtime waits on the OS.
//!
//! One [`Driver`] per runtime owns a [`polling::Poller`] (epoll/kqueue), the table of
//! registered sources ([`io`]) and the timer wheels ([`time`]). It has no thread of its own:
//! a worker that runs out of work and finds the driver free takes its lock
//! ([`Driver::try_lock`]) and blocks in `Poller::wait`, with the timeout of the next timer;
//! other idle workers sleep on their condvars. Whoever has new work for the worker blocked
//! in the driver wakes it with [`Driver::unpark`] (`Poller::notify`). Busy workers also poll
//! the driver without blocking every few dozen tasks ([`DriverGuard::poll_now`]), so I/O and
//! timers are served even when nobody is idle; that look costs one syscall when nothing
//! happened, and none when no source and no due timer exist.
//!
//! After waiting, the lock holder dispatches: each event sets its source's readiness and
//! wakes the tasks waiting on it (they land on the lock holder's own run queue, since it is
//! a worker), then due timers fire.
pub(crate) mod io;
pub(crate) mod time;

use io::{Ready, ScheduledIo};
use parking_lot::{Mutex, MutexGuard};
use polling::{Event, Events, PollMode, Poller};
use slab::Slab;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;
use time::TimeDriver;

/// The poller token of a registration: its slab key in the low 32 bits, its generation in
/// the high 32, so a token is never reused while an event carrying it may be in flight (a
/// key is reused as soon as its source is gone; the same key and generation come back only
/// after 2^32 registrations). On a 32-bit target the token is the key alone.
fn token(key: usize, generation: u64) -> usize {
    assert!(
        key < u32::MAX as usize,
        "more than 2^32 I/O sources registered at once"
    );
    ((generation << 32) | key as u64) as usize
}

/// The slab key inside a poller token.
fn slab_key(token: usize) -> usize {
    (token as u64 & u64::from(u32::MAX)) as usize
}

/// The OS poller, the registered sources and the timers of one runtime.
#[derive(Debug)]
pub(crate) struct Driver {
    poller: Poller,
    /// Held by the thread that waits on the poller; also owns the buffers it dispatches with.
    waiter: Mutex<WaitState>,
    /// Registered sources by slab key, each with the poller token it was registered under
    /// (see [`token`]).
    sources: Mutex<Slab<(usize, Arc<ScheduledIo>)>>,
    /// Registrations so far: the generation half of each poller token.
    registrations: AtomicU64,
    /// Sources in the poller now (a relaxed count beside the table, so that
    /// [`DriverGuard::poll_now`] need not lock it).
    live_sources: AtomicUsize,
    pub(crate) time: TimeDriver,
    shutdown: AtomicBool,
    /// Number of I/O events dispatched (metrics).
    events_dispatched: AtomicU64,
}

/// Buffers reused across waits (allocation-free steady state).
#[derive(Debug)]
struct WaitState {
    events: Events,
    ready: Vec<(Arc<ScheduledIo>, Ready)>,
    fired: Vec<Waker>,
    /// The last [`DriverGuard::poll_now`] found events: events keep coming, so the next
    /// one waits on the poller straight away instead of looking first.
    busy: bool,
}

/// Proof of holding the driver: only its holder waits on the poller.
pub(crate) struct DriverGuard<'a> {
    driver: &'a Driver,
    state: MutexGuard<'a, WaitState>,
}

impl Driver {
    /// Opens the OS poller; timers are spread over `timer_shards` wheels (one per worker:
    /// see [`TimeDriver`]).
    ///
    /// # Errors
    ///
    /// The OS error if the poller cannot be created, or `Unsupported` on a platform whose
    /// poller has no edge-triggered mode.
    pub(crate) fn new(timer_shards: usize) -> std::io::Result<Arc<Driver>> {
        let poller = Poller::new()?;
        if !poller.supports_edge() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "filch needs an edge-triggered OS poller (epoll or kqueue)",
            ));
        }
        Ok(Arc::new(Driver {
            poller,
            waiter: Mutex::new(WaitState {
                events: Events::new(),
                ready: Vec::new(),
                fired: Vec::new(),
                busy: false,
            }),
            sources: Mutex::new(Slab::new()),
            registrations: AtomicU64::new(0),
            live_sources: AtomicUsize::new(0),
            time: TimeDriver::new(timer_shards),
            shutdown: AtomicBool::new(false),
            events_dispatched: AtomicU64::new(0),
        }))
    }

    /// Takes the driver if nobody holds it.
    pub(crate) fn try_lock(&self) -> Option<DriverGuard<'_>> {
        self.waiter.try_lock().map(|state| DriverGuard {
            driver: self,
            state,
        })
    }

    /// Wakes the thread blocked in the poller, if any (else the next wait returns at once).
    pub(crate) fn unpark(&self) {
        // Only fails if the poller is gone, which cannot happen while `self` lives.
        let _ = self.poller.notify();
    }

    /// Registers `fd` for read and write readiness (edge-triggered).
    ///
    /// # Errors
    ///
    /// The OS error from the poller; an error if the runtime has shut down.
    pub(crate) fn register(
        &self,
        fd: BorrowedFd<'_>,
    ) -> std::io::Result<(usize, Arc<ScheduledIo>)> {
        let io = Arc::new(ScheduledIo::default());
        let generation = self.registrations.fetch_add(1, Ordering::Relaxed);
        let (key, token) = {
            // The flag is read under the table's lock, which `shutdown` takes after raising
            // it: either this source is in the table `shutdown` marks, or it sees the flag.
            let mut sources = self.sources.lock();
            if self.shutdown.load(Ordering::Acquire) {
                return Err(shutdown_error());
            }
            let entry = sources.vacant_entry();
            let (key, token) = (entry.key(), token(entry.key(), generation));
            entry.insert((token, io.clone()));
            (key, token)
        };
        // SAFETY: `add_with_mode` requires the source to be deleted from the poller before
        // it is closed. Every caller is a `Registration`, whose owner (`PollEvented`)
        // deregisters in its `Drop` before dropping the I/O object that owns the fd.
        let added = unsafe {
            self.poller
                .add_with_mode(fd.as_raw_fd(), Event::all(token), PollMode::Edge)
        };
        if let Err(err) = added {
            self.sources.lock().remove(key);
            return Err(err);
        }
        self.live_sources.fetch_add(1, Ordering::Relaxed);
        Ok((key, io))
    }

    /// Removes `fd` (registered under `key`) from the poller and the source table.
    pub(crate) fn deregister(&self, key: usize, fd: BorrowedFd<'_>) -> std::io::Result<()> {
        let removed = self.sources.lock().try_remove(key);
        if let Some((_, io)) = removed {
            io.clear_wakers();
            self.live_sources.fetch_sub(1, Ordering::Relaxed);
        }
        self.poller.delete(fd)
    }

    /// Marks the runtime as shut down: every registered source reports `SHUTDOWN` (so its
    /// operations fail instead of waiting forever) and new registrations are refused.
    pub(crate) fn shutdown(&self) {
        self.shutdown.store(true, Ordering::Release);
        // Pending timers wake (and panic when polled: see `filch::time`).
        self.time.shutdown();
        let sources: Vec<_> = self
            .sources
            .lock()
            .iter()
            .map(|(_, (_, io))| io.clone())
            .collect();
        for io in sources {
            io.set_readiness(Ready::SHUTDOWN);
        }
        self.unpark();
    }

    /// Number of registered sources.
    pub(crate) fn num_sources(&self) -> usize {
        self.sources.lock().len()
    }

    /// Number of I/O events dispatched so far.
    pub(crate) fn num_events(&self) -> u64 {
        self.events_dispatched.load(Ordering::Relaxed)
    }
}

impl DriverGuard<'_> {
    /// Waits for I/O events or the next timer (and at most `max`, if given), then
    /// dispatches what happened. `Some(Duration::ZERO)` polls without blocking.
    pub(crate) fn park(&mut self, max: Option<Duration>) {
        let driver = self.driver;
        let state = &mut *self.state;
        let blocking = max != Some(Duration::ZERO);
        // Timers due now fire before the wait, which then does not block (their tasks may
        // be on this very worker's queue: nobody would wake us for them).
        let timer = driver.time.process(blocking, &mut state.fired);
        let timeout = match (timer, max) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        state.events.clear();
        // An error here is EINTR or similar: treat it as a spurious wakeup.
        let _ = driver.poller.wait(&mut state.events, timeout);
        crate::task::stats::advance_coarse_clock();
        if blocking {
            driver.time.woke();
        }
        self.dispatch();
        driver.time.process(false, &mut self.state.fired);
    }

    /// Serves I/O events and due timers without blocking: the periodic look of a busy
    /// scheduler (and of one about to jump a paused clock). Does what a zero-timeout
    /// [`park`](Self::park) does, minus the work that would find nothing, which is the
    /// common case: the wheels are only locked once a timer may be due
    /// ([`TimeDriver::may_be_due`]), and the poller only waited on when it may hold events.
    /// `polling`'s wait costs five syscalls even with a zero timeout (it re-arms a timerfd
    /// and its notifier); asking the poller's own fd whether it is readable costs one, and
    /// nothing when no source is registered.
    pub(crate) fn poll_now(&mut self) {
        let driver = self.driver;
        crate::task::stats::advance_coarse_clock();
        if driver.time.may_be_due() {
            driver.time.process(false, &mut self.state.fired);
        }
        if !self.may_have_events() {
            self.state.busy = false;
            return;
        }
        let state = &mut *self.state;
        state.events.clear();
        // An error here is EINTR or similar: nothing was received.
        let _ = driver.poller.wait(&mut state.events, Some(Duration::ZERO));
        state.busy = !state.events.is_empty();
        self.dispatch();
    }

    /// Whether the poller may hold events: some source is registered, and the last look
    /// found events or the poller's fd polls readable (an epoll or kqueue fd is readable
    /// while events are queued in it). `true` when unsure.
    fn may_have_events(&self) -> bool {
        if self.driver.live_sources.load(Ordering::Relaxed) == 0 {
            // Nothing to hear from; a notification left unconsumed only makes the next
            // blocking wait return at once, as after any `notify`.
            return false;
        }
        if self.state.busy {
            return true;
        }
        let mut fd = libc::pollfd {
            fd: self.driver.poller.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: `fd` is one valid, writable `pollfd` (the count passed is 1), and the
        // poller's descriptor stays open while `self.driver` lives; a zero timeout never
        // blocks.
        let n = unsafe { libc::poll(&mut fd, 1, 0) };
        n != 0
    }

    fn dispatch(&mut self) {
        let state = &mut *self.state;
        if state.events.is_empty() {
            return;
        }
        {
            let sources = self.driver.sources.lock();
            for event in state.events.iter() {
                // An event is for the registration whose token it carries: one taken from
                // the poller before its source was deregistered may be dispatched after
                // another source took the same slab key, and must not reach it (a stale
                // hang-up would mark a healthy socket closed for good).
                let Some((token, io)) = sources.get(slab_key(event.key)) else {
                    continue;
                };
                if *token != event.key {
                    continue;
                }
                let mut ready = Ready::EMPTY;
                if event.readable {
                    ready = ready | Ready::READABLE;
                }
                if event.writable {
                    ready = ready | Ready::WRITABLE;
                }
                if event.is_interrupt() {
                    ready = ready | Ready::READ_CLOSED | Ready::WRITE_CLOSED;
                }
                if event.is_err() == Some(true) {
                    // Let both directions run their syscall and report the error.
                    ready = ready | Ready::READABLE | Ready::WRITABLE;
                }
                if !ready.is_empty() {
                    state.ready.push((io.clone(), ready));
                }
            }
        }
        self.driver
            .events_dispatched
            .fetch_add(state.ready.len() as u64, Ordering::Relaxed);
        for (io, ready) in state.ready.drain(..) {
            io.set_readiness(ready);
        }
    }
}

/// The error every I/O operation returns once its runtime has shut down.
pub(crate) fn shutdown_error() -> std::io::Error {
    std::io::Error::other("the filch runtime this I/O object belongs to has shut down")
}
