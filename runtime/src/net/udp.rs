//! [`UdpSocket`]: a UDP socket registered with the runtime's driver.
use crate::driver::io::{Direction, PollEvented};
use crate::net::addr::{each_addr, first_addr, resolution_of, ToSocketAddrs};
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll};

/// A UDP socket.
///
/// Every method takes `&self`, so a socket can be shared through an `Arc`, and several
/// tasks may wait to send or receive on it at once (each event wakes all of them; one gets
/// the datagram, the others wait again).
///
/// # Examples
///
/// ```
/// use filch::net::UdpSocket;
///
/// let rt = filch::runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     a.send_to(b"ping", b.local_addr().unwrap()).await.unwrap();
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await.unwrap();
///     assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr().unwrap()));
/// });
/// ```
pub struct UdpSocket {
    io: PollEvented<std::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds a socket to `addr`, trying each address it resolves to in turn.
    ///
    /// # Errors
    ///
    /// The OS error of the last address tried (e.g. `AddrInUse`), or a resolution error.
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        each_addr(resolution_of(&addr), |addr| async move {
            // `std` creates it with `SOCK_CLOEXEC`.
            UdpSocket::from_std(std::net::UdpSocket::bind(addr)?)
        })
        .await
    }

    /// Takes over a `std::net::UdpSocket`, switching it to non-blocking mode.
    ///
    /// # Errors
    ///
    /// The OS error from switching modes or registering with the driver.
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime.
    #[track_caller]
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        Ok(UdpSocket {
            io: PollEvented::new(socket)?,
        })
    }

    /// Deregisters the socket and hands back the `std::net::UdpSocket` (non-blocking).
    ///
    /// # Errors
    ///
    /// The OS error from removing it from the poller.
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        self.io.into_inner()
    }

    /// Connects the socket to `addr`: [`send`](Self::send) goes there and
    /// [`recv`](Self::recv) only accepts datagrams from there. Tries each address `addr`
    /// resolves to until one succeeds.
    ///
    /// # Errors
    ///
    /// The OS error of the last address tried, or a resolution error.
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        let socket = self.io.get_ref();
        each_addr(
            resolution_of(&addr),
            |addr| async move { socket.connect(addr) },
        )
        .await
    }

    /// Sends `buf` to the connected peer; returns the bytes sent.
    ///
    /// # Errors
    ///
    /// The OS error of `send` (e.g. `ConnectionRefused` after an ICMP unreachable).
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.write_io(|socket| socket.send(buf)).await
    }

    /// Receives one datagram from the connected peer into `buf` (the rest of a longer
    /// datagram is dropped).
    ///
    /// # Errors
    ///
    /// The OS error of `recv`.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read_io(|socket| socket.recv(buf)).await
    }

    /// Sends `buf` to `target` (its first address).
    ///
    /// # Errors
    ///
    /// The OS error of `sendto`, or a resolution error.
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let target = first_addr(resolution_of(&target)).await?;
        self.io.write_io(|socket| socket.send_to(buf, target)).await
    }

    /// Receives one datagram and the address it came from.
    ///
    /// # Errors
    ///
    /// The OS error of `recvfrom`.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.read_io(|socket| socket.recv_from(buf)).await
    }

    /// Like [`recv_from`](Self::recv_from), but leaves the datagram in the queue.
    ///
    /// # Errors
    ///
    /// The OS error of `recvfrom`.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.read_io(|socket| socket.peek_from(buf)).await
    }

    /// Polls for a datagram; see [`recv_from`](Self::recv_from).
    ///
    /// # Errors
    ///
    /// The OS error of `recvfrom`.
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io.poll_read_io(cx, |socket| socket.recv_from(buf))
    }

    /// Polls to send a datagram; see [`send_to`](Self::send_to).
    ///
    /// # Errors
    ///
    /// The OS error of `sendto`.
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_write_io(cx, |socket| socket.send_to(buf, target))
    }

    /// Receives a datagram if one is queued: `WouldBlock` otherwise.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the OS error of `recvfrom`.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .try_io(Direction::Read, || socket.recv_from(buf))
    }

    /// Sends a datagram if there is room: `WouldBlock` otherwise.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the OS error of `sendto`.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .try_io(Direction::Write, || socket.send_to(buf, target))
    }

    /// Waits until a datagram may be queued (then use `try_recv_from`).
    ///
    /// # Errors
    ///
    /// An error once the runtime has shut down.
    pub async fn readable(&self) -> io::Result<()> {
        self.io.registration().ready(Direction::Read).await
    }

    /// Waits until a datagram may be sent without waiting.
    ///
    /// # Errors
    ///
    /// An error once the runtime has shut down.
    pub async fn writable(&self) -> io::Result<()> {
        self.io.registration().ready(Direction::Write).await
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
    /// `NotConnected` if [`connect`](Self::connect) was not called, or the OS error.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Sets `SO_BROADCAST` (allows sending to a broadcast address).
    ///
    /// # Errors
    ///
    /// The OS error (`setsockopt`).
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// Whether `SO_BROADCAST` is set.
    ///
    /// # Errors
    ///
    /// The OS error (`getsockopt`).
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get_ref().broadcast()
    }

    /// Sets the IP time-to-live of outgoing datagrams.
    ///
    /// # Errors
    ///
    /// The OS error (`setsockopt`).
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live of outgoing datagrams.
    ///
    /// # Errors
    ///
    /// The OS error (`getsockopt`).
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
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

impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.get_ref().fmt(f)
    }
}
