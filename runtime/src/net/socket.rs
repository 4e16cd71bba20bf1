//! Socket creation shared by the TCP and Unix types (through `socket2`), and the receive
//! into a `Vec`'s spare capacity shared by the datagram types (`recv_buf*`).
//!
//! # Receiving into spare capacity
//!
//! [`recv_spare`] and [`recv_from_spare`] hand the uninitialised tail of a `Vec<u8>`
//! (`spare_capacity_mut`) to `socket2`'s `recv`/`recvfrom`, which take
//! `&mut [MaybeUninit<u8>]` and promise to write only initialised bytes and to report how
//! many they wrote; the vector's length then grows by that count. Nothing is zero-filled
//! first. A vector with no spare room grows by 64 bytes, as `bytes::BufMut` for `Vec<u8>`
//! does, so `recv_buf(&mut Vec::new())` behaves as in tokio.
use socket2::{Domain, Protocol, SockAddr, SockRef, Socket, Type};
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::AsFd;

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

/// Room a vector grows by when it has no spare capacity to receive into (what
/// `bytes::BufMut::chunk_mut` reserves for a full `Vec<u8>`).
const MIN_SPARE: usize = 64;

/// The spare capacity of `buf`, grown by [`MIN_SPARE`] first if there is none.
fn spare(buf: &mut Vec<u8>) -> &mut [MaybeUninit<u8>] {
    if buf.capacity() == buf.len() {
        buf.reserve(MIN_SPARE);
    }
    buf.spare_capacity_mut()
}

/// `recv(2)` on `socket` into the spare capacity of `buf` (see the module docs), which then
/// holds the received bytes at its end; returns their count.
///
/// # Errors
///
/// The OS error of `recv` (`WouldBlock` when nothing is queued); `buf` is unchanged.
pub(crate) fn recv_spare(socket: &impl AsFd, buf: &mut Vec<u8>) -> io::Result<usize> {
    let room = spare(buf);
    let capacity = room.len();
    let n = SockRef::from(socket).recv(room)?;
    assert!(n <= capacity, "recv reported {n} bytes into {capacity}");
    // SAFETY: socket2's `recv` passes `room` straight to `recv(2)`, which initialised its
    // first `n` bytes; `room` starts at `buf.len()` and `n <= room.len()`, so the new length
    // stays within the capacity and covers only initialised bytes.
    unsafe { buf.set_len(buf.len() + n) };
    Ok(n)
}

/// `recvfrom(2)` on `socket` into the spare capacity of `buf`, as [`recv_spare`]; returns
/// the count and the sender's address.
///
/// # Errors
///
/// The OS error of `recvfrom`; `buf` is unchanged.
pub(crate) fn recv_from_spare(
    socket: &impl AsFd,
    buf: &mut Vec<u8>,
) -> io::Result<(usize, SockAddr)> {
    let room = spare(buf);
    let capacity = room.len();
    let (n, addr) = SockRef::from(socket).recv_from(room)?;
    assert!(n <= capacity, "recvfrom reported {n} bytes into {capacity}");
    // SAFETY: as in `recv_spare`: `recvfrom(2)` initialised the first `n <= room.len()`
    // bytes of `room`, which starts at `buf.len()`.
    unsafe { buf.set_len(buf.len() + n) };
    Ok((n, addr))
}
