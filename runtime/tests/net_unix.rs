//! Unix-domain sockets: stream echo, pairs, split halves, datagrams (with the `poll_*`
//! wakeups and `recv_buf*`), errors.
mod support;

use filch::io::{AsyncReadExt, AsyncWriteExt};
use filch::net::{UnixDatagram, UnixListener, UnixStream};
use filch::runtime::Builder;
use filch::time::{timeout, Duration};
use std::future::poll_fn;
use std::io;
use std::path::PathBuf;
use std::task::{Context, Poll};
use support::{counting_waker, runtimes, until_woken};

/// A fresh directory for socket files, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("filch-net-unix-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn stream_echo_through_a_listener() {
    let dir = TempDir::new("echo");
    for (name, rt) in runtimes() {
        let path = dir.path(name);
        rt.block_on(async {
            let listener = UnixListener::bind(&path).unwrap();
            assert_eq!(
                listener.local_addr().unwrap().as_pathname(),
                Some(path.as_path())
            );
            let server = filch::spawn(async move {
                let (stream, _) = listener.accept().await.unwrap();
                let (mut read, mut write) = stream.into_split();
                filch::io::copy(&mut read, &mut write).await.unwrap();
            });
            let mut client = UnixStream::connect(&path).await.unwrap();
            assert_eq!(
                client.peer_addr().unwrap().as_pathname(),
                Some(path.as_path())
            );
            let payload: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
            let (mut read, mut write) = UnixStream::split(&mut client);
            let (_, echoed) = filch::join!(
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
            assert!(echoed == payload, "{name}: echo differs");
            server.await.unwrap();
        });
    }
}

#[test]
fn pair_halves_in_different_tasks_and_reunite() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let (a, mut b) = UnixStream::pair().unwrap();
        let (mut a_read, mut a_write) = a.into_split();
        let writer = filch::spawn(async move {
            for i in 0..100u8 {
                a_write.write_all(&[i; 512]).await.unwrap();
            }
            a_write
        });
        let reader = filch::spawn(async move {
            let mut buf = vec![0; 512];
            for i in 0..100u8 {
                a_read.read_exact(&mut buf).await.unwrap();
                assert!(buf.iter().all(|&x| x == i.wrapping_add(1)));
            }
            a_read
        });
        // b echoes each block back, plus one.
        let mut buf = vec![0; 512];
        for _ in 0..100 {
            b.read_exact(&mut buf).await.unwrap();
            for x in &mut buf {
                *x = x.wrapping_add(1);
            }
            b.write_all(&buf).await.unwrap();
        }
        let a = reader
            .await
            .unwrap()
            .reunite(writer.await.unwrap())
            .unwrap();
        drop(a);
        let mut rest = Vec::new();
        assert_eq!(b.read_to_end(&mut rest).await.unwrap(), 0);
    });
}

#[test]
fn a_waiting_reader_sees_the_peer_go_away() {
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let (mut a, b) = UnixStream::pair().unwrap();
            let reader = filch::spawn(async move {
                let mut buf = [0; 8];
                a.read(&mut buf).await
            });
            filch::time::sleep(Duration::from_millis(10)).await;
            drop(b);
            assert_eq!(reader.await.unwrap().unwrap(), 0, "{name}");
        });
    }
}

#[test]
fn try_io_readiness_and_timeouts() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let (a, b) = UnixStream::pair().unwrap();
        let mut buf = [0; 8];
        assert_eq!(
            b.try_read(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        assert!(timeout(Duration::from_millis(20), b.readable())
            .await
            .is_err());
        a.writable().await.unwrap();
        assert_eq!(a.try_write(b"abc").unwrap(), 3);
        b.readable().await.unwrap();
        assert_eq!(b.try_read(&mut buf).unwrap(), 3);
        assert_eq!(&buf[..3], b"abc");
    });
}

