//! `filch::hyper::serve` out of file descriptors: the accept loop backs off (it does not
//! spin on `EMFILE`), connections wait in the listen backlog, and the server serves them
//! once descriptors are free again. In its own test binary: it lowers the process's
//! descriptor limit.
use axum::routing::get;
use axum::Router;
use filch::hyper::serve;
use std::future::IntoFuture;
use std::io::{Read, Write};
use std::time::Duration;

/// CPU time (user + system) this process has used.
fn cpu_time() -> Duration {
    // SAFETY: getrusage writes into the zeroed struct it is given.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut usage), 0);
        usage
    };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    time(usage.ru_utime) + time(usage.ru_stime)
}

#[test]
fn out_of_descriptors_the_server_waits_and_then_serves_the_backlog() {
    let rt = filch::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Clients connect (the kernel completes the handshakes into the backlog) and send
    // their requests before the server starts accepting.
    let mut clients: Vec<std::net::TcpStream> = (0..3)
        .map(|_| {
            let mut client = std::net::TcpStream::connect(addr).unwrap();
            client
                .set_read_timeout(Some(Duration::from_secs(20)))
                .unwrap();
            client
                .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .unwrap();
            client
        })
        .collect();

    // Take every free descriptor, so that `accept` fails with EMFILE.
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write the struct they are given.
    unsafe { assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0) };
    let original = limit;
    limit.rlim_cur = limit.rlim_cur.min(4096);
    // SAFETY: as above.
    unsafe { assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0) };

    rt.block_on(async {
        let listener = filch::net::TcpListener::from_std(listener).unwrap();
        let mut hoard = Vec::new();
        while let Ok(file) = std::fs::File::open("/dev/null") {
            hoard.push(file);
        }
        let app = Router::new().route("/", get(|| async { "served" }));
        let server = filch::spawn(serve(listener, app).into_future());

        let before = cpu_time();
        filch::time::sleep(Duration::from_millis(1000)).await;
        let spent = cpu_time() - before;
        assert!(!server.is_finished(), "EMFILE does not stop the server");
        assert!(
            spent < Duration::from_millis(400),
            "the accept loop spun on EMFILE: {spent:?} of CPU in 1 s"
        );

        drop(hoard);
        let answers = filch::task::spawn_blocking(move || {
            clients
                .iter_mut()
                .map(|client| {
                    let mut reply = String::new();
                    client.read_to_string(&mut reply).unwrap();
                    reply
                })
                .collect::<Vec<_>>()
        })
        .await
        .unwrap();
        for reply in answers {
            assert!(reply.starts_with("HTTP/1.1 200 OK"), "{reply}");
            assert!(reply.ends_with("served"), "{reply}");
        }
        server.abort();
    });
    // SAFETY: as above.
    unsafe { assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &original), 0) };
}
