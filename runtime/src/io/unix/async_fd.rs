//! [`AsyncFd`]: any pollable fd, registered with the runtime's driver.
//!
//! The fd is held as an [`FdSource`]: the caller's object plus the raw fd read from it
//! once, at registration. The driver knows the source by that fd, so deregistration (in
//! [`PollEvented`]'s drop and `into_parts`, before the object is dropped or returned) uses
//! the same one even if the object's `as_raw_fd` would now say otherwise.
use super::guard::{AsyncFdReadyGuard, AsyncFdReadyMutGuard};
use crate::driver::io::PollEvented;
use crate::io::Interest;
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll};

/// The caller's object and the fd it had when it was registered.
///
/// # Invariant
/// `fd` is the fd `inner` held at registration, and (by [`AsyncFd`]'s contract with its
/// caller) it stays open while `inner` lives.
struct FdSource<T> {
    inner: T,
    fd: RawFd,
}

impl<T> AsFd for FdSource<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: by the invariant, `fd` stays open while `self.inner` (and so `self`)
        // lives, which covers the borrow's lifetime: `AsyncFd` documents that the wrapped
        // object must keep its fd open and unchanged while inside.
        unsafe { BorrowedFd::borrow_raw(self.fd) }
    }
}

/// The error of [`AsyncFd::try_new`] and [`AsyncFd::try_with_interest`]: why registering
/// failed, and the object that was to be wrapped, handed back.
pub struct AsyncFdTryNewError<T> {
    inner: T,
    cause: io::Error,
}

impl<T> AsyncFdTryNewError<T> {
    /// The object and the error (as [`AsyncFd::new`] would have returned it).
    pub fn into_parts(self) -> (T, io::Error) {
        (self.inner, self.cause)
    }
}

impl<T> From<AsyncFdTryNewError<T>> for io::Error {
    fn from(err: AsyncFdTryNewError<T>) -> io::Error {
        err.cause
    }
}

impl<T> fmt::Debug for AsyncFdTryNewError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdTryNewError")
            .field("cause", &self.cause)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Display for AsyncFdTryNewError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.cause, f)
    }
}

impl<T> std::error::Error for AsyncFdTryNewError<T> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.cause)
    }
}

/// A file descriptor registered with the runtime's driver, so tasks can wait for it to be
/// readable or writable; see the [module docs](super) for the protocol.
///
/// `T` is whatever owns (or borrows) the fd: an `OwnedFd`, a `File`, a std socket, a type
/// of your own. It must be in non-blocking mode (`AsyncFd` does not change the flags), and
/// must keep the same fd, open, while inside: the fd is read once, here, and deregistered
/// from the driver when the `AsyncFd` is dropped or [`into_inner`](Self::into_inner) is
/// called, before `T` is dropped or returned.
///
/// # Examples
///
/// An eventfd-like counter: a pipe whose reader waits for bytes.
///
/// ```
/// use filch::io::unix::AsyncFd;
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
///
/// let rt = filch::runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let (rx, mut tx) = UnixStream::pair().unwrap();
///     rx.set_nonblocking(true).unwrap();
///     let rx = AsyncFd::new(rx).unwrap();
///     let reader = filch::spawn(async move {
///         let mut buf = [0; 1];
///         loop {
///             let mut guard = rx.readable().await.unwrap();
///             if let Ok(n) = guard.try_io(|fd| fd.get_ref().read(&mut buf)) {
///                 return n.unwrap();
///             }
///         }
///     });
///     tx.write_all(b"!").unwrap();
///     assert_eq!(reader.await.unwrap(), 1);
/// });
/// ```
pub struct AsyncFd<T: AsRawFd> {
    io: PollEvented<FdSource<T>>,
    interest: Interest,
}

impl<T: AsRawFd> AsyncFd<T> {
    /// Registers `inner`'s fd with the current runtime's driver, for reading and writing.
    ///
    /// # Errors
    ///
    /// The OS error of the poller, unchanged: `EPERM` (`PermissionDenied`) for an fd it
    /// cannot poll, such as a regular file or a directory; `EEXIST` if the fd is already
    /// registered (say, by another `AsyncFd`). The "has shut down" error of the sockets if
    /// the runtime has shut down. On error `inner` is dropped ([`try_new`](Self::try_new)
    /// hands it back).
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::io::unix::AsyncFd;
    ///
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let file = std::fs::File::open("/proc/self/status").unwrap();
    ///     let err = AsyncFd::new(file).unwrap_err();
    ///     assert_eq!(err.raw_os_error(), Some(libc::EPERM), "epoll cannot poll files");
    /// });
    /// ```
    #[track_caller]
    pub fn new(inner: T) -> io::Result<AsyncFd<T>> {
        AsyncFd::with_interest(inner, Interest::READABLE | Interest::WRITABLE)
    }

