//! [`serve`]: the accept loop of an HTTP server — HTTP/1.1 and HTTP/2 (detected per
//! connection by hyper-util's auto builder), keep-alive, upgrades — with graceful shutdown
//! (hyper-util's `GracefulShutdown`) and a drain deadline. filch's part is the loop itself:
//! which accept errors to retry, backpressure when out of descriptors, the peer address
//! in each request, and owning every connection task so that none outlives the server.

use std::error::Error as StdError;
use std::future::{poll_fn, Future, IntoFuture};
use std::io;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::{TowerToHyperService, TowerToHyperServiceFuture};

use super::listener::AcceptError;
use super::{Executor, Io, Listener, PeerAddr, Timer};
use crate::task::JoinSet;

/// How long the accept loop waits before it tries again when out of file descriptors or
/// memory (a tight retry loop would spin a core at 100% while nothing can succeed).
const RESOURCE_BACKOFF: Duration = Duration::from_millis(100);

type BoxError = Box<dyn StdError + Send + Sync>;

/// Serves HTTP on every connection `listener` accepts, with `service` (any
/// `tower_service::Service` for `http::Request<hyper::body::Incoming>`, such as an axum
/// `Router`, cloned for each connection).
///
/// - HTTP/1.1 and HTTP/2 (prior knowledge) on the same port, with keep-alive and
///   HTTP/1 upgrades (websockets); hyper's timeouts run on filch's timers (among them
///   HTTP/1's 30 s header read timeout, against slow clients).
/// - `TCP_NODELAY` on every accepted TCP connection ([`Serve::tcp_nodelay`] turns it off).
/// - Each request carries the peer's address as a [`PeerAddr`] in its extensions.
/// - One connection's errors never stop the server, and nothing is logged. Accept errors
///   of one connection (`ECONNABORTED`, ...) are skipped; when out of descriptors or
///   memory (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`) the loop sleeps 100 ms before it
///   tries again (new connections wait in the listen backlog meanwhile); any other
///   error ends the server with that error.
///
/// Await the returned [`Serve`] to run the server until the listener fails, or call
/// [`with_graceful_shutdown`](Serve::with_graceful_shutdown) first. The server owns its
/// connection tasks: when the future returns or is dropped, every connection still open
/// is closed.
///
/// # Examples
///
/// ```
/// use axum::{routing::get, Router};
/// use filch::hyper::serve;
///
/// # #[filch::main]
/// # async fn main() -> std::io::Result<()> {
/// let listener = filch::net::TcpListener::bind("127.0.0.1:0").await?;
/// let app = Router::new().route("/", get(|| async { "hello" }));
/// let (stop, stopped) = filch::sync::oneshot::channel::<()>();
/// let server = filch::spawn(serve(listener, app).with_graceful_shutdown(async {
///     stopped.await.ok();
/// }).into_future());
/// stop.send(()).unwrap();
/// server.await.unwrap()?; // returns once in-flight requests are done
/// # Ok(())
/// # }
/// # use std::future::IntoFuture;
/// ```
pub fn serve<L, S, B>(listener: L, service: S) -> Serve<L, S>
where
    L: Listener,
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    Serve {
        listener,
        service,
        nodelay: true,
    }
}

/// A server that has not started yet; see [`serve`]. Awaiting it runs it until the
/// listener fails.
#[must_use = "a server does nothing until it is awaited"]
#[derive(Debug)]
pub struct Serve<L, S> {
    listener: L,
    service: S,
    nodelay: bool,
}

impl<L, S> Serve<L, S> {
    /// Whether to set `TCP_NODELAY` on accepted TCP connections (default: yes, so that
    /// small responses are not held back by Nagle's algorithm).
    pub fn tcp_nodelay(mut self, nodelay: bool) -> Serve<L, S> {
        self.nodelay = nodelay;
        self
    }

    /// Runs the server until `signal` completes (or the listener fails), then shuts down
    /// gracefully: stops accepting, closes idle keep-alive connections, lets every
    /// in-flight request finish (HTTP/2 connections get a GOAWAY), and returns once all
    /// connections are closed — or, with a [`drain_timeout`](WithGracefulShutdown::drain_timeout),
    /// at that deadline, closing the connections still open.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn app() -> std::io::Result<()> {
    /// use std::time::Duration;
    /// let listener = filch::net::TcpListener::bind("127.0.0.1:3000").await?;
    /// let app = axum::Router::new().route("/", axum::routing::get(|| async { "hello" }));
    /// filch::hyper::serve(listener, app)
    ///     .with_graceful_shutdown(async { filch::signal::ctrl_c().await.ok(); })
    ///     .drain_timeout(Duration::from_secs(30))
    ///     .await
    /// # }
    /// ```
    pub fn with_graceful_shutdown<F>(self, signal: F) -> WithGracefulShutdown<L, S, F>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        WithGracefulShutdown {
            serve: self,
            signal,
            drain_timeout: None,
        }
    }
}

