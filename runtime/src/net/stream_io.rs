//! The I/O plumbing every connected stream shares (`TcpStream`, `UnixStream`): the
//! readiness-looping read/write calls that the stream and its split halves use, the
//! public readiness API (`ready`, `readable`, `writable`, `poll_read_ready`,
//! `poll_write_ready`, the `try_*` calls, `try_io`, `async_io`), and the `futures-io` and
//! fd trait impls. A stream type only has to hold its socket as `io: PollEvented<_>`
//! (whose `&` implements `Read` + `Write`) and have a `shutdown(&self, Shutdown)` method;
//! the macro's second argument is the doctest prelude that makes a connected pair `a`,
//! `b` of it inside an async block.
//!
//! Every `try_*` here is `Registration::try_io`: it runs only if the driver last saw the
//! socket ready, and clears that readiness (at the tick it was seen at) on `WouldBlock`,
//! so a following `readable().await` sleeps until the next event instead of spinning.
//!
//! # `SIGPIPE`
//!
//! Writing to a socket whose peer is gone raises `SIGPIPE`, which kills a process that has
//! not ignored it (Rust's `main` ignores it, but a library may run in a process that does
//! not, or restores it). std's `write` on a socket sends with `MSG_NOSIGNAL`, but its
//! `write_vectored` is a plain `writev`; so every vectored write here goes through
//! [`send_vectored`] (`sendmsg` with `MSG_NOSIGNAL`) and fails with `EPIPE`
//! (`BrokenPipe`) instead. On Apple platforms, which have no `MSG_NOSIGNAL`, std sets
//! `SO_NOSIGPIPE` on the sockets it creates.