    /// Like [`new`](Self::new), for the directions of `interest` only: waiting for a
    /// direction outside it panics (it could never be woken in tokio, where the OS is
    /// only asked about `interest`; filch's driver always asks about both, but keeps the
    /// rule so code moves between the two unchanged).
    ///
    /// # Errors
    ///
    /// As for [`new`](Self::new).
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::io::{unix::AsyncFd, Interest};
    /// use std::os::unix::net::UnixStream;
    ///
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (a, _b) = UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let afd = AsyncFd::with_interest(a, Interest::WRITABLE).unwrap();
    ///     assert!(afd.writable().await.unwrap().ready().is_writable());
    /// });
    /// ```
    #[track_caller]
    pub fn with_interest(inner: T, interest: Interest) -> io::Result<AsyncFd<T>> {
        AsyncFd::try_with_interest(inner, interest).map_err(io::Error::from)
    }

    /// Like [`new`](Self::new), but on error hands `inner` back with the error.
    ///
    /// # Errors
    ///
    /// As for [`new`](Self::new), with `inner` in the [`AsyncFdTryNewError`].
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::io::unix::AsyncFd;
    /// use std::io::Read;
    ///
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let file = std::fs::File::open("/proc/self/status").unwrap();
    ///     let (mut file, err) = AsyncFd::try_new(file).unwrap_err().into_parts();
    ///     assert_eq!(err.raw_os_error(), Some(libc::EPERM));
    ///     let mut text = String::new();
    ///     file.read_to_string(&mut text).unwrap(); // still ours, still open
    ///     assert!(text.contains("Pid:"));
    /// });
    /// ```
    #[track_caller]
    pub fn try_new(inner: T) -> Result<AsyncFd<T>, AsyncFdTryNewError<T>> {
        AsyncFd::try_with_interest(inner, Interest::READABLE | Interest::WRITABLE)
    }

    /// Like [`with_interest`](Self::with_interest), but on error hands `inner` back with
    /// the error.
    ///
    /// # Errors
    ///
    /// As for [`new`](Self::new), with `inner` in the [`AsyncFdTryNewError`].
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime.
    #[track_caller]
    pub fn try_with_interest(
        inner: T,
        interest: Interest,
    ) -> Result<AsyncFd<T>, AsyncFdTryNewError<T>> {
        let fd = inner.as_raw_fd();
        match PollEvented::try_new(FdSource { inner, fd }, crate::runtime::context::io_driver()) {
            Ok(io) => Ok(AsyncFd { io, interest }),
            Err((source, cause)) => Err(AsyncFdTryNewError {
                inner: source.inner,
                cause,
            }),
        }
    }

    /// The wrapped object.
    pub fn get_ref(&self) -> &T {
        &self.io.get_ref().inner
    }

