//! [`Listener`]: what [`serve`](super::serve) accepts connections from (filch's TCP and
//! Unix listeners, or your own), and [`PeerAddr`], the address each request is tagged with.

use futures_io::{AsyncRead, AsyncWrite};
use std::io;
use std::task::{Context, Poll};

use crate::net::{TcpListener, TcpStream, UnixListener, UnixStream};

/// The address of the peer a request came from, in the request's extensions.
///
/// # Examples
///
/// In an axum handler: `axum::Extension(peer): axum::Extension<filch::hyper::PeerAddr>`;
/// with hyper directly:
///
/// ```
/// use filch::hyper::PeerAddr;
///
/// fn client_ip(req: &http::Request<hyper::body::Incoming>) -> Option<std::net::IpAddr> {
///     req.extensions().get::<PeerAddr>()?.as_tcp().map(|addr| addr.ip())
/// }
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum PeerAddr {
    /// A TCP peer.
    Tcp(std::net::SocketAddr),
    /// A Unix-socket peer (usually unnamed).
    Unix(std::os::unix::net::SocketAddr),
}

impl PeerAddr {
    /// The TCP address, for a TCP peer.
    pub fn as_tcp(&self) -> Option<std::net::SocketAddr> {
        match self {
            PeerAddr::Tcp(addr) => Some(*addr),
            PeerAddr::Unix(_) => None,
        }
    }
}

/// A source of connections for [`serve`](super::serve): implemented by
/// [`TcpListener`] and [`UnixListener`]; implement it for a listener of your own (a TLS
/// acceptor, say).
///
/// # Examples
///
/// ```
/// use filch::hyper::{Listener, PeerAddr};
/// use std::io;
/// use std::task::{Context, Poll};
///
/// /// Accepts from a TCP listener, but only loopback peers.
/// struct LocalOnly(filch::net::TcpListener);
///
/// impl Listener for LocalOnly {
///     type Io = filch::net::TcpStream;
///
///     fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<(Self::Io, PeerAddr)>> {
///         loop {
///             let (stream, peer) = std::task::ready!(self.0.poll_accept(cx))?;
///             if peer.ip().is_loopback() {
///                 return Poll::Ready(Ok((stream, PeerAddr::Tcp(peer))));
///             }
///         }
///     }
/// }
/// ```
pub trait Listener: Send + 'static {
    /// The connection type.
    type Io: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// Accepts the next connection, or registers the task for a wakeup.
    ///
    /// # Errors
    ///
    /// The OS error of `accept`. [`serve`](super::serve) retries the errors of one
    /// connection (`ECONNABORTED`, ...) at once, waits and retries when out of resources
    /// (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`), and stops on any other.
    fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<(Self::Io, PeerAddr)>>;

    /// Sets `TCP_NODELAY` on an accepted connection where that means something; the
    /// default does nothing.
    ///
    /// # Errors
    ///
    /// The OS error; [`serve`](super::serve) ignores it.
    fn set_nodelay(io: &Self::Io, nodelay: bool) -> io::Result<()> {
        let _ = (io, nodelay);
        Ok(())
    }
}

impl Listener for TcpListener {
    type Io = TcpStream;

    fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, PeerAddr)>> {
        TcpListener::poll_accept(self, cx).map_ok(|(stream, addr)| (stream, PeerAddr::Tcp(addr)))
    }

    fn set_nodelay(io: &TcpStream, nodelay: bool) -> io::Result<()> {
        io.set_nodelay(nodelay)
    }
}

impl Listener for UnixListener {
    type Io = UnixStream;

    fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, PeerAddr)>> {
        UnixListener::poll_accept(self, cx).map_ok(|(stream, addr)| (stream, PeerAddr::Unix(addr)))
    }
}

/// What to do after `accept` failed with `error`.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum AcceptError {
    /// One connection failed before it was accepted: accept the next.
    Connection,
    /// Out of file descriptors or memory: wait, then try again (never spin).
    Resources,
    /// The listener itself failed: stop serving.
    Fatal,
}

impl AcceptError {
    pub(super) fn classify(error: &io::Error) -> AcceptError {
        match error.raw_os_error() {
            Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM) => {
                AcceptError::Resources
            }
            Some(
                libc::ECONNABORTED
                | libc::ECONNRESET
                | libc::EINTR
                | libc::EAGAIN
                | libc::EPROTO
                | libc::EPERM
                | libc::ENETDOWN
                | libc::ENOPROTOOPT
                | libc::EHOSTDOWN
                | libc::ENONET
                | libc::EHOSTUNREACH
                | libc::EOPNOTSUPP
                | libc::ENETUNREACH
                | libc::ETIMEDOUT,
            ) => AcceptError::Connection,
            _ if matches!(
                error.kind(),
                io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::Interrupted
                    | io::ErrorKind::WouldBlock
            ) =>
            {
                AcceptError::Connection
            }
            _ => AcceptError::Fatal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AcceptError;
    use std::io;

    #[test]
    fn accept_errors_are_sorted_by_what_they_mean_for_the_server() {
        let os = io::Error::from_raw_os_error;
        assert_eq!(
            AcceptError::classify(&os(libc::EMFILE)),
            AcceptError::Resources
        );
        assert_eq!(
            AcceptError::classify(&os(libc::ENFILE)),
            AcceptError::Resources
        );
        assert_eq!(
            AcceptError::classify(&os(libc::ECONNABORTED)),
            AcceptError::Connection
        );
        assert_eq!(
            AcceptError::classify(&os(libc::EINTR)),
            AcceptError::Connection
        );
        assert_eq!(AcceptError::classify(&os(libc::EBADF)), AcceptError::Fatal);
        assert_eq!(AcceptError::classify(&os(libc::EINVAL)), AcceptError::Fatal);
        let shut_down = io::Error::other("the runtime has shut down");
        assert_eq!(AcceptError::classify(&shut_down), AcceptError::Fatal);
    }
}
