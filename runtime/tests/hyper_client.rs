//! `filch::hyper::Connector` with hyper-util's pooled client: connection reuse, the pool's
//! idle timeout on filch's timers, the connect timeout, and https refused with a message.
mod support;

use axum::routing::get;
use axum::Router;
use filch::hyper::{serve, Connector, Executor, Listener, PeerAddr, Timer};
use filch::net::{TcpListener, TcpStream};
use filch::time::{timeout, Duration, Instant};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use std::future::IntoFuture;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use support::http::runtime;

/// A TCP listener that counts the connections it accepts.
struct Counting(TcpListener, Arc<AtomicUsize>);

impl Listener for Counting {
    type Io = TcpStream;

    fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, PeerAddr)>> {
        let accepted = std::task::ready!(Listener::poll_accept(&mut self.0, cx));
        self.1.fetch_add(1, Ordering::SeqCst);
        Poll::Ready(accepted)
    }
}

/// A server on loopback counting its connections, and its URL.
async fn counted_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let app = Router::new().route(
        "/n/{n}",
        get(|axum::extract::Path(n): axum::extract::Path<u32>| async move { (n * 2).to_string() }),
    );
    filch::spawn(serve(Counting(listener, accepted.clone()), app).into_future());
    (url, accepted)
}

#[test]
fn the_pooled_client_reuses_its_connection() {
    runtime().block_on(async {
        let (url, accepted) = counted_server().await;
        let client: Client<_, Empty<Bytes>> = Client::builder(Executor::new())
            .timer(Timer::new())
            .build(Connector::new());
        for n in 0..20u32 {
            let response = client
                .get(format!("{url}/n/{n}").parse().unwrap())
                .await
                .unwrap();
            assert_eq!(response.status(), http::StatusCode::OK);
            let body = response.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(body, (n * 2).to_string());
        }
        // hyper-util's pool returns a connection once its task has seen the response
        // end, which can be just after the next request checked the pool: that request
        // then connects anew (on tokio too). Reuse means a few connections, not 20.
        let accepted = accepted.load(Ordering::SeqCst);
        assert!(
            (1..=3).contains(&accepted),
            "{accepted} connections for 20 requests"
        );
    });
}

#[test]
fn the_pool_closes_idle_connections_on_filch_timers() {
    runtime().block_on(async {
        let (url, accepted) = counted_server().await;
        let client: Client<_, Empty<Bytes>> = Client::builder(Executor::new())
            .timer(Timer::new())
            .pool_timer(Timer::new())
            .pool_idle_timeout(Duration::from_millis(50))
            .build(Connector::new());
        client
            .get(format!("{url}/n/1").parse().unwrap())
            .await
            .unwrap();
        filch::time::sleep(Duration::from_millis(300)).await;
        client
            .get(format!("{url}/n/2").parse().unwrap())
            .await
            .unwrap();
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            2,
            "the idle connection expired"
        );
    });
}

#[test]
fn the_connect_timeout_bounds_a_connect_that_hangs() {
    runtime().block_on(async {
        // A listener whose accept queue is full: the kernel drops further SYNs, so a new
        // connect hangs (it is retried for over a minute).
        let socket =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        socket
            .bind(
                &"127.0.0.1:0"
                    .parse::<std::net::SocketAddr>()
                    .unwrap()
                    .into(),
            )
            .unwrap();
        socket.listen(0).unwrap();
        let addr = socket.local_addr().unwrap().as_socket().unwrap();
        let mut fillers = Vec::new();
        for _ in 0..8 {
            let Ok(Ok(stream)) =
                timeout(Duration::from_millis(200), TcpStream::connect(addr)).await
            else {
                break; // the queue is full: this one would hang
            };
            fillers.push(stream);
        }
        let client: Client<_, Empty<Bytes>> = Client::builder(Executor::new())
            .timer(Timer::new())
            .build(Connector::new().connect_timeout(Duration::from_millis(100)));
        let start = Instant::now();
        let url = format!("http://{addr}/").parse().unwrap();
        let error = timeout(Duration::from_secs(20), client.get(url))
            .await
            .expect("the connect timeout fires")
            .unwrap_err();
        assert!(error.is_connect(), "{error:?}");
        let source = std::error::Error::source(&error).and_then(|e| e.downcast_ref::<io::Error>());
        assert_eq!(
            source.map(io::Error::kind),
            Some(io::ErrorKind::TimedOut),
            "{error:?}"
        );
        assert!(start.elapsed() < Duration::from_secs(10));
    });
}

#[test]
fn https_is_refused_with_a_message_that_says_what_to_do() {
    runtime().block_on(async {
        let client: Client<_, Empty<Bytes>> = Client::builder(Executor::new())
            .timer(Timer::new())
            .build(Connector::new());
        let error = client
            .get("https://127.0.0.1:1/".parse().unwrap())
            .await
            .unwrap_err();
        let source = std::error::Error::source(&error).map(ToString::to_string);
        assert!(source.as_deref().unwrap_or("").contains("TLS"), "{error:?}");
    });
}
