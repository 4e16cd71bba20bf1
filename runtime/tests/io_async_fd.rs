//! `filch::io::unix::AsyncFd` on a pipe and an eventfd, on every runtime flavor: waking on
//! data, clearing on `WouldBlock`, handing the fd back, the poller's errors, deregistering
//! on drop.
mod support;

use filch::io::unix::AsyncFd;
use filch::io::Interest;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use support::{counting_waker, open_fds, runtimes, until_woken, within};

/// The tests compare fd counts: one at a time in this binary.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

const LIMIT: Duration = Duration::from_secs(20);

/// A non-blocking, close-on-exec pipe: (read end, write end).
fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two fds `pipe2` writes.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) };
    assert_eq!(rc, 0, "pipe2: {}", io::Error::last_os_error());
    // SAFETY: `pipe2` succeeded: both fds are open and owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// A non-blocking, close-on-exec eventfd starting at 0.
fn eventfd() -> OwnedFd {
    // SAFETY: plain syscall with no pointer arguments.
    let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    assert!(fd >= 0, "eventfd: {}", io::Error::last_os_error());
    // SAFETY: `eventfd` succeeded: the fd is open and owned by nobody else.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

fn read(fd: &impl AsRawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for `buf.len()` bytes of writes.
    let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

fn write(fd: &impl AsRawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for `buf.len()` bytes of reads.
    let n = unsafe { libc::write(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len()) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

#[test]
fn readable_wakes_when_data_arrives_on_a_pipe_and_an_eventfd() {
    let _serial = serial();
    for (name, rt) in runtimes() {
        within(LIMIT, name, move || {
            rt.block_on(async {
                // Pipe: a task waits, another thread writes after the wait began.
                let (rx, tx) = pipe();
                let rx = AsyncFd::new(rx).unwrap();
                let reader = filch::spawn(async move {
                    let mut buf = [0; 16];
                    loop {
                        let mut guard = rx.readable().await.unwrap();
                        match guard.try_io(|fd| read(fd.get_ref(), &mut buf)) {
                            Ok(n) => return buf[..n.unwrap()].to_vec(),
                            Err(_would_block) => continue,
                        }
                    }
                });
                let writer = std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(10));
                    write(&tx, b"pipe").unwrap();
                    tx
                });
                assert_eq!(reader.await.unwrap(), b"pipe", "{name}");
                drop(writer.join().unwrap());

                // Eventfd: an 8-byte counter; `writable` at once, `readable` after a write.
                let efd = Arc::new(AsyncFd::new(eventfd()).unwrap());
                let guard = efd.writable().await.unwrap();
                assert!(guard.ready().is_writable(), "{name}");
                drop(guard);
                let waiter = {
                    let efd = efd.clone();
                    filch::spawn(async move {
                        efd.async_io(Interest::READABLE, |fd| {
                            let mut buf = [0; 8];
                            read(fd, &mut buf).map(|_| u64::from_ne_bytes(buf))
                        })
                        .await
                        .unwrap()
                    })
                };
                filch::time::sleep(Duration::from_millis(5)).await;
                efd.try_io(Interest::WRITABLE, |fd| write(fd, &3u64.to_ne_bytes()))
                    .unwrap();
                assert_eq!(waiter.await.unwrap(), 3, "{name}");
            });
        });
    }
}

#[test]
fn try_io_clears_readiness_on_would_block_and_the_next_event_wakes() {
    let _serial = serial();
    for (name, rt) in runtimes() {
        within(LIMIT, name, move || {
            rt.block_on(async {
                let (rx, tx) = pipe();
                let rx = AsyncFd::new(rx).unwrap();
                write(&tx, b"abc").unwrap();
                let mut guard = rx.readable().await.unwrap();
                let mut buf = [0; 16];
                let n = guard.try_io(|fd| read(fd.get_ref(), &mut buf)).unwrap();
                assert_eq!(n.unwrap(), 3, "{name}");
                // A successful read leaves it ready; the next read would block.
                assert!(guard.ready().is_readable());
                assert!(guard.try_io(|fd| read(fd.get_ref(), &mut buf)).is_err());
                assert!(guard.ready().is_empty(), "{name}: cleared");
                drop(guard);

                // Cleared: polling is Pending (waker stored) until new data arrives.
                let (counter, waker) = counting_waker();
                let mut cx = Context::from_waker(&waker);
                assert!(rx.poll_read_ready(&mut cx).is_pending(), "{name}");
                write(&tx, b"d").unwrap();
                until_woken(&counter, LIMIT).await;
                let Poll::Ready(Ok(mut guard)) = rx.poll_read_ready(&mut cx) else {
                    panic!("{name}: woken but not ready");
                };
                assert_eq!(
                    guard
                        .try_io(|fd| read(fd.get_ref(), &mut buf))
                        .unwrap()
                        .unwrap(),
                    1
                );

                // The `_mut` flavor and `clear_ready` by hand.
                let mut rx = rx;
                write(&tx, b"ef").unwrap();
                let mut guard = rx.readable_mut().await.unwrap();
                let got = guard.try_io(|fd| read(fd.get_mut(), &mut buf)).unwrap();
                assert_eq!(got.unwrap(), 2, "{name}");
                guard.clear_ready();
                drop(guard);
                let (counter, waker) = counting_waker();
                let mut cx = Context::from_waker(&waker);
                assert!(rx.poll_read_ready_mut(&mut cx).is_pending(), "{name}");
                drop(tx); // EOF: the read side is closed, which wakes the reader.
                until_woken(&counter, LIMIT).await;
                let guard = rx.readable().await.unwrap();
                assert!(guard.ready().is_readable(), "{name}");
            });
        });
    }
}

#[test]
fn into_inner_gives_the_fd_back_and_it_can_be_registered_again() {
    let _serial = serial();
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let (rx, tx) = pipe();
            let raw = rx.as_raw_fd();
            let afd = AsyncFd::new(rx).unwrap();
            assert_eq!(afd.as_raw_fd(), raw);
            let before = filch::runtime::Handle::current().metrics().io_sources;
            let rx = afd.into_inner();
            assert_eq!(rx.as_raw_fd(), raw, "{name}: the same fd");
            let after = filch::runtime::Handle::current().metrics().io_sources;
            assert_eq!(after + 1, before, "{name}: deregistered");
            // Registering it twice at once is the poller's `EEXIST`; after into_inner, fine.
            let again = AsyncFd::new(rx).unwrap();
            write(&tx, b"x").unwrap();
            let mut buf = [0; 1];
            let n = again
                .async_io(Interest::READABLE, |fd| read(fd, &mut buf))
                .await
                .unwrap();
            assert_eq!(n, 1, "{name}");
        });
    }
}

