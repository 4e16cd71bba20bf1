//! Unix-domain sockets: stream echo, pairs, split halves, datagrams, errors.
mod support;

use filch::io::{AsyncReadExt, AsyncWriteExt};
use filch::net::{UnixDatagram, UnixListener, UnixStream};
use filch::runtime::Builder;
use filch::time::{timeout, Duration};
use std::io;
use std::path::PathBuf;
use support::runtimes;

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
