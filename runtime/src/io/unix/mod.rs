//! Unix-specific I/O: [`AsyncFd`], readiness for any pollable file descriptor.
//!
//! [`AsyncFd`] registers an fd the sockets of [`filch::net`](crate::net) do not cover (a
//! pipe, an eventfd, a timerfd, a tty, a device, a socket of a family filch has no type
//! for) with the runtime's driver and lets a task wait until the OS reports it readable or
//! writable. The I/O itself is the caller's: it makes the non-blocking syscall on the fd
//! and tells filch when that syscall returned `WouldBlock`.
//!
//! # The readiness protocol, as an `AsyncFd` user sees it
//!
//! The driver polls edge-triggered: the OS reports each transition to ready once, and
//! filch keeps the source marked ready until someone says otherwise. So:
//!
//! 1. [`readable`](AsyncFd::readable) (or `writable`, `ready`, `poll_*_ready`) returns a
//!    guard as soon as the fd is marked ready (at once, if it still is from an earlier
//!    event). The guard records *which* event it saw (its tick).
//! 2. Do the syscall through [`try_io`](AsyncFdReadyGuard::try_io). If it returns
//!    `WouldBlock`, `try_io` clears the readiness the guard saw and returns
//!    [`TryIoError`]; go back to 1 and wait for the next event.
//! 3. Any other result (data, end-of-file, an error) leaves the fd marked ready: there may
//!    be more, and the next wait returns at once.
//!
//! Clearing is tied to the guard's tick: if a new event arrived after the guard was made
//! (data came in between the failed `read` and the clear), the clear does nothing and the
//! next wait returns at once. An event is never lost, however the task and the driver
//! interleave. What *is* on the caller is to clear only after a real `WouldBlock`, and only
//! for the direction that blocked ([`clear_ready`](AsyncFdReadyGuard::clear_ready) by hand
//! after a short read is the classic mistake: the next wait may sleep forever on data
//! already queued; `try_io` on a guard for both directions clears both, see its docs).
//!
//! # Non-blocking mode
//!
//! The fd must be in non-blocking mode (`O_NONBLOCK`) before it is wrapped: `AsyncFd`
//! does not change its flags, and a blocking `read` in `try_io` would block the worker
//! thread. Open it with the flag (`pipe2(O_NONBLOCK)`, `eventfd(EFD_NONBLOCK)`,
//! `SOCK_NONBLOCK`) or set it with `fcntl`.
//!
//! # Examples
//!
//! ```
//! use filch::io::unix::AsyncFd;
//! use std::io::{Read, Write};
//! use std::os::unix::net::UnixStream;
//!
//! let rt = filch::runtime::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let (a, mut b) = UnixStream::pair().unwrap();
//!     a.set_nonblocking(true).unwrap(); // AsyncFd leaves the flags alone
//!     let afd = AsyncFd::new(a).unwrap();
//!     b.write_all(b"ping").unwrap();
//!     let mut buf = [0; 16];
//!     let n = loop {
//!         let mut guard = afd.readable().await.unwrap();
//!         match guard.try_io(|inner| inner.get_ref().read(&mut buf)) {
//!             Ok(result) => break result.unwrap(),
//!             Err(_would_block) => continue,
//!         }
//!     };
//!     assert_eq!(&buf[..n], b"ping");
//! });
//! ```
mod async_fd;
mod guard;

pub use async_fd::{AsyncFd, AsyncFdTryNewError};
pub use guard::{AsyncFdReadyGuard, AsyncFdReadyMutGuard, TryIoError};