#[test]
fn registering_an_fd_twice_or_a_regular_file_gives_the_os_error() {
    let _serial = serial();
    let path = std::env::temp_dir().join(format!("filch-async-fd-{}", std::process::id()));
    std::fs::write(&path, b"not pollable").unwrap();
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let file = std::fs::File::open(&path).unwrap();
            let err = AsyncFd::new(file).unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc::EPERM), "{name}: {err}");
            assert_eq!(err.kind(), io::ErrorKind::PermissionDenied, "{name}");
            // `try_new` hands the file back, open.
            let file = std::fs::File::open(&path).unwrap();
            let (file, err) = AsyncFd::try_new(file).unwrap_err().into_parts();
            assert_eq!(err.raw_os_error(), Some(libc::EPERM), "{name}: {err}");
            assert_eq!(
                std::fs::read(format!("/proc/self/fd/{}", file.as_raw_fd())).unwrap(),
                b"not pollable"
            );

            let (rx, _tx) = pipe();
            let rx = Arc::new(rx);
            let first = AsyncFd::new(rx.clone()).unwrap();
            let err = AsyncFd::new(rx.clone()).unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc::EEXIST), "{name}: {err}");
            drop(first);
            // Dropping the first deregistered it.
            drop(AsyncFd::new(rx).unwrap());
        });
    }
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn drop_deregisters_and_closes_leaving_no_fd_behind() {
    let _serial = serial();
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let sources = filch::runtime::Handle::current().metrics().io_sources;
            let fds = open_fds();
            for _ in 0..100 {
                let (rx, tx) = pipe();
                let rx = AsyncFd::new(rx).unwrap();
                let tx = AsyncFd::new(tx).unwrap();
                let _ = tx.writable().await.unwrap();
                drop((rx, tx));
                drop(AsyncFd::new(eventfd()).unwrap());
            }
            assert_eq!(open_fds(), fds, "{name}: fds");
            let now = filch::runtime::Handle::current().metrics().io_sources;
            assert_eq!(now, sources, "{name}: sources");
        });
    }
}

