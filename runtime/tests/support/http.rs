//! HTTP helpers for the tests of `filch::hyper` (feature `hyper`): a hyper HTTP/1.1
//! client connection over a filch socket.

use filch::hyper::Io;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use std::net::SocketAddr;

/// One HTTP/1.1 client connection to `addr`, its driver spawned on the current runtime.
pub async fn connect(addr: SocketAddr) -> hyper::client::conn::http1::SendRequest<Empty<Bytes>> {
    let stream = filch::net::TcpStream::connect(addr).await.unwrap();
    let (sender, conn) = hyper::client::conn::http1::handshake(Io::new(stream))
        .await
        .unwrap();
    filch::spawn(conn);
    sender
}

/// `GET path` on `sender`'s connection: the status and the whole body.
pub async fn get_on(
    sender: &mut hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
    path: &str,
) -> hyper::Result<(http::StatusCode, Bytes)> {
    let request = http::Request::get(path)
        .header(http::header::HOST, "localhost")
        .body(Empty::new())
        .unwrap();
    let response = sender.send_request(request).await?;
    let status = response.status();
    Ok((status, response.into_body().collect().await?.to_bytes()))
}

/// Waits until `sender`'s connection is closed: its driver task saw the peer close it, or
/// was dropped.
///
/// Asking with a request instead would race the close: a request handed to the connection
/// just as its task sees the close can stay unanswered for good (hyper#2312).
pub async fn closed(sender: &hyper::client::conn::http1::SendRequest<Empty<Bytes>>) {
    while !sender.is_closed() {
        filch::time::sleep(std::time::Duration::from_millis(2)).await;
    }
}

/// `GET path` on a new connection to `addr`.
pub async fn get(addr: SocketAddr, path: &str) -> hyper::Result<(http::StatusCode, Bytes)> {
    get_on(&mut connect(addr).await, path).await
}

/// A runtime with two workers (the server's tasks and the test's run on both).
pub fn runtime() -> filch::runtime::Runtime {
    filch::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

/// A listener on a free loopback port, and its address.
pub async fn local_listener() -> (filch::net::TcpListener, SocketAddr) {
    let listener = filch::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// Waits at most `limit` for the server task to return (failing with `why` if it does
/// not), and checks that it neither panicked nor returned an error.
pub async fn server_returns<T, E: std::fmt::Debug>(
    server: filch::task::JoinHandle<Result<T, E>>,
    limit: std::time::Duration,
    why: &str,
) -> T {
    filch::time::timeout(limit, server)
        .await
        .expect(why)
        .unwrap()
        .unwrap()
}
