//! [`Connector`]: plain-TCP connections for hyper-util's pooled client
//! (`hyper_util::client::legacy::Client`), which keeps, reuses and times out the
//! connections; filch's part is resolving and connecting, with a deadline.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;

use super::Io;
use crate::net::TcpStream;

/// Connects hyper-util's pooled client to `http://` URIs over filch's TCP, with an
/// optional connect timeout (resolution included) and `TCP_NODELAY` (on by default).
///
/// Put a deadline on each request too ([`filch::time::timeout`](crate::time::timeout)):
/// a request that hyper's client hands to an idle pooled connection just as the server
/// closes it can stay unanswered for good, on any runtime (hyper#2312; reproduced on
/// tokio about once in 20,000 tries). The connect timeout does not cover it.
///
/// # Examples
///
/// ```no_run
/// use filch::hyper::{Connector, Executor, Timer};
/// use http_body_util::Empty;
/// use hyper::body::Bytes;
/// use hyper_util::client::legacy::Client;
/// use std::time::Duration;
///
/// # async fn fetch() -> Result<(), Box<dyn std::error::Error>> {
/// let connector = Connector::new().connect_timeout(Duration::from_secs(5));
/// let client: Client<_, Empty<Bytes>> =
///     Client::builder(Executor::new()).timer(Timer::new()).build(connector);
/// let response = client.get("http://127.0.0.1:3000/".parse()?).await?;
/// println!("{}", response.status());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Connector {
    connect_timeout: Option<Duration>,
    nodelay: bool,
}

impl Default for Connector {
    fn default() -> Connector {
        Connector::new()
    }
}

impl Connector {
    /// A connector with no connect timeout and `TCP_NODELAY` on.
    pub fn new() -> Connector {
        Connector {
            connect_timeout: None,
            nodelay: true,
        }
    }

    /// The longest resolving the host and connecting to it may take; past it the
    /// request fails with `io::ErrorKind::TimedOut`.
    pub fn connect_timeout(mut self, timeout: Duration) -> Connector {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Whether to set `TCP_NODELAY` on new connections.
    pub fn nodelay(mut self, nodelay: bool) -> Connector {
        self.nodelay = nodelay;
        self
    }
}

/// A connection being made by [`Connector`].
pub struct Connecting(Pin<Box<dyn Future<Output = io::Result<Io<TcpStream>>> + Send>>);

impl Future for Connecting {
    type Output = io::Result<Io<TcpStream>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(cx)
    }
}

impl fmt::Debug for Connecting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connecting").finish_non_exhaustive()
    }
}

impl tower_service::Service<Uri> for Connector {
    type Response = Io<TcpStream>;
    type Error = io::Error;
    type Future = Connecting;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Connecting {
        let Connector {
            connect_timeout,
            nodelay,
        } = *self;
        Connecting(Box::pin(async move {
            let (host, port) = host_and_port(&uri)?;
            let connecting = TcpStream::connect((host.as_str(), port));
            let stream = match connect_timeout {
                Some(limit) => crate::time::timeout(limit, connecting)
                    .await
                    .map_err(|_| {
                        io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!("connecting to {host}:{port} took longer than {limit:?}"),
                        )
                    })??,
                None => connecting.await?,
            };
            if nodelay {
                stream.set_nodelay(true)?;
            }
            Ok(Io::new(stream))
        }))
    }
}

/// The host (without an IPv6 address's brackets) and port to connect to for `uri`.
fn host_and_port(uri: &Uri) -> io::Result<(String, u16)> {
    let invalid = |why: String| io::Error::new(io::ErrorKind::InvalidInput, why);
    match uri.scheme_str() {
        Some("http") | None => {}
        Some("https") => {
            return Err(invalid(format!(
                "{uri}: filch::hyper::Connector makes plain TCP connections; for https, \
                 wrap its streams in TLS (with futures-rustls, say) in a connector of your own"
            )))
        }
        Some(other) => return Err(invalid(format!("{uri}: unsupported scheme {other:?}"))),
    }
    let host = uri
        .host()
        .ok_or_else(|| invalid(format!("{uri}: the URI has no host")))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok((host.to_owned(), uri.port_u16().unwrap_or(80)))
}

#[cfg(test)]
mod tests {
    use super::host_and_port;

    #[test]
    fn hosts_and_ports_come_from_the_uri() {
        let parse = |s: &str| host_and_port(&s.parse().unwrap());
        assert_eq!(
            parse("http://example.com/x").unwrap(),
            ("example.com".into(), 80)
        );
        assert_eq!(
            parse("http://127.0.0.1:8080").unwrap(),
            ("127.0.0.1".into(), 8080)
        );
        assert_eq!(parse("http://[::1]:81/").unwrap(), ("::1".into(), 81));
        let https = parse("https://example.com").unwrap_err();
        assert_eq!(https.kind(), std::io::ErrorKind::InvalidInput);
        assert!(https.to_string().contains("TLS"), "{https}");
        assert!(parse("ftp://example.com").is_err());
        assert!(parse("/relative").is_err());
    }
}
