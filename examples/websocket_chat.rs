//! A websocket chat room on filch with async-tungstenite: every message from any client
//! goes to every client, fanned out by `filch::sync::broadcast`. Clients come in two ways:
//! plain websockets on a `filch::net::TcpListener`, and `GET /ws` on an HTTP server
//! (`filch::hyper::serve`, with an ordinary route beside it) whose websocket handshake is
//! answered by hand (`filch_examples::websocket_chat::upgrade_websocket`, the manual
//! upgrade recipe). The server is `filch_examples::websocket_chat`
//! (`examples/src/websocket_chat.rs`); its test is `examples/tests/websocket_chat.rs`.
//!
//! ```text
//! cargo run --release --example websocket_chat           # the demo below; exits 0 if it worked
//! cargo run --release --example websocket_chat -- serve [ws-addr] [http-addr]
//!                                  # default 127.0.0.1:9001 and 127.0.0.1:9002, until Ctrl-C
//! ```
//!
//! The demo starts both servers on free loopback ports, connects three clients (one plain,
//! two through the HTTP upgrade), has each send one message, checks that every client
//! receives all three, in the same order, prints them and exits. It gives up with an error
//! (a non-zero exit) after 10 seconds.
use async_tungstenite::tungstenite::Message;
use filch_examples::websocket_chat::{self as chat, Chat};
use std::error::Error;
use std::time::Duration;

type BoxError = Box<dyn Error + Send + Sync>;

/// How many messages a lagging client may fall behind by before it misses some.
const BACKLOG: usize = 64;

#[filch::main]
async fn main() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        None => filch::time::timeout(Duration::from_secs(10), demo())
            .await
            .map_err(|_| "the demo did not finish within 10 s")?,
        Some("serve") => {
            let websocket_addr = args.next().unwrap_or_else(|| "127.0.0.1:9001".into());
            let http_addr = args.next().unwrap_or_else(|| "127.0.0.1:9002".into());
            serve(&websocket_addr, &http_addr).await
        }
        Some(other) => {
            Err(format!("unknown argument {other:?}: expected nothing or `serve`").into())
        }
    }
}

/// Three clients, one message each; every client must see all three, in one order.
async fn demo() -> Result<(), BoxError> {
    let running = chat::start(Chat::new(BACKLOG), "127.0.0.1:0", "127.0.0.1:0").await?;
    println!(
        "chat on {} (plain) and {} (HTTP upgrade)",
        running.websocket_url(),
        running.http_websocket_url()
    );
    let urls = [
        running.websocket_url(),
        running.http_websocket_url(),
        running.http_websocket_url(),
    ];
    // Connect everyone first: once its handshake returns, a client is in the room and
    // gets every message sent from then on.
    let mut clients = Vec::new();
    for url in &urls {
        clients.push(chat::connect(url).await?);
    }

    let count = urls.len();
    let mut tasks = filch::task::JoinSet::new();
    for (i, mut client) in clients.into_iter().enumerate() {
        let via = if i == 0 { "plain" } else { "upgrade" };
        tasks.spawn(async move {
            let hello = format!("hello from client {i} ({via})");
            client.send(Message::text(hello)).await?;
            let mut seen = Vec::new();
            while seen.len() < count {
                match chat::next_text(&mut client).await? {
                    Some(text) => seen.push(text.to_string()),
                    None => return Err(format!("client {i}: the server closed early").into()),
                }
            }
            chat::close(client).await?;
            Ok::<_, BoxError>((i, seen))
        });
    }
    let mut transcripts = vec![Vec::new(); count];
    while let Some(joined) = tasks.join_next().await {
        let (i, seen) = joined??;
        transcripts[i] = seen;
    }

    for (i, seen) in transcripts.iter().enumerate() {
        println!("client {i} received: {seen:?}");
    }
    let mut expected: Vec<String> = (0..count)
        .map(|i| {
            let via = if i == 0 { "plain" } else { "upgrade" };
            format!("hello from client {i} ({via})")
        })
        .collect();
    expected.sort();
    for (i, seen) in transcripts.iter().enumerate() {
        let mut sorted = seen.clone();
        sorted.sort();
        if sorted != expected {
            return Err(format!("client {i} received {seen:?}, expected {expected:?}").into());
        }
        if seen != &transcripts[0] {
            return Err(format!("client {i} saw another order than client 0").into());
        }
    }
    running.shutdown().await?;
    println!("every client received every message, in the same order");
    Ok(())
}

/// Runs the room on fixed addresses until Ctrl-C.
async fn serve(websocket_addr: &str, http_addr: &str) -> Result<(), BoxError> {
    let running = chat::start(Chat::new(BACKLOG), websocket_addr, http_addr).await?;
    println!(
        "chat on {} (plain) and {} (HTTP upgrade); page at http://{}/",
        running.websocket_url(),
        running.http_websocket_url(),
        running.http_addr
    );
    filch::signal::ctrl_c().await?;
    running.shutdown().await?;
    Ok(())
}
