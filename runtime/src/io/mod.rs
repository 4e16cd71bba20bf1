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
//! hyper 1.x defines its own I/O traits, `hyper::rt::Read` and `hyper::rt::Write`. With
//! the cargo feature `hyper`, [`filch::hyper::Io`](https://docs.rs/filch/latest/filch/hyper/struct.Io.html)
//! adapts every filch stream (and any `futures-io` stream) to them, reading filch's
//! sockets straight into hyper's uninitialised buffers; `filch::hyper` also has hyper's
//! executor and timer, an HTTP server (`serve`, for axum too) and a connector for
//! hyper-util's pooled client. Do not write a `futures-io` → hyper adapter by hand: the
//! obvious one zero-fills hyper's 8–32 KiB read buffer before every read.
pub mod unix;

pub use crate::driver::io::interest::Interest;
pub use crate::driver::io::ready::Ready;

pub use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
pub use futures_util::io::{
    copy, copy_buf, empty, repeat, sink, AsyncBufReadExt, AsyncReadExt, AsyncSeekExt,
    AsyncWriteExt, BufReader, BufWriter, Cursor, Empty, Lines, ReadHalf, Repeat, ReuniteError,
    Sink, Take, WriteHalf,
};