/// A server that shuts down gracefully; see [`Serve::with_graceful_shutdown`].
#[must_use = "a server does nothing until it is awaited"]
#[derive(Debug)]
pub struct WithGracefulShutdown<L, S, F> {
    serve: Serve<L, S>,
    signal: F,
    drain_timeout: Option<Duration>,
}

impl<L, S, F> WithGracefulShutdown<L, S, F> {
    /// The longest the shutdown waits for open connections to finish their requests
    /// (default: no limit). At the deadline, the server closes what is still open and
    /// returns `Ok`.
    pub fn drain_timeout(mut self, deadline: Duration) -> WithGracefulShutdown<L, S, F> {
        self.drain_timeout = Some(deadline);
        self
    }

    /// As [`Serve::tcp_nodelay`].
    pub fn tcp_nodelay(mut self, nodelay: bool) -> WithGracefulShutdown<L, S, F> {
        self.serve.nodelay = nodelay;
        self
    }
}

/// The future of a running server: `io::Result<()>`, `Err` only when the listener failed.
pub type ServeFuture = Pin<Box<dyn Future<Output = io::Result<()>> + Send + 'static>>;

impl<L, S, B> IntoFuture for Serve<L, S>
where
    L: Listener,
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Output = io::Result<()>;
    type IntoFuture = ServeFuture;

    fn into_future(self) -> ServeFuture {
        Box::pin(run(self, None::<std::future::Pending<()>>, None))
    }
}

impl<L, S, B, F> IntoFuture for WithGracefulShutdown<L, S, F>
where
    L: Listener,
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
    F: Future<Output = ()> + Send + 'static,
{
    type Output = io::Result<()>;
    type IntoFuture = ServeFuture;

    fn into_future(self) -> ServeFuture {
        Box::pin(run(self.serve, Some(self.signal), self.drain_timeout))
    }
}

/// What woke the accept loop.
enum Next<T> {
    Accepted(io::Result<T>),
    Shutdown,
}

async fn run<L, S, B, F>(
    serve: Serve<L, S>,
    signal: Option<F>,
    drain_timeout: Option<Duration>,
) -> io::Result<()>
where
    L: Listener,
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
    F: Future<Output = ()> + Send,
{
    let Serve {
        mut listener,
        service,
        nodelay,
    } = serve;
    let mut builder = auto::Builder::new(Executor::new());
    builder.http1().timer(Timer::new());
    builder.http2().timer(Timer::new());
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let mut signal = std::pin::pin!(signal);
    let mut backoff: Option<Pin<Box<crate::time::Sleep>>> = None;

    loop {
        let next = poll_fn(|cx| {
            if let Some(signal) = signal.as_mut().as_pin_mut() {
                if signal.poll(cx).is_ready() {
                    return Poll::Ready(Next::Shutdown);
                }
            }
            // Reap the connections that finished since the last accept, so that a
            // long-running server keeps no record of closed ones.
            while connections.try_join_next().is_some() {}
            if let Some(sleep) = &mut backoff {
                std::task::ready!(sleep.as_mut().poll(cx));
                backoff = None;
            }
            listener.poll_accept(cx).map(Next::Accepted)
        })
        .await;
        match next {
            Next::Shutdown => break,
            Next::Accepted(Ok((io, peer))) => {
                let _ = L::set_nodelay(&io, nodelay);
                let service = PeerService {
                    inner: service.clone(),
                    peer,
                };
                let connection = builder
                    .serve_connection_with_upgrades(Io::new(io), service)
                    .into_owned();
                let connection = graceful.watch(connection);
                connections.spawn(async move {
                    // A connection's error (a client that went away, a malformed request)
                    // concerns that connection only.
                    let _ = connection.await;
                });
            }
            Next::Accepted(Err(error)) => match AcceptError::classify(&error) {
                AcceptError::Connection => {}
                AcceptError::Resources => {
                    backoff = Some(Box::pin(crate::time::sleep(RESOURCE_BACKOFF)));
                }
                AcceptError::Fatal => return Err(error),
            },
        }
    }

    drop(listener);
    let drained = graceful.shutdown();
    match drain_timeout {
        Some(deadline) => {
            if crate::time::timeout(deadline, drained).await.is_err() {
                connections.abort_all();
            }
        }
        None => drained.await,
    }
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// The user's service for one connection: tags each request with the peer's address,
/// then hands it to hyper-util's tower bridge (which drives `poll_ready` and `call`).
#[derive(Clone)]
struct PeerService<S> {
    inner: S,
    peer: PeerAddr,
}

impl<S, B> hyper::service::Service<Request<Incoming>> for PeerService<S>
where
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone,
{
    type Response = Response<B>;
    type Error = S::Error;
    type Future = TowerToHyperServiceFuture<S, Request<Incoming>>;

    fn call(&self, mut request: Request<Incoming>) -> Self::Future {
        request.extensions_mut().insert(self.peer.clone());
        hyper::service::Service::call(&TowerToHyperService::new(self.inner.clone()), request)
    }
}
