//! The `websocket_chat` example's server: a chat room where every text message from any
//! client goes to every client (its sender included), over async-tungstenite on filch,
//! with `filch::sync::broadcast` fanning the messages out.
//!
//! Two ways in, to the same room:
//!
//! - **plain websockets** on a `filch::net::TcpListener` ([`Chat::serve_websockets`],
//!   [`Chat::accept`]: `async_tungstenite::accept_async` on the accepted stream);
//! - **`GET /ws` on an HTTP server** that also has normal routes ([`Chat::router`], served
//!   by `filch::hyper::serve`): the websocket handshake is answered by hand, since axum's
//!   `WebSocketUpgrade` needs tokio; see [`upgrade_websocket`], the manual upgrade recipe.
//!
//! [`start`] runs both on their own ports; [`connect`] is a client.
//!
//! # Slow and gone clients
//!
//! Each connection has its own task and its own broadcast receiver, and a send to the room
//! never waits for any client. A client that stops reading blocks only its own task (in
//! the write to its socket); meanwhile the room moves on, and when that task catches up it
//! finds that it lagged: it tells its client how many messages it missed with a text
//! message `[missed N messages]` ([`missed_notice`], [`parse_missed`]) and continues with
//! the oldest message the room still holds. A client that goes away ends its task (its
//! read or its next write fails) and drops its receiver; no one else notices.
//!
//! # Joining the room
//!
//! A connection subscribes to the room *before* its handshake completes, so once a
//! client's handshake returns, it receives every message sent after that.

use async_tungstenite::tungstenite::client::IntoClientRequest;
use async_tungstenite::tungstenite::error::UrlError;
use async_tungstenite::tungstenite::handshake::derive_accept_key;
use async_tungstenite::tungstenite::protocol::Role;
use async_tungstenite::tungstenite::{self, Message, Utf8Bytes};
use async_tungstenite::WebSocketStream;
use axum::extract::{Request, State};
use axum::http::{self, header, HeaderMap, HeaderValue, Method, StatusCode, Version};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use filch::hyper::Io;
use filch::io::{AsyncRead, AsyncWrite};
use filch::net::{TcpListener, TcpStream};
use filch::sync::broadcast::{self, RecvError};
use filch::sync::oneshot;
use filch::task::{JoinHandle, JoinSet};
use futures_util::StreamExt;
use hyper::upgrade::{OnUpgrade, Upgraded};
use std::future::{Future, IntoFuture};
use std::io;
use std::net::SocketAddr;

/// A chat room. Clones are handles to the same room.
#[derive(Clone)]
pub struct Chat {
    messages: broadcast::Sender<Utf8Bytes>,
}

impl std::fmt::Debug for Chat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chat")
            .field("clients", &self.clients())
            .finish()
    }
}

impl Chat {
    /// An empty room that keeps up to `backlog` messages (rounded up to a power of two) for
    /// a client that is behind; one further behind misses the oldest (see the
    /// [module docs](self)).
    ///
    /// # Panics
    ///
    /// If `backlog` is zero.
    pub fn new(backlog: usize) -> Chat {
        let (messages, _) = broadcast::channel(backlog);
        Chat { messages }
    }

    /// How many clients are in the room (connections whose handshake is done or under way).
    pub fn clients(&self) -> usize {
        self.messages.receiver_count()
    }

