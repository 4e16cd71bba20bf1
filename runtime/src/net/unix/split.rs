//! [`ReadHalf`] and [`WriteHalf`]: a [`UnixStream`] borrowed as two halves.
//!
//! Both halves are shared references to the stream: every operation of `UnixStream` takes
//! `&self`, and the driver wakes the readers and the writers of a socket separately, so one
//! future reading and one writing never disturb each other.
use super::UnixStream;

crate::net::stream_halves::borrowed_halves!(UnixStream, std::os::unix::net::SocketAddr);
