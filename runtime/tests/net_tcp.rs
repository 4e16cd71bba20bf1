//! TCP: echo, split halves, readiness, timeouts, peers going away, runtime shutdown with
//! sockets open, and the errors the OS reports (kept intact).
mod support;

use filch::io::{AsyncReadExt, AsyncWriteExt};
use filch::net::{TcpListener, TcpStream};
use filch::runtime::Builder;
use filch::time::{timeout, Duration};
use futures::StreamExt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use support::runtimes;

/// A port nobody listens on (bound, then closed again).
fn closed_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    filch::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            filch::spawn(async move {
                let mut buf = [0; 4096];
                loop {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if socket.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    addr
}

#[test]
fn echo_on_both_flavors() {
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let addr = echo_server().await;
            let mut client = TcpStream::connect(addr).await.unwrap();
            assert_eq!(client.peer_addr().unwrap(), addr);
            let payload: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
            // Write and read concurrently: 100 KB exceeds what the socket buffers hold
            // if only one side moved.
            let (mut read, mut write) = TcpStream::split(&mut client);
            let (written, echoed) = filch::join!(
                async {
                    write.write_all(&payload).await.unwrap();
                    write.close().await.unwrap();
                },
                async {
                    let mut echoed = Vec::new();
                    read.read_to_end(&mut echoed).await.unwrap();
                    echoed
                }
            );
            let () = written;
            assert!(echoed == payload, "{name}: echo differs");
        });
    }
}

#[test]
fn connect_resolves_host_names() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind(("localhost", 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (client, accepted) = filch::join!(
            TcpStream::connect(format!("localhost:{port}")),
            listener.accept()
        );
        let client = client.unwrap();
        let (server, peer) = accepted.unwrap();
        assert_eq!(client.local_addr().unwrap(), peer);
        assert_eq!(server.local_addr().unwrap(), client.peer_addr().unwrap());
    });
}

#[test]
fn into_split_halves_work_from_different_tasks() {
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let addr = echo_server().await;
            let (mut read, mut write) = TcpStream::connect(addr).await.unwrap().into_split();
            let writer = filch::spawn(async move {
                for i in 0..200u32 {
                    write.write_all(&[i as u8; 1000]).await.unwrap();
                }
                write
            });
            let reader = filch::spawn(async move {
                let mut got = vec![0; 200_000];
                read.read_exact(&mut got).await.unwrap();
                for (i, chunk) in got.chunks(1000).enumerate() {
                    assert!(chunk.iter().all(|&b| b == i as u8), "chunk {i} corrupted");
                }
                read
            });
            let write = writer.await.unwrap();
            let read = reader.await.unwrap();
            let mut stream = read.reunite(write).expect("halves of one stream");
            stream.write_all(b"again").await.unwrap();
            let mut buf = [0; 5];
            stream.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"again", "{name}");
        });
    }
}

#[test]
fn reunite_rejects_halves_of_different_streams() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let addr = echo_server().await;
        let (read_a, write_a) = TcpStream::connect(addr).await.unwrap().into_split();
        let (read_b, write_b) = TcpStream::connect(addr).await.unwrap().into_split();
        let err = read_a.reunite(write_b).unwrap_err();
        assert!(err.to_string().contains("not from the same"));
        let filch::net::tcp::ReuniteError(read_a, write_b) = err;
        read_a.reunite(write_a).unwrap();
        write_b.reunite(read_b).unwrap();
    });
}

#[test]
fn dropping_the_owned_write_half_sends_eof() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let (_read, write) = client.into_split();
        let reader = filch::spawn(async move {
            let mut buf = Vec::new();
            server.read_to_end(&mut buf).await.unwrap();
            buf.len()
        });
        filch::time::sleep(Duration::from_millis(10)).await;
        drop(write);
        assert_eq!(reader.await.unwrap(), 0);
    });
}

