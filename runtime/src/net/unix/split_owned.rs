//! [`OwnedReadHalf`] and [`OwnedWriteHalf`]: a [`UnixStream`] split into two owned halves
//! that can live in different tasks.
//!
//! Both hold an `Arc` of the stream. As with the borrowed halves, the driver's separate
//! read and write wakers let one task read while another writes. The write half shuts
//! down the write side when dropped (unless [`forget`](OwnedWriteHalf::forget) is called),
//! so a writer task that finishes tells the peer "no more data" even while the reader
//! keeps the socket open.
use super::UnixStream;

crate::net::stream_halves::owned_halves!(UnixStream, std::os::unix::net::SocketAddr, "Unix");
