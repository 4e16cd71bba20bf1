//! The halves of a stream socket, written once for every stream kind: [`borrowed_halves!`]
//! defines the `ReadHalf`/`WriteHalf` pair that `split` lends out, and [`owned_halves!`]
//! the `OwnedReadHalf`/`OwnedWriteHalf` pair (with `ReuniteError`) that `into_split`
//! hands over. `tcp` and `unix` each invoke both, with their stream and address types,
//! and add what only their kind has (TCP's `peek`) in a plain `impl` of their own.
//!
//! Macros rather than halves generic over the stream, so that each kind keeps its own
//! concrete, documented types (`tcp::ReadHalf<'a>`, `unix::OwnedWriteHalf`), as tokio's
//! API has them.

/// Defines `ReadHalf<'a>` and `WriteHalf<'a>`: shared references to a `$stream` (whose
/// addresses are `$addr`), and `split`, which lends them out.
macro_rules! borrowed_halves {
    ($stream:ident, $addr:ty) => {
        #[doc = concat!("The read half of a [`", stringify!($stream), "`] borrowed by")]
        #[doc = concat!("[`", stringify!($stream), "::split`].")]
        #[derive(Debug)]
        pub struct ReadHalf<'a>(&'a $stream);

        #[doc = concat!("The write half of a [`", stringify!($stream), "`] borrowed by")]
        #[doc = concat!("[`", stringify!($stream), "::split`].")]
        /// Closing it ([`poll_close`](futures_io::AsyncWrite::poll_close)) shuts down the
        /// stream's write side.
        #[derive(Debug)]
        pub struct WriteHalf<'a>(&'a $stream);

        pub(crate) fn split(stream: &mut $stream) -> (ReadHalf<'_>, WriteHalf<'_>) {
            (ReadHalf(stream), WriteHalf(stream))
        }

        $crate::net::stream_halves::half_common!(ReadHalf<'_>, WriteHalf<'_>, $stream, $addr, 0);
    };
}

/// Defines `OwnedReadHalf` and `OwnedWriteHalf` (each holding an `Arc` of the `$stream`;
/// the write half shuts the write side down when dropped), `ReuniteError`, and
/// `split_owned`. `$kind` names the stream kind in messages ("TCP").
macro_rules! owned_halves {
    ($stream:ident, $addr:ty, $kind:literal) => {
        #[doc = concat!("The read half of a [`", stringify!($stream), "`] split by")]
        #[doc = concat!("[`", stringify!($stream), "::into_split`].")]
        #[derive(Debug)]
        pub struct OwnedReadHalf {
            inner: std::sync::Arc<$stream>,
        }

        #[doc = concat!("The write half of a [`", stringify!($stream), "`] split by")]
        #[doc = concat!("[`", stringify!($stream), "::into_split`].")]
        /// Dropping it shuts down the write side of the connection; closing it does so
        /// explicitly.
        #[derive(Debug)]
        pub struct OwnedWriteHalf {
            inner: std::sync::Arc<$stream>,
            shutdown_on_drop: bool,
        }

        /// The halves passed to `reunite` came from different streams; here they are back.
        #[derive(Debug)]
        pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

        impl std::fmt::Display for ReuniteError {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(
                    "tried to reunite halves that are not from the same ",
                    $kind,
                    " stream"
                ))
            }
        }

        impl std::error::Error for ReuniteError {}

        pub(crate) fn split_owned(stream: $stream) -> (OwnedReadHalf, OwnedWriteHalf) {
            let inner = std::sync::Arc::new(stream);
            (
                OwnedReadHalf {
                    inner: inner.clone(),
                },
                OwnedWriteHalf {
                    inner,
                    shutdown_on_drop: true,
                },
            )
        }

        fn reunite(
            read: OwnedReadHalf,
            mut write: OwnedWriteHalf,
        ) -> Result<$stream, ReuniteError> {
            if !std::sync::Arc::ptr_eq(&read.inner, &write.inner) {
                return Err(ReuniteError(read, write));
            }
            write.shutdown_on_drop = false;
            drop(write);
            Ok(std::sync::Arc::try_unwrap(read.inner).expect(concat!(
                "the two halves of a ",
                $kind,
                " stream hold its only references"
            )))
        }

        impl OwnedReadHalf {
            /// Puts the stream back together with its write half.
            ///
            /// # Errors
            ///
            /// [`ReuniteError`] (holding both halves) if `write` came from another stream.
            pub fn reunite(self, write: OwnedWriteHalf) -> Result<$stream, ReuniteError> {
                reunite(self, write)
            }

            /// The stream this half reads from.
            #[cfg_attr(not(feature = "hyper"), allow(dead_code))]
            pub(crate) fn stream(&self) -> &$stream {
                &self.inner
            }
        }

        impl OwnedWriteHalf {
            /// Puts the stream back together with its read half.
            ///
            /// # Errors
            ///
            /// [`ReuniteError`] (holding both halves) if `read` came from another stream.
            pub fn reunite(self, read: OwnedReadHalf) -> Result<$stream, ReuniteError> {
                reunite(read, self)
            }

            /// Drops the half without shutting down the write side.
            pub fn forget(mut self) {
                self.shutdown_on_drop = false;
            }
        }

        impl Drop for OwnedWriteHalf {
            fn drop(&mut self) {
                if self.shutdown_on_drop {
                    // The peer may already be gone (`NotConnected`): nothing left to tell it.
                    let _ = self.inner.shutdown(std::net::Shutdown::Write);
                }
            }
        }

        $crate::net::stream_halves::half_common!(
            OwnedReadHalf,
            OwnedWriteHalf,
            $stream,
            $addr,
            inner
        );
    };
}

