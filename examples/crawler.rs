//! A crawler: a local HTTP server, and a client that fetches 1,000 pages concurrently,
//! at most 32 in flight (a `Semaphore`), collecting results in a shared map (a `Mutex`).
//!
//! asyncio's web-scraping pattern (`gather` + `Semaphore` + `Lock`) on filch:
//!
//! ```text
//! cargo run --release --example crawler [pages] [max_in_flight]
//! ```
use filch::io::{AsyncReadExt, AsyncWriteExt};
use filch::net::{TcpListener, TcpStream};
use filch::sync::{Mutex, Semaphore};
use filch::task::JoinSet;
use filch::time::{sleep, timeout, Duration, Instant};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[filch::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let pages: u32 = args.next().map_or(Ok(1_000), |a| a.parse())?;
    let max_in_flight: usize = args.next().map_or(Ok(32), |a| a.parse())?;

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = filch::spawn(serve(listener));
    println!("serving on http://{addr}; fetching {pages} pages, at most {max_in_flight} at once");

    let permits = Arc::new(Semaphore::new(max_in_flight));
    let results = Arc::new(Mutex::new(BTreeMap::new()));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut fetches = JoinSet::new();
    for page in 0..pages {
        let (permits, results) = (permits.clone(), results.clone());
        let (in_flight, peak) = (in_flight.clone(), peak.clone());
        fetches.spawn(async move {
            let _permit = permits.acquire().await.expect("semaphore never closed");
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            let body = timeout(Duration::from_secs(10), fetch(addr, page)).await;
            in_flight.fetch_sub(1, Ordering::SeqCst);
            let body = body.map_err(std::io::Error::from)??;
            results.lock().await.insert(page, body);
            Ok::<_, std::io::Error>(())
        });
    }
    let mut failed = 0;
    while let Some(done) = fetches.join_next().await {
        if let Err(err) = done? {
            failed += 1;
            eprintln!("fetch failed: {err}");
        }
    }
    let elapsed = started.elapsed();
    server.abort();

    let results = results.lock().await;
    let bytes: usize = results.values().map(String::len).sum();
    println!(
        "fetched {} pages ({bytes} bytes) in {elapsed:?}: {:.0} pages/s; {failed} failed",
        results.len(),
        results.len() as f64 / elapsed.as_secs_f64()
    );
    println!(
        "peak requests in flight: {} (limit {max_in_flight})",
        peak.load(Ordering::SeqCst)
    );
    assert!(peak.load(Ordering::SeqCst) <= max_in_flight);
    assert_eq!(results.len() + failed, pages as usize);
    if let Some(body) = results.get(&7) {
        println!("page 7 says: {body:?}");
    }
    Ok(())
}

/// GET `/page/{page}` over a fresh connection; returns the body.
async fn fetch(addr: SocketAddr, page: u32) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr).await?;
    let request = format!("GET /page/{page} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("response without a header end"))?;
    if !head.starts_with("HTTP/1.1 200") {
        return Err(std::io::Error::other(format!("page {page}: {head}")));
    }
    Ok(body.to_owned())
}

/// A tiny HTTP/1.1 server: one request per connection, `/page/N` answers after a short
/// "database" delay so that many requests really are in flight at once.
async fn serve(listener: TcpListener) -> std::io::Result<()> {
    loop {
        let (mut stream, _) = listener.accept().await?;
        filch::spawn(async move {
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let line = String::from_utf8_lossy(&request);
            let path = line.split_whitespace().nth(1).unwrap_or("/");
            let (status, body) = match path.strip_prefix("/page/").map(str::parse::<u32>) {
                Some(Ok(n)) => {
                    sleep(Duration::from_millis(1 + u64::from(n % 5))).await;
                    ("200 OK", format!("page {n}: {} links", n % 17))
                }
                _ => ("404 Not Found", "no such page".to_owned()),
            };
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
        });
    }
}
