//! The misuse matrix: each wrong or extreme call has a documented outcome (a panic whose
//! message says how to fix it, an error, or a defined result), and none hangs, aborts or
//! leaks. `docs/architecture.md` ("What happens when…") lists the rows; each test here is
//! named after its row.
use filch::runtime::{Builder, Handle, Runtime};
use std::time::Duration;

mod support;
use support::within;

fn multi() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

#[test]
#[should_panic(expected = "`filch::spawn` called outside a runtime")]
fn spawn_outside_a_runtime_panics_with_the_fix() {
    drop(filch::spawn(async {}));
}

#[test]
#[should_panic(expected = "cannot block on a future from inside a filch runtime")]
fn block_on_inside_a_runtime_panics_with_the_fix() {
    let rt = multi();
    rt.block_on(async {
        Handle::current().block_on(async {});
    });
}

#[test]
fn block_on_inside_a_task_panics_and_the_runtime_survives() {
    let rt = multi();
    let err = rt
        .block_on(rt.spawn(async { Handle::current().block_on(async {}) }))
        .unwrap_err();
    assert!(err.is_panic());
    assert_eq!(rt.block_on(rt.spawn(async { 3 })).unwrap(), 3);
}

#[test]
fn nested_block_on_from_spawn_blocking_works() {
    for (name, rt) in support::runtimes() {
        let job = rt.spawn_blocking(|| {
            Handle::current().block_on(async { filch::spawn(async { 9 }).await.unwrap() })
        });
        assert_eq!(rt.block_on(job).unwrap(), 9, "{name}");
    }
}

#[test]
#[should_panic(expected = "`block_in_place` called on a current-thread runtime")]
fn block_in_place_on_a_current_thread_runtime_panics_with_the_fix() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async { filch::task::block_in_place(|| ()) });
}

#[test]
#[should_panic(expected = "`Builder::worker_threads` must be at least 1")]
fn zero_worker_threads_panics_with_the_fix() {
    let _ = Builder::new_multi_thread().worker_threads(0);
}

#[test]
#[should_panic(expected = "`Builder::max_blocking_threads` must be at least 1")]
fn zero_blocking_threads_panics_with_the_fix() {
    let _ = Builder::new_multi_thread().max_blocking_threads(0);
}

#[test]
#[should_panic(expected = "`Builder::global_queue_interval` must be at least 1")]
fn zero_global_queue_interval_panics_with_the_fix() {
    let _ = Builder::new_multi_thread().global_queue_interval(0);
}

#[test]
#[should_panic(expected = "`Builder::event_interval` must be at least 1")]
fn zero_event_interval_panics_with_the_fix() {
    let _ = Builder::new_current_thread().event_interval(0);
}

#[test]
fn a_tiny_thread_stack_size_is_raised_to_the_minimum() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .thread_stack_size(1)
        .build()
        .unwrap();
    let echoed = rt.block_on(async {
        use filch::io::{AsyncReadExt, AsyncWriteExt};
        let listener = filch::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = filch::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4];
            s.read_exact(&mut buf).await.unwrap();
            s.write_all(&buf).await.unwrap();
        });
        let mut c = filch::net::TcpStream::connect(addr).await.unwrap();
        c.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        c.read_exact(&mut buf).await.unwrap();
        filch::time::sleep(Duration::from_millis(1)).await;
        let blocking = filch::task::spawn_blocking(|| 2).await.unwrap();
        server.await.unwrap();
        (buf, blocking)
    });
    assert_eq!(echoed, (*b"ping", 2));
}

