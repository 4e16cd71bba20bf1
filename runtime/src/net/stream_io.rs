//! The I/O plumbing every connected stream shares (`TcpStream`, `UnixStream`): the
//! readiness-looping read/write calls that the stream and its split halves use, and the
//! `futures-io` and fd trait impls. A stream type only has to hold its socket as
//! `io: PollEvented<_>` (whose `&` implements `Read` + `Write`) and have a
//! `shutdown(&self, Shutdown)` method.
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
    ($stream:ty) => {
        impl $stream {
            pub(crate) fn poll_read_priv(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io
                    .poll_read_io(cx, |io| std::io::Read::read(&mut &*io, buf))
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
                    .poll_write_io(cx, |io| std::io::Write::write(&mut &*io, buf))
            }

            pub(crate) fn poll_write_vectored_priv(
                &self,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io
                    .poll_write_io(cx, |io| crate::net::stream_io::send_vectored(io, bufs))
            }

            /// `poll_close`: shut down the write side (it never waits).
            pub(crate) fn poll_close_priv(&self) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(self.shutdown(std::net::Shutdown::Write))
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
