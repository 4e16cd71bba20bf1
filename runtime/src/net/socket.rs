//! Socket creation shared by the TCP and Unix types (through `socket2`).
use socket2::{Domain, Protocol, Socket, Type};
use std::io;

/// Backlog of listening sockets (tokio and mio use the same). `std` uses 128, which
/// overflows when many clients connect at once and costs them a one-second SYN retry.
pub(crate) const LISTEN_BACKLOG: i32 = 1024;

/// A new socket, non-blocking and close-on-exec. On Linux both flags go into the one
/// `socket(2)` call (`SOCK_NONBLOCK | SOCK_CLOEXEC`); elsewhere `socket2` sets close-on-exec
/// and one more call sets non-blocking mode.
pub(crate) fn new_socket(
    domain: Domain,
    ty: Type,
    protocol: Option<Protocol>,
) -> io::Result<Socket> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        Socket::new(domain, ty.nonblocking(), protocol)
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let socket = Socket::new(domain, ty, protocol)?;
        socket.set_nonblocking(true)?;
        Ok(socket)
    }
}

/// Whether a non-blocking `connect` returned "started, not finished" (`EINPROGRESS`).
pub(crate) fn connect_in_progress(err: &io::Error) -> bool {
    err.raw_os_error() == Some(libc::EINPROGRESS)
}
