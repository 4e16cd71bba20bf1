//! Networking: TCP, UDP and Unix-domain sockets on the runtime's I/O driver.
//!
//! asyncio's `open_connection`/`start_server`, as socket types:
//!
//! * TCP: [`TcpListener`], [`TcpStream`] (with borrowed and owned halves in [`tcp`]);
//! * UDP: [`UdpSocket`];
//! * Unix domain: [`UnixListener`], [`UnixStream`], [`UnixDatagram`] (halves in [`unix`]);
//! * name resolution: [`lookup_host`] and the [`ToSocketAddrs`] trait.
//!
//! Streams implement [`AsyncRead`](crate::io::AsyncRead) and
//! [`AsyncWrite`](crate::io::AsyncWrite) from `futures-io`; see [`crate::io`] for the
//! helpers (`read_exact`, `write_all`, `BufReader`, `copy`, ...).
//!
//! # How a socket waits
//!
//! Every socket is a `std` socket in non-blocking, close-on-exec mode, owned by a
//! `PollEvented` that registers it once with the driver (edge-triggered, both directions)
//! and removes it before the fd is closed. An operation (`read`, `accept`, `send_to`, ...)
//! is the syscall in a loop:
//!
//! 1. wait until the driver has seen the socket ready in the operation's direction
//!    (immediately, if the readiness from the last event is still set);
//! 2. try the syscall; anything but `WouldBlock` is the result, errors untouched;
//! 3. on `WouldBlock`, clear the readiness *as of the tick observed in 1* (a newer event
//!    is kept) and go back to 1.
//!
//! The `try_*` methods (and `try_io`, for a syscall of your own) do 2 and 3 once, without
//! waiting, if the socket is ready; `readable`/`writable`, `ready(interest)` (either
//! direction, or both: [`Interest`](crate::io::Interest)) and `poll_read_ready` /
//! `poll_recv_ready` and their write twins do only 1. Any number of tasks may wait in each direction: one
//! task may wait to read while another waits to write (that is what the split halves are
//! for), and several may wait in the same direction (every event wakes them all; the ones
//! that lose the race wait again).
//!
//! After the runtime shuts down, every operation on a socket created in it fails with an
//! error instead of waiting (the driver marks its sources shut down).
//!
//! # Why `socket2`
//!
//! `std` cannot create a socket without blocking semantics, cannot connect without
//! blocking, and listens with a fixed backlog of 128. `socket2` (maintained in the
//! rust-lang organisation, used by tokio, async-io and hyper) gives exactly the missing
//! calls — `socket(SOCK_NONBLOCK | SOCK_CLOEXEC)`, a non-blocking `connect` that returns
//! `EINPROGRESS`, `listen(1024)`, receiving into a buffer's uninitialised spare capacity —
//! with `unsafe` on our side only to set a `Vec`'s length after such a receive
//! (`socket::recv_spare`). Everything else is done
//! through the `std` socket types, which filch sockets convert to and from.
//!
//! # Examples
//!
//! ```
//! use filch::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
//! use filch::net::{TcpListener, TcpStream};
//!
//! let rt = filch::runtime::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     filch::spawn(async move {
//!         let (socket, _) = listener.accept().await.unwrap();
//!         let (read, mut write) = socket.into_split();
//!         let mut lines = BufReader::new(read);
//!         let mut line = String::new();
//!         while lines.read_line(&mut line).await.unwrap() > 0 {
//!             write.write_all(line.to_uppercase().as_bytes()).await.unwrap();
//!             line.clear();
//!         }
//!     });
//!     let stream = TcpStream::connect(addr).await.unwrap();
//!     let (read, mut write) = stream.into_split();
//!     write.write_all(b"shout\n").await.unwrap();
//!     let mut reply = String::new();
//!     BufReader::new(read).read_line(&mut reply).await.unwrap();
//!     assert_eq!(reply, "SHOUT\n");
//! });
//! ```
mod addr;
mod datagram_io;
mod socket;
mod stream_halves;
mod stream_io;
pub mod tcp;
mod udp;
pub mod unix;

pub use addr::{lookup_host, SocketAddrs, ToSocketAddrs};
pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixStream};

// Unwind safety of the socket types: each is an fd plus its registration with the driver,
// whose readiness state changes only under the driver's locks and atomics, never left
// half-updated across user code; a panic while one is in use leaves the socket as usable
// as a `std` socket is after one.
macro_rules! unwind_safe {
    ($($socket:ty),*) => {$(
        impl std::panic::UnwindSafe for $socket {}
        impl std::panic::RefUnwindSafe for $socket {}
    )*};
}
unwind_safe!(
    TcpListener,
    TcpStream,
    UdpSocket,
    UnixDatagram,
    UnixListener,
    UnixStream
);
