//! `filch::signal::ctrl_c` completes on SIGINT (in its own test binary: it installs a
//! process-wide handler).
use filch::runtime::Builder;
use filch::time::{timeout, Duration};

#[test]
fn ctrl_c_completes_on_sigint_and_only_for_later_signals() {
    for rt in [
        Builder::new_current_thread().build().unwrap(),
        Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap(),
    ] {
        rt.block_on(async {
            let waiter = filch::spawn(filch::signal::ctrl_c());
            // Give the waiter time to subscribe: only SIGINTs after the call count.
            filch::time::sleep(Duration::from_millis(50)).await;
            assert!(!waiter.is_finished(), "no signal yet");
            assert_eq!(unsafe_raise(libc::SIGINT), 0);
            timeout(Duration::from_secs(10), waiter)
                .await
                .expect("ctrl_c did not complete")
                .unwrap()
                .unwrap();
        });
    }
    // One test function: the signal is process-wide, parallel tests would see each
    // other's SIGINTs.
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let first = filch::spawn(filch::signal::ctrl_c());
        filch::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(unsafe_raise(libc::SIGINT), 0);
        first.await.unwrap().unwrap();
        let second = timeout(Duration::from_millis(100), filch::signal::ctrl_c()).await;
        assert!(second.is_err(), "no new SIGINT: still waiting");
    });
    // The handler preserves errno of the code it interrupts (its write(2) may fail with
    // EAGAIN on a full pipe): a raise right after setting errno finds it unchanged.
    const MAGIC: libc::c_int = 4_242;
    for _ in 0..200 {
        // SAFETY: writing this thread's errno is always allowed.
        unsafe { *libc::__errno_location() = MAGIC };
        assert_eq!(unsafe_raise(libc::SIGINT), 0);
        // SAFETY: as above, reading it.
        let errno = unsafe { *libc::__errno_location() };
        assert_eq!(errno, MAGIC, "errno clobbered");
    }
}

fn unsafe_raise(signal: libc::c_int) -> libc::c_int {
    // SAFETY: raise(3) has no memory-safety preconditions.
    unsafe { libc::raise(signal) }
}