#[test]
fn stream_errors_keep_the_os_error() {
    let dir = TempDir::new("errors");
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let missing = UnixStream::connect(dir.path("nobody-here"))
            .await
            .unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound, "{missing}");
        assert!(missing.raw_os_error().is_some());

        let path = dir.path("taken");
        let _listener = UnixListener::bind(&path).unwrap();
        let taken = UnixListener::bind(&path).unwrap_err();
        assert_eq!(taken.kind(), io::ErrorKind::AddrInUse, "{taken}");

        // A socket file whose listener is gone: refused.
        let stale = dir.path("stale");
        drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
        let refused = UnixStream::connect(&stale).await.unwrap_err();
        assert_eq!(
            refused.kind(),
            io::ErrorKind::ConnectionRefused,
            "{refused}"
        );
    });
}

#[test]
fn datagram_pair_bind_and_connect() {
    let dir = TempDir::new("dgram");
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let (a, b) = UnixDatagram::pair().unwrap();
            a.send(b"paired").await.unwrap();
            let mut buf = [0; 32];
            let n = b.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"paired", "{name}");

            let server_path = dir.path(&format!("{name}-server"));
            let client_path = dir.path(&format!("{name}-client"));
            let server = UnixDatagram::bind(&server_path).unwrap();
            let client = UnixDatagram::bind(&client_path).unwrap();
            let echo = filch::spawn(async move {
                let mut buf = [0; 32];
                for _ in 0..10 {
                    let (n, from) = server.recv_from(&mut buf).await.unwrap();
                    let to = from.as_pathname().unwrap().to_owned();
                    server.send_to(&buf[..n], to).await.unwrap();
                }
            });
            for i in 0..10u8 {
                client.send_to(&[i; 3], &server_path).await.unwrap();
                let (n, from) = client.recv_from(&mut buf).await.unwrap();
                assert_eq!(&buf[..n], &[i; 3]);
                assert_eq!(from.as_pathname(), Some(server_path.as_path()));
            }
            echo.await.unwrap();

            // Unbound + connect: can send, and the receiver sees an unnamed sender.
            let receiver_path = dir.path(&format!("{name}-receiver"));
            let receiver = UnixDatagram::bind(&receiver_path).unwrap();
            let sender = UnixDatagram::unbound().unwrap();
            sender.connect(&receiver_path).unwrap();
            assert_eq!(
                sender.peer_addr().unwrap().as_pathname(),
                Some(receiver_path.as_path())
            );
            sender.send(b"anonymous").await.unwrap();
            let (n, from) = receiver.recv_from(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"anonymous");
            assert!(from.is_unnamed());
            assert_eq!(
                receiver.try_recv(&mut buf).unwrap_err().kind(),
                io::ErrorKind::WouldBlock
            );

            let missing = UnixDatagram::unbound().unwrap();
            let err = missing.connect(dir.path("missing")).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::NotFound);
        });
    }
}

#[test]
fn datagram_poll_recv_is_pending_until_a_datagram_wakes_it() {
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let (a, b) = UnixDatagram::pair().unwrap();
            let (wakes, waker) = counting_waker();
            let mut cx = Context::from_waker(&waker);
            let mut buf = [0; 16];
            assert!(b.poll_recv(&mut cx, &mut buf).is_pending(), "{name}");
            assert_eq!(wakes.count(), 0);
            assert_eq!(poll_fn(|cx| a.poll_send(cx, b"wake")).await.unwrap(), 4);
            until_woken(&wakes, Duration::from_secs(10)).await;
            match b.poll_recv(&mut cx, &mut buf) {
                Poll::Ready(Ok(n)) => assert_eq!(&buf[..n], b"wake", "{name}"),
                other => panic!("{name}: poll_recv after the wake: {other:?}"),
            }
            assert!(b.poll_recv(&mut cx, &mut buf).is_pending(), "{name}");
        });
    }
}