#[test]
fn a_handle_outliving_its_runtime_spawns_nothing_and_hangs_nowhere() {
    for (name, rt) in support::runtimes() {
        let handle = rt.handle().clone();
        let socket =
            rt.block_on(async { filch::net::UdpSocket::bind("127.0.0.1:0").await.unwrap() });
        drop(rt);
        within(Duration::from_secs(20), name, move || {
            // spawn: refused, the handle resolves as cancelled.
            let join = handle.spawn(async { 1 });
            assert!(handle.block_on(join).unwrap_err().is_cancelled(), "{name}");
            let job = handle.spawn_blocking(|| 1);
            assert!(handle.block_on(job).unwrap_err().is_cancelled(), "{name}");
            // block_on: runs the future on this thread.
            assert_eq!(handle.block_on(async { 5 }), 5, "{name}");
            // I/O: an existing socket fails with an error saying why; a new one too.
            let err = handle
                .block_on(async { socket.recv_from(&mut [0u8; 8]).await })
                .unwrap_err();
            assert!(err.to_string().contains("shut down"), "{name}: {err}");
            let err = handle
                .block_on(async { filch::net::UdpSocket::bind("127.0.0.1:0").await })
                .unwrap_err();
            assert!(err.to_string().contains("shut down"), "{name}: {err}");
        });
    }
}

#[test]
fn spawn_blocking_running_at_shutdown_keeps_its_value() {
    for (name, rt) in support::runtimes() {
        let (started_tx, started) = std::sync::mpsc::channel();
        let job = rt.spawn_blocking(move || {
            started_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(100));
            42
        });
        started.recv().unwrap();
        rt.shutdown_timeout(Duration::from_secs(1_000));
        assert_eq!(futures::executor::block_on(job).unwrap(), 42, "{name}");
    }
}

#[test]
fn a_loop_over_an_always_ready_channel_yields_to_other_tasks() {
    // filch::sync spends the task's cooperative budget: the loop below never meets a
    // `Pending` of its own, yet the other task gets to run on the one thread.
    let rt = Builder::new_current_thread().build().unwrap();
    let rounds = rt.block_on(async {
        let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let set = flag.clone();
        drop(filch::spawn(async move {
            set.store(true, std::sync::atomic::Ordering::SeqCst)
        }));
        let (tx, mut rx) = filch::sync::mpsc::unbounded_channel();
        let lock = filch::sync::Mutex::new(0u64);
        let mut rounds = 0u64;
        while !flag.load(std::sync::atomic::Ordering::SeqCst) && rounds < 1_000_000 {
            tx.send(rounds).unwrap();
            rx.recv().await.unwrap();
            *lock.lock().await += 1;
            rounds += 1;
        }
        rounds
    });
    assert!(rounds < 1_000_000, "the loop never yielded");
}

#[test]
#[should_panic(expected = "`Mutex::blocking_lock` called from inside an asynchronous task")]
fn blocking_lock_on_a_worker_panics_with_the_fix() {
    let rt = multi();
    let lock = std::sync::Arc::new(filch::sync::Mutex::new(()));
    rt.block_on(async move {
        let _guard = lock.blocking_lock();
    });
}

#[test]
fn blocking_calls_of_filch_sync_work_off_the_runtime_s_threads() {
    let rt = multi();
    let (tx, mut rx) = filch::sync::mpsc::channel::<u32>(1);
    let lock = std::sync::Arc::new(filch::sync::Mutex::new(1));
    let job = {
        let lock = lock.clone();
        rt.spawn_blocking(move || {
            tx.blocking_send(*lock.blocking_lock()).unwrap();
        })
    };
    let got = rt.block_on(async {
        let in_task = filch::spawn(async move { rx.recv().await }).await.unwrap();
        // A task's blocking call is its JoinError, not a hang.
        let err = filch::spawn(async move { drop(lock.blocking_lock()) })
            .await
            .unwrap_err();
        assert!(err.is_panic());
        in_task
    });
    rt.block_on(job).unwrap();
    assert_eq!(got, Some(1));
}

#[test]
fn a_block_on_future_that_always_wakes_itself_does_not_starve_timers() {
    // A current-thread `block_on` whose future wakes itself on every poll never parks; the
    // driver must still be polled, or the spawned task's timer never fires.
    within(Duration::from_secs(20), "busy block_on", || {
        let rt = Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let timer = filch::spawn(filch::time::sleep(Duration::from_millis(5)));
            while !timer.is_finished() {
                filch::task::yield_now().await;
            }
        });
    });
}
