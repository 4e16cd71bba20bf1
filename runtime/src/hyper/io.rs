//! [`Io`]: the two-way bridge between filch's I/O traits (`futures-io`) and hyper 1.x's
//! own (`hyper::rt::Read` / `Write`).
//!
//! hyper hands a read a cursor over memory that may be uninitialised. A `futures-io`
//! reader takes `&mut [u8]`, which must be initialised, so a plain adapter zero-fills
//! hyper's 8–32 KiB buffer before every read. For filch's own sockets (`TcpStream`,
//! `UnixStream` and their owned read halves) [`Io`] skips that: it recognises them by
//! type and has the kernel write straight into the uninitialised memory (`recv`), with no
//! zero-filling and no copy. For every other reader it zero-fills only the part hyper has
//! not initialised yet. Writes are vectored where the stream supports it.

use futures_io::{AsyncRead, AsyncWrite};
use std::any::TypeId;
use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use crate::net::{tcp, unix, TcpStream, UnixStream};

pin_project_lite::pin_project! {
    /// A stream seen through the other side's I/O traits, in either direction:
    ///
    /// - any `futures-io` [`AsyncRead`] + [`AsyncWrite`] (every filch stream, and the
    ///   streams of crates such as futures-rustls) is a `hyper::rt::Read` +
    ///   `hyper::rt::Write`: hand `Io::new(stream)` to hyper's connection builders;
    /// - any `hyper::rt::Read` + `hyper::rt::Write` (such as
    ///   [`hyper::upgrade::Upgraded`]) is a `futures-io` `AsyncRead` + `AsyncWrite`:
    ///   run a websocket library (async-tungstenite) over an upgraded connection.
    ///
    /// For filch's `TcpStream`, `UnixStream` and their owned read halves, reads go
    /// straight into hyper's uninitialised buffer; see the [module docs](self).
    ///
    /// # Examples
    ///
    /// A hyper HTTP/1.1 server connection and client over filch sockets:
    ///
    /// ```
    /// use filch::hyper::Io;
    /// use http_body_util::{BodyExt, Empty, Full};
    /// use hyper::body::Bytes;
    /// use std::convert::Infallible;
    ///
    /// # #[filch::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    /// let listener = filch::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let addr = listener.local_addr()?;
    /// filch::spawn(async move {
    ///     let (stream, _) = listener.accept().await.unwrap();
    ///     let hello = hyper::service::service_fn(|_req| async {
    ///         Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from("hi"))))
    ///     });
    ///     hyper::server::conn::http1::Builder::new()
    ///         .serve_connection(Io::new(stream), hello)
    ///         .await
    /// });
    ///
    /// let stream = filch::net::TcpStream::connect(addr).await?;
    /// let (mut sender, conn) = hyper::client::conn::http1::handshake(Io::new(stream)).await?;
    /// filch::spawn(conn);
    /// let req = http::Request::get("/").header("host", "localhost").body(Empty::<Bytes>::new())?;
    /// let body = sender.send_request(req).await?.into_body().collect().await?.to_bytes();
    /// assert_eq!(body, "hi");
    /// # Ok(())
    /// # }
    /// ```
    #[derive(Debug, Default)]
    pub struct Io<T> {
        #[pin]
        inner: T,
    }
}

impl<T> Io<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> Io<T> {
        Io { inner }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the stream.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

/// One of filch's sockets, recognised by [`socket_of`] at run time.
enum Socket<'a> {
    Tcp(&'a TcpStream),
    Unix(&'a UnixStream),
}

impl Socket<'_> {
    fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        match self {
            Socket::Tcp(s) => s.poll_read_uninit_priv(cx, buf),
            Socket::Unix(s) => s.poll_read_uninit_priv(cx, buf),
        }
    }
}

/// `value` as a `&U` if `T` is `U`.
fn downcast_ref<T: ?Sized, U: 'static>(value: &T) -> Option<&U> {
    // `typeid::of` is `TypeId::of` without the `'static` bound: it erases `T`'s lifetimes.
    // Every `U` used here has no lifetime parameter, so equal ids mean `T` is `U` exactly.
    if typeid::of::<T>() == TypeId::of::<U>() {
        // SAFETY: `T` and `U` are the same type (above), so the pointer is a valid `&U`
        // for the borrow's lifetime.
        Some(unsafe { &*(value as *const T).cast::<U>() })
    } else {
        None
    }
}

/// The filch socket `value` is or reads from, if it is one of those that can read into
/// uninitialised memory.
fn socket_of<T>(value: &T) -> Option<Socket<'_>> {
    if let Some(s) = downcast_ref::<T, TcpStream>(value) {
        Some(Socket::Tcp(s))
    } else if let Some(s) = downcast_ref::<T, UnixStream>(value) {
        Some(Socket::Unix(s))
    } else if let Some(half) = downcast_ref::<T, tcp::OwnedReadHalf>(value) {
        Some(Socket::Tcp(half.stream()))
    } else {
        downcast_ref::<T, unix::OwnedReadHalf>(value).map(|half| Socket::Unix(half.stream()))
    }
}

/// Whether `T` writes several buffers in one system call (filch's sockets and their
/// write halves do; `futures-io` has no way to ask other writers).
fn writes_vectored<T>() -> bool {
    let id = typeid::of::<T>();
    [
        TypeId::of::<TcpStream>(),
        TypeId::of::<UnixStream>(),
        TypeId::of::<tcp::OwnedWriteHalf>(),
        TypeId::of::<unix::OwnedWriteHalf>(),
    ]
    .contains(&id)
}

impl<T: AsyncRead> hyper::rt::Read for Io<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let inner = self.project().inner;
        let n = if let Some(socket) = socket_of::<T>(inner.as_ref().get_ref()) {
            // SAFETY: `recv` only writes into the slice, never de-initialises a byte.
            let unfilled = unsafe { buf.as_mut() };
            ready!(socket.poll_read_uninit(cx, unfilled))?
        } else {
            ready!(inner.poll_read(cx, buf.initialize_unfilled()))?
        };
        // SAFETY: the read initialised (wrote) the first `n` bytes of the unfilled part.
        unsafe { buf.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite> hyper::rt::Write for Io<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_close(cx)
    }

    fn is_write_vectored(&self) -> bool {
        writes_vectored::<T>()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }
}

impl<T: hyper::rt::Read> AsyncRead for Io<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut buf = hyper::rt::ReadBuf::new(buf);
        ready!(self.project().inner.poll_read(cx, buf.unfilled()))?;
        Poll::Ready(Ok(buf.filled().len()))
    }
}

impl<T: hyper::rt::Write> AsyncWrite for Io<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        hyper::rt::Write::poll_write(self.project().inner, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        hyper::rt::Write::poll_write_vectored(self.project().inner, cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        hyper::rt::Write::poll_flush(self.project().inner, cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        hyper::rt::Write::poll_shutdown(self.project().inner, cx)
    }
}

/// For hyper-util's pooled client ([`Connector`](super::Connector)): a plain connection,
/// neither proxied nor negotiated by ALPN.
impl hyper_util::client::legacy::connect::Connection for Io<TcpStream> {
    fn connected(&self) -> hyper_util::client::legacy::connect::Connected {
        hyper_util::client::legacy::connect::Connected::new()
    }
}

impl hyper_util::client::legacy::connect::Connection for Io<UnixStream> {
    fn connected(&self) -> hyper_util::client::legacy::connect::Connected {
        hyper_util::client::legacy::connect::Connected::new()
    }
}