#[test]
fn timeout_cancels_a_read_and_the_socket_still_works() {
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let addr = echo_server().await;
            let mut client = TcpStream::connect(addr).await.unwrap();
            let mut buf = [0; 16];
            let idle = timeout(Duration::from_millis(30), client.read(&mut buf)).await;
            assert!(
                idle.is_err(),
                "{name}: an idle read must time out, got {idle:?}"
            );
            client.write_all(b"still here").await.unwrap();
            let n = timeout(Duration::from_secs(10), client.read(&mut buf))
                .await
                .expect("the echo arrives")
                .unwrap();
            assert_eq!(&buf[..n], b"still here", "{name}");
        });
    }
}

#[test]
fn a_waiting_reader_sees_the_peer_shut_down_or_reset() {
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();

            // Orderly: the peer shuts down its write side, then goes away.
            let mut client = TcpStream::connect(addr).await.unwrap();
            let (server, _) = listener.accept().await.unwrap();
            let reader = filch::spawn(async move {
                let mut buf = [0; 16];
                client.read(&mut buf).await
            });
            filch::time::sleep(Duration::from_millis(10)).await;
            server.shutdown(Shutdown::Write).unwrap();
            drop(server);
            assert_eq!(reader.await.unwrap().unwrap(), 0, "{name}: EOF");

            // Abortive: the peer closes with unread data, so the kernel sends RST.
            let mut client = TcpStream::connect(addr).await.unwrap();
            let (server, _) = listener.accept().await.unwrap();
            client.write_all(b"never read").await.unwrap();
            let reader = filch::spawn(async move {
                let mut buf = [0; 16];
                client.read(&mut buf).await
            });
            filch::time::sleep(Duration::from_millis(10)).await;
            drop(server);
            let err = reader.await.unwrap().unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{name}: {err}");
        });
    }
}

#[test]
fn writing_to_a_closed_peer_fails_instead_of_hanging() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    support::within(Duration::from_secs(20), "multi_thread", move || {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut client = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (server, _) = listener.accept().await.unwrap();
            drop(server);
            let chunk = [7u8; 64 * 1024];
            let err = loop {
                if let Err(err) = client.write_all(&chunk).await {
                    break err;
                }
            };
            assert!(
                matches!(
                    err.kind(),
                    io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
                ),
                "{err}"
            );
        });
    });
}

#[test]
fn readiness_and_try_io() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let mut buf = [0; 64];

        // Nothing to read: `try_read` says so (and clears any stale readiness).
        assert_eq!(
            server.try_read(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        assert!(timeout(Duration::from_millis(20), server.readable())
            .await
            .is_err());

        client.writable().await.unwrap();
        assert_eq!(client.try_write(b"hello").unwrap(), 5);
        server.readable().await.unwrap();
        let mut peeked = [0; 5];
        assert_eq!(server.peek(&mut peeked).await.unwrap(), 5);
        assert_eq!(&peeked, b"hello");
        // Peeking left the bytes in the queue.
        let n = loop {
            match server.try_read(&mut buf) {
                Ok(n) => break n,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    server.readable().await.unwrap();
                }
                Err(err) => panic!("{err}"),
            }
        };
        assert_eq!(&buf[..n], b"hello");
    });
}

#[test]
fn socket_options_and_std_round_trip() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.set_ttl(42).unwrap();
        assert_eq!(listener.ttl().unwrap(), 42);
        let addr = listener.local_addr().unwrap();

        let client = TcpStream::connect(addr).await.unwrap();
        client.set_nodelay(true).unwrap();
        assert!(client.nodelay().unwrap());
        client.set_ttl(17).unwrap();
        assert_eq!(client.ttl().unwrap(), 17);
        assert!(client.take_error().unwrap().is_none());

        // filch -> std (blocking again) -> filch, and the connection survives.
        let mut std_client = client.into_std().unwrap();
        std_client.set_nonblocking(false).unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        std_client.write_all(b"via std").unwrap();
        let mut buf = [0; 7];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"via std");
        let mut client = TcpStream::from_std(std_client).unwrap();
        server.write_all(b"back").await.unwrap();
        let mut buf = [0; 4];
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"back");

        let std_listener = listener.into_std().unwrap();
        let listener = TcpListener::from_std(std_listener).unwrap();
        assert_eq!(listener.local_addr().unwrap(), addr);
    });
}

