//! The I/O half of the driver: sources registered with the OS poller, and their readiness.
//!
//! * [`ScheduledIo`] — per-source readiness + wakers, with the tick protocol.
//! * [`Registration`] / [`PollEvented`] — what a socket (or an
//!   [`AsyncFd`](crate::io::unix::AsyncFd)) owns: its slot in the driver, and the loop
//!   "wait until ready, try the syscall, on `WouldBlock` clear readiness and wait again",
//!   for one direction or for an [`Interest`](crate::io::Interest) of both.
//!
//! * [`Interest`](interest::Interest) / [`Ready`](ready::Ready) — the public readiness
//!   types (`filch::io` re-exports them), defined here because the driver speaks them.
//!
//! Every source is registered once, for both read and write interest, in edge-triggered
//! mode: the OS reports each transition to ready once and nothing needs re-arming.
pub(crate) mod interest;
pub(crate) mod ready;
mod registration;
mod scheduled_io;

pub(crate) use registration::{PollEvented, Registration};
pub(crate) use scheduled_io::{Direction, Ready, ReadyEvent, ScheduledIo};
