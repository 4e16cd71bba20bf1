//! Unix-domain sockets: [`UnixListener`], [`UnixStream`] (and its halves),
//! [`UnixDatagram`].
mod datagram;
mod listener;
mod split;
mod split_owned;
mod stream;

pub use datagram::UnixDatagram;
pub use listener::{Incoming, UnixListener};
pub use split::{ReadHalf, WriteHalf};
pub use split_owned::{OwnedReadHalf, OwnedWriteHalf, ReuniteError};
pub use std::os::unix::net::SocketAddr;
pub use stream::UnixStream;