/// Implements the shared stream I/O for `$stream`; see the module docs.
macro_rules! impl_stream_io {
    ($stream:ident, $pair:literal) => {
        impl $stream {
            /// Waits until the stream is ready in a direction of `interest` and returns
            /// what it was seen ready for. It can be a false positive: follow with the
            /// `try_*` calls, which clear the readiness when they would block.
            ///
            /// # Errors
            ///
            /// An error once the runtime has shut down.
            ///
            /// # Examples
            ///
            /// ```
            /// use filch::io::Interest;
            /// use std::io;
            ///
            /// let rt = filch::runtime::Runtime::new().unwrap();
            /// rt.block_on(async {
            #[doc = $pair]
            ///     let ready = a.ready(Interest::READABLE | Interest::WRITABLE).await.unwrap();
            ///     assert!(ready.is_writable());
            ///     loop {
            ///         // `try_write` fails with `WouldBlock` until the driver has seen `b`
            ///         // writable: wait for that first.
            ///         b.writable().await.unwrap();
            ///         match b.try_write(b"pong") {
            ///             Ok(_) => break,
            ///             Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            ///             Err(e) => panic!("{e}"),
            ///         }
            ///     }
            ///     let mut buf = [0; 4];
            ///     loop {
            ///         a.ready(Interest::READABLE).await.unwrap();
            ///         match a.try_read(&mut buf) {
            ///             Ok(n) => break assert_eq!(&buf[..n], b"pong"),
            ///             Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            ///             Err(e) => panic!("{e}"),
            ///         }
            ///     }
            /// });
            /// ```
            pub async fn ready(
                &self,
                interest: crate::io::Interest,
            ) -> std::io::Result<crate::io::Ready> {
                let event = self.io.registration().readiness(interest).await?;
                Ok(event.ready.to_public())
            }

            /// Waits until the stream may be readable: `ready(Interest::READABLE)`.
            /// It can be a false positive: follow with
            #[doc = concat!("[`try_read`](", stringify!($stream), "::try_read),")]
            /// which clears the readiness if it would block.
            ///
            /// # Errors
            ///
            /// An error once the runtime has shut down.
            pub async fn readable(&self) -> std::io::Result<()> {
                self.io
                    .registration()
                    .ready(crate::driver::io::Direction::Read)
                    .await
            }

            /// Waits until the stream may be writable: `ready(Interest::WRITABLE)`.
            ///
            /// # Errors
            ///
            /// An error once the runtime has shut down.
            pub async fn writable(&self) -> std::io::Result<()> {
                self.io
                    .registration()
                    .ready(crate::driver::io::Direction::Write)
                    .await
            }

            /// Polls for read readiness: `Ready(Ok(()))` once the stream may be readable;
            /// `Pending`, with the task's waker stored, until then. Only the last task to
            /// poll in each direction is guaranteed a wakeup (every waiting task is, in
            /// fact, woken; tokio keeps only one).
            ///
            /// # Errors
            ///
            /// An error once the runtime has shut down.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::future::poll_fn;
            /// use std::task::Context;
            ///
            /// let rt = filch::runtime::Runtime::new().unwrap();
            /// rt.block_on(async {
            #[doc = $pair]
            ///     let mut cx = Context::from_waker(futures::task::noop_waker_ref());
            ///     assert!(a.poll_read_ready(&mut cx).is_pending(), "nothing sent yet");
            ///     b.writable().await.unwrap();
            ///     b.try_write(b"!").unwrap();
            ///     poll_fn(|cx| a.poll_read_ready(cx)).await.unwrap();
            /// });
            /// ```
            pub fn poll_read_ready(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                self.io
                    .registration()
                    .poll_ready(crate::driver::io::Direction::Read, cx)
                    .map_ok(|_| ())
            }

            /// Polls for write readiness; see
            #[doc = concat!("[`poll_read_ready`](", stringify!($stream), "::poll_read_ready).")]
            ///
            /// # Errors
            ///
            /// An error once the runtime has shut down.
            pub fn poll_write_ready(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                self.io
                    .registration()
                    .poll_ready(crate::driver::io::Direction::Write, cx)
                    .map_ok(|_| ())
            }

            /// Reads what is available without waiting: `WouldBlock` if nothing is (which
            /// clears the readiness), `Ok(0)` at end-of-file.
            ///
            /// # Errors
            ///
            /// `WouldBlock`, or the OS error of `recv`.
            pub fn try_read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                let io = self.io.get_ref();
                self.io
                    .registration()
                    .try_io(crate::driver::io::Direction::Read, || {
                        std::io::Read::read(&mut &*io, buf)
                    })
            }

            /// Reads what is available into several buffers, filled in order, without
            /// waiting: `WouldBlock` if nothing is, `Ok(0)` at end-of-file.
            ///
            /// # Errors
            ///
            /// `WouldBlock`, or the OS error of `readv`.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::io::{IoSlice, IoSliceMut};
            ///
            /// let rt = filch::runtime::Runtime::new().unwrap();
            /// rt.block_on(async {
            #[doc = $pair]
            ///     b.writable().await.unwrap();
            ///     b.try_write_vectored(&[IoSlice::new(b"he"), IoSlice::new(b"llo")]).unwrap();
            ///     let (mut head, mut tail) = ([0; 2], [0; 8]);
            ///     let n = loop {
            ///         a.readable().await.unwrap();
            ///         let mut bufs = [IoSliceMut::new(&mut head), IoSliceMut::new(&mut tail)];
            ///         if let Ok(n) = a.try_read_vectored(&mut bufs) {
            ///             break n;
            ///         }
            ///     };
            ///     assert_eq!((n, &head, &tail[..3]), (5, b"he", &b"llo"[..]));
            /// });
            /// ```
            pub fn try_read_vectored(
                &self,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::io::Result<usize> {
                let io = self.io.get_ref();
                self.io
                    .registration()
                    .try_io(crate::driver::io::Direction::Read, || {
                        std::io::Read::read_vectored(&mut &*io, bufs)
                    })
            }

            /// Reads what is available into the spare capacity of `buf` without waiting,
            /// appending after the bytes already there (nothing is zero-filled; a vector
            /// with no spare capacity first grows by 64 bytes); returns the count.
            /// `WouldBlock` if nothing is available, `Ok(0)` at end-of-file. tokio takes a
            /// `bytes::BufMut`; filch takes a `Vec<u8>`.
            ///
            /// # Errors
            ///
            /// `WouldBlock`, or the OS error of `recv`; `buf` is unchanged.
            ///
            /// # Examples
            ///
            /// ```
            /// let rt = filch::runtime::Runtime::new().unwrap();
            /// rt.block_on(async {
            #[doc = $pair]
            ///     b.writable().await.unwrap();
            ///     b.try_write(b"tail").unwrap();
            ///     let mut buf = b"> ".to_vec();
            ///     buf.reserve(64);
            ///     loop {
            ///         a.readable().await.unwrap();
            ///         if a.try_read_buf(&mut buf).is_ok() {
            ///             break;
            ///         }
            ///     }
            ///     assert_eq!(buf, b"> tail");
            /// });
            /// ```
            pub fn try_read_buf(&self, buf: &mut Vec<u8>) -> std::io::Result<usize> {
                let io = self.io.get_ref();
                self.io
                    .registration()
                    .try_io(crate::driver::io::Direction::Read, || {
                        crate::net::socket::recv_spare(io, buf)
                    })
            }

            /// Writes what fits in the send buffer without waiting: `WouldBlock` if
            /// nothing does (which clears the readiness).
            ///
            /// # Errors
            ///
            /// `WouldBlock`, or the OS error of `send` (`BrokenPipe` when the peer is
            /// gone; never `SIGPIPE`).
            pub fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
                let io = self.io.get_ref();
                self.io
                    .registration()
                    .try_io(crate::driver::io::Direction::Write, || {
                        std::io::Write::write(&mut &*io, buf)
                    })
            }

            /// Writes what fits from several buffers, in order, without waiting:
            /// `WouldBlock` if nothing does. Sent with `sendmsg(MSG_NOSIGNAL)`, like the
            /// other vectored writes (see the module docs of `filch::net`).
            ///
            /// # Errors
            ///
            /// `WouldBlock`, or the OS error of `sendmsg` (`BrokenPipe` when the peer is
            /// gone).
            pub fn try_write_vectored(
                &self,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::io::Result<usize> {
                let io = self.io.get_ref();
                self.io
                    .registration()
                    .try_io(crate::driver::io::Direction::Write, || {
                        crate::net::stream_io::send_vectored(io, bufs)
                    })
            }

            /// Runs `f`, a non-blocking operation of your own on the socket (through
            /// `AsFd`/`AsRawFd` or `socket2::SockRef`), if the stream is marked ready for
            /// `interest`: `WouldBlock` if it is not; if `f` returns `WouldBlock`, the
            /// readiness it ran under is cleared. `f` must be a single non-blocking
            /// syscall, and must not itself wait.
            ///
            /// # Errors
            ///
            /// `WouldBlock`, `f`'s error, or an error once the runtime has shut down.
            ///
            /// # Examples
            ///
            /// ```
            /// use filch::io::Interest;
            /// use std::io;
            ///
            /// let rt = filch::runtime::Runtime::new().unwrap();
            /// rt.block_on(async {
            #[doc = $pair]
            ///     // Writable from the start; `f` runs, and its result comes back as is.
            ///     b.writable().await.unwrap();
            ///     assert_eq!(b.try_io(Interest::WRITABLE, || Ok(7)).unwrap(), 7);
            ///     // Nothing sent to `a`: not readable, so `f` does not even run.
            ///     let r = a.try_io(Interest::READABLE, || -> io::Result<()> { unreachable!() });
            ///     assert_eq!(r.unwrap_err().kind(), io::ErrorKind::WouldBlock);
            /// });
            /// ```
            pub fn try_io<R>(
                &self,
                interest: crate::io::Interest,
                f: impl FnOnce() -> std::io::Result<R>,
            ) -> std::io::Result<R> {
                self.io.registration().try_io_interest(interest, f)
            }

            /// Runs `f`, a non-blocking operation of your own on the socket, until it does
            /// not return `WouldBlock`: waits for `interest` before each try and clears
            /// the readiness after each `WouldBlock`.
            ///
            /// # Errors
            ///
            /// `f`'s first error other than `WouldBlock`, or an error once the runtime has
            /// shut down.
            pub async fn async_io<R>(
                &self,
                interest: crate::io::Interest,
                f: impl FnMut() -> std::io::Result<R>,
            ) -> std::io::Result<R> {
                self.io.registration().async_io_interest(interest, f).await
            }

            pub(crate) fn poll_read_priv(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io
                    .poll_read_io(cx, |io| std::io::Read::read(&mut &*io, buf))
            }

            /// `poll_read` into memory that may be uninitialised: the kernel writes the
            /// bytes straight into it (`recv`), with no zero-filling first.
            #[cfg_attr(not(feature = "hyper"), allow(dead_code))]
            pub(crate) fn poll_read_uninit_priv(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &mut [std::mem::MaybeUninit<u8>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io
                    .poll_read_io(cx, |io| socket2::SockRef::from(io).recv(&mut *buf))
            }

            pub(crate) fn poll_read_vectored_priv(
                &self,
                cx: &mut std::task::Context<'_>,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io
                    .poll_read_io(cx, |io| std::io::Read::read_vectored(&mut &*io, bufs))
            }

            pub(crate) fn poll_write_priv(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io
                    .poll_write_stream_io(cx, buf.len(), |io| std::io::Write::write(&mut &*io, buf))
            }

            pub(crate) fn poll_write_vectored_priv(
                &self,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let len = bufs.iter().map(|b| b.len()).sum();
                self.io.poll_write_stream_io(cx, len, |io| {
                    crate::net::stream_io::send_vectored(io, bufs)
                })
            }

            /// `poll_close`: shut down the write side (it never waits).
            ///
            /// A peer that already reset the connection leaves nothing to shut down:
            /// `shutdown` then fails with `NotConnected`, which is reported as `Ok` (as
            /// tokio does, and as the owned write half's drop does), so that a server does
            /// not see an error for every client that went away.
            pub(crate) fn poll_close_priv(&self) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(match self.shutdown(std::net::Shutdown::Write) {
                    Err(e) if e.kind() == std::io::ErrorKind::NotConnected => Ok(()),
                    result => result,
                })
            }
        }

        impl futures_io::AsyncRead for $stream {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.poll_read_priv(cx, buf)
            }

            fn poll_read_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.poll_read_vectored_priv(cx, bufs)
            }
        }

        impl futures_io::AsyncWrite for $stream {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.poll_write_priv(cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.poll_write_vectored_priv(cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                // Nothing is buffered in user space.
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                self.poll_close_priv()
            }
        }

        impl std::os::fd::AsFd for $stream {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                std::os::fd::AsFd::as_fd(&self.io)
            }
        }

        impl std::os::fd::AsRawFd for $stream {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                std::os::fd::AsRawFd::as_raw_fd(&self.io)
            }
        }

        impl std::fmt::Debug for $stream {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(self.io.get_ref(), f)
            }
        }
    };
}

