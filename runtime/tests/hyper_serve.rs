//! `filch::hyper::serve`: the contract as the docs write it (axum, graceful shutdown on
//! Ctrl-C, hyper's client, the HTTP/2 builder), HTTP/1.1 and HTTP/2 on one port, the peer
//! address, draining in-flight requests, the drain deadline, idle keep-alive connections
//! at shutdown, bad clients, and a Unix listener.
mod support;

use axum::routing::get;
use axum::Router;
use filch::hyper::{serve, Executor, Io, PeerAddr, Timer};
use filch::net::TcpStream;
use filch::sync::{oneshot, Notify};
use filch::time::{timeout, Duration};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use std::future::IntoFuture;
use std::sync::Arc;
use support::http::{
    closed, connect, get as http_get, get_on, local_listener, runtime, server_returns,
};
use support::DropCounter;

#[test]
fn the_contract_as_written() {
    let rt = runtime();
    rt.block_on(async {
        let listener = filch::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = filch::spawn(async move {
            let app = axum::Router::new().route("/", axum::routing::get(|| async { "hello" }));
            serve(listener, app) // HTTP/1.1 and HTTP/2 (auto-detected), keep-alive
                .with_graceful_shutdown(async {
                    filch::signal::ctrl_c().await.ok();
                })
                .await // stops accepting, finishes in-flight requests, then returns
        });

        let stream = filch::net::TcpStream::connect(addr).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(Io::new(stream))
            .await
            .unwrap();
        filch::spawn(conn);
        let request = http::Request::get("/")
            .header("host", "localhost")
            .body(Empty::<Bytes>::new())
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, "hello");
        #[allow(unused_variables)]
        let h2 = hyper::server::conn::http2::Builder::new(Executor::new()).timer(Timer::new());

        // The server answered, so its shutdown signal has been polled and ctrl_c's
        // handler is installed: SIGINT now only completes it.
        // SAFETY: raise has no preconditions.
        assert_eq!(unsafe { libc::raise(libc::SIGINT) }, 0);
        drop(sender);
        server_returns(
            server,
            Duration::from_secs(20),
            "the server stops on Ctrl-C",
        )
        .await;
    });
}

#[test]
fn http1_and_http2_on_one_port_with_the_peer_address() {
    let rt = runtime();
    rt.block_on(async {
        let (listener, addr) = local_listener().await;
        let app = Router::new().route(
            "/peer",
            get(
                |axum::Extension(peer): axum::Extension<PeerAddr>| async move {
                    peer.as_tcp().unwrap().to_string()
                },
            ),
        );
        let server = filch::spawn(serve(listener, app).into_future());

        // HTTP/1.1: the peer address is the client socket's own.
        let stream = TcpStream::connect(addr).await.unwrap();
        let local = stream.local_addr().unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(Io::new(stream))
            .await
            .unwrap();
        filch::spawn(conn);
        let (status, body) = get_on(&mut sender, "/peer").await.unwrap();
        assert_eq!(
            (status, body),
            (http::StatusCode::OK, Bytes::from(local.to_string()))
        );

        // HTTP/2 with prior knowledge, several requests on one connection.
        let stream = TcpStream::connect(addr).await.unwrap();
        let local = stream.local_addr().unwrap();
        let (mut sender, conn) = hyper::client::conn::http2::Builder::new(Executor::new())
            .timer(Timer::new())
            .handshake(Io::new(stream))
            .await
            .unwrap();
        filch::spawn(conn);
        for _ in 0..3 {
            let request = http::Request::get("http://localhost/peer")
                .body(Empty::<Bytes>::new())
                .unwrap();
            let response = sender.send_request(request).await.unwrap();
            assert_eq!(response.version(), http::Version::HTTP_2);
            let body = response.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(body, local.to_string());
        }

        let (status, _) = http_get(addr, "/missing").await.unwrap();
        assert_eq!(status, http::StatusCode::NOT_FOUND);
        server.abort();
    });
}

#[test]
fn graceful_shutdown_lets_in_flight_requests_finish() {
    let rt = runtime();
    rt.block_on(async {
        let (listener, addr) = local_listener().await;
        let entered = Arc::new(Notify::new());
        let release = Arc::new(Notify::new());
        let app = Router::new().route(
            "/slow",
            get({
                let (entered, release) = (entered.clone(), release.clone());
                move || async move {
                    entered.notify_one();
                    release.notified().await;
                    "done"
                }
            }),
        );
        let (stop, stopped) = oneshot::channel::<()>();
        let server = filch::spawn(
            serve(listener, app)
                .with_graceful_shutdown(async {
                    stopped.await.ok();
                })
                .into_future(),
        );
        let request = filch::spawn(http_get(addr, "/slow"));
        entered.notified().await;
        stop.send(()).unwrap();

        // Not accepting any more (the listener is closed soon after the signal)...
        let refused = async {
            loop {
                if TcpStream::connect(addr).await.is_err() {
                    break;
                }
                filch::time::sleep(Duration::from_millis(5)).await;
            }
        };
        timeout(Duration::from_secs(10), refused)
            .await
            .expect("the listener closes");
        // ...but the request in flight is still being served.
        filch::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !server.is_finished(),
            "the server waits for the request in flight"
        );
        release.notify_one();
        let (status, body) = request.await.unwrap().unwrap();
        assert_eq!((status, &body[..]), (http::StatusCode::OK, &b"done"[..]));
        server_returns(
            server,
            Duration::from_secs(10),
            "the server returns once drained",
        )
        .await;
    });
}

