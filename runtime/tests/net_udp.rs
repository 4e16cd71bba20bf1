//! UDP: echo, connected sockets, peeking, readiness, the `poll_*` wakeups, `recv_buf*`,
//! socket options, errors.
mod support;

use filch::net::UdpSocket;
use filch::runtime::Builder;
use filch::time::{timeout, Duration};
use std::future::poll_fn;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::task::{Context, Poll};
use support::{counting_waker, runtimes, until_woken};

#[test]
fn echo_with_send_to_and_recv_from() {
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let server_addr = server.local_addr().unwrap();
            let echo = filch::spawn(async move {
                let mut buf = [0; 1500];
                for _ in 0..100 {
                    let (n, from) = server.recv_from(&mut buf).await.unwrap();
                    server.send_to(&buf[..n], from).await.unwrap();
                }
            });
            let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let mut buf = [0; 1500];
            for i in 0..100u32 {
                let msg = i.to_le_bytes();
                client.send_to(&msg, server_addr).await.unwrap();
                // Loopback does not drop, but do not hang forever if it did.
                let (n, from) = timeout(Duration::from_secs(10), client.recv_from(&mut buf))
                    .await
                    .expect("echo arrives")
                    .unwrap();
                assert_eq!((&buf[..n], from), (&msg[..], server_addr), "{name}");
            }
            echo.await.unwrap();
        });
    }
}

#[test]
fn connected_sockets_send_and_recv() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.connect(b.local_addr().unwrap()).await.unwrap();
        b.connect(a.local_addr().unwrap()).await.unwrap();
        assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
        assert_eq!(a.send(b"hi b").await.unwrap(), 4);
        let mut buf = [0; 8];
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"hi b");

        // A datagram from a third socket is filtered out by the connected `b`.
        let stranger = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        stranger
            .send_to(b"spam", b.local_addr().unwrap())
            .await
            .unwrap();
        b.send(b"hi a").await.unwrap();
        let n = a.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"hi a");
        assert!(timeout(Duration::from_millis(20), b.recv(&mut buf))
            .await
            .is_err());
    });
}

#[test]
fn peek_from_leaves_the_datagram_queued() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.send_to(b"peeked", b.local_addr().unwrap()).await.unwrap();
        let mut buf = [0; 16];
        let (n, from) = b.peek_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"peeked"[..], a.local_addr().unwrap()));
        let (n, _) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"peeked");
        assert_eq!(
            b.try_recv_from(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
    });
}

#[test]
fn try_io_and_readiness() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut buf = [0; 16];
        assert_eq!(
            b.try_recv_from(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        assert!(timeout(Duration::from_millis(20), b.readable())
            .await
            .is_err());
        a.writable().await.unwrap();
        a.try_send_to(b"now", b.local_addr().unwrap()).unwrap();
        b.readable().await.unwrap();
        let (n, _) = b.try_recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"now");
    });
}

#[test]
fn options_errors_and_std_round_trip() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let socket = UdpSocket::bind(("127.0.0.1", 0)).await.unwrap();
        socket.set_broadcast(true).unwrap();
        assert!(socket.broadcast().unwrap());
        socket.set_ttl(9).unwrap();
        assert_eq!(socket.ttl().unwrap(), 9);
        assert_eq!(
            socket.peer_addr().unwrap_err().kind(),
            io::ErrorKind::NotConnected
        );

        let taken = UdpSocket::bind(socket.local_addr().unwrap())
            .await
            .unwrap_err();
        assert_eq!(taken.kind(), io::ErrorKind::AddrInUse, "{taken}");

        // A connected socket whose peer port is closed gets ECONNREFUSED back (ICMP).
        let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let closed_addr = closed.local_addr().unwrap();
        drop(closed);
        let lonely = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        lonely.connect(closed_addr).await.unwrap();
        lonely.send(b"anyone?").await.unwrap();
        let mut buf = [0; 8];
        let err = timeout(Duration::from_secs(10), lonely.recv(&mut buf))
            .await
            .expect("the ICMP error arrives")
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
        assert!(err.raw_os_error().is_some());

        let addr = socket.local_addr().unwrap();
        let socket = UdpSocket::from_std(socket.into_std().unwrap()).unwrap();
        assert_eq!(socket.local_addr().unwrap(), addr);
    });
}

async fn connected_pair() -> (UdpSocket, UdpSocket) {
    let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    a.connect(b.local_addr().unwrap()).await.unwrap();
    b.connect(a.local_addr().unwrap()).await.unwrap();
    (a, b)
}

