//! UDP: echo, connected sockets, peeking, readiness, errors.
mod support;

use filch::net::UdpSocket;
use filch::runtime::Builder;
use filch::time::{timeout, Duration};
use std::io;
use support::runtimes;

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