#[test]
fn datagram_poll_send_to_and_poll_recv_from_use_paths() {
    let dir = TempDir::new("dgram-poll");
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let server_path = dir.path(&format!("{name}-server"));
            let client_path = dir.path(&format!("{name}-client"));
            let server = UnixDatagram::bind(&server_path).unwrap();
            let client = UnixDatagram::bind(&client_path).unwrap();
            let (wakes, waker) = counting_waker();
            let mut cx = Context::from_waker(&waker);
            let mut buf = [0; 16];
            assert!(
                server.poll_recv_from(&mut cx, &mut buf).is_pending(),
                "{name}"
            );

            let sent = poll_fn(|cx| client.poll_send_to(cx, b"by path", &server_path))
                .await
                .unwrap();
            assert_eq!(sent, 7);
            until_woken(&wakes, Duration::from_secs(10)).await;
            match server.poll_recv_from(&mut cx, &mut buf) {
                Poll::Ready(Ok((n, from))) => {
                    assert_eq!(&buf[..n], b"by path", "{name}");
                    assert_eq!(from.as_pathname(), Some(client_path.as_path()), "{name}");
                }
                other => panic!("{name}: poll_recv_from after the wake: {other:?}"),
            }

            // Nothing bound at the path: the OS error, intact.
            let err = poll_fn(|cx| client.poll_send_to(cx, b"?", dir.path("nobody")))
                .await
                .unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::NotFound, "{name}: {err}");
            assert!(err.raw_os_error().is_some());
        });
    }
}

#[test]
fn datagram_poll_send_waits_for_room_in_the_peer_queue() {
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let (a, b) = UnixDatagram::pair().unwrap();
            a.writable().await.unwrap();
            let datagram = [7u8; 1024];
            let mut queued = 0;
            loop {
                match a.try_send(&datagram) {
                    Ok(_) => queued += 1,
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                    Err(err) => panic!("{name}: {err}"),
                }
                assert!(queued < 1_000_000, "{name}: the queue never filled");
            }
            let (wakes, waker) = counting_waker();
            let mut cx = Context::from_waker(&waker);
            assert!(a.poll_send(&mut cx, b"last").is_pending(), "{name}");
            assert_eq!(wakes.count(), 0);

            // Drain the peer's queue; the sender is woken and the send goes through.
            let mut buf = [0; 1024];
            for _ in 0..queued {
                b.recv(&mut buf).await.unwrap();
            }
            until_woken(&wakes, Duration::from_secs(10)).await;
            match a.poll_send(&mut cx, b"last") {
                Poll::Ready(Ok(4)) => {}
                other => panic!("{name}: poll_send after the wake: {other:?}"),
            }
            assert_eq!(b.recv(&mut buf).await.unwrap(), 4);
            assert_eq!(&buf[..4], b"last");
        });
    }
}

#[test]
fn datagram_send_to_a_closed_peer_keeps_the_os_error() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let (a, b) = UnixDatagram::pair().unwrap();
        drop(b);
        let err = poll_fn(|cx| a.poll_send(cx, b"gone?")).await.unwrap_err();
        assert!(err.raw_os_error().is_some(), "{err}");
        assert_ne!(err.kind(), io::ErrorKind::WouldBlock);
        assert!(
            matches!(
                err.kind(),
                io::ErrorKind::ConnectionRefused | io::ErrorKind::NotConnected
            ),
            "{err}"
        );
        #[cfg(target_os = "linux")]
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");

        let unconnected = UnixDatagram::unbound().unwrap();
        let err = poll_fn(|cx| unconnected.poll_send(cx, b"to whom?"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotConnected, "{err}");
        assert!(err.raw_os_error().is_some());
    });
}

