//! File-descriptor leak check: open and close 10,000 TCP connections (plus UDP and Unix
//! sockets) and compare the number of open fds before and after.
//!
//! Alone in its test binary, so no other test opens fds concurrently in this process.
use filch::io::{AsyncReadExt, AsyncWriteExt};
use filch::net::{TcpListener, TcpStream, UdpSocket, UnixStream};
use filch::runtime::Builder;
use filch::task::JoinSet;

mod support;
use support::open_fds;

/// The test harness (threads, pipes for output capture) may hold a few fds of its own
/// that come and go; nothing filch does may remain.
const SLACK: usize = 4;

#[test]
fn ten_thousand_connections_leave_no_fd_behind() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let before = rt.block_on(async {
        // Warm up: the first connection may start lazily created resources (blocking
        // pool threads do not hold fds, but be sure nothing else does either).
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        drop(listener);
        open_fds()
    });
    let accepted = rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = filch::spawn(async move {
            let mut accepted = 0usize;
            while accepted < 10_000 {
                let (mut socket, _) = listener.accept().await.unwrap();
                accepted += 1;
                filch::spawn(async move {
                    let mut byte = [0; 1];
                    let _ = socket.read(&mut byte).await;
                    let _ = socket.write_all(&byte).await;
                });
            }
            accepted
        });
        // 100 rounds of 100 concurrent connections.
        for _ in 0..100 {
            let mut round = JoinSet::new();
            for _ in 0..100 {
                round.spawn(async move {
                    let mut stream = TcpStream::connect(addr).await.unwrap();
                    stream.write_all(b"x").await.unwrap();
                    let mut byte = [0; 1];
                    stream.read_exact(&mut byte).await.unwrap();
                });
            }
            while let Some(done) = round.join_next().await {
                done.unwrap();
            }
        }
        let accepted = server.await.unwrap();

        // Other socket kinds, and a failed connect (its socket must be closed too).
        for _ in 0..100 {
            let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let (a, b) = UnixStream::pair().unwrap();
            drop((udp, a, b));
        }
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let closed_addr = closed.local_addr().unwrap();
        drop(closed);
        for _ in 0..100 {
            assert!(TcpStream::connect(closed_addr).await.is_err());
        }
        accepted
    });
    assert_eq!(accepted, 10_000);
    // Server tasks may still be finishing their last writes: let them.
    let after = rt.block_on(async {
        for _ in 0..100 {
            if open_fds() <= before + SLACK {
                break;
            }
            filch::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        open_fds()
    });
    assert!(
        after <= before + SLACK,
        "fds before: {before}, after 10,000 connections: {after}"
    );
    drop(rt);
}
