//! Scenarios every socket of a kind must pass, written once for both of its types: the
//! readiness and `try_*` calls of the streams (`TcpStream`, `UnixStream`) and of the
//! datagram sockets (`UdpSocket`, `UnixDatagram`). Each test file states its type and how
//! it makes a connected pair; the macro writes the `#[test]`.
// Each test file uses some of these, none uses all.
#![allow(unused_macros, unused_imports)]
use std::future::Future;
use std::io;

/// A stream the helpers can wait on.
pub trait WaitReadable {
    fn wait_readable(&self) -> impl Future<Output = io::Result<()>> + '_;
}

impl WaitReadable for filch::net::TcpStream {
    fn wait_readable(&self) -> impl Future<Output = io::Result<()>> + '_ {
        self.readable()
    }
}

impl WaitReadable for filch::net::UnixStream {
    fn wait_readable(&self) -> impl Future<Output = io::Result<()>> + '_ {
        self.readable()
    }
}

/// Awaits `ready` (a fresh socket's `ready(READABLE | WRITABLE)`) and checks that the
/// socket is writable and not readable.
pub async fn assert_writable_not_readable(
    ready: impl Future<Output = io::Result<filch::io::Ready>>,
    name: &str,
) {
    let ready = ready.await.unwrap();
    assert!(
        ready.is_writable() && !ready.is_readable(),
        "{name}: {ready:?}"
    );
}

/// Retries `op` after `readable()` until it does not return `WouldBlock`.
pub async fn read_when_ready<S: WaitReadable, R>(
    stream: &S,
    mut op: impl FnMut(&S) -> io::Result<R>,
) -> R {
    loop {
        match op(stream) {
            Ok(value) => return value,
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                stream.wait_readable().await.unwrap();
            }
            Err(err) => panic!("{err}"),
        }
    }
}

