//! When the worker waiting in the driver leaves it to run a task, an idle worker takes the
//! driver over: one long poll does not hold up the runtime's timers and I/O.
use filch::runtime::Builder;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn a_long_poll_on_the_driver_s_worker_does_not_delay_other_timers() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    for _ in 0..3 {
        let blocking_done = Arc::new(AtomicBool::new(false));
        let fired_while_blocked = rt.block_on({
            let blocking_done = blocking_done.clone();
            async move {
                // Woken by a timer, so by the worker in the driver (into its LIFO slot),
                // which then blocks for 2 s.
                let long = filch::spawn({
                    let blocking_done = blocking_done.clone();
                    async move {
                        filch::time::sleep(Duration::from_millis(10)).await;
                        std::thread::sleep(Duration::from_secs(2));
                        blocking_done.store(true, Ordering::SeqCst);
                    }
                });
                let short = filch::spawn(async move {
                    filch::time::sleep(Duration::from_millis(100)).await;
                    !blocking_done.load(Ordering::SeqCst)
                });
                let fired_in_time = short.await.unwrap();
                long.await.unwrap();
                fired_in_time
            }
        });
        assert!(
            fired_while_blocked,
            "a 100 ms timer waited for another worker's 2 s poll: nobody took the driver over"
        );
    }
}
