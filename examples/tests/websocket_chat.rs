//! The `websocket_chat` example's server (`filch_examples::websocket_chat`): every message
//! reaches every client through both ways in (plain websockets and the HTTP upgrade), the
//! HTTP server's ordinary route still answers, bad upgrade requests are refused, and slow
//! or vanished clients hold no one up.
//!
//! Every test runs on its own runtime under a 30 s watchdog (`support::run_watched`), so a
//! regression fails, saying where it hung, instead of hanging (a timeout inside the runtime
//! would not fire if the runtime itself were stuck); the tests never sleep to wait for
//! something (they wait for messages or handshakes).
use async_tungstenite::tungstenite::{Message, Utf8Bytes};
use async_tungstenite::WebSocketStream;
use filch::hyper::{Connector, Executor, Timer};
use filch::io::{AsyncRead, AsyncWrite};
use filch_examples::websocket_chat::{self as chat, parse_missed, Chat};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::{header, Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use std::time::Duration;
use support::run_watched;

mod support;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// How long a test (with its runtime's shutdown) may take before the watchdog fails it,
/// saying where it hung (`support::run_watched`).
const LIMIT: Duration = Duration::from_secs(30);

/// The next text message, which must come.
async fn expect_text<S>(websocket: &mut WebSocketStream<S>) -> Result<Utf8Bytes, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    chat::next_text(websocket)
        .await?
        .ok_or_else(|| "the server closed the websocket".into())
}

#[test]
fn every_client_gets_every_message_in_one_order_both_ways_in() -> Result<(), Error> {
    run_watched(
        "every_client_gets_every_message_in_one_order_both_ways_in",
        LIMIT,
        |_steps| async {
            let chat_room = Chat::new(64);
            let running = chat::start(chat_room.clone(), "127.0.0.1:0", "127.0.0.1:0").await?;
            let urls = [
                running.websocket_url(),
                running.http_websocket_url(),
                running.websocket_url(),
                running.http_websocket_url(),
            ];
            let mut clients = Vec::new();
            for url in &urls {
                clients.push(chat::connect(url).await?);
            }
            // Every handshake has returned, so every client is in the room.
            assert_eq!(chat_room.clients(), urls.len());

            let mut tasks = filch::task::JoinSet::new();
            for (i, mut client) in clients.into_iter().enumerate() {
                let count = urls.len();
                tasks.spawn(async move {
                    client.send(Message::text(format!("message {i}"))).await?;
                    let mut seen = Vec::new();
                    for _ in 0..count {
                        seen.push(expect_text(&mut client).await?.to_string());
                    }
                    chat::close(client).await?;
                    Ok::<_, Error>((i, seen))
                });
            }
            let mut transcripts = vec![Vec::new(); urls.len()];
            while let Some(joined) = tasks.join_next().await {
                let (i, seen) = joined??;
                transcripts[i] = seen;
            }
            let mut expected: Vec<String> =
                (0..urls.len()).map(|i| format!("message {i}")).collect();
            expected.sort();
            for (i, seen) in transcripts.iter().enumerate() {
                let mut sorted = seen.clone();
                sorted.sort();
                assert_eq!(sorted, expected, "client {i} received {seen:?}");
                assert_eq!(
                    seen, &transcripts[0],
                    "client {i}'s order differs from client 0's"
                );
            }

            // The HTTP server's ordinary route, beside the websocket one.
            let client: Client<_, Empty<Bytes>> = Client::builder(Executor::new())
                .timer(Timer::new())
                .build(Connector::new());
            let response = client
                .get(format!("http://{}/", running.http_addr).parse()?)
                .await?;
            assert_eq!(response.status(), StatusCode::OK);
            let body = response.into_body().collect().await?.to_bytes();
            assert!(body.starts_with(b"filch chat"), "{body:?}");

            running.shutdown().await?;
            Ok(())
        },
    )
}