/// `#[test] fn $test`: a stream's readiness and `try_*` calls on a connected pair
/// (`$pair`, an async block giving `(a, b)`); `$std` is the std stream type, for a view of
/// the same socket that `async_io` reads through.
macro_rules! stream_readiness_scenario {
    ($test:ident, $std:ty, pair = $pair:expr) => {
        #[test]
        fn $test() {
            use filch::io::Interest;
            use std::io::{self, IoSlice, IoSliceMut};
            use std::task::{Context, Poll};
            use support::net::read_when_ready;
            for (name, rt) in support::runtimes() {
                support::within(std::time::Duration::from_secs(20), name, move || {
                    rt.block_on(async {
                        let (a, b) = $pair.await;
                        // Fresh: writable, not readable.
                        let ready = a.ready(Interest::READABLE | Interest::WRITABLE);
                        support::net::assert_writable_not_readable(ready, name).await;
                        let mut buf = [0; 16];
                        assert_eq!(
                            a.try_read(&mut buf).unwrap_err().kind(),
                            io::ErrorKind::WouldBlock,
                            "{name}"
                        );

                        // Pending, then Ready after the peer writes, with a wakeup.
                        let (counter, waker) = support::counting_waker();
                        let mut cx = Context::from_waker(&waker);
                        assert!(a.poll_read_ready(&mut cx).is_pending(), "{name}");
                        // Vectored both ways.
                        b.writable().await.unwrap();
                        let n = b
                            .try_write_vectored(&[IoSlice::new(b"ab"), IoSlice::new(b"cd")])
                            .unwrap();
                        assert_eq!(n, 4, "{name}");
                        support::until_woken(&counter, std::time::Duration::from_secs(10)).await;
                        assert!(matches!(a.poll_read_ready(&mut cx), Poll::Ready(Ok(()))));
                        assert!(matches!(a.poll_write_ready(&mut cx), Poll::Ready(Ok(()))));
                        let (mut x, mut y) = ([0; 1], [0; 8]);
                        let n = read_when_ready(&a, |a| {
                            a.try_read_vectored(&mut [
                                IoSliceMut::new(&mut x),
                                IoSliceMut::new(&mut y),
                            ])
                        })
                        .await;
                        assert_eq!((n, &x, &y[..3]), (4, b"a", &b"bcd"[..]), "{name}");

                        // Into a Vec's spare capacity, after what is there; and into one
                        // with no spare capacity (it grows by 64).
                        b.try_write(b"spare").unwrap();
                        let mut vec = b"> ".to_vec();
                        let n = read_when_ready(&a, |a| a.try_read_buf(&mut vec)).await;
                        assert_eq!((n, &vec[..]), (5, &b"> spare"[..]), "{name}");
                        b.try_write(b"spare").unwrap();
                        let mut vec = Vec::new();
                        let n = read_when_ready(&a, |a| a.try_read_buf(&mut vec)).await;
                        assert_eq!((n, &vec[..]), (5, &b"spare"[..]), "{name}");

                        // try_io: runs only when ready; WouldBlock from `f` clears.
                        assert_eq!(a.try_io(Interest::WRITABLE, || Ok(9)).unwrap(), 9);
                        let r = a.try_io(Interest::WRITABLE, || -> io::Result<()> {
                            Err(io::ErrorKind::WouldBlock.into())
                        });
                        assert_eq!(r.unwrap_err().kind(), io::ErrorKind::WouldBlock);
                        // (Whether the cleared write readiness then reads as Pending is not
                        // asserted: an ACK of earlier data, or an edge of an earlier read
                        // the driver has not dispatched yet, may mark the socket writable
                        // again at any moment, and on a multi-thread runtime that flaked.)

                        // async_io with our own syscall, through a dup of the fd.
                        b.try_write(b"own").unwrap();
                        let view = <$std>::from(
                            std::os::fd::AsFd::as_fd(&a).try_clone_to_owned().unwrap(),
                        );
                        let n = a
                            .async_io(Interest::READABLE, || {
                                std::io::Read::read(&mut &view, &mut buf)
                            })
                            .await
                            .unwrap();
                        assert_eq!(&buf[..n], b"own", "{name}");

                        // End-of-file reads as 0 and leaves the stream readable.
                        drop(b);
                        let n = read_when_ready(&a, |a| a.try_read(&mut buf)).await;
                        assert_eq!(n, 0, "{name}");
                        assert!(a.ready(Interest::READABLE).await.unwrap().is_readable());
                    });
                });
            }
        }
    };
}
pub(crate) use stream_readiness_scenario;

