//! [`UnixListener`]: a listening Unix-domain socket, and its [`Incoming`] stream.
use super::UnixStream;
use crate::driver::io::PollEvented;
use crate::net::socket::{new_socket, LISTEN_BACKLOG};
use futures_core::Stream;
use socket2::{Domain, SockAddr, Type};
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// A Unix-domain socket listening for connections. As with
/// [`TcpListener`](crate::net::TcpListener), one task should accept at a time.
///
/// The socket file is not removed when the listener drops (as with `std`).
///
/// # Examples
///
/// ```
/// use filch::net::{UnixListener, UnixStream};
///
/// let rt = filch::runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let dir = std::env::temp_dir().join(format!("filch-doc-{}", std::process::id()));
///     std::fs::create_dir_all(&dir).unwrap();
///     let path = dir.join("listener.sock");
///     let _ = std::fs::remove_file(&path);
///     let listener = UnixListener::bind(&path).unwrap();
///     let client = UnixStream::connect(&path).await.unwrap();
///     let (server, _) = listener.accept().await.unwrap();
///     assert_eq!(server.peer_addr().unwrap().as_pathname(), None);
///     drop((client, server));
///     std::fs::remove_dir_all(&dir).unwrap();
/// });
/// ```
pub struct UnixListener {
    io: PollEvented<std::os::unix::net::UnixListener>,
}

impl UnixListener {
    /// Binds a listener to `path` (backlog 1024). The path must not exist yet.
    ///
    /// # Errors
    ///
    /// The OS error, e.g. `AddrInUse` if the path exists.
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime.
    #[track_caller]
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let addr = SockAddr::unix(path)?;
        let socket = new_socket(Domain::UNIX, Type::STREAM, None)?;
        socket.bind(&addr)?;
        socket.listen(LISTEN_BACKLOG)?;
        Ok(UnixListener {
            io: PollEvented::new(socket.into(), crate::runtime::context::io_driver())?,
        })
    }

    /// Takes over a listening std listener, switching it to non-blocking mode.
    ///
    /// # Errors
    ///
    /// The OS error from switching modes or registering with the driver.
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime.
    #[track_caller]
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        Ok(UnixListener {
            io: PollEvented::new(listener, crate::runtime::context::io_driver())?,
        })
    }

    /// Deregisters the listener and hands back the std listener, still non-blocking.
    ///
    /// # Errors
    ///
    /// The OS error from removing it from the poller.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        self.io.into_inner()
    }

    /// Waits for a connection.
    ///
    /// # Errors
    ///
    /// The OS error of `accept`.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        std::future::poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection; see [`accept`](Self::accept).
    ///
    /// # Errors
    ///
    /// The OS error of `accept`.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let (stream, addr) = ready!(self.io.poll_read_io(cx, |listener| listener.accept()))?;
        stream.set_nonblocking(true)?;
        Poll::Ready(Ok((UnixStream::new(stream)?, addr)))
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

    /// Takes the pending socket error (`SO_ERROR`), if any.
    ///
    /// # Errors
    ///
    /// The OS error from reading the option.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

/// The [`Stream`] of connections returned by [`UnixListener::incoming`].
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct Incoming<'a> {
    listener: &'a UnixListener,
}

impl Stream for Incoming<'_> {
    type Item = io::Result<UnixStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let accepted = ready!(self.listener.poll_accept(cx));
        Poll::Ready(Some(accepted.map(|(stream, _)| stream)))
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.get_ref().fmt(f)
    }
}
