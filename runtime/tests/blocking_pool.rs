//! The blocking pool: `spawn_blocking` results and panics, the thread cap, keep-alive,
//! the runtime context on pool threads, and what shutdown does to running and queued jobs.
use filch::runtime::{Builder, Handle, Runtime};
use filch::task::spawn_blocking;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

fn multi(workers: usize) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

/// Polls `cond` every few milliseconds for up to 10 s.
fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn returns_the_closure_value() {
    let rt = multi(2);
    let out = rt.block_on(async { spawn_blocking(|| "done".to_owned()).await.unwrap() });
    assert_eq!(out, "done");
}

#[test]
fn runs_on_a_named_pool_thread() {
    let rt = multi(1);
    let (name, id) = rt.block_on(async {
        spawn_blocking(|| {
            let me = thread::current();
            (me.name().map(str::to_owned), me.id())
        })
        .await
        .unwrap()
    });
    assert_eq!(name.as_deref(), Some("filch-blocking"));
    assert_ne!(id, thread::current().id());
}

#[test]
fn panic_becomes_join_error() {
    let rt = multi(2);
    let err = rt.block_on(async {
        spawn_blocking(|| -> u32 { panic!("boom in the pool") })
            .await
            .unwrap_err()
    });
    assert!(err.is_panic(), "{err:?}");
    let payload = err.into_panic();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom in the pool"));
    // The thread that ran it survives and runs the next job.
    assert_eq!(rt.block_on(rt.spawn_blocking(|| 1)).unwrap(), 1);
}

#[test]
fn saturation_respects_max_blocking_threads() {
    const JOBS: usize = 64;
    const MAX: usize = 4;
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(MAX)
        .build()
        .unwrap();
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let done = rt.block_on(async {
        let jobs: Vec<_> = (0..JOBS)
            .map(|i| {
                let running = running.clone();
                let peak = peak.clone();
                spawn_blocking(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(2));
                    running.fetch_sub(1, Ordering::SeqCst);
                    i
                })
            })
            .collect();
        let mut sum = 0;
        for job in jobs {
            sum += job.await.unwrap();
        }
        sum
    });
    assert_eq!(done, (0..JOBS).sum::<usize>());
    let peak = peak.load(Ordering::SeqCst);
    assert!(peak <= MAX, "{peak} jobs ran at once with a cap of {MAX}");
    assert!(
        peak >= 2,
        "the pool never ran two jobs at once (peak {peak})"
    );
    assert!(rt.handle().num_blocking_threads() <= MAX);
}

#[test]
fn idle_threads_exit_after_keep_alive() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .thread_keep_alive(Duration::from_millis(100))
        .build()
        .unwrap();
    // Four jobs that wait for each other need four threads at once.
    let barrier = Arc::new(Barrier::new(4));
    rt.block_on(async {
        let jobs: Vec<_> = (0..4)
            .map(|_| {
                let barrier = barrier.clone();
                spawn_blocking(move || {
                    barrier.wait();
                })
            })
            .collect();
        for job in jobs {
            job.await.unwrap();
        }
    });
    let handle = rt.handle().clone();
    assert_eq!(handle.num_blocking_threads(), 4);
    eventually("idle blocking threads to exit", || {
        handle.num_blocking_threads() == 0
    });
    // The pool starts a thread again on demand.
    assert_eq!(rt.block_on(rt.spawn_blocking(|| 9)).unwrap(), 9);
}

#[test]
fn idle_thread_is_reused() {
    // With a cap of one, the second job must wait for the first thread, which keeps it.
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(1)
        .build()
        .unwrap();
    let first = rt
        .block_on(rt.spawn_blocking(|| thread::current().id()))
        .unwrap();
    thread::sleep(Duration::from_millis(20));
    let second = rt
        .block_on(rt.spawn_blocking(|| thread::current().id()))
        .unwrap();
    assert_eq!(first, second);
    assert_eq!(rt.handle().num_blocking_threads(), 1);
}

#[test]
fn handle_current_works_inside() {
    let rt = multi(2);
    let out = rt.block_on(async {
        spawn_blocking(|| {
            let handle = Handle::current();
            // Not a driving thread: a blocking job may block on the runtime.
            let task = handle.spawn(async { 20 });
            handle.block_on(task).unwrap() + 1
        })
        .await
        .unwrap()
    });
    assert_eq!(out, 21);
}

#[test]
fn spawn_blocking_outside_a_runtime_panics_with_a_clear_message() {
    let err = std::panic::catch_unwind(|| spawn_blocking(|| ())).unwrap_err();
    let msg = err.downcast_ref::<&str>().copied().unwrap_or_default();
    assert!(msg.contains("outside a runtime"), "{msg}");
}

#[test]
#[should_panic(expected = "max_blocking_threads` must be at least 1")]
fn zero_max_blocking_threads_panics() {
    Builder::new_multi_thread().max_blocking_threads(0);
}

#[test]
fn spawn_blocking_from_a_foreign_thread() {
    let rt = multi(1);
    let handle = rt.handle().clone();
    let job = thread::spawn(move || {
        handle.spawn_blocking(|| thread::current().name().map(str::to_owned))
    })
    .join()
    .unwrap();
    assert_eq!(rt.block_on(job).unwrap().as_deref(), Some("filch-blocking"));
    assert_eq!(rt.block_on(rt.spawn_blocking(|| 2)).unwrap(), 2);
}

