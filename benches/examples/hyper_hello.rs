//! The HTTP server of `benches/http.sh`: hyper 1.x answering "Hello, World!" to every
//! request, on filch (`filch::hyper::serve`) or on tokio (hyper-util's `TokioIo`,
//! `TokioExecutor` and auto builder, one task per connection: the standard tokio
//! setup). Both use hyper-util's auto (HTTP/1 + HTTP/2) builder, its tower bridge and the
//! same tower service, with `TCP_NODELAY` on, so the runtimes are the only difference.
//!
//! ```text
//! cargo run --release -p filch-benches --example hyper_hello -- <filch|tokio> <port> [workers]
//! ```
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use std::convert::Infallible;
use std::future::Ready;
use std::task::{Context, Poll};

/// The tower service both servers run.
#[derive(Clone, Copy)]
struct Hello;

impl tower_service::Service<Request<Incoming>> for Hello {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Ready<Result<Response<Full<Bytes>>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _request: Request<Incoming>) -> Self::Future {
        std::future::ready(Ok(Response::new(Full::new(Bytes::from_static(
            b"Hello, World!",
        )))))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let runtime = args
        .next()
        .ok_or("usage: hyper_hello <filch|tokio> <port> [workers]")?;
    let port: u16 = args.next().ok_or("missing port")?.parse()?;
    let workers: usize = args.next().map_or(Ok(num_cpus::get()), |w| w.parse())?;
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    match runtime.as_str() {
        "filch" => on_filch(addr, workers),
        "tokio" => on_tokio(addr, workers),
        other => Err(format!("unknown runtime {other:?}: filch or tokio").into()),
    }
}

fn on_filch(addr: std::net::SocketAddr, workers: usize) -> Result<(), Box<dyn std::error::Error>> {
    let rt = filch::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .build()?;
    rt.block_on(async {
        let listener = filch::net::TcpListener::bind(addr).await?;
        filch::hyper::serve(listener, Hello).await?;
        Ok(())
    })
}

fn on_tokio(addr: std::net::SocketAddr, workers: usize) -> Result<(), Box<dyn std::error::Error>> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::service::TowerToHyperService;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let mut builder = Builder::new(TokioExecutor::new());
        builder.http1().timer(TokioTimer::new());
        builder.http2().timer(TokioTimer::new());
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            let builder = builder.clone();
            tokio::spawn(async move {
                let _ = builder
                    .serve_connection_with_upgrades(
                        TokioIo::new(stream),
                        TowerToHyperService::new(Hello),
                    )
                    .await;
            });
        }
    })
}
