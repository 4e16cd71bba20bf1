//! Child processes: asyncio's `create_subprocess_exec`, with tokio's API shape.
//!
//! * [`Command`] — `std::process::Command`'s builder, plus async [`spawn`](Command::spawn),
//!   [`output`](Command::output), [`status`](Command::status) and
//!   [`kill_on_drop`](Command::kill_on_drop);
//! * [`Child`] — the running process: its piped [`ChildStdin`] (an
//!   [`AsyncWrite`](crate::io::AsyncWrite)), [`ChildStdout`] and [`ChildStderr`]
//!   ([`AsyncRead`](crate::io::AsyncRead)), and [`wait`](Child::wait),
//!   [`try_wait`](Child::try_wait), [`kill`](Child::kill),
//!   [`wait_with_output`](Child::wait_with_output).
//!
//! Statuses are std's [`ExitStatus`](std::process::ExitStatus) (with `ExitStatusExt` for
//! the signal that killed a child) and [`Output`](std::process::Output).
//!
//! ```
//! use filch::io::{AsyncReadExt, AsyncWriteExt};
//! use filch::process::Command;
//! use std::process::Stdio;
//!
//! let rt = filch::runtime::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let mut child = Command::new("tr")
//!         .arg("a-z")
//!         .arg("A-Z")
//!         .stdin(Stdio::piped())
//!         .stdout(Stdio::piped())
//!         .spawn()
//!         .unwrap();
//!     let mut stdin = child.stdin.take().unwrap();
//!     filch::spawn(async move {
//!         stdin.write_all(b"shout").await.unwrap();
//!         // dropping `stdin` closes the pipe: `tr` sees end of file
//!     });
//!     let mut out = String::new();
//!     child.stdout.take().unwrap().read_to_string(&mut out).await.unwrap();
//!     assert_eq!(out, "SHOUT");
//!     assert!(child.wait().await.unwrap().success());
//! });
//! ```
//!
//! # Pipes
//!
//! The parent's end of each piped stream is switched to non-blocking mode and registered
//! with the driver of the runtime that spawned the child (the socket machinery of
//! [`crate::net`], one `PollEvented` per pipe), so [`Command::spawn`] with a piped stream
//! must run inside a runtime and the pipe must be used while that runtime is alive.
//! Waiting for the exit needs no runtime.
//!
//! # Reaping
//!
//! An exited child stays a zombie until its parent collects its status with `waitpid`.
//! filch reaps every child it spawns, including those whose [`Child`] was dropped:
//!
//! 1. The first [`Command::spawn`] installs one process-wide `SIGCHLD` handler through
//!    [`crate::signal`]'s machinery (`signal-hook-registry`, which chains to any handler
//!    the process already has instead of replacing it). The handler writes one byte to a
//!    pipe; filch's signal thread turns each batch into a publication on a `watch`
//!    channel. It is installed *before* the child is forked, so no exit predates it.
//! 2. [`Child::wait`] subscribes to that channel, then calls `waitpid(pid, WNOHANG)` for
//!    its own pid; if the child is still running it waits for the next publication and
//!    checks again. Subscribing before checking means an exit between the check and the
//!    wait is a publication the waiter sees. Any child's exit wakes every waiter (signals
//!    coalesce and carry no reliable pid), each of which makes one cheap syscall.
//! 3. Dropping a [`Child`] that has not been reaped (killed first if
//!    [`kill_on_drop`](Command::kill_on_drop)) moves it to the orphan list, which the
//!    signal thread sweeps after every `SIGCHLD` (see `orphan.rs` for why no exit is
//!    missed). The sweep runs on that thread, not on a runtime, so orphans are reaped
//!    even after every runtime has shut down.
//!
//! filch never calls `waitpid(-1, ...)`: that would steal the statuses of children
//! spawned by other code in the process (std's blocking `Command::output`, another
//! runtime). Everything is process-global, so it works the same on the current-thread
//! and multi-thread flavors and with several runtimes at once.
//!
//! Two things defeat any parent-side reaper and are documented rather than handled:
//! another library reaping with `waitpid(-1)` (then [`Child::try_wait`] reports `ECHILD`),
//! and `SIGCHLD` set to `SIG_IGN` by the program before the first spawn (a handler
//! chained by `signal-hook-registry` takes its place from then on).
//!
//! ## Why `SIGCHLD` and not pidfd
//!
//! Linux ≥ 5.3 offers `pidfd_open`, a descriptor that becomes readable when the process
//! exits and could be registered with the driver like a socket, waking exactly one
//! waiter. It was not chosen because it covers only part of the problem: it exists only
//! on Linux (and is refused by some seccomp sandboxes and old kernels), so a `SIGCHLD`
//! path is needed anyway on macOS and the BSDs; it ties each wait to one runtime's
//! driver, whereas dropped children must be reaped even with no runtime running, which
//! again needs something process-wide. One mechanism that works everywhere is less code
//! to get right than two; the cost, every waiter checking its pid on any child's exit,
//! is one `waitpid` per waiter per exit (measured fine for hundreds of concurrent
//! children in `tests/process.rs`).
mod child;
mod command;
mod orphan;
mod pipe;

pub use child::Child;
pub use command::Command;
pub use pipe::{ChildStderr, ChildStdin, ChildStdout};

use orphan::reap_orphans;

/// The process-wide `SIGCHLD` registration, with this module's orphan reaper as the hook
/// its signal thread runs after every delivery (the one place that names the hook).
///
/// # Errors
///
/// As [`crate::signal::sigchld`]: the OS error if the handler cannot be set up.
fn sigchld() -> std::io::Result<&'static crate::signal::Registration> {
    crate::signal::sigchld(reap_orphans)
}

// Unwind safety: the pipes are fds plus driver registrations (see `crate::net`); a
// `Child` is a pid and a cached status, both left consistent by every method.
macro_rules! unwind_safe {
    ($($ty:ty),*) => {$(
        impl std::panic::UnwindSafe for $ty {}
        impl std::panic::RefUnwindSafe for $ty {}
    )*};
}
unwind_safe!(Child, ChildStdin, ChildStdout, ChildStderr);