#[test]
fn the_drain_deadline_closes_what_is_still_open_and_drops_it() {
    let rt = runtime();
    rt.block_on(async {
        let (listener, addr) = local_listener().await;
        let dropped = DropCounter::new();
        let entered = Arc::new(Notify::new());
        let app = Router::new().route(
            "/forever",
            get({
                let (dropped, entered) = (dropped.clone(), entered.clone());
                move || async move {
                    let _guard = dropped.guard();
                    entered.notify_one();
                    std::future::pending::<&'static str>().await
                }
            }),
        );
        let (stop, stopped) = oneshot::channel::<()>();
        let server = filch::spawn(
            serve(listener, app)
                .with_graceful_shutdown(async {
                    stopped.await.ok();
                })
                .drain_timeout(Duration::from_millis(100))
                .into_future(),
        );
        let request = filch::spawn(http_get(addr, "/forever"));
        entered.notified().await;
        stop.send(()).unwrap();
        server_returns(
            server,
            Duration::from_secs(10),
            "the deadline ends the drain",
        )
        .await;
        assert_eq!(
            dropped.count(),
            1,
            "the handler's future was dropped at the deadline"
        );
        let answer = timeout(Duration::from_secs(10), request)
            .await
            .unwrap()
            .unwrap();
        assert!(
            answer.is_err(),
            "the client sees its connection closed: {answer:?}"
        );
    });
}

#[test]
fn idle_keep_alive_connections_do_not_hold_up_the_shutdown() {
    let rt = runtime();
    rt.block_on(async {
        let (listener, addr) = local_listener().await;
        let app = Router::new().route("/", get(|| async { "hi" }));
        let (stop, stopped) = oneshot::channel::<()>();
        let server = filch::spawn(
            serve(listener, app)
                .with_graceful_shutdown(async {
                    stopped.await.ok();
                })
                .into_future(),
        );
        let mut idle = Vec::new();
        for _ in 0..4 {
            let mut sender = connect(addr).await;
            get_on(&mut sender, "/").await.unwrap();
            idle.push(sender); // kept open, idle
        }
        stop.send(()).unwrap();
        server_returns(
            server,
            Duration::from_secs(10),
            "idle connections are closed at once",
        )
        .await;
        for sender in idle {
            timeout(Duration::from_secs(10), closed(&sender))
                .await
                .expect("the server closed the idle connection");
        }
    });
}

#[test]
fn a_bad_client_does_not_stop_the_server() {
    let rt = runtime();
    rt.block_on(async {
        use filch::io::{AsyncReadExt, AsyncWriteExt};
        let (listener, addr) = local_listener().await;
        let app = Router::new().route("/", get(|| async { "still here" }));
        let server = filch::spawn(serve(listener, app).into_future());

        // Garbage: hyper answers 400 (or closes); the server goes on.
        let mut garbage = TcpStream::connect(addr).await.unwrap();
        garbage
            .write_all(b"\x16\x03\x01 not http at all\r\n\r\n")
            .await
            .unwrap();
        let mut reply = Vec::new();
        let _ = timeout(Duration::from_secs(10), garbage.read_to_end(&mut reply)).await;
        // A client that resets mid-request.
        let reset = TcpStream::connect(addr).await.unwrap();
        reset.set_linger(Some(Duration::ZERO)).unwrap();
        let mut reset = reset;
        reset
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        drop(reset);
        // A client that connects and leaves.
        drop(TcpStream::connect(addr).await.unwrap());

        for _ in 0..3 {
            let (status, body) = http_get(addr, "/").await.unwrap();
            assert_eq!(
                (status, &body[..]),
                (http::StatusCode::OK, &b"still here"[..])
            );
        }
        assert!(!server.is_finished());
        server.abort();
    });
}

#[test]
fn serves_on_a_unix_listener() {
    let rt = runtime();
    rt.block_on(async {
        let dir = std::env::temp_dir().join(format!("filch-hyper-serve-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("http.sock");
        let listener = filch::net::UnixListener::bind(&path).unwrap();
        let app = Router::new().route(
            "/",
            get(
                |axum::Extension(peer): axum::Extension<PeerAddr>| async move {
                    format!("unix peer: {}", matches!(peer, PeerAddr::Unix(_)))
                },
            ),
        );
        let server = filch::spawn(serve(listener, app).into_future());
        let stream = filch::net::UnixStream::connect(&path).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(Io::new(stream))
            .await
            .unwrap();
        filch::spawn(conn);
        let (status, body) = get_on(&mut sender, "/").await.unwrap();
        assert_eq!(
            (status, &body[..]),
            (http::StatusCode::OK, &b"unix peer: true"[..])
        );
        server.abort();
        let _ = std::fs::remove_dir_all(&dir);
    });
}

#[test]
fn dropping_the_server_closes_its_connections() {
    let rt = runtime();
    rt.block_on(async {
        let (listener, addr) = local_listener().await;
        let app = Router::new().route("/", get(|| async { "hi" }));
        let server = filch::spawn(serve(listener, app).into_future());
        let mut sender = connect(addr).await;
        get_on(&mut sender, "/").await.unwrap();
        server.abort();
        let _ = server.await;
        // The connection task is cancelled with the server, which closes the socket.
        timeout(Duration::from_secs(10), closed(&sender))
            .await
            .expect("the connection task went with the server");
    });
}
