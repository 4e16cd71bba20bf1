//! TCP: [`TcpListener`], [`TcpStream`] and the halves a stream splits into.
mod listener;
mod split;
mod split_owned;
mod stream;

pub use listener::{Incoming, TcpListener};
pub use split::{ReadHalf, WriteHalf};
pub use split_owned::{OwnedReadHalf, OwnedWriteHalf, ReuniteError};
pub use stream::TcpStream;
