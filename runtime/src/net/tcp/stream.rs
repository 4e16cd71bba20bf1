//! [`TcpStream`]: a TCP connection registered with the runtime's driver.
use super::split::{split, ReadHalf, WriteHalf};
use super::split_owned::{split_owned, OwnedReadHalf, OwnedWriteHalf};
use crate::driver::io::{Direction, PollEvented};
use crate::net::addr::{each_addr, resolution_of, ToSocketAddrs};
use crate::net::socket::{connect_in_progress, new_socket};
use socket2::{Domain, Protocol, SockAddr, SockRef, Type};
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

/// A TCP connection: `std::net::TcpStream`, with reads and writes that wait for the socket
/// instead of blocking the thread.
///
/// Read and write it through [`AsyncRead`](crate::io::AsyncRead) /
/// [`AsyncWrite`](crate::io::AsyncWrite) and the helpers of [`filch::io`](crate::io)
/// (`read`, `read_exact`, `write_all`, ...); or by readiness, with
/// [`ready`](Self::ready) and the `try_*` calls. Closing
/// ([`AsyncWriteExt::close`](crate::io::AsyncWriteExt::close)) shuts down the write side,
/// so the peer reads end-of-file; dropping the stream closes the socket.
///
/// To read in one task and write in another, use [`split`](Self::split) (borrowed halves)
/// or [`into_split`](Self::into_split) (owned halves).
///
/// # Examples
///
/// ```
/// use filch::io::{AsyncReadExt, AsyncWriteExt};
/// use filch::net::{TcpListener, TcpStream};
///
/// let rt = filch::runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let server = filch::spawn(async move {
///         let (mut socket, _) = listener.accept().await.unwrap();
///         let mut buf = [0; 5];
///         socket.read_exact(&mut buf).await.unwrap();
///         socket.write_all(&buf).await.unwrap();
///     });
///     let mut client = TcpStream::connect(addr).await.unwrap();
///     client.write_all(b"hello").await.unwrap();
///     let mut echo = Vec::new();
///     client.read_to_end(&mut echo).await.unwrap();
///     assert_eq!(echo, b"hello");
///     server.await.unwrap();
/// });
/// ```
pub struct TcpStream {
    io: PollEvented<std::net::TcpStream>,
}

impl TcpStream {
    /// Opens a connection to `addr`, trying each address it resolves to in turn.
    ///
    /// The connect itself is non-blocking: the task waits for the socket to become
    /// writable, then reads the outcome with `SO_ERROR`.
    ///
    /// # Errors
    ///
    /// The error of the last address tried, as the OS reported it (for instance
    /// `ConnectionRefused` with its `raw_os_error`), or a resolution error.
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime.
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        each_addr(resolution_of(&addr), Self::connect_addr).await
    }

    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        let socket = new_socket(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        match socket.connect(&SockAddr::from(addr)) {
            Ok(()) => {}
            Err(err) if connect_in_progress(&err) => {}
            Err(err) => return Err(err),
        }
        let stream = TcpStream::new(std::net::TcpStream::from(socket))?;
        stream.io.registration().ready(Direction::Write).await?;
        if let Some(err) = stream.io.get_ref().take_error()? {
            return Err(err);
        }
        // Writable without a pending error means connected on Linux; elsewhere make sure
        // (a spurious wakeup would show up here as `NotConnected`).
        stream.peer_addr()?;
        Ok(stream)
    }

    /// Registers a connected, non-blocking std stream.
    #[track_caller]
    pub(crate) fn new(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: PollEvented::new(stream, crate::runtime::context::io_driver())?,
        })
    }

    /// Takes over a connected `std::net::TcpStream`, switching it to non-blocking mode.
    ///
    /// # Errors
    ///
    /// The OS error from switching modes or registering with the driver (an error once the
    /// runtime has shut down).
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime.
    #[track_caller]
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::new(stream)
    }

    /// Deregisters the stream and hands back the `std::net::TcpStream`, still in
    /// non-blocking mode (call `set_nonblocking(false)` to block on it).
    ///
    /// # Errors
    ///
    /// The OS error from removing it from the poller.
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        self.io.into_inner()
    }

    /// The local address of the connection.
    ///
    /// # Errors
    ///
    /// The OS error (`getsockname`).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The address of the peer.
    ///
    /// # Errors
    ///
    /// The OS error (`getpeername`), e.g. `NotConnected`.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Sets `TCP_NODELAY` (turns Nagle's algorithm off when `true`).
    ///
    /// # Errors
    ///
    /// The OS error (`setsockopt`).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    ///
    /// The OS error (`getsockopt`).
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Sets the IP time-to-live of outgoing packets.
    ///
    /// # Errors
    ///
    /// The OS error (`setsockopt`).
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live of outgoing packets.
    ///
    /// # Errors
    ///
    /// The OS error (`getsockopt`).
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Sets `SO_LINGER`: with `Some(d)`, closing the socket waits up to `d` for unsent
    /// data to go out (with `Some(Duration::ZERO)`, closing resets the connection at
    /// once); `None` (the default) closes in the background.
    ///
    /// A non-zero linger makes dropping the stream block the thread until the data is
    /// sent or `d` passes: on a worker thread that stalls every task there. Prefer
    /// [`shutdown`](Self::shutdown) and reading to end-of-file.
    ///
    /// # Errors
    ///
    /// The OS error (`setsockopt`).
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::net::{TcpListener, TcpStream};
    /// use std::time::Duration;
    ///
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     assert_eq!(stream.linger().unwrap(), None);
    ///     stream.set_linger(Some(Duration::ZERO)).unwrap(); // reset on close
    ///     assert_eq!(stream.linger().unwrap(), Some(Duration::ZERO));
    /// });
    /// ```
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        SockRef::from(self.io.get_ref()).set_linger(linger)
    }

    /// The `SO_LINGER` of the socket; see [`set_linger`](Self::set_linger).
    ///
    /// # Errors
    ///
    /// The OS error (`getsockopt`).
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        SockRef::from(self.io.get_ref()).linger()
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    ///
    /// # Errors
    ///
    /// The OS error from reading the option.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Shuts down the read side, the write side or both (`shutdown(2)`). After
    /// `Shutdown::Write` the peer reads end-of-file.
    ///
    /// # Errors
    ///
    /// The OS error, e.g. `NotConnected`.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Reads into `buf` without removing the data from the socket's queue (`MSG_PEEK`),
    /// waiting until some is available.
    ///
    /// # Errors
    ///
    /// The OS error of `recv`.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read_io(|io| io.peek(buf)).await
    }

    /// Borrows the stream as a read half and a write half, usable from two futures of one
    /// task (e.g. with `filch::join!`).
    ///
    /// With [`AsyncReadExt`](crate::io::AsyncReadExt) in scope, `stream.split()` on an
    /// owned stream resolves to that trait's `split`, which takes the stream by value and
    /// puts the halves behind a lock. Call this one as `TcpStream::split(&mut stream)` (or
    /// `(&mut stream).split()`).
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split(self)
    }

    /// Splits the stream into owned halves that can move to different tasks. Dropping the
    /// write half shuts down the write side; [`reunite`](OwnedReadHalf::reunite) puts the
    /// halves back together.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split_owned(self)
    }
}

crate::net::stream_io::impl_stream_io!(
    TcpStream,
    "    let listener = filch::net::TcpListener::bind(\"127.0.0.1:0\").await.unwrap();\n    let a = filch::net::TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();\n    let (b, _) = listener.accept().await.unwrap();"
);
