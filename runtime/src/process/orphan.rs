//! The orphan list: children whose [`Child`](super::Child) was dropped before they were
//! reaped, kept (as `std::process::Child`, i.e. a pid) until `waitpid` collects them.
//!
//! # Protocol
//!
//! * [`adopt`] pushes the child under the lock, *then* sweeps the whole list once.
//! * [`reap_orphans`] (the sweep) runs on the `SIGCHLD` signal thread after every
//!   delivery, and from `adopt`.
//!
//! No exit is missed: the `SIGCHLD` handler was installed before the child was spawned
//! (see [`Command::spawn`](super::Command::spawn)), so a child that exits after
//! `adopt`'s sweep raises a delivery whose sweep comes after the push; one that exited
//! before the sweep is collected by it.
//!
//! Each sweep calls `waitpid(pid, WNOHANG)` (std's `try_wait`) for the listed pids only,
//! never `waitpid(-1)`: children other code in the process spawned are left to it. An
//! entry whose `try_wait` fails (`ECHILD`: something else reaped it, or `SIGCHLD` is set
//! to `SIG_IGN` and the kernel did) is dropped from the list too: there is nothing left
//! to collect.
use parking_lot::Mutex;

static ORPHANS: Mutex<Vec<std::process::Child>> = Mutex::new(Vec::new());

/// Keeps `child` until it is reaped; see the module docs.
pub(super) fn adopt(child: std::process::Child) {
    ORPHANS.lock().push(child);
    reap_orphans();
}

/// Reaps every listed child that has exited (one `waitpid(pid, WNOHANG)` each).
pub(crate) fn reap_orphans() {
    ORPHANS
        .lock()
        .retain_mut(|child| matches!(child.try_wait(), Ok(None)));
}
