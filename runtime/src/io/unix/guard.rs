//! The guards [`AsyncFd`]'s readiness methods return, and [`TryIoError`].
//!
//! A guard holds the observation its wait returned (the ready bits and their tick; see
//! the [module docs](super)) and nothing else: dropping it changes nothing, and clearing
//! through it clears only what it saw.
use super::AsyncFd;
use crate::driver::io::{Ready as DriverReady, ReadyEvent};
use crate::io::Ready;
use std::error::Error;
use std::fmt;
use std::io;
use std::os::fd::AsRawFd;

/// The error of a guard's `try_io` when the operation returned `WouldBlock`: the
/// readiness the guard saw is cleared, and the caller should wait again.
///
/// # Examples
///
/// ```
/// use filch::io::unix::AsyncFd;
/// use std::io::Read;
/// use std::os::unix::net::UnixStream;
///
/// let rt = filch::runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let (a, _b) = UnixStream::pair().unwrap();
///     a.set_nonblocking(true).unwrap();
///     let afd = AsyncFd::new(a).unwrap();
///     // Freshly registered: writable, so `ready` returns; nothing to read though.
///     let mut guard = afd.writable().await.unwrap();
///     let r = guard.try_io(|inner| inner.get_ref().read(&mut [0; 8]));
///     assert!(r.is_err(), "WouldBlock became TryIoError");
/// });
/// ```
pub struct TryIoError(());

impl fmt::Debug for TryIoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TryIoError(WouldBlock)")
    }
}

impl fmt::Display for TryIoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the operation would block; readiness cleared")
    }
}

impl Error for TryIoError {}

/// A readiness event seen on an [`AsyncFd`], not yet acknowledged; gives `&` access to
/// the fd. Returned by [`AsyncFd::readable`], [`writable`](AsyncFd::writable),
/// [`ready`](AsyncFd::ready) and the `poll_*_ready` methods.
///
/// Do the I/O with [`try_io`](Self::try_io), which clears the readiness on `WouldBlock`;
/// dropping the guard leaves the fd marked ready.
///
/// # Examples
///
/// See the [module docs](super).
#[must_use = "a guard does nothing unless its readiness is used (`try_io`) or cleared"]
pub struct AsyncFdReadyGuard<'a, T: AsRawFd> {
    pub(super) async_fd: &'a AsyncFd<T>,
    /// `None` once cleared.
    pub(super) event: Option<ReadyEvent>,
}

/// Like [`AsyncFdReadyGuard`], with `&mut` access to the [`AsyncFd`]. Returned by the
/// `_mut` readiness methods (for an inner type whose I/O needs `&mut self`).
///
/// # Examples
///
/// ```
/// use filch::io::unix::AsyncFd;
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
///
/// let rt = filch::runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let (a, mut b) = UnixStream::pair().unwrap();
///     a.set_nonblocking(true).unwrap();
///     let mut afd = AsyncFd::new(a).unwrap();
///     b.write_all(b"mut").unwrap();
///     let mut buf = [0; 8];
///     let n = loop {
///         let mut guard = afd.readable_mut().await.unwrap();
///         if let Ok(result) = guard.try_io(|inner| inner.get_mut().read(&mut buf)) {
///             break result.unwrap();
///         }
///     };
///     assert_eq!(&buf[..n], b"mut");
/// });
/// ```
#[must_use = "a guard does nothing unless its readiness is used (`try_io`) or cleared"]
pub struct AsyncFdReadyMutGuard<'a, T: AsRawFd> {
    pub(super) async_fd: &'a mut AsyncFd<T>,
    /// `None` once cleared.
    pub(super) event: Option<ReadyEvent>,
}

/// Clears all of `event`'s readiness on `async_fd` (tick-checked), leaving `None`.
fn clear_all<T: AsRawFd>(async_fd: &AsyncFd<T>, event: &mut Option<ReadyEvent>) {
    if let Some(event) = event.take() {
        async_fd.registration().clear_ready(event, event.ready);
    }
}

/// Clears the readable/writable bits of `ready` that `event` saw (tick-checked), and
/// forgets them.
fn clear_matching<T: AsRawFd>(async_fd: &AsyncFd<T>, event: &mut Option<ReadyEvent>, ready: Ready) {
    if let Some(seen) = event {
        let ready = DriverReady::from_public(ready);
        async_fd.registration().clear_ready(*seen, ready);
        *seen = seen.without_io_bits(ready);
    }
}

/// What `event` saw, or nothing once cleared.
fn seen(event: &Option<ReadyEvent>) -> Ready {
    event.map_or(Ready::EMPTY, |event| event.ready.to_public())
}