#[test]
fn poll_recv_and_poll_peek_are_pending_until_a_datagram_wakes_them() {
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let (a, b) = connected_pair().await;
            let (wakes, waker) = counting_waker();
            let mut cx = Context::from_waker(&waker);
            let mut buf = [0; 16];
            assert!(b.poll_recv(&mut cx, &mut buf).is_pending(), "{name}");
            assert!(b.poll_peek(&mut cx, &mut buf).is_pending(), "{name}");
            assert!(b.poll_peek_from(&mut cx, &mut buf).is_pending(), "{name}");
            assert_eq!(wakes.count(), 0, "{name}");

            a.send(b"arrived").await.unwrap();
            until_woken(&wakes, Duration::from_secs(10)).await;
            let from = a.local_addr().unwrap();
            match b.poll_peek(&mut cx, &mut buf) {
                Poll::Ready(Ok(n)) => assert_eq!(&buf[..n], b"arrived", "{name}"),
                other => panic!("{name}: poll_peek after the wake: {other:?}"),
            }
            buf = [0; 16];
            match b.poll_peek_from(&mut cx, &mut buf) {
                Poll::Ready(Ok((n, addr))) => {
                    assert_eq!((&buf[..n], addr), (&b"arrived"[..], from), "{name}")
                }
                other => panic!("{name}: poll_peek_from after the wake: {other:?}"),
            }
            buf = [0; 16];
            match b.poll_recv(&mut cx, &mut buf) {
                Poll::Ready(Ok(n)) => assert_eq!(&buf[..n], b"arrived", "{name}"),
                other => panic!("{name}: poll_recv after the wake: {other:?}"),
            }
            // Consumed: the next poll waits again.
            assert!(b.poll_recv(&mut cx, &mut buf).is_pending(), "{name}");
        });
    }
}

#[test]
fn poll_recv_from_is_pending_until_a_datagram_wakes_it() {
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let (wakes, waker) = counting_waker();
            let mut cx = Context::from_waker(&waker);
            let mut buf = [0; 16];
            assert!(b.poll_recv_from(&mut cx, &mut buf).is_pending(), "{name}");

            let sent = poll_fn(|cx| a.poll_send_to(cx, b"to b", b.local_addr().unwrap()))
                .await
                .unwrap();
            assert_eq!(sent, 4);
            until_woken(&wakes, Duration::from_secs(10)).await;
            match b.poll_recv_from(&mut cx, &mut buf) {
                Poll::Ready(Ok((n, from))) => {
                    assert_eq!((&buf[..n], from), (&b"to b"[..], a.local_addr().unwrap()))
                }
                other => panic!("{name}: poll_recv_from after the wake: {other:?}"),
            }
        });
    }
}

#[test]
fn poll_send_reaches_the_connected_peer() {
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let (a, b) = connected_pair().await;
            assert_eq!(poll_fn(|cx| a.poll_send(cx, b"sent")).await.unwrap(), 4);
            let mut buf = [0; 16];
            let n = poll_fn(|cx| b.poll_recv(cx, &mut buf)).await.unwrap();
            assert_eq!(&buf[..n], b"sent", "{name}");
        });
    }
}

#[test]
fn send_and_poll_send_on_an_unconnected_socket_keep_the_os_error() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        // What the OS says (EDESTADDRREQ on Linux) for the same call on a std socket.
        let expected = std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .send(b"where?")
            .unwrap_err();
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let err = poll_fn(|cx| socket.poll_send(cx, b"where?"))
            .await
            .unwrap_err();
        assert!(err.raw_os_error().is_some(), "{err}");
        assert_eq!(err.raw_os_error(), expected.raw_os_error(), "{err}");
        assert_eq!(err.kind(), expected.kind());
        let err = socket.try_send(b"where?").unwrap_err();
        assert_eq!(err.raw_os_error(), expected.raw_os_error(), "{err}");
    });
}

#[test]
fn peek_and_try_peek_leave_the_datagram_for_recv() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let (a, b) = connected_pair().await;
        let mut buf = [0; 16];
        assert_eq!(
            b.try_peek(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        assert_eq!(
            b.try_peek_from(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        a.send(b"look").await.unwrap();
        assert_eq!(b.peek(&mut buf).await.unwrap(), 4);
        assert_eq!(&buf[..4], b"look");
        assert_eq!(b.try_peek(&mut buf).unwrap(), 4);
        let (n, from) = b.try_peek_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&b"look"[..], a.local_addr().unwrap()));
        // A short buffer peeks a prefix and still leaves the whole datagram.
        let mut short = [0; 2];
        assert_eq!(b.peek(&mut short).await.unwrap(), 2);
        assert_eq!(&short, b"lo");
        assert_eq!(b.recv(&mut buf).await.unwrap(), 4);
        assert_eq!(&buf[..4], b"look");
        assert_eq!(
            b.try_peek(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
    });
}

#[test]
fn try_send_and_try_recv_on_connected_sockets() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let (a, b) = connected_pair().await;
        let mut buf = [0; 16];
        assert_eq!(
            b.try_recv(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        a.writable().await.unwrap();
        assert_eq!(a.try_send(b"quick").unwrap(), 5);
        b.readable().await.unwrap();
        assert_eq!(b.try_recv(&mut buf).unwrap(), 5);
        assert_eq!(&buf[..5], b"quick");
    });
}

