//! hyper 1.x and axum on filch, with no glue code of your own (cargo feature `hyper`):
//! filch's answer to `hyper_util::rt::tokio` and `axum::serve`.
//!
//! - [`Io`]: filch streams as hyper's I/O traits (reading straight into hyper's
//!   uninitialised buffers), and hyper's upgraded connections as `futures-io` streams.
//! - [`Executor`] and [`Timer`]: hyper's runtime hooks on filch's scheduler and timers.
//! - [`serve`]: an HTTP/1.1 + HTTP/2 server for any tower `Service` (an axum `Router`),
//!   with graceful shutdown, the peer address in each request ([`PeerAddr`]) and
//!   backpressure on accept errors; it accepts from a [`Listener`].
//! - [`Connector`]: TCP connections for hyper-util's pooled client.
//!
//! hyper-util does the HTTP work: its auto (HTTP/1 + HTTP/2) connection builder, its
//! graceful-shutdown watcher, its tower bridge and its pooled client. This module adds
//! only what is filch's. tokio appears in the dependency tree because hyper's HTTP/2
//! (h2) and hyper-util's graceful shutdown use tokio's I/O traits and `tokio::sync`; no
//! tokio runtime is ever started.
//!
//! # Examples
//!
//! An axum app served on filch, and a request to it with hyper's pooled client:
//!
//! ```
//! use axum::{routing::get, Router};
//! use filch::hyper::{serve, Connector, Executor, Timer};
//! use http_body_util::{BodyExt, Empty};
//! use hyper::body::Bytes;
//! use hyper_util::client::legacy::Client;
//!
//! # #[filch::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let listener = filch::net::TcpListener::bind("127.0.0.1:0").await?;
//! let url = format!("http://{}/", listener.local_addr()?);
//! let app = Router::new().route("/", get(|| async { "hello" }));
//! let (stop, stopped) = filch::sync::oneshot::channel::<()>();
//! let server = filch::spawn(serve(listener, app).with_graceful_shutdown(async {
//!     stopped.await.ok();
//! }).into_future());
//!
//! let client: Client<_, Empty<Bytes>> =
//!     Client::builder(Executor::new()).timer(Timer::new()).build(Connector::new());
//! let response = client.get(url.parse()?).await?;
//! assert_eq!(response.into_body().collect().await?.to_bytes(), "hello");
//!
//! stop.send(()).unwrap();
//! server.await??;
//! # Ok(())
//! # }
//! # use std::future::IntoFuture;
//! ```

mod connector;
mod executor;
mod io;
mod listener;
mod serve;
mod timer;

pub use connector::{Connecting, Connector};
pub use executor::Executor;
pub use io::Io;
pub use listener::{Listener, PeerAddr};
pub use serve::{serve, Serve, ServeFuture, WithGracefulShutdown};
pub use timer::Timer;
