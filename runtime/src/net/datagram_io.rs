//! The API both datagram sockets share (`UdpSocket`, `UnixDatagram`), written once over
//! the socket's `io: PollEvented<_>`: readiness (`ready`, `poll_recv_ready`,
//! `poll_send_ready`, `readable`, `writable`, `try_io`, `async_io`) and the connected
//! calls (`send`, `recv`, their `poll_`/`try_` forms, `recv_buf`, `try_recv_buf`) and
//! the receiving calls that report the sender (`recv_from` and its forms; the macro is
//! given the address type and the function that makes one from a `SockAddr`). Sending to
//! an address (`send_to`, ...: an IP to resolve, or a path) is the types' own.
//!
//! As with the streams (`stream_io.rs`), `try_io` runs only if the driver last saw the
//! socket ready and clears that readiness, at the tick it was seen at, on `WouldBlock`.

/// Implements the shared datagram API for `$socket`; see the module docs. `$pair` is the
/// doctest prelude making a connected pair `a`, `b`; `$addr` and `$sender` the address
/// type and the function that makes one from a `SockAddr`; `$sender_check` a doctest line
/// checking the `from` that `b` got from `a`.
macro_rules! impl_datagram_io {
    ($socket:ident, $pair:literal, $addr:ty, $sender:path, $sender_check:literal) => {
        impl $socket {
            /// Waits until the socket is ready in a direction of `interest` and returns
            /// what it was seen ready for (possibly a false positive: follow with the
            /// `try_*` calls, which clear the readiness when they would block).
            ///
            /// # Errors
            ///
            /// An error once the runtime has shut down.
            ///
            /// # Examples
            ///
            /// ```
            /// use filch::io::Interest;
            ///
            /// let rt = filch::runtime::Runtime::new().unwrap();
            /// rt.block_on(async {
            #[doc = $pair]
            ///     let ready = a.ready(Interest::READABLE | Interest::WRITABLE).await.unwrap();
            ///     assert!(ready.is_writable() && !ready.is_readable());
            ///     b.send(b"x").await.unwrap();
            ///     assert!(a.ready(Interest::READABLE).await.unwrap().is_readable());
            /// });
            /// ```
            pub async fn ready(
                &self,
                interest: crate::io::Interest,
            ) -> std::io::Result<crate::io::Ready> {
                let event = self.io.registration().readiness(interest).await?;
                Ok(event.ready.to_public())
            }

            /// Polls until a datagram may be queued: `Ready(Ok(()))` then, `Pending` (the
            /// task's waker stored) until then. Follow with a `try_recv*` call.
            ///
            /// # Errors
            ///
            /// An error once the runtime has shut down.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::future::poll_fn;
            /// use std::task::Context;
            ///
            /// let rt = filch::runtime::Runtime::new().unwrap();
            /// rt.block_on(async {
            #[doc = $pair]
            ///     let mut cx = Context::from_waker(futures::task::noop_waker_ref());
            ///     assert!(a.poll_recv_ready(&mut cx).is_pending(), "nothing sent yet");
            ///     b.send(b"x").await.unwrap();
            ///     poll_fn(|cx| a.poll_recv_ready(cx)).await.unwrap();
            /// });
            /// ```
            pub fn poll_recv_ready(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                self.io
                    .registration()
                    .poll_ready(crate::driver::io::Direction::Read, cx)
                    .map_ok(|_| ())
            }

            /// Polls until a datagram may be sent without waiting; see
            #[doc = concat!("[`poll_recv_ready`](", stringify!($socket), "::poll_recv_ready).")]
            ///
            /// # Errors
            ///
            /// An error once the runtime has shut down.
            pub fn poll_send_ready(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                self.io
                    .registration()
                    .poll_ready(crate::driver::io::Direction::Write, cx)
                    .map_ok(|_| ())
            }

            /// Runs `f`, a non-blocking operation of your own on the socket (through
            /// `AsFd`/`AsRawFd` or `socket2::SockRef`), if the socket is marked ready for
            /// `interest`: `WouldBlock` if it is not; if `f` returns `WouldBlock`, the
            /// readiness it ran under is cleared. `f` must not itself wait.
            ///
            /// # Errors
            ///
            /// `WouldBlock`, `f`'s error, or an error once the runtime has shut down.
            ///
            /// # Examples
            ///
            /// ```
            /// use filch::io::Interest;
            /// use std::io;
            ///
            /// let rt = filch::runtime::Runtime::new().unwrap();
            /// rt.block_on(async {
            #[doc = $pair]
            ///     a.writable().await.unwrap();
            ///     assert_eq!(a.try_io(Interest::WRITABLE, || Ok(1)).unwrap(), 1);
            ///     let r = a.try_io(Interest::READABLE, || -> io::Result<()> { unreachable!() });
            ///     assert_eq!(r.unwrap_err().kind(), io::ErrorKind::WouldBlock);
            /// });
            /// ```
            pub fn try_io<R>(
                &self,
                interest: crate::io::Interest,
                f: impl FnOnce() -> std::io::Result<R>,
            ) -> std::io::Result<R> {
                self.io.registration().try_io_interest(interest, f)
            }

            /// Runs `f`, a non-blocking operation of your own on the socket, until it does
            /// not return `WouldBlock`: waits for `interest` before each try and clears
            /// the readiness after each `WouldBlock`.
            ///
            /// # Errors
            ///
            /// `f`'s first error other than `WouldBlock`, or an error once the runtime has
            /// shut down.
            pub async fn async_io<R>(
                &self,
                interest: crate::io::Interest,
                f: impl FnMut() -> std::io::Result<R>,
            ) -> std::io::Result<R> {
                self.io.registration().async_io_interest(interest, f).await
            }

            /// Sends `buf` to the connected peer; returns the bytes sent.
            ///
            /// # Errors
            ///
            /// The OS error of `send`: e.g. `NotConnected`/`EDESTADDRREQ` on a socket
            /// that is not connected, or `ConnectionRefused` once the peer is gone (for
            /// UDP: after an ICMP port unreachable).
            pub async fn send(&self, buf: &[u8]) -> std::io::Result<usize> {
                self.io.write_io(|socket| socket.send(buf)).await
            }

            /// Receives one datagram from the connected peer into `buf` (the rest of a
            /// longer datagram is dropped).
            ///
            /// # Errors
            ///
            /// The OS error of `recv` (for UDP, e.g. `ConnectionRefused` after an ICMP port
            /// unreachable; a Unix datagram socket whose peer is gone just waits).
            pub async fn recv(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.io.read_io(|socket| socket.recv(buf)).await
            }

            /// Polls to send `buf` to the connected peer; see [`send`](Self::send).
            ///
            /// `Pending` (with the task's waker stored) while the datagram cannot be queued
            /// (UDP: the send buffer is full; Unix: the peer's receive queue is); every
            /// task waiting to send is woken when there is room.
            ///
            /// # Errors
            ///
            /// The OS error of `send`, as for [`send`](Self::send).
            ///
            /// # Examples
            ///
            /// ```
            /// use std::future::poll_fn;
            ///
            /// let rt = filch::runtime::Runtime::new().unwrap();
            /// rt.block_on(async {
            #[doc = $pair]
            ///     poll_fn(|cx| a.poll_send(cx, b"polled")).await.unwrap();
            ///     let mut buf = [0; 16];
            ///     let n = poll_fn(|cx| b.poll_recv(cx, &mut buf)).await.unwrap();
            ///     assert_eq!(&buf[..n], b"polled");
            /// });
            /// ```
            pub fn poll_send(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_write_io(cx, |socket| socket.send(buf))
            }

            /// Polls for a datagram from the connected peer; see [`recv`](Self::recv).
            /// Returns the bytes written to the front of `buf` (tokio fills a `ReadBuf`
            /// instead).
            ///
            /// `Pending` (with the task's waker stored) while nothing is queued; every
            /// task waiting to receive is woken when a datagram arrives.
            ///
            /// # Errors
            ///
            /// The OS error of `recv`, as for [`recv`](Self::recv).
            pub fn poll_recv(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_read_io(cx, |socket| socket.recv(buf))
            }

            /// Sends to the connected peer if there is room: `WouldBlock` otherwise.
            ///
            /// # Errors
            ///
            /// `WouldBlock`, or the OS error of `send`.
            pub fn try_send(&self, buf: &[u8]) -> std::io::Result<usize> {
                let socket = self.io.get_ref();
                self.io
                    .registration()
                    .try_io(crate::driver::io::Direction::Write, || socket.send(buf))
            }

            /// Receives a datagram from the connected peer if one is queued:
            /// `WouldBlock` otherwise.
            ///
            /// # Errors
            ///
            /// `WouldBlock`, or the OS error of `recv`.
            pub fn try_recv(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                let socket = self.io.get_ref();
                self.io
                    .registration()
                    .try_io(crate::driver::io::Direction::Read, || socket.recv(buf))
            }

            /// Receives one datagram from the connected peer into the spare capacity of
            /// `buf`, appending it after the bytes already there; returns its length.
            ///
            /// tokio takes any `bytes::BufMut`; filch takes a `Vec<u8>` (the common
            /// `BufMut`, with no extra dependency). The spare capacity is not zero-filled
            /// first. A datagram longer than the spare capacity is cut to fit (the rest
            /// is dropped, as with [`recv`](Self::recv)); a vector with no spare capacity
            /// first grows by 64 bytes, as a `Vec` passed to tokio's `recv_buf` does. So
            /// reserve what you expect (for UDP, 65,507 bytes hold any datagram).
            ///
            /// # Errors
            ///
            /// The OS error of `recv`; `buf` is unchanged.
            ///
            /// # Examples
            ///
            /// ```
            /// let rt = filch::runtime::Runtime::new().unwrap();
            /// rt.block_on(async {
            #[doc = $pair]
            ///     a.send(b"appended").await.unwrap();
            ///     let mut buf = Vec::with_capacity(256);
            ///     buf.extend_from_slice(b"> ");
            ///     assert_eq!(b.recv_buf(&mut buf).await.unwrap(), 8);
            ///     assert_eq!(buf, b"> appended");
            /// });
            /// ```
            pub async fn recv_buf(&self, buf: &mut Vec<u8>) -> std::io::Result<usize> {
                self.io
                    .read_io(|socket| crate::net::socket::recv_spare(socket, buf))
                    .await
            }

            /// [`recv_buf`](Self::recv_buf) if a datagram is queued: `WouldBlock`
            /// otherwise.
            ///
            /// # Errors
            ///
            /// `WouldBlock`, or the OS error of `recv`; `buf` is unchanged.
            pub fn try_recv_buf(&self, buf: &mut Vec<u8>) -> std::io::Result<usize> {
                let socket = self.io.get_ref();
                self.io
                    .registration()
                    .try_io(crate::driver::io::Direction::Read, || {
                        crate::net::socket::recv_spare(socket, buf)
                    })
            }

            /// Receives one datagram and the address of its sender.
            ///
            /// # Errors
            ///
            /// The OS error of `recvfrom`.
            pub async fn recv_from(&self, buf: &mut [u8]) -> std::io::Result<(usize, $addr)> {
                self.io.read_io(|socket| socket.recv_from(buf)).await
            }

            /// Polls for a datagram and the address of its sender; see
            /// [`recv_from`](Self::recv_from). Wakes as [`poll_recv`](Self::poll_recv)
            /// does.
            ///
            /// # Errors
            ///
            /// The OS error of `recvfrom`.
            pub fn poll_recv_from(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<(usize, $addr)>> {
                self.io.poll_read_io(cx, |socket| socket.recv_from(buf))
            }

            /// Receives a datagram and its sender's address if one is queued:
            /// `WouldBlock` otherwise.
            ///
            /// # Errors
            ///
            /// `WouldBlock`, or the OS error of `recvfrom`.
            pub fn try_recv_from(&self, buf: &mut [u8]) -> std::io::Result<(usize, $addr)> {
                let socket = self.io.get_ref();
                self.io
                    .registration()
                    .try_io(crate::driver::io::Direction::Read, || socket.recv_from(buf))
            }

            /// Receives one datagram into the spare capacity of `buf`, as
            /// [`recv_buf`](Self::recv_buf) does (a `Vec<u8>`, not tokio's `BufMut`;
            /// nothing zero-filled; cut to the spare capacity, which is at least 64
            /// bytes); returns its length and the address of its sender.
            ///
            /// # Errors
            ///
            /// The OS error of `recvfrom`; `buf` is unchanged.
            ///
            /// # Examples
            ///
            /// ```
            /// let rt = filch::runtime::Runtime::new().unwrap();
            /// rt.block_on(async {
            #[doc = $pair]
            ///     a.send(b"hello").await.unwrap();
            ///     let mut buf = Vec::with_capacity(1500);
            ///     let (n, from) = b.recv_buf_from(&mut buf).await.unwrap();
            ///     assert_eq!(&buf[..n], b"hello");
            #[doc = $sender_check]
            /// });
            /// ```
            pub async fn recv_buf_from(
                &self,
                buf: &mut Vec<u8>,
            ) -> std::io::Result<(usize, $addr)> {
                self.io
                    .read_io(|socket| {
                        crate::net::socket::recv_from_spare(socket, buf).and_then($sender)
                    })
                    .await
            }

            /// [`recv_buf_from`](Self::recv_buf_from) if a datagram is queued:
            /// `WouldBlock` otherwise.
            ///
            /// # Errors
            ///
            /// `WouldBlock`, or the OS error of `recvfrom`; `buf` is unchanged.
            pub fn try_recv_buf_from(&self, buf: &mut Vec<u8>) -> std::io::Result<(usize, $addr)> {
                let socket = self.io.get_ref();
                self.io
                    .registration()
                    .try_io(crate::driver::io::Direction::Read, || {
                        crate::net::socket::recv_from_spare(socket, buf).and_then($sender)
                    })
            }

            /// Waits until a datagram may be queued (then use a `try_recv*` call).
            ///
            /// # Errors
            ///
            /// An error once the runtime has shut down.
            pub async fn readable(&self) -> std::io::Result<()> {
                self.io
                    .registration()
                    .ready(crate::driver::io::Direction::Read)
                    .await
            }

            /// Waits until a datagram may be sent without waiting.
            ///
            /// # Errors
            ///
            /// An error once the runtime has shut down.
            pub async fn writable(&self) -> std::io::Result<()> {
                self.io
                    .registration()
                    .ready(crate::driver::io::Direction::Write)
                    .await
            }
        }
    };
}

pub(crate) use impl_datagram_io;
