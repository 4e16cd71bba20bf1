//! A minimal HTTP/1.1 server: `GET /` answers "Hello, world!", anything else 404.
//!
//! ```text
//! cargo run --release --example http_hello [addr]     # default 127.0.0.1:8080
//! curl -i http://127.0.0.1:8080/
//! wrk -t2 -c100 -d10s http://127.0.0.1:8080/
//! ```
//!
//! Connections are kept alive (HTTP/1.1's default; HTTP/1.0 only with
//! `Connection: keep-alive`) and requests may be pipelined: every complete request in the
//! read buffer is answered, in order, and the answers go out in one write.
//!
//! The parser is a few lines by hand instead of `httparse`: this server only needs the
//! request line, `Connection` and `Content-Length`, and a dependency for that would be
//! more code to trust than it saves. It is strict where it matters for framing: a request
//! it cannot frame (bad request line, chunked body, header block over 8 KiB) gets a 400
//! and the connection is closed, since the next request's start would be unknown.
use filch::io::{AsyncReadExt, AsyncWriteExt};
use filch::net::{TcpListener, TcpStream};
use std::io;

const MAX_HEAD: usize = 8 * 1024;

#[filch::main]
async fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let listener = TcpListener::bind(addr.as_str()).await?;
    println!("listening on http://{}", listener.local_addr()?);
    loop {
        let (socket, _) = listener.accept().await?;
        filch::spawn(async move {
            // A client that goes away mid-request is not worth a log line.
            let _ = serve(socket).await;
        });
    }
}

/// What to do with the connection after answering a request.
#[derive(Debug, Clone, Copy, PartialEq)]
enum After {
    KeepAlive,
    Close,
}

/// One parsed request head, and how many bytes of the buffer it (and its body) used.
#[derive(Debug, PartialEq)]
struct Request<'a> {
    method: &'a str,
    path: &'a str,
    after: After,
    consumed: usize,
}

#[derive(Debug, PartialEq)]
enum Parse<'a> {
    /// Not a whole request yet.
    Partial,
    Complete(Request<'a>),
    /// Unframeable: answer 400 and close.
    Invalid,
}

async fn serve(mut socket: TcpStream) -> io::Result<()> {
    socket.set_nodelay(true)?;
    let mut input = Vec::with_capacity(4096);
    let mut output = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        input.extend_from_slice(&chunk[..n]);
        let mut start = 0;
        let mut close = false;
        loop {
            match parse(&input[start..]) {
                Parse::Partial => break,
                Parse::Invalid => {
                    respond(
                        &mut output,
                        400,
                        "Bad Request",
                        "bad request\n",
                        After::Close,
                    );
                    close = true;
                    break;
                }
                Parse::Complete(request) => {
                    let after = request.after;
                    start += request.consumed;
                    if request.method == "GET" && request.path == "/" {
                        respond(&mut output, 200, "OK", "Hello, world!", after);
                    } else {
                        respond(&mut output, 404, "Not Found", "not found\n", after);
                    }
                    if after == After::Close {
                        close = true;
                        break;
                    }
                }
            }
        }
        input.drain(..start);
        if !output.is_empty() {
            socket.write_all(&output).await?;
            output.clear();
        }
        if close {
            return socket.close().await;
        }
        if input.len() > MAX_HEAD {
            // A head that never ends: refuse it rather than buffer without bound.
            respond(
                &mut output,
                400,
                "Bad Request",
                "request head too large\n",
                After::Close,
            );
            socket.write_all(&output).await?;
            return socket.close().await;
        }
    }
}

fn respond(out: &mut Vec<u8>, status: u16, reason: &str, body: &str, after: After) {
    let connection = match after {
        After::KeepAlive => "keep-alive",
        After::Close => "close",
    };
    out.extend_from_slice(
        format!(
            "HTTP/1.1 {status} {reason}\r\nServer: filch\r\nContent-Type: text/plain\r\n\
             Content-Length: {}\r\nConnection: {connection}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
}

/// Parses one request from the start of `buf`.
fn parse(buf: &[u8]) -> Parse<'_> {
    let Some(head_len) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Parse::Partial;
    };
    let Ok(head) = std::str::from_utf8(&buf[..head_len]) else {
        return Parse::Invalid;
    };
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(path), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Parse::Invalid;
    };
    let mut after = match version {
        "HTTP/1.1" => After::KeepAlive,
        "HTTP/1.0" => After::Close,
        _ => return Parse::Invalid,
    };
    if method.is_empty() || !path.starts_with('/') {
        return Parse::Invalid;
    }
    let mut body_len = 0usize;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Parse::Invalid;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("connection") {
            for token in value.split(',').map(str::trim) {
                if token.eq_ignore_ascii_case("close") {
                    after = After::Close;
                } else if token.eq_ignore_ascii_case("keep-alive") {
                    after = After::KeepAlive;
                }
            }
        } else if name.eq_ignore_ascii_case("content-length") {
            match value.parse() {
                Ok(n) => body_len = n,
                Err(_) => return Parse::Invalid,
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            // Chunked bodies are not supported: the request cannot be framed.
            return Parse::Invalid;
        }
    }
    let consumed = head_len + 4 + body_len;
    if buf.len() < consumed {
        return Parse::Partial;
    }
    Parse::Complete(Request {
        method,
        path,
        after,
        consumed,
    })
}