#[test]
fn works_on_the_current_thread_flavor() {
    let rt = Builder::new_current_thread().build().unwrap();
    let here = thread::current().id();
    let (there, value) = rt.block_on(async {
        let job = spawn_blocking(|| (thread::current().id(), 5));
        // The runtime thread keeps running tasks while the job runs.
        let task = filch::spawn(async { 6 });
        let (there, five) = job.await.unwrap();
        (there, five + task.await.unwrap())
    });
    assert_ne!(here, there);
    assert_eq!(value, 11);
}

#[test]
fn abort_before_start_skips_the_closure() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(1)
        .build()
        .unwrap();
    let ran = Arc::new(AtomicBool::new(false));
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    rt.block_on(async {
        let blocker = spawn_blocking(move || {
            started_tx.send(()).unwrap();
            release_rx.recv().unwrap();
        });
        started_rx.recv().unwrap();
        let ran2 = ran.clone();
        let queued = spawn_blocking(move || ran2.store(true, Ordering::SeqCst));
        queued.abort();
        release_tx.send(()).unwrap();
        assert!(queued.await.unwrap_err().is_cancelled());
        blocker.await.unwrap();
    });
    assert!(!ran.load(Ordering::SeqCst));
}

/// Counts drops of the closure it is captured in.
struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn drop_waits_for_running_jobs_and_cancels_queued_ones() {
    const QUEUED: usize = 5;
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(1)
        .build()
        .unwrap();
    let finished = Arc::new(AtomicBool::new(false));
    let ran = Arc::new(AtomicUsize::new(0));
    let drops = Arc::new(AtomicUsize::new(0));
    let (started_tx, started_rx) = mpsc::channel();
    let running = {
        let finished = finished.clone();
        rt.spawn_blocking(move || {
            started_tx.send(()).unwrap();
            thread::sleep(Duration::from_millis(200));
            finished.store(true, Ordering::SeqCst);
        })
    };
    started_rx.recv().unwrap();
    let queued: Vec<_> = (0..QUEUED)
        .map(|_| {
            let ran = ran.clone();
            let counter = DropCounter(drops.clone());
            rt.spawn_blocking(move || {
                let _counter = counter;
                ran.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    drop(rt);
    assert!(
        finished.load(Ordering::SeqCst),
        "drop returned before the running job ended"
    );
    assert_eq!(
        ran.load(Ordering::SeqCst),
        0,
        "a queued job ran after shutdown"
    );
    assert_eq!(
        drops.load(Ordering::SeqCst),
        QUEUED,
        "every queued closure is dropped once"
    );
    let poll_now = |job| futures::executor::block_on(job);
    assert!(poll_now(running).is_ok());
    for job in queued {
        assert!(poll_now(job).unwrap_err().is_cancelled());
    }
}

#[test]
fn a_job_spawned_right_before_shutdown_runs_on_both_flavors() {
    // tokio's `spawn_blocking_started_before_shutdown_continues`: the job was accepted (the
    // pool was below its cap, so a thread is on its way to it), so it runs, however soon the
    // shutdown follows; filch cancelled it on the current-thread runtime every time.
    for round in 0..20 {
        let runtimes = [
            Builder::new_current_thread().build().unwrap(),
            multi(1),
            multi(2),
        ];
        for rt in runtimes {
            let handle = rt.handle().clone();
            let job = rt.spawn_blocking(move || {
                thread::sleep(Duration::from_millis(round % 3));
                42
            });
            let burst: Vec<_> = (0..4).map(|i| rt.spawn_blocking(move || i)).collect();
            rt.shutdown_timeout(Duration::from_secs(1000));
            assert_eq!(handle.block_on(job).unwrap(), 42, "round {round}");
            for (i, job) in burst.into_iter().enumerate() {
                assert_eq!(handle.block_on(job).unwrap(), i, "round {round}");
            }
        }
    }
}

#[test]
fn shutdown_timeout_bounds_the_wait_for_running_jobs() {
    let rt = multi(1);
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let job = rt.spawn_blocking(move || {
        started_tx.send(()).unwrap();
        release_rx.recv().unwrap();
        7
    });
    started_rx.recv().unwrap();
    let begin = Instant::now();
    rt.shutdown_timeout(Duration::from_millis(100));
    let waited = begin.elapsed();
    assert!(
        waited >= Duration::from_millis(90),
        "returned after {waited:?}"
    );
    assert!(waited < Duration::from_secs(5), "returned after {waited:?}");
    // The late job still finishes on its own thread, and its handle sees the result.
    release_tx.send(()).unwrap();
    assert_eq!(futures::executor::block_on(job).unwrap(), 7);
}

#[test]
fn spawn_blocking_after_shutdown_is_cancelled() {
    let rt = multi(1);
    let handle = rt.handle().clone();
    drop(rt);
    let job = handle.spawn_blocking(|| 1);
    assert!(futures::executor::block_on(job).unwrap_err().is_cancelled());
}

#[test]
fn dropping_the_runtime_inside_its_own_blocking_job_does_not_hang() {
    let rt = multi(1);
    let handle = rt.handle().clone();
    let (tx, rx) = mpsc::channel();
    let rt = Arc::new(std::sync::Mutex::new(Some(rt)));
    let rt2 = rt.clone();
    let job = handle.spawn_blocking(move || {
        let rt = rt2.lock().unwrap().take().unwrap();
        drop(rt);
        tx.send(()).unwrap();
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("a pool thread dropping its runtime waited for itself");
    assert!(futures::executor::block_on(job).is_ok());
}
