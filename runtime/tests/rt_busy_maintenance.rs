//! With every worker busy, nobody waits in the driver: I/O events and timers are served
//! only by the busy workers' periodic maintenance, which skips the poller and the timer
//! wheel while they cannot have anything (`DriverGuard::poll_now`). These tests make that
//! maintenance the only way forward, so a look that wrongly finds nothing hangs them.
use filch::runtime::{Builder, Runtime};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Two workers kept busy by `2 * workers` tasks that yield until the returned flag is set.
fn busy_runtime() -> (Runtime, Arc<AtomicBool>) {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    for _ in 0..4 {
        let stop = stop.clone();
        rt.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                filch::task::yield_now().await;
            }
        });
    }
    (rt, stop)
}

#[test]
fn a_socket_becomes_readable_while_every_worker_is_busy() {
    let (rt, stop) = busy_runtime();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let read = rt.spawn(async move {
        use filch::io::AsyncReadExt;
        let mut stream = filch::net::TcpStream::connect(addr).await.unwrap();
        let mut got = Vec::new();
        for _ in 0..20 {
            let mut buf = [0u8; 16];
            let n = stream.read(&mut buf).await.unwrap();
            got.extend_from_slice(&buf[..n]);
            if got.len() >= 20 {
                break;
            }
        }
        got
    });
    let (mut peer, _) = listener.accept().unwrap();
    // Twenty separate writes, each after the reader has had time to drain the last and
    // wait again: every one needs a maintenance poll to be seen.
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(5));
        peer.write_all(b"x").unwrap();
    }
    let got = rt.block_on(read).unwrap();
    assert_eq!(got, vec![b'x'; 20]);
    stop.store(true, Ordering::Relaxed);
}

#[test]
fn a_timer_registered_from_outside_fires_while_every_worker_is_busy() {
    let (rt, stop) = busy_runtime();
    // Registered by the thread that calls `block_on` (not a worker), with nobody parked in
    // the driver to notify: only a maintenance poll that sees the new bound fires it.
    for ms in [0, 1, 5, 20] {
        let start = std::time::Instant::now();
        rt.block_on(filch::time::sleep(Duration::from_millis(ms)));
        assert!(start.elapsed() >= Duration::from_millis(ms));
    }
    stop.store(true, Ordering::Relaxed);
}
