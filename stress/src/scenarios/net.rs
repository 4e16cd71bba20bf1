//! `tcp-echo` and `unix-echo`: an echo server on loopback (TCP `127.0.0.1:0`, and a Unix
//! socket in the temp directory plus `UnixStream::pair`) with rounds of concurrent clients
//! writing seeded random payloads while reading the echo. Invariant: bytes in == bytes out,
//! byte for byte, for every connection; the server sees EOF and closes cleanly.
use super::join_all;
use crate::ctx::Ctx;
use filch::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use filch::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Copy)]
struct Params {
    conns: usize,
    messages: usize,
    max_size: usize,
}

fn params(ctx: &mut Ctx) -> Params {
    let p = Params {
        conns: ctx.rng().usize(2..=16),
        messages: ctx.rng().usize(5..=50),
        max_size: ctx.rng().usize(1..=64 * 1024),
    };
    ctx.set_params(format!(
        "{} connections per round x {} messages of 1..={} bytes",
        p.conns, p.messages, p.max_size
    ));
    p
}

/// Copies everything the peer sends back to it, then closes the write side.
async fn echo<R, W>(ctx: Ctx, reader: R, mut writer: W)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    match filch::io::copy(reader, &mut writer).await {
        Ok(_) => {
            if let Err(e) = writer.close().await {
                ctx.violation(format!("echo server: close failed: {e}"));
            }
        }
        Err(e) => ctx.violation(format!("echo server: copy failed: {e}")),
    }
}

/// Writes seeded messages from one task while this one reads the echo; compares.
async fn client<R, W>(mut ctx: Ctx, mut reader: R, mut writer: W, p: Params)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let mut sent = Vec::new();
    let mut messages = Vec::with_capacity(p.messages);
    for _ in 0..p.messages {
        let n = ctx.rng().usize(1..=p.max_size);
        let msg: Vec<u8> = std::iter::repeat_with(|| ctx.rng().u8(..))
            .take(n)
            .collect();
        sent.extend_from_slice(&msg);
        messages.push(msg);
    }
    let c = ctx.clone();
    let write = ctx.spawn(async move {
        for m in &messages {
            if let Err(e) = writer.write_all(m).await {
                c.violation(format!("client: write failed: {e}"));
                return;
            }
            c.progress(1);
        }
        if let Err(e) = writer.close().await {
            c.violation(format!("client: close failed: {e}"));
        }
    });
    let mut got = Vec::with_capacity(sent.len());
    if let Err(e) = reader.read_to_end(&mut got).await {
        ctx.violation(format!(
            "client: read failed after {} bytes: {e}",
            got.len()
        ));
    }
    join_all(&ctx, "client writer", vec![write]).await;
    if got != sent {
        let first = got.iter().zip(&sent).position(|(a, b)| a != b);
        ctx.violation(format!(
            "echo mismatch: sent {} bytes, got {} back (first difference at {:?})",
            sent.len(),
            got.len(),
            first
        ));
    }
}

pub(crate) async fn run_tcp(mut ctx: Ctx) {
    let p = params(&mut ctx);
    let listener = match TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => l,
        Err(e) => return ctx.violation(format!("bind 127.0.0.1:0: {e}")),
    };
    let addr = listener
        .local_addr()
        .expect("bound listener has an address");
    let done = Arc::new(AtomicBool::new(false));
    let server = {
        let (ctx, done) = (ctx.clone(), done.clone());
        ctx.clone().spawn(async move {
            let mut conns = Vec::new();
            while !done.load(Ordering::Acquire) {
                match filch::time::timeout(Duration::from_millis(50), listener.accept()).await {
                    Ok(Ok((stream, _))) => {
                        let _ = stream.set_nodelay(true);
                        let (r, w) = stream.into_split();
                        conns.push(ctx.spawn(echo(ctx.clone(), r, w)));
                    }
                    Ok(Err(e)) => ctx.violation(format!("accept failed: {e}")),
                    Err(_) => {}
                }
            }
            join_all(&ctx, "echo connection", conns).await;
        })
    };
    while !ctx.is_stopped() {
        let mut clients = Vec::new();
        for _ in 0..p.conns {
            let mut c = ctx.fork();
            clients.push(ctx.spawn(async move {
                match TcpStream::connect(addr).await {
                    Ok(s) => {
                        let _ = s.set_nodelay(true);
                        let (r, w) = s.into_split();
                        let child = c.fork();
                        client(child, r, w, p).await;
                    }
                    Err(e) => c.violation(format!("connect {addr}: {e}")),
                }
            }));
        }
        join_all(&ctx, "tcp client", clients).await;
    }
    done.store(true, Ordering::Release);
    join_all(&ctx, "tcp server", vec![server]).await;
}

pub(crate) async fn run_unix(mut ctx: Ctx) {
    let p = params(&mut ctx);
    let path = std::env::temp_dir().join(format!(
        "filch-stress-{}-{:x}-{}.sock",
        std::process::id(),
        ctx.seed(),
        ctx.rng().u64(..)
    ));
    let listener = match UnixListener::bind(&path) {
        Ok(l) => l,
        Err(e) => return ctx.violation(format!("bind {}: {e}", path.display())),
    };
    let done = Arc::new(AtomicBool::new(false));
    let server = {
        let (ctx, done) = (ctx.clone(), done.clone());
        ctx.clone().spawn(async move {
            let mut conns = Vec::new();
            while !done.load(Ordering::Acquire) {
                match filch::time::timeout(Duration::from_millis(50), listener.accept()).await {
                    Ok(Ok((stream, _))) => {
                        let (r, w) = stream.into_split();
                        conns.push(ctx.spawn(echo(ctx.clone(), r, w)));
                    }
                    Ok(Err(e)) => ctx.violation(format!("unix accept failed: {e}")),
                    Err(_) => {}
                }
            }
            join_all(&ctx, "unix echo connection", conns).await;
        })
    };
    while !ctx.is_stopped() {
        let mut clients = Vec::new();
        for k in 0..p.conns {
            let mut c = ctx.fork();
            let path = path.clone();
            clients.push(ctx.spawn(async move {
                // One connection per round is a socketpair, the rest go through accept.
                let stream = if k == 0 {
                    match UnixStream::pair() {
                        Ok((a, b)) => {
                            let (r, w) = b.into_split();
                            let server = c.spawn(echo(c.clone(), r, w));
                            let child = c.fork();
                            let (r, w) = a.into_split();
                            client(child, r, w, p).await;
                            join_all(&c, "pair echo", vec![server]).await;
                            return;
                        }
                        Err(e) => return c.violation(format!("UnixStream::pair: {e}")),
                    }
                } else {
                    UnixStream::connect(&path).await
                };
                match stream {
                    Ok(s) => {
                        let (r, w) = s.into_split();
                        let child = c.fork();
                        client(child, r, w, p).await;
                    }
                    Err(e) => c.violation(format!("connect {}: {e}", path.display())),
                }
            }));
        }
        join_all(&ctx, "unix client", clients).await;
    }
    done.store(true, Ordering::Release);
    join_all(&ctx, "unix server", vec![server]).await;
    let _ = std::fs::remove_file(&path);
}
