//! [`ChildStdin`], [`ChildStdout`], [`ChildStderr`]: the parent's ends of a child's pipes,
//! switched to non-blocking mode and registered with the runtime's driver (the same
//! [`PollEvented`] loop the sockets use; see [`crate::net`]'s "How a socket waits").
//!
//! Each end is held as a `std::fs::File` over the pipe's fd, only because `&File`
//! implements `Read` and `Write` on every Rust version filch supports; nothing here
//! seeks or touches a path.
use crate::driver::io::PollEvented;
use std::fs::File;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Sets `O_NONBLOCK` on the parent's end of a pipe.
///
/// The two ends of a pipe are separate open file descriptions, so the child's end keeps
/// its blocking mode.
fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    // SAFETY: `raw` is open for the duration of the call (borrowed from `fd`);
    // F_GETFL reads only the file status flags.
    let flags = unsafe { libc::fcntl(raw, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    if flags & libc::O_NONBLOCK != 0 {
        return Ok(());
    }
    // SAFETY: as above; F_SETFL changes only the status flags of this open file
    // description.
    if unsafe { libc::fcntl(raw, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Takes over a pipe end: non-blocking, registered with the current runtime's driver.
#[track_caller]
fn register(fd: OwnedFd) -> io::Result<PollEvented<File>> {
    set_nonblocking(fd.as_fd())?;
    PollEvented::new(File::from(fd), crate::runtime::context::io_driver())
}

/// Deregisters a pipe end and hands back its fd (still non-blocking).
fn into_owned_fd(io: PollEvented<File>) -> io::Result<OwnedFd> {
    io.into_inner().map(OwnedFd::from)
}

/// The error of a write after [`close`](futures_io::AsyncWrite::poll_close).
fn closed_error() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "ChildStdin was closed")
}

/// The writing end of a child's standard input, from [`Child::stdin`](super::Child::stdin);
/// implements [`AsyncWrite`](crate::io::AsyncWrite).
///
/// The child sees end of file once this is dropped or closed
/// ([`AsyncWriteExt::close`](crate::io::AsyncWriteExt::close) closes the pipe; any
/// write after that fails with `BrokenPipe`). [`Child::wait`](super::Child::wait) drops
/// a `ChildStdin` still in the `Child`, as std's does.
///
/// Writing to a pipe whose reader has exited raises `SIGPIPE`, which kills a process that
/// does not ignore it (Rust's `main` ignores it; pipes have no `MSG_NOSIGNAL`). Where it is
/// ignored, the write fails with `BrokenPipe`.
///
/// # Examples
///
/// ```
/// use filch::io::{AsyncReadExt, AsyncWriteExt};
/// use filch::process::Command;
/// use std::process::Stdio;
///
/// let rt = filch::runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let mut child = Command::new("cat")
///         .stdin(Stdio::piped())
///         .stdout(Stdio::piped())
///         .spawn()
///         .unwrap();
///     let mut stdin = child.stdin.take().unwrap();
///     stdin.write_all(b"through cat").await.unwrap();
///     stdin.close().await.unwrap(); // cat sees EOF
///     let mut out = String::new();
///     child.stdout.take().unwrap().read_to_string(&mut out).await.unwrap();
///     assert_eq!(out, "through cat");
///     assert!(child.wait().await.unwrap().success());
/// });
/// ```
#[derive(Debug)]
pub struct ChildStdin {
    /// `None` once closed.
    io: Option<PollEvented<File>>,
}

/// The reading end of a child's standard output, from
/// [`Child::stdout`](super::Child::stdout); implements [`AsyncRead`](crate::io::AsyncRead).
/// A read returns `0` (end of file) once the child, and every process it handed the pipe
/// to, has closed it.
///
/// # Examples
///
/// ```
/// use filch::io::AsyncReadExt;
/// use filch::process::Command;
/// use std::process::Stdio;
///
/// let rt = filch::runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let mut child = Command::new("echo").arg("out").stdout(Stdio::piped()).spawn().unwrap();
///     let mut out = String::new();
///     child.stdout.take().unwrap().read_to_string(&mut out).await.unwrap();
///     assert_eq!(out, "out\n");
///     child.wait().await.unwrap();
/// });
/// ```
#[derive(Debug)]
pub struct ChildStdout {
    io: PollEvented<File>,
}

/// The reading end of a child's standard error, from
/// [`Child::stderr`](super::Child::stderr); the twin of [`ChildStdout`].
///
/// # Examples
///
/// ```
/// use filch::io::AsyncReadExt;
/// use filch::process::Command;
/// use std::process::Stdio;
///
/// let rt = filch::runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let mut child = Command::new("sh")
///         .args(["-c", "echo oops >&2"])
///         .stderr(Stdio::piped())
///         .spawn()
///         .unwrap();
///     let mut err = String::new();
///     child.stderr.take().unwrap().read_to_string(&mut err).await.unwrap();
///     assert_eq!(err, "oops\n");
///     child.wait().await.unwrap();
/// });
/// ```
#[derive(Debug)]
pub struct ChildStderr {
    io: PollEvented<File>,
}

impl ChildStdin {
    /// Takes over a `std::process::ChildStdin`, switching it to non-blocking mode and
    /// registering it with the current runtime's driver.
    ///
    /// # Errors
    ///
    /// The OS error from switching modes or registering with the driver.
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime.
    #[track_caller]
    pub fn from_std(stdin: std::process::ChildStdin) -> io::Result<ChildStdin> {
        Ok(ChildStdin {
            io: Some(register(stdin.into())?),
        })
    }

    /// Deregisters the pipe and hands back its fd (still non-blocking).
    ///
    /// # Errors
    ///
    /// The OS error from removing it from the poller; `BrokenPipe` if it was closed.
    pub fn into_owned_fd(mut self) -> io::Result<OwnedFd> {
        into_owned_fd(self.io.take().ok_or_else(closed_error)?)
    }

    fn io(&self) -> io::Result<&PollEvented<File>> {
        self.io.as_ref().ok_or_else(closed_error)
    }
}

impl futures_io::AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.io() {
            Ok(io) => io.poll_write_io(cx, |file| (&*file).write(buf)),
            Err(err) => Poll::Ready(Err(err)),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.io() {
            Ok(io) => io.poll_write_io(cx, |file| (&*file).write_vectored(bufs)),
            Err(err) => Poll::Ready(Err(err)),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Nothing is buffered in user space.
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Closing the fd is what gives the child its EOF; a pipe has no `shutdown`.
        // Closing twice is fine.
        drop(self.io.take());
        Poll::Ready(Ok(()))
    }
}

/// The reading ends share everything but their name.
macro_rules! impl_reader {
    ($reader:ident, $std:ty) => {
        impl $reader {
            /// Takes over the std pipe end, switching it to non-blocking mode and
            /// registering it with the current runtime's driver.
            ///
            /// # Errors
            ///
            /// The OS error from switching modes or registering with the driver.
            ///
            /// # Panics
            ///
            /// Panics outside a filch runtime.
            #[track_caller]
            pub fn from_std(pipe: $std) -> io::Result<$reader> {
                Ok($reader {
                    io: register(pipe.into())?,
                })
            }

            /// Deregisters the pipe and hands back its fd (still non-blocking).
            ///
            /// # Errors
            ///
            /// The OS error from removing it from the poller.
            pub fn into_owned_fd(self) -> io::Result<OwnedFd> {
                into_owned_fd(self.io)
            }
        }

        impl futures_io::AsyncRead for $reader {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.io.poll_read_io(cx, |file| (&*file).read(buf))
            }

            fn poll_read_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &mut [IoSliceMut<'_>],
            ) -> Poll<io::Result<usize>> {
                self.io
                    .poll_read_io(cx, |file| (&*file).read_vectored(bufs))
            }
        }

        impl AsFd for $reader {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.io.as_fd()
            }
        }

        impl AsRawFd for $reader {
            fn as_raw_fd(&self) -> RawFd {
                self.io.as_raw_fd()
            }
        }
    };
}

impl_reader!(ChildStdout, std::process::ChildStdout);
impl_reader!(ChildStderr, std::process::ChildStderr);