#[test]
fn bad_upgrade_requests_are_refused() -> Result<(), Error> {
    run_watched("bad_upgrade_requests_are_refused", LIMIT, |_steps| async {
        let running = chat::start(Chat::new(4), "127.0.0.1:0", "127.0.0.1:0").await?;
        let client: Client<_, Empty<Bytes>> = Client::builder(Executor::new())
            .timer(Timer::new())
            .build(Connector::new());
        let url = format!("http://{}/ws", running.http_addr);
        let handshake = |method: Method| {
            Request::builder()
                .method(method)
                .uri(&url)
                .header(header::CONNECTION, "keep-alive, Upgrade")
                .header(header::UPGRADE, "websocket")
                .header(header::SEC_WEBSOCKET_KEY, "dGhlIHNhbXBsZSBub25jZQ==")
        };
        let cases = [
            // A plain GET, no upgrade asked for.
            (
                Request::get(&url).body(Empty::new())?,
                StatusCode::BAD_REQUEST,
            ),
            // No key.
            (
                Request::get(&url)
                    .header(header::CONNECTION, "upgrade")
                    .header(header::UPGRADE, "websocket")
                    .header(header::SEC_WEBSOCKET_VERSION, "13")
                    .body(Empty::new())?,
                StatusCode::BAD_REQUEST,
            ),
            // Another websocket version.
            (
                handshake(Method::GET)
                    .header(header::SEC_WEBSOCKET_VERSION, "8")
                    .body(Empty::new())?,
                StatusCode::UPGRADE_REQUIRED,
            ),
            // Not a GET: axum's method router answers before the recipe runs.
            (
                handshake(Method::POST)
                    .header(header::SEC_WEBSOCKET_VERSION, "13")
                    .body(Empty::new())?,
                StatusCode::METHOD_NOT_ALLOWED,
            ),
        ];
        for (request, status) in cases {
            let what = format!("{} {:?}", request.method(), request.headers());
            let response = client.request(request).await?;
            assert_eq!(response.status(), status, "{what}");
            if status == StatusCode::UPGRADE_REQUIRED {
                assert_eq!(response.headers()[header::SEC_WEBSOCKET_VERSION], "13");
            }
        }

        // A good one, by hand, gets the accept key of RFC 6455's own example.
        let stream = filch::net::TcpStream::connect(running.http_addr).await?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(filch::hyper::Io::new(stream)).await?;
        let connection = filch::spawn(connection.with_upgrades());
        let response = sender
            .send_request(
                handshake(Method::GET)
                    .header(header::HOST, running.http_addr.to_string())
                    .header(header::SEC_WEBSOCKET_VERSION, "13")
                    .body(Empty::<Bytes>::new())?,
            )
            .await?;
        assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
        assert_eq!(
            response.headers()[header::SEC_WEBSOCKET_ACCEPT],
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        // The upgraded connection speaks websocket: a message comes back to its sender.
        let upgraded = hyper::upgrade::on(response).await?;
        let mut websocket = WebSocketStream::from_raw_socket(
            filch::hyper::Io::new(upgraded),
            async_tungstenite::tungstenite::protocol::Role::Client,
            None,
        )
        .await;
        websocket.send(Message::text("by hand")).await?;
        assert_eq!(expect_text(&mut websocket).await?, "by hand");
        chat::close(websocket).await?;
        connection.await??;

        running.shutdown().await?;
        Ok(())
    })
}

/// A connected Unix socket pair with the smallest send and receive buffers the kernel
/// allows (a few KiB in flight at most), as filch streams.
fn tiny_pair() -> std::io::Result<(filch::net::UnixStream, filch::net::UnixStream)> {
    let (a, b) = std::os::unix::net::UnixStream::pair()?;
    for end in [&a, &b] {
        let socket = socket2::SockRef::from(end);
        socket.set_send_buffer_size(1)?;
        socket.set_recv_buffer_size(1)?;
    }
    Ok((
        filch::net::UnixStream::from_std(a)?,
        filch::net::UnixStream::from_std(b)?,
    ))
}

#[test]
fn a_client_that_stops_reading_lags_and_holds_no_one_up() -> Result<(), Error> {
    const MESSAGES: usize = 64;
    run_watched(
        "a_client_that_stops_reading_lags_and_holds_no_one_up",
        LIMIT,
        |_steps| async {
            // A backlog of 4 messages of 2 KiB; the slow client's socket holds a few KiB. So
            // its connection task blocks in a write within a few messages, and once the room
            // is 4 further on, it has lagged.
            let chat_room = Chat::new(4);
            let running = chat::start(chat_room.clone(), "127.0.0.1:0", "127.0.0.1:0").await?;
            let (server_end, client_end) = tiny_pair()?;
            let slow_server = filch::spawn({
                let chat_room = chat_room.clone();
                async move { chat_room.accept(server_end).await }
            });
            let (mut slow, _) =
                async_tungstenite::client_async("ws://localhost/", client_end).await?;
            let mut talker = chat::connect(&running.websocket_url()).await?;
            let mut listener = chat::connect(&running.http_websocket_url()).await?;

            // The talker sends 64 messages, each once both fast clients have the one before
            // (so they never fall 4 behind), while the slow client reads nothing.
            let padding = "x".repeat(2048);
            for n in 0..MESSAGES {
                talker
                    .send(Message::text(format!("{n:02} {padding}")))
                    .await?;
                let want = format!("{n:02} ");
                for client in [&mut talker, &mut listener] {
                    let text = expect_text(client).await?;
                    assert!(
                        text.starts_with(&want),
                        "expected message {n}, got {:.10}",
                        &*text
                    );
                }
            }

            // Now the slow client reads: messages in order, with a gap it is told about, up
            // to the last one; what it got and what it missed add up to everything.
            let mut received = Vec::new();
            let mut missed = 0;
            loop {
                let text = expect_text(&mut slow).await?;
                if let Some(n) = parse_missed(&text) {
                    missed += n;
                    continue;
                }
                let n: usize = text[..2].parse()?;
                received.push(n);
                if n == MESSAGES - 1 {
                    break;
                }
            }
            assert!(missed > 0, "the slow client never lagged: {received:?}");
            assert!(
                received.windows(2).all(|w| w[0] < w[1]),
                "out of order: {received:?}"
            );
            assert_eq!(
                received.len() as u64 + missed,
                MESSAGES as u64,
                "received {received:?}, missed {missed}"
            );

            chat::close(slow).await?;
            slow_server.await??;
            chat::close(talker).await?;
            chat::close(listener).await?;
            running.shutdown().await?;
            Ok(())
        },
    )
}

#[test]
fn a_client_that_vanishes_stops_no_one() -> Result<(), Error> {
    run_watched(
        "a_client_that_vanishes_stops_no_one",
        LIMIT,
        |_steps| async {
            let chat_room = Chat::new(16);
            let running = chat::start(chat_room.clone(), "127.0.0.1:0", "127.0.0.1:0").await?;
            let mut alice = chat::connect(&running.websocket_url()).await?;
            let mut bob = chat::connect(&running.http_websocket_url()).await?;
            let plain_ghost = chat::connect(&running.websocket_url()).await?;
            let upgraded_ghost = chat::connect(&running.http_websocket_url()).await?;
            assert_eq!(chat_room.clients(), 4);

            // Two clients drop their connections without a close frame, one of them with a
            // message still unread.
            alice.send(Message::text("before")).await?;
            assert_eq!(expect_text(&mut alice).await?, "before");
            assert_eq!(expect_text(&mut bob).await?, "before");
            drop(plain_ghost);
            drop(upgraded_ghost);

            for n in 0..20 {
                let text = format!("after {n}");
                bob.send(Message::text(text.clone())).await?;
                assert_eq!(expect_text(&mut alice).await?, text);
                assert_eq!(expect_text(&mut bob).await?, text);
            }
            chat::close(alice).await?;
            chat::close(bob).await?;
            running.shutdown().await?;
            Ok(())
        },
    )
}