#[test]
fn vectored_writes_and_incoming() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let clients = filch::spawn(async move {
            for i in 0..3u8 {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                let first = [i];
                let bufs = [io::IoSlice::new(&first), io::IoSlice::new(b"-vectored")];
                let n = stream.write_vectored(&bufs).await.unwrap();
                assert_eq!(n, 10);
            }
        });
        let mut incoming = listener.incoming();
        for i in 0..3u8 {
            let mut stream = incoming.next().await.unwrap().unwrap();
            let mut got = Vec::new();
            stream.read_to_end(&mut got).await.unwrap();
            assert_eq!(got[0], i);
            assert_eq!(&got[1..], b"-vectored");
        }
        clients.await.unwrap();
    });
}

#[test]
fn connect_to_a_closed_port_is_refused_with_the_os_error() {
    let addr = closed_port();
    // What the OS says to a blocking connect, for comparison.
    let std_err = std::net::TcpStream::connect(addr).unwrap_err();
    assert!(std_err.raw_os_error().is_some());
    for (name, rt) in runtimes() {
        let err = rt.block_on(TcpStream::connect(addr)).unwrap_err();
        assert_eq!(
            err.kind(),
            io::ErrorKind::ConnectionRefused,
            "{name}: {err}"
        );
        assert_eq!(err.raw_os_error(), std_err.raw_os_error(), "{name}");
    }
}

#[test]
fn bind_to_an_address_in_use_fails_with_addr_in_use() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let first = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let err = TcpListener::bind(first.local_addr().unwrap())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
        assert!(err.raw_os_error().is_some());
    });
}

#[test]
fn bind_outside_a_runtime_panics_with_a_message() {
    let panic =
        std::panic::catch_unwind(|| futures::executor::block_on(TcpListener::bind("127.0.0.1:0")))
            .unwrap_err();
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    assert!(message.contains("outside a runtime"), "{message:?}");
}

#[test]
fn dropping_the_runtime_drops_tasks_holding_sockets() {
    for (name, rt) in runtimes() {
        let (listener_addr, mut peers) = rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let mut peers = Vec::new();
            for _ in 0..4 {
                peers.push(std::net::TcpStream::connect(addr).unwrap());
                let (mut socket, _) = listener.accept().await.unwrap();
                // Each task waits forever on its socket.
                filch::spawn(async move {
                    let mut buf = [0; 8];
                    let _ = socket.read(&mut buf).await;
                    std::future::pending::<()>().await;
                });
            }
            // The listener itself sits in a task waiting on accept.
            filch::spawn(async move {
                let _ = listener.accept().await;
            });
            (addr, peers)
        });
        support::within(Duration::from_secs(20), name, move || drop(rt));
        // Dropping the tasks closed their sockets: each peer reads end-of-file.
        for peer in &mut peers {
            peer.set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut buf = [0; 8];
            assert_eq!(peer.read(&mut buf).unwrap(), 0, "{name}");
        }
        // And the listener is closed.
        assert!(
            std::net::TcpStream::connect(listener_addr).is_err(),
            "{name}"
        );
    }
}

#[test]
fn a_socket_kept_outside_a_dropped_runtime_fails_instead_of_hanging() {
    for (name, rt) in runtimes() {
        let (mut client, _peer) = rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let client = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let peer = listener.accept().await.unwrap();
            (client, peer)
        });
        drop(rt);
        let result = support::within(Duration::from_secs(10), name, move || {
            futures::executor::block_on(async {
                let mut buf = [0; 8];
                client.read(&mut buf).await
            })
        });
        let err = result.expect_err("a read after shutdown must fail");
        assert!(err.to_string().contains("shut down"), "{name}: {err}");
    }
}

