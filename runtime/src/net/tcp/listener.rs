//! [`TcpListener`]: a listening TCP socket, and its [`Incoming`] stream.
use super::TcpStream;
use crate::driver::io::PollEvented;
use crate::net::addr::{each_addr, resolution_of, ToSocketAddrs};
use crate::net::socket::{new_socket, LISTEN_BACKLOG};
use futures_core::Stream;
use socket2::{Domain, Protocol, SockAddr, Type};
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// A TCP socket listening for connections.
///
/// `accept` waits for the next connection without blocking the thread. Several tasks may
/// accept on one listener (shared through an `Arc`): each new connection wakes them all and
/// one of them gets it. The usual shape is one accept loop that spawns a task per
/// connection, as in the example.
///
/// # Examples
///
/// ```no_run
/// use filch::io::AsyncWriteExt;
/// use filch::net::TcpListener;
///
/// #[filch::main]
/// async fn main() -> std::io::Result<()> {
///     let listener = TcpListener::bind("127.0.0.1:8080").await?;
///     loop {
///         let (mut socket, peer) = listener.accept().await?;
///         filch::spawn(async move {
///             let _ = socket.write_all(format!("hello, {peer}\n").as_bytes()).await;
///         });
///     }
/// }
/// ```
pub struct TcpListener {
    io: PollEvented<std::net::TcpListener>,
}

impl TcpListener {
    /// Binds a listener to `addr` (`SO_REUSEADDR`, backlog 1024), trying each address it
    /// resolves to in turn. Port 0 picks a free port; see [`local_addr`](Self::local_addr).
    ///
    /// # Errors
    ///
    /// The OS error of the last address tried (e.g. `AddrInUse`), or a resolution error.
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        each_addr(
            resolution_of(&addr),
            |addr| async move { Self::bind_addr(addr) },
        )
        .await
    }

    #[track_caller]
    fn bind_addr(addr: SocketAddr) -> io::Result<TcpListener> {
        let socket = new_socket(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        // As `std` does on Unix: rebinding a port whose old connections sit in TIME_WAIT
        // must work; a port with a live listener still fails with `AddrInUse`.
        socket.set_reuse_address(true)?;
        socket.bind(&SockAddr::from(addr))?;
        socket.listen(LISTEN_BACKLOG)?;
        Ok(TcpListener {
            io: PollEvented::new(
                std::net::TcpListener::from(socket),
                crate::runtime::context::io_driver(),
            )?,
        })
    }

    /// Takes over a bound, listening `std::net::TcpListener`, switching it to
    /// non-blocking mode.
    ///
    /// # Errors
    ///
    /// The OS error from switching modes or registering with the driver.
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime.
    #[track_caller]
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        Ok(TcpListener {
            io: PollEvented::new(listener, crate::runtime::context::io_driver())?,
        })
    }

    /// Deregisters the listener and hands back the `std::net::TcpListener`, still in
    /// non-blocking mode.
    ///
    /// # Errors
    ///
    /// The OS error from removing it from the poller.
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        self.io.into_inner()
    }

    /// Waits for a connection: the new stream (non-blocking, close-on-exec, registered
    /// with this runtime) and the peer's address.
    ///
    /// # Errors
    ///
    /// The OS error of `accept` (e.g. `EMFILE` when out of file descriptors).
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        std::future::poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection; see [`accept`](Self::accept).
    ///
    /// # Errors
    ///
    /// The OS error of `accept`.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let (stream, addr) = ready!(self.io.poll_read_io(cx, |listener| listener.accept()))?;
        // `std`'s accept uses `accept4(SOCK_CLOEXEC)`; the new socket is blocking.
        stream.set_nonblocking(true)?;
        Poll::Ready(Ok((TcpStream::new(stream)?, addr)))
    }

    /// The accepted connections as a [`Stream`] (it never ends; errors are items).
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    ///
    /// The OS error (`getsockname`).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Sets the IP time-to-live of the connections' packets.
    ///
    /// # Errors
    ///
    /// The OS error (`setsockopt`).
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live.
    ///
    /// # Errors
    ///
    /// The OS error (`getsockopt`).
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }
}

/// The [`Stream`] of connections returned by [`TcpListener::incoming`].
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl Stream for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let accepted = ready!(self.listener.poll_accept(cx));
        Poll::Ready(Some(accepted.map(|(stream, _)| stream)))
    }
}

impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.get_ref().fmt(f)
    }
}