    /// Accepts plain websocket connections on `listener` until it fails, each served on a
    /// task of its own. Those tasks belong to this future: drop it (abort its task) and
    /// every connection it accepted is closed.
    ///
    /// # Errors
    ///
    /// The listener's error, except the errors of a single connection (aborted or reset
    /// before it was accepted), which are skipped.
    pub async fn serve_websockets(self, listener: TcpListener) -> io::Result<()> {
        let mut connections = JoinSet::new();
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _peer)) => stream,
                Err(e) if is_per_connection(&e) => continue,
                Err(e) => return Err(e),
            };
            // Forget the connections that have closed since the last accept.
            while connections.try_join_next().is_some() {}
            let _ = stream.set_nodelay(true);
            let chat = self.clone();
            connections.spawn(async move {
                // A client that breaks the protocol or goes away concerns only itself.
                let _ = chat.accept(stream).await;
            });
        }
    }

    /// Does the websocket handshake as the server on `stream` (any `futures-io` stream:
    /// a TCP or Unix socket, a TLS stream), then takes part in the room until the client
    /// leaves.
    ///
    /// # Errors
    ///
    /// A failed handshake, or the connection's error (`Ok` when the client closes).
    pub async fn accept<S>(&self, stream: S) -> Result<(), tungstenite::Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let inbox = self.messages.subscribe();
        let websocket = async_tungstenite::accept_async(stream).await?;
        self.run(websocket, inbox).await
    }

    /// An HTTP app with the room at `GET /ws` (a websocket upgrade, see
    /// [`upgrade_websocket`]) beside an ordinary route, `GET /`. Serve it with
    /// `filch::hyper::serve`. The websocket connections it upgrades leave the HTTP server
    /// (its graceful shutdown does not wait for them) and run until their clients leave.
    pub fn router(&self) -> Router {
        Router::new()
            .route(
                "/",
                get(|| async { "filch chat: open a websocket to /ws\n" }),
            )
            .route("/ws", get(join_over_http))
            .with_state(self.clone())
    }

    /// One client's connection: what it sends goes to the room, what the room gets goes
    /// to it, until it leaves.
    async fn run<S>(
        &self,
        mut websocket: WebSocketStream<S>,
        mut inbox: broadcast::Receiver<Utf8Bytes>,
    ) -> Result<(), tungstenite::Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        // Set once the client sent its close frame: tungstenite answers it on the next
        // read, which then ends the stream; nothing more is sent meanwhile.
        let mut closing = false;
        loop {
            filch::select! {
                incoming = websocket.next() => match incoming {
                    Some(Ok(Message::Text(text))) => {
                        // No receiver at all cannot happen (this connection has one).
                        let _ = self.messages.send(text);
                    }
                    Some(Ok(Message::Close(_))) => closing = true,
                    // Pings are answered by tungstenite itself; binary frames are not chat.
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(e),
                    None => return Ok(()),
                },
                outgoing = inbox.recv(), if !closing => match outgoing {
                    Ok(text) => websocket.send(Message::Text(text)).await?,
                    Err(RecvError::Lagged(missed)) => {
                        websocket.send(Message::text(missed_notice(missed))).await?;
                    }
                    // Every sender is gone: cannot happen while `self` is alive.
                    Err(RecvError::Closed) => return Ok(()),
                },
            }
        }
    }
}

/// The text a client gets when it fell so far behind that it missed `missed` messages.
pub fn missed_notice(missed: u64) -> String {
    format!("[missed {missed} messages]")
}

/// The count in a [`missed_notice`], if `text` is one.
pub fn parse_missed(text: &str) -> Option<u64> {
    text.strip_prefix("[missed ")?
        .strip_suffix(" messages]")?
        .parse()
        .ok()
}

/// `GET /ws`: joins the room over a websocket upgraded from this HTTP request.
async fn join_over_http(State(chat): State<Chat>, mut request: Request) -> Response {
    // Subscribed now, before the `101` goes out (see "Joining the room").
    let inbox = chat.messages.subscribe();
    upgrade_websocket(&mut request, move |websocket| async move {
        let _ = chat.run(websocket, inbox).await;
    })
}

