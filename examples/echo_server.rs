//! A TCP echo server, and a client mode that load-tests it.
//!
//! ```text
//! cargo run --release --example echo_server                 # serve on 127.0.0.1:7878
//! cargo run --release --example echo_server -- 0.0.0.0:9000 # serve elsewhere
//! cargo run --release --example echo_server -- client [addr] [n]
//! ```
//!
//! The client opens `n` connections at once (default 100); each writes 64 KiB in 4 KiB
//! pieces from one task while another task reads the echo back and checks every byte.
//! It prints the elapsed time and the throughput (bytes echoed per second).
use filch::io::{AsyncReadExt, AsyncWriteExt};
use filch::net::{TcpListener, TcpStream};
use filch::task::JoinSet;
use filch::time::Instant;
use std::io;

const DEFAULT_ADDR: &str = "127.0.0.1:7878";
const PER_CONNECTION: usize = 64 * 1024;
const CHUNK: usize = 4 * 1024;

#[filch::main]
async fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("client") => {
            let addr = args.get(1).map_or(DEFAULT_ADDR, String::as_str);
            let n = match args.get(2) {
                Some(n) => n.parse().map_err(|err| {
                    io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("bad count {n:?}: {err}"),
                    )
                })?,
                None => 100,
            };
            client(addr, n).await
        }
        Some(addr) => serve(addr).await,
        None => serve(DEFAULT_ADDR).await,
    }
}

async fn serve(addr: &str) -> io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    println!("echo server listening on {}", listener.local_addr()?);
    loop {
        let (socket, peer) = listener.accept().await?;
        filch::spawn(async move {
            if let Err(err) = echo(socket).await {
                eprintln!("{peer}: {err}");
            }
        });
    }
}

async fn echo(mut socket: TcpStream) -> io::Result<()> {
    socket.set_nodelay(true)?;
    let mut buf = vec![0; 16 * 1024];
    loop {
        let n = socket.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        socket.write_all(&buf[..n]).await?;
    }
}

async fn client(addr: &str, connections: usize) -> io::Result<()> {
    let start = Instant::now();
    let mut set = JoinSet::new();
    for id in 0..connections {
        let addr = addr.to_owned();
        set.spawn(async move { one_client(&addr, id).await });
    }
    let mut failures = 0;
    while let Some(result) = set.join_next().await {
        match result {
            Ok(Ok(())) => {}
            Ok(Err(err)) => {
                failures += 1;
                eprintln!("client failed: {err}");
            }
            Err(err) => {
                failures += 1;
                eprintln!("client task failed: {err}");
            }
        }
    }
    let elapsed = start.elapsed();
    let bytes = (connections - failures) * PER_CONNECTION;
    println!(
        "{} of {connections} connections echoed {PER_CONNECTION} bytes each correctly in {:.3} s: \
         {:.1} MiB/s",
        connections - failures,
        elapsed.as_secs_f64(),
        bytes as f64 / elapsed.as_secs_f64() / (1024.0 * 1024.0),
    );
    if failures == 0 {
        Ok(())
    } else {
        Err(io::Error::other(format!("{failures} connections failed")))
    }
}

async fn one_client(addr: &str, id: usize) -> io::Result<()> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (mut read, mut write) = stream.into_split();
    let pattern = move |i: usize| (i.wrapping_mul(131) ^ id) as u8;
    let writer = filch::spawn(async move {
        let data: Vec<u8> = (0..PER_CONNECTION).map(pattern).collect();
        for chunk in data.chunks(CHUNK) {
            write.write_all(chunk).await?;
        }
        write.close().await
    });
    let mut echoed = vec![0; PER_CONNECTION];
    read.read_exact(&mut echoed).await?;
    writer.await.map_err(io::Error::other)??;
    match echoed.iter().enumerate().find(|&(i, &b)| b != pattern(i)) {
        None => Ok(()),
        Some((i, _)) => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("connection {id}: echo differs at byte {i}"),
        )),
    }
}