impl<'a, T: AsRawFd> AsyncFdReadyGuard<'a, T> {
    /// Marks the fd as no longer ready (for what this guard saw): the next wait sleeps
    /// until the OS reports a new event. Call it only after an operation returned
    /// `WouldBlock` ([`try_io`](Self::try_io) does that for you); clearing after a
    /// successful but short read can make the next wait sleep on data already queued.
    ///
    /// If an event arrived after this guard was made, nothing is cleared.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::io::unix::AsyncFd;
    /// use std::os::unix::net::UnixStream;
    ///
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (a, _b) = UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let afd = AsyncFd::new(a).unwrap();
    ///     let mut guard = afd.writable().await.unwrap();
    ///     assert!(guard.ready().is_writable());
    ///     guard.clear_ready();
    ///     assert!(guard.ready().is_empty());
    /// });
    /// ```
    pub fn clear_ready(&mut self) {
        clear_all(self.async_fd, &mut self.event);
    }

    /// Like [`clear_ready`](Self::clear_ready), for the readable/writable bits of `ready`
    /// only (the closed bits are never cleared: a closed side stays closed).
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::io::{unix::AsyncFd, Interest, Ready};
    /// use std::os::unix::net::UnixStream;
    ///
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (a, _b) = UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let afd = AsyncFd::new(a).unwrap();
    ///     let mut guard = afd.ready(Interest::READABLE | Interest::WRITABLE).await.unwrap();
    ///     guard.clear_ready_matching(Ready::READABLE);
    ///     assert!(guard.ready().is_writable());
    /// });
    /// ```
    pub fn clear_ready_matching(&mut self, ready: Ready) {
        clear_matching(self.async_fd, &mut self.event, ready);
    }

    /// Keeps the fd marked ready (what dropping the guard does too; this says so).
    pub fn retain_ready(&mut self) {}

    /// What this guard saw the fd ready for ([`Ready::EMPTY`] once cleared).
    pub fn ready(&self) -> Ready {
        seen(&self.event)
    }

    /// Runs `f`, the non-blocking operation; if it returns `WouldBlock`, clears the
    /// readiness this guard saw and returns [`TryIoError`] (wait again), otherwise returns
    /// its result in `Ok`, leaving the fd marked ready.
    ///
    /// All of it, as tokio's does: a guard from `ready(READABLE | WRITABLE)` whose read
    /// blocks also forgets that the fd was writable, and with edge-triggered events a
    /// writable fd is not reported again until its state changes, so a later `writable()`
    /// can wait forever. Read and write through guards of one direction each
    /// ([`AsyncFd::readable`], [`AsyncFd::writable`]), or clear only the direction that
    /// blocked with [`clear_ready_matching`](Self::clear_ready_matching).
    ///
    /// # Errors
    ///
    /// [`TryIoError`] when `f` returned `WouldBlock`; `f`'s other errors are in the `Ok`.
    ///
    /// # Examples
    ///
    /// See the [module docs](super).
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&'a AsyncFd<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        match f(self.async_fd) {
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                self.clear_ready();
                Err(TryIoError(()))
            }
            result => Ok(result),
        }
    }

    /// The [`AsyncFd`] this guard belongs to.
    pub fn get_ref(&self) -> &'a AsyncFd<T> {
        self.async_fd
    }

    /// The object inside the [`AsyncFd`].
    pub fn get_inner(&self) -> &'a T {
        self.async_fd.get_ref()
    }
}

impl<T: AsRawFd> AsyncFdReadyMutGuard<'_, T> {
    /// See [`AsyncFdReadyGuard::clear_ready`].
    pub fn clear_ready(&mut self) {
        clear_all(self.async_fd, &mut self.event);
    }

    /// See [`AsyncFdReadyGuard::clear_ready_matching`].
    pub fn clear_ready_matching(&mut self, ready: Ready) {
        clear_matching(self.async_fd, &mut self.event, ready);
    }

    /// Keeps the fd marked ready (what dropping the guard does too; this says so).
    pub fn retain_ready(&mut self) {}

    /// What this guard saw the fd ready for ([`Ready::EMPTY`] once cleared).
    pub fn ready(&self) -> Ready {
        seen(&self.event)
    }

    /// See [`AsyncFdReadyGuard::try_io`]; `f` gets the [`AsyncFd`] mutably.
    ///
    /// # Errors
    ///
    /// [`TryIoError`] when `f` returned `WouldBlock`; `f`'s other errors are in the `Ok`.
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&mut AsyncFd<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        match f(self.async_fd) {
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                self.clear_ready();
                Err(TryIoError(()))
            }
            result => Ok(result),
        }
    }

    /// The [`AsyncFd`] this guard belongs to.
    pub fn get_ref(&self) -> &AsyncFd<T> {
        self.async_fd
    }

    /// The [`AsyncFd`] this guard belongs to, mutably.
    pub fn get_mut(&mut self) -> &mut AsyncFd<T> {
        self.async_fd
    }

    /// The object inside the [`AsyncFd`].
    pub fn get_inner(&self) -> &T {
        self.async_fd.get_ref()
    }

    /// The object inside the [`AsyncFd`], mutably.
    pub fn get_inner_mut(&mut self) -> &mut T {
        self.async_fd.get_mut()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFdReadyGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdReadyGuard")
            .field("async_fd", self.async_fd)
            .field("ready", &self.ready())
            .finish()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFdReadyMutGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdReadyMutGuard")
            .field("async_fd", &*self.async_fd)
            .field("ready", &self.ready())
            .finish()
    }
}
