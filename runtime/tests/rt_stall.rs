//! Stall detection (`Builder::on_stall`): a task blocking inside a poll is reported once,
//! with its name and spawn location, from another thread, on both flavors; a healthy busy
//! runtime reports nothing; `block_in_place` is exempt; a panicking hook keeps the
//! monitor going; the metric counts; the debug-build default is on and can be turned off.
use filch::runtime::{Builder, Runtime, Stall};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::Duration;

/// What a hook saw: (worker, name, location file, elapsed, the hook's thread).
type Seen = Arc<Mutex<Vec<(usize, Option<String>, Option<String>, Duration, ThreadId)>>>;

fn recording(builder: &mut Builder, threshold: Duration) -> (Runtime, Seen) {
    let seen: Seen = Arc::default();
    let rt = builder
        .on_stall(threshold, {
            let seen = seen.clone();
            move |stall: &Stall| {
                seen.lock().unwrap().push((
                    stall.worker(),
                    stall.name().map(str::to_owned),
                    stall.location().map(|l| l.file().to_owned()),
                    stall.elapsed(),
                    std::thread::current().id(),
                ));
            }
        })
        .build()
        .unwrap();
    (rt, seen)
}

#[test]
fn a_blocking_poll_is_reported_once_with_its_name_on_both_flavors() {
    for multi in [false, true] {
        let mut builder = if multi {
            let mut b = Builder::new_multi_thread();
            b.worker_threads(2);
            b
        } else {
            Builder::new_current_thread()
        };
        let (rt, seen) = recording(&mut builder, Duration::from_millis(50));
        let worker_thread = rt.block_on(async {
            filch::task::Builder::new()
                .name("sleeper")
                .spawn(async {
                    std::thread::sleep(Duration::from_millis(300));
                    std::thread::current().id()
                })
                .unwrap()
                .await
                .unwrap()
        });
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 1, "multi={multi}: {seen:?}");
        let (worker, name, file, elapsed, hook_thread) = &seen[0];
        assert_eq!(name.as_deref(), Some("sleeper"));
        assert!(
            file.as_deref().unwrap().ends_with("rt_stall.rs"),
            "{file:?}"
        );
        assert!(*elapsed >= Duration::from_millis(50), "{elapsed:?}");
        assert!(*worker < 2);
        assert_ne!(
            *hook_thread, worker_thread,
            "the hook runs on another thread"
        );
        assert_eq!(rt.handle().metrics().stalls, 1);
    }
}

#[test]
fn a_healthy_busy_runtime_reports_nothing() {
    let mut builder = Builder::new_multi_thread();
    builder.worker_threads(2);
    // A generous threshold: a loaded machine may preempt a poll for a few milliseconds.
    let (rt, seen) = recording(&mut builder, Duration::from_millis(500));
    rt.block_on(async {
        let mut tasks = filch::task::JoinSet::new();
        for _ in 0..8 {
            tasks.spawn(async {
                let end = std::time::Instant::now() + Duration::from_millis(1200);
                while std::time::Instant::now() < end {
                    filch::task::yield_now().await;
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    });
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );
    assert_eq!(rt.handle().metrics().stalls, 0);
}

#[test]
fn block_in_place_is_not_a_stall() {
    let mut builder = Builder::new_multi_thread();
    builder.worker_threads(2);
    let (rt, seen) = recording(&mut builder, Duration::from_millis(50));
    rt.block_on(async {
        filch::spawn(async {
            filch::task::block_in_place(|| std::thread::sleep(Duration::from_millis(300)));
        })
        .await
        .unwrap();
    });
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );
}

#[test]
fn a_panicking_hook_does_not_stop_the_monitor() {
    let calls = Arc::new(Mutex::new(0));
    let rt = Builder::new_current_thread()
        .on_stall(Duration::from_millis(30), {
            let calls = calls.clone();
            move |_: &Stall| {
                *calls.lock().unwrap() += 1;
                panic!("a faulty stall hook");
            }
        })
        .build()
        .unwrap();
    rt.block_on(async {
        filch::spawn(async { std::thread::sleep(Duration::from_millis(200)) })
            .await
            .unwrap();
        // The hook runs on the monitor thread, and printing its panic takes that thread
        // a while (long under ASan): the second stall is long enough to be seen after it.
        while *calls.lock().unwrap() == 0 {
            filch::time::sleep(Duration::from_millis(5)).await;
        }
        filch::spawn(async { std::thread::sleep(Duration::from_millis(2000)) })
            .await
            .unwrap();
    });
    assert_eq!(*calls.lock().unwrap(), 2);
    assert_eq!(rt.handle().metrics().stalls, 2);
}

#[test]
fn stall_detection_is_on_by_default_in_debug_builds_and_can_be_turned_off() {
    let stall = || filch::spawn(async { std::thread::sleep(Duration::from_millis(300)) });
    let default = Builder::new_current_thread().build().unwrap();
    default.block_on(async { stall().await.unwrap() });
    let expected = u64::from(cfg!(debug_assertions));
    assert_eq!(default.handle().metrics().stalls, expected);

    let off = Builder::new_current_thread()
        .disable_stall_detection()
        .build()
        .unwrap();
    off.block_on(async { stall().await.unwrap() });
    assert_eq!(off.handle().metrics().stalls, 0);
}

#[test]
fn the_stall_display_and_debug_name_the_task() {
    let text = Arc::new(Mutex::new(String::new()));
    let rt = Builder::new_current_thread()
        .on_stall(Duration::from_millis(30), {
            let text = text.clone();
            move |stall: &Stall| *text.lock().unwrap() = format!("{stall} / {stall:?}")
        })
        .build()
        .unwrap();
    rt.block_on(async {
        filch::task::Builder::new()
            .name("conn 42")
            .spawn(async { std::thread::sleep(Duration::from_millis(200)) })
            .unwrap()
            .await
            .unwrap();
    });
    let text = text.lock().unwrap();
    assert!(text.contains("\"conn 42\""), "{text}");
    assert!(text.contains("rt_stall.rs"), "{text}");
    assert!(text.contains("one poll"), "{text}");
}