/// `#[test] fn $test`: a datagram socket's readiness and `try_*` calls on a connected
/// pair (`$pair`, an async block giving `(a, b)`).
macro_rules! datagram_readiness_scenario {
    ($test:ident, pair = $pair:expr) => {
        #[test]
        fn $test() {
            use filch::io::Interest;
            use std::io;
            use std::task::{Context, Poll};
            for (name, rt) in support::runtimes() {
                support::within(std::time::Duration::from_secs(20), name, move || {
                    rt.block_on(async {
                        let (a, b) = $pair.await;
                        // Fresh: writable, not readable.
                        let ready = a.ready(Interest::READABLE | Interest::WRITABLE);
                        support::net::assert_writable_not_readable(ready, name).await;
                        let mut buf = [0; 16];
                        assert_eq!(
                            a.try_recv(&mut buf).unwrap_err().kind(),
                            io::ErrorKind::WouldBlock
                        );

                        let (counter, waker) = support::counting_waker();
                        let mut cx = Context::from_waker(&waker);
                        assert!(a.poll_recv_ready(&mut cx).is_pending(), "{name}");
                        b.send(b"dgram").await.unwrap();
                        support::until_woken(&counter, std::time::Duration::from_secs(10)).await;
                        assert!(matches!(a.poll_recv_ready(&mut cx), Poll::Ready(Ok(()))));
                        assert!(matches!(a.poll_send_ready(&mut cx), Poll::Ready(Ok(()))));
                        let mut vec = Vec::with_capacity(64);
                        assert_eq!(a.try_recv_buf(&mut vec).unwrap(), 5, "{name}");
                        assert_eq!(vec, b"dgram");

                        // try_io clears on WouldBlock; async_io waits for the next datagram.
                        let r = a.try_io(Interest::READABLE, || -> io::Result<()> {
                            Err(io::ErrorKind::WouldBlock.into())
                        });
                        assert_eq!(r.unwrap_err().kind(), io::ErrorKind::WouldBlock);
                        assert!(a.poll_recv_ready(&mut cx).is_pending(), "{name}: cleared");
                        let b = std::sync::Arc::new(b);
                        let sender = {
                            let b = b.clone();
                            filch::spawn(async move {
                                filch::time::sleep(std::time::Duration::from_millis(5)).await;
                                b.send(b"later").await.unwrap();
                            })
                        };
                        let n = a
                            .async_io(Interest::READABLE, || a.try_recv(&mut buf))
                            .await
                            .unwrap();
                        assert_eq!(&buf[..n], b"later", "{name}");
                        sender.await.unwrap();
                        assert_eq!(a.try_io(Interest::WRITABLE, || Ok(2)).unwrap(), 2);

                        // try_recv after the readiness came back. (One datagram at a time:
                        // a second one queued before the clear above brings an edge of its
                        // own, which a driver on another worker may apply after the clear,
                        // and the "cleared" check would flake.)
                        b.send(b"again").await.unwrap();
                        a.readable().await.unwrap();
                        assert_eq!(a.try_recv(&mut buf).unwrap(), 5, "{name}");
                    });
                });
            }
        }
    };
}
pub(crate) use datagram_readiness_scenario;

/// `#[test] fn $test`: `recv_buf` and `try_recv_buf` append a datagram into a `Vec`'s
/// spare capacity, on a connected pair (`$pair`, an async block giving `(a, b)`).
macro_rules! datagram_recv_buf_scenario {
    ($test:ident, pair = $pair:expr) => {
        #[test]
        fn $test() {
            use std::io;
            for (name, rt) in support::runtimes() {
                rt.block_on(async {
                    let (a, b) = $pair.await;
                    // Appends after what is there, without reallocating when there is room.
                    let mut buf = Vec::with_capacity(64);
                    buf.extend_from_slice(b"head:");
                    let capacity = buf.capacity();
                    a.send(b"tail").await.unwrap();
                    assert_eq!(b.recv_buf(&mut buf).await.unwrap(), 4, "{name}");
                    assert_eq!(buf, b"head:tail", "{name}");
                    assert_eq!(buf.capacity(), capacity, "{name}");

                    // A datagram longer than the spare room is cut to it.
                    let mut small = Vec::with_capacity(3);
                    let room = small.capacity();
                    let long: Vec<u8> = (0..200u8).collect();
                    a.send(&long).await.unwrap();
                    let n = b.recv_buf(&mut small).await.unwrap();
                    assert_eq!((n, &small[..]), (room, &long[..room]), "{name}");

                    // No spare room: grows by 64 first (as bytes' `BufMut` for `Vec` does).
                    let mut full = Vec::new();
                    a.send(&long).await.unwrap();
                    let n = b.recv_buf(&mut full).await.unwrap();
                    assert!(n >= 64, "{name}: {n}");
                    assert_eq!(&full[..], &long[..n], "{name}");

                    assert_eq!(
                        b.try_recv_buf(&mut buf).unwrap_err().kind(),
                        io::ErrorKind::WouldBlock
                    );
                    assert_eq!(buf, b"head:tail", "{name}: unchanged by WouldBlock");
                    a.send(b"!").await.unwrap();
                    b.readable().await.unwrap();
                    assert_eq!(b.try_recv_buf(&mut buf).unwrap(), 1);
                    assert_eq!(buf, b"head:tail!", "{name}");
                });
            }
        }
    };
}
pub(crate) use datagram_recv_buf_scenario;