pub(crate) use impl_stream_io;

/// `ready` for a half (`$half`, whose `self.$field` derefs to the `$stream`), read or
/// write: forwarded to the stream, so the halves share its readiness (one event wakes a
/// task waiting on either).
macro_rules! impl_half_ready {
    ($half:ty, $stream:ident, $field:tt) => {
        impl $half {
            #[doc = concat!("See [`", stringify!($stream), "::ready`].")]
            ///
            /// # Errors
            ///
            /// An error once the runtime has shut down.
            pub async fn ready(
                &self,
                interest: crate::io::Interest,
            ) -> std::io::Result<crate::io::Ready> {
                self.$field.ready(interest).await
            }
        }
    };
}

pub(crate) use impl_half_ready;

/// The readiness calls of a read half (`$half`, as for [`impl_half_ready`]) that are the
/// read direction's: forwarded to the stream.
macro_rules! impl_read_half_io {
    ($half:ty, $stream:ident, $field:tt) => {
        impl $half {
            #[doc = concat!("See [`", stringify!($stream), "::poll_read_ready`].")]
            ///
            /// # Errors
            ///
            /// An error once the runtime has shut down.
            pub fn poll_read_ready(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                self.$field.poll_read_ready(cx)
            }

            #[doc = concat!("See [`", stringify!($stream), "::try_read_vectored`].")]
            ///
            /// # Errors
            ///
            /// `WouldBlock`, or the OS error.
            pub fn try_read_vectored(
                &self,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::io::Result<usize> {
                self.$field.try_read_vectored(bufs)
            }

            #[doc = concat!("See [`", stringify!($stream), "::try_read_buf`].")]
            ///
            /// # Errors
            ///
            /// `WouldBlock`, or the OS error; `buf` is unchanged.
            pub fn try_read_buf(&self, buf: &mut Vec<u8>) -> std::io::Result<usize> {
                self.$field.try_read_buf(buf)
            }
        }
    };
}

pub(crate) use impl_read_half_io;

/// The write-half twin of [`impl_read_half_io`].
macro_rules! impl_write_half_io {
    ($half:ty, $stream:ident, $field:tt) => {
        impl $half {
            #[doc = concat!("See [`", stringify!($stream), "::poll_write_ready`].")]
            ///
            /// # Errors
            ///
            /// An error once the runtime has shut down.
            pub fn poll_write_ready(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                self.$field.poll_write_ready(cx)
            }

            #[doc = concat!("See [`", stringify!($stream), "::try_write_vectored`].")]
            ///
            /// # Errors
            ///
            /// `WouldBlock`, or the OS error (`BrokenPipe` when the peer is gone).
            pub fn try_write_vectored(
                &self,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::io::Result<usize> {
                self.$field.try_write_vectored(bufs)
            }
        }
    };
}

pub(crate) use impl_write_half_io;

/// Flags for every send: no `SIGPIPE`, said per call. Apple's platforms have no
/// `MSG_NOSIGNAL`; std sets `SO_NOSIGPIPE` on their sockets instead.
#[cfg(not(target_vendor = "apple"))]
const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;
#[cfg(target_vendor = "apple")]
const SEND_FLAGS: libc::c_int = 0;

/// `write_vectored` on a connected stream socket, without raising `SIGPIPE`: `sendmsg`
/// with `MSG_NOSIGNAL` (see the module docs).
///
/// # Errors
///
/// The OS error of `sendmsg`: `WouldBlock` when the socket buffer is full, `BrokenPipe`
/// or `ConnectionReset` when the peer is gone.
pub(crate) fn send_vectored(
    socket: &impl std::os::fd::AsFd,
    bufs: &[std::io::IoSlice<'_>],
) -> std::io::Result<usize> {
    socket2::SockRef::from(socket).send_vectored_with_flags(bufs, SEND_FLAGS)
}