#[test]
fn lookup_host_resolves_literals_and_names() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let literal: Vec<_> = filch::net::lookup_host("[::1]:9").await.unwrap().collect();
        assert_eq!(literal, ["[::1]:9".parse::<SocketAddr>().unwrap()]);
        let named: Vec<_> = filch::net::lookup_host(("localhost", 9))
            .await
            .unwrap()
            .collect();
        assert!(!named.is_empty());
        assert!(named.iter().all(|a| a.ip().is_loopback() && a.port() == 9));
        let err = filch::net::lookup_host("no port here").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    });
}

#[test]
fn public_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<TcpListener>();
    assert_send_sync::<TcpStream>();
    assert_send_sync::<filch::net::tcp::OwnedReadHalf>();
    assert_send_sync::<filch::net::tcp::OwnedWriteHalf>();
    assert_send_sync::<filch::net::tcp::ReadHalf<'static>>();
    assert_send_sync::<filch::net::tcp::WriteHalf<'static>>();
    assert_send_sync::<filch::net::UdpSocket>();
    assert_send_sync::<filch::net::UnixListener>();
    assert_send_sync::<filch::net::UnixStream>();
    assert_send_sync::<filch::net::UnixDatagram>();
    assert_send_sync::<filch::net::unix::OwnedReadHalf>();
    assert_send_sync::<filch::net::unix::OwnedWriteHalf>();
    assert_send_sync::<filch::net::SocketAddrs>();
    // The futures of the async constructors are `Send` (they can be spawned).
    fn assert_send<T: Send>(_: T) {}
    assert_send(TcpStream::connect("localhost:1"));
    assert_send(TcpListener::bind(String::from("127.0.0.1:0")));
    assert_send(filch::net::UdpSocket::bind(("127.0.0.1", 0)));
}

#[test]
fn two_tasks_accepting_on_one_listener_both_get_a_connection() {
    let rt = filch::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let listener =
            std::sync::Arc::new(filch::net::TcpListener::bind("127.0.0.1:0").await.unwrap());
        let addr = listener.local_addr().unwrap();
        let acceptors: Vec<_> = (0..2)
            .map(|_| {
                let listener = listener.clone();
                filch::spawn(async move { listener.accept().await.map(|(_, peer)| peer) })
            })
            .collect();
        // Let both register as waiters before any connection arrives.
        filch::time::sleep(std::time::Duration::from_millis(20)).await;
        let _a = filch::net::TcpStream::connect(addr).await.unwrap();
        let _b = filch::net::TcpStream::connect(addr).await.unwrap();
        for acceptor in acceptors {
            filch::time::timeout(std::time::Duration::from_secs(10), acceptor)
                .await
                .expect("an acceptor was never woken")
                .unwrap()
                .unwrap();
        }
    });
}

support::net::stream_readiness_scenario!(
    ready_with_an_interest_and_the_try_variants,
    std::net::TcpStream,
    pair = tcp_pair()
);

/// A connected pair: (client, server).
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

#[test]
fn poll_read_ready_is_pending_then_ready_with_a_wakeup() {
    for (name, rt) in runtimes() {
        support::within(Duration::from_secs(20), name, move || {
            rt.block_on(async {
                let (a, b) = tcp_pair().await;
                let (counter, waker) = support::counting_waker();
                let mut cx = std::task::Context::from_waker(&waker);
                assert!(a.poll_read_ready(&mut cx).is_pending(), "{name}");
                b.writable().await.unwrap();
                b.try_write(b"!").unwrap();
                support::until_woken(&counter, std::time::Duration::from_secs(10)).await;
                assert!(
                    matches!(a.poll_read_ready(&mut cx), std::task::Poll::Ready(Ok(()))),
                    "{name}"
                );
                assert!(
                    matches!(a.poll_write_ready(&mut cx), std::task::Poll::Ready(Ok(()))),
                    "{name}"
                );
                let mut buf = [0; 4];
                assert_eq!(a.try_read(&mut buf).unwrap(), 1, "{name}");
            });
        });
    }
}