#[test]
fn after_shutdown_registering_and_waiting_fail_with_the_sockets_error() {
    let _serial = serial();
    for (name, rt) in runtimes() {
        let (rx, tx) = pipe();
        let afd = rt.block_on(async { AsyncFd::new(rx).unwrap() });
        let handle = rt.handle().clone();
        drop(rt);
        let err = within(LIMIT, name, move || {
            futures::executor::block_on(async { afd.readable().await.map(|_| ()) })
        })
        .unwrap_err();
        assert!(err.to_string().contains("shut down"), "{name}: {err}");
        let _enter = handle.enter();
        let err = AsyncFd::new(tx).unwrap_err();
        assert!(err.to_string().contains("shut down"), "{name}: {err}");
    }
}

#[test]
fn interest_outside_with_interest_panics() {
    let _serial = serial();
    let rt = filch::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let (_rx, tx) = pipe();
        let tx = AsyncFd::with_interest(tx, Interest::WRITABLE).unwrap();
        assert!(tx.writable().await.unwrap().ready().is_writable());
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            drop(tx.readable());
        }));
        assert!(panicked.is_err());
    });
}

/// A guard's clear is tied to the event it saw: an event the driver delivered after the
/// guard was made survives the clear, so the next wait returns instead of sleeping on
/// data already queued. (Whether the new event lands before or after the clear, a correct
/// driver passes; an unconditional clear would hang in `readable` when it lands before.)
#[test]
fn a_clear_after_a_newer_event_keeps_the_fd_ready() {
    let _serial = serial();
    for (name, rt) in runtimes() {
        within(LIMIT, name, move || {
            rt.block_on(async {
                let (rx, tx) = pipe();
                let rx = AsyncFd::new(rx).unwrap();
                write(&tx, b"a").unwrap();
                let mut guard = rx.readable().await.unwrap();
                let mut buf = [0; 8];
                assert_eq!(read(guard.get_inner(), &mut buf).unwrap(), 1);
                // New data, and time for the driver to deliver its edge, before the clear.
                write(&tx, b"b").unwrap();
                filch::time::sleep(Duration::from_millis(20)).await;
                guard.clear_ready();
                drop(guard);
                let mut guard = rx.readable().await.unwrap();
                let n = guard.try_io(|fd| read(fd.get_ref(), &mut buf)).unwrap();
                assert_eq!(n.unwrap(), 1, "{name}");
                assert_eq!(&buf[..1], b"b");
            });
        });
    }
}

#[test]
fn auto_traits_follow_the_wrapped_type() {
    use filch::io::unix::{
        AsyncFdReadyGuard, AsyncFdReadyMutGuard, AsyncFdTryNewError, TryIoError,
    };
    use filch::io::Ready;
    use std::panic::{RefUnwindSafe, UnwindSafe};
    fn send_sync_unpin<T: Send + Sync + Unpin>() {}
    fn unwind_safe<T: UnwindSafe + RefUnwindSafe>() {}
    send_sync_unpin::<AsyncFd<OwnedFd>>();
    send_sync_unpin::<AsyncFdReadyGuard<'static, OwnedFd>>();
    send_sync_unpin::<AsyncFdReadyMutGuard<'static, OwnedFd>>();
    send_sync_unpin::<AsyncFdTryNewError<OwnedFd>>();
    send_sync_unpin::<TryIoError>();
    send_sync_unpin::<Interest>();
    send_sync_unpin::<Ready>();
    unwind_safe::<AsyncFd<OwnedFd>>();
    unwind_safe::<TryIoError>();
    unwind_safe::<Interest>();
    unwind_safe::<Ready>();
}

/// An event the driver took from the poller for a source that is deregistered before the
/// dispatch must not reach the next source registered under the same slab key: a stale
/// hang-up marked a healthy socket closed for good (found in review; it hit a few times a
/// second on two cores).
#[test]
fn a_stale_hang_up_never_reaches_the_source_that_reuses_the_key() {
    // Serial: the fd-count test next door must not see this one's sockets.
    let _serial = serial();
    use futures::FutureExt;
    use std::os::unix::net::UnixStream;
    let rt = filch::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let _entered = rt.enter();
    let mut hits = 0;
    for _ in 0..20_000 {
        let (a, b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let stale = AsyncFd::new(a).unwrap();
        drop(b); // a hang-up on `stale`
        drop(stale);
        let (c, d) = UnixStream::pair().unwrap(); // `d` stays open: `c` is healthy
        c.set_nonblocking(true).unwrap();
        let healthy = AsyncFd::new(c).unwrap();
        std::thread::sleep(std::time::Duration::from_micros(50));
        if let Some(Ok(guard)) = healthy.ready(Interest::READABLE).now_or_never() {
            if guard.ready().is_read_closed() {
                hits += 1;
            }
        }
        drop(d);
    }
    assert_eq!(hits, 0, "a healthy socket was reported closed {hits} times");
}