/// What both pairs of halves have: the read half's and the write half's calls forwarded
/// to the stream (`self.$field`), and their `futures-io` traits.
macro_rules! half_common {
    ($read:ty, $write:ty, $stream:ident, $addr:ty, $field:tt) => {
        impl $read {
            #[doc = concat!("See [`", stringify!($stream), "::readable`].")]
            ///
            /// # Errors
            ///
            /// An error once the runtime has shut down.
            pub async fn readable(&self) -> std::io::Result<()> {
                self.$field.readable().await
            }

            #[doc = concat!("See [`", stringify!($stream), "::try_read`].")]
            ///
            /// # Errors
            ///
            /// `WouldBlock`, or the OS error.
            pub fn try_read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.$field.try_read(buf)
            }

            #[doc = concat!("See [`", stringify!($stream), "::peer_addr`].")]
            ///
            /// # Errors
            ///
            /// The OS error.
            pub fn peer_addr(&self) -> std::io::Result<$addr> {
                self.$field.peer_addr()
            }

            #[doc = concat!("See [`", stringify!($stream), "::local_addr`].")]
            ///
            /// # Errors
            ///
            /// The OS error.
            pub fn local_addr(&self) -> std::io::Result<$addr> {
                self.$field.local_addr()
            }
        }

        impl $write {
            #[doc = concat!("See [`", stringify!($stream), "::writable`].")]
            ///
            /// # Errors
            ///
            /// An error once the runtime has shut down.
            pub async fn writable(&self) -> std::io::Result<()> {
                self.$field.writable().await
            }

            #[doc = concat!("See [`", stringify!($stream), "::try_write`].")]
            ///
            /// # Errors
            ///
            /// `WouldBlock`, or the OS error.
            pub fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
                self.$field.try_write(buf)
            }

            #[doc = concat!("See [`", stringify!($stream), "::peer_addr`].")]
            ///
            /// # Errors
            ///
            /// The OS error.
            pub fn peer_addr(&self) -> std::io::Result<$addr> {
                self.$field.peer_addr()
            }

            #[doc = concat!("See [`", stringify!($stream), "::local_addr`].")]
            ///
            /// # Errors
            ///
            /// The OS error.
            pub fn local_addr(&self) -> std::io::Result<$addr> {
                self.$field.local_addr()
            }
        }

        impl futures_io::AsyncRead for $read {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.$field.poll_read_priv(cx, buf)
            }

            fn poll_read_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.$field.poll_read_vectored_priv(cx, bufs)
            }
        }

        impl futures_io::AsyncWrite for $write {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.$field.poll_write_priv(cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.$field.poll_write_vectored_priv(cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                self.$field.poll_close_priv()
            }
        }

        $crate::net::stream_io::impl_half_ready!($read, $stream, $field);
        $crate::net::stream_io::impl_half_ready!($write, $stream, $field);
        $crate::net::stream_io::impl_read_half_io!($read, $stream, $field);
        $crate::net::stream_io::impl_write_half_io!($write, $stream, $field);
    };
}

pub(crate) use borrowed_halves;
pub(crate) use half_common;
pub(crate) use owned_halves;
