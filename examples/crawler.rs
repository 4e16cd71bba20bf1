//! A crawler: a local HTTP server (an axum `Router` on [`filch::hyper::serve`]), and
//! hyper's pooled client fetching 1,000 pages concurrently, at most 32 in flight (a
//! `Semaphore`), each request under a deadline (`filch::time::timeout`), the results
//! collected in a shared map (a `Mutex`).
//!
//! asyncio's web-scraping pattern (`gather` + `Semaphore` + `Lock` + `wait_for`, with one
//! pooled HTTP session) on filch:
//!
//! ```text
//! cargo run --release --example crawler [pages] [max_in_flight]
//! ```
//!
//! The client is hyper-util's `Client` on filch (`filch::hyper::{Executor, Timer,
//! Connector}`): it keeps connections alive and reuses them, so the server, which counts
//! the connections it accepts, sees a few dozen connections for the thousand pages.
//! Some pages are missing (a 404) and some are deliberately slow (the server takes 5 s,
//! the client gives up after 500 ms); the summary counts every outcome. A request that
//! times out costs its connection (hyper closes a connection whose response nobody is
//! waiting for, and the server's handler is dropped with it), so the server accepts at
//! most about `max_in_flight` connections plus one per timeout.
//!
//! The run checks its own numbers (every page accounted for, exactly the expected 404s
//! and timeouts, no other failure, connections reused, the in-flight limit kept) and
//! exits non-zero if one is off.
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use filch::hyper::{serve, Connector, Executor, Listener, PeerAddr, Timer};
use filch::net::{TcpListener, TcpStream};
use filch::sync::{oneshot, Mutex, Semaphore};
use filch::task::JoinSet;
use filch::time::{sleep, timeout, Duration, Instant};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use std::collections::BTreeMap;
use std::error::Error;
use std::future::IntoFuture;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

/// How long the client waits for one page (connecting, the response and its body).
const REQUEST_TIMEOUT: Duration = Duration::from_millis(500);
/// How long the server takes over a slow page: far past [`REQUEST_TIMEOUT`].
const SLOW_PAGE: Duration = Duration::from_secs(5);
/// How long connecting may take, within the request's own deadline.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(250);
/// How long the server's graceful shutdown waits for open connections.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(1);

/// Pages the server does not have: it answers 404.
fn is_missing(page: u32) -> bool {
    page % 100 == 42
}

/// Pages the server takes [`SLOW_PAGE`] to answer.
fn is_slow(page: u32) -> bool {
    page % 100 == 77
}

/// What a page's body says.
fn page_text(page: u32) -> String {
    format!("page {page}: {} links", page % 17)
}

/// What fetching one page came to.
enum Outcome {
    /// A 200, with the body.
    Page(String),
    /// A 404.
    NotFound,
    /// No complete response within [`REQUEST_TIMEOUT`].
    TimedOut,
    /// Anything else: an error or an unexpected answer.
    Failed(String),
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Page(body) => write!(f, "the page ({body:?})"),
            Outcome::NotFound => f.write_str("a 404"),
            Outcome::TimedOut => write!(f, "a timeout (> {REQUEST_TIMEOUT:?})"),
            Outcome::Failed(why) => write!(f, "an error ({why})"),
        }
    }
}

type HttpClient = Client<Connector, Empty<Bytes>>;

