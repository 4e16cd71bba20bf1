//! [`OwnedReadHalf`] and [`OwnedWriteHalf`]: a [`TcpStream`] split into two owned halves
//! that can live in different tasks.
//!
//! Both hold an `Arc` of the stream. As with the borrowed halves, the driver's separate
//! read and write wakers let one task read while another writes. The write half shuts
//! down the write side when dropped (unless [`forget`](OwnedWriteHalf::forget) is called),
//! so a writer task that finishes tells the peer "no more data" even while the reader
//! keeps the socket open.
use super::TcpStream;
use futures_io::{AsyncRead, AsyncWrite};
use std::error::Error;
use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// The read half of a [`TcpStream`] split by [`TcpStream::into_split`].
#[derive(Debug)]
pub struct OwnedReadHalf {
    inner: Arc<TcpStream>,
}

/// The write half of a [`TcpStream`] split by [`TcpStream::into_split`]. Dropping it shuts
/// down the write side of the connection; closing it does so explicitly.
#[derive(Debug)]
pub struct OwnedWriteHalf {
    inner: Arc<TcpStream>,
    shutdown_on_drop: bool,
}

/// The halves passed to `reunite` came from different streams; here they are back.
#[derive(Debug)]
pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same TCP stream")
    }
}

impl Error for ReuniteError {}

pub(crate) fn split_owned(stream: TcpStream) -> (OwnedReadHalf, OwnedWriteHalf) {
    let inner = Arc::new(stream);
    (
        OwnedReadHalf {
            inner: inner.clone(),
        },
        OwnedWriteHalf {
            inner,
            shutdown_on_drop: true,
        },
    )
}

fn reunite(read: OwnedReadHalf, mut write: OwnedWriteHalf) -> Result<TcpStream, ReuniteError> {
    if !Arc::ptr_eq(&read.inner, &write.inner) {
        return Err(ReuniteError(read, write));
    }
    write.shutdown_on_drop = false;
    drop(write);
    Ok(Arc::try_unwrap(read.inner)
        .expect("the two halves of a TCP stream hold its only references"))
}

impl OwnedReadHalf {
    /// Puts the stream back together with its write half.
    ///
    /// # Errors
    ///
    /// [`ReuniteError`] (holding both halves) if `write` came from another stream.
    pub fn reunite(self, write: OwnedWriteHalf) -> Result<TcpStream, ReuniteError> {
        reunite(self, write)
    }

    /// See [`TcpStream::readable`].
    ///
    /// # Errors
    ///
    /// An error once the runtime has shut down.
    pub async fn readable(&self) -> io::Result<()> {
        self.inner.readable().await
    }

    /// See [`TcpStream::try_read`].
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the OS error.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.try_read(buf)
    }

    /// See [`TcpStream::peek`].
    ///
    /// # Errors
    ///
    /// The OS error.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.peek(buf).await
    }

    /// See [`TcpStream::peer_addr`].
    ///
    /// # Errors
    ///
    /// The OS error.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// See [`TcpStream::local_addr`].
    ///
    /// # Errors
    ///
    /// The OS error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl OwnedWriteHalf {
    /// Puts the stream back together with its read half.
    ///
    /// # Errors
    ///
    /// [`ReuniteError`] (holding both halves) if `read` came from another stream.
    pub fn reunite(self, read: OwnedReadHalf) -> Result<TcpStream, ReuniteError> {
        reunite(read, self)
    }

    /// Drops the half without shutting down the write side.
    pub fn forget(mut self) {
        self.shutdown_on_drop = false;
    }

    /// See [`TcpStream::writable`].
    ///
    /// # Errors
    ///
    /// An error once the runtime has shut down.
    pub async fn writable(&self) -> io::Result<()> {
        self.inner.writable().await
    }

    /// See [`TcpStream::try_write`].
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the OS error.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.try_write(buf)
    }

    /// See [`TcpStream::peer_addr`].
    ///
    /// # Errors
    ///
    /// The OS error.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// See [`TcpStream::local_addr`].
    ///
    /// # Errors
    ///
    /// The OS error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl OwnedReadHalf {
    /// The stream this half reads from.
    #[cfg_attr(not(feature = "hyper"), allow(dead_code))]
    pub(crate) fn stream(&self) -> &TcpStream {
        &self.inner
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            // The peer may already be gone (`NotConnected`): nothing left to tell it.
            let _ = self.inner.shutdown(Shutdown::Write);
        }
    }
}

impl AsyncRead for OwnedReadHalf {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.inner.poll_read_priv(cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.inner.poll_read_vectored_priv(cx, bufs)
    }
}

impl AsyncWrite for OwnedWriteHalf {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.inner.poll_write_priv(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.inner.poll_write_vectored_priv(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.poll_close_priv()
    }
}

crate::net::stream_io::impl_read_half_io!(OwnedReadHalf, TcpStream, inner);
crate::net::stream_io::impl_write_half_io!(OwnedWriteHalf, TcpStream, inner);