/// The manual websocket upgrade recipe, for hyper or axum on filch (axum's
/// `WebSocketUpgrade` extractor needs tokio).
///
/// Checks that `request` is a websocket handshake (RFC 6455, section 4.2.1: an HTTP/1.1
/// `GET` with `Connection: upgrade`, `Upgrade: websocket`, `Sec-WebSocket-Version: 13` and
/// a `Sec-WebSocket-Key`) and returns the response to send:
///
/// - `101 Switching Protocols` with the `Sec-WebSocket-Accept` derived from the key
///   (`tungstenite::handshake::derive_accept_key`). Once hyper has written it and hands
///   over the connection (`hyper::upgrade::on`), a new task wraps the upgraded connection
///   as a `futures-io` stream (`filch::hyper::Io`), makes it a server-side
///   `WebSocketStream` (`WebSocketStream::from_raw_socket`, no second handshake) and
///   runs `on_open` with it. If the upgrade fails (the client went away first),
///   `on_open` is dropped without being called.
/// - `405` if the method is not `GET`; `426 Upgrade Required` (with
///   `Sec-WebSocket-Version: 13`) for another websocket version, or a connection that
///   cannot be upgraded (HTTP/2, HTTP/1.0); `400` for a missing or wrong header. `on_open`
///   is dropped.
///
/// The server must serve connections with upgrades (`filch::hyper::serve` does). The
/// websocket task is detached: it is not one of the HTTP server's connections any more.
/// No subprotocol (`Sec-WebSocket-Protocol`) or extension is negotiated.
///
/// # Examples
///
/// An echo route:
///
/// ```
/// use async_tungstenite::tungstenite::Message;
/// use axum::{extract::Request, routing::get, Router};
/// use filch_examples::websocket_chat::upgrade_websocket;
/// use futures_util::StreamExt;
///
/// let app: Router = Router::new().route(
///     "/echo",
///     get(|mut request: Request| async move {
///         upgrade_websocket::<_, axum::body::Body, _, _>(&mut request, |mut websocket| async move {
///             while let Some(Ok(message)) = websocket.next().await {
///                 if let Message::Text(text) = message {
///                     if websocket.send(Message::Text(text)).await.is_err() {
///                         break;
///                     }
///                 }
///             }
///         })
///     }),
/// );
/// ```
pub fn upgrade_websocket<ReqBody, ResBody, F, Fut>(
    request: &mut http::Request<ReqBody>,
    on_open: F,
) -> http::Response<ResBody>
where
    ResBody: Default,
    F: FnOnce(WebSocketStream<Io<Upgraded>>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let headers = request.headers();
    if request.method() != Method::GET {
        return refusal(StatusCode::METHOD_NOT_ALLOWED);
    }
    if !has_token(headers, header::CONNECTION, "upgrade")
        || !has_token(headers, header::UPGRADE, "websocket")
    {
        return refusal(StatusCode::BAD_REQUEST);
    }
    if headers.get(header::SEC_WEBSOCKET_VERSION) != Some(&HeaderValue::from_static("13")) {
        let mut response = refusal(StatusCode::UPGRADE_REQUIRED);
        response.headers_mut().insert(
            header::SEC_WEBSOCKET_VERSION,
            HeaderValue::from_static("13"),
        );
        return response;
    }
    let Some(key) = headers.get(header::SEC_WEBSOCKET_KEY) else {
        return refusal(StatusCode::BAD_REQUEST);
    };
    if request.version() != Version::HTTP_11 || request.extensions().get::<OnUpgrade>().is_none() {
        return refusal(StatusCode::UPGRADE_REQUIRED);
    }
    let accept = HeaderValue::try_from(derive_accept_key(key.as_bytes()))
        .expect("base64 is a valid header value");

    let on_upgrade = hyper::upgrade::on(request);
    filch::spawn(async move {
        // Resolves once hyper has sent the 101 below and given up the connection.
        if let Ok(upgraded) = on_upgrade.await {
            let websocket =
                WebSocketStream::from_raw_socket(Io::new(upgraded), Role::Server, None).await;
            on_open(websocket).await;
        }
    });

    let mut response = http::Response::new(ResBody::default());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    response
}

/// An empty response with `status`.
fn refusal<B: Default>(status: StatusCode) -> http::Response<B> {
    let mut response = http::Response::new(B::default());
    *response.status_mut() = status;
    response
}

/// Whether one of the `name` headers lists `token` (comma-separated, any case).
fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// Accept errors that concern one connection only: skip them and accept the next.
fn is_per_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

/// The room's two servers, running: see [`start`].
#[derive(Debug)]
pub struct Running {
    /// Where plain websockets connect: `ws://{websocket_addr}/`.
    pub websocket_addr: SocketAddr,
    /// The HTTP server: `http://{http_addr}/`, websockets at `ws://{http_addr}/ws`.
    pub http_addr: SocketAddr,
    stop_http: oneshot::Sender<()>,
    http: JoinHandle<io::Result<()>>,
    websockets: JoinHandle<io::Result<()>>,
}