#[test]
fn linger_round_trips() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let (a, _b) = tcp_pair().await;
        assert_eq!(a.linger().unwrap(), None);
        a.set_linger(Some(std::time::Duration::from_secs(3)))
            .unwrap();
        assert_eq!(a.linger().unwrap(), Some(std::time::Duration::from_secs(3)));
        a.set_linger(None).unwrap();
        assert_eq!(a.linger().unwrap(), None);
    });
}

#[test]
fn owned_halves_have_the_readiness_calls() {
    use filch::io::Interest;
    use std::io::IoSlice;
    for (name, rt) in runtimes() {
        support::within(Duration::from_secs(20), name, move || {
            rt.block_on(async {
                let (a, b) = tcp_pair().await;
                let (read, _write) = a.into_split();
                let (_b_read, b_write) = b.into_split();
                let (counter, waker) = support::counting_waker();
                let mut cx = std::task::Context::from_waker(&waker);
                assert!(read.poll_read_ready(&mut cx).is_pending(), "{name}");
                assert!(b_write
                    .ready(Interest::WRITABLE)
                    .await
                    .unwrap()
                    .is_writable());
                assert!(matches!(
                    b_write.poll_write_ready(&mut cx),
                    std::task::Poll::Ready(Ok(()))
                ));
                b_write
                    .try_write_vectored(&[IoSlice::new(b"ha"), IoSlice::new(b"lf")])
                    .unwrap();
                support::until_woken(&counter, std::time::Duration::from_secs(10)).await;
                assert!(read.ready(Interest::READABLE).await.unwrap().is_readable());
                let mut vec = Vec::with_capacity(8);
                let n = loop {
                    match read.try_read_buf(&mut vec) {
                        Ok(n) => break n,
                        Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                            read.readable().await.unwrap()
                        }
                        Err(err) => panic!("{err}"),
                    }
                };
                assert_eq!((n, &vec[..]), (4, &b"half"[..]), "{name}");
            });
        });
    }
}

#[test]
fn keepalive_and_other_options_through_socket2_interop() {
    // filch exposes the options tokio does; the rest (keepalive timing, buffer sizes) go
    // through `socket2::SockRef`, which borrows any `AsFd` socket.
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let (a, _b) = tcp_pair().await;
        let sock = socket2::SockRef::from(&a);
        sock.set_keepalive(true).unwrap();
        assert!(sock.keepalive().unwrap());
        sock.set_tcp_keepalive(
            &socket2::TcpKeepalive::new().with_time(std::time::Duration::from_secs(30)),
        )
        .unwrap();
        assert_eq!(
            sock.tcp_keepalive_time().unwrap(),
            std::time::Duration::from_secs(30)
        );
        // The stream still works after the options were set behind its back.
        a.set_nodelay(true).unwrap();
        assert!(a.nodelay().unwrap());
    });
}

#[test]
fn closing_after_the_peer_reset_the_connection_is_ok() {
    // hyper closes every connection it is done with; a client that went away (an RST)
    // must not turn that into an error, as it does not on tokio or for the owned half.
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let client = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            client.set_linger(Some(Duration::ZERO)).unwrap();
            drop(client); // RST
            let mut buf = [0; 8];
            let read = timeout(Duration::from_secs(10), server.read(&mut buf)).await;
            assert!(read.expect(name).is_err(), "{name}: the reset is seen");
            server
                .close()
                .await
                .unwrap_or_else(|e| panic!("{name}: close failed: {e}"));
        });
    }
}
