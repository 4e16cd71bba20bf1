//! The readiness API both datagram sockets share (`UdpSocket`, `UnixDatagram`), written
//! once: `ready`, `poll_recv_ready`, `poll_send_ready`, `try_io` and `async_io`, over the
//! socket's `io: PollEvented<_>`. (`readable`, `writable` and the `try_recv*`/`try_send*`
//! calls are the types' own.) The macro's second argument is the doctest prelude that
//! makes a connected pair `a`, `b` of the type inside an async block.
//!
//! As with the streams (`stream_io.rs`), `try_io` runs only if the driver last saw the
//! socket ready and clears that readiness, at the tick it was seen at, on `WouldBlock`.

/// Implements the shared datagram readiness API for `$socket`; see the module docs.
macro_rules! impl_datagram_io {
    ($socket:ident, $pair:literal) => {
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
        }
    };
}

pub(crate) use impl_datagram_io;
