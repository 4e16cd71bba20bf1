//! Address resolution: [`ToSocketAddrs`] and [`lookup_host`].
//!
//! Addresses that are already parsed (a [`SocketAddr`], an `(IpAddr, u16)` pair, a string
//! such as `"127.0.0.1:80"`) resolve synchronously, without leaving the task. Anything that
//! needs a name lookup (`"localhost:80"`, `("example.com", 443)`) calls the OS resolver
//! (`getaddrinfo`, which blocks) on the runtime's blocking pool through
//! [`spawn_blocking`](crate::task::spawn_blocking).
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::vec;

/// Something that resolves to one or more socket addresses: what [`TcpListener::bind`],
/// [`TcpStream::connect`], [`UdpSocket::bind`] and [`lookup_host`] accept.
///
/// The async counterpart of [`std::net::ToSocketAddrs`], implemented for the same types.
/// It is sealed: its one method is an implementation detail.
///
/// [`TcpListener::bind`]: super::TcpListener::bind
/// [`TcpStream::connect`]: super::TcpStream::connect
/// [`UdpSocket::bind`]: super::UdpSocket::bind
pub trait ToSocketAddrs: sealed::Resolve {}

mod sealed {
    use std::io;
    use std::net::SocketAddr;

    /// How an address resolves: at once, or through the OS resolver.
    #[derive(Debug)]
    pub enum Resolution {
        Done(io::Result<Vec<SocketAddr>>),
        /// `host:port` for `getaddrinfo`.
        Lookup(String),
        /// `(host, port)` for `getaddrinfo`.
        LookupPair(String, u16),
    }

    /// The hidden half of [`ToSocketAddrs`](super::ToSocketAddrs).
    pub trait Resolve {
        #[doc(hidden)]
        fn resolution(&self) -> Resolution;
    }
}

use sealed::{Resolution, Resolve};

/// The addresses [`lookup_host`] resolved, in the resolver's order.
#[derive(Debug)]
pub struct SocketAddrs {
    inner: vec::IntoIter<SocketAddr>,
}

impl Iterator for SocketAddrs {
    type Item = SocketAddr;
    fn next(&mut self) -> Option<SocketAddr> {
        self.inner.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl ExactSizeIterator for SocketAddrs {}

/// Resolves `host` (e.g. `"localhost:8080"` or `("example.com", 80)`) to socket addresses.
///
/// Already-parsed addresses come back at once; names are resolved by the OS resolver on
/// the runtime's blocking pool.
///
/// # Errors
///
/// The resolver's error (for instance an unknown host), or `InvalidInput` for a string
/// with no port.
///
/// # Panics
///
/// Panics outside a filch runtime if the address needs a lookup.
///
/// # Examples
///
/// ```
/// let rt = filch::runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let addrs: Vec<_> = filch::net::lookup_host("127.0.0.1:80").await.unwrap().collect();
///     assert_eq!(addrs, ["127.0.0.1:80".parse().unwrap()]);
///     let local = filch::net::lookup_host(("localhost", 80)).await.unwrap();
///     assert!(local.into_iter().all(|addr| addr.ip().is_loopback()));
/// });
/// ```
pub async fn lookup_host(host: impl ToSocketAddrs) -> io::Result<SocketAddrs> {
    let addrs = resolve(host.resolution()).await?;
    Ok(SocketAddrs {
        inner: addrs.into_iter(),
    })
}

/// How `addr` resolves (synchronously; the lookup itself, if any, is done by [`resolve`]).
pub(crate) fn resolution_of<A: ToSocketAddrs + ?Sized>(addr: &A) -> Resolution {
    addr.resolution()
}

/// Finishes a resolution; a lookup goes to the blocking pool.
pub(crate) async fn resolve(resolution: Resolution) -> io::Result<Vec<SocketAddr>> {
    let lookup = match resolution {
        Resolution::Done(result) => return result,
        Resolution::Lookup(host) => crate::task::spawn_blocking(move || std_resolve(host.as_str())),
        Resolution::LookupPair(host, port) => {
            crate::task::spawn_blocking(move || std_resolve((host.as_str(), port)))
        }
    };
    match lookup.await {
        Ok(result) => result,
        Err(err) => Err(io::Error::other(format!(
            "address lookup did not complete: {err}"
        ))),
    }
}

fn std_resolve(addr: impl std::net::ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    addr.to_socket_addrs().map(Iterator::collect)
}

/// Tries `op` on each address of `addr` in turn: the first success, else the last error.
pub(crate) async fn each_addr<T, F, Fut>(resolution: Resolution, mut op: F) -> io::Result<T>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = io::Result<T>>,
{
    let mut last = None;
    for addr in resolve(resolution).await? {
        match op(addr).await {
            Ok(value) => return Ok(value),
            Err(err) => last = Some(err),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any address",
        )
    }))
}

/// The first address of a resolution (for `send_to`).
pub(crate) async fn first_addr(resolution: Resolution) -> io::Result<SocketAddr> {
    resolve(resolution)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no addresses to send data to"))
}

macro_rules! resolved {
    ($($ty:ty),* $(,)?) => {$(
        impl ToSocketAddrs for $ty {}
        impl Resolve for $ty {
            fn resolution(&self) -> Resolution {
                Resolution::Done(Ok(vec![SocketAddr::from(*self)]))
            }
        }
    )*};
}

// Parsed addresses: no lookup.
resolved!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16),
    ([u8; 4], u16),
    ([u16; 8], u16),
);

impl ToSocketAddrs for [SocketAddr] {}
impl Resolve for [SocketAddr] {
    fn resolution(&self) -> Resolution {
        Resolution::Done(Ok(self.to_vec()))
    }
}

impl ToSocketAddrs for str {}
impl Resolve for str {
    fn resolution(&self) -> Resolution {
        match self.parse::<SocketAddr>() {
            Ok(addr) => Resolution::Done(Ok(vec![addr])),
            Err(_) => Resolution::Lookup(self.to_owned()),
        }
    }
}

impl ToSocketAddrs for String {}
impl Resolve for String {
    fn resolution(&self) -> Resolution {
        self.as_str().resolution()
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl Resolve for (&str, u16) {
    fn resolution(&self) -> Resolution {
        let (host, port) = *self;
        match host.parse::<IpAddr>() {
            Ok(ip) => Resolution::Done(Ok(vec![SocketAddr::new(ip, port)])),
            Err(_) => Resolution::LookupPair(host.to_owned(), port),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}
impl Resolve for (String, u16) {
    fn resolution(&self) -> Resolution {
        (self.0.as_str(), self.1).resolution()
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: Resolve + ?Sized> Resolve for &T {
    fn resolution(&self) -> Resolution {
        (**self).resolution()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsed_addresses_resolve_without_a_lookup() {
        let addr: SocketAddr = "10.1.2.3:4".parse().unwrap();
        for resolution in [
            addr.resolution(),
            "10.1.2.3:4".resolution(),
            ("10.1.2.3", 4).resolution(),
            (Ipv4Addr::new(10, 1, 2, 3), 4).resolution(),
            ([addr][..].resolution()),
        ] {
            match resolution {
                Resolution::Done(Ok(addrs)) => assert_eq!(addrs, [addr]),
                other => panic!("expected a synchronous resolution, got {other:?}"),
            }
        }
    }

    #[test]
    fn names_go_to_the_resolver() {
        assert!(
            matches!("localhost:80".resolution(), Resolution::Lookup(h) if h == "localhost:80")
        );
        assert!(matches!(
            ("localhost", 80).resolution(),
            Resolution::LookupPair(h, 80) if h == "localhost"
        ));
    }
}