    /// The wrapped object, mutably. Do not make it close or replace its fd: the driver
    /// knows the source by the fd it had when wrapped.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.io.get_mut().inner
    }

    /// Deregisters the fd from the driver and gives the object back (its fd open, its
    /// flags as they were). The same fd can then be wrapped again.
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
    ///     let a = AsyncFd::new(a).unwrap().into_inner();
    ///     let again = AsyncFd::new(a).unwrap(); // not `EEXIST`: it was deregistered
    ///     drop(again);
    /// });
    /// ```
    pub fn into_inner(self) -> T {
        // An error means the fd was no longer in the poller: nothing left to undo.
        let (source, _deregistered) = self.io.into_parts();
        source.inner
    }

    pub(super) fn registration(&self) -> &crate::driver::io::Registration {
        self.io.registration()
    }

    #[track_caller]
    fn check(&self, interest: Interest) {
        let outside = match interest.remove(self.interest) {
            Some(outside) => outside,
            None => return,
        };
        panic!(
            "AsyncFd: waiting for {outside:?}, but it was registered with interest {:?} \
             (use `AsyncFd::new` or add it in `with_interest`)",
            self.interest
        );
    }

    /// Polls for read readiness: `Ready` with a guard once the fd is marked readable (or
    /// its read side closed); `Pending`, with the task's waker stored, until then.
    ///
    /// # Errors
    ///
    /// The "has shut down" error once the runtime has shut down.
    ///
    /// # Panics
    ///
    /// Panics if the `AsyncFd` was made without [`Interest::READABLE`].
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::io::unix::AsyncFd;
    /// use std::os::unix::net::UnixStream;
    /// use std::task::Context;
    ///
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (a, _b) = UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let afd = AsyncFd::new(a).unwrap();
    ///     let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    ///     assert!(afd.poll_read_ready(&mut cx).is_pending(), "nothing sent yet");
    /// });
    /// ```
    #[track_caller]
    pub fn poll_read_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        self.poll_guard(Interest::READABLE, cx)
    }

    /// Polls for write readiness; see [`poll_read_ready`](Self::poll_read_ready).
    ///
    /// # Errors
    ///
    /// The "has shut down" error once the runtime has shut down.
    ///
    /// # Panics
    ///
    /// Panics if the `AsyncFd` was made without [`Interest::WRITABLE`].
    #[track_caller]
    pub fn poll_write_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        self.poll_guard(Interest::WRITABLE, cx)
    }

    /// [`poll_read_ready`](Self::poll_read_ready), with a guard giving `&mut` access.
    ///
    /// # Errors
    ///
    /// The "has shut down" error once the runtime has shut down.
    ///
    /// # Panics
    ///
    /// Panics if the `AsyncFd` was made without [`Interest::READABLE`].
    #[track_caller]
    pub fn poll_read_ready_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        self.poll_guard_mut(Interest::READABLE, cx)
    }

    /// [`poll_write_ready`](Self::poll_write_ready), with a guard giving `&mut` access.
    ///
    /// # Errors
    ///
    /// The "has shut down" error once the runtime has shut down.
    ///
    /// # Panics
    ///
    /// Panics if the `AsyncFd` was made without [`Interest::WRITABLE`].
    #[track_caller]
    pub fn poll_write_ready_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        self.poll_guard_mut(Interest::WRITABLE, cx)
    }

    #[track_caller]
    fn poll_guard<'a>(
        &'a self,
        interest: Interest,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        self.check(interest);
        self.registration()
            .poll_interest(interest, cx)
            .map_ok(|event| AsyncFdReadyGuard {
                async_fd: self,
                event: Some(event),
            })
    }

    #[track_caller]
    fn poll_guard_mut<'a>(
        &'a mut self,
        interest: Interest,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        self.check(interest);
        match self.registration().poll_interest(interest, cx) {
            Poll::Ready(Ok(event)) => Poll::Ready(Ok(AsyncFdReadyMutGuard {
                async_fd: self,
                event: Some(event),
            })),
            Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Waits until the fd is ready in a direction of `interest` (any of them); the guard
    /// says which ([`ready`](AsyncFdReadyGuard::ready)).
    ///
    /// # Errors
    ///
    /// The "has shut down" error once the runtime has shut down.
    ///
    /// # Panics
    ///
    /// Panics if `interest` has a direction the `AsyncFd` was not made with.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::io::{unix::AsyncFd, Interest};
    /// use std::os::unix::net::UnixStream;
    ///
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (a, _b) = UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let afd = AsyncFd::new(a).unwrap();
    ///     let guard = afd.ready(Interest::READABLE | Interest::WRITABLE).await.unwrap();
    ///     let ready = guard.ready();
    ///     assert!(ready.is_writable() && !ready.is_readable());
    /// });
    /// ```
    #[track_caller]
    pub fn ready(
        &self,
        interest: Interest,
    ) -> impl std::future::Future<Output = io::Result<AsyncFdReadyGuard<'_, T>>> {
        self.check(interest);
        async move {
            let event = self.registration().readiness(interest).await?;
            Ok(AsyncFdReadyGuard {
                async_fd: self,
                event: Some(event),
            })
        }
    }

    /// [`ready`](Self::ready), with a guard giving `&mut` access.
    ///
    /// # Errors
    ///
    /// The "has shut down" error once the runtime has shut down.
    ///
    /// # Panics
    ///
    /// Panics if `interest` has a direction the `AsyncFd` was not made with.
    #[track_caller]
    pub fn ready_mut(
        &mut self,
        interest: Interest,
    ) -> impl std::future::Future<Output = io::Result<AsyncFdReadyMutGuard<'_, T>>> {
        self.check(interest);
        async move {
            let event = self.registration().readiness(interest).await?;
            Ok(AsyncFdReadyMutGuard {
                async_fd: self,
                event: Some(event),
            })
        }
    }

    /// Waits until the fd is readable (or its read side closed): `ready(READABLE)`.
    ///
    /// # Errors
    ///
    /// The "has shut down" error once the runtime has shut down.
    ///
    /// # Panics
    ///
    /// Panics if the `AsyncFd` was made without [`Interest::READABLE`].
    #[track_caller]
    pub fn readable(
        &self,
    ) -> impl std::future::Future<Output = io::Result<AsyncFdReadyGuard<'_, T>>> {
        self.ready(Interest::READABLE)
    }

    /// [`readable`](Self::readable), with a guard giving `&mut` access.
    ///
    /// # Errors
    ///
    /// The "has shut down" error once the runtime has shut down.
    ///
    /// # Panics
    ///
    /// Panics if the `AsyncFd` was made without [`Interest::READABLE`].
    #[track_caller]
    pub fn readable_mut(
        &mut self,
    ) -> impl std::future::Future<Output = io::Result<AsyncFdReadyMutGuard<'_, T>>> {
        self.ready_mut(Interest::READABLE)
    }

    /// Waits until the fd is writable (or its write side closed): `ready(WRITABLE)`.
    ///
    /// # Errors
    ///
    /// The "has shut down" error once the runtime has shut down.
    ///
    /// # Panics
    ///
    /// Panics if the `AsyncFd` was made without [`Interest::WRITABLE`].
    #[track_caller]
    pub fn writable(
        &self,
    ) -> impl std::future::Future<Output = io::Result<AsyncFdReadyGuard<'_, T>>> {
        self.ready(Interest::WRITABLE)
    }

    /// [`writable`](Self::writable), with a guard giving `&mut` access.
    ///
    /// # Errors
    ///
    /// The "has shut down" error once the runtime has shut down.
    ///
    /// # Panics
    ///
    /// Panics if the `AsyncFd` was made without [`Interest::WRITABLE`].
    #[track_caller]
    pub fn writable_mut(
        &mut self,
    ) -> impl std::future::Future<Output = io::Result<AsyncFdReadyMutGuard<'_, T>>> {
        self.ready_mut(Interest::WRITABLE)
    }

    /// Runs `f` on the object until it does not return `WouldBlock`, waiting for
    /// `interest` before each try and clearing the readiness after each `WouldBlock`: the
    /// whole readiness loop of the [module docs](super) in one call.
    ///
    /// # Errors
    ///
    /// `f`'s first error other than `WouldBlock`; the "has shut down" error once the
    /// runtime has shut down.
    ///
    /// # Panics
    ///
    /// Panics if `interest` has a direction the `AsyncFd` was not made with.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::io::{unix::AsyncFd, Interest};
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    ///
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (a, mut b) = UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let afd = AsyncFd::new(a).unwrap();
    ///     b.write_all(b"loop").unwrap();
    ///     let mut buf = [0; 8];
    ///     let n = afd
    ///         .async_io(Interest::READABLE, |a| (&*a).read(&mut buf))
    ///         .await
    ///         .unwrap();
    ///     assert_eq!(&buf[..n], b"loop");
    /// });
    /// ```
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        self.check(interest);
        let inner = self.get_ref();
        self.registration()
            .async_io_interest(interest, || f(inner))
            .await
    }

    /// Runs `f` once if the fd is marked ready for `interest`, without waiting:
    /// `WouldBlock` if it is not; if `f` returns `WouldBlock`, the readiness is cleared.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, `f`'s error, or the "has shut down" error.
    ///
    /// # Panics
    ///
    /// Panics if `interest` has a direction the `AsyncFd` was not made with.
    #[track_caller]
    pub fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        self.check(interest);
        let inner = self.get_ref();
        self.registration().try_io_interest(interest, || f(inner))
    }
}

// Unwind safety, as for the socket types (`net/mod.rs`): besides `T`, an `AsyncFd` is its
// registration with the driver, whose readiness state changes only under the driver's
// locks and atomics and is never left half-updated across user code.
impl<T: AsRawFd + std::panic::UnwindSafe> std::panic::UnwindSafe for AsyncFd<T> {}
impl<T: AsRawFd + std::panic::RefUnwindSafe> std::panic::RefUnwindSafe for AsyncFd<T> {}

impl<T: AsRawFd> AsRawFd for AsyncFd<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().fd
    }
}

impl<T: AsRawFd> AsFd for AsyncFd<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFd")
            .field("inner", self.get_ref())
            .field("interest", &self.interest)
            .finish()
    }
}
