//! Async I/O traits and helpers.
//!
//! filch's sockets implement the runtime-neutral traits of the `futures-io` crate,
//! [`AsyncRead`], [`AsyncWrite`] (and buffered wrappers implement [`AsyncBufRead`]), rather
//! than traits of its own. The same traits are used by smol, async-std and most
//! executor-agnostic libraries (`async-tls`, `futures-rustls`, `async-compression`,
//! `async-tungstenite`, ...), so a filch stream plugs into them directly, and their types
//! plug into filch's helpers.
//!
//! The helpers are `futures-util`'s, re-exported unchanged: the extension traits
//! [`AsyncReadExt`] (`read`, `read_exact`, `read_to_end`, `read_to_string`),
//! [`AsyncWriteExt`] (`write_all`, `flush`, `close`), [`AsyncBufReadExt`] (`read_line`,
//! `lines`, `read_until`), [`AsyncSeekExt`], the [`BufReader`]/[`BufWriter`] wrappers,
//! [`copy`]/[`copy_buf`], and [`AsyncReadExt::split`] (any `AsyncRead + AsyncWrite` into
//! [`ReadHalf`]/[`WriteHalf`] behind a lock; filch's streams have lock-free [`into_split`](crate::net::TcpStream::into_split)).
//!
//! Readiness: [`Interest`] (what an operation waits for) and [`Ready`] (what a source was
//! seen ready for), taken by the sockets' `ready`/`try_io` methods and by
//! [`unix::AsyncFd`], which brings any pollable fd (a pipe, an eventfd, ...) onto the
//! driver.
//!
//! One difference from tokio's traits: `futures-io` has no `shutdown`; closing the write
//! side of a stream is [`AsyncWriteExt::close`], which on a filch socket is
//! `shutdown(Write)`.
//!
//! ```
//! use filch::io::{AsyncReadExt, AsyncWriteExt};
//!
//! let rt = filch::runtime::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let (mut a, mut b) = filch::net::UnixStream::pair().unwrap();
//!     a.write_all(b"ping").await.unwrap();
//!     let mut buf = [0; 4];
//!     b.read_exact(&mut buf).await.unwrap();
//!     assert_eq!(&buf, b"ping");
//! });
//! ```
//!
//! # Using filch streams with hyper 1.x
//!
//! hyper 1.x defines its own I/O traits, `hyper::rt::Read` and `hyper::rt::Write`, and
//! ships adapters only for tokio's (`hyper_util::rt::TokioIo`). For filch, wrap the stream
//! in a small newtype that forwards to the `futures-io` methods (the `smol-hyper` crate's
//! `FuturesIo` does the same for any `futures-io` type). The one subtle part is reading:
//! hyper hands out a cursor over possibly uninitialized memory, so the adapter zeroes it
//! before passing it on as `&mut [u8]` (a few nanoseconds per read; a real adapter can
//! track the initialized prefix to skip that), then advances the cursor by what was read:
//!
//! ```ignore
//! use std::{io, pin::Pin, task::{ready, Context, Poll}};
//! use filch::io::{AsyncRead, AsyncWrite};
//!
//! pub struct FilchIo<T>(pub T);
//!
//! impl<T: AsyncRead + Unpin> hyper::rt::Read for FilchIo<T> {
//!     fn poll_read(
//!         mut self: Pin<&mut Self>,
//!         cx: &mut Context<'_>,
//!         mut buf: hyper::rt::ReadBufCursor<'_>,
//!     ) -> Poll<io::Result<()>> {
//!         // SAFETY: we only write initialized bytes into the slice, and advance the
//!         // cursor by no more than the reader wrote.
//!         let uninit = unsafe { buf.as_mut() };
//!         for byte in uninit.iter_mut() {
//!             byte.write(0);
//!         }
//!         // SAFETY: every byte was just initialized.
//!         let slice = unsafe { &mut *(uninit as *mut [std::mem::MaybeUninit<u8>] as *mut [u8]) };
//!         let n = ready!(Pin::new(&mut self.0).poll_read(cx, slice))?;
//!         // SAFETY: `n` bytes were filled by the read.
//!         unsafe { buf.advance(n) };
//!         Poll::Ready(Ok(()))
//!     }
//! }
//!
//! impl<T: AsyncWrite + Unpin> hyper::rt::Write for FilchIo<T> {
//!     fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8])
//!         -> Poll<io::Result<usize>> { Pin::new(&mut self.0).poll_write(cx, buf) }
//!     fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>,
//!         bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
//!         Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
//!     }
//!     fn is_write_vectored(&self) -> bool { true } // filch sockets use writev
//!     fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
//!         Pin::new(&mut self.0).poll_flush(cx)
//!     }
//!     fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
//!         Pin::new(&mut self.0).poll_close(cx) // shutdown(Write) on filch sockets
//!     }
//! }
//!
//! // Serving: one task per connection, as with tokio.
//! let (stream, _) = listener.accept().await?;
//! filch::spawn(async move {
//!     let service = hyper::service::service_fn(hello);
//!     let _ = hyper::server::conn::http1::Builder::new()
//!         .serve_connection(FilchIo(stream), service)
//!         .await;
//! });
//! ```
//!
//! HTTP/2 also needs an executor for its background tasks — a unit struct implementing
//! `hyper::rt::Executor<F>` with `fn execute(&self, fut: F) { filch::spawn(fut); }` — and
//! hyper's timeouts need a `hyper::rt::Timer` whose `sleep` wraps
//! [`filch::time::sleep`](crate::time::sleep) in a `Pin<Box<dyn hyper::rt::Sleep>>`.
mod interest;
mod ready;
pub mod unix;

pub use interest::Interest;
pub use ready::Ready;

pub use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
pub use futures_util::io::{
    copy, copy_buf, empty, repeat, sink, AsyncBufReadExt, AsyncReadExt, AsyncSeekExt,
    AsyncWriteExt, BufReader, BufWriter, Cursor, Empty, Lines, ReadHalf, Repeat, ReuniteError,
    Sink, Take, WriteHalf,
};