#[test]
fn datagram_recv_buf_from_reports_named_unnamed_and_abstract_senders() {
    let dir = TempDir::new("dgram-buf");
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let receiver_path = dir.path("receiver");
        let receiver = UnixDatagram::bind(&receiver_path).unwrap();
        let mut buf = Vec::with_capacity(64);
        assert_eq!(
            receiver.try_recv_buf_from(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );

        let named_path = dir.path("named");
        let named = UnixDatagram::bind(&named_path).unwrap();
        named.send_to(b"named", &receiver_path).await.unwrap();
        let (n, from) = receiver.recv_buf_from(&mut buf).await.unwrap();
        assert_eq!(n, 5);
        assert_eq!(from.as_pathname(), Some(named_path.as_path()));

        let anonymous = UnixDatagram::unbound().unwrap();
        anonymous.send_to(b"anon", &receiver_path).await.unwrap();
        receiver.readable().await.unwrap();
        let (n, from) = receiver.try_recv_buf_from(&mut buf).unwrap();
        assert_eq!(n, 4);
        assert!(from.is_unnamed(), "{from:?}");
        assert_eq!(buf, b"namedanon");

        #[cfg(target_os = "linux")]
        {
            use std::os::linux::net::SocketAddrExt;
            let name = format!("filch-net-unix-{}-abstract", std::process::id());
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(&name).unwrap();
            let std_socket = std::os::unix::net::UnixDatagram::bind_addr(&addr).unwrap();
            let abstract_sender = UnixDatagram::from_std(std_socket).unwrap();
            abstract_sender.send_to(b"!", &receiver_path).await.unwrap();
            let (_, from) = receiver.recv_buf_from(&mut buf).await.unwrap();
            assert_eq!(from.as_abstract_name(), Some(name.as_bytes()));
        }
    });
}

#[test]
fn datagram_try_send_to_try_recv_from_and_readiness() {
    let dir = TempDir::new("dgram-try");
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let a_path = dir.path("a");
        let b_path = dir.path("b");
        let a = UnixDatagram::bind(&a_path).unwrap();
        let b = UnixDatagram::bind(&b_path).unwrap();
        let mut buf = [0; 16];
        assert_eq!(
            b.try_recv_from(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        assert!(timeout(Duration::from_millis(20), b.readable())
            .await
            .is_err());
        a.writable().await.unwrap();
        assert_eq!(a.try_send_to(b"try", &b_path).unwrap(), 3);
        b.readable().await.unwrap();
        let (n, from) = b.try_recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"try");
        assert_eq!(from.as_pathname(), Some(a_path.as_path()));
        let err = a.try_send_to(b"?", dir.path("nobody")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
    });
}

#[test]
fn borrowed_halves_have_the_readiness_calls() {
    use filch::io::Interest;
    use std::io::{IoSlice, IoSliceMut};
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let (read, _) = UnixStream::split(&mut a);
        let (_, write) = UnixStream::split(&mut b);
        let mut cx = Context::from_waker(futures::task::noop_waker_ref());
        assert!(read.poll_read_ready(&mut cx).is_pending());
        write.ready(Interest::WRITABLE).await.unwrap();
        assert!(matches!(
            write.poll_write_ready(&mut cx),
            Poll::Ready(Ok(()))
        ));
        write.try_write_vectored(&[IoSlice::new(b"xy")]).unwrap();
        let mut buf = [0; 4];
        let n = loop {
            read.ready(Interest::READABLE).await.unwrap();
            match read.try_read_vectored(&mut [IoSliceMut::new(&mut buf)]) {
                Ok(n) => break n,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                Err(err) => panic!("{err}"),
            }
        };
        assert_eq!(&buf[..n], b"xy");
        let mut vec = Vec::new();
        assert_eq!(
            read.try_read_buf(&mut vec).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
    });
}

#[test]
fn closing_after_the_peer_went_away_is_ok() {
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let (mut a, mut b) = UnixStream::pair().unwrap();
            b.write_all(b"unread").await.unwrap();
            drop(b);
            let _ = a.write_all(b"to nobody").await;
            a.close()
                .await
                .unwrap_or_else(|e| panic!("{name}: close failed: {e}"));
            a.close()
                .await
                .unwrap_or_else(|e| panic!("{name}: second close failed: {e}"));
        });
    }
}

support::net::stream_readiness_scenario!(
    stream_ready_with_an_interest_and_the_try_variants,
    std::os::unix::net::UnixStream,
    pair = async { UnixStream::pair().unwrap() }
);

support::net::datagram_readiness_scenario!(
    datagram_ready_poll_ready_and_try_io,
    pair = async { UnixDatagram::pair().unwrap() }
);

support::net::datagram_recv_buf_scenario!(
    datagram_recv_buf_appends_into_spare_capacity,
    pair = async { UnixDatagram::pair().unwrap() }
);