impl Running {
    /// The URL of the plain websocket server.
    pub fn websocket_url(&self) -> String {
        format!("ws://{}/", self.websocket_addr)
    }

    /// The URL of the websocket route on the HTTP server.
    pub fn http_websocket_url(&self) -> String {
        format!("ws://{}/ws", self.http_addr)
    }

    /// Stops both servers: closes the plain websocket listener and its connections, and
    /// shuts the HTTP server down gracefully (in-flight requests finish; websockets it
    /// upgraded are no longer its own and stay open until their clients leave).
    ///
    /// # Errors
    ///
    /// A server's listener failed before (the first such error).
    pub async fn shutdown(self) -> io::Result<()> {
        self.websockets.abort();
        let websockets = match self.websockets.await {
            Ok(result) => result,
            Err(e) if e.is_cancelled() => Ok(()),
            Err(e) => Err(io::Error::other(e)),
        };
        // Err: the server already returned (its listener failed); its result says why.
        let _ = self.stop_http.send(());
        let http = self.http.await.map_err(io::Error::other)?;
        websockets.and(http)
    }
}

/// Starts `chat`'s two servers on their own tasks: plain websockets on `websocket_addr`
/// and its [`router`](Chat::router) on `http_addr` (port 0: any free port; the bound
/// addresses are in the [`Running`]).
///
/// # Errors
///
/// Binding either address.
pub async fn start(chat: Chat, websocket_addr: &str, http_addr: &str) -> io::Result<Running> {
    let websocket_listener = TcpListener::bind(websocket_addr).await?;
    let http_listener = TcpListener::bind(http_addr).await?;
    let websocket_addr = websocket_listener.local_addr()?;
    let http_addr = http_listener.local_addr()?;
    let (stop_http, stopped) = oneshot::channel::<()>();
    let http = filch::spawn(
        filch::hyper::serve(http_listener, chat.router())
            .with_graceful_shutdown(async {
                stopped.await.ok();
            })
            .into_future(),
    );
    let websockets = filch::spawn(chat.serve_websockets(websocket_listener));
    Ok(Running {
        websocket_addr,
        http_addr,
        stop_http,
        http,
        websockets,
    })
}

/// Connects to the websocket at `url` (`ws://host:port/path`; no TLS) over a filch
/// `TcpStream`.
///
/// # Errors
///
/// A bad URL, the connection's or the handshake's error.
pub async fn connect(url: &str) -> Result<WebSocketStream<TcpStream>, tungstenite::Error> {
    let request = url.into_client_request()?;
    let uri = request.uri();
    if uri.scheme_str() != Some("ws") {
        return Err(tungstenite::Error::Url(UrlError::UnsupportedUrlScheme));
    }
    let host = uri
        .host()
        .ok_or(tungstenite::Error::Url(UrlError::NoHostName))?;
    // An IPv6 literal comes in brackets: `[::1]`.
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = uri.port_u16().unwrap_or(80);
    let stream = TcpStream::connect((host, port)).await?;
    stream.set_nodelay(true)?;
    let (websocket, _response) = async_tungstenite::client_async(request, stream).await?;
    Ok(websocket)
}

/// The next text message on `websocket`, skipping any other kind; `None` once it is
/// closed.
///
/// # Errors
///
/// The connection's error.
pub async fn next_text<S>(
    websocket: &mut WebSocketStream<S>,
) -> Result<Option<Utf8Bytes>, tungstenite::Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    while let Some(message) = websocket.next().await {
        if let Message::Text(text) = message? {
            return Ok(Some(text));
        }
    }
    Ok(None)
}

/// Closes `websocket` from the client's side: sends a close frame, reads (and drops) what
/// is still on its way until the server's close frame answers it, then drops the
/// connection (RFC 6455, section 7.1.1: a client may close once it has sent and received
/// a close frame; the server closes its side on its own).
///
/// # Errors
///
/// The connection's error; a server that closes the connection without answering.
pub async fn close<S>(mut websocket: WebSocketStream<S>) -> Result<(), tungstenite::Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    websocket.close(None).await?;
    while let Some(message) = websocket.next().await {
        if let Message::Close(_) = message? {
            return Ok(());
        }
    }
    Err(tungstenite::Error::ConnectionClosed)
}
