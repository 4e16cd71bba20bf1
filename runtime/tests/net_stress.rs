//! Many connections at once on a multi-thread runtime.
use filch::io::{AsyncReadExt, AsyncWriteExt};
use filch::net::{TcpListener, TcpStream, UnixStream};
use filch::runtime::Builder;
use filch::task::JoinSet;
use std::time::Duration;

const CONNECTIONS: usize = 1000;
const BYTES: usize = 4 * 1024;

#[test]
fn a_thousand_concurrent_loopback_echo_connections() {
    let rt = Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = filch::spawn(async move {
            let mut connections = JoinSet::new();
            for _ in 0..CONNECTIONS {
                let (mut socket, _) = listener.accept().await.unwrap();
                connections.spawn(async move {
                    let (mut read, mut write) = TcpStream::split(&mut socket);
                    let copied = filch::io::copy(&mut read, &mut write).await.unwrap();
                    write.close().await.unwrap();
                    copied
                });
            }
            let mut total = 0;
            while let Some(copied) = connections.join_next().await {
                total += copied.unwrap();
            }
            total
        });

        let mut clients = JoinSet::new();
        for id in 0..CONNECTIONS {
            clients.spawn(async move {
                let payload: Vec<u8> = (0..BYTES).map(|i| (i * 31 + id) as u8).collect();
                let stream = TcpStream::connect(addr).await.unwrap();
                let (mut read, mut write) = stream.into_split();
                let writer = filch::spawn(async move {
                    // In a few pieces, so reads and writes interleave.
                    for chunk in payload.chunks(1000) {
                        write.write_all(chunk).await.unwrap();
                        filch::task::yield_now().await;
                    }
                    payload
                });
                let mut echoed = Vec::with_capacity(BYTES);
                read.read_to_end(&mut echoed).await.unwrap();
                let payload = writer.await.unwrap();
                assert!(echoed == payload, "connection {id}: echo differs");
            });
        }
        let deadline = filch::time::timeout(Duration::from_secs(60), async {
            while let Some(done) = clients.join_next().await {
                done.unwrap();
            }
        });
        deadline
            .await
            .expect("1000 echo connections finish within a minute");
        assert_eq!(server.await.unwrap(), (CONNECTIONS * BYTES) as u64);
    });
}

#[test]
fn many_unix_pairs_ping_pong_across_workers() {
    let rt = Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    rt.block_on(async {
        let mut set = JoinSet::new();
        for _ in 0..200 {
            let (mut a, mut b) = UnixStream::pair().unwrap();
            set.spawn(async move {
                let mut buf = [0u8; 8];
                for i in 0..50u64 {
                    b.read_exact(&mut buf).await.unwrap();
                    assert_eq!(u64::from_le_bytes(buf), i);
                    b.write_all(&(i + 1).to_le_bytes()).await.unwrap();
                }
            });
            set.spawn(async move {
                let mut buf = [0u8; 8];
                for i in 0..50u64 {
                    a.write_all(&i.to_le_bytes()).await.unwrap();
                    a.read_exact(&mut buf).await.unwrap();
                    assert_eq!(u64::from_le_bytes(buf), i + 1);
                }
            });
        }
        while let Some(done) = set.join_next().await {
            done.unwrap();
        }
    });
}
