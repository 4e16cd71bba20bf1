//! `filch::hyper::Io` in both directions: filch streams as hyper's I/O traits (reading
//! into uninitialised memory without zero-filling it first), other `futures-io` streams
//! (zero-filling only what is not initialised), and hyper's upgraded connections as
//! `futures-io` streams.
mod support;

use filch::hyper::Io;
use filch::io::{AsyncReadExt, AsyncWriteExt};
use filch::net::{TcpListener, TcpStream, UnixStream};
use http_body_util::Empty;
use hyper::body::Bytes;
use std::convert::Infallible;
use std::future::poll_fn;
use std::mem::MaybeUninit;
use std::pin::Pin;
use support::runtimes;

/// Reads once through hyper's `Read` into a fresh, uninitialised 4 KiB buffer; returns
/// the bytes read and how much of the buffer ended up initialised.
async fn hyper_read<T: hyper::rt::Read + Unpin>(io: &mut T) -> (Vec<u8>, usize) {
    let mut raw = [MaybeUninit::<u8>::uninit(); 4096];
    let mut buf = hyper::rt::ReadBuf::uninit(&mut raw);
    poll_fn(|cx| Pin::new(&mut *io).poll_read(cx, buf.unfilled()))
        .await
        .unwrap();
    // `ReadBuf` shows how far it is initialised only in its `Debug` output.
    let debug = format!("{buf:?}");
    let init = debug
        .split("init: ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no init field in {debug}"));
    (buf.filled().to_vec(), init)
}

#[test]
fn filch_sockets_read_into_uninitialised_memory_without_zero_filling() {
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut client = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (server, _) = listener.accept().await.unwrap();
            client.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
            let mut io = Io::new(server);
            let (bytes, init) = hyper_read(&mut io).await;
            assert_eq!(bytes, b"GET / HTTP/1.1\r\n", "{name}");
            assert_eq!(
                init,
                bytes.len(),
                "{name}: only what the kernel wrote is initialised"
            );

            // The owned read half takes the same path.
            let (read_half, _write_half) = io.into_inner().into_split();
            client.write_all(b"half").await.unwrap();
            let (bytes, init) = hyper_read(&mut Io::new(read_half)).await;
            assert_eq!((&bytes[..], init), (&b"half"[..], 4), "{name}");

            let (a, mut b) = UnixStream::pair().unwrap();
            b.write_all(b"unix").await.unwrap();
            let (bytes, init) = hyper_read(&mut Io::new(a)).await;
            assert_eq!((&bytes[..], init), (&b"unix"[..], 4), "{name}");
        });
    }
}

#[test]
fn other_futures_io_readers_get_an_initialised_buffer() {
    let rt = filch::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut io = Io::new(futures::io::Cursor::new(b"cursor".to_vec()));
        let (bytes, init) = hyper_read(&mut io).await;
        assert_eq!(bytes, b"cursor");
        assert_eq!(init, 4096, "zero-filled before the read");
        let (bytes, _) = hyper_read(&mut io).await;
        assert!(bytes.is_empty(), "end of file");
    });
}

#[test]
fn writes_are_vectored_for_filch_sockets_only() {
    let rt = filch::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (a, _b) = UnixStream::pair().unwrap();
        assert!(hyper::rt::Write::is_write_vectored(&Io::new(a)));
        let cursor = Io::new(futures::io::Cursor::new(Vec::new()));
        assert!(!hyper::rt::Write::is_write_vectored(&cursor));
    });
}

#[test]
fn an_upgraded_hyper_connection_is_a_futures_io_stream() {
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            // Server: answers 101, then echoes (in upper case) over the upgraded
            // connection through futures-io.
            filch::spawn(async move {
                let (stream, _) = listener.accept().await.unwrap();
                let service = hyper::service::service_fn(|mut req| async move {
                    filch::spawn(async move {
                        let upgraded = hyper::upgrade::on(&mut req).await.unwrap();
                        let mut io = Io::new(upgraded);
                        let mut buf = [0; 5];
                        io.read_exact(&mut buf).await.unwrap();
                        io.write_all(&buf.to_ascii_uppercase()).await.unwrap();
                        io.flush().await.unwrap();
                    });
                    let response = http::Response::builder()
                        .status(http::StatusCode::SWITCHING_PROTOCOLS)
                        .header(http::header::UPGRADE, "shout")
                        .header(http::header::CONNECTION, "upgrade")
                        .body(Empty::<Bytes>::new())
                        .unwrap();
                    Ok::<_, Infallible>(response)
                });
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(Io::new(stream), service)
                    .with_upgrades()
                    .await
                    .unwrap();
            });

            let stream = TcpStream::connect(addr).await.unwrap();
            let (mut sender, conn) = hyper::client::conn::http1::handshake(Io::new(stream))
                .await
                .unwrap();
            filch::spawn(conn.with_upgrades());
            let request = http::Request::get("/")
                .header(http::header::HOST, "localhost")
                .header(http::header::UPGRADE, "shout")
                .header(http::header::CONNECTION, "upgrade")
                .body(Empty::<Bytes>::new())
                .unwrap();
            let response = sender.send_request(request).await.unwrap();
            assert_eq!(
                response.status(),
                http::StatusCode::SWITCHING_PROTOCOLS,
                "{name}"
            );
            let mut io = Io::new(hyper::upgrade::on(response).await.unwrap());
            io.write_all(b"hello").await.unwrap();
            io.flush().await.unwrap();
            let mut buf = [0; 5];
            io.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"HELLO", "{name}");
        });
    }
}