#[filch::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let pages: u32 = args.next().map_or(Ok(1_000), |a| a.parse())?;
    let max_in_flight: usize = args.next().map_or(Ok(32), |a| a.parse())?;
    if max_in_flight == 0 {
        return Err("max_in_flight must be at least 1".into());
    }

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let accepted = Arc::new(AtomicUsize::new(0));
    let (stop, stopped) = oneshot::channel::<()>();
    let server = filch::spawn(
        serve(Counting(listener, accepted.clone()), app())
            .with_graceful_shutdown(async {
                stopped.await.ok();
            })
            .drain_timeout(DRAIN_TIMEOUT)
            .into_future(),
    );
    println!(
        "serving on http://{addr}; fetching {pages} pages, at most {max_in_flight} at once, \
         {REQUEST_TIMEOUT:?} per request"
    );

    let client: HttpClient = Client::builder(Executor::new())
        .timer(Timer::new())
        .build(Connector::new().connect_timeout(CONNECT_TIMEOUT));
    let permits = Arc::new(Semaphore::new(max_in_flight));
    let results = Arc::new(Mutex::new(BTreeMap::new()));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut fetches = JoinSet::new();
    for page in 0..pages {
        let (client, permits, results) = (client.clone(), permits.clone(), results.clone());
        let (in_flight, peak) = (in_flight.clone(), peak.clone());
        fetches.spawn(async move {
            let _permit = permits.acquire().await.expect("semaphore never closed");
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            let uri = format!("http://{addr}/page/{page}").parse()?;
            let outcome = match timeout(REQUEST_TIMEOUT, fetch(&client, uri)).await {
                Err(_elapsed) => Outcome::TimedOut,
                Ok(Err(err)) => Outcome::Failed(err.to_string()),
                Ok(Ok((StatusCode::OK, body))) => Outcome::Page(body),
                Ok(Ok((StatusCode::NOT_FOUND, _))) => Outcome::NotFound,
                Ok(Ok((status, body))) => Outcome::Failed(format!("{status}: {body:?}")),
            };
            in_flight.fetch_sub(1, Ordering::SeqCst);
            results.lock().await.insert(page, outcome);
            Ok::<_, axum::http::uri::InvalidUri>(())
        });
    }
    while let Some(done) = fetches.join_next().await {
        done??;
    }
    let elapsed = started.elapsed();

    // Close the pool's idle connections from our side, then stop the server.
    drop(client);
    let stopping = Instant::now();
    stop.send(()).map_err(|()| "the server stopped early")?;
    server.await??;
    let shutdown = stopping.elapsed();

    let results = Arc::into_inner(results)
        .expect("every fetch is done")
        .into_inner();
    let mut problems = Vec::new();
    let (mut ok, mut not_found, mut timed_out, mut failed, mut bytes) = (0, 0, 0, 0, 0);
    for (&page, outcome) in &results {
        let expected = if is_missing(page) {
            "a 404"
        } else if is_slow(page) {
            "a timeout"
        } else {
            "the page"
        };
        let as_expected = match outcome {
            Outcome::Page(body) => {
                ok += 1;
                bytes += body.len();
                !is_missing(page) && !is_slow(page) && *body == page_text(page)
            }
            Outcome::NotFound => {
                not_found += 1;
                is_missing(page)
            }
            Outcome::TimedOut => {
                timed_out += 1;
                is_slow(page)
            }
            Outcome::Failed(_) => {
                failed += 1;
                false
            }
        };
        if !as_expected {
            problems.push(format!("page {page}: {outcome}, expected {expected}"));
        }
    }
    let accepted = accepted.load(Ordering::SeqCst);
    let peak = peak.load(Ordering::SeqCst);

    println!(
        "fetched {ok} pages ({bytes} bytes) in {elapsed:.2?}: {:.0} requests/s",
        f64::from(pages) / elapsed.as_secs_f64()
    );
    println!(
        "  {not_found} not found (404), {timed_out} timed out (> {REQUEST_TIMEOUT:?}), \
         {failed} failed"
    );
    println!(
        "  {accepted} connections accepted by the server for {pages} requests ({:.1} \
         requests per connection)",
        f64::from(pages) / accepted.max(1) as f64
    );
    println!("  peak requests in flight: {peak} (limit {max_in_flight})");
    println!("  server shut down in {shutdown:.2?}");
    if let Some(Outcome::Page(body)) = results.get(&7) {
        println!("page 7 says: {body:?}");
    }

    if results.len() != pages as usize {
        problems.push(format!("{} of {pages} pages accounted for", results.len()));
    }
    if peak > max_in_flight {
        problems.push(format!("{peak} requests in flight, over the limit"));
    }
    // Every connection was opened for some request (the pool connects only for a request
    // that found no idle one), so never more than one per request; and with several
    // rounds of `max_in_flight` requests, reuse must show.
    let reuse_expected = pages as usize >= 4 * max_in_flight;
    if accepted > pages as usize || (reuse_expected && accepted > pages as usize / 2) {
        problems.push(format!(
            "{accepted} connections for {pages} requests: the pool did not reuse them"
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        for problem in &problems {
            eprintln!("wrong: {problem}");
        }
        Err(format!("{} problems (above)", problems.len()).into())
    }
}

/// GETs `uri` and reads the whole response: its status and its body.
async fn fetch(
    client: &HttpClient,
    uri: hyper::Uri,
) -> Result<(StatusCode, String), Box<dyn Error + Send + Sync>> {
    let response = client.get(uri).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8(body.to_vec())?))
}

/// The site: `/page/{n}` after a short "database" delay (so that many requests really
/// are in flight at once), slow for some pages, missing for others.
fn app() -> Router {
    Router::new().route("/page/{n}", get(page))
}

async fn page(Path(n): Path<u32>) -> Result<String, StatusCode> {
    if is_missing(n) {
        return Err(StatusCode::NOT_FOUND);
    }
    let delay = if is_slow(n) {
        SLOW_PAGE
    } else {
        Duration::from_millis(1 + u64::from(n % 5))
    };
    sleep(delay).await;
    Ok(page_text(n))
}

/// filch's TCP listener, counting the connections [`serve`] accepts from it.
struct Counting(TcpListener, Arc<AtomicUsize>);

impl Listener for Counting {
    type Io = TcpStream;

    fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, PeerAddr)>> {
        let accepted = std::task::ready!(Listener::poll_accept(&mut self.0, cx))?;
        self.1.fetch_add(1, Ordering::SeqCst);
        Poll::Ready(Ok(accepted))
    }

    fn set_nodelay(io: &TcpStream, nodelay: bool) -> io::Result<()> {
        <TcpListener as Listener>::set_nodelay(io, nodelay)
    }
}
