//! Writing to a stream whose peer is gone returns an error (`BrokenPipe` or
//! `ConnectionReset`) instead of killing the process with `SIGPIPE`, on every write path:
//! `write` and `write_vectored`, on `TcpStream` and `UnixStream` and on their split halves.
//!
//! Rust's runtime ignores `SIGPIPE` before `main`, which would hide the bug, so this test
//! binary (which has nothing else in it) restores the default disposition first: a write
//! path that raises the signal kills the whole binary.
use filch::io::{AsyncWrite, AsyncWriteExt};
use filch::net::{TcpListener, TcpStream, UnixStream};
use filch::time::{sleep, Duration, Instant};
use std::io::{self, IoSlice};

/// Puts `SIGPIPE` back to its default action (terminate), as in a C program or a Rust one
/// built with `-Zon-broken-pipe=kill`.
fn restore_default_sigpipe() {
    // SAFETY: `signal` with `SIG_DFL` installs no handler, so no handler can run unsafe
    // code; changing the disposition process-wide is what this test binary is for.
    let previous = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    assert_ne!(previous, libc::SIG_ERR, "signal(SIGPIPE, SIG_DFL) failed");
}

/// Writes into `w` (whose peer is gone) until it fails, and returns the error.
async fn write_until_error<W: AsyncWrite + Unpin>(w: &mut W, vectored: bool) -> io::Error {
    let data = [7u8; 1024];
    let start = Instant::now();
    loop {
        let written = if vectored {
            let bufs = [IoSlice::new(&data[..512]), IoSlice::new(&data[512..])];
            w.write_vectored(&bufs).await
        } else {
            w.write(&data).await
        };
        match written {
            Ok(_) => {
                assert!(
                    start.elapsed() < Duration::from_secs(20),
                    "writes to a dropped peer kept succeeding"
                );
                // Let the peer's RST arrive (TCP accepts the first write after a close).
                sleep(Duration::from_millis(1)).await;
            }
            Err(err) => return err,
        }
    }
}

fn assert_peer_gone(what: &str, err: io::Error) {
    assert!(
        matches!(
            err.kind(),
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
        ),
        "{what}: {err:?}"
    );
}

async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

#[test]
fn writes_to_a_gone_peer_fail_instead_of_raising_sigpipe() {
    restore_default_sigpipe();
    let rt = filch::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        for vectored in [false, true] {
            let what = |s: &str| format!("{s} (vectored: {vectored})");

            let (mut client, server) = tcp_pair().await;
            drop(server);
            assert_peer_gone(
                &what("TcpStream"),
                write_until_error(&mut client, vectored).await,
            );

            let (mut client, server) = tcp_pair().await;
            drop(server);
            let (_read, mut write) = client.split();
            assert_peer_gone(
                &what("tcp WriteHalf"),
                write_until_error(&mut write, vectored).await,
            );

            let (client, server) = tcp_pair().await;
            drop(server);
            let (_read, mut write) = client.into_split();
            assert_peer_gone(
                &what("tcp OwnedWriteHalf"),
                write_until_error(&mut write, vectored).await,
            );

            let (mut a, b) = UnixStream::pair().unwrap();
            drop(b);
            assert_peer_gone(
                &what("UnixStream"),
                write_until_error(&mut a, vectored).await,
            );

            let (mut a, b) = UnixStream::pair().unwrap();
            drop(b);
            let (_read, mut write) = a.split();
            assert_peer_gone(
                &what("unix WriteHalf"),
                write_until_error(&mut write, vectored).await,
            );

            let (a, b) = UnixStream::pair().unwrap();
            drop(b);
            let (_read, mut write) = a.into_split();
            assert_peer_gone(
                &what("unix OwnedWriteHalf"),
                write_until_error(&mut write, vectored).await,
            );
        }
    });
}
