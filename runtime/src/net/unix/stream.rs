//! [`UnixStream`]: a Unix-domain stream socket registered with the runtime's driver.
use super::split::{split, ReadHalf, WriteHalf};
use super::split_owned::{split_owned, OwnedReadHalf, OwnedWriteHalf};
use crate::driver::io::{Direction, PollEvented};
use crate::net::socket::{connect_in_progress, new_socket};
use socket2::{Domain, SockAddr, Type};
use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;

/// A Unix-domain stream connection; the local-socket twin of
/// [`TcpStream`](crate::net::TcpStream), with the same reading, writing and splitting API.
///
/// # Examples
///
/// ```
/// use filch::io::{AsyncReadExt, AsyncWriteExt};
/// use filch::net::UnixStream;
///
/// let rt = filch::runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let (mut a, mut b) = UnixStream::pair().unwrap();
///     a.write_all(b"over the socket pair").await.unwrap();
///     a.close().await.unwrap();
///     let mut got = String::new();
///     b.read_to_string(&mut got).await.unwrap();
///     assert_eq!(got, "over the socket pair");
/// });
/// ```
pub struct UnixStream {
    io: PollEvented<std::os::unix::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket bound at `path`.
    ///
    /// The connect is non-blocking. If the listener's backlog is full the OS does not
    /// queue the attempt: this returns `WouldBlock` (`EAGAIN`) and the caller may retry.
    ///
    /// # Errors
    ///
    /// The OS error, e.g. `NotFound` for a path with no socket, `ConnectionRefused` when
    /// nothing listens on it.
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let addr = SockAddr::unix(path)?;
        let socket = new_socket(Domain::UNIX, Type::STREAM, None)?;
        match socket.connect(&addr) {
            Ok(()) => {}
            Err(err) if connect_in_progress(&err) => {}
            Err(err) => return Err(err),
        }
        let stream = UnixStream::new(socket.into())?;
        stream.io.registration().ready(Direction::Write).await?;
        if let Some(err) = stream.io.get_ref().take_error()? {
            return Err(err);
        }
        Ok(stream)
    }

    /// A pair of connected sockets (`socketpair(2)`).
    ///
    /// # Errors
    ///
    /// The OS error, or an error registering with the driver.
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime.
    #[track_caller]
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        // `std` creates both with `SOCK_CLOEXEC`.
        let (a, b) = std::os::unix::net::UnixStream::pair()?;
        Ok((UnixStream::from_std(a)?, UnixStream::from_std(b)?))
    }

    #[track_caller]
    pub(crate) fn new(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: PollEvented::new(stream, crate::runtime::context::io_driver())?,
        })
    }

    /// Takes over a connected `std::os::unix::net::UnixStream`, switching it to
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
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::new(stream)
    }

    /// Deregisters the stream and hands back the std stream, still non-blocking.
    ///
    /// # Errors
    ///
    /// The OS error from removing it from the poller.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
        self.io.into_inner()
    }

    /// The local address (unnamed for a connecting socket or one half of a pair).
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
    /// The OS error (`getpeername`).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    ///
    /// # Errors
    ///
    /// The OS error from reading the option.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Shuts down the read side, the write side or both.
    ///
    /// # Errors
    ///
    /// The OS error, e.g. `NotConnected`.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Borrows the stream as a read half and a write half.
    ///
    /// With [`AsyncReadExt`](crate::io::AsyncReadExt) in scope, `stream.split()` on an
    /// owned stream resolves to that trait's `split`, which takes the stream by value and
    /// puts the halves behind a lock. Call this one as `UnixStream::split(&mut stream)` (or
    /// `(&mut stream).split()`).
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split(self)
    }

    /// Splits the stream into owned halves for different tasks; dropping the write half
    /// shuts down the write side.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split_owned(self)
    }
}

crate::net::stream_io::impl_stream_io!(
    UnixStream,
    "    let (a, b) = filch::net::UnixStream::pair().unwrap();"
);

#[cfg(test)]
mod tests {
    use super::UnixStream;
    use crate::driver::io::Ready;
    use crate::time::{timeout, Duration};
    use std::future::poll_fn;

    #[test]
    fn a_short_write_clears_the_write_readiness_at_its_tick() {
        let rt = crate::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let (a, _b) = UnixStream::pair().unwrap();
            a.writable().await.unwrap();
            let seen = a.io.registration().readiness_now();
            assert!(seen.ready.contains(Ready::WRITABLE));
            // More than any socket buffer holds: the write is short.
            let big = vec![7u8; 64 << 20];
            let n = poll_fn(|cx| a.poll_write_priv(cx, &big)).await.unwrap();
            assert!(0 < n && n < big.len(), "{n}");
            let now = a.io.registration().readiness_now();
            assert!(
                now.tick() != seen.tick() || !now.ready.contains(Ready::WRITABLE),
                "a full send buffer left the stream writable"
            );
        });
    }

    #[test]
    fn a_short_read_before_a_fin_still_sees_the_end_of_file() {
        // Data and the peer's FIN in one edge: the read of the data is short, and the
        // end of file must still be seen (the poller reports no EPOLLRDHUP, so clearing
        // the read readiness after a short read would lose it).
        let rt = crate::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let (a, b) = UnixStream::pair().unwrap();
            b.writable().await.unwrap();
            b.try_write(b"abc").unwrap();
            b.shutdown(std::net::Shutdown::Write).unwrap();
            a.readable().await.unwrap();
            let mut buf = [0; 16];
            let n = poll_fn(|cx| a.poll_read_priv(cx, &mut buf)).await.unwrap();
            assert_eq!(n, 3);
            let eof = timeout(
                Duration::from_secs(10),
                poll_fn(|cx| a.poll_read_priv(cx, &mut buf)),
            );
            assert_eq!(eof.await.expect("the end of file is seen").unwrap(), 0);
        });
    }
}
