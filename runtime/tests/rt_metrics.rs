//! Metrics, task ids and spawn locations.
use filch::runtime::Builder;
use filch::time::{sleep, Duration};

#[test]
fn metrics_count_what_happened() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let before = rt.handle().metrics();
    assert_eq!(before.workers.len(), 2);
    rt.block_on(async {
        let mut set = filch::task::JoinSet::new();
        for _ in 0..1000 {
            set.spawn(async {
                // Spawned from a task: counted on a worker.
                filch::spawn(async { filch::task::yield_now().await })
                    .await
                    .unwrap();
            });
        }
        while let Some(r) = set.join_next().await {
            r.unwrap();
        }
        sleep(Duration::from_millis(5)).await;
        let m = filch::runtime::Handle::current().metrics();
        assert_eq!(m.timers, 0, "the finished sleep removed its timer");
    });
    let m = rt.handle().metrics();
    let polls: u64 = m.workers.iter().map(|w| w.polls).sum();
    assert!(
        polls >= 3000,
        "every task polled at least once or twice: {polls}"
    );
    assert!(m.remote_spawns >= 1000, "{m:?}");
    assert_eq!(m.alive_tasks, 0);
    assert!(m.workers.iter().any(|w| w.parks > 0), "{m:?}");
    let spawned: u64 = m.workers.iter().map(|w| w.spawned).sum();
    assert!(spawned <= 1000, "{m:?}");
}

#[test]
fn current_thread_metrics() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        for _ in 0..10 {
            filch::spawn(async {}).await.unwrap();
        }
    });
    let m = rt.handle().metrics();
    assert_eq!(m.workers.len(), 1);
    assert_eq!(m.workers[0].spawned, 10);
    assert!(m.workers[0].polls >= 10);
}

#[test]
fn budget_forced_yields_are_counted() {
    let multi = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let current = Builder::new_current_thread().build().unwrap();
    for (flavor, rt) in [("multi_thread", multi), ("current_thread", current)] {
        assert_budget_forced_yields_are_counted(flavor, rt);
    }
}

/// 1,000 joins of finished tasks in one task spend its budget (128 a poll) about 8 times.
fn assert_budget_forced_yields_are_counted(flavor: &str, rt: filch::runtime::Runtime) {
    rt.block_on(async {
        let handles: Vec<_> = (0..1000).map(|_| filch::spawn(async {})).collect();
        filch::spawn(async move {
            while handles.iter().any(|h| !h.is_finished()) {
                filch::task::yield_now().await;
            }
            for h in handles {
                h.await.unwrap();
            }
        })
        .await
        .unwrap();
        // Let the worker park, which folds the count in.
        sleep(Duration::from_millis(5)).await;
    });
    let m = rt.handle().metrics();
    assert!(
        m.workers[0].budget_forced_yields >= 1000 / 128 - 1,
        "{flavor}: {m:?}"
    );
}

#[test]
fn task_ids_are_unique_and_visible_inside() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let handles: Vec<_> = (0..100)
            .map(|_| filch::spawn(async { filch::task::id() }))
            .collect();
        let mut ids = std::collections::HashSet::new();
        for h in handles {
            let outer = h.id();
            assert_eq!(h.await.unwrap(), outer);
            assert!(ids.insert(outer));
        }
        assert!(
            filch::task::try_id().is_none(),
            "block_on's future is not a task"
        );
    });
}

#[test]
fn spawn_location_points_at_the_caller() {
    let rt = Builder::new_current_thread().build().unwrap();
    let line = line!() + 1;
    let h = rt.spawn(std::future::pending::<()>());
    let loc = h.spawn_location().unwrap();
    assert_eq!((loc.file(), loc.line()), (file!(), line));
    let _guard = rt.enter();
    let line = line!() + 1;
    let h2 = filch::spawn(async {});
    assert_eq!(h2.spawn_location().unwrap().line(), line);
}

/// Polls filed in buckets that start at `at_least` or later, over every worker.
fn polls_from(m: &filch::runtime::RuntimeMetrics, at_least: Duration) -> u64 {
    m.workers
        .iter()
        .map(|w| w.poll_time_histogram.as_ref().expect("histogram enabled"))
        .flat_map(|h| h.buckets())
        .filter(|(range, _)| range.start >= at_least)
        .map(|(_, count)| count)
        .sum()
}

fn histogram_total(m: &filch::runtime::RuntimeMetrics) -> u64 {
    m.workers
        .iter()
        .map(|w| w.poll_time_histogram.as_ref().expect("histogram enabled"))
        .map(|h| h.total())
        .sum()
}

#[test]
fn poll_time_histogram_is_off_unless_enabled() {
    for rt in [
        Builder::new_multi_thread().worker_threads(2).build(),
        Builder::new_current_thread().build(),
    ] {
        let rt = rt.unwrap();
        rt.block_on(async { filch::spawn(async {}).await.unwrap() });
        let m = rt.handle().metrics();
        assert!(
            m.workers.iter().all(|w| w.poll_time_histogram.is_none()),
            "{m:?}"
        );
    }
}

#[test]
fn poll_time_histogram_files_every_poll_by_its_duration() {
    for mut builder in [Builder::new_multi_thread(), Builder::new_current_thread()] {
        let rt = builder
            .worker_threads(2)
            .enable_poll_time_histogram()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut set = filch::task::JoinSet::new();
            for _ in 0..4 {
                // One poll of at least 3 ms: bucket [2.048, 4.096) ms or a later one.
                set.spawn(async { std::thread::sleep(Duration::from_millis(3)) });
            }
            for _ in 0..200 {
                set.spawn(async { filch::task::yield_now().await });
            }
            while let Some(r) = set.join_next().await {
                r.unwrap();
            }
        });
        let handle = rt.handle().clone();
        // After the workers stopped, every poll they ran is filed.
        drop(rt);
        let m = handle.metrics();
        let polls: u64 = m.workers.iter().map(|w| w.polls).sum();
        assert_eq!(histogram_total(&m), polls, "{m:#?}");
        assert!(polls >= 404, "{m:#?}");
        assert!(polls_from(&m, Duration::from_micros(2048)) >= 4, "{m:#?}");
        // Most of the 400 yields and wakes take microseconds, even on a loaded machine.
        assert!(
            polls - polls_from(&m, Duration::from_micros(2048)) >= 100,
            "{m:#?}"
        );
        let h = m.workers[0].poll_time_histogram.as_ref().unwrap();
        assert_eq!(h.bucket_range(0), Duration::ZERO..Duration::from_micros(1));
        assert_eq!(
            h.bucket_range(h.num_buckets() - 1).end,
            Duration::MAX,
            "the last bucket holds every longer poll"
        );
    }
}

#[test]
fn poll_time_histogram_skips_the_poll_that_hands_its_worker_away() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .enable_poll_time_histogram()
        .build()
        .unwrap();
    rt.block_on(async {
        filch::spawn(async {
            // The worker moves to a new thread, which files the polls from now on; the
            // poll that blocks here is no longer the worker's.
            filch::task::block_in_place(|| std::thread::sleep(Duration::from_millis(40)));
        })
        .await
        .unwrap();
    });
    let handle = rt.handle().clone();
    drop(rt);
    let m = handle.metrics();
    assert_eq!(histogram_total(&m), m.workers[0].polls - 1, "{m:#?}");
    assert_eq!(polls_from(&m, Duration::from_millis(32)), 0, "{m:#?}");
}
