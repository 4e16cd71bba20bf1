//! [`ReadHalf`] and [`WriteHalf`]: a [`TcpStream`] borrowed as two halves.
//!
//! Both halves are shared references to the stream: every operation of `TcpStream` takes
//! `&self`, and the driver wakes the readers and the writers of a socket separately, so one
//! future reading and one writing never disturb each other.
use super::TcpStream;

crate::net::stream_halves::borrowed_halves!(TcpStream, std::net::SocketAddr);

impl ReadHalf<'_> {
    /// See [`TcpStream::peek`].
    ///
    /// # Errors
    ///
    /// The OS error.
    pub async fn peek(&self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.peek(buf).await
    }
}
