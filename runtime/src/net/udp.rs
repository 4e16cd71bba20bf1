//! [`UdpSocket`]: a UDP socket registered with the runtime's driver.
//!
//! Follows tokio's `UdpSocket`, except that the `poll_*` receives fill a `&mut [u8]` and
//! return the count (filch has no `ReadBuf`; this is the `futures-io` convention), and the
//! `recv_buf*` methods take a `&mut Vec<u8>` instead of a `bytes::BufMut` (see
//! [`recv_buf`](UdpSocket::recv_buf)).
use crate::driver::io::{Direction, PollEvented};
use crate::net::addr::{each_addr, first_addr, resolution_of, ToSocketAddrs};
use socket2::{SockAddr, SockRef};
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
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
            io: PollEvented::new(socket, crate::runtime::context::io_driver())?,
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

    /// Like [`recv`](Self::recv), but leaves the datagram in the queue (`MSG_PEEK`): the
    /// next receive returns it again.
    ///
    /// # Errors
    ///
    /// The OS error of `recv`.
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
    ///     b.connect(a.local_addr().unwrap()).await.unwrap();
    ///     a.send_to(b"twice", b.local_addr().unwrap()).await.unwrap();
    ///     let mut buf = [0; 16];
    ///     assert_eq!(b.peek(&mut buf).await.unwrap(), 5);
    ///     assert_eq!(b.recv(&mut buf).await.unwrap(), 5);
    ///     assert_eq!(&buf[..5], b"twice");
    /// });
    /// ```
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read_io(|socket| socket.peek(buf)).await
    }

    /// Polls to peek at the next datagram from the connected peer; see
    /// [`peek`](Self::peek). Wakes as [`poll_recv`](Self::poll_recv) does.
    ///
    /// # Errors
    ///
    /// The OS error of `recv`.
    pub fn poll_peek(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_read_io(cx, |socket| socket.peek(buf))
    }

    /// [`peek`](Self::peek) if a datagram is queued: `WouldBlock` otherwise.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the OS error of `recv`.
    pub fn try_peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .try_io(Direction::Read, || socket.peek(buf))
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

    /// Like [`recv_from`](Self::recv_from), but leaves the datagram in the queue.
    ///
    /// # Errors
    ///
    /// The OS error of `recvfrom`.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.read_io(|socket| socket.peek_from(buf)).await
    }

    /// Polls to peek at the next datagram and its sender; see
    /// [`peek_from`](Self::peek_from). Wakes as [`poll_recv_from`](Self::poll_recv_from)
    /// does.
    ///
    /// # Errors
    ///
    /// The OS error of `recvfrom`.
    pub fn poll_peek_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io.poll_read_io(cx, |socket| socket.peek_from(buf))
    }

    /// [`peek_from`](Self::peek_from) if a datagram is queued: `WouldBlock` otherwise.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the OS error of `recvfrom`.
    pub fn try_peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .try_io(Direction::Read, || socket.peek_from(buf))
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

    /// Sets `IP_MULTICAST_LOOP`: whether IPv4 multicast datagrams this socket sends are
    /// looped back to the local host's members of the group (on by default).
    ///
    /// # Errors
    ///
    /// The OS error (`setsockopt`).
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::net::UdpSocket;
    ///
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     socket.set_multicast_loop_v4(false).unwrap();
    ///     assert!(!socket.multicast_loop_v4().unwrap());
    /// });
    /// ```
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v4(on)
    }

    /// Whether `IP_MULTICAST_LOOP` is set; see
    /// [`set_multicast_loop_v4`](Self::set_multicast_loop_v4).
    ///
    /// # Errors
    ///
    /// The OS error (`getsockopt`).
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v4()
    }

    /// Sets `IP_MULTICAST_TTL`, the time-to-live of IPv4 multicast datagrams this socket
    /// sends (1 by default: they stay on the local network).
    ///
    /// # Errors
    ///
    /// The OS error (`setsockopt`).
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_multicast_ttl_v4(ttl)
    }

    /// The `IP_MULTICAST_TTL` of the socket; see
    /// [`set_multicast_ttl_v4`](Self::set_multicast_ttl_v4).
    ///
    /// # Errors
    ///
    /// The OS error (`getsockopt`).
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.io.get_ref().multicast_ttl_v4()
    }

    /// Sets `IPV6_MULTICAST_LOOP`: whether IPv6 multicast datagrams this socket sends are
    /// looped back to the local host's members of the group (on by default). Only for
    /// IPv6 sockets.
    ///
    /// # Errors
    ///
    /// The OS error (`setsockopt`), e.g. on an IPv4 socket.
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v6(on)
    }

    /// Whether `IPV6_MULTICAST_LOOP` is set; see
    /// [`set_multicast_loop_v6`](Self::set_multicast_loop_v6).
    ///
    /// # Errors
    ///
    /// The OS error (`getsockopt`), e.g. on an IPv4 socket.
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v6()
    }

    /// Joins the IPv4 multicast group `multiaddr` on the interface with address
    /// `interface` (`Ipv4Addr::UNSPECIFIED`: the system picks one) (`IP_ADD_MEMBERSHIP`).
    ///
    /// # Errors
    ///
    /// The OS error (`setsockopt`), e.g. `InvalidInput` if `multiaddr` is not a multicast
    /// address, or `ENODEV` if no interface fits.
    pub fn join_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().join_multicast_v4(&multiaddr, &interface)
    }

    /// Leaves a group joined with [`join_multicast_v4`](Self::join_multicast_v4)
    /// (`IP_DROP_MEMBERSHIP`).
    ///
    /// # Errors
    ///
    /// The OS error (`setsockopt`), e.g. `EADDRNOTAVAIL` if the socket is not a member.
    pub fn leave_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v4(&multiaddr, &interface)
    }

    /// Joins the IPv6 multicast group `multiaddr` on the interface with index `interface`
    /// (0: the system picks one) (`IPV6_ADD_MEMBERSHIP`). Only for IPv6 sockets.
    ///
    /// # Errors
    ///
    /// The OS error (`setsockopt`).
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().join_multicast_v6(multiaddr, interface)
    }

    /// Leaves a group joined with [`join_multicast_v6`](Self::join_multicast_v6)
    /// (`IPV6_DROP_MEMBERSHIP`).
    ///
    /// # Errors
    ///
    /// The OS error (`setsockopt`), e.g. `EADDRNOTAVAIL` if the socket is not a member.
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v6(multiaddr, interface)
    }

    /// Sets `IP_TOS`, the type-of-service byte of the IPv4 datagrams this socket sends
    /// (tokio's `set_tos`, renamed `set_tos_v4` in tokio 1.4x; filch has both names).
    /// It may have no effect on an IPv6 socket.
    ///
    /// # Errors
    ///
    /// The OS error (`setsockopt`).
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::net::UdpSocket;
    ///
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     socket.set_tos(0x10).unwrap(); // "low delay"
    ///     assert_eq!(socket.tos().unwrap(), 0x10);
    /// });
    /// ```
    pub fn set_tos(&self, tos: u32) -> io::Result<()> {
        SockRef::from(self.io.get_ref()).set_tos_v4(tos)
    }

    /// The `IP_TOS` of the socket; see [`set_tos`](Self::set_tos).
    ///
    /// # Errors
    ///
    /// The OS error (`getsockopt`).
    pub fn tos(&self) -> io::Result<u32> {
        SockRef::from(self.io.get_ref()).tos_v4()
    }

    /// Same as [`set_tos`](Self::set_tos) (tokio's current name).
    ///
    /// # Errors
    ///
    /// The OS error (`setsockopt`).
    pub fn set_tos_v4(&self, tos: u32) -> io::Result<()> {
        self.set_tos(tos)
    }

    /// Same as [`tos`](Self::tos) (tokio's current name).
    ///
    /// # Errors
    ///
    /// The OS error (`getsockopt`).
    pub fn tos_v4(&self) -> io::Result<u32> {
        self.tos()
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

crate::net::datagram_io::impl_datagram_io!(
    UdpSocket,
    "    let a = filch::net::UdpSocket::bind(\"127.0.0.1:0\").await.unwrap();\n    let b = filch::net::UdpSocket::bind(\"127.0.0.1:0\").await.unwrap();\n    a.connect(b.local_addr().unwrap()).await.unwrap();\n    b.connect(a.local_addr().unwrap()).await.unwrap();",
    SocketAddr,
    inet_addr,
    "    assert_eq!(from, a.local_addr().unwrap());"
);

/// The count and the sender of a `recvfrom` on an IP socket, the sender as a std address.
fn inet_addr((n, addr): (usize, SockAddr)) -> io::Result<(usize, SocketAddr)> {
    match addr.as_socket() {
        Some(addr) => Ok((n, addr)),
        None => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "recvfrom on a UDP socket returned a non-IP address",
        )),
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
