//! [`UnixDatagram`]: a Unix-domain datagram socket registered with the runtime's driver.
//!
//! Follows tokio's `UnixDatagram`, with the same two differences as
//! [`UdpSocket`](crate::net::UdpSocket): the `poll_*` receives fill a `&mut [u8]` and
//! return the count, and `recv_buf*` take a `&mut Vec<u8>` (see
//! [`recv_buf`](UnixDatagram::recv_buf)).
use crate::driver::io::{Direction, PollEvented};
use socket2::SockAddr;
use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::sync::OnceLock;
use std::task::{Context, Poll};

/// A Unix-domain datagram socket. As with [`UdpSocket`](crate::net::UdpSocket), at most
/// one task should wait to receive and one to send at a time.
///
/// # Examples
///
/// ```
/// use filch::net::UnixDatagram;
///
/// let rt = filch::runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let (a, b) = UnixDatagram::pair().unwrap();
///     a.send(b"one datagram").await.unwrap();
///     let mut buf = [0; 32];
///     let n = b.recv(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"one datagram");
/// });
/// ```
pub struct UnixDatagram {
    io: PollEvented<std::os::unix::net::UnixDatagram>,
}

impl UnixDatagram {
    /// A socket bound to `path`.
    ///
    /// # Errors
    ///
    /// The OS error, e.g. `AddrInUse` if the path exists.
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime.
    #[track_caller]
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        // `std` creates it with `SOCK_CLOEXEC`.
        UnixDatagram::from_std(std::os::unix::net::UnixDatagram::bind(path)?)
    }

    /// A socket bound to no address (it can send, and receive replies only if connected
    /// to a peer that knows where to answer).
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime.
    #[track_caller]
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(std::os::unix::net::UnixDatagram::unbound()?)
    }

    /// A pair of connected sockets (`socketpair(2)`).
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime.
    #[track_caller]
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = std::os::unix::net::UnixDatagram::pair()?;
        Ok((UnixDatagram::from_std(a)?, UnixDatagram::from_std(b)?))
    }

    /// Takes over a std datagram socket, switching it to non-blocking mode.
    ///
    /// # Errors
    ///
    /// The OS error from switching modes or registering with the driver.
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime.
    #[track_caller]
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        Ok(UnixDatagram {
            io: PollEvented::new(socket, crate::runtime::context::io_driver())?,
        })
    }

    /// Deregisters the socket and hands back the std socket, still non-blocking.
    ///
    /// # Errors
    ///
    /// The OS error from removing it from the poller.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixDatagram> {
        self.io.into_inner()
    }

    /// Connects the socket to `path`: [`send`](Self::send) goes there and
    /// [`recv`](Self::recv) only accepts datagrams from there. Datagram connects complete
    /// at once, so this does not wait.
    ///
    /// # Errors
    ///
    /// The OS error, e.g. `ConnectionRefused` or `NotFound`.
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.io.get_ref().connect(path)
    }

    /// Sends `buf` to the socket bound at `path`.
    ///
    /// # Errors
    ///
    /// The OS error of `sendto`.
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let path = path.as_ref();
        self.io.write_io(|socket| socket.send_to(buf, path)).await
    }

    /// Polls to send `buf` to the socket bound at `path`; see [`send_to`](Self::send_to).
    ///
    /// # Errors
    ///
    /// The OS error of `sendto`, e.g. `NotFound` if nothing is bound at `path`.
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        path: impl AsRef<Path>,
    ) -> Poll<io::Result<usize>> {
        let path = path.as_ref();
        self.io
            .poll_write_io(cx, |socket| socket.send_to(buf, path))
    }

    /// Sends a datagram to the socket bound at `path` if there is room: `WouldBlock`
    /// otherwise.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the OS error.
    pub fn try_send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .try_io(Direction::Write, || socket.send_to(buf, path))
    }

    /// The address the socket is bound to.
    ///
    /// # Errors
    ///
    /// The OS error (`getsockname`).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The address of the connected peer.
    ///
    /// # Errors
    ///
    /// `NotConnected`, or the OS error.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Shuts down the read side, the write side or both.
    ///
    /// # Errors
    ///
    /// The OS error.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
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

/// The count and the sender of a `recvfrom` on a Unix socket, the sender as a std address.
fn unix_addr((n, addr): (usize, SockAddr)) -> io::Result<(usize, SocketAddr)> {
    if let Some(path) = addr.as_pathname() {
        return Ok((n, SocketAddr::from_pathname(path)?));
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Some(name) = addr.as_abstract_namespace() {
        #[cfg(target_os = "android")]
        use std::os::android::net::SocketAddrExt;
        #[cfg(target_os = "linux")]
        use std::os::linux::net::SocketAddrExt;
        return Ok((n, SocketAddr::from_abstract_name(name)?));
    }
    Ok((n, unnamed()?))
}

/// An unnamed Unix address (a sender that is not bound), which std can only produce as the
/// address of an unbound socket (as its `SocketAddr::is_unnamed` docs show); made once.
fn unnamed() -> io::Result<SocketAddr> {
    static UNNAMED: OnceLock<SocketAddr> = OnceLock::new();
    if let Some(addr) = UNNAMED.get() {
        return Ok(addr.clone());
    }
    let addr = std::os::unix::net::UnixDatagram::unbound()?.local_addr()?;
    Ok(UNNAMED.get_or_init(|| addr).clone())
}

crate::net::datagram_io::impl_datagram_io!(
    UnixDatagram,
    "    let (a, b) = filch::net::UnixDatagram::pair().unwrap();",
    SocketAddr,
    unix_addr,
    "    assert!(from.is_unnamed(), \"a pair's sockets are unnamed\");"
);

impl AsFd for UnixDatagram {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.get_ref().fmt(f)
    }
}