#[test]
fn recv_buf_from_and_try_recv_buf_from_report_the_sender() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let to = b.local_addr().unwrap();
        let mut buf = Vec::with_capacity(32);
        assert_eq!(
            b.try_recv_buf_from(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        assert!(buf.is_empty());
        a.send_to(b"one", to).await.unwrap();
        let (n, from) = b.recv_buf_from(&mut buf).await.unwrap();
        assert_eq!((n, from), (3, a.local_addr().unwrap()));
        a.send_to(b"two", to).await.unwrap();
        b.readable().await.unwrap();
        let (n, from) = b.try_recv_buf_from(&mut buf).unwrap();
        assert_eq!((n, from), (3, a.local_addr().unwrap()));
        assert_eq!(buf, b"onetwo");
    });
}

#[test]
fn recv_buf_keeps_the_os_error_and_the_buffer() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        // The ICMP port unreachable for a datagram to a closed port comes back as
        // ECONNREFUSED on the next receive.
        let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let closed_addr = closed.local_addr().unwrap();
        drop(closed);
        let lonely = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        lonely.connect(closed_addr).await.unwrap();
        lonely.send(b"anyone?").await.unwrap();
        let mut buf = Vec::with_capacity(16);
        buf.extend_from_slice(b"kept");
        let err = timeout(Duration::from_secs(10), lonely.recv_buf(&mut buf))
            .await
            .expect("the ICMP error arrives")
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
        assert!(err.raw_os_error().is_some());
        assert_eq!(buf, b"kept");
    });
}

#[test]
fn multicast_and_tos_options() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let socket = UdpSocket::bind("0.0.0.0:0").await.unwrap();
        assert!(socket.multicast_loop_v4().unwrap(), "on by default");
        socket.set_multicast_loop_v4(false).unwrap();
        assert!(!socket.multicast_loop_v4().unwrap());
        assert_eq!(socket.multicast_ttl_v4().unwrap(), 1, "1 by default");
        socket.set_multicast_ttl_v4(4).unwrap();
        assert_eq!(socket.multicast_ttl_v4().unwrap(), 4);
        socket.set_tos(0x10).unwrap();
        assert_eq!(socket.tos().unwrap(), 0x10);
        socket.set_tos_v4(0x08).unwrap();
        assert_eq!(socket.tos_v4().unwrap(), 0x08);

        let group = Ipv4Addr::new(239, 255, 42, 99);
        let lo = Ipv4Addr::LOCALHOST;
        // Leaving a group the socket is not in: the OS error, intact.
        let err = socket.leave_multicast_v4(group, lo).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrNotAvailable, "{err}");
        assert!(err.raw_os_error().is_some());
        socket.join_multicast_v4(group, lo).unwrap();
        let err = socket.join_multicast_v4(group, lo).unwrap_err();
        assert!(err.raw_os_error().is_some(), "joining twice: {err}");
        socket.leave_multicast_v4(group, lo).unwrap();
        // Not a multicast address.
        let err = socket.join_multicast_v4(lo, lo).unwrap_err();
        assert!(err.raw_os_error().is_some(), "{err}");
        // IPv6 options on an IPv4 socket: the OS error.
        assert!(socket
            .multicast_loop_v6()
            .unwrap_err()
            .raw_os_error()
            .is_some());

        let v6 = match UdpSocket::bind("[::1]:0").await {
            Ok(v6) => v6,
            // No IPv6 here: the v4 half above still ran.
            Err(err) => return eprintln!("skipping the IPv6 options: {err}"),
        };
        assert!(v6.multicast_loop_v6().unwrap(), "on by default");
        v6.set_multicast_loop_v6(false).unwrap();
        assert!(!v6.multicast_loop_v6().unwrap());
        let group6: Ipv6Addr = "ff02::4242".parse().unwrap();
        let err = v6.leave_multicast_v6(&group6, 1).unwrap_err();
        assert!(err.raw_os_error().is_some(), "{err}");
        // Index 1 is the loopback interface on Linux.
        match v6.join_multicast_v6(&group6, 1) {
            Ok(()) => v6.leave_multicast_v6(&group6, 1).unwrap(),
            Err(err) => assert!(err.raw_os_error().is_some(), "{err}"),
        }
    });
}

support::net::datagram_readiness_scenario!(ready_poll_ready_and_try_io, pair = connected_pair());

support::net::datagram_recv_buf_scenario!(
    recv_buf_appends_into_spare_capacity,
    pair = connected_pair()
);
